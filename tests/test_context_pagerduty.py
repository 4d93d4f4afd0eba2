"""The PagerDuty context source against a local fake of PagerDuty's REST API: the facts a
page shows, what a refresh costs for N services (cold and warm), and every way it degrades
without raising or leaking the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from generator.config import PagerDutyContext
from generator.context import (
    Facts,
    Incident,
    Incidents,
    OnCall,
    OnCallPerson,
    RequestBudget,
    refresh_context,
)
from generator.context.pagerduty import PagerDutySource

from .pagerduty_fake import FakeIncident, FakePagerDuty, FakeShift

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
KEY = "0123456789abcdef0123456789abcdef"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def hours(n: float) -> str:
    return iso(NOW + timedelta(hours=n))


@pytest.fixture(scope="module")
def running() -> Iterator[FakePagerDuty]:
    server = FakePagerDuty()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake(running: FakePagerDuty) -> FakePagerDuty:
    server = running
    server.reset()
    server.policies.update(EP1="Payments primary", EP2="Search primary")
    server.add_service("PSVC001", "payments-api", "EP1", keys=(KEY,))
    server.add_service("PSVC002", "search", "EP2")
    server.add_service("PSVC003", "ledger", "EP1")
    server.users.update(
        U1=("Ada Lovelace", "ada@acme.test"),
        U2=("Grace Hopper", "grace@acme.test"),
        U3=("Linus Torvalds", "linus@acme.test"),
        U4=("Margaret Hamilton", "margaret@acme.test"),
    )
    server.shifts += [
        FakeShift("EP1", 1, "U2", hours(-26), hours(-2)),  # over: not on call, not next
        FakeShift("EP1", 1, "U1", hours(-2), hours(22)),  # now
        FakeShift("EP1", 1, "U2", hours(22), hours(46)),  # next
        FakeShift("EP1", 1, "U1", hours(46), hours(70)),  # after that
        FakeShift("EP1", 2, "U3"),  # named by the policy itself: always on call
        FakeShift("EP2", 1, "U4", hours(-48), hours(120)),
    ]
    server.incidents += [
        FakeIncident("Q1", "PSVC001", "Checkout 500s", "triggered", hours(-1)),
        FakeIncident("Q2", "PSVC001", "Slow refunds", "resolved", hours(-50), "low", hours(-49)),
        FakeIncident("Q3", "PSVC001", "Old outage", "resolved", hours(-80), "high", hours(-79)),
        FakeIncident("Q4", "PSVC001", "Cert expiring", "acknowledged", hours(-200), "low"),
        FakeIncident("Q5", "PSVC002", "Index lag", "resolved", hours(-10), "high", hours(-9)),
    ]
    return server


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def source(
    fake: FakePagerDuty,
    cache: Path | None = None,
    *,
    token: str | None = None,
    sleeps: Sleeps | None = None,
    **settings: Any,
) -> PagerDutySource:
    config = PagerDutyContext(type="pagerduty", api_url=fake.base, **settings)
    env = {"PAGERDUTY_TOKEN": fake.token if token is None else token}
    return PagerDutySource(config, env, cache, sleep=sleeps or Sleeps())


def entity(name: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"type": "service", "owner": "team-a", "lifecycle": "production"},
    }


def web(fake: FakePagerDuty, path: str) -> str:
    return f"{fake.web}{path}"


def payments_facts(fake: FakePagerDuty) -> Facts:
    """What the fake holds for PSVC001, written out by hand."""

    def user(uid: str, level: int, until: str) -> OnCallPerson:
        name, email = fake.users[uid]
        return OnCallPerson(
            name=name, email=email, url=web(fake, f"/users/{uid}"), level=level, until=until
        )

    return Facts(
        on_call=OnCall(
            policy="Payments primary",
            now=(user("U1", 1, hours(22)), user("U3", 2, "")),
            next=(user("U2", 1, hours(46)),),
            url=web(fake, "/escalation_policies/EP1"),
        ),
        incidents=Incidents(
            window_hours=72,
            open_count=2,  # Q1, and Q4 opened 200 hours ago and still acknowledged
            recent=(
                Incident(
                    title="Checkout 500s",
                    url=web(fake, "/incidents/Q1"),
                    status="triggered",
                    urgency="high",
                    created_at=hours(-1),
                ),
                Incident(
                    title="Slow refunds",
                    url=web(fake, "/incidents/Q2"),
                    status="resolved",
                    urgency="low",
                    created_at=hours(-50),
                    resolved_at=hours(-49),
                ),
            ),
            url=web(fake, "/service-directory/PSVC001"),
        ),
    )


# ---------------------------------------------------------------------- targets


def test_annotations_name_services_and_integration_keys_apart(fake: FakePagerDuty) -> None:
    pd = source(fake)
    assert pd.targets_of(entity("a", **{"pagerduty.com/service-id": " PSVC001 "})) == (
        "service:PSVC001",
    )
    assert pd.targets_of(entity("b", **{"pagerduty.com/integration-key": KEY})) == (
        f"integration:{KEY}",
    )
    both = entity(
        "c", **{"pagerduty.com/service-id": "PSVC002", "pagerduty.com/integration-key": KEY}
    )
    assert pd.targets_of(both) == ("service:PSVC002",)
    assert pd.targets_of(entity("d")) == ()
    assert pd.targets_of({"kind": "Component", "metadata": {"name": "e"}}) == ()


# ---------------------------------------------------------------------- facts


def test_facts_of_a_few_services_are_the_fakes(fake: FakePagerDuty) -> None:
    got = source(fake).collect(
        ["service:PSVC001", "service:PSVC002", "service:PSVC003"], RequestBudget(50), NOW
    )
    assert got.error == "" and got.missing == {}
    assert got.facts["service:PSVC001"] == payments_facts(fake)
    # The same policy, so the same people; its own (no) incidents.
    ledger = got.facts["service:PSVC003"]
    assert ledger.on_call == payments_facts(fake).on_call
    assert ledger.incidents is not None
    assert ledger.incidents.open_count == 0 and ledger.incidents.recent == ()
    search = got.facts["service:PSVC002"]
    assert search.on_call is not None and [p.name for p in search.on_call.now] == [
        "Margaret Hamilton"
    ]
    assert search.on_call.next == ()
    assert search.incidents is not None
    assert [(i.title, i.status, i.resolved_at) for i in search.incidents.recent] == [
        ("Index lag", "resolved", hours(-9))
    ]
    assert got.requests == sum(fake.counts.values())


def test_incident_window_follows_the_setting(fake: FakePagerDuty) -> None:
    got = source(fake, incident_hours=100).collect(["service:PSVC001"], RequestBudget(50), NOW)
    incidents = got.facts["service:PSVC001"].incidents
    assert incidents is not None and incidents.window_hours == 100
    assert [i.title for i in incidents.recent] == ["Checkout 500s", "Slow refunds", "Old outage"]
    assert incidents.open_count == 2


def test_links_go_to_web_url_when_configured(fake: FakePagerDuty) -> None:
    got = source(fake, web_url="https://pd.example.test/").collect(
        ["service:PSVC001"], RequestBudget(50), NOW
    )
    facts = got.facts["service:PSVC001"]
    assert facts.incidents is not None and facts.on_call is not None
    assert facts.incidents.url == "https://pd.example.test/service-directory/PSVC001"
    assert facts.incidents.recent[0].url == "https://pd.example.test/incidents/Q1"
    assert facts.on_call.now[0].url == "https://pd.example.test/users/U1"


def test_an_integration_key_resolves_to_its_service(fake: FakePagerDuty) -> None:
    got = source(fake).collect(
        [f"integration:{KEY}", "integration:nosuchkey", "service:PSVC001"], RequestBudget(50), NOW
    )
    assert got.facts[f"integration:{KEY}"] == payments_facts(fake)
    assert got.facts["service:PSVC001"] == payments_facts(fake)
    assert "integration key" in got.missing["integration:nosuchkey"]
    assert got.error == ""


def test_an_unknown_service_is_missing_and_the_others_are_not(fake: FakePagerDuty) -> None:
    got = source(fake).collect(
        ["service:PNOPE00", "service:PSVC002", "service:not/an id"], RequestBudget(50), NOW
    )
    assert set(got.facts) == {"service:PSVC002"}
    assert got.missing["service:PNOPE00"].startswith("no such PagerDuty service")
    assert got.missing["service:not/an id"] == "not a PagerDuty service id"
    assert got.error == ""


def test_an_unknown_service_is_missing_when_every_service_is_listed(fake: FakePagerDuty) -> None:
    for n in range(20):  # enough targets that listing every service is the cheaper way
        fake.add_service(f"PX{n:05d}", f"svc-{n}", "EP2")
    targets = [f"service:PX{n:05d}" for n in range(20)] + ["service:PNOPE00"]
    got = source(fake).collect(targets, RequestBudget(50), NOW)
    assert fake.counts["service"] == 0 and fake.counts["services"] == 1
    assert len(got.facts) == 20
    assert got.missing["service:PNOPE00"].startswith("no such PagerDuty service")


# ---------------------------------------------------------------------- cost


def many(fake: FakePagerDuty, count: int, policies: int) -> list[str]:
    for n in range(policies):
        pid = f"EPM{n:04d}"
        fake.policies[pid] = f"policy {n}"
        fake.users[f"UA{n}"] = (f"A {n}", f"a{n}@acme.test")
        fake.users[f"UB{n}"] = (f"B {n}", f"b{n}@acme.test")
        # A daily rotation of two at level 1 for the week ahead, one person at level 2.
        fake.shifts += [
            FakeShift(pid, 1, f"U{'AB'[day % 2]}{n}", hours(-5 + 24 * day), hours(19 + 24 * day))
            for day in range(8)
        ]
        fake.shifts.append(FakeShift(pid, 2, f"UB{n}"))
    targets = []
    for n in range(count):
        sid = f"PM{n:05d}"
        fake.add_service(sid, f"service {n}", f"EPM{n % policies:04d}")
        fake.incidents.append(
            FakeIncident(f"QM{n}", sid, f"incident {n}", "resolved", hours(-3), "high", hours(-2))
        )
        if n % 50 == 0:
            fake.incidents.append(FakeIncident(f"QO{n}", sid, "still open", "triggered", hours(-1)))
        targets.append(f"service:{sid}")
    return targets


def test_requests_for_500_services_cold_and_warm(fake: FakePagerDuty, tmp_path: Path) -> None:
    targets = many(fake, 500, policies=50)
    cache = tmp_path / "pagerduty"

    cold = source(fake, cache).collect(targets, RequestBudget(200), NOW)
    assert cold.error == "" and cold.missing == {} and len(cold.facts) == 500
    # The account's 503 services in 6 pages; the 50 policies' on-call entries in 2 pages
    # (each person's earliest shift only: 150 entries, not the week's 450); per chunk of
    # 100 services, one page of open and one of resolved incidents.
    assert dict(fake.counts) == {"services": 6, "oncalls": 2, "incidents": 10}
    assert cold.requests == 18
    assert cold.detail["requests_by_kind"] == {"incidents": 10, "oncalls": 2, "services": 6}
    assert max(len(u) for u in fake.urls) < 4_500
    facts = cold.facts["service:PM00050"]
    assert facts.incidents is not None and facts.incidents.open_count == 1
    assert facts.on_call is not None and [p.name for p in facts.on_call.next] == ["B 0"]

    # Warm: the service → policy map comes from the cache; only the volatile facts are asked.
    fake.counts.clear()
    warm = source(fake, cache).collect(targets, RequestBudget(200), NOW + timedelta(minutes=5))
    assert dict(fake.counts) == {"oncalls": 2, "incidents": 10}
    assert warm.requests == 12 and warm.detail["from_cache"] == 500
    assert warm.facts == cold.facts

    # Past the map's age, it is asked again (once, by listing).
    fake.counts.clear()
    later = source(fake, cache).collect(targets, RequestBudget(200), NOW + timedelta(hours=7))
    assert fake.counts["services"] == 6 and later.missing == {}


def test_few_services_are_asked_one_by_one(fake: FakePagerDuty, tmp_path: Path) -> None:
    got = source(fake, tmp_path).collect(
        ["service:PSVC001", "service:PSVC002"], RequestBudget(50), NOW
    )
    assert got.missing == {}
    assert dict(fake.counts) == {"service": 2, "oncalls": 1, "incidents": 2}


# ---------------------------------------------------------------------- degrade


def test_no_token_asks_nothing(fake: FakePagerDuty) -> None:
    got = source(fake, token="").collect(["service:PSVC001"], RequestBudget(50), NOW)
    assert got.error == "$PAGERDUTY_TOKEN is not set"
    assert got.facts == {} and sum(fake.counts.values()) == 0


def test_a_refused_token_is_the_sources_error(fake: FakePagerDuty) -> None:
    got = source(fake, token="pd-wrong-token-999").collect(
        ["service:PSVC001", "service:PSVC002"], RequestBudget(50), NOW
    )
    assert got.error == f"{fake.base} refused the token (HTTP 401)"
    assert got.facts == {} and got.requests == 1
    assert "pd-wrong-token-999" not in repr(got)


def test_a_403_mid_way_is_the_sources_error(fake: FakePagerDuty) -> None:
    fake.fault("incidents", "403")
    got = source(fake).collect(["service:PSVC001"], RequestBudget(50), NOW)
    assert got.error.endswith("refused the token (HTTP 403)") and got.facts == {}


def test_a_429_is_waited_out_then_answered(fake: FakePagerDuty) -> None:
    fake.fault("oncalls", "429")
    sleeps = Sleeps()
    got = source(fake, sleeps=sleeps).collect(["service:PSVC001"], RequestBudget(50), NOW)
    assert got.facts["service:PSVC001"] == payments_facts(fake)
    assert sleeps.waits == [2.0]  # the fake's ratelimit-reset
    assert fake.counts["oncalls"] == 2
    assert got.detail["retries"] == 1 and got.detail["rate_limited_seconds"] == 2.0
    assert got.requests == sum(fake.counts.values())  # the refused request was spent too


def test_a_429_longer_than_the_bounded_wait_stops_the_run(fake: FakePagerDuty) -> None:
    fake.reset_seconds = 900
    fake.fault("service", "429")
    sleeps = Sleeps()
    got = source(fake, sleeps=sleeps).collect(
        ["service:PSVC001", "service:PSVC002"], RequestBudget(50), NOW
    )
    assert sleeps.waits == []
    assert got.error == "PagerDuty rate-limited the token (retry in 900 s)"
    assert got.facts == {}


def test_rate_limit_waits_are_bounded_for_the_whole_run(fake: FakePagerDuty) -> None:
    fake.reset_seconds = 20
    fake.fault("oncalls", "429")
    fake.fault("incidents", "429")
    sleeps = Sleeps()
    got = source(fake, sleeps=sleeps).collect(["service:PSVC001"], RequestBudget(50), NOW)
    assert sleeps.waits == [20.0]  # the second 20 s would pass the run's 30
    assert got.error == "PagerDuty rate-limited the token (retry in 20 s)"


def test_incidents_are_paged_and_the_newest_twenty_kept(fake: FakePagerDuty) -> None:
    fake.incidents += [
        FakeIncident(f"QP{n:03d}", "PSVC002", f"flap {n}", "resolved", hours(-60 + n / 10))
        for n in range(150)
    ]
    got = source(fake).collect(["service:PSVC002"], RequestBudget(50), NOW)
    incidents = got.facts["service:PSVC002"].incidents
    assert incidents is not None
    assert [i.title for i in incidents.recent[:2]] == ["Index lag", "flap 149"]
    assert len(incidents.recent) == 20
    assert fake.counts["incidents"] == 3  # open: one page; resolved: 151 in two


def test_5xx_is_retried_then_answered(fake: FakePagerDuty) -> None:
    fake.fault("incidents", "502", times=2)
    sleeps = Sleeps()
    got = source(fake, sleeps=sleeps).collect(["service:PSVC001"], RequestBudget(50), NOW)
    assert got.facts["service:PSVC001"] == payments_facts(fake)
    assert sleeps.waits == [1.0, 2.0]


def test_pagerduty_down_is_the_sources_error(fake: FakePagerDuty) -> None:
    fake.fault("service", "503", times=3)
    got = source(fake).collect(["service:PSVC001"], RequestBudget(50), NOW)
    assert got.error == f"{fake.base} answered HTTP 503"
    assert got.facts == {} and got.requests == 3


def test_a_timeout_is_retried_within_the_settings_timeout(fake: FakePagerDuty) -> None:
    fake.fault("service", "slow", times=3)
    got = source(fake, timeout_seconds=0.1).collect(["service:PSVC001"], RequestBudget(50), NOW)
    assert got.error == f"{fake.base} did not answer: ReadTimeout"
    assert got.requests == 3


def test_budget_spent_mid_way_keeps_finished_services(fake: FakePagerDuty) -> None:
    targets = many(fake, 250, policies=10)
    # 3 pages of services, then per chunk of 100: on-calls (the first only) and 2 incident
    # pages. 3 + (1 + 2) + (0 + 2) = 8 finishes two chunks; the ninth is not sent.
    got = source(fake).collect(targets, RequestBudget(8), NOW)
    assert got.error == ""
    assert len(got.facts) == 200 and len(got.missing) == 50
    assert set(got.missing.values()) == {"its budget of 8 requests per run is spent"}
    assert sorted(got.missing)[0] == "service:PM00200"
    assert got.requests == 8 and sum(fake.counts.values()) == 8


def test_budget_spent_before_anything_is_missing_not_an_error(fake: FakePagerDuty) -> None:
    got = source(fake).collect(["service:PSVC001", "service:PSVC002"], RequestBudget(1), NOW)
    assert got.error == "" and got.facts == {}
    assert set(got.missing) == {"service:PSVC001", "service:PSVC002"}


def test_a_damaged_cache_costs_a_cold_run(fake: FakePagerDuty, tmp_path: Path) -> None:
    (tmp_path / "services.json").write_text("{not json")
    got = source(fake, tmp_path).collect(["service:PSVC001"], RequestBudget(50), NOW)
    assert got.facts["service:PSVC001"] == payments_facts(fake)
    assert json.loads((tmp_path / "services.json").read_text())["services"]["PSVC001"]


# ---------------------------------------------------------------------- secrets


def test_no_token_reaches_any_output(fake: FakePagerDuty, tmp_path: Path) -> None:
    token = fake.token
    pd = source(fake, tmp_path)
    assert pd.secrets() == (token,)
    outputs = [repr(pd), str(pd.settings)]
    fake.reset_seconds = 900
    for fault, times in (("401", 1), ("429", 1), ("503", 3)):
        fake.fault("service", fault, times=times)
        got = pd.collect(["service:PSVC001"], RequestBudget(50), NOW)
        assert got.error and not got.facts
        outputs += [got.error, repr(got), json.dumps(got.detail)]
    got = pd.collect([f"integration:{KEY}", "service:PNOPE00"], RequestBudget(50), NOW)
    assert got.facts
    outputs += [repr(got), json.dumps(got.missing)]
    outputs += [f.model_dump_json() for f in got.facts.values()]
    outputs += [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    assert all(token not in text for text in outputs)
    # The token went where it belongs, and only there.
    assert fake.counts["service"] > 0


# ---------------------------------------------------------------------- end to end


def test_refresh_context_end_to_end(fake: FakePagerDuty, tmp_path: Path) -> None:
    entities = [
        entity("payments", **{"pagerduty.com/service-id": "PSVC001"}),
        entity("payments-worker", **{"pagerduty.com/integration-key": KEY}),
        entity("search", **{"pagerduty.com/service-id": "PSVC002"}),
        entity("gone", **{"pagerduty.com/service-id": "PNOPE00"}),
        entity("plain"),
    ]
    pd = source(fake, tmp_path / "context" / "pagerduty")
    lines: list[str] = []
    snapshot = refresh_context(
        entities, [(pd, 50)], None, keep_hours=24, now=NOW, progress=lines.append
    )
    run = snapshot.runs["pagerduty"]
    assert (run.targets, run.fetched, run.error) == (4, 3, "")
    assert list(run.missing) == ["service:PNOPE00"]
    assert run.requests == sum(fake.counts.values())
    facts = {f"{s}/{t}": tf for s, t, tf in snapshot.facts_of("component:default/payments-worker")}
    assert facts[f"pagerduty/integration:{KEY}"] is not None
    assert facts[f"pagerduty/integration:{KEY}"].facts == payments_facts(fake)
    assert snapshot.facts_of("component:default/plain") == []
    assert lines[0].startswith("PagerDuty: 3 of 4 targets fetched")

    # PagerDuty down on the next refresh: the last good facts are kept, marked stale.
    fake.fault("oncalls", "503", times=3)
    later = NOW + timedelta(minutes=5)
    again = refresh_context(entities, [(pd, 50)], snapshot, keep_hours=24, now=later)
    kept = again.targets["pagerduty"]["service:PSVC001"]
    assert kept.stale == f"{fake.base} answered HTTP 503"
    assert kept.facts == payments_facts(fake)
    assert again.runs["pagerduty"].kept == 3
    assert fake.token not in again.model_dump_json()
