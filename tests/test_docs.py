"""TechDocs as a platform team runs them: built safely, in Backstage's layout, cached."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import GROUP_A, component, run_backlot, write_tree

DOCS_ENTITY = component("handbook").replace(
    "metadata:\n", "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
)
PAGES = {
    "docs/index.md": "# Handbook\n\nHello.\n",
    "docs/guide.md": "# Guide\n\n!!! note\n    Hi\n",
}


def repo_with_docs(name: str, mkdocs: str | None, extra: dict[str, str] | None = None) -> dict:
    files = {
        f"{name}/catalog-info.yaml": DOCS_ENTITY.replace("handbook", name),
        **{f"{name}/{path}": text for path, text in PAGES.items()},
        **{f"{name}/{path}": text for path, text in (extra or {}).items()},
    }
    if mkdocs is not None:
        files[f"{name}/mkdocs.yml"] = mkdocs
    return files


def build_docs(org: Path, out: Path) -> tuple[int, str, dict]:
    result = run_backlot("docs", "build", org, "--out", out, "--cache-dir", out.parent / "cache")
    report_file = out.parent / "cache" / "docs-report.json"
    report = json.loads(report_file.read_text()) if report_file.is_file() else {}
    return result.returncode, result.stdout + result.stderr, report


def test_sites_are_built_in_backstages_storage_layout(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs("handbook", "site_name: The Handbook\nplugins: [techdocs-core]\n"),
            # No mkdocs.yml: TechDocs' default (site name from the entity, nav from docs/).
            **repo_with_docs("Bare-Docs", None),
        },
    )
    code, output, report = build_docs(org, tmp_path / "docs")
    assert code == 0, output
    site = tmp_path / "docs" / "default" / "component" / "handbook"
    assert (site / "index.html").is_file() and (site / "guide" / "index.html").is_file()
    assert (site / "search" / "search_index.json").is_file()
    metadata = json.loads((site / "techdocs_metadata.json").read_text())
    assert metadata["site_name"] == "The Handbook"
    assert metadata["site_description"] == "None"  # as techdocs-core writes an unset one
    assert isinstance(metadata["build_timestamp"], int) and metadata["build_timestamp"] > 1e12
    assert "techdocs_metadata.json" in metadata["files"] and "guide/index.html" in metadata["files"]
    assert all((site / f).is_file() for f in metadata["files"])
    html = (site / "guide" / "index.html").read_text()
    assert 'class="md-header' in html and "admonition note" in html
    # The header links back to the entity's page in the portal (inside .md-header).
    assert 'href="../../../../../catalog/default/component/handbook/index.html"' in html
    bare = tmp_path / "docs" / "default" / "component" / "bare-docs"
    assert json.loads((bare / "techdocs_metadata.json").read_text())["site_name"] == "Bare-Docs"
    assert report["sites"]["component:default/handbook"]["status"] == "built"


HOSTILE = {
    "hooks": ("site_name: x\nhooks: [evil.py]\n", "hooks"),
    "plugin": (
        "site_name: x\nplugins: [techdocs-core, macros]\n",
        "plugin 'macros' is not on the allow-list",
    ),
    "python-tag": ("site_name: !!python/object/apply:os.system [touch PWNED]\n", "!!python/object"),
    "env": ("site_name: !ENV HOME\n", "!ENV reads the build machine's environment"),
    "docs-dir": ("site_name: x\ndocs_dir: ../../secret\n", "is outside the repository"),
    "extension": (
        "site_name: x\nmarkdown_extensions: [evil.module:Ext]\n",
        "is not one the portal's builder runs",
    ),
    "snippets": (
        "site_name: x\nmarkdown_extensions:\n  - pymdownx.snippets: {base_path: [../..]}\n",
        "snippets base_path",
    ),
    "include": (
        "site_name: x\nnav:\n  - Sub: '!include ./sub/mkdocs.yml'\n  - X: !include ./x.yml\n",
        "!include",
    ),
}


def test_a_repository_cannot_run_code_and_one_refusal_stops_only_its_site(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"team/catalog-info.yaml": GROUP_A}
    for name, (mkdocs, _) in HOSTILE.items():
        files.update(repo_with_docs(name, mkdocs, {"evil.py": "open('PWNED','w')\n"}))
    files.update(repo_with_docs("good", "site_name: Good\n"))
    org = write_tree(tmp_path / "org", files)
    code, output, report = build_docs(org, tmp_path / "docs")
    assert code == 1
    sites = report["sites"]
    assert sites["component:default/good"]["status"] == "built"
    for name, (_, message) in HOSTILE.items():
        site = sites[f"component:default/{name}"]
        assert site["status"] == "failed", name
        assert message in site["failure"]["message"], (name, site["failure"]["message"])
        assert f"error: component:default/{name}: " in output
        assert not (tmp_path / "docs" / "default" / "component" / name).exists()
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()


def test_symlinks_out_of_the_repository_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# the build machine's secret\n")
    org = write_tree(
        tmp_path / "org", {"team/catalog-info.yaml": GROUP_A, **repo_with_docs("leaky", None)}
    )
    os.symlink(secret, org / "leaky" / "docs" / "secret.md")
    code, _, report = build_docs(org, tmp_path / "docs")
    site = report["sites"]["component:default/leaky"]
    assert code == 1 and site["status"] == "failed"
    message = site["failure"]["message"]
    assert "docs/secret.md is a symlink that leads outside the repository" in message


def test_unchanged_sites_are_not_rebuilt(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs("one", None),
            **repo_with_docs("two", None),
        },
    )
    out = tmp_path / "docs"
    assert build_docs(org, out)[0] == 0
    stamp = (out / "default/component/one/index.html").stat().st_mtime_ns
    code, output, report = build_docs(org, out)
    assert "0 built, 2 unchanged" in output
    (org / "two" / "docs" / "guide.md").write_text("# Guide\n\nChanged.\n")
    code, output, report = build_docs(org, out)
    assert code == 0 and "1 built, 1 unchanged" in output
    assert report["sites"]["component:default/two"]["status"] == "built"
    assert (out / "default/component/one/index.html").stat().st_mtime_ns == stamp
    assert "Changed." in (out / "default/component/two/guide/index.html").read_text()


def test_a_snippet_from_outside_the_docs_tree_rebuilds_its_site(tmp_path: Path) -> None:
    """The digest covers every file a build read, snippets from elsewhere in the repository
    included: editing one rebuilds the site that includes it."""
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs(
                "lib",
                None,
                {
                    "docs/usage.md": '# Usage\n\n```\n--8<-- "src/example.py"\n```\n',
                    "src/example.py": "print('v1')\n",
                },
            ),
        },
    )
    out = tmp_path / "docs"
    assert build_docs(org, out)[0] == 0
    assert "v1" in (out / "default/component/lib/usage/index.html").read_text()
    assert "0 built, 1 unchanged" in build_docs(org, out)[1]
    (org / "lib" / "src" / "example.py").write_text("print('v2')\n")
    code, output, _ = build_docs(org, out)
    assert code == 0 and "1 built, 0 unchanged" in output
    assert "v2" in (out / "default/component/lib/usage/index.html").read_text()


def test_the_404_page_finds_its_own_assets(tmp_path: Path) -> None:
    """Served for any missing page below /docs/<namespace>/<kind>/<name>/, MkDocs' 404 page
    linked its assets from the server's root: another site's, or none."""
    org = write_tree(
        tmp_path / "org", {"team/catalog-info.yaml": GROUP_A, **repo_with_docs("x", None)}
    )
    out = tmp_path / "docs"
    assert build_docs(org, out)[0] == 0
    page = (out / "default/component/x/404.html").read_text()
    assert 'href="./assets/stylesheets/' in page and 'src="./assets/javascripts/bundle' in page
    assert 'href="/' not in page and 'src="/' not in page


def test_the_portal_links_docs_and_reports_failures(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs("good", None),
            **repo_with_docs("hooked", "site_name: x\nhooks: [evil.py]\n"),
        },
    )
    site = tmp_path / "site"
    result = run_backlot("build", org, "-o", site, "--cache-dir", tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    good = (site / "catalog/default/component/good/index.html").read_text()
    assert 'href="../../../../docs/default/component/good/index.html">Docs</a>' in good
    hooked = (site / "catalog/default/component/hooked/index.html").read_text()
    assert "Docs not built" in hooked and "hooks" in hooked
    docs_page = (site / "documentation/index.html").read_text()
    assert "docs/default/component/good/index.html" in docs_page
    assert "Docs that could not be built" in docs_page
    assert '50%</span> <span class="what">of 2 Component' in docs_page


def test_an_annotation_without_docs_is_reported(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, "handbook/catalog-info.yaml": DOCS_ENTITY},
    )
    code, output, report = build_docs(org, tmp_path / "docs")
    site = report["sites"]["component:default/handbook"]
    assert code == 1 and site["status"] == "failed"
    assert site["failure"]["message"] == "no mkdocs.yml and no docs/ folder in handbook"
    assert "error: component:default/handbook: docs/no-tree: no mkdocs.yml" in output


@pytest.mark.parametrize("ref", ["dir:../../etc", "github:acme/x", "url:https://example.com/x"])
def test_bad_techdocs_refs_are_reported(tmp_path: Path, ref: str) -> None:
    entity = DOCS_ENTITY.replace("dir:.", ref)
    org = write_tree(
        tmp_path / "org", {"team/catalog-info.yaml": GROUP_A, "handbook/catalog-info.yaml": entity}
    )
    code, output, report = build_docs(org, tmp_path / "docs")
    assert code == 1 and "component:default/handbook" in report["unresolved"]
    assert "error: component:default/handbook: docs/" in output
    assert f": backstage.io/techdocs-ref '{ref}'" in output


RICH_MARKDOWN = """# Everything inline

