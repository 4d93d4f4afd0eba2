"""The link checker can fail (handmade trees), and the built example portal has no broken link."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_tree

from .linkcheck import check_site, find_broken_links

PAGE = "<!doctype html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


def page(body: str, head: str = "") -> str:
    return PAGE.format(head=head, body=body)


GOOD = {
    "index.html": page(
        '<a href="catalog/">catalog</a> <a href="about/index.html#team">team</a>'
        '<a href="#top">top</a> <a href="#">nothing</a> <a href="#intro" id="x">me</a>'
        '<h2 id="intro">Intro</h2><a href="https://example.com/missing">out</a>'
        '<a href="mailto:a@example.com">mail</a> <img src="static/logo.svg" alt="">'
        '<a href="catalog/default/component/Foo.Bar_Baz%20x/?q=1#main">percent</a>'
        '<img srcset="static/logo.svg 1x, static/logo.svg 2x" alt="">'
        '<svg><a href="about/"><text>svg link</text></a></svg>',
        head='<link rel="stylesheet" href="static/site.css"><script src="static/app.js"></script>',
    ),
    "catalog/index.html": page('<a href="../">home</a> <a href="../about/#team">team</a>'),
    "catalog/default/component/Foo.Bar_Baz x/index.html": page('<main id="main"></main>'),
    "about/index.html": page('<a name="team"></a><a href="../index.html">home</a>'),
    "static/site.css": "body { background: url('logo.svg'); } /* url(nothere.png) */",
    "static/app.js": "console.log('hi')",
    "static/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
}


def test_a_good_tree_passes(tmp_path: Path) -> None:
    report = check_site(write_tree(tmp_path / "site", GOOD))
    assert report.broken == [], report.summary()
    assert report.pages_checked == 4
    assert report.links_checked == 18


def test_every_kind_of_broken_link_is_found(tmp_path: Path) -> None:
    bad = {
        **GOOD,
        "index.html": page(
            '<a href="catalog/">ok</a>\n'
            '<a href="nowhere/">missing folder</a>\n'
            '<a href="about/missing.html">missing file</a>\n'
            '<a href="#nope">missing fragment here</a>\n'
            '<a href="about/#nobody">missing fragment there</a>\n'
            '<a href="about">folder without slash</a>\n'
            '<a href="/catalog/">root-relative</a>\n'
            '<a href="../outside/">leaves the site</a>\n'
            '<a href="file:///etc/passwd">file URL</a>\n'
            '<img srcset="static/logo.svg 1x, static/big.png 2x" alt="">\n'
            '<svg><a href="gone/"><text>svg</text></a></svg>\n',
            head='<script src="static/missing.js"></script>',
        ),
        "static/site.css": "@import 'theme.css';\nbody { background: url(logo.svg) }",
        # an entity's graph, a file beside its page: its nodes' links are the page's
        "catalog/relations.svg": '<svg xmlns="http://www.w3.org/2000/svg">'
        '<a href="index.html"><text>ok</text></a>'
        '<a href="gone/index.html"><text>x</text></a></svg>',
    }
    broken = find_broken_links(write_tree(tmp_path / "site", bad))
    found = {(link.page, link.url) for link in broken}
    assert found == {
        ("index.html", "nowhere/"),
        ("index.html", "about/missing.html"),
        ("index.html", "#nope"),
        ("index.html", "about/#nobody"),
        ("index.html", "about"),
        ("index.html", "/catalog/"),
        ("index.html", "../outside/"),
        ("index.html", "file:///etc/passwd"),
        ("index.html", "static/big.png"),
        ("index.html", "gone/"),
        ("index.html", "static/missing.js"),
        ("static/site.css", "theme.css"),
        ("catalog/relations.svg", "gone/index.html"),
    }, "\n".join(map(str, broken))
    by_url = {link.url: link for link in broken}
    assert by_url["#nope"].line == 4
    assert "id 'nobody'" in by_url["about/#nobody"].reason
    assert "trailing '/'" in by_url["about"].reason


def test_a_missing_page_breaks_the_links_to_it(tmp_path: Path) -> None:
    site = write_tree(tmp_path / "site", GOOD)
    (site / "about" / "index.html").unlink()
    broken = find_broken_links(site)
    assert {(link.page, link.url) for link in broken} == {
        ("index.html", "about/index.html#team"),
        ("index.html", "about/"),
        ("catalog/index.html", "../about/#team"),
    }


def test_the_example_portal_has_no_broken_link(example_site: Path) -> None:
    report = check_site(example_site)
    assert report.pages_checked >= 50, f"only {report.pages_checked} pages in {example_site}"
    assert not report.broken, report.summary()
