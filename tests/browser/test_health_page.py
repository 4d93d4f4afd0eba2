"""The Health page in Chromium, at 1280 and 390 px: it loads clean (no CSP violation from its
inline SVG charts, no script errors), fits the screen, draws a chart per figure, and is
reached from the nav and the home page."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ALL_EVENTS, GuardedPageFactory, Serve

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

LAYOUT = """() => {
  const charts = [...document.querySelectorAll('.health-card svg.spark')];
  const cards = [...document.querySelectorAll('.health-card')].map(c => c.getBoundingClientRect());
  return {
    overflow: document.documentElement.scrollWidth - innerWidth,
    charts: charts.length,
    drawn: charts.filter(s => s.getBoundingClientRect().width > 40).length,
    stroke: charts.length ? getComputedStyle(charts[0].querySelector('.spark-dot')).fill : '',
    columns: new Set(cards.map(r => Math.round(r.left))).size,
    current: document.querySelector('header.top [aria-current=page]')?.textContent,
  };
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_health_page_in_chromium(
    example_site: Path,
    serve: Serve,
    guarded_page: GuardedPageFactory,
    viewport: dict[str, int],
    tmp_path: Path,
) -> None:
    base = serve(example_site)
    guard = guarded_page(allowed_origin=base, viewport=viewport)
    guard.visit(f"{base}index.html")
    guard.page.click("main a[href='health/index.html']")
    guard.page.wait_for_load_state("load")
    assert guard.page.url == f"{base}health/index.html"
    found = guard.page.evaluate(LAYOUT)
    assert found["overflow"] <= 1, found
    assert found["charts"] >= 8 and found["drawn"] == found["charts"], found
    assert found["stroke"] not in ("", "rgb(0, 0, 0)"), found  # coloured by the stylesheet
    assert found["current"] == "Health", found
    assert found["columns"] >= (2 if viewport is PHONE else 4), found
    guard.page.screenshot(path=str(tmp_path / f"health-{viewport['width']}.png"), full_page=True)
    guard.assert_clean(ALL_EVENTS)
