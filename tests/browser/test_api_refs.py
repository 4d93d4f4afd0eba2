"""API references seen in Chromium: an API's Definition view shows the example's
OpenAPI operations (parameters, response schemas), AsyncAPI channels, GraphQL types and
gRPC services, links the download, and fits a phone without splitting a word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Serve
from tests.browser.test_portal_ux import SPLIT_WORDS

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
APIS = "catalog/default/api/"
PAGES = ("orders-api", "order-events", "book-catalog-graphql", "inventory-api")


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280px", "390px"])
def page(browser: Any, request: pytest.FixtureRequest) -> Any:
    context = browser.new_context(viewport=request.param)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == [], errors  # a CSP violation or a script error is a failure


def test_openapi_operation_parameter_and_response_schema(
    page: Any, example_site: Path, serve: Serve
) -> None:
    page.goto(serve(example_site) + APIS + "orders-api/api/index.html")
    ref = page.locator("section.api-ref")
    assert "OpenAPI 3.0.3" in ref.locator(".api-format").inner_text()
    get = page.locator(
        "details.api-op", has=page.locator("code.api-path", has_text="/orders/{orderId}")
    ).first
    assert get.is_visible() and get.locator(".method").inner_text().strip() == "GET"
    assert "Get one order" in get.locator("summary").inner_text()
    # The parameter, with where it goes and that it is required.
    row = get.locator("table.api-fields tbody tr").first
    assert row.locator("td").nth(0).inner_text().startswith("orderId")
    assert "required" in row.inner_text() and row.locator("td").nth(1).inner_text() == "path"
    # The 200 response's schema: Order, resolved from its $ref, with its nested lines.
    ok = get.locator(".api-responses > li", has=page.locator(".status", has_text="200"))
    assert ok.locator(".media").inner_text() == "application/json"
    tree = ok.locator(".schema-tree")
    assert tree.locator(".schema-root a", has_text="Order").is_visible()
    status = tree.locator("li", has=page.locator(".prop", has_text="status")).first
    assert "awaiting_payment" in status.inner_text()
    assert tree.locator(".prop", has_text="currency").first.is_visible()
    # Its link goes to the schema's own entry on the page.
    tree.locator(".schema-root a", has_text="Order").click()
    assert page.url.endswith("#s1")
    assert page.locator("#s1 h4").inner_text().endswith("Order")
    # The raw definition, downloadable beside the page.
    link = page.locator("a", has_text="Download the definition")
    assert link.get_attribute("href") == "definition.yaml"
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_text().startswith("openapi: 3.0.3")


def test_asyncapi_channel_graphql_type_and_grpc_service(
    page: Any, example_site: Path, serve: Serve
) -> None:
    base = serve(example_site) + APIS
    page.goto(base + "order-events/api/index.html")
    channel = page.locator(
        "section.api-group", has=page.locator("h3", has_text="orders.order-placed.v1")
    )
    assert channel.is_visible()
    op = channel.locator("details.api-op").first
    assert op.locator(".method").inner_text().strip().lower() == "subscribe"
    assert op.locator(".media", has_text="OrderPlaced").is_visible()
    assert op.locator(".prop", has_text="placedAt").is_visible()
    assert page.locator(
        ".api-servers", has_text="kafka.event-bus.acme-books.internal:9092"
    ).is_visible()

    page.goto(base + "book-catalog-graphql/api/index.html")
    book = page.locator('article.api-def[aria-label="type Book"]')
    assert book.is_visible() and book.locator(".kind").inner_text() == "type"
    assert book.locator("td code.prop", has_text="isbn").is_visible()
    query = page.locator(
        "details.api-op", has=page.locator("code.api-path", has_text="books")
    ).first
    assert "BookConnection!" in query.locator("summary").inner_text()
    assert query.locator("td", has_text="first").is_visible()

    page.goto(base + "inventory-api/api/index.html")
    reserve = page.locator("details.api-op", has=page.locator("code.api-path", has_text="Reserve"))
    assert "ReserveRequest" in reserve.locator("summary").inner_text()
    assert "Reservations expire" in reserve.inner_text()
    assert page.locator("article.api-def", has_text="Reservation.State").is_visible()


def test_api_pages_fit_and_split_no_word(page: Any, example_site: Path, serve: Serve) -> None:
    base = serve(example_site) + APIS
    for name in PAGES:
        page.goto(base + f"{name}/api/index.html")
        assert page.locator("section.api-ref").is_visible(), name
        assert page.locator(".api-error").count() == 0, name
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], (name, width)
        assert page.evaluate(SPLIT_WORDS) == [], name