:smile: :+1: ==marked== ^^inserted^^ ~~deleted~~ H~2~O x^2^ **strong** *em* __under__ _em_
`code` `#!python print(1)` [link](guide.md) [ref][r] <https://example.com> www.example.com
mail@example.com (c) (tm) 1/2 --> <-- != +/- 1st 2nd {++added++} {--gone--} \\*escaped\\*
<b>raw</b> &amp; &copy; line\\
break

| a | b |
| - | - |
| `x` | **y** |

- [x] done
- [ ] open

!!! note "Title with *emphasis*"
    Inside :rocket: and ==mark==.

```python
print("fenced")
```

[r]: https://example.com/r
"""


def test_shared_templates_and_emoji_indexes_change_no_byte(tmp_path: Path) -> None:
    """The builder's speed-ups (templates compiled once, emoji indexes shared, inline
    patterns searched in C first) must give the very pages a plain MkDocs build gives."""
    import subprocess
    import sys

    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs("one", None, {"docs/emoji.md": RICH_MARKDOWN}),
            **repo_with_docs("two", "site_name: Two\ntheme: {features: [navigation.tabs]}\n"),
        },
    )
    assert run_backlot("catalog", org, "-o", tmp_path / "catalog.json").returncode == 0
    script = """
import sys
from pathlib import Path
from generator.config import DocsSettings
from generator.docs import _build, _speedups, find_docs_sources
from generator.model import CatalogFile
from generator.sources import discover_local
if sys.argv[1] == "plain":
    _speedups.install = lambda: None
