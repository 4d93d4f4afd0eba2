"""Links in the portal's docs: every one names a file (so the docs work from disk), and a
Markdown link to a page or anchor that does not exist is a warning naming where it is."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from generator.docs._links import index_links, with_index

from .conftest import GROUP_A, run_backlot, write_tree
from .test_docs import build_docs, repo_with_docs

HREF = re.compile(r'<(?:a|link)\s[^>]*?\bhref="([^"]*)"', re.IGNORECASE)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("guide/", "guide/index.html"),
        ("guide/#setup", "guide/index.html#setup"),
        ("guide/?q=1#x", "guide/index.html?q=1#x"),
        ("..", "../index.html"),
        ("../", "../index.html"),
        ("../../other/", "../../other/index.html"),
        (".", "./index.html"),
        ("./", "./index.html"),
        ("./.", "./index.html"),
        ("./../../../../catalog/", "../../../../catalog/index.html"),
        # Files, anchors, other sites, the server's root: as they are.
        ("guide/index.html", "guide/index.html"),
        ("#setup", "#setup"),
        ("?q=1", "?q=1"),
        ("", ""),
        ("assets/logo.png", "assets/logo.png"),
        ("guide", "guide"),
        ("https://example.com/docs/", "https://example.com/docs/"),
        ("//example.com/docs/", "//example.com/docs/"),
        ("mailto:team@example.com", "mailto:team@example.com"),
        ("/absolute/", "/absolute/"),
    ],
)
def test_a_link_to_a_folder_names_its_index_html(url: str, expected: str) -> None:
    assert with_index(url) == expected


def test_only_href_of_links_is_rewritten() -> None:
    page = (
        '<link rel="next" href="guide/"><link rel="stylesheet" href="assets/x.css">'
        '<a class="md-nav__link" href="../">Home</a><img src="pics/"> '
        '<a title="x &quot;href=&quot;y/&quot;" href="z/">t</a>'
        '<pre><code>&lt;a href="raw/"&gt;</code></pre> text href="text/"'
    )
    assert index_links(page) == (
        '<link rel="next" href="guide/index.html"><link rel="stylesheet" href="assets/x.css">'
        '<a class="md-nav__link" href="../index.html">Home</a><img src="pics/"> '
        '<a title="x &quot;href=&quot;y/&quot;" href="z/index.html">t</a>'
        '<pre><code>&lt;a href="raw/"&gt;</code></pre> text href="text/"'
    )


NESTED = {
    "mkdocs.yml": (
        "site_name: Handbook\n"
        "nav:\n  - Home: index.md\n  - Guide: guide.md\n  - Ops: ops/index.md\n"
        "  - Deep: ops/deep/page.md\n"
    ),
    "docs/index.md": "# Home\n\n[Guide](guide.md), [ops](ops/index.md), [setup](guide.md#setup).\n",
    "docs/guide.md": "# Guide\n\n## Setup\n\nBack [home](index.md), [deep](ops/deep/page.md).\n",
    "docs/ops/index.md": "# Ops\n\n[Up](../index.md) and [the built folder](deep/page/).\n",
    "docs/ops/deep/page.md": "# Deep\n\n[Ops](../index.md), [guide](../../guide.md#setup).\n",
}


def test_every_link_of_the_portals_docs_names_a_file(tmp_path: Path) -> None:
    """From file:// a link to ``guide/`` opens the folder's listing, not the page. In the
    built portal every link of every docs page, 404 page included, names a file that
    exists: pages, the portal's sections, the entity's page, assets."""
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, **repo_with_docs("handbook", None, NESTED)},
    )
    site = tmp_path / "site"
    done = run_backlot("build", org, "-o", site, "--cache-dir", tmp_path / "cache")
    assert done.returncode == 0, done.stdout + done.stderr
    docs = site / "docs/default/component/handbook"
    pages = sorted(docs.rglob("*.html"))
    assert {p.relative_to(docs).as_posix() for p in pages} >= {
        "index.html",
        "404.html",
        "guide/index.html",
        "ops/index.html",
        "ops/deep/page/index.html",
    }
    checked = 0
    problems = []
    for page in pages:
        for href in HREF.findall(page.read_text("utf-8")):
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            checked += 1
            target = page.parent / unquote(parts.path)
            if not target.is_file():
                problems.append(f"{page.relative_to(site)}: {href} is not a file")
    assert not problems, "\n".join(problems)
    assert checked > 100
    # The portal's sections and the way back to the entity, from a page three levels down.
    deep = (docs / "ops/deep/page/index.html").read_text("utf-8")
    for section in ("index.html", "catalog/index.html", "documentation/index.html"):
        assert f'href="../../../../../../../{section}"' in deep, section
    assert 'href="../../../../../../../catalog/default/component/handbook/index.html"' in deep


def test_broken_links_are_warnings_naming_the_file_line_and_link(tmp_path: Path) -> None:
    """A link to a page or anchor that does not exist, an absolute link, a nav entry for a
    missing page: each is a docs/broken-link warning of its site (file, line, the link as
    written), printed by the build; links that work are not, and the site is built."""
    pages = {
        "mkdocs.yml": (
            "site_name: Svc\nnav:\n  - Home: index.md\n  - Guide: guide.md\n"
            "  - Gone: gone.md\n  - Sub: sub/index.md\n"
            # A repository cannot silence the portal's check.
            "validation:\n  links:\n    not_found: ignore\n    anchors: ignore\n"
        ),
        "docs/index.md": (
            "# Home\n"
            "\n"
            "See the [guide](guide.md) and the [missing page](missing.md).\n"
            "\n"
            "A [bad anchor](guide.md#nowhere) and a [good one](guide.md#setup).\n"
            "\n"
            "Here: [self](#nope), [absolute](/runbook/), [folder](sub/), [bad](nothere/).\n"
            "\n"
            "[ref link][r] and [out of the site](../../other-site/).\n"
            "\n"
            "[r]: other-missing.md\n"
        ),
        "docs/guide.md": "# Guide\n\n## Setup\n\nBack [home](index.md).\n",
        "docs/sub/index.md": (
            "---\ntitle: Sub\n---\n\n# Sub\n\n[up](../index.md)\n\n[x](../nope.md)\n"
        ),
    }
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, **repo_with_docs("svc", None, pages)},
    )
    code, output, report = build_docs(org, tmp_path / "docs")
    assert code == 0, output
    site = report["sites"]["component:default/svc"]
    assert site["status"] == "built"
    found = [
        (w["file"], w["line"], w["target"])
        for w in site["warnings"]
        if w["rule"] == "docs/broken-link"
    ]
    assert found == [
        ("mkdocs.yml", 5, "gone.md"),
        ("index.md", 3, "missing.md"),
        ("index.md", 5, "guide.md#nowhere"),
        ("index.md", 7, "#nope"),
        ("index.md", 7, "/runbook/"),
        ("index.md", 7, "nothere/"),
        ("index.md", 11, "other-missing.md"),
        ("sub/index.md", 9, "../nope.md"),  # the line in the file, front matter counted
    ], json.dumps(site["warnings"], indent=1)
    messages = {w["target"]: w["message"] for w in site["warnings"] if w.get("target")}
    assert "'guide.md' has no heading or anchor '#nowhere'" in messages["guide.md#nowhere"]
    assert "this page has no heading or anchor '#nope'" in messages["#nope"]
    assert "server's root" in messages["/runbook/"]
    assert "not a page of the docs" in messages["gone.md"]
    assert "warning: component:default/svc: index.md:3: docs/broken-link: broken link " in output
    # MkDocs' own words about these links are not repeated as docs/mkdocs warnings.
    assert not [w for w in site["warnings"] if w["rule"] == "docs/mkdocs"], site["warnings"]
    page = tmp_path / "docs/default/component/svc/index.html"
    assert page.is_file() and "missing page" in page.read_text("utf-8")


def test_many_broken_links_are_counted_not_listed(tmp_path: Path) -> None:
    body = "# Home\n\n" + "".join(f"[l{i}](missing-{i}.md)\n" for i in range(250))
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs("svc", None, {"docs/index.md": body}),
        },
    )
    code, output, report = build_docs(org, tmp_path / "docs")
    assert code == 0, output
    warnings = report["sites"]["component:default/svc"]["warnings"]
    broken = [w for w in warnings if w["rule"] == "docs/broken-link"]
    assert len(broken) == 201
    assert broken[0]["target"] == "missing-0.md" and broken[0]["line"] == 3
    assert broken[-1]["message"] == "and 50 more broken links not listed"


def test_a_folder_link_of_the_page_is_judged_by_the_built_site(tmp_path: Path) -> None:
    """``setup/`` has no ``.md`` for MkDocs to check: it is looked for in the built site."""
    pages = {
        "docs/index.md": "# Home\n\n[a](guide/) [b](guide/#setup) [c](nothing/) [d](img/)\n",
        "docs/guide.md": "# Guide\n\n## Setup\n",
        "docs/img/index.png": b"\x89PNG\r\n\x1a\n",
    }
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, **repo_with_docs("svc", None, pages)},
    )
    code, output, report = build_docs(org, tmp_path / "docs")
    assert code == 0, output
    broken = [
        posixpath.basename(w["target"].rstrip("/"))
        for w in report["sites"]["component:default/svc"]["warnings"]
        if w["rule"] == "docs/broken-link"
    ]
    assert broken == ["img", "nothing"]  # no page in img/: a 404 over HTTP, a listing on disk
