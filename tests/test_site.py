"""The portal as files: what `backlot build` writes, and what a rebuild rewrites."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import EXAMPLES, GROUP_A, component, run_backlot, write_tree


@pytest.fixture(scope="module")
def example_portal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("portal")
    result = run_backlot("build", EXAMPLES, "-o", out / "site", "--cache-dir", out / "cache")
    assert result.returncode == 0, result.stderr
    return out / "site"


def read(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


def test_every_entity_has_a_page_at_its_lowercase_url(example_portal: Path) -> None:
    catalog = json.loads(read(example_portal, "catalog.json"))
    for entity in catalog["entities"]:
        meta = entity["metadata"]
        page = example_portal / "catalog" / meta["namespace"] / entity["kind"].lower()
        page = page / meta["name"].lower() / "index.html"
        assert page.is_file(), page
        ref = f"{entity['kind'].lower()}:{meta['namespace']}/"
        assert re.search(f"<code[^>]*>{re.escape(ref)}", page.read_text()), page
    assert (example_portal / "catalog/external/api/parcelgo-api/index.html").is_file()


def test_entity_page_shows_about_links_relations_and_source(example_portal: Path) -> None:
    html = read(example_portal, "catalog/default/component/orders-service/index.html")
    assert "<h1>Orders Service</h1>" in html
    # Owner and system link to their pages, relatively.
    up = "../../../../catalog/default"
    assert f'href="{up}/group/team-payments/index.html"' in html
    assert f'href="{up}/system/checkout/index.html"' in html
    # Annotation links: GitHub repository, pull requests, Actions; PagerDuty.
    assert 'href="https://github.com/acme/orders-service/pulls"' in html
    assert "https://app.pagerduty.com/service-directory/" in html
    assert "orders-service/catalog-info.yaml:" in html
    # The neighbourhood graph is an SVG file beside the page (the page shows its picture,
    # which the browser replaces with the SVG), whose nodes link to their pages.
    assert '<a class="graph-file" href="relations.svg" data-graph><img src="relations.svg"' in html
    svg = read(example_portal, "catalog/default/component/orders-service/relations.svg")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="backlot-graph"')
    assert f'href="{up}/api/orders-api/index.html"' in svg
    # Its views as tabs; every relation listed on the Dependencies view.
    assert 'aria-current="page">Overview</a>' in html and ">Dependencies</a>" in html
    deps = read(example_portal, "catalog/default/component/orders-service/dependencies/index.html")
    assert "Depends on" in deps and "Provides APIs" in deps
    apis = read(example_portal, "catalog/default/component/orders-service/api/index.html")
    assert ">Provided APIs</h2>" in apis and ">Consumed APIs</h2>" in apis


def ownership_tables(html: str) -> tuple[str, str]:
    """The direct and the aggregated halves of an owner's Ownership card."""
    start = html.index('class="own-direct"')
    middle = html.index('class="own-aggregated"')
    end = html.index("</section>", middle)
    return html[start:middle], html[middle:end]


def test_group_user_system_and_domain_pages(example_portal: Path) -> None:
    group = read(example_portal, "catalog/default/group/team-payments/index.html")
    assert ">Members</h2>" in group and ">Ownership</h2>" in group
    assert "<dt>Parent group</dt>" in group and 'href="mailto:' in group
    direct, aggregated = ownership_tables(group)
    assert "Orders Service" in direct and "Orders Service" in aggregated
    # Backstage's aggregated ownership: a parent group sees what its child groups and
    # their members own; directly, it owns only its own.
    parent = read(example_portal, "catalog/default/group/engineering/index.html")
    direct, aggregated = ownership_tables(parent)
    assert "Orders Service" not in direct and "Orders Service" in aggregated
    assert "Acme Books website" in aggregated  # another child team's
    # Users and Groups are titled by spec.profile.displayName, as Backstage shows them
    catalog = json.loads(read(example_portal, "catalog.json"))
    jane = next(e for e in catalog["entities"] if e["metadata"]["name"] == "jane.doe")
    user = read(example_portal, "catalog/default/user/jane.doe/index.html")
    assert f"<h1>{jane['spec']['profile']['displayName']}</h1>" in user
    assert ">Groups</h2>" in read(example_portal, "catalog/default/user/jane.doe/index.html")
    system = read(example_portal, "catalog/default/system/checkout/index.html")
    assert ">System diagram</h2>" in system and ">Components</h2>" in system
    # the diagram and the relations card, each a file beside the page
    assert 'href="system.svg"' in system and 'href="relations.svg"' in system
    assert (example_portal / "catalog/default/system/checkout/system.svg").is_file()
    domain = read(example_portal, "catalog/default/domain/commerce/index.html")
    assert ">Systems</h2>" in domain


