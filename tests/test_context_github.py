"""The GitHub context source: the facts of each repository an entity names, what they cost
for many repositories, and how it degrades (no token, a refused token, a repository gone,
a spent budget, a query GitHub finds too large, GitHub down) without ever showing a token.

GitHub is ``github_context_fake`` over real HTTP on 127.0.0.1, its queries validated
against a schema written to GitHub's; the client's waits go to a recorder, not a sleep.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from generator.config import GitHubContext
from generator.context import (
    CiStatus,
    ContextSnapshot,
    Deployment,
    Deployments,
    Facts,
    PullRequest,
    PullRequests,
    RequestBudget,
    WorkflowRun,
    refresh_context,
)
from generator.context.github import BATCH, GitHubContextSource

from .github_context_fake import Deploy, FakeGitHubContext, Pull, Repo, Suite

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeGitHubContext]:
    github = FakeGitHubContext()
    github.start()
    yield github
    github.stop()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def open_source(
    fake: FakeGitHubContext,
    env: dict[str, str] | None = None,
    sleeps: Sleeps | None = None,
    **settings: Any,
) -> GitHubContextSource:
    config = GitHubContext.model_validate({"type": "github", "api_url": fake.base, **settings})
    env = {"GITHUB_TOKEN": fake.token} if env is None else env
    return GitHubContextSource(config, env, None, sleep=sleeps if sleeps is not None else Sleeps())


def entity(name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    }


def many(fake: FakeGitHubContext, count: int, owner: str = "acme") -> list[str]:
    for i in range(count):
        fake.add(
            owner,
            f"svc-{i:04d}",
            pulls=[Pull(f"Change {i}", "2026-12-01T09:00:00Z", number=1)],
            suites=[Suite("CI", "2026-12-01T09:00:00Z", run_id=i)],
        )
    return [f"{owner}/svc-{i:04d}" for i in range(count)]


def orders_repo(fake: FakeGitHubContext) -> Repo:
    """A busy repository: more open pull requests than shown, workflows run twice on the
    head commit, a run in progress, another app's checks, a production deployment older
    than the last twenty deployments (all to previews), a staging one in progress."""
    pulls = [
        Pull(f"Change {n}", f"2026-11-{n:02d}T08:00:00Z", number=n, author=f"dev{n}")
        for n in range(1, 8)
    ]
    pulls[6].review = "CHANGES_REQUESTED"
    pulls[5].draft = True
    pulls[4].author = None
    pulls[3].review = "APPROVED"
    suites = [
        Suite("CI", "2026-12-02T10:00:00Z", conclusion="FAILURE", run_id=101),
        Suite(None, "2026-12-02T10:00:05Z", conclusion="SUCCESS"),
        Suite("Release", "2026-12-02T10:01:00Z", conclusion="TIMED_OUT", run_id=102),
        Suite("CI", "2026-12-02T11:00:00Z", conclusion="SUCCESS", run_id=103),  # re-run
        Suite("Lint", "2026-12-02T11:05:00Z", status="IN_PROGRESS", run_id=104),
        Suite("Nightly", "2026-12-02T03:00:00Z", conclusion="CANCELLED", run_id=105),
    ]
    deployments = [
        Deploy(
            "production",
            "2026-11-20T09:00:00Z",
            commit="a" * 40,
            log_url="https://github.com/acme/orders/actions/runs/90",
        ),
        *(
            Deploy(
                "preview",
                f"2026-11-25T{h:02d}:00:00Z",
                commit="b" * 40,
                environment_url="javascript:alert(1)",
            )
            for h in range(22)
        ),
        Deploy("staging", "2026-12-02T12:00:00Z", state="IN_PROGRESS", commit="c" * 40),
    ]
    return fake.add(
        "acme",
        "orders",
        pulls=pulls,
        closed_pulls=40,
        suites=suites,
        deployments=deployments,
        environments=["preview", "production", "staging"],
    )


def test_facts_are_the_repositorys(fake: FakeGitHubContext) -> None:
    repo = orders_repo(fake)
    fake.add("acme", "empty", default_branch=None)
    fake.add("Acme", "Quiet")
    source = open_source(fake)

    collected = source.collect(["acme/orders", "acme/empty", "acme/quiet"], RequestBudget(10), NOW)

    assert collected.error == "" and collected.missing == {}
    assert collected.requests == 1 and fake.requests == 1
    web = "https://github.com/acme/orders"
    assert collected.facts["acme/orders"] == Facts(
        pull_requests=PullRequests(
            open_count=7,
            recent=(
                PullRequest(
                    title="Change 7",
                    url=f"{web}/pull/7",
                    author="dev7",
                    created_at="2026-11-07T08:00:00Z",
                    review="changes_requested",
                ),
                PullRequest(
                    title="Change 6",
                    url=f"{web}/pull/6",
                    author="dev6",
                    created_at="2026-11-06T08:00:00Z",
                    draft=True,
                ),
                PullRequest(
                    title="Change 5",
                    url=f"{web}/pull/5",
                    author="",
                    created_at="2026-11-05T08:00:00Z",
                ),
                PullRequest(
                    title="Change 4",
                    url=f"{web}/pull/4",
                    author="dev4",
                    created_at="2026-11-04T08:00:00Z",
                    review="approved",
                ),
                PullRequest(
                    title="Change 3",
                    url=f"{web}/pull/3",
                    author="dev3",
                    created_at="2026-11-03T08:00:00Z",
                ),
            ),
            url=f"{web}/pulls",
        ),
        ci=CiStatus(
            runs=(
                WorkflowRun(
                    workflow="CI",
                    state="success",
                    url=f"{web}/actions/runs/103",
                    branch="main",
                    commit=repo.head,
                    at="2026-12-02T11:00:00Z",
                ),
                WorkflowRun(
                    workflow="Lint",
                    state="running",
                    url=f"{web}/actions/runs/104",
                    branch="main",
                    commit=repo.head,
                    at="2026-12-02T11:05:00Z",
                ),
                WorkflowRun(
                    workflow="Nightly",
                    state="cancelled",
                    url=f"{web}/actions/runs/105",
                    branch="main",
                    commit=repo.head,
                    at="2026-12-02T03:00:00Z",
                ),
                WorkflowRun(
                    workflow="Release",
                    state="failure",
                    url=f"{web}/actions/runs/102",
                    branch="main",
                    commit=repo.head,
                    at="2026-12-02T10:01:00Z",
                ),
            ),
            branch="main",
            url=f"{web}/actions?query=branch%3Amain",
        ),
        deployments=Deployments(
            latest=(
                # A workflow's javascript: environment URL is not a link.
                Deployment(
                    environment="preview",
                    state="success",
                    commit="b" * 40,
                    at="2026-11-25T21:00:00Z",
                    url=f"{web}/deployments/preview",
                ),
                Deployment(
                    environment="production",
                    state="success",
                    commit="a" * 40,
                    at="2026-11-20T09:00:00Z",
                    url="https://github.com/acme/orders/actions/runs/90",
                ),
                Deployment(
                    environment="staging",
                    state="running",
                    commit="c" * 40,
                    at="2026-12-02T12:00:00Z",
                    url=f"{web}/deployments/staging",
                ),
            ),
            url=f"{web}/deployments",
        ),
    )
    # No default branch: nothing to say of CI; no deployment: no deployments.
    assert collected.facts["acme/empty"] == Facts(
        pull_requests=PullRequests(open_count=0, url="https://github.com/acme/empty/pulls")
    )
    # GitHub's names ignore case; links keep the repository's own spelling.
    quiet = collected.facts["acme/quiet"]
    assert quiet.ci is not None and quiet.ci.runs == ()
    assert quiet.ci.url == "https://github.com/Acme/Quiet/actions?query=branch%3Amain"
    assert collected.detail["batches"] == 1 and collected.detail["graphql_points"] == 1


def test_two_thousand_repositories_cost_fifty_queries(fake: FakeGitHubContext) -> None:
    slugs = many(fake, 2000)
    source = open_source(fake)

    collected = source.collect(slugs, RequestBudget(200), NOW)

    assert collected.error == "" and collected.missing == {}
    assert len(collected.facts) == 2000
    assert fake.requests == collected.requests == 2000 // BATCH == 50
    assert fake.batches == [BATCH] * 50
    # Four connections a repository, 160 requests a query: 2 points of the hour's 5,000.
    assert collected.detail["graphql_points"] == fake.points == 100
    assert collected.detail["graphql_remaining"] == 4900
    facts = collected.facts["acme/svc-1234"]
    assert facts.ci is not None and facts.ci.runs[0].url.endswith("/actions/runs/1234")


def test_narrowed_to_the_workflows_an_entity_names(fake: FakeGitHubContext) -> None:
    orders_repo(fake)
    source = open_source(fake)
    facts = source.collect(["acme/orders"], RequestBudget(1), NOW).facts["acme/orders"]

    def shown(annotations: dict[str, str], src: GitHubContextSource = source) -> list[str]:
        narrowed = src.narrow(entity("orders", annotations), facts)
        assert narrowed.ci is not None and narrowed.pull_requests == facts.pull_requests
        return [run.workflow for run in narrowed.ci.runs]

    slug = {"github.com/project-slug": "acme/orders"}
    assert shown(slug) == ["CI", "Lint", "Nightly", "Release"]
    assert shown({**slug, "github.com/workflows": "Release, CI"}) == ["CI", "Release"]
    assert shown({**slug, "github.com/workflows": "Deploy"}) == []
    # The settings' list stands when the entity names none, not when it does.
    configured = open_source(fake, workflows=["Nightly"])
    assert shown(slug, configured) == ["Nightly"]
    assert shown({**slug, "github.com/workflows": "Lint"}, configured) == ["Lint"]
    assert source.targets_of(entity("orders", slug)) == ("acme/orders",)
    assert source.targets_of(entity("orders", {})) == ()


def test_missing_and_forbidden_repositories_are_their_own(fake: FakeGitHubContext) -> None:
    many(fake, 3)
    fake.add("acme", "secret", forbidden=True)
    source = open_source(fake)

    collected = source.collect(
        ["acme/svc-0000", "acme/gone", "acme/secret", "acme/svc-0002", "not a slug"],
        RequestBudget(5),
        NOW,
    )

    assert collected.error == ""
    assert sorted(collected.facts) == ["acme/svc-0000", "acme/svc-0002"]
    assert collected.missing == {
        "acme/gone": "not found on GitHub, or not visible to the token",
        "acme/secret": "not found on GitHub, or not visible to the token",
        "not a slug": "not an owner/repository slug",
    }
    assert fake.requests == 1


def test_no_token_asks_nothing(fake: FakeGitHubContext) -> None:
    many(fake, 2)
    source = open_source(fake, env={}, token_env="BACKLOT_GH")

    collected = source.collect(["acme/svc-0000"], RequestBudget(5), NOW)

    assert collected.error == "$BACKLOT_GH is not set"
    assert collected.facts == {} and fake.requests == 0 and source.secrets() == ()
    app = open_source(fake, env={}, app={"app_id": 1})
    assert "GITHUB_APP_PRIVATE_KEY" in app.collect(["acme/x"], RequestBudget(5), NOW).error


def test_a_refused_token_stops_the_run(fake: FakeGitHubContext) -> None:
    slugs = many(fake, 100)
    wrong = "ghp_revoked-token-ffffffffffffffff"
    source = open_source(fake, env={"GITHUB_TOKEN": wrong})

    collected = source.collect(slugs, RequestBudget(10), NOW)

    assert "refused" in collected.error and "401" in collected.error
    assert collected.facts == {} and set(collected.missing) == set(slugs)
    assert fake.requests == 1  # not once per batch
    assert source.secrets() == (wrong,)
    assert wrong not in repr(source) + collected.error + json.dumps(collected.missing)
    assert fake.seen_authorization == [f"Bearer {wrong}"]


def test_budget_spent_mid_way_keeps_what_came(fake: FakeGitHubContext) -> None:
    slugs = many(fake, 100)
    source = open_source(fake)

    collected = source.collect(slugs, RequestBudget(2), NOW)

    assert collected.error == ""
    assert sorted(collected.facts) == slugs[: 2 * BATCH]
    assert set(collected.missing) == set(slugs[2 * BATCH :])
    assert all("budget of 2 requests" in why for why in collected.missing.values())
    assert collected.requests == fake.requests == 2


def test_too_large_a_query_is_asked_in_halves(fake: FakeGitHubContext) -> None:
    slugs = many(fake, 100)
    fake.max_repositories = 15
    source = open_source(fake)

    collected = source.collect(slugs, RequestBudget(50), NOW)

    assert collected.missing == {} and len(collected.facts) == 100
    assert fake.batches and max(fake.batches) <= 15 and sum(fake.batches) == 100
    refused = fake.requests - len(fake.batches)
    assert collected.detail["too_large"] == refused
    # 40 and 20 refused, then 10, and sizes found between 10 and 19 in a few refusals.
    assert refused <= 5 and fake.requests <= 14, fake.batches


def test_one_repository_too_large_for_any_query(fake: FakeGitHubContext) -> None:
    many(fake, 3)
    fake.max_repositories = 0
    source = open_source(fake)

    collected = source.collect(["acme/svc-0001", "acme/svc-0002"], RequestBudget(10), NOW)

    assert collected.error == "" and collected.facts == {}
    assert set(collected.missing) == {"acme/svc-0001", "acme/svc-0002"}
    assert all("too large" in why for why in collected.missing.values())
    assert fake.requests == 3  # both, then each alone


def test_github_down_is_the_sources_error(fake: FakeGitHubContext) -> None:
    slugs = many(fake, 50)
    fake.fault("500", times=20)
    sleeps = Sleeps()
    source = open_source(fake, sleeps=sleeps)

    collected = source.collect(slugs, RequestBudget(10), NOW)

    assert "GitHub failed" in collected.error and "HTTP 500" in collected.error
    assert collected.facts == {} and set(collected.missing) == set(slugs)
    assert collected.requests == 1 and fake.requests == 6  # the client's retries, once
    assert len(sleeps) == 5 and collected.detail["retries"] == 5


def test_a_failed_query_loses_its_batch_only(fake: FakeGitHubContext) -> None:
    slugs = many(fake, 100)
    fake.fault("internal")
    source = open_source(fake)

    collected = source.collect(slugs, RequestBudget(10), NOW)

    assert collected.error == ""
    assert set(collected.missing) == set(slugs[:BATCH])
    assert "Something went wrong" in collected.missing[slugs[0]]
    assert len(collected.facts) == 100 - BATCH


def test_rate_limits_are_waited_out(fake: FakeGitHubContext) -> None:
    slugs = many(fake, 60)
    fake.fault("pass")
    fake.fault("rate-limited")
    fake.fault("secondary")
    sleeps = Sleeps()
    source = open_source(fake, sleeps=sleeps)

    collected = source.collect(slugs, RequestBudget(10), NOW)

    assert collected.missing == {} and len(collected.facts) == 60
    assert collected.requests == 2 and fake.requests == 4
    assert len(sleeps) == 2 and 25 <= sleeps[0] <= 31 and sleeps[1] == 7
    assert collected.detail["retries"] == 2


def test_enterprise_server_from_the_environment(fake: FakeGitHubContext) -> None:
    fake.prefix = "/api/v3"
    fake.web = "https://ghe.acme.test"
    many(fake, 1, owner="platform")
    config = GitHubContext(type="github", token_env="GHE_TOKEN")
    env = {"GHE_TOKEN": fake.token, "GITHUB_API_URL": fake.base + "/api/v3"}
    source = GitHubContextSource(config, env, None)

    collected = source.collect(["platform/svc-0000"], RequestBudget(1), NOW)

    facts = collected.facts["platform/svc-0000"]
    assert facts.pull_requests is not None
    assert facts.pull_requests.url == "https://ghe.acme.test/platform/svc-0000/pulls"


def test_refresh_end_to_end_with_a_snapshot(fake: FakeGitHubContext, tmp_path: Path) -> None:
    orders_repo(fake)
    many(fake, 2)
    source = open_source(fake)
    entities = [
        entity("orders", {"github.com/project-slug": "acme/orders"}),
        entity("orders-ui", {"github.com/project-slug": "acme/orders"}),  # one target
        entity("billing", {"github.com/project-slug": "acme/svc-0001"}),
        entity("ghost", {"github.com/project-slug": "acme/deleted"}),
        entity("plain", {}),
    ]

    snapshot = refresh_context(entities, [(source, 20)], None, keep_hours=24, now=NOW)
    path = tmp_path / "context.json"
    snapshot.write(path)

    run = snapshot.runs["github"]
    assert (run.targets, run.fetched, run.requests, run.budget) == (3, 2, 1, 20)
    assert run.missing == {"acme/deleted": "not found on GitHub, or not visible to the token"}
    assert snapshot.entities["component:default/orders-ui"] == {"github": ["acme/orders"]}
    assert "component:default/plain" not in snapshot.entities
    read = ContextSnapshot.read(path)
    assert read is not None
    orders = read.targets["github"]["acme/orders"]
    assert orders.fetched_at == "2026-12-03T12:00:00Z" and orders.stale == ""
    assert orders.facts.pull_requests is not None and orders.facts.pull_requests.open_count == 7
    assert fake.token not in path.read_text()

    # The token is revoked: the last good facts stay, marked with why.
    later = datetime(2026, 12, 3, 12, 5, tzinfo=UTC)
    revoked = open_source(fake, env={"GITHUB_TOKEN": "ghp_revoked-0000000000000000"})
    again = refresh_context(entities, [(revoked, 20)], read, keep_hours=24, now=later)
    again.write(path)
    kept = again.targets["github"]["acme/orders"]
    assert kept.facts == orders.facts and "refused" in kept.stale
    assert again.runs["github"].kept == 2 and "refused" in again.runs["github"].error
    assert "ghp_revoked" not in path.read_text()


def test_github_app_installation_token(fake: FakeGitHubContext) -> None:
    """An App's installation token is learnt mid-run, after the refresh took the secrets to
    scrub: the source redacts it itself, and names it among its secrets afterwards."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    fake.app_public_key = key.public_key()
    slugs = many(fake, 50)
    fake.fault("echo")
    source = open_source(fake, env={"GITHUB_APP_PRIVATE_KEY": pem}, app={"app_id": fake.app_id})
    entities = [entity(f"e{i}", {"github.com/project-slug": s}) for i, s in enumerate(slugs)]

    snapshot = refresh_context(entities, [(source, 5)], None, keep_hours=24, now=NOW)

    run = snapshot.runs["github"]
    assert run.fetched == 50 - BATCH and run.requests == 2
    # The installation of the repositories' owner, looked up once, its token bought once.
    assert fake.app_calls == [
        "GET /orgs/acme/installation",
        "POST /app/installations/777/access_tokens",
    ]
    assert fake.seen_authorization == [f"Bearer {fake.installation_token}"] * 2
    assert "Bearer ***" in run.missing[slugs[0]]
    assert fake.installation_token not in snapshot.model_dump_json()
    assert set(source.secrets()) == {pem, fake.installation_token}
    assert "BEGIN PRIVATE KEY" not in repr(source)


def test_no_token_in_any_output(fake: FakeGitHubContext) -> None:
    """Not in the source's repr, the facts, the reasons, or an error that echoes the
    request's Authorization header (as a misbehaving proxy in front of GitHub might)."""
    slugs = many(fake, 50)
    token = fake.token
    fake.fault("echo")
    source = open_source(fake)
    entities = [entity(f"e{i}", {"github.com/project-slug": s}) for i, s in enumerate(slugs)]
    entities.append(entity("gone", {"github.com/project-slug": "zz/missing"}))

    snapshot = refresh_context(entities, [(source, 5)], None, keep_hours=24, now=NOW)

    run = snapshot.runs["github"]
    assert token in source.secrets()
    assert run.fetched == 50 - BATCH and len(run.missing) == BATCH + 1
    echoed = run.missing[slugs[0]]
    assert "Bearer ***" in echoed
    assert token not in snapshot.model_dump_json() + repr(source) + repr(source.settings)
    assert run.missing["zz/missing"] == "not found on GitHub, or not visible to the token"
