"""GitHub: open pull requests, CI on the default branch and the last deployment of each
environment, for the repositories entities name (``github.com/project-slug``).

One GraphQL query asks for ``BATCH`` repositories at once, each an aliased
``repository(owner:, name:)`` part; GitHub answers the parts it can and marks the others
NOT_FOUND or FORBIDDEN, so one renamed or private repository costs nothing but its own
facts. 2,000 repositories are 50 queries, where Backstage's cards ask the REST API once
per card per page view.

The batch size keeps to GitHub's limits: each repository asks four connections (open pull
requests, the head commit's check suites, environments, recent deployments) of at most
fifty nodes, so a query of 40 costs about 2 points of the 5,000 an hour and a few
thousand nodes of the 500,000 allowed; what bounds it is GitHub's 10 s per query, after
which it answers 502 and charges extra. A query GitHub finds too large or too slow
(``ResourceLimits``) is asked again in halves, and the batch never grows back past a
size that failed.

The cache folder is not used: every fact here changes without a cheaper signal than the
query itself (a pull request opened or a deployment made does not move ``pushedAt``, and
GraphQL answers carry no ETag), so a warm refresh could skip nothing.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..config import GitHubContext
from ..github import (
    AppAuth,
    GitHubClient,
    GitHubError,
    RateLimited,
    ResourceLimits,
    TokenAuth,
    api_url_from,
    web_url,
)
from ._facts import (
    CiStatus,
    Deployment,
    Deployments,
    Facts,
    PullRequest,
    PullRequests,
    RunState,
    WorkflowRun,
)
from ._source import BudgetSpent, Collected, RequestBudget

__all__ = ["ANNOTATION", "BATCH", "WORKFLOWS_ANNOTATION", "GitHubContextSource"]

ANNOTATION = "github.com/project-slug"
WORKFLOWS_ANNOTATION = "github.com/workflows"
BATCH = 40
RECENT_PULLS = 5
# Stop after this many queries in a row failed for a reason that is not one repository's:
# the same failure (an older Enterprise Server's schema, say) would repeat for every batch.
MAX_FAILED_QUERIES = 2

# GitHub's own rules for the two halves of a slug; anything else is not asked for.
_SLUG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")

# checkSuites(last:): GitHub lists a commit's suites oldest first, and a busy head commit
# (pushes, schedules, other apps' checks) can have more than one page of them.
_FRAGMENTS = """
fragment repositoryFacts on Repository {
  url
  pullRequests(states: OPEN, first: {pulls}, orderBy: {field: CREATED_AT, direction: DESC}) {
    totalCount
    nodes { title url createdAt isDraft reviewDecision author { login } }
  }
  defaultBranchRef {
    name
    target {
      ... on Commit {
        oid
        checkSuites(last: 50) {
          nodes { status conclusion createdAt workflowRun { url createdAt workflow { name } } }
        }
      }
    }
  }
  environments(first: 10) {
    nodes { name latestCompletedDeployment { ...deployment } }
  }
  deployments(first: 20, orderBy: {field: CREATED_AT, direction: DESC}) {
    nodes { ...deployment }
  }
}