def test_processing_problems_are_shown_on_the_entity_and_problem_pages(
    example_portal: Path,
) -> None:
    orphan = read(example_portal, "catalog/default/component/newsletter-mailer/index.html")
    assert "Processing problems" in orphan and "catalog/orphan" in orphan
    problems = read(example_portal, "problems/index.html")
    assert "broken-widget/catalog-info.yaml" in problems and "spec.lifecycle is missing" in problems


def test_catalog_index_is_paged_and_small(example_portal: Path) -> None:
    index = read(example_portal, "catalog/index.html")
    assert 'data-shards="1"' in index
    assert re.search(r'<option value="Component">Component \(16\)</option>', index)
    kind_page = read(example_portal, "catalog/_kinds/component/index.html")
    assert "Showing 1 to 16 of 16" in kind_page
    rows = read(example_portal, "catalog/_data/rows-0.js")
    assert rows.startswith("window.backlotRows(0,")
    for page in example_portal.rglob("*.html"):
        assert page.stat().st_size < 1_000_000, page


def test_about_page_and_build_json_hold_the_build_time(example_portal: Path) -> None:
    build = json.loads(read(example_portal, "build.json"))
    assert build["time"] in read(example_portal, "about/index.html")
    assert build["entities"] == 67 and len(build["repositories"]) == 18


def test_rebuild_rewrites_only_what_changed(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            "a/catalog-info.yaml": component("a", dependsOn=["component:b"]),
            "b/catalog-info.yaml": component("b"),
            "far/catalog-info.yaml": component("far").replace("team-a", "user:nobody"),
            "gone/catalog-info.yaml": component("gone").replace("team-a", "user:nobody"),
        },
    )
    site, cache = tmp_path / "site", tmp_path / "cache"

    def build(epoch: int) -> dict[str, int]:
        result = run_backlot(
            "build", org, "-o", site, "--cache-dir", cache, env={"SOURCE_DATE_EPOCH": str(epoch)}
        )
        assert result.returncode == 0, result.stderr
        assert "Fontconfig" not in result.stderr  # no foreign warnings (Graphviz's fonts)
        return {
            p.relative_to(site).as_posix(): p.stat().st_mtime_ns
            for p in site.rglob("*")
            if p.is_file()
        }

    first = build(1_800_000_000)
    second = build(1_800_000_600)
    unchanged = {k for k in first if first[k] == second.get(k)}
    assert "catalog/default/component/a/index.html" in unchanged
    assert "index.html" in unchanged and "catalog/index.html" in unchanged
    assert {"build.json", "about/index.html"}.isdisjoint(unchanged)

    (org / "b" / "catalog-info.yaml").write_text(component("b") + "  system: shop\n")
    (org / "gone" / "catalog-info.yaml").unlink()
    third = build(1_800_001_200)
    rewritten = {k for k in third if third[k] != second.get(k)}
    assert "catalog/default/component/b/index.html" in rewritten
    # a's dependency graph shows b and now its system
    assert "catalog/default/component/a/dependencies/index.html" in rewritten
    assert "catalog/default/component/far/index.html" not in rewritten
    assert not (site / "catalog/default/component/gone").exists()


