"""One search over the catalog and the docs (Pagefind), as a reader uses it in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.site import _search
from tests.browser.conftest import Serve
from tests.conftest import EXAMPLES, run_backlot

RESULTS = "[data-search-results]"


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def groups(page: Any) -> dict[str, list[str]]:
    """Result titles under each group heading of the results panel."""
    return page.evaluate(
        """(sel) => {
        const out = {};
        let current = null;
        for (const node of document.querySelector(sel).children) {
          if (node.tagName === "H2") { current = node.textContent; out[current] = []; }
          if (node.tagName === "OL" && current)
            for (const a of node.querySelectorAll("li > a")) out[current].push(a.textContent);
        }
        return out;
      }""",
        RESULTS,
    )


def search(page: Any, words: str) -> None:
    page.fill("#site-q", words)
    page.wait_for_selector(f'{RESULTS}[data-query="{words}"] li', timeout=15_000)


def test_search_finds_entities_by_name_and_docs_by_their_words(
    page: Any, example_site: Path, serve: Serve
) -> None:
    base = serve(example_site, "/portal/")  # below a prefix, as a CDN may publish it
    page.goto(base + "index.html")
    page.keyboard.press("/")  # the shortcut Backstage and Material have
    assert page.evaluate("document.activeElement.id") == "site-q"
    search(page, "payments gateway")
    found = groups(page)
    assert "Payments Gateway" in found["In the catalog"]
    # A word only in a docs page's body; one hit per page, grouped apart from entities.
    search(page, "OrdersOutboxLag")
    found = groups(page)
    assert list(found) == ["In the docs"] and found["In the docs"] == ["Runbook"]
    with page.expect_navigation():
        page.locator(f"{RESULTS} li > a").first.click()
    assert page.url.startswith(base + "docs/") and "runbook" in page.url
    assert "OrdersOutboxLag" in page.locator("article").inner_text()


def test_search_filters_narrow_the_results(page: Any, example_site: Path, serve: Serve) -> None:
    page.goto(serve(example_site) + "catalog/index.html")
    search(page, "orders")
    before = sum(len(titles) for titles in groups(page).values())
    # The filters load when asked for (their index is large at scale), then search again.
    assert page.locator(f"{RESULTS} select[data-search-filter]").count() == 0
    page.click(f"{RESULTS} [data-search-filters-open]")
    page.wait_for_selector(f"{RESULTS} select[data-search-filter=kind]")
    page.select_option(f"{RESULTS} select[data-search-filter=kind]", "API")
    # The panel is drawn again for the filter: wait for the redrawn select to say API.
    # (Polled from here: a predicate polled in the page is compiled there, which the
    # pages' policy refuses.)
    for _ in range(50):
        page.wait_for_timeout(100)
        if page.locator(f"{RESULTS} select[data-search-filter=kind]").input_value() == "API":
            break
    page.wait_for_timeout(300)
    after = groups(page)
    assert list(after) == ["In the catalog"]
    kinds = page.locator(f"{RESULTS} li > span.hint").all_inner_texts()
    assert kinds and {k.strip(" ·") for k in kinds} == {"API"}
    assert 0 < sum(len(t) for t in after.values()) < before


def test_the_search_box_works_from_docs_pages_too(
    page: Any, example_site: Path, serve: Serve
) -> None:
    page.goto(serve(example_site) + "docs/default/component/orders-service/index.html")
    search(page, "checkout")
    assert "In the catalog" in groups(page)


def test_from_disk_the_box_says_so_and_filters_the_catalog(page: Any, example_site: Path) -> None:
    page.goto((example_site / "index.html").as_uri())
    page.fill("#site-q", "payments")
    page.wait_for_selector(f"{RESULTS} p.hint")
    assert "served over HTTP" in page.locator(RESULTS).inner_text()
    with page.expect_navigation():
        page.press("#site-q", "Enter")
    page.wait_for_selector("[data-results] tbody tr")
    assert page.input_value("#f-text") == "payments"
    names = page.locator("[data-results] tbody td:first-child a").all_inner_texts()
    assert "Payments Gateway" in names


def test_names_are_found_as_typed_and_the_exact_one_first_in_a_large_index(
    page: Any, example_site: Path, serve: Serve, tmp_path: Path
) -> None:
    """At a real organisation's size the index is split into chunks that a query loads
    one by one; a hyphenated name must still be found typed whole, in part or as its ref,
    and rank above the longer names that begin with it."""
    site = tmp_path / "site"
    shutil.copytree(example_site, site)
    # The other names' pages are the shortest Overview of the example, renamed: short
    # pages are what Pagefind's ranking favours, so the exact name must win on the word.
    shortest = min(site.glob("catalog/default/component/*/index.html"), key=os.path.getsize)
    model, old = shortest.read_text("utf-8"), shortest.parent.name
    old_title = re.search(r"<h1>(.*?)</h1>", model)
    assert old_title and old != "payments-gateway"
    areas = ("inventory", "billing", "search", "fraud", "ledger", "loyalty", "routing", "media")
    things = ("tracker", "router", "importer", "planner", "console", "adapter", "worker", "cache")
    names = [f"{a}-{t}-{n}" for a in areas for t in things for n in ("api", "ui", "job", "db")]
    names += ["payments-gateway-client", "payments-gateway-worker"]
    for name in names:
        title = name.replace("-", " ").title()
        html = model.replace(old, name).replace(old_title.group(1), title)
        target = site / f"catalog/default/component/{name}/index.html"
        target.parent.mkdir(parents=True)
        target.write_text(html, "utf-8")
    # The exact name's page long, as a System's with many parts is: length counts against
    # a page in Pagefind's ranking.
    exact = site / "catalog/default/component/payments-gateway/index.html"
    filler = " ".join(f"part{i} handles settlement retries" for i in range(400))
    exact.write_text(exact.read_text("utf-8").replace("</article>", f"<p>{filler}</p></article>"))
    pages = sorted(
        p.relative_to(site).as_posix()
        for p in [*site.glob("catalog/*/*/*/index.html"), *site.glob("docs/**/*.html")]
        if p.name != "404.html"
    )
    shutil.rmtree(site / "pagefind")
    found = _search._page_stats(site, pages)
    assert _search._build_index(tmp_path / "cache", site, found, site / "pagefind") == ""
    assert len(list((site / "pagefind/index").iterdir())) > 1, "one chunk: not a large index"

    page.goto(serve(site) + "index.html")
    for query in ("payments-gateway", "component:default/payments-gateway"):
        search(page, query)
        first = page.locator(f"{RESULTS} li > a").first
        assert first.inner_text() == "Payments Gateway", query
    search(page, "payments-gate")  # typed in part
    assert "Payments Gateway" in groups(page)["In the catalog"]
    search(page, "ledger-router")
    found = groups(page)["In the catalog"]
    assert set(found) == {f"Ledger Router {n.title()}" for n in ("api", "ui", "job", "db")}


def test_ten_results_first_and_more_on_request(page: Any, example_site: Path, serve: Serve) -> None:
    """Each result is a fragment to fetch: ten at first, ten more when asked."""
    page.goto(serve(example_site) + "index.html")
    search(page, "acme")
    status = page.locator(f"{RESULTS} [role=status]").inner_text()
    found = int(status.split()[0])
    assert found > 10, status  # the example has enough pages naming its company
    assert page.locator(f"{RESULTS} li > a").count() == 10
    assert "the first 10 shown" in status
    page.click(f"{RESULTS} [data-search-more]")
    for _ in range(50):
        page.wait_for_timeout(100)
        if page.locator(f"{RESULTS} li > a").count() > 10:
            break
    assert page.locator(f"{RESULTS} li > a").count() == min(found, 20)


def test_an_index_in_parts_is_searched_as_one(
    page: Any, example_site: Path, serve: Serve, tmp_path: Path
) -> None:
    """A large portal's index is built in parts (a change re-indexes one); the reader
    searches them as one index: the same pages found, the filters over all of them."""
    (tmp_path / "backlot.yaml").write_text(
        f"catalog:\n  sources:\n    - path: {EXAMPLES}\nsite:\n  search_parts: 3\n", "utf-8"
    )
    done = run_backlot("build", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    parts = json.loads((site / "pagefind/parts.json").read_text("utf-8"))["parts"]
    assert parts == ["part-1/", "part-2/"]
    for part in parts:  # its own index; the scripts and WebAssembly are the first part's
        assert (site / "pagefind" / part / "pagefind-entry.json").is_file()
        assert not (site / "pagefind" / part / "pagefind.js").exists()
    one = json.loads((example_site / "pagefind/parts.json").read_text("utf-8"))["parts"]
    assert one == []  # the example is small: one part

    def found(site: Path, words: str) -> tuple[str, str]:
        """How many pages a query finds, and the first one shown."""
        page.goto(serve(site) + "index.html")
        search(page, words)
        status = page.locator(f"{RESULTS} [role=status]").inner_text()
        return status.split()[0], page.locator(f"{RESULTS} li > a").first.inner_text()

    # Words every part holds: the same pages found, the same first. (A word that a part
    # lacks is dropped there: "payments gateway" finds pages holding only "payments"
    # from the parts without a gateway; docs/decisions.md.)
    for words in ("orders service", "acme"):
        assert found(site, words) == found(example_site, words), words
    # A compound word only one part holds: its pages first (the other parts answer with
    # pages holding its pieces, ranked below).
    page.goto(serve(site) + "index.html")
    search(page, "OrdersOutboxLag")
    assert groups(page)["In the docs"][0] == "Runbook"
    # The filters' values are those of every part.
    search(page, "orders")
    page.click(f"{RESULTS} [data-search-filters-open]")
    page.wait_for_selector(f"{RESULTS} select[data-search-filter=kind]")
    kinds = page.locator(f"{RESULTS} select[data-search-filter=kind] option").all_inner_texts()
    assert any(k.startswith("API (") for k in kinds) and any(
        k.startswith("Component (") for k in kinds
    ), kinds