catalog = CatalogFile.read(Path(sys.argv[2]))
sources, _ = find_docs_sources(catalog, {r.name: r for r in discover_local(Path(sys.argv[3]))})
result = _build.build_docs(
    sources, Path(sys.argv[4]), Path(sys.argv[4] + "-cache"), settings=DocsSettings(workers=1)
)
assert all(s.status == "built" for s in result.sites), result.sites
"""
    for mode in ("plain", "fast"):
        done = subprocess.run(
            [sys.executable, "-c", script, mode, tmp_path / "catalog.json", org, tmp_path / mode],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    plain = {p.relative_to(tmp_path / "plain"): p for p in (tmp_path / "plain").rglob("*")}
    fast = {p.relative_to(tmp_path / "fast"): p for p in (tmp_path / "fast").rglob("*")}
    assert plain.keys() == fast.keys() and len(plain) > 50
    differing = [
        str(rel)
        for rel, path in plain.items()
        if path.is_file()
        and rel.name != "techdocs_metadata.json"
        and path.read_bytes() != fast[rel].read_bytes()
    ]
    assert differing == []
    page = (tmp_path / "fast/default/component/one/emoji/index.html").read_text()
    assert "😄" in page and "<img" not in page.split("md-content")[1]


def test_no_link_out_of_the_repository_is_followed(tmp_path: Path) -> None:
    """Snippets through a linked folder, a link inside the repository to a link out of
    it, and a linked mkdocs.yml: each refused before anything outside is read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP-SECRET\n")
    (outside / "mkdocs.yml").write_text("site_name: TOP-SECRET\n")
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs("snippets", None, {"docs/index.md": '--8<-- "leak/secret.txt"\n'}),
            **repo_with_docs("chained", None, {"inner/readme.md": "inner\n"}),
            **repo_with_docs("config", None),
        },
    )
    os.symlink(outside, org / "snippets" / "leak")
    os.symlink(outside / "secret.txt", org / "chained" / "inner" / "host.txt")
    os.symlink("../inner", org / "chained" / "docs" / "sub")
    os.symlink(outside / "mkdocs.yml", org / "config" / "mkdocs.yml")
    code, output, report = build_docs(org, tmp_path / "docs")
    assert code == 1 and "TOP-SECRET" not in output
    expected = {
        "snippets": "leak is a symlink that leads outside the repository",
        "chained": "inner/host.txt is a symlink that leads outside the repository",
        "config": "mkdocs.yml is a symlink that leads outside the repository",
    }
    for name, message in expected.items():
        site = report["sites"][f"component:default/{name}"]
        assert site["status"] == "failed" and message in site["failure"]["message"], (name, site)
    written = [p for p in (tmp_path / "docs").rglob("*") if p.is_file()]
    written += [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    leaked = [p for p in written if "TOP-SECRET" in p.read_text(errors="ignore")]
    assert written and leaked == []


def test_raw_html_in_docs_is_sanitised(tmp_path: Path) -> None:
    """Backstage's reader cleans TechDocs with DOMPurify; the portal serves pages as built,
    so the builder cleans each page's content."""
    page = (
        "# Hostile\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        '<a href="javascript:alert(3)">click</a> <iframe src="https://evil.example"></iframe>\n\n'
        "!!! note\n    Still **rendered** :smile:\n\n```python\nprint(1)\n```\n"
    )
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs("hostile", None, {"docs/index.md": page}),
        },
    )
    code, output, _ = build_docs(org, tmp_path / "docs")
    assert code == 0, output
    html = (tmp_path / "docs/default/component/hostile/index.html").read_text()
    article = html[html.index('<article class="md-content__inner') : html.index("</article>")]
    for bad in ("alert(1)</script>", "onerror", "javascript:", "<iframe"):
        assert bad not in article, bad
    assert 'class="admonition note"' in article and "<strong>rendered</strong>" in article
    assert "Still <strong>rendered</strong> 😄" in article  # emoji as text: no CDN image
    assert 'class="language-python highlight"' in article


