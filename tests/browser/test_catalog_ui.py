"""The portal in a real browser, as an engineer uses it: filter, find, follow the graph."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ..conftest import component, run_backlot
from ..git_http import bare_repository
from .conftest import Serve


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def option_count(page: Any, facet: str, value: str) -> int:
    text = page.locator(f"#f-{facet} option[value='{value}']").inner_text()
    match = re.search(r"\((\d+)\)$", text)
    assert match, text
    return int(match.group(1))


def visible_names(page: Any) -> list[str]:
    return page.locator("[data-results] tbody tr td:first-child a").all_inner_texts()


def test_filters_narrow_the_table_and_their_counts_match(
    page: Any, example_site: Path, serve: Serve
) -> None:
    catalog = json.loads((example_site / "catalog.json").read_text())
    components = [e for e in catalog["entities"] if e["kind"] == "Component"]
    page.goto(serve(example_site, "/portal/") + "catalog/index.html")
    assert option_count(page, "kind", "Component") == len(components)

    # Choosing a kind goes to that kind's own page: the tabs and the select agree.
    page.select_option("#f-kind", "Component")
    page.wait_for_url("**/catalog/_kinds/component/index.html")
    assert page.input_value("#f-kind") == "Component"
    assert page.locator("nav.kinds a[aria-current=page]").inner_text().startswith("Component")

    production = [c for c in components if c["spec"]["lifecycle"] == "production"]
    page.select_option("#f-lifecycle", "production")
    page.wait_for_selector("[data-results] tbody tr")
    assert page.locator("[data-static-list]").is_hidden()
    assert len(visible_names(page)) == len(production)
    status = page.locator("[data-status]").inner_text()
    assert status.startswith(f"{len(production)} of {len(components)} Component")
    # Counts for the other facets follow the current filter (the kind's included).
    assert option_count(page, "lifecycle", "production") == len(production)


def test_text_filter_finds_an_entity_and_its_link_works(
    page: Any, example_site: Path, serve: Serve
) -> None:
    page.goto(serve(example_site) + "catalog/index.html")
    page.fill("#f-text", "parcelgo")
    page.wait_for_selector("[data-results] tbody tr")
    assert (
        visible_names(page) == ["ParcelGo Carrier API"]
        or "parcelgo" in " ".join(visible_names(page)).lower()
    )
    page.locator("[data-results] tbody a").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/catalog/external/api/parcelgo-api/index.html")
    assert page.locator("h1").inner_text()


def test_clicking_a_graph_node_opens_that_entity(
    page: Any, example_site: Path, serve: Serve
) -> None:
    page.goto(serve(example_site) + "catalog/default/component/orders-service/index.html")
    node = page.locator("svg.backlot-graph g.node.kind-api a").first
    target = node.get_attribute("href")
    assert target and target.endswith("index.html")
    with page.expect_navigation():
        node.click()
    assert "/catalog/default/api/" in page.url
    # The graph is a file beside the page; script puts it in the page once fetched.
    page.locator("svg.backlot-graph g.node.focus").wait_for()
    assert page.locator("svg.backlot-graph g.node.focus").count() == 1


def test_the_portal_works_opened_from_disk(page: Any, example_site: Path) -> None:
    page.goto((example_site / "index.html").as_uri())
    with page.expect_navigation():
        page.get_by_role("link", name="Catalog", exact=True).first.click()
    page.select_option("#f-kind", "System")
    page.wait_for_url("**/catalog/_kinds/system/index.html")
    assert page.locator("[data-static-list] tbody tr").count() == 4
    page.fill("#f-text", "check")  # the rows load from disk too (script tags, not fetch)
    page.wait_for_selector("[data-results] tbody tr")
    assert visible_names(page) == ["Checkout"]
    with page.expect_navigation():
        page.locator("[data-results] tbody a", has_text="Checkout").first.click()
    assert page.url.endswith("catalog/default/system/checkout/index.html")
    # From disk the graphs cannot be fetched into the page: their pictures show, and open
    # the graph files, whose links work.
    picture = page.locator('a[data-graph] img[src="relations.svg"]')
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    assert picture.get_attribute("alt").startswith("Relations of Checkout:")


def test_starred_entities_appear_on_the_home_page(
    page: Any, example_site: Path, serve: Serve
) -> None:
    base = serve(example_site)
    page.goto(base + "catalog/default/component/orders-service/index.html")
    page.locator("[data-star]").click()
    assert page.locator("[data-star]").get_attribute("aria-pressed") == "true"
    page.goto(base + "index.html")
    starred = page.locator("[data-starred-list] a")
    assert starred.all_inner_texts() == ["Orders Service"]
    with page.expect_navigation():
        starred.first.click()
    assert page.url.endswith("catalog/default/component/orders-service/index.html")


def test_a_stale_entity_says_how_old_its_version_is(
    page: Any, tmp_path: Path, serve: Serve
) -> None:
    """A repository that could not be fetched: its page shows the version last read, when
    that was, and (worked out when the page is read) how long ago."""
    bare = bare_repository(tmp_path / "orders.git", {"catalog-info.yaml": component("orders")})
    work = tmp_path / "work"
    work.mkdir()
    (work / "backlot.yaml").write_text(
        f"catalog:\n  sources:\n    - type: git\n      repositories: [file://{bare}]\n"
    )
    assert run_backlot("build", "--config", work / "backlot.yaml", cwd=work).returncode == 0
    bare.rename(tmp_path / "moved.git")
    done = run_backlot("build", "--config", work / "backlot.yaml", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    page.goto(serve(work / "site") + "catalog/default/component/orders/index.html")
    banner = page.locator("section.stale")
    assert "Out of date" in banner.inner_text()
    age = banner.locator("time[data-age]")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \((just now|1 minute ago|\d+ minutes ago)\)",
        age.inner_text(),
    )
    assert age.get_attribute("title", timeout=1000) is not None
