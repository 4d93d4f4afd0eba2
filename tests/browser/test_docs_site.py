"""The portal and its docs as one site, in Chromium: the docs carry the portal's header,
sections and footer, follow the system's light or dark mode as the portal does, and
their navigation leads to pages from disk, over HTTP below any prefix, and on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import EXAMPLES

from .conftest import (
    ALL_EVENTS,
    PHONE,
    GuardedPage,
    GuardedPageFactory,
    Serve,
    build_site,
)

TITLE = "Acme Books Portal"
SITE = "docs/default/component/orders-service/"
SECTIONS = [
    ("Home", "index.html"),
    ("Catalog", "catalog/index.html"),
    ("Docs", "documentation/index.html"),
    ("Templates", "templates/index.html"),
    ("Health", "health/index.html"),
    ("Problems", "problems/index.html"),
    ("About", "about/index.html"),
]
PREFIX = "/cdn/portal/"
INDIGO = "rgb(64, 81, 181)"  # Material's indigo, #4051b5: the portal's header too


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example organisation's portal, its title set in backlot.yaml."""
    folder = tmp_path_factory.mktemp("docs-site")
    (folder / "backlot.yaml").write_text(f"site:\n  title: {TITLE}\n", "utf-8")
    return build_site(EXAMPLES, folder / "site")


def header(guard: GuardedPage) -> dict[str, Any]:
    return guard.page.evaluate(
        """() => {
            const brand = document.querySelector('.md-header .backlot-brand');
            const links = [...document.querySelectorAll('.md-header .backlot-sections a')];
            return {
                brand: brand && {text: brand.textContent.trim(), href: brand.href},
                sections: links.map(a => [a.textContent.trim(), a.href]),
                current: links.filter(a => a.hasAttribute('aria-current'))
                    .map(a => a.textContent.trim()),
                footer: [...document.querySelectorAll('.md-footer-meta a')]
                    .map(a => [a.textContent.trim(), a.href]),
            };
        }"""
    )


def colours(guard: GuardedPage) -> dict[str, str]:
    return guard.page.evaluate(
        """() => {
            const bar = document.querySelector('.md-header, header.top');
            return {
                scheme: document.body.getAttribute('data-md-color-scheme') || '',
                bar: getComputedStyle(bar).backgroundColor,
                page: getComputedStyle(document.body).backgroundColor,
            };
        }"""
    )