def test_texts_of_mkdocs_yml_and_front_matter_cannot_inject_html(tmp_path: Path) -> None:
    """MkDocs renders its theme without autoescaping: names, titles and links from the
    repository must reach the page as text."""
    mkdocs = (
        "site_name: '<script>alert(1)</script>'\n"
        "copyright: '<img src=x onerror=alert(2)>'\n"
        "repo_url: 'javascript:alert(3)'\n"
        "nav:\n  - '<b onmouseover=alert(4)>Home</b>': index.md\n"
        "  - Evil: 'javascript:alert(5)'\n"
        "extra:\n  social:\n    - icon: fontawesome/brands/github\n"
        "      link: 'javascript:alert(6)'\n"
    )
    page = (
        "---\ntitle: '<script>alert(7)</script>'\n"
        "description: '\"><script>alert(8)</script>'\n---\n\n"
        "# &lt;script&gt;alert(9)&lt;/script&gt;\n"
    )
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, **repo_with_docs("x", mkdocs, {"docs/index.md": page})},
    )
    code, output, _ = build_docs(org, tmp_path / "docs")
    assert code == 0, output
    site = tmp_path / "docs/default/component/x"
    for html_file in site.rglob("*.html"):
        text = html_file.read_text()
        for bad in ("<script>alert", "<img src=x", "<b onmouseover", 'href="javascript:'):
            assert bad not in text, (html_file.name, bad)
    metadata = json.loads((site / "techdocs_metadata.json").read_text())
    assert metadata["site_name"] == "<script>alert(1)</script>"  # plain text for Backstage


