"""The Activity family in Chromium: a portal built with GitHub, PagerDuty and Argo CD
configured against the tests' local fakes, read as a reader reads it — the Overview's card
(loaded by script, each fact with its source and age), the Activity page without script,
the owning Group's page, phone width, and no token anywhere in the built site."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.argocd_fake import FakeArgoCd
from tests.conftest import GROUP_A, run_backlot, write_tree
from tests.github_context_fake import Deploy, FakeGitHubContext, Pull, Suite
from tests.pagerduty_fake import FakeIncident, FakePagerDuty, FakeShift

from .conftest import Serve

NOW = datetime.now(UTC).replace(microsecond=0)
ORDERS = "catalog/default/component/orders/"
TEAM = "catalog/default/group/team-a/"
# Long enough, and without a break, that its table is wider than a phone.
LONG_WORKFLOW = "integration-tests-against-the-staging-cluster-and-the-payments-sandbox"
COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  annotations:
{annotations}
spec:
  type: service
  lifecycle: production
  owner: team-a
"""


def iso(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Portal:
    site: Path
    tokens: tuple[str, ...]


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """One build for the module: ``orders`` names a repository (two open pull requests, CI
    red on the default branch, a production deployment), a PagerDuty service (Ada on call,
    one open and one resolved incident) and a degraded Argo CD application; ``billing``
    only a repository with passing CI; both owned by team-a."""
    github, pagerduty, argocd = FakeGitHubContext(), FakePagerDuty(), FakeArgoCd()
    for fake in (github, pagerduty, argocd):
        fake.start()
    try:
        github.add(
            "acme",
            "orders",
            pulls=[
                Pull("Retry payment webhooks", iso(-5), number=41, author="grace"),
                Pull("Draft: new checkout", iso(-30), number=40, draft=True),
            ],
            suites=[
                Suite("CI", iso(-2), conclusion="FAILURE", run_id=7001),
                Suite(LONG_WORKFLOW, iso(-2), conclusion="SUCCESS", run_id=7002),
            ],
            deployments=[Deploy("production", iso(-20), commit="d" * 40)],
            environments=["production"],
        )
        github.add("acme", "billing", suites=[Suite("CI", iso(-1), run_id=8001)])
        pagerduty.add_service("PORDERS", "orders", "EP1")
        pagerduty.users.update(U1=("Ada Lovelace", "ada@acme.test"), U2=("Linus T", "l@acme.test"))
        pagerduty.shifts += [
            FakeShift("EP1", 1, "U1", iso(-2), iso(22)),
            FakeShift("EP1", 1, "U2", iso(22), iso(46)),
        ]
        pagerduty.incidents += [
            FakeIncident("Q1", "PORDERS", "Checkout 500s", "triggered", iso(-1)),
            FakeIncident("Q2", "PORDERS", "Slow refunds", "resolved", iso(-30), "low", iso(-29)),
        ]
        argocd.add("orders-prod", health="Degraded", sync="OutOfSync", finished=iso(-3))

        root = tmp_path_factory.mktemp("activity")
        orders = {
            "github.com/project-slug": "acme/orders",
            "pagerduty.com/service-id": "PORDERS",
            "argocd/app-name": "orders-prod",
        }

        def component(name: str, annotations: dict[str, str]) -> str:
            lines = "\n".join(f"    {k}: {v}" for k, v in annotations.items())
            return COMPONENT.format(name=name, annotations=lines)

        write_tree(
            root / "repos",
            {
                "orders/catalog-info.yaml": component("orders", orders),
                "billing/catalog-info.yaml": component(
                    "billing", {"github.com/project-slug": "acme/billing"}
                ),
                "org/catalog-info.yaml": GROUP_A,
            },
        )
        (root / "backlot.yaml").write_text(
            "catalog:\n  sources:\n    - path: repos\n"
            "context:\n  sources:\n"
            f"    - type: github\n      api_url: {github.base}\n"
            f"    - type: pagerduty\n      api_url: {pagerduty.base}\n"
            f"    - type: argocd\n      url: {argocd.base}\n",
            "utf-8",
        )
        env = {
            "GITHUB_TOKEN": github.token,
            "PAGERDUTY_TOKEN": pagerduty.token,
            "ARGOCD_TOKEN": argocd.token,
        }
        built = run_backlot("build", "--config", root / "backlot.yaml", cwd=root, env=env)
        assert built.returncode == 0, built.stdout + built.stderr
        for title in ("GitHub: 2 of 2", "PagerDuty: 1 of 1", "Argo CD: 1 of 1"):
            assert f"context: {title} targets fetched" in built.stdout, built.stdout
        yield Portal(root / "site", tuple(env.values()))
    finally:
        for fake in (github, pagerduty, argocd):
            fake.stop()


@pytest.fixture
def reader(browser: Any) -> Iterator[Any]:
    """A page whose clock reads 14 minutes after the snapshot, as a reader's would."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.clock.set_fixed_time(datetime.now(UTC) + timedelta(minutes=14))
    yield page
    context.close()


def test_the_overview_card_shows_each_fact_with_its_source_and_age(
    portal: Portal, serve: Serve, reader: Any
) -> None:
    reader.goto(serve(portal.site) + ORDERS + "index.html")
    card = reader.locator("section.activity-summary")
    card.wait_for(state="visible", timeout=10_000)
    items = card.locator("[data-activity-items] li").all_inner_texts()
    expected = {
        "CI failing: CI": "GitHub",
        "1 open incident": "PagerDuty",
        "on call: Ada Lovelace": "PagerDuty",
        "2 open pull requests": "GitHub",
        "orders-prod: Degraded, OutOfSync": "Argo CD",
    }
    for fact, source in expected.items():
        found = [i for i in items if i.startswith(fact)]
        assert found, f"{fact!r} not on the card: {items}"
        assert re.search(rf" · {source}, as of 1[45] minutes ago$", found[0]), found[0]
    red = card.locator("li.state-failure").all_inner_texts()
    assert any(t.startswith("CI failing") for t in red)
    assert any(t.startswith("1 open incident") for t in red)
    link = card.get_by_role("link", name="1 open incident")
    assert (link.get_attribute("href") or "").startswith("http")  # to the source of truth


def test_with_script_each_block_says_how_old_its_facts_are(
    portal: Portal, serve: Serve, reader: Any
) -> None:
    reader.goto(serve(portal.site) + ORDERS + "activity/index.html")
    reader.locator("[data-checked]").first.wait_for(state="attached")
    for _ in range(50):
        checked = reader.locator("[data-checked]").all_inner_texts()
        if checked and all(checked):
            break
        reader.wait_for_timeout(100)
    assert checked and all(re.fullmatch(r" · as of 1[45] minutes ago", c) for c in checked), checked
    hint = reader.locator("[data-refreshed]").inner_text()
    assert re.fullmatch(r"the sources last answered 1[45] minutes ago", hint), hint


def test_the_activity_page_shows_the_snapshot_without_javascript(
    portal: Portal, serve: Serve, browser: Any
) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        page.goto(serve(portal.site) + ORDERS + "activity/index.html")
        ci = page.locator("section#ci").inner_text()
        assert "GitHub acme/orders" in ci and "Argo CD orders-prod" in ci
        assert re.search(r"CI\s+failing", ci), ci
        assert "Degraded" in ci and "OutOfSync" in ci and "production" in ci
        pulls = page.locator("section#pulls").inner_text()
        assert "2 open pull requests" in pulls and "Retry payment webhooks" in pulls
        oncall = page.locator("section#oncall").inner_text()
        assert "Ada Lovelace" in oncall and "Next: Linus T" in oncall
        assert "Checkout 500s" in oncall and "triggered" in oncall
        assert "Slow refunds" in oncall and "resolved" in oncall and "1 open" in oncall
        # Each source's block says since when its facts are unchanged, as a time the page
        # can show without script (the absolute time); when each source last answered is
        # not in the page (it would change every refresh) but in activity/sources.js.
        blocks = page.locator(".context-block")
        assert blocks.count() >= 4
        for i in range(blocks.count()):
            block = blocks.nth(i)
            assert block.inner_text().count("Unchanged since ") == 1, block.inner_text()
            as_of = block.locator("p.hint").first
            assert as_of.inner_text().startswith("Unchanged since ")
            assert as_of.locator("time[datetime]").count() == 1
            assert "minutes ago" not in as_of.inner_text()  # no script, no age
        assert page.get_by_role("link", name="Checkout 500s").get_attribute("href") == (
            "https://acme.pagerduty.com/incidents/Q1"
        )
    finally:
        context.close()


def test_the_owning_group_aggregates_its_entities(
    portal: Portal, serve: Serve, reader: Any
) -> None:
    reader.goto(serve(portal.site) + TEAM + "activity/index.html")
    main = reader.locator("main")

    def table(heading: str) -> str:
        section = main.locator("section").filter(has=reader.locator(f"h2#{heading}"))
        return str(section.inner_text())

    failing = table("failing-h")
    assert "Failing (2)" in failing
    assert "CI failed" in failing and "Argo CD orders-prod: Degraded, OutOfSync" in failing
    assert "billing" not in failing  # its CI passes
    incidents = table("incidents-h")
    assert "Open incidents (1)" in incidents and "Checkout 500s" in incidents
    assert "Slow refunds" not in incidents
    pulls = table("pulls-h")
    assert "2 open" in pulls and "orders" in pulls and "Retry payment webhooks" in pulls
    assert "Ada Lovelace" in table("oncall-h")


def activity_pages(site: Path) -> list[str]:
    return sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("index.html")
        if p.relative_to(site).as_posix().startswith("activity/") or p.parent.name == "activity"
    )


def test_no_activity_page_scrolls_sideways_at_phone_width(
    portal: Portal, serve: Serve, browser: Any
) -> None:
    pages = activity_pages(portal.site)
    assert ORDERS + "activity/index.html" in pages and TEAM + "activity/index.html" in pages
    assert "activity/index.html" in pages
    base = serve(portal.site)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        wide = {}
        scrolled_in_wrap = 0
        for relative in pages:
            page.goto(base + relative)
            measured = page.evaluate(
                """() => ({
                  width: document.documentElement.scrollWidth,
                  wraps: [...document.querySelectorAll('.table-wrap')].filter(
                    w => w.scrollWidth > w.clientWidth + 1).length,
                })"""
            )
            if measured["width"] > 391:
                wide[relative] = measured["width"]
            scrolled_in_wrap += measured["wraps"]
        assert not wide, f"pages wider than 390 px: {wide}"
        # The long workflow's table is wider than the phone: it scrolls in its wrapper.
        assert scrolled_in_wrap >= 1
    finally:
        context.close()


def test_no_token_of_any_source_is_in_the_built_site(portal: Portal) -> None:
    found = []
    for path in portal.site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [
                f"{path.relative_to(portal.site)}: {token[:8]}…"
                for token in portal.tokens
                if token.encode() in data
            ]
    assert not found
    snapshot = (portal.site.parent / ".backlot/context.json").read_text("utf-8")
    assert not [t for t in portal.tokens if t in snapshot]