def failed_loads(guard: GuardedPage) -> list[str]:
    """Every response of 400 or more, and every request that failed, from now on."""
    found: list[str] = []
    guard.page.on(
        "response",
        lambda r: found.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    guard.page.on("requestfailed", lambda r: found.append(f"failed {r.url}"))
    return found


def test_docs_carry_the_portals_header_sections_and_footer(
    portal: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """Below a prefix, as a CDN may publish the portal: the header names the portal and
    links its sections (Docs current), the footer the entity and "About this build", each
    to a page that is there; all inside .md-header and the footer, loaded from the portal
    only, and the page's Content-Security-Policy is the first thing in its head."""
    base = serve(portal, prefix=PREFIX)
    guard = guarded_page(allowed_origin=base)
    failed = failed_loads(guard)
    guard.visit(f"{base}{SITE}architecture/")
    found = header(guard)
    assert found["brand"] == {"text": TITLE, "href": f"{base}index.html"}, found
    assert found["sections"] == [[name, base + path] for name, path in SECTIONS], found
    assert found["current"] == ["Docs"]
    assert found["footer"] == [
        ["Orders Service", f"{base}catalog/default/component/orders-service/index.html"],
        ["About this build", f"{base}about/index.html"],
    ]
    first = guard.page.evaluate(
        "() => { const m = document.head.firstElementChild;"
        " return [m.tagName, m.getAttribute('http-equiv')]; }"
    )
    assert first == ["META", "Content-Security-Policy"]
    hrefs = [found["brand"]["href"], *(h for _, h in found["sections"] + found["footer"])]
    for href in hrefs:
        assert guard.page.request.get(href).status == 200, href
    # The portal's own pages and the docs' share the bar: same colour, same title.
    guard.visit(f"{base}catalog/index.html")
    assert colours(guard)["bar"] == INDIGO
    assert guard.page.locator("header .brand").inner_text() == TITLE
    assert not failed, failed
    guard.assert_clean(ALL_EVENTS)


def test_docs_navigation_from_disk_reaches_pages(
    portal: Path, guarded_page: GuardedPageFactory
) -> None:
    """Opened from file://, every link of every docs page (404 page included) names a file,
    and clicking through the docs' navigation, the header's sections, the footer's prev
    and next and the portal's way back gives pages, never a folder's listing."""
    guard = guarded_page()
    docs = portal / SITE
    pages = sorted(docs.rglob("*.html"))
    assert len(pages) >= 4
    for page in pages:
        guard.visit(page.as_uri(), label=page.relative_to(portal).as_posix())
        hrefs = guard.page.eval_on_selector_all(
            "a[href]",
            "as => as.map(a => a.href).filter(h => h.startsWith('file:'))",
        )
        assert hrefs, page
        for href in hrefs:
            target = Path(unquote(urlsplit(href).path))
            if not target.is_file():
                guard.record("link", f"{href} is not a file (a folder opens as a listing)")

    def follow(selector: str, expected: str, heading: str) -> None:
        guard.page.locator(selector).first.click()
        guard.page.wait_for_load_state("load")
        url = guard.page.url
        assert url == (portal / expected).as_uri(), (selector, url)
        assert not guard.page.title().startswith("Index of"), url
        assert heading in guard.page.locator("h1").first.inner_text(), (selector, url)

    guard.visit((docs / "index.html").as_uri())
    follow(".md-nav--primary a:has-text('Architecture')", f"{SITE}architecture/index.html", "Arch")
    follow("a.md-footer__link--next", f"{SITE}runbook/index.html", "Runbook")
    follow("a.md-footer__link--prev", f"{SITE}architecture/index.html", "Architecture")
    follow(".md-nav--primary a:has-text('Overview')", f"{SITE}index.html", "Orders Service")
    follow(".backlot-sections a:has-text('Catalog')", "catalog/index.html", "Catalog")
    guard.page.go_back()
    entity = "catalog/default/component/orders-service/index.html"
    follow(".md-footer-meta a.backlot-portal-link", entity, "Orders Service")
    guard.visit((docs / "404.html").as_uri())
    follow("article a:has-text('its first page')", f"{SITE}index.html", "Orders Service")
    guard.visit((docs / "404.html").as_uri())
    follow("article a:has-text('list of documentation')", "documentation/index.html", "")
    guard.visit((docs / "runbook/index.html").as_uri())
    follow(".backlot-brand", "index.html", TITLE)
    guard.assert_clean(ALL_EVENTS | {"link"})


def test_the_docs_404_page_works_below_a_prefix(
    portal: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """MkDocs writes the 404 page's links from the server's root (/assets/…, /), which
    below a prefix is nothing; here every asset loads and every link leads to a page."""
    base = serve(portal, prefix=PREFIX)
    guard = guarded_page(allowed_origin=base)
    failed = failed_loads(guard)
    guard.visit(f"{base}{SITE}404.html")
    assert colours(guard)["bar"] == INDIGO  # Material's stylesheet and Backlot's loaded
    assert guard.page.evaluate("() => typeof window.__md_scope") == "object"  # scripts ran
    hrefs = guard.page.eval_on_selector_all(
        "a[href]", "as => as.map(a => a.href).filter(h => h.startsWith('http://127.0.0.1'))"
    )
    assert f"{base}{SITE}index.html" in hrefs and f"{base}documentation/index.html" in hrefs
    for href in sorted(set(hrefs)):
        assert href.startswith(base), href
        response = guard.page.request.get(href)
        assert response.status == 200 and href.split("#")[0].endswith(".html"), href
    assert not failed, failed
    guard.assert_clean(ALL_EVENTS)


def test_docs_follow_the_systems_light_or_dark_mode_as_the_portal_does(
    portal: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """Material's light scheme or its slate, whichever the system asks for: at once, when
    the setting changes while the page is open, and after a reload (no stored choice wins).
    The docs' bar and page colours are the portal's in both modes, with no inline script
    (the Content-Security-Policy would stop it) and nothing loaded from elsewhere."""
    base = serve(portal, prefix=PREFIX)
    guard = guarded_page(allowed_origin=base)
    page = guard.page
    docs, home = f"{base}{SITE}architecture/", f"{base}index.html"

    def seen(url: str) -> dict[str, str]:
        guard.visit(url)
        return colours(guard)

    page.emulate_media(color_scheme="light")
    light_portal, light_docs = seen(home), seen(docs)
    assert light_docs["scheme"] == "default"
    page.emulate_media(color_scheme="dark")
    # Polled from here: a predicate polled in the page is compiled there, which the
    # pages' policy (no 'unsafe-eval') refuses.
    for _ in range(50):
        if page.evaluate("document.body.dataset.mdColorScheme") == "slate":
            break
        page.wait_for_timeout(100)
    dark_docs = colours(guard)
    dark_portal, reloaded = seen(home), seen(docs)
    assert reloaded == dark_docs and dark_docs["scheme"] == "slate"
    page.emulate_media(color_scheme="light")
    assert seen(docs) == light_docs  # the scheme stored while dark did not stick
    for mode, portal_colours, docs_colours in (
        ("light", light_portal, light_docs),
        ("dark", dark_portal, dark_docs),
    ):
        assert docs_colours["bar"] == portal_colours["bar"] == INDIGO, mode
        assert docs_colours["page"] == portal_colours["page"], mode
    assert light_docs["page"] != dark_docs["page"]
    guard.assert_clean(ALL_EVENTS)


def test_docs_on_a_phone_and_a_desktop(
    portal: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """On a desktop the portal's title, its sections and the docs' name share one bar;
    on a phone the sections get a row of their own below it, scrolling sideways, and
    nothing makes the page wider than the screen."""
    base = serve(portal, prefix=PREFIX)
    layout = """() => {
        const box = s => { const r = document.querySelector(s).getBoundingClientRect();
                           return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
        const row = document.querySelector('.backlot-sections');
        return {
            header: box('.md-header'), brand: box('.backlot-brand'),
            sections: box('.backlot-sections'), title: box('.md-header__title'),
            docs: box('.backlot-sections [aria-current]'),
            menu: getComputedStyle(document.querySelector('.md-header label[for=__drawer]'))
                .display,
            scrolls: row.scrollWidth > row.clientWidth,
            overflow: document.documentElement.scrollWidth - window.innerWidth,
        };
    }"""
    desktop = guarded_page(allowed_origin=base)
    desktop.visit(f"{base}{SITE}architecture/")
    wide = desktop.page.evaluate(layout)
    top, bottom = wide["header"]["top"], wide["header"]["bottom"]
    assert bottom - top == pytest.approx(48, abs=1), wide  # one row, Material's height
    for part in ("brand", "sections", "title"):
        assert top <= wide[part]["top"] and wide[part]["bottom"] <= bottom, (part, wide)
    assert wide["brand"]["right"] <= wide["sections"]["left"] < wide["title"]["left"], wide
    assert wide["menu"] == "none" and wide["overflow"] <= 0, wide
    phone = guarded_page(allowed_origin=base, viewport=PHONE)
    phone.visit(f"{base}{SITE}architecture/")
    narrow = phone.page.evaluate(layout)
    assert narrow["sections"]["top"] >= narrow["brand"]["bottom"] - 1, narrow
    assert narrow["sections"]["bottom"] <= narrow["header"]["bottom"] + 1, narrow
    assert narrow["menu"] != "none" and narrow["overflow"] <= 0, narrow
    assert narrow["docs"]["left"] >= 0 and narrow["docs"]["right"] <= PHONE["width"], narrow
    # All six sections fit 375 px (no "Abo…" cut at the edge); a longer row would scroll.
    last = phone.page.locator(".backlot-sections li:last-child a").bounding_box()
    assert narrow["scrolls"] or last["x"] + last["width"] <= PHONE["width"], (last, narrow)
    about = phone.page.locator(".backlot-sections a:has-text('About')")
    about.scroll_into_view_if_needed()
    about.click()
    phone.page.wait_for_load_state("load")
    assert phone.page.url == f"{base}about/index.html"
    for guard in (desktop, phone):
        guard.assert_clean(ALL_EVENTS)