def test_a_host_backlot_yaml_allows_may_serve_images_and_styles(tmp_path: Path) -> None:
    """By default nothing outside the portal is loaded; security.allowed_hosts opens it for
    images, styles and fonts from named hosts (https), in the policy and in the content."""
    page = (
        "# Logos\n\n![ok](https://cdn.acme.com/logo.png) ![no](https://elsewhere.example/x.png)\n"
    )
    css = "body { background: url(https://cdn.acme.com/bg.png) }\n"
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs(
                "brand",
                "site_name: Brand\nextra_css: [brand.css]\n",
                {"docs/index.md": page, "docs/brand.css": css},
            ),
        },
    )
    (tmp_path / "backlot.yaml").write_text("security:\n  allowed_hosts: [cdn.acme.com]\n")
    done = run_backlot(
        "docs",
        "build",
        org,
        "--config",
        tmp_path / "backlot.yaml",
        "--out",
        tmp_path / "docs",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    site = tmp_path / "docs/default/component/brand"
    html = (site / "index.html").read_text()
    assert 'src="https://cdn.acme.com/logo.png"' in html
    assert "elsewhere.example" not in html
    assert (site / "brand.css").is_file() and 'href="brand.css"' in html
    assert "img-src 'self' data: https://cdn.acme.com;" in html
    # Without the setting: the same tree loads nothing from that host.
    done = run_backlot("docs", "build", org, "--out", tmp_path / "plain", cwd=org)
    plain = (tmp_path / "plain/default/component/brand/index.html").read_text()
    assert (
        "cdn.acme.com" not in plain
        and not (tmp_path / "plain/default/component/brand/brand.css").exists()
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("security:\n  allowed_hosts: ['evil.example/x\"><script>']\n")
    refused = run_backlot("docs", "build", org, "--config", bad, cwd=tmp_path)
    assert refused.returncode != 0 and "is not a host name" in refused.stderr


def test_names_of_files_and_folders_reach_the_page_as_text(tmp_path: Path) -> None:
    """MkDocs names a page without a heading after its file, and a section after its
    folder, and the theme prints both as they are (the <title> through striptags)."""
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs(
                "names",
                "site_name: Names\nrepo_url: https://github.com/acme/names\n"
                "edit_uri: edit/main/docs/\n",
                {
                    'docs/"><b id=from-file>x.md': "no heading\n",
                    "docs/<b id=from-folder>Section/page.md": "no heading either\n",
                    "docs/&lt;&#x2f;title&gt;&lt;b id=from-title&gt;.md": "nor here\n",
                },
            ),
        },
    )
    code, output, _ = build_docs(org, tmp_path / "docs")
    assert code == 0, output
    pages = list((tmp_path / "docs/default/component/names").rglob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        text = page.read_text()
        for live in ("<b id=from", "</title><"):  # MkDocs makes "-" a space in these names
            assert live not in text, (page, live)
    index = (tmp_path / "docs/default/component/names/index.html").read_text()
    assert "&lt;b id=from folder&gt;Section" in index
