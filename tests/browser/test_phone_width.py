"""Every page of the example portal at phone width (375 by 812): nothing wider than the screen,
and a ``<main>`` landmark. The same visits check that pages load clean: no script errors, no
console errors (a missing asset is one), no request beyond the serving origin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_tree

from .conftest import (
    ALL_EVENTS,
    PHONE,
    GuardedPage,
    GuardedPageFactory,
    Serve,
    html_pages,
    open_guarded_page,
    page_url,
)

MAX_WIDTH = PHONE["width"] + 1
MEASURE = """
() => {
  const doc = document.documentElement;
  const limit = innerWidth + 1;
  const wide = [];
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  if (doc.scrollWidth > limit && document.body) {
    for (const el of document.body.querySelectorAll('*')) {
      const style = getComputedStyle(el);
      if (style.position === 'fixed') continue;
      const box = el.getBoundingClientRect();
      const parent = el.parentElement ? el.parentElement.getBoundingClientRect() : null;
      if (box.right > limit && (!parent || parent.right <= limit)) {
        wide.push(`${describe(el)} is ${Math.round(box.width)}px wide`);
      } else if (box.right <= limit && style.overflowX === 'visible' &&
                 box.left + el.scrollWidth > limit && el.scrollWidth > el.clientWidth + 1) {
        wide.push(`${describe(el)}'s content is ${el.scrollWidth}px wide`);
      }
      if (wide.length >= 3) break;
    }
  }
  return {
    scrollWidth: doc.scrollWidth,
    main: document.querySelector('main, [role=main]') !== null,
    wide,
  };
}
"""


@dataclass
class PhoneResult:
    page: str
    scroll_width: int
    has_main: bool
    wide: list[str]

    def problems(self) -> list[str]:
        found = []
        if self.scroll_width > MAX_WIDTH:
            culprits = f" — widest: {', '.join(self.wide)}" if self.wide else ""
            found.append(f"scrollWidth {self.scroll_width}px > {MAX_WIDTH}px{culprits}")
        if not self.has_main:
            found.append("no <main> landmark")
        return found


def visit_at_phone_width(site: Path, base_url: str, guard: GuardedPage) -> list[PhoneResult]:
    results = []
    for relative in html_pages(site):
        guard.visit(page_url(base_url, relative), label=relative, settle_ms=0)
        try:
            measured: dict[str, Any] = guard.page.evaluate(MEASURE)
        except Exception as exc:
            guard.record("navigation", f"could not measure: {exc}")
            continue
        results.append(
            PhoneResult(
                relative, int(measured["scrollWidth"]), bool(measured["main"]), measured["wide"]
            )
        )
    return results


def phone_failures(results: list[PhoneResult]) -> str:
    bad = [(r.page, r.problems()) for r in results if r.problems()]
    lines = [f"{len(bad)} of {len(results)} page(s) fail at {PHONE['width']}px:"]
    for page, problems in bad:
        lines += [f"  {page}"] + [f"    - {p}" for p in problems]
    return "\n".join(lines) if bad else ""


@pytest.fixture(scope="module")
def example_visits(
    example_site: Path, serve: Serve, browser: Any
) -> tuple[list[PhoneResult], GuardedPage]:
    """Every page of the example portal, served below /portal/, opened once at 375 by 812."""
    base_url = serve(example_site, prefix="/portal/")
    guard = open_guarded_page(browser, allowed_origin=base_url, viewport=PHONE)
    try:
        return visit_at_phone_width(example_site, base_url, guard), guard
    finally:
        guard.close()


def test_every_page_fits_a_phone_and_has_main(
    example_visits: tuple[list[PhoneResult], GuardedPage],
) -> None:
    results, _ = example_visits
    assert len(results) >= 50, f"only {len(results)} pages measured"
    failures = phone_failures(results)
    assert not failures, failures


def test_every_page_loads_clean(example_visits: tuple[list[PhoneResult], GuardedPage]) -> None:
    """Served below /portal/: an absolute asset path or a CDN shows up here."""
    _, guard = example_visits
    guard.assert_clean(ALL_EVENTS)


def test_the_measure_can_fail(
    tmp_path: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    viewport = '<meta name="viewport" content="width=device-width, initial-scale=1">'
    site = write_tree(
        tmp_path / "site",
        {
            "index.html": f"{viewport}<main><p>fits</p></main>",
            "wide/index.html": f'{viewport}<main><pre id="code">{"x" * 300}</pre></main>',
            "nomain/index.html": f"{viewport}<div>no landmark</div>",
            "fixed/index.html": f'{viewport}<main style="overflow-x:auto"><table><tr><td>'
            f"{'y' * 300}</td></tr></table></main>",
        },
    )
    base_url = serve(site)
    guard = guarded_page(allowed_origin=base_url, viewport=PHONE)
    results = {r.page: r for r in visit_at_phone_width(site, base_url, guard)}
    assert results["index.html"].problems() == []
    assert results["fixed/index.html"].problems() == []
    assert results["nomain/index.html"].problems() == ["no <main> landmark"]
    (wide,) = results["wide/index.html"].problems()
    assert wide.startswith("scrollWidth") and "pre#code" in wide, wide
    assert "wide/index.html" in phone_failures(list(results.values()))
    guard.assert_clean()