fragment deployment on Deployment {
  environment
  commitOid
  createdAt
  latestStatus { state createdAt logUrl environmentUrl }
}
""".replace("{pulls}", str(RECENT_PULLS))

_CONCLUSIONS: dict[str, RunState] = {
    "SUCCESS": "success",
    "FAILURE": "failure",
    "TIMED_OUT": "failure",
    "STARTUP_FAILURE": "failure",
    "CANCELLED": "cancelled",
    "SKIPPED": "skipped",
    "NEUTRAL": "skipped",
}
_DEPLOYMENT_STATES: dict[str, RunState] = {
    "SUCCESS": "success",
    "FAILURE": "failure",
    "ERROR": "failure",
    "PENDING": "running",
    "QUEUED": "running",
    "IN_PROGRESS": "running",
    "WAITING": "running",
}


def batch_query(size: int) -> str:
    """One query for ``size`` repositories: ``rN: repository(owner: $oN, name: $nN)``.
    Slugs travel as variables, never spliced into the query text."""
    variables = ", ".join(f"$o{i}: String!, $n{i}: String!" for i in range(size))
    parts = "\n".join(
        f"  r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...repositoryFacts }}"
        for i in range(size)
    )
    return (
        f"query({variables}) {{\n  rateLimit {{ cost remaining resetAt }}\n{parts}\n}}\n"
        + _FRAGMENTS
    )


class GitHubContextSource:
    name = "github"
    title = "GitHub"

    def __init__(
        self,
        settings: GitHubContext,
        env: Mapping[str, str],
        cache: Path | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        # The environment given, not the process's: $GITHUB_API_URL as the crawl reads it.
        self.api_url = api_url_from(settings.api_url or env.get("GITHUB_API_URL"))
        self.web = web_url(self.api_url)
        self._token = env.get(settings.token_env, "")
        self._app_key = env.get(settings.app.private_key_env, "") if settings.app else ""
        self._sleep = sleep
        self._auth: TokenAuth | AppAuth | None = None

    def __repr__(self) -> str:
        return f"GitHubContextSource({self.api_url!r})"

    def secrets(self) -> tuple[str, ...]:
        held: tuple[str, ...] = (self._token, self._app_key)
        if self._auth is not None:  # an App's installation token, once it has one
            held += self._auth.secrets()
        return tuple(dict.fromkeys(s for s in held if s))

    def targets_of(self, entity: Mapping[str, Any]) -> tuple[str, ...]:
        value = (entity.get("metadata", {}).get("annotations") or {}).get(ANNOTATION)
        if not isinstance(value, str) or not value.strip():
            return ()
        return (value.strip(),)

    def narrow(self, entity: Mapping[str, Any], facts: Facts) -> Facts:
        """The workflows the entity names in ``github.com/workflows`` (comma-separated
        names, as Backstage's GitHub Actions plugin reads it), else the settings' list,
        else every workflow."""
        if facts.ci is None:
            return facts
        value = (entity.get("metadata", {}).get("annotations") or {}).get(WORKFLOWS_ANNOTATION)
        named = (
            {w.strip() for w in value.split(",") if w.strip()} if isinstance(value, str) else set()
        )
        wanted = named or set(self.settings.workflows)
        if not wanted:
            return facts
        runs = tuple(r for r in facts.ci.runs if r.workflow in wanted)
        return facts.model_copy(update={"ci": facts.ci.model_copy(update={"runs": runs})})

    # ------------------------------------------------------------------ collecting

    def collect(self, targets: Sequence[str], budget: RequestBudget, now: datetime) -> Collected:
        collected = Collected()
        slugs: list[str] = []
        for target in targets:
            if _SLUG.match(target):
                slugs.append(target)
            else:
                collected.missing[target] = "not an owner/repository slug"
        if not slugs:
            return collected
        try:
            client = self._client(slugs)
        except GitHubError as exc:
            collected.error = str(exc)
            return collected
        run = _Run(client, budget, collected)
        try:
            run.fetch(slugs, self._facts)
        finally:
            client.close()
        cost = client.budget
        collected.requests = budget.used
        collected.detail = {
            "repositories": len(slugs),
            "batches": run.queries,
            "batch_size": run.size,
            "too_large": run.too_large,
            "graphql_points": cost.graphql_points,
            "graphql_remaining": cost.graphql_remaining,
            "http_requests": cost.requests,
            "retries": cost.retries,
            "waited_seconds": round(cost.waited_seconds, 1),
        }
        return collected

    def _client(self, slugs: list[str]) -> GitHubClient:
        auth: TokenAuth | AppAuth
        if self.settings.app is not None:
            if not self._app_key:
                raise GitHubError(
                    f"the GitHub App's private key is not in ${self.settings.app.private_key_env}"
                )
            # Without an installation id, the App's installation on the owner most of the
            # repositories belong to: one installation token reads one organisation.
            owner = Counter(s.split("/", 1)[0] for s in slugs).most_common(1)[0][0]
            auth = AppAuth(
                self.settings.app.app_id, self._app_key, owner, self.settings.app.installation_id
            )
        elif self._token:
            auth = TokenAuth(self._token)
        else:
            # GitHub's GraphQL API answers no anonymous query.
            raise GitHubError(f"${self.settings.token_env} is not set")
        self._auth = auth
        return GitHubClient(
            self.api_url, auth, timeout=self.settings.timeout_seconds, sleep=self._sleep
        )

    # ------------------------------------------------------------------ facts

    def _facts(self, slug: str, node: dict[str, Any]) -> Facts:
        repo_url = _http(node.get("url")) or f"{self.web}/{slug}"
        return Facts(
            pull_requests=_pull_requests(node.get("pullRequests"), repo_url),
            ci=_ci(node.get("defaultBranchRef"), repo_url),
            deployments=_deployments(node, repo_url),
        )


class _Run:
    """One collect: the batches asked, halved when too large, stopped when spent."""

    def __init__(self, client: GitHubClient, budget: RequestBudget, collected: Collected) -> None:
        self.client = client
        self.budget = budget
        self.collected = collected
        self.size = BATCH
        self.ceiling = BATCH  # below the smallest batch GitHub found too large
        self.queries = 0
        self.too_large = 0

    def fetch(self, slugs: list[str], facts: Callable[[str, dict[str, Any]], Facts]) -> None:
        pending = deque(slugs)
        failed = 0
        missing = self.collected.missing
        while pending:
            batch = [pending.popleft() for _ in range(min(self.size, len(pending)))]
            try:
                self.budget.spend()
            except BudgetSpent as exc:
                self._give_up([*batch, *pending], f"not asked: {exc}")
                return
            self.queries += 1
            retries = self.client.budget.retries
            variables: dict[str, Any] = {}
            for i, slug in enumerate(batch):
                variables[f"o{i}"], variables[f"n{i}"] = slug.split("/", 1)
            try:
                data = self.client.graphql(batch_query(len(batch)), variables, partial=True)
            except ResourceLimits as exc:
                self.too_large += 1
                if len(batch) == 1:
                    missing[batch[0]] = self._say(f"too large for one GitHub query ({exc})")
                    continue
                self.ceiling = min(self.ceiling, len(batch) - 1)
                self.size = max(1, len(batch) // 2)
                pending.extendleft(reversed(batch))
                continue
            except RateLimited as exc:
                self._stop([*batch, *pending], str(exc))
                return
            except GitHubError as exc:
                if exc.status == 401:
                    self._stop([*batch, *pending], f"GitHub refused the credentials: {exc}")
                    return
                if exc.status in (403, 404):  # not a rate limit: the client waits those out
                    self._stop([*batch, *pending], f"GitHub refused the request: {exc}")
                    return
                down = (exc.status or 0) >= 500 or self.client.budget.retries > retries
                failed += 1
                if down or failed >= MAX_FAILED_QUERIES:
                    self._stop([*batch, *pending], f"GitHub failed: {exc}")
                    return
                self._give_up(batch, f"GitHub failed the query: {exc}")
                continue
            failed = 0
            for i, slug in enumerate(batch):
                node = data.get(f"r{i}")
                if not isinstance(node, dict):
                    missing[slug] = "not found on GitHub, or not visible to the token"
                    continue
                try:
                    self.collected.facts[slug] = facts(slug, node)
                except (KeyError, TypeError, ValueError) as exc:
                    missing[slug] = self._say(f"GitHub's answer could not be read: {exc}")
            self._grow()

    def _grow(self) -> None:
        # Doubling until GitHub first refuses; after that, halfway towards the smallest
        # size it refused, so a limit of 30 is found in a few queries, not one per step.
        grown = self.size * 2
        if grown > self.ceiling:
            grown = max(self.size, (self.size + self.ceiling + 1) // 2)
        self.size = grown

    def _say(self, text: str) -> str:
        # An App's installation token is learnt mid-run, after the refresh asked for the
        # secrets to scrub: every message is redacted here too.
        return self.client.redact(text)

    def _give_up(self, slugs: Sequence[str], reason: str) -> None:
        reason = self._say(reason)
        for slug in slugs:
            self.collected.missing[slug] = reason

    def _stop(self, slugs: Sequence[str], reason: str) -> None:
        self.collected.error = self._say(reason)
        self._give_up(slugs, reason)


def _http(value: object) -> str:
    """An absolute http(s) URL, or "": links on the page come from repositories' own data
    (a workflow writes its environment URL)."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value
    return ""


def _pull_requests(value: Any, repo_url: str) -> PullRequests | None:
    if not isinstance(value, dict):
        return None
    recent = []
    for node in (value.get("nodes") or [])[:RECENT_PULLS]:
        if not isinstance(node, dict):
            continue
        recent.append(
            PullRequest(
                title=str(node.get("title") or ""),
                url=_http(node.get("url")) or f"{repo_url}/pulls",
                author=str((node.get("author") or {}).get("login") or ""),
                created_at=str(node.get("createdAt") or ""),
                draft=bool(node.get("isDraft")),
                review=str(node.get("reviewDecision") or "").lower(),
            )
        )
    return PullRequests(
        open_count=int(value.get("totalCount") or 0), recent=tuple(recent), url=f"{repo_url}/pulls"
    )


def _ci(ref: Any, repo_url: str) -> CiStatus | None:
    """The latest run of each workflow on the default branch's head commit."""
    if not isinstance(ref, dict):
        return None  # an empty repository has no default branch
    branch = str(ref.get("name") or "")
    commit = ref.get("target") or {}
    oid = str(commit.get("oid") or "")
    latest: dict[str, tuple[str, WorkflowRun]] = {}
    for suite in (commit.get("checkSuites") or {}).get("nodes") or []:
        run = (suite or {}).get("workflowRun")
        if not isinstance(run, dict):
            continue  # another app's checks, not a workflow
        workflow = str((run.get("workflow") or {}).get("name") or "")
        at = str(run.get("createdAt") or suite.get("createdAt") or "")
        if not workflow or (workflow in latest and latest[workflow][0] >= at):
            continue
        if suite.get("status") == "COMPLETED":
            state = _CONCLUSIONS.get(str(suite.get("conclusion")), "unknown")
        else:
            state = "running"
        latest[workflow] = (
            at,
            WorkflowRun(
                workflow=workflow,
                state=state,
                url=_http(run.get("url")) or f"{repo_url}/actions",
                branch=branch,
                commit=oid,
                at=at,
            ),
        )
    return CiStatus(
        runs=tuple(run for _, (_, run) in sorted(latest.items())),
        branch=branch,
        url=f"{repo_url}/actions?query={quote('branch:' + branch, safe='')}",
    )


def _deployments(node: dict[str, Any], repo_url: str) -> Deployments | None:
    """The last deployment of each environment: the newest of the recent deployments
    (which shows one still in progress) and of each environment's last completed one (which
    an environment deployed to long ago still has when the recent ones are elsewhere)."""
    candidates = [d for d in (node.get("deployments") or {}).get("nodes") or [] if d]
    for environment in (node.get("environments") or {}).get("nodes") or []:
        last = (environment or {}).get("latestCompletedDeployment")
        if isinstance(last, dict):
            candidates.append(
                {**last, "environment": last.get("environment") or environment["name"]}
            )
    newest: dict[str, dict[str, Any]] = {}
    for deployment in candidates:
        name = str(deployment.get("environment") or "")
        if name and str(deployment.get("createdAt") or "") > str(
            (newest.get(name) or {}).get("createdAt") or ""
        ):
            newest[name] = deployment
    if not newest:
        return None
    latest = []
    for name, deployment in sorted(newest.items()):
        status = deployment.get("latestStatus") or {}
        latest.append(
            Deployment(
                environment=name,
                state=_DEPLOYMENT_STATES.get(str(status.get("state")), "unknown"),
                commit=str(deployment.get("commitOid") or ""),
                at=str(status.get("createdAt") or deployment.get("createdAt") or ""),
                url=_http(status.get("logUrl"))
                or _http(status.get("environmentUrl"))
                or f"{repo_url}/deployments/{quote(name, safe='')}",
            )
        )
    return Deployments(latest=tuple(latest), url=f"{repo_url}/deployments")
