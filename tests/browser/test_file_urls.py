"""The portal opened from disk (``file://``): pages load without errors or requests."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from .conftest import ALL_EVENTS, GuardedPageFactory, html_pages


def sample(site: Path) -> list[str]:
    """Every page outside the entity pages, and the first entity page of each kind."""
    pages = html_pages(site)
    chosen: dict[str, str] = {}
    for relative in pages:
        parts = relative.split("/")
        key = relative
        if parts[0] == "catalog" and len(parts) >= 4:  # catalog/<namespace>/<kind>/<name>/
            key = "/".join(parts[:2] if parts[1].startswith("_") else parts[:3])
        chosen.setdefault(key, relative)
    return sorted(set(chosen.values()))


def test_pages_load_clean_from_disk(example_site: Path, guarded_page: GuardedPageFactory) -> None:
    guard = guarded_page()
    pages = sample(example_site)
    assert "index.html" in pages and "catalog/index.html" in pages, pages
    for relative in pages:
        guard.visit((example_site / relative).as_uri(), label=relative)
        if guard.page.url.startswith("file:"):
            # Every internal link resolves to a file that exists (what the link checker checks,
            # here as the browser resolves them).
            hrefs = guard.page.eval_on_selector_all(
                "a[href]",
                "as => as.map(a => new URL(a.getAttribute('href'), document.baseURI).href)"
                ".filter(h => h.startsWith('file:'))",
            )
            for href in hrefs:
                target = Path(unquote(urlsplit(href).path))
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_file():
                    guard.record("link", f"{href} is no file")
    guard.assert_clean(ALL_EVENTS | {"link"})
