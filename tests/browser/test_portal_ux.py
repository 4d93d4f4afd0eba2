"""What a reader of the portal relies on, seen in Chromium: tables that never split a word,
graphs readable on the card and pannable full size on a phone, catalog filters that live in
the URL (shared, reloaded, reached by Back), a kind's page that stays in its kind, owner
links in filtered rows, "Owned by my teams", sortable columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Serve

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Every text token of every table cell: a token drawn on two lines was split inside a word.
# Tokens are split at spaces and at the places a browser may break anyway (after a hyphen
# or slash), so only a break inside a run of letters counts.
SPLIT_WORDS = """() => {
  const split = [];
  for (const td of document.querySelectorAll("main td")) {
    if (!td.getClientRects().length) continue;
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /[^\\s\\-\\u2010-\\u2014\\/.,:;()]+/g;
      let m;
      while ((m = re.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
        if (tops.size > 1) split.push(m[0]);
      }
    }
  }
  return split;
}"""

# The smallest rendered size, in CSS pixels, of the text drawn in the graphs matching
# ``selector`` (font size times the drawing's scale on screen).
SMALLEST_TEXT = """(selector) => {
  let smallest = Infinity;
  for (const svg of document.querySelectorAll(selector)) {
    const scale = svg.getScreenCTM().a;
    for (const text of svg.querySelectorAll("text")) {
      if (!text.textContent.trim()) continue;
      const size = parseFloat(getComputedStyle(text).fontSize);
      smallest = Math.min(smallest, size * scale);
    }
  }
  return smallest;
}"""

TABLE_PAGES = [
    "catalog/index.html",
    "catalog/_kinds/component/index.html",
    "catalog/default/group/team-fulfilment/index.html",
    "catalog/default/group/engineering/index.html",
    "catalog/default/system/checkout/index.html",
    "catalog/default/user/jane.doe/index.html",
    "catalog/default/component/orders-service/api/index.html",
]


@pytest.fixture
def desktop(browser: Any) -> Any:
    context = browser.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, has_touch=True)
    yield context.new_page()
    context.close()


def test_no_table_cell_splits_a_word_at_1280px(
    desktop: Any, example_site: Path, serve: Serve
) -> None:
    base = serve(example_site)
    for path in TABLE_PAGES:
        desktop.goto(base + path)
        assert desktop.locator("main td").count(), f"{path} has no table"
        assert desktop.evaluate(SPLIT_WORDS) == [], path
    # The rows the filter draws too.
    desktop.goto(base + "catalog/index.html")
    desktop.fill("#f-text", "a")
    desktop.wait_for_selector("[data-results] tbody tr")
    assert desktop.evaluate(SPLIT_WORDS) == []


def test_the_entity_card_graph_is_readable_at_1280px(
    desktop: Any, example_site: Path, serve: Serve
) -> None:
    base = serve(example_site)
    for path in (
        "catalog/default/component/orders-service/index.html",
        "catalog/default/group/team-fulfilment/index.html",
        "catalog/default/system/checkout/index.html",
    ):
        desktop.goto(base + path)
        desktop.locator(".card-graph svg.backlot-graph").wait_for()  # fetched into the page
        assert desktop.locator(".card-graph svg").count() == 1, path
        assert desktop.evaluate(SMALLEST_TEXT, ".card-graph svg") >= 11, path


def test_on_a_phone_the_graph_opens_full_size_and_pans(
    phone: Any, example_site: Path, serve: Serve
) -> None:
    phone.goto(serve(example_site) + "catalog/default/component/orders-service/index.html")
    with phone.expect_navigation():
        phone.locator("a.open-full").click()
    assert phone.url.endswith("/orders-service/dependencies/index.html")
    viewport = phone.locator("[data-graph-viewport]")
    phone.locator("[data-graph-viewport] svg.backlot-graph").wait_for()
    assert phone.evaluate(SMALLEST_TEXT, "[data-graph-viewport] svg") >= 11
    sizes = viewport.evaluate("v => [v.scrollWidth, v.clientWidth, v.scrollHeight]")
    assert sizes[0] > sizes[1] * 1.5, "the full-size graph is wider than the phone"
    # Drag to pan (a mouse or pen; a finger scrolls the frame natively).
    box = viewport.bounding_box()
    x, y = box["x"] + box["width"] * 0.8, box["y"] + min(box["height"] / 2, 200)
    phone.mouse.move(x, y)
    phone.mouse.down()
    phone.mouse.move(x - 200, y, steps=5)
    phone.mouse.up()
    assert viewport.evaluate("v => v.scrollLeft") >= 150
    # The zoom buttons: fit shows the whole drawing, actual size comes back.
    phone.locator("[data-zoom=fit]").click()
    assert viewport.evaluate("v => v.scrollWidth <= v.clientWidth + 1")
    phone.locator("[data-zoom=reset]").click()
    assert viewport.evaluate("v => v.scrollWidth") == sizes[0]


def _state(page: Any) -> tuple[str, str, str, list[str]]:
    return (
        page.input_value("#f-text"),
        page.input_value("#f-lifecycle"),
        page.input_value("#f-kind"),
        page.locator("[data-results] tbody td:first-child a").all_inner_texts(),
    )


def test_a_filtered_catalog_survives_reload_back_and_sharing(
    desktop: Any, browser: Any, example_site: Path, serve: Serve
) -> None:
    base = serve(example_site, "/portal/")
    desktop.goto(base + "catalog/index.html")
    desktop.select_option("#f-lifecycle", "production")
    desktop.fill("#f-text", "service")
    desktop.wait_for_selector("[data-results] tbody tr")
    filtered = _state(desktop)
    assert filtered[3] and "lifecycle=production" in desktop.url and "q=service" in desktop.url
    shared = desktop.url

    desktop.reload()
    desktop.wait_for_selector("[data-results] tbody tr")
    assert _state(desktop) == filtered

    with desktop.expect_navigation():
        desktop.locator("[data-results] tbody td:first-child a").first.click()
    desktop.go_back()
    desktop.wait_for_selector("[data-results] tbody tr")
    assert _state(desktop) == filtered and desktop.url == shared

    # The link, opened by someone else.
    other = browser.new_context(viewport=DESKTOP)
    try:
        page = other.new_page()
        page.goto(shared)
        page.wait_for_selector("[data-results] tbody tr")
        assert _state(page) == filtered
        # ?kind= opens the kind's page with the rest of the filter
        page.goto(base + "catalog/index.html?kind=Component&lifecycle=production")
        page.wait_for_url("**/catalog/_kinds/component/index.html?lifecycle=production")
        page.wait_for_selector("[data-results] tbody tr")
        assert page.input_value("#f-kind") == "Component"
        kinds = page.locator("[data-results] tbody td:nth-child(2)").all_inner_texts()
        assert kinds and set(kinds) == {"Component"}
    finally:
        other.close()


def test_a_kind_page_searches_within_its_kind_and_the_tabs_follow(
    desktop: Any, example_site: Path, serve: Serve
) -> None:
    base = serve(example_site)
    desktop.goto(base + "catalog/_kinds/api/index.html")
    assert desktop.input_value("#f-kind") == "API"
    # Its other selects offer the kind's own values, counted within it.
    types = desktop.locator("#f-type option").all_inner_texts()
    assert types[0] == "All (9)" and not any(t.startswith("service") for t in types)
    desktop.fill("#f-text", "order")
    desktop.wait_for_selector("[data-results] tbody tr")
    kinds = desktop.locator("[data-results] tbody td:nth-child(2)").all_inner_texts()
    assert kinds and set(kinds) == {"API"}  # "Orders Service", a Component, stays out
    # The kind tabs carry the query to the other kinds; the current tab is the kind's.
    assert desktop.locator("nav.kinds a[aria-current=page]").inner_text().startswith("API")
    component_tab = desktop.locator('nav.kinds a[data-kind="Component"]')
    assert component_tab.get_attribute("href").endswith("?q=order")
    with desktop.expect_navigation():
        component_tab.click()
    desktop.wait_for_selector("[data-results] tbody tr")
    assert desktop.input_value("#f-kind") == "Component"
    assert set(desktop.locator("[data-results] tbody td:nth-child(2)").all_inner_texts()) == {
        "Component"
    }


def test_filtered_rows_keep_owner_links_and_owned_by_my_teams(
    desktop: Any, example_site: Path, serve: Serve
) -> None:
    base = serve(example_site)
    desktop.goto(base + "catalog/default/group/team-payments/index.html")
    desktop.locator("[data-my-team]").click()
    assert desktop.locator("[data-my-team]").get_attribute("aria-pressed") == "true"

    desktop.goto(base + "catalog/index.html?show=owned")
    desktop.wait_for_selector("[data-results] tbody tr")
    owners = desktop.locator("[data-results] tbody td:nth-child(4)")
    assert set(owners.all_inner_texts()) == {"Team Payments"}  # its profile.displayName
    links = desktop.locator("[data-results] tbody td:nth-child(4) a")
    assert links.count() == owners.count()
    with desktop.expect_navigation():
        links.first.click()
    assert desktop.url.endswith("catalog/default/group/team-payments/index.html")


def test_columns_sort_when_their_heading_is_pressed(
    desktop: Any, example_site: Path, serve: Serve
) -> None:
    desktop.goto(serve(example_site) + "catalog/default/group/team-fulfilment/index.html")
    table = desktop.locator(".own-direct table")
    names = table.locator("tbody td:first-child").all_inner_texts()
    table.locator("thead th button", has_text="Name").click()
    ascending = table.locator("tbody td:first-child").all_inner_texts()
    assert ascending == sorted(names, key=str.casefold)
    table.locator("thead th button", has_text="Name").click()
    assert table.locator("tbody td:first-child").all_inner_texts() == ascending[::-1]
    # In the catalog, a heading sorts every entity, not only the page's hundred.
    desktop.goto(desktop.url.split("catalog/")[0] + "catalog/index.html")
    desktop.locator("[data-static-list] thead th button", has_text="Kind").click()
    desktop.wait_for_selector("[data-results] tbody tr")
    kinds = desktop.locator("[data-results] tbody td:nth-child(2)").all_inner_texts()
    assert kinds == sorted(kinds, key=str.casefold) and "sort=kind" in desktop.url


def test_no_match_says_so_and_offers_to_clear_the_filters(
    desktop: Any, example_site: Path, serve: Serve
) -> None:
    desktop.goto(serve(example_site) + "catalog/index.html")
    desktop.fill("#f-text", "no-such-entity-anywhere")
    desktop.wait_for_selector("[data-results] p.empty")
    assert "No entity matches" in desktop.locator("[data-results]").inner_text()
    with desktop.expect_navigation():
        desktop.locator("[data-clear]").click()
    assert "?" not in desktop.url and desktop.input_value("#f-text") == ""
    assert desktop.locator("[data-static-list] tbody tr").count() > 0
