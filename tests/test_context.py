"""Context snapshots: the refresh (budgets, last good facts, credentials), the Argo CD
source against a local fake, and the Activity pages of a built portal — rendered by
`backlot build`, refreshed alone by `backlot context`, every other page untouched."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from generator.config import ContextSettings
from generator.context import ContextSnapshot, open_sources, refresh_context
from generator.site._activity import is_activity_file
from tests.argocd_fake import FakeArgoCd
from tests.conftest import GROUP_A, run_backlot, write_tree

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def argocd() -> Iterator[FakeArgoCd]:
    fake = FakeArgoCd()
    fake.start()
    yield fake
    fake.stop()


def app_entity(name: str, app: str | None, owner: str = "team-a") -> dict[str, Any]:
    annotations = {"argocd/app-name": app} if app else {}
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations},
        "spec": {"type": "service", "lifecycle": "production", "owner": owner},
    }


def sources(fake: FakeArgoCd, token: str | None = None, budget: int = 5) -> list[Any]:
    settings = ContextSettings.model_validate(
        {"sources": [{"type": "argocd", "url": fake.base, "max_requests": budget}]}
    )
    env = {"ARGOCD_TOKEN": fake.token if token is None else token}
    return open_sources(settings, env=env)


def test_every_application_named_costs_one_request(argocd: FakeArgoCd) -> None:
    for i in range(300):
        argocd.add(f"app-{i}", health="Degraded" if i == 7 else "Healthy")
    entities = [app_entity(f"svc-{i}", f"app-{i}") for i in range(300)]
    entities.append(app_entity("two-apps", "app-1, app-2"))
    entities.append(app_entity("no-app", None))

    snapshot = refresh_context(entities, sources(argocd), None, keep_hours=24, now=NOW)

    assert argocd.counts["requests"] == 1  # Backstage's card: one per card per page view
    assert "status.health.status" in argocd.fields[0]  # only the fields shown are asked for
    run = snapshot.runs["argocd"]
    assert (run.targets, run.fetched, run.requests, run.error) == (300, 300, 1, "")
    app = snapshot.targets["argocd"]["app-7"].facts.app
    assert app is not None
    assert (app.health, app.sync, app.state) == ("Degraded", "Synced", "failure")
    assert app.url == f"{argocd.base}/applications/app-7"
    assert snapshot.targets["argocd"]["app-7"].fetched_at == "2026-12-03T12:00:00Z"
    assert snapshot.entities["component:default/two-apps"] == {"argocd": ["app-1", "app-2"]}
    assert "component:default/no-app" not in snapshot.entities


def test_an_unknown_application_is_missing_with_the_reason(argocd: FakeArgoCd) -> None:
    argocd.add("known")
    entities = [app_entity("a", "known"), app_entity("b", "gone")]
    snapshot = refresh_context(entities, sources(argocd), None, keep_hours=24, now=NOW)
    run = snapshot.runs["argocd"]
    assert run.fetched == 1 and run.missing == {
        "gone": "no such application (or not visible to the token)"
    }
    facts = snapshot.facts_of("component:default/b")
    assert facts == [("argocd", "gone", None)]


def test_without_a_token_the_source_says_so_and_asks_nothing(argocd: FakeArgoCd) -> None:
    argocd.add("known")
    snapshot = refresh_context(
        [app_entity("a", "known")], sources(argocd, token=""), None, keep_hours=24, now=NOW
    )
    assert argocd.counts["requests"] == 0
    assert snapshot.runs["argocd"].error == "$ARGOCD_TOKEN is not set"
    assert snapshot.runs["argocd"].missing == {"known": "$ARGOCD_TOKEN is not set"}


def test_a_failed_refresh_keeps_the_last_good_facts_for_keep_hours(argocd: FakeArgoCd) -> None:
    argocd.add("known")
    entities = [app_entity("a", "known")]
    first = refresh_context(entities, sources(argocd), None, keep_hours=24, now=NOW)

    argocd.fault("down")
    later = NOW + timedelta(hours=3)
    second = refresh_context(entities, sources(argocd), first, keep_hours=24, now=later)
    kept = second.targets["argocd"]["known"]
    assert kept.fetched_at == "2026-12-03T12:00:00Z"  # its own age, not the refresh's
    assert kept.stale == f"{argocd.base} answered HTTP 500"
    assert second.runs["argocd"].kept == 1 and second.runs["argocd"].missing == {}

    argocd.fault("garbage")
    too_late = NOW + timedelta(hours=25)
    third = refresh_context(entities, sources(argocd), second, keep_hours=24, now=too_late)
    assert "known" not in third.targets["argocd"]
    assert third.runs["argocd"].missing == {
        "known": f"{argocd.base} answered something other than JSON"
    }


def test_a_spent_budget_and_a_refused_token_degrade_without_raising(argocd: FakeArgoCd) -> None:
    argocd.add("known")
    entities = [app_entity("a", "known")]
    wrong = refresh_context(
        entities, sources(argocd, token="wrong-token-value"), None, keep_hours=24, now=NOW
    )
    assert wrong.runs["argocd"].error == f"{argocd.base} refused the token (HTTP 401)"
    spent = refresh_context(entities, sources(argocd, budget=1), None, keep_hours=24, now=NOW)
    assert spent.runs["argocd"].fetched == 1  # a budget of one is enough for the list


def test_no_credential_reaches_the_snapshot_or_its_messages(
    argocd: FakeArgoCd, tmp_path: Path
) -> None:
    class Leaky:
        """A source whose own error message carries its token (a real client's might)."""

        name, title = "leaky", "Leaky"

        def targets_of(self, entity: Any) -> tuple[str, ...]:
            return ("t",)

        def narrow(self, entity: Any, facts: Any) -> Any:
            return facts

        def collect(self, targets: Any, budget: Any, now: datetime) -> Any:
            raise RuntimeError("GET https://x/?token=sekrit-token-123 failed")

        def secrets(self) -> tuple[str, ...]:
            return ("sekrit-token-123",)

    argocd.add("known")
    snapshot = refresh_context(
        [app_entity("a", "known")],
        [*sources(argocd), (Leaky(), 5)],
        None,
        keep_hours=24,
        now=NOW,
    )
    path = tmp_path / "context.json"
    snapshot.write(path)
    text = path.read_text("utf-8")
    assert "sekrit-token-123" not in text and argocd.token not in text
    assert snapshot.runs["leaky"].error == "RuntimeError: GET https://x/?token=*** failed"
    assert snapshot.runs["argocd"].fetched == 1  # one source's failure is its own
    assert ContextSnapshot.read(path) == snapshot
    assert "sekrit" not in repr(open_sources(ContextSettings(), env={}))


# --------------------------------------------------------------------------- the portal


def context_org(root: Path, fake: FakeArgoCd) -> Path:
    """Two components with Argo CD applications, one without, their team; backlot.yaml."""
    annotated = (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n"
        "  annotations:\n    argocd/app-name: {app}\n"
        "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
    write_tree(
        root / "repos",
        {
            "orders/catalog-info.yaml": annotated.format(name="orders", app="orders-prod"),
            "billing/catalog-info.yaml": annotated.format(name="billing", app="billing-prod"),
            "plain/catalog-info.yaml": annotated.replace(
                "  annotations:\n    argocd/app-name: {app}\n", ""
            ).format(name="plain"),
            "org/catalog-info.yaml": GROUP_A,
        },
    )
    (root / "backlot.yaml").write_text(
        "catalog:\n  sources:\n    - path: repos\n"
        f"context:\n  sources:\n    - type: argocd\n      url: {fake.base}\n",
        "utf-8",
    )
    return root / "backlot.yaml"


def files_of(site: Path) -> dict[str, tuple[int, bytes]]:
    out = {}
    for path in site.rglob("*"):
        if path.is_file():
            out[path.relative_to(site).as_posix()] = (path.stat().st_mtime_ns, path.read_bytes())
    return out


def test_build_renders_activity_and_context_refreshes_only_it(
    argocd: FakeArgoCd, tmp_path: Path
) -> None:
    argocd.add("orders-prod", health="Degraded", sync="OutOfSync")
    argocd.add("billing-prod")
    config = context_org(tmp_path, argocd)
    env = {"ARGOCD_TOKEN": argocd.token}
    built = run_backlot("build", "--config", config, cwd=tmp_path, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "context: Argo CD: 2 of 2 targets fetched with 1 of 200 requests" in built.stdout
    site = tmp_path / "site"
    orders = site / "catalog/default/component/orders"

    activity = (orders / "activity/index.html").read_text("utf-8")
    assert "orders-prod" in activity and "Degraded" in activity and "OutOfSync" in activity
    assert f'href="{argocd.base}/applications/orders-prod"' in activity
    assert 'datetime="' in activity  # ages are worked out where they are read
    overview = (orders / "index.html").read_text("utf-8")
    assert 'href="../../../../catalog/default/component/orders/activity/index.html"' in overview
    assert 'data-activity-src="activity/summary.js"' in overview
    assert "Degraded" not in overview  # no fact inside the page: it stays as it is
    summary = (orders / "activity/summary.js").read_text("utf-8")
    assert summary.startswith("window.backlotActivity(")
    data = json.loads(summary.removeprefix("window.backlotActivity(").rstrip(");\n"))
    assert data["items"][0]["text"] == "orders-prod: Degraded, OutOfSync"
    assert data["items"][0]["state"] == "failure"
    assert not (site / "catalog/default/component/plain/activity").exists()
    plain = (site / "catalog/default/component/plain/index.html").read_text("utf-8")
    assert "/activity/index.html" not in plain.replace('"../../../../activity/index.html"', "")
    assert "data-activity-src" not in plain  # no tab, no card: it names no application
    team = (site / "catalog/default/group/team-a/activity/index.html").read_text("utf-8")
    assert "Failing (1)" in team and "Argo CD orders-prod: Degraded, OutOfSync" in team
    org_page = (site / "activity/index.html").read_text("utf-8")
    assert "Failing (1)" in org_page and ">Argo CD</td>" in org_page

    # A refresh that learns nothing new rewrites no page: only the sources' refresh times.
    start = files_of(site)
    quiet = run_backlot("context", "--config", config, cwd=tmp_path, env=env)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    quieted = files_of(site)
    assert {p for p in quieted if quieted[p] != start[p]} <= {
        "activity/sources.js",
        "activity/index.html",
    }
    assert "window.backlotSources(" in (site / "activity/sources.js").read_text("utf-8")

    before = files_of(site)
    argocd.add("orders-prod")  # repaired
    summary = tmp_path / "summary.md"
    actions = {**env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    refreshed = run_backlot("context", "--config", config, cwd=tmp_path, env=actions)
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    assert "context: Argo CD: 2 of 2 targets fetched" in refreshed.stdout
    # The run's summary says what the refresh cost, per source.
    assert (
        "| Context | Argo CD: 2 of 2 targets fetched with 1 of 200 requests" in summary.read_text()
    )
    after = files_of(site)
    assert set(after) == set(before)
    changed = {p for p in after if after[p] != before[p]}
    assert changed and all(is_activity_file(p) for p in changed), changed
    assert "catalog/default/component/orders/activity/summary.js" in changed
    assert "Failing (0)" in (site / "activity/index.html").read_text("utf-8")

    # The site stage, from the same snapshot, agrees with what `context` wrote.
    again = run_backlot("site", "--config", config, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert ", 0 removed" in again.stdout
    final = files_of(site)
    assert set(final) == set(after)
    assert not {p for p in final if is_activity_file(p) and final[p][1] != after[p][1]}


def test_a_source_that_fails_leaves_the_links_and_says_why(
    argocd: FakeArgoCd, tmp_path: Path
) -> None:
    argocd.add("orders-prod")
    config = context_org(tmp_path, argocd)
    built = run_backlot("build", "--config", config, cwd=tmp_path, env={"ARGOCD_TOKEN": ""})
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Argo CD: 0 of 2 targets fetched" in built.stdout
    assert "$ARGOCD_TOKEN is not set" in built.stdout
    page = (tmp_path / "site/catalog/default/component/orders/activity/index.html").read_text()
    assert "Not known: $ARGOCD_TOKEN is not set" in page
    problems = (tmp_path / "site/problems/index.html").read_text("utf-8")
    assert "Argo CD" in problems and "$ARGOCD_TOKEN is not set" in problems


def test_context_needs_a_built_portal_of_the_same_catalog(
    argocd: FakeArgoCd, tmp_path: Path
) -> None:
    argocd.add("orders-prod")
    config = context_org(tmp_path, argocd)
    env = {"ARGOCD_TOKEN": argocd.token}
    none = run_backlot("context", "--config", config, cwd=tmp_path, env=env)
    assert none.returncode == 1 and "run 'backlot build' first" in none.stderr
    assert run_backlot("build", "--config", config, cwd=tmp_path, env=env).returncode == 0
    assert run_backlot("catalog", "--config", config, cwd=tmp_path, env=env).returncode == 0
    text = (tmp_path / "repos/orders/catalog-info.yaml").read_text()
    (tmp_path / "repos/orders/catalog-info.yaml").write_text(text.replace("service", "website"))
    assert run_backlot("catalog", "--config", config, cwd=tmp_path, env=env).returncode == 0
    stale = run_backlot("context", "--config", config, cwd=tmp_path, env=env)
    assert stale.returncode == 1
    assert "the catalog changed since the portal was built" in stale.stderr
    assert os.path.exists(tmp_path / ".backlot/context.json")  # the snapshot is kept


def test_facts_remember_since_when_they_are_unchanged(argocd: FakeArgoCd) -> None:
    argocd.add("known")
    entities = [app_entity("a", "known")]
    first = refresh_context(entities, sources(argocd), None, keep_hours=24, now=NOW)
    later = NOW + timedelta(minutes=5)
    second = refresh_context(entities, sources(argocd), first, keep_hours=24, now=later)
    facts = second.targets["argocd"]["known"]
    assert (facts.fetched_at, facts.changed_at) == ("2026-12-03T12:05:00Z", "2026-12-03T12:00:00Z")
    argocd.add("known", health="Degraded")
    third = refresh_context(
        entities, sources(argocd), second, keep_hours=24, now=later + timedelta(minutes=5)
    )
    assert third.targets["argocd"]["known"].changed_at == "2026-12-03T12:10:00Z"
