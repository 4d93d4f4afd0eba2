"""Crawling a GitHub organisation: what it costs cold and warm, what faults it survives,
and what it never does (lose entities, build half an organisation, print the token).

GitHub is served by ``github_fake`` over real HTTP on 127.0.0.1; everything else is real:
the CLI in its own process, the catalog, the docs build, the portal.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import component
from .github_fake import FakeGitHub

GROUP = (
    "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\n"
    "spec:\n  type: team\n  children: []\n"
)
WITH_DOCS = component("orders").replace(
    "metadata:\n", "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    github = FakeGitHub()
    github.start()
    yield github
    github.stop()


def organisation(fake: FakeGitHub, services: int = 7) -> None:
    fake.add("team", {"catalog-info.yaml": GROUP})
    fake.add(
        "orders",
        {
            "catalog-info.yaml": WITH_DOCS,
            "mkdocs.yml": "site_name: Orders\n",
            "docs/index.md": "# Orders\n\nHow orders flow.\n",
            "src/app.py": "print('hi')\n",
        },
    )
    # Over 512,000 bytes: GitHub truncates the text in the listing.
    fake.add("big", {"catalog-info.yaml": component("big") + "  # " + "x" * 600_000 + "\n"})
    fake.add("old", {"catalog-info.yaml": component("old")}, archived=True)
    fake.add("forked", {"catalog-info.yaml": component("forked")}, fork=True)
    fake.add("sandbox-1", {"catalog-info.yaml": component("sandbox-1")}, topics=("no-catalog",))
    fake.add("readme-only", {"README.md": "# nothing here\n"})
    for i in range(services):
        fake.add(f"svc-{i}", {"catalog-info.yaml": component(f"svc-{i}")})


def configure(work: Path, fake: FakeGitHub, **extra: Any) -> Path:
    options = {"page_size": 5, **extra}
    lines = [
        "catalog:",
        "  sources:",
        "    - type: github",
        f"      org: {fake.org}",
        f"      api_url: {fake.base}{fake.prefix}",
        "      topics: {exclude: [no-catalog]}",
    ]
    lines += [f"      {key}: {json.dumps(value)}" for key, value in options.items()]
    work.mkdir(parents=True, exist_ok=True)
    (work / "backlot.yaml").write_text("\n".join(lines) + "\n")
    return work / "backlot.yaml"


def backlot(
    work: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args, "--config", str(work / "backlot.yaml")],
        cwd=work,
        env={**os.environ, "GITHUB_TOKEN": "ghp_test-token-0123456789", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def entities(work: Path) -> set[str]:
    catalog = json.loads((work / ".backlot" / "catalog.json").read_text())
    return {e["metadata"]["name"] for e in catalog["entities"]}


def everything_written(work: Path) -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in work.rglob("*")
        if p.is_file() and p.stat().st_size < 5e6
    )


def test_a_cold_crawl_costs_the_listing_and_what_it_cannot_carry(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    organisation(fake)
    configure(tmp_path, fake)
    done = backlot(tmp_path, "build")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    expected = {"team-a", "orders", "big", *(f"svc-{i}" for i in range(7))}
    assert entities(tmp_path) == expected  # archived, forked and excluded topics left out
    # 14 repositories, 5 a page: 3 listing queries; one REST read for the truncated blob;
    # one tarball for the docs folder (the root's tree id came with the listing); one
    # query for when the 10 descriptors last changed.
    assert fake.counts == {"graphql": 4, "blobs": 1, "tarball": 1, "codeload": 1}, fake.counts
    assert fake.queries == {"listing": 3, "history": 1}, fake.queries
    assert "github acme: 11 repositories (10 with descriptors, 1 without, 3 left out" in output
    assert (tmp_path / "site/docs/default/component/orders/index.html").is_file()
    page = (tmp_path / "site/catalog/default/component/orders/index.html").read_text()
    assert "https://github.com/acme/orders/blob/HEAD/catalog-info.yaml" in page
    assert fake.token not in output and fake.token not in everything_written(tmp_path)


def test_a_warm_crawl_costs_only_the_listing_and_what_changed(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    organisation(fake)
    configure(tmp_path, fake)
    assert backlot(tmp_path, "build").returncode == 0
    fake.counts.clear()
    fake.queries.clear()
    done = backlot(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    assert fake.counts == {"graphql": 3}, fake.counts  # nothing fetched twice, no docs rebuilt
    assert "dates of change: 10 remembered, 0 looked up in 0 queries" in done.stdout
    assert "0 built, 1 unchanged" in done.stdout
    # Two repositories change: a plain descriptor (it comes with the listing) and the
    # docs (one query for the folder's tree id; the root's is listed, so none here).
    fake.repos["svc-3"].push({"catalog-info.yaml": component("svc-3", description="new").encode()})
    fake.repos["orders"].push({"docs/index.md": b"# Orders\n\nChanged.\n"})
    fake.counts.clear()
    fake.queries.clear()
    done = backlot(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    # The changed descriptor is dated again (one query); the docs' push left the
    # descriptor's blob as it was, so its date is remembered.
    assert fake.counts == {"graphql": 4, "tarball": 1, "codeload": 1}, fake.counts
    assert fake.queries == {"listing": 3, "history": 1}, fake.queries
    assert "2 changed" in done.stdout and "1 built, 0 unchanged" in done.stdout
    assert "Changed." in (tmp_path / "site/docs/default/component/orders/index.html").read_text()


def test_crawled_docs_are_built_when_the_config_is_named_relative_to_the_cwd(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    # `backlot docs build --config backlot.yaml`: the cache is then a relative path, and
    # mkdocs resolves docs_dir against the folder of the config it is handed.
    fake.add("team", {"catalog-info.yaml": GROUP})
    for i in range(2):
        fake.add(
            f"docs-{i}",
            {
                "catalog-info.yaml": WITH_DOCS.replace("name: orders", f"name: docs-{i}"),
                "mkdocs.yml": f"site_name: Docs {i}\n",
                "docs/index.md": f"# Docs {i}\n\nPage {i}.\n",
            },
        )
    configure(tmp_path, fake)
    done = subprocess.run(
        [sys.executable, "-m", "generator", "docs", "build", "--config", "backlot.yaml"],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_TOKEN": fake.token},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 built, 0 unchanged, 0 failed" in done.stdout
    for i in range(2):
        page = tmp_path / f"site/docs/default/component/docs-{i}/index.html"
        assert f"Page {i}." in page.read_text()


def test_rate_limits_and_server_errors_are_waited_out(fake: FakeGitHub, tmp_path: Path) -> None:
    organisation(fake, services=2)
    configure(tmp_path, fake)
    fake.fault("graphql", "rate-limited")  # 200 with errors: wait until resetAt
    fake.fault("graphql", "403-retry-after")  # a secondary limit
    fake.fault("blobs", "429")
    fake.fault("blobs", "500")
    fake.fault("tarball", "502")
    done = backlot(tmp_path, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    assert entities(tmp_path) == {"team-a", "orders", "big", "svc-0", "svc-1"}
    assert fake.counts["graphql"] == 2 + 1 + 2 and fake.counts["blobs"] == 1 + 2
    assert "4 retries" in done.stdout or "retries" in done.stdout


def test_pages_too_large_or_too_slow_are_halved(fake: FakeGitHub, tmp_path: Path) -> None:
    organisation(fake, services=20)
    fake.max_page = 12  # larger pages: RESOURCE_LIMITS_EXCEEDED
    configure(tmp_path, fake, page_size=50)
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {f"svc-{i}" for i in range(20)} <= entities(tmp_path)
    fake.counts.clear()
    fake.slow_seconds = 2.0
    fake.fault("graphql", "slow")  # no answer within the client's time: ask for less
    configure(tmp_path, fake, page_size=8, timeout_seconds=0.5)
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {f"svc-{i}" for i in range(20)} <= entities(tmp_path)


def test_a_descriptor_that_cannot_be_read_keeps_its_last_good_version(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    organisation(fake, services=1)
    configure(tmp_path, fake)
    assert backlot(tmp_path, "catalog").returncode == 0
    fake.repos["big"].push(
        {
            "catalog-info.yaml": (
                component("big", description="v2") + "  # " + "y" * 600_000 + "\n"
            ).encode()
        }
    )
    fake.fault("blobs", "500", times=20)  # the new (truncated) version cannot be read
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "big" in entities(tmp_path)
    catalog = json.loads((tmp_path / ".backlot" / "catalog.json").read_text())
    [stale] = [f for f in catalog["findings"] if f["rule"] == "source/stale"]
    assert stale["entityRef"] == "component:default/big" and "last read, at" in stale["message"]
    assert "1 stale" in done.stdout


def test_a_descriptor_pushed_broken_keeps_its_last_good_entities(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    organisation(fake, services=2)
    configure(tmp_path, fake)
    assert backlot(tmp_path, "catalog").returncode == 0
    good = sources(tmp_path)["svc-1"]["changed"]
    assert good is not None
    # Someone pushes YAML that does not parse: the portal keeps the entity as it was,
    # and says so, rather than dropping a service from the catalog.
    fake.repos["svc-1"].push(
        {"catalog-info.yaml": b"apiVersion: backstage.io/v1alpha1\nkind: [Component\n"},
        at="2026-12-01T00:00:00Z",
    )
    done = backlot(tmp_path, "build")
    assert "svc-1" in entities(tmp_path), done.stdout + done.stderr
    catalog = json.loads((tmp_path / ".backlot" / "catalog.json").read_text())
    by_rule = {f["rule"]: f for f in catalog["findings"] if "svc-1" in f["file"]}
    assert by_rule["source/stale"]["entityRef"] == "component:default/svc-1"
    assert "cannot be read as YAML" in by_rule["source/stale"]["message"]
    [source] = [s for k, s in catalog["sources"].items() if k.endswith("/svc-1")]
    assert source["staleReason"] and source["staleSince"].startswith("20")
    assert source["changed"] == good  # the version shown is the one dated then
    page = (tmp_path / "site/catalog/default/component/svc-1/index.html").read_text()
    assert "Out of date" in page and f'datetime="{source["staleSince"]}" data-age' in page
    broken = [f for f in catalog["findings"] if f["severity"] == "error" and "svc-1" in f["file"]]
    assert [f["rule"] for f in broken] == ["yaml/syntax"], broken  # the file's own error
    # Once fixed, the new version is what counts, and nothing is stale any more.
    fake.repos["svc-1"].push(
        {"catalog-info.yaml": component("svc-1", system="fixed").encode()},
        at="2026-12-02T00:00:00Z",
    )
    done = backlot(tmp_path, "catalog")
    catalog = json.loads((tmp_path / ".backlot" / "catalog.json").read_text())
    [svc] = [e for e in catalog["entities"] if e["metadata"]["name"] == "svc-1"]
    assert svc["spec"]["system"] == "fixed"
    assert sources(tmp_path)["svc-1"]["changed"] == "2026-12-02T00:00:00Z"
    assert not [f for f in catalog["findings"] if f["rule"] == "source/stale"]


def test_a_listing_that_fails_builds_nothing(fake: FakeGitHub, tmp_path: Path) -> None:
    organisation(fake, services=1)
    configure(tmp_path, fake)
    assert backlot(tmp_path, "build").returncode == 0
    before = (tmp_path / "site/index.html").read_bytes()
    fake.fault("graphql", "500", times=30)  # on the second page: GitHub is down
    done = backlot(tmp_path, "build")
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "the organisation could not be listed, so nothing was built" in output
    assert "Traceback" not in output and fake.token not in output
    assert (tmp_path / "site/index.html").read_bytes() == before
    fake.faults.clear()
    bad = backlot(tmp_path, "build", env={"GITHUB_TOKEN": "ghp_wrong-token-secret"})
    assert bad.returncode == 1 and "Bad credentials" in bad.stdout + bad.stderr
    assert "ghp_wrong-token-secret" not in bad.stdout + bad.stderr


def test_a_github_app_installation_token_is_used(fake: FakeGitHub, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    fake.app_public_key = key.public_key()
    organisation(fake, services=1)
    configure(tmp_path, fake, app={"app_id": fake.app_id})
    done = backlot(tmp_path, "catalog", env={"GITHUB_TOKEN": "", "GITHUB_APP_PRIVATE_KEY": pem})
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.counts["installation"] == 1 and fake.counts["access-token"] == 1
    assert f"Bearer {fake.installation_token}" in fake.seen_authorization
    assert fake.installation_token not in everything_written(tmp_path)
    assert "PRIVATE KEY" not in everything_written(tmp_path)


def test_globs_locations_and_placeholders_are_read_from_the_tree(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    fake.add("team", {"catalog-info.yaml": GROUP})
    fake.add(
        "mono",
        {
            "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\n"
            "metadata:\n  name: mono\nspec:\n  targets: [./services/a.yaml]\n",
            "services/a.yaml": component("svc-a").replace(
                "spec:\n", "spec:\n  x: {$text: ../README.md}\n"
            ),
            "README.md": "# The monorepo\n",
            ".backstage/extra.yaml": component("svc-extra"),
        },
    )
    configure(tmp_path, fake, descriptors=["catalog-info.yaml", ".backstage/*.yaml"])
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {"mono", "svc-a", "svc-extra", "team-a"} <= entities(tmp_path)
    catalog = json.loads((tmp_path / ".backlot" / "catalog.json").read_text())
    svc = next(e for e in catalog["entities"] if e["metadata"]["name"] == "svc-a")
    assert svc["spec"]["x"] == "# The monorepo\n"
    assert fake.counts["trees"] == 2  # the glob, once per repository with a tree to read


def test_an_enterprise_server_is_reached_at_its_own_paths(fake: FakeGitHub, tmp_path: Path) -> None:
    from generator.github import graphql_url, web_url

    assert graphql_url("https://ghe.acme.com/api/v3") == "https://ghe.acme.com/api/graphql"
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert web_url("https://ghe.acme.com/api/v3") == "https://ghe.acme.com"
    fake.prefix = "/api/v3"
    organisation(fake, services=1)
    configure(tmp_path, fake)
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "svc-0" in entities(tmp_path)


# ---------------------------------------------------------------- when descriptors changed


def sources(work: Path) -> dict[str, Any]:
    catalog = json.loads((work / ".backlot" / "catalog.json").read_text())
    return {ref.split("/")[-1]: source for ref, source in catalog["sources"].items()}


def test_descriptors_are_dated_by_their_last_commit_in_few_queries(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    """Each descriptor's date is its last commit's (not the repository's last push, not
    when a build first saw it), from a batched GraphQL history query, remembered by blob
    id: an unchanged descriptor costs nothing on the next crawl."""
    fake.add("team", {"catalog-info.yaml": GROUP}, committed_at="2025-06-01T12:00:00Z")
    for i in range(120):
        fake.add(
            f"svc-{i:03d}",
            {"catalog-info.yaml": component(f"svc-{i:03d}"), "README.md": "# hi\n"},
            committed_at=f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
        )
    # A later push that leaves the descriptor alone does not change its date.
    fake.repos["svc-007"].push({"README.md": b"# later\n"}, at="2026-10-10T10:10:10Z")
    fake.repos["svc-008"].push(
        {"catalog-info.yaml": component("svc-008", system="s").encode()},
        at="2026-10-11T10:00:00+02:00",
    )
    # A Location's target is no descriptor: dated when the catalog stage reads it.
    fake.add(
        "mono",
        {
            "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\n"
            "metadata:\n  name: mono\nspec:\n  targets: [./services/a.yaml]\n",
            "services/a.yaml": component("svc-a"),
        },
        committed_at="2026-03-03T03:03:03Z",
    )
    fake.repos["mono"].push(
        {"services/a.yaml": component("svc-a", system="m").encode()}, at="2026-04-04T04:04:04Z"
    )
    configure(tmp_path, fake, page_size=50)
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    dated = sources(tmp_path)
    assert dated["mono"]["changed"] == "2026-03-03T03:03:03Z"
    assert dated["svc-a"]["changed"] == "2026-04-04T04:04:04Z"
    assert dated["team-a"]["changed"] == "2025-06-01T12:00:00Z"
    assert dated["svc-007"]["changed"] == "2026-01-08T07:00:00Z"
    assert dated["svc-008"]["changed"] == "2026-10-11T08:00:00Z"  # in UTC
    assert all(
        dated[f"svc-{i:03d}"]["changed"] == f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
        for i in range(120)
        if i != 8
    )
    # 122 repositories: 3 listing pages; 122 descriptors, 50 a query: 3 queries; and
    # one for the Location's target.
    assert fake.queries == {"listing": 3, "history": 3 + 1}, fake.queries
    assert "122 looked up in 3 queries, 0 unknown" in done.stdout
    # Next crawl: one descriptor changed, one repository is new; the rest cost nothing.
    fake.repos["svc-042"].push(
        {"catalog-info.yaml": component("svc-042", system="t").encode()},
        at="2026-11-20T00:00:00Z",
    )
    fake.add("new", {"catalog-info.yaml": component("new")}, committed_at="2026-11-21T00:00:00Z")
    fake.queries.clear()
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.queries == {"listing": 3, "history": 1}, fake.queries  # the target's too
    assert "121 remembered, 2 looked up in 1 query" in done.stdout
    dated = sources(tmp_path)
    assert dated["svc-042"]["changed"] == "2026-11-20T00:00:00Z"
    assert dated["new"]["changed"] == "2026-11-21T00:00:00Z"
    assert dated["svc-007"]["changed"] == "2026-01-08T07:00:00Z"


def test_dates_give_way_to_limits_and_failures_but_never_fail_the_build(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    for i in range(8):
        fake.add(f"svc-{i}", {"catalog-info.yaml": component(f"svc-{i}")})
    configure(tmp_path, fake, page_size=50)
    # Too heavy a query for GitHub: asked again in halves (each history is a walk).
    fake.max_history = 3
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(s["changed"] for s in sources(tmp_path).values())
    assert "8 looked up" in done.stdout
    # 8 and 4 in a query are too many; then 2, and 3 twice (never 4 again).
    assert fake.queries["history"] == 2 + 3, fake.queries
    # GitHub refusing the query: the entities are all there, undated.
    shutil.rmtree(tmp_path / ".backlot")
    fake.max_history = 100
    fake.fault("graphql", "pass")  # the listing
    fake.fault("graphql", "401")
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(sources(tmp_path)) == 8
    assert {s["changed"] for s in sources(tmp_path).values()} == {None}
    assert "0 looked up in 1 query, 8 unknown" in done.stdout
    # Few points left this hour: the descriptors matter more than their dates.
    fake.graphql_remaining = 60
    fake.queries.clear()
    done = backlot(tmp_path, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.queries == {"listing": 1}, fake.queries
    assert "8 unknown" in done.stdout and len(sources(tmp_path)) == 8


def test_a_repository_gone_since_the_listing_leaves_the_others_dated(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    """GitHub answers the rest of a query, with a NOT_FOUND error for the part it could
    not resolve (a repository renamed or deleted since the listing)."""
    from generator.github import GitHubClient, TokenAuth
    from generator.sources._store import CrawlStore
    from generator.sources.github import GitHubRepository, look_up_history

    for name in ("svc-1", "svc-2"):
        fake.add(name, {"catalog-info.yaml": component(name)}, committed_at="2026-02-02T00:00:00Z")
    client = GitHubClient(fake.base, TokenAuth(fake.token), sleep=lambda seconds: None)
    store = CrawlStore(tmp_path / "crawl")
    repositories = [
        GitHubRepository(
            name=f"acme/{name}",
            url=f"https://github.com/acme/{name}",
            commit=fake.repos[name].commit if name in fake.repos else "0" * 40,
            slug=f"acme/{name}",
            tree_oid=None,
            client=client,
            store=store,
        )
        for name in ("svc-1", "gone", "svc-2")
    ]
    wanted = [(r, "catalog-info.yaml", "b" * 40) for r in repositories]
    assert look_up_history(client, wanted) == (1, 2)
    assert [r.changed for r in repositories] == [
        {"catalog-info.yaml": "2026-02-02T00:00:00Z"},
        {},
        {"catalog-info.yaml": "2026-02-02T00:00:00Z"},
    ]
    assert store.history("acme/svc-1") == {"catalog-info.yaml": ("b" * 40, "2026-02-02T00:00:00Z")}
    assert store.history("acme/gone") == {}