def test_unsafe_link_urls_are_dropped_and_reported(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            "svc/catalog-info.yaml": component("svc").replace(
                "metadata:\n",
                "metadata:\n  links:\n    - url: 'javascript:alert(1)'\n      title: Click\n"
                "  annotations:\n    backstage.io/view-url: ' JaVaScRiPt:alert(2)'\n",
            ),
        },
    )
    result = run_backlot("build", org, "-o", tmp_path / "site", "--cache-dir", tmp_path / "c")
    assert result.returncode == 0, result.stderr
    assert "metadata.links[0].url 'javascript:alert(1)' is not a safe URL" in result.stdout
    assert "backstage.io/view-url" in result.stdout
    html = (tmp_path / "site/catalog/default/component/svc/index.html").read_text()
    assert "alert(" not in html.split("<summary>YAML as loaded</summary>")[0]


def test_serve_previews_the_portal_on_loopback(example_portal: Path) -> None:
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", str(example_portal), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "catalog/default/component/orders-service/") as page:
            assert page.headers["X-Content-Type-Options"] == "nosniff"
            # The pages' own policy, and what only a header can say: no framing elsewhere.
            policy = page.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "frame-ancestors 'self'" in policy
            html = page.read().decode()
            assert "<h1>Orders Service</h1>" in html
            assert '<meta http-equiv="Content-Security-Policy"' in html
        # A missing path gets the portal's own page, as behind the CDN, with a real 404.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url + "catalog/default/component/gone/")
        assert missing.value.code == 404
        body = missing.value.read().decode()
        assert "<h1>Page not found</h1>" in body
        assert 'href="/catalog/index.html"' in body
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_changed_is_the_descriptors_last_commit_never_the_builds_time(tmp_path: Path) -> None:
    """A first build (no cache) must not date every entity "now": "Changed" and the home
    page's "Recently changed" come from the last commit that touched each descriptor."""
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            "old/catalog-info.yaml": component("old"),
            "new/catalog-info.yaml": component("new"),
        },
    )
    git = ["git", "-C", str(org), "-c", "user.name=T", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    for path, when in (("team", "2024-01-02T03:04:05Z"), ("old", "2024-05-06T07:08:09Z")):
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        subprocess.run([*git, "add", path], check=True, env=env)
        subprocess.run([*git, "commit", "-q", "-m", path], check=True, env=env)
    # "new" is never committed: its history is not known
    site = tmp_path / "site"
    result = run_backlot("build", org, "-o", site, "--cache-dir", tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    old = read(site, "catalog/default/component/old/index.html")
    assert '<time datetime="2024-05-06T07:08:09Z" data-age>2024-05-06 07:08 UTC</time>' in old
    new = read(site, "catalog/default/component/new/index.html")
    assert '<dt>Changed</dt><dd data-pagefind-ignore><span class="empty">not known' in new
    home = read(site, "index.html")
    recent = home[home.index('class="recent"') : home.index("</ol>")]
    assert recent.index(">old<") < recent.index(">team-a<") and ">new<" not in recent


def test_docs_that_fail_or_warn_are_listed_on_the_problems_page(tmp_path: Path) -> None:
    with_docs = "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            # an annotation with no docs tree behind it: the site fails
            "handbook/catalog-info.yaml": component("handbook").replace("metadata:\n", with_docs),
            # a page linking to one that does not exist: a warning naming file and target
            "guide/catalog-info.yaml": component("guide").replace("metadata:\n", with_docs),
            "guide/docs/index.md": "# Guide\n\nSee [the setup](setup.md).\n",
        },
    )
    site = tmp_path / "site"
    result = run_backlot("build", org, "-o", site, "--cache-dir", tmp_path / "cache")
    problems = read(site, "problems/index.html")
    docs = problems[problems.index('<h2 id="docs">') :]
    assert "handbook" in docs and "docs/no-tree" in docs
    assert "1 docs site not built" in problems
    assert "guide" in docs and "setup.md" in docs, result.stdout + result.stderr


def test_a_broken_api_definition_is_on_the_problems_page_and_stays_there(
    tmp_path: Path,
) -> None:
    api = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: broken-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: |
    openapi: 3.0.0
    paths: [this is: not, a mapping
"""
    org = write_tree(
        tmp_path / "org", {"team/catalog-info.yaml": GROUP_A, "api/catalog-info.yaml": api}
    )
    site, cache = tmp_path / "site", tmp_path / "cache"
    for _ in range(2):  # the second build keeps the API's page as it was
        result = run_backlot("build", org, "-o", site, "--cache-dir", cache)
        assert result.returncode == 0, result.stderr
        problems = read(site, "problems/index.html")
        section = problems[problems.index('<h2 id="apis">') :]
        assert "broken-api" in section and "API definition:" in section


def test_a_rebuild_renews_the_aggregated_ownership_of_every_group_above(
    tmp_path: Path,
) -> None:
    """A component's new description reaches its team's page and the page of every group
    above it (their aggregated ownership lists it), far beyond the graph's two relations,
    while unrelated pages are kept."""
    group = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: {name}\n"
    group += "spec:\n  type: team\n  children: []\n"
    org = write_tree(
        tmp_path / "org",
        {
            "org/catalog-info.yaml": "\n---\n".join(
                [
                    group.format(name="root"),
                    group.format(name="middle") + "  parent: root\n",
                    group.format(name="team-a") + "  parent: middle\n",
                    group.format(name="elsewhere"),
                ]
            ),
            "svc/catalog-info.yaml": component("svc").replace(
                "  name: svc\n", "  name: svc\n  description: First words.\n"
            ),
            "other/catalog-info.yaml": component("other", owner="elsewhere"),
        },
    )
    site, cache = tmp_path / "site", tmp_path / "cache"
    assert run_backlot("build", org, "-o", site, "--cache-dir", cache).returncode == 0
    root = site / "catalog/default/group/root/index.html"
    other = site / "catalog/default/component/other/index.html"
    assert "First words." in root.read_text()
    kept = other.stat().st_mtime_ns
    descriptor = org / "svc/catalog-info.yaml"
    descriptor.write_text(descriptor.read_text().replace("First words.", "Second words."))
    again = run_backlot("build", org, "-o", site, "--cache-dir", cache)
    assert again.returncode == 0, again.stderr
    assert "Second words." in root.read_text()  # three groups up
    assert "Second words." in (site / "catalog/default/group/middle/index.html").read_text()
    assert other.stat().st_mtime_ns == kept  # not related: not rendered again


def search_fragments(site: Path) -> dict[str, str]:
    """What Pagefind's index holds, by page URL: each fragment's text."""
    found = {}
    for path in (site / "pagefind").glob("**/fragment/*.pf_fragment"):  # every part's
        data = gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd")
        fragment = json.loads(data)
        found[fragment["url"]] = fragment["content"]
    return found


def described(name: str, text: str) -> str:
    return component(name).replace(f"  name: {name}\n", f"  name: {name}\n  description: {text}\n")


def test_the_search_index_holds_what_the_pages_say_after_each_rebuild(tmp_path: Path) -> None:
    """Pagefind reads a folder of links to the searched pages, kept between builds: a page
    rewritten, added or removed is what the next index holds."""
    org = write_tree(
        tmp_path / "org",
        {
            "orders/catalog-info.yaml": described("orders", "Takes orders."),
            "billing/catalog-info.yaml": described("billing", "Sends invoices."),
            "team/catalog-info.yaml": GROUP_A,
        },
    )
    site, cache = tmp_path / "site", tmp_path / "cache"

    def build() -> dict[str, str]:
        result = run_backlot("build", org, "-o", site, "--cache-dir", cache)
        assert result.returncode == 0, result.stderr
        return search_fragments(site)

    def text_of(fragments: dict[str, str], name: str) -> str:
        return next(t for url, t in fragments.items() if f"/component/{name}/" in url)

    first = build()
    assert "Takes orders." in text_of(first, "orders")
    write_tree(
        org,
        {
            "orders/catalog-info.yaml": described("orders", "Zanzibar queues."),
            "shipping/catalog-info.yaml": described("shipping", "Ships parcels."),
        },
    )
    shutil.rmtree(org / "billing")
    again = build()
    assert "Zanzibar queues." in text_of(again, "orders")
    assert "Takes orders." not in " ".join(again.values())
    assert "Ships parcels." in text_of(again, "shipping")
    assert not any("/component/billing/" in url for url in again)

    # Another change: the index files whose bytes did not change are the same files as
    # before in the output (nothing rewritten for a CDN to upload), the changed ones new.
    def identities() -> dict[str, int]:
        return {
            p.relative_to(site).as_posix(): p.stat().st_ino
            for p in (site / "pagefind").rglob("*")
            if p.is_file()
        }

    def fragment_of(name: str) -> str:
        for path in (site / "pagefind" / "fragment").glob("*.pf_fragment"):
            if f"/component/{name}/" in gzip.decompress(path.read_bytes()).decode():
                return path.relative_to(site).as_posix()
        raise AssertionError(f"no fragment for {name}")

    before, shipping, orders = identities(), fragment_of("shipping"), fragment_of("orders")
    write_tree(org, {"orders/catalog-info.yaml": described("orders", "Zanzibar ferries.")})
    third = build()
    assert "Zanzibar ferries." in text_of(third, "orders")
    assert "Zanzibar queues." not in " ".join(third.values())
    after = identities()
    assert after[shipping] == before[shipping]
    assert after["pagefind/pagefind.js"] == before["pagefind/pagefind.js"]
    assert orders not in after and fragment_of("orders") not in before


def test_list_pages_show_a_change_and_keep_the_rest(tmp_path: Path) -> None:
    """A list page given the same rows as last build is kept without being rendered; one
    whose rows changed is rendered again, and so is every page once the templates or
    settings change."""
    org = write_tree(
        tmp_path / "org",
        {
            "orders/catalog-info.yaml": described("orders", "Takes orders."),
            "team/catalog-info.yaml": GROUP_A,
        },
    )
    site, cache = tmp_path / "site", tmp_path / "cache"

    def build(*extra: str) -> None:
        result = run_backlot("build", org, "-o", site, "--cache-dir", cache, *extra)
        assert result.returncode == 0, result.stderr

    build()
    listing = site / "catalog" / "index.html"
    groups = site / "catalog" / "_kinds" / "group" / "index.html"
    assert "Takes orders." in listing.read_text()
    before = groups.stat().st_mtime_ns
    write_tree(org, {"orders/catalog-info.yaml": described("orders", "Zanzibar queues.")})
    build()
    assert "Zanzibar queues." in listing.read_text()
    assert "Takes orders." not in listing.read_text()
    assert "Zanzibar queues." in (site / "catalog/_kinds/component/index.html").read_text()
    assert groups.stat().st_mtime_ns == before
    (tmp_path / "backlot.yaml").write_text(
        f"catalog:\n  sources:\n    - path: {org}\nsite:\n  title: Zanzibar portal\n"
    )
    build("--config", str(tmp_path / "backlot.yaml"))
    assert "Zanzibar portal" in groups.read_text()


def test_an_entity_is_found_by_its_own_words_not_by_the_entities_it_lists(
    example_portal: Path,
) -> None:
    """A team's Overview lists what it owns, a System's its parts: those rows are each
    found on their own page, and do not make the team or the System a hit for them."""
    fragments = search_fragments(example_portal)

    def text_of(page: str) -> str:
        return next(t for url, t in fragments.items() if url.endswith("catalog/default" + page))

    orders = "Creates orders from baskets"
    assert orders in text_of("/component/orders-service/index.html")
    assert orders in read(example_portal, "catalog/default/group/team-payments/index.html")
    assert orders not in text_of("/group/team-payments/index.html")
    assert orders not in text_of("/system/checkout/index.html")
    assert "Team Payments" in text_of("/group/team-payments/index.html")


def test_entity_pages_rendered_with_a_worker_are_those_rendered_in_one_process(
    example_portal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's own process renders batches beside its forked worker: every page and
    graph file is there once, with the bytes one process gives it."""
    from generator.model import CatalogFile
    from generator.site import _entity_pages, build_site

    catalog = CatalogFile.read(example_portal / "catalog.json")

    def pages(out: Path) -> dict[str, bytes]:
        return {
            p.relative_to(out).as_posix(): p.read_bytes()
            for p in (out / "catalog").rglob("*")
            if p.is_file() and p.parent != out / "catalog"
        }

    one = build_site(catalog, tmp_path / "one", tmp_path / "cache-one", workers=1)
    monkeypatch.setattr(_entity_pages, "BATCH", 3)  # many batches, shared by two processes
    two = build_site(catalog, tmp_path / "two", tmp_path / "cache-two", workers=2)
    assert one.rendered == two.rendered > 20
    first, second = pages(tmp_path / "one"), pages(tmp_path / "two")
    assert len(first) > 100 and first.keys() == second.keys()
    assert [p for p in first if first[p] != second[p]] == []


def test_a_change_re_indexes_only_the_parts_whose_searched_words_changed(tmp_path: Path) -> None:
    """A team's Overview lists its components' descriptions in a table the index leaves
    out: a description changed re-indexes the component's part, not the team's, and the
    new words are found."""
    from generator.model import slot_of

    team = "group:default/team-a"
    name = next(
        n
        for n in (f"svc-{i}" for i in range(64))
        if slot_of(f"component:default/{n}", 2) != slot_of(team, 2)
    )
    org = write_tree(
        tmp_path / "org",
        {
            f"{name}/catalog-info.yaml": described(name, "Takes orders."),
            "team/catalog-info.yaml": GROUP_A,
        },
    )
    config = tmp_path / "backlot.yaml"
    config.write_text(f"catalog:\n  sources:\n    - path: {org}\nsite:\n  search_parts: 2\n")
    site, cache = tmp_path / "site", tmp_path / "cache"

    def build() -> None:
        result = run_backlot("build", org, "-o", site, "--cache-dir", cache, "--config", config)
        assert result.returncode == 0, result.stderr

    def stamps() -> dict[int, int]:
        return {s: (cache / f"search/part-{s}/fingerprint").stat().st_mtime_ns for s in (0, 1)}

    build()
    page = site / "catalog/default/group/team-a/index.html"
    before, listed = stamps(), page.read_bytes()
    write_tree(org, {f"{name}/catalog-info.yaml": described(name, "Zanzibar queues.")})
    build()
    assert page.read_bytes() != listed and b"Zanzibar queues." in page.read_bytes()
    after = stamps()
    assert after[slot_of(team, 2)] == before[slot_of(team, 2)]
    changed = slot_of(f"component:default/{name}", 2)
    assert after[changed] != before[changed]
    found = search_fragments(site)
    assert "Zanzibar queues." in next(t for u, t in found.items() if f"/component/{name}/" in u)
    assert not any("Takes orders." in t for t in found.values())


def test_what_the_search_index_leaves_out_of_a_page_does_not_change_its_digest() -> None:
    from generator.site._search import indexed_digest

    def page(inside: str, outside: str = "Orders.", attrs: str = "") -> bytes:
        return (
            f'<article data-pagefind-body><h1>{outside}</h1><section class="card"{attrs} '
            f"data-pagefind-ignore><section><p>x</p></section><p>{inside}</p></section>"
            "<p>after</p></article>"
        ).encode()

    same = indexed_digest(page("Takes orders."))
    assert indexed_digest(page("Zanzibar queues.")) == same  # left out by Pagefind
    assert indexed_digest(page("Takes orders.", outside="Billing.")) != same
    # What Pagefind may still read inside: filters and metadata.
    filtered = '<span data-pagefind-filter="owner">{}</span>'
    assert indexed_digest(page(filtered.format("a"))) != indexed_digest(page(filtered.format("b")))
    # The attribute's name written inside another attribute's value is not the attribute.
    faked = ' title="data-pagefind-ignore"'
    text = (
        '<article data-pagefind-body><div title="x data-pagefind-ignore"><p>{}</p></div></article>'
    )
    assert indexed_digest(text.format("a").encode()) != indexed_digest(text.format("b").encode())
    assert indexed_digest(page("a", attrs=faked)) == indexed_digest(page("b", attrs=faked))
    # An element whose end is not found stays in.
    cut = b"<article data-pagefind-body><section data-pagefind-ignore><p>{}</p></article>"
    assert indexed_digest(cut.replace(b"{}", b"a")) != indexed_digest(cut.replace(b"{}", b"b"))
