"""A fake of the GitHub GraphQL subset the context source reads (pull requests, check
suites of a commit, environments, deployments), served over real HTTP on 127.0.0.1.

Queries are parsed, validated and executed by graphql-core against a schema written to
GitHub's own (the same field names, arguments, enums and nullability as GitHub's public
schema for the types used), so a field GitHub does not have, a wrong argument or a
fragment on the wrong type fails here as it would there: with status 200 and ``errors``.
What GitHub adds it adds too: ``type`` on errors (``NOT_FOUND`` for a repository that is
not there, ``FORBIDDEN`` for one the token may not see, each naming its alias in
``path`` with that part null in ``data``), points counted as GitHub counts them (the
requests a query's connections need, assuming full pages, / 100, at least 1) against
``graphql_remaining``, ``x-ratelimit-*`` headers, 401 for a bad token, and
``RESOURCE_LIMITS_EXCEEDED`` for a query asking more than ``max_repositories``.

Faults are queued as in ``github_fake``: ``fake.fault("502")`` makes the next call answer
so. ``fake.requests`` counts the API calls served (an App's token exchange is in
``app_calls``); ``fake.batches`` records how many
repositories each query asked for.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.language import FragmentDefinitionNode, FragmentSpreadNode

from .local_http import LocalServer

SCHEMA = build_schema(
    """
    scalar DateTime
    scalar URI
    scalar GitObjectID

    type Query {
      rateLimit(dryRun: Boolean = false): RateLimit
      repository(followRenames: Boolean = true, name: String!, owner: String!): Repository
    }

    type RateLimit {
      cost: Int!
      limit: Int!
      nodeCount: Int!
      remaining: Int!
      resetAt: DateTime!
      used: Int!
    }

    enum OrderDirection { ASC DESC }
    enum PullRequestState { CLOSED MERGED OPEN }
    enum IssueOrderField { COMMENTS CREATED_AT UPDATED_AT }
    input IssueOrder { direction: OrderDirection!, field: IssueOrderField! }
    enum DeploymentOrderField { CREATED_AT }
    input DeploymentOrder { direction: OrderDirection!, field: DeploymentOrderField! }
    enum EnvironmentOrderField { NAME }
    input Environments { direction: OrderDirection!, field: EnvironmentOrderField! }
    enum EnvironmentPinnedFilterField { ALL NONE ONLY }
    enum PullRequestReviewDecision { APPROVED CHANGES_REQUESTED REVIEW_REQUIRED }
    enum CheckStatusState { COMPLETED IN_PROGRESS PENDING QUEUED REQUESTED WAITING }
    enum CheckConclusionState {
      ACTION_REQUIRED CANCELLED FAILURE NEUTRAL SKIPPED STALE STARTUP_FAILURE SUCCESS TIMED_OUT
    }
    enum DeploymentStatusState {
      ERROR FAILURE INACTIVE IN_PROGRESS PENDING QUEUED SUCCESS WAITING
    }
    input CheckSuiteFilter { appId: Int, checkName: String }

    type PageInfo {
      endCursor: String
      hasNextPage: Boolean!
      hasPreviousPage: Boolean!
      startCursor: String
    }

    type Repository {
      name: String!
      nameWithOwner: String!
      url: URI!
      defaultBranchRef: Ref
      pullRequests(
        after: String, baseRefName: String, before: String, first: Int, headRefName: String,
        labels: [String!], last: Int, orderBy: IssueOrder, states: [PullRequestState!]
      ): PullRequestConnection!
      deployments(
        after: String, before: String, environments: [String!], first: Int, last: Int,
        orderBy: DeploymentOrder = {field: CREATED_AT, direction: ASC}
      ): DeploymentConnection!
      environments(
        after: String, before: String, first: Int, last: Int, names: [String!] = [],
        orderBy: Environments = {field: NAME, direction: ASC},
        pinnedEnvironmentFilter: EnvironmentPinnedFilterField = ALL
      ): EnvironmentConnection!
    }

    interface Actor { login: String!, url: URI! }
    type User implements Actor { login: String!, url: URI! }
    type Bot implements Actor { login: String!, url: URI! }

    type PullRequestConnection { nodes: [PullRequest], pageInfo: PageInfo!, totalCount: Int! }
    type PullRequest {
      author: Actor
      createdAt: DateTime!
      isDraft: Boolean!
      number: Int!
      reviewDecision: PullRequestReviewDecision
      title: String!
      url: URI!
    }

    type Ref { name: String!, target: GitObject }
    interface GitObject { oid: GitObjectID! }
    type Tree implements GitObject { oid: GitObjectID! }
    type Commit implements GitObject {
      oid: GitObjectID!
      checkSuites(
        after: String, before: String, filterBy: CheckSuiteFilter, first: Int, last: Int
      ): CheckSuiteConnection
    }
    type CheckSuiteConnection { nodes: [CheckSuite], pageInfo: PageInfo!, totalCount: Int! }
    type CheckSuite {
      app: App
      conclusion: CheckConclusionState
      createdAt: DateTime!
      status: CheckStatusState!
      updatedAt: DateTime!
      workflowRun: WorkflowRun
    }
    type App { name: String!, slug: String! }
    type WorkflowRun {
      createdAt: DateTime!
      event: String!
      runNumber: Int!
      updatedAt: DateTime!
      url: URI!
      workflow: Workflow!
    }
    type Workflow { name: String!, url: URI! }

    type DeploymentConnection { nodes: [Deployment], pageInfo: PageInfo!, totalCount: Int! }
    type Deployment {
      commitOid: String!
      createdAt: DateTime!
      environment: String
      latestStatus: DeploymentStatus
      updatedAt: DateTime!
    }
    type DeploymentStatus {
      createdAt: DateTime!
      environmentUrl: URI
      logUrl: URI
      state: DeploymentStatusState!
      updatedAt: DateTime!
    }
    type EnvironmentConnection { nodes: [Environment], pageInfo: PageInfo!, totalCount: Int! }
    type Environment { latestCompletedDeployment: Deployment, name: String! }
    """
)

_COMPLETED = {"SUCCESS", "FAILURE", "ERROR"}


@dataclass
class Pull:
    title: str
    created_at: str
    author: str | None = "octocat"  # None: a deleted account ("ghost")
    draft: bool = False
    review: str | None = None
    number: int = 0


@dataclass
class Suite:
    """A check suite on the head commit; ``workflow`` None for another app's checks."""

    workflow: str | None
    created_at: str
    status: str = "COMPLETED"
    conclusion: str | None = "SUCCESS"
    run_id: int = 0


@dataclass
class Deploy:
    environment: str
    created_at: str
    state: str | None = "SUCCESS"  # the latest status; None: no status yet
    commit: str = "0" * 40
    log_url: str | None = None
    environment_url: str | None = None


@dataclass
class Repo:
    owner: str
    name: str
    default_branch: str | None = "main"  # None: an empty repository
    pulls: list[Pull] = field(default_factory=list)
    closed_pulls: int = 0
    suites: list[Suite] = field(default_factory=list)  # oldest first, as GitHub lists them
    deployments: list[Deploy] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    forbidden: bool = False  # the token may not see it (an SSO org, an App not installed)

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def head(self) -> str:
        return hashlib.sha1(f"{self.slug} head".encode()).hexdigest()


class _PartError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class FakeGitHubContext(LocalServer):
    def __init__(self, token: str = "ghp_context-token-0123456789abcdef") -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}  # by lower-cased slug: GitHub's names ignore case
        self.web = "https://github.com"
        self.prefix = ""  # "/api/v3" to look like an Enterprise Server
        self.max_repositories = 100  # more in one query: RESOURCE_LIMITS_EXCEEDED
        self.graphql_remaining = 5000
        self.requests = 0
        self.batches: list[int] = []
        self.points = 0
        self.faults: deque[str] = deque()
        self.seen_authorization: list[str] = []
        # A GitHub App: JWTs are checked against its public key (set it to enable), and buy
        # an installation token for the organisation it is installed on.
        self.app_public_key: Any = None
        self.app_id = 4242
        self.app_org = "acme"
        self.installation_token = "ghs_context-installation-token-55555"
        self.app_calls: list[str] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control

    def add(self, owner: str, name: str, **options: Any) -> Repo:
        repo = Repo(owner, name, **options)
        self.repos[repo.slug.lower()] = repo
        return repo

    def fault(self, what: str, times: int = 1) -> None:
        self.faults.extend([what] * times)

    # ------------------------------------------------------------------ serving

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0]
        endpoint = "/api/graphql" if self.prefix else "/graphql"
        if path.startswith(self.prefix + "/orgs/") or path.startswith(self.prefix + "/app/"):
            self._app(handler, path[len(self.prefix) :])  # neither counted nor faulted
            return
        with self._lock:
            self.requests += 1
            fault = self.faults.popleft() if self.faults else None
        if handler.command != "POST" or path != endpoint:
            self._reply(handler, 404, {"message": "Not Found"})
            return
        authorization = handler.headers.get("Authorization", "")
        self.seen_authorization.append(authorization)
        if fault == "401" or authorization not in (
            f"Bearer {self.token}",
            f"Bearer {self.installation_token}",
        ):
            self._reply(
                handler,
                401,
                {
                    "message": "Bad credentials",
                    "documentation_url": "https://docs.github.com/graphql",
                },
            )
            return
        if fault == "echo":
            self._reply(
                handler,
                200,
                {"data": None, "errors": [{"message": f"bad request: {authorization}"}]},
            )
            return
        if fault is not None and self._fault(handler, fault):
            return
        try:
            request = json.loads(body)
        except ValueError:
            self._reply(handler, 400, {"message": "Problems parsing JSON"})
            return
        self._reply(handler, 200, self._answer(request))

    def _app(self, handler: http.server.BaseHTTPRequestHandler, path: str) -> None:
        self.app_calls.append(f"{handler.command} {path}")
        if not self._valid_jwt(handler.headers.get("Authorization", "")):
            self._reply(handler, 401, {"message": "A JSON web token could not be decoded"})
        elif handler.command == "GET" and path == f"/orgs/{self.app_org}/installation":
            self._reply(handler, 200, {"id": 777})
        elif handler.command == "POST" and path == "/app/installations/777/access_tokens":
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
            self._reply(handler, 201, {"token": self.installation_token, "expires_at": expires})
        else:
            self._reply(handler, 404, {"message": "Not Found"})

    def _valid_jwt(self, header: str) -> bool:
        if self.app_public_key is None or not header.startswith("Bearer "):
            return False
        import jwt

        try:
            claims = jwt.decode(header[7:], self.app_public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return str(claims.get("iss")) == str(self.app_id)

    def _reply(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("x-ratelimit-limit", "5000")
        handler.send_header("x-ratelimit-remaining", str(self.graphql_remaining))
        handler.send_header("x-ratelimit-used", str(5000 - self.graphql_remaining))
        handler.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
        handler.send_header("x-ratelimit-resource", "graphql")
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _fault(self, handler: http.server.BaseHTTPRequestHandler, fault: str) -> bool:
        if fault == "pass":
            return False
        if fault in ("500", "502", "503"):
            self._reply(handler, int(fault), {"message": "Server Error"})
        elif fault == "resource-limits":
            self._reply(handler, 200, _resource_limits())
        elif fault == "rate-limited":
            reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30))
            self._reply(
                handler,
                200,
                {
                    "data": {"rateLimit": {"cost": 1, "remaining": 0, "resetAt": reset}},
                    "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}],
                },
            )
        elif fault == "secondary":
            self._reply(
                handler,
                403,
                {"message": "You have exceeded a secondary rate limit."},
                {"retry-after": "7"},
            )
        elif fault == "internal":
            self._reply(
                handler,
                200,
                {
                    "data": None,
                    "errors": [{"message": "Something went wrong while executing your query."}],
                },
            )
        else:
            raise ValueError(f"unknown fault {fault!r}")
        return True

    # ------------------------------------------------------------------ GraphQL

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            document = parse(str(request.get("query", "")))
        except GraphQLError as exc:
            return {"errors": [{"message": exc.message, "extensions": {"code": "parseError"}}]}
        problems = validate(SCHEMA, document)
        if problems:
            return {
                "errors": [{"message": p.message, "locations": _locations(p)} for p in problems]
            }
        repositories, connections = _measure(document)
        if repositories > self.max_repositories:
            return _resource_limits()
        with self._lock:
            self.batches.append(repositories)
        cost = max(1, round(connections / 100))
        with self._lock:
            self.graphql_remaining = max(0, self.graphql_remaining - cost)
            self.points += cost
            remaining = self.graphql_remaining
        rate = {
            "cost": cost,
            "limit": 5000,
            "nodeCount": connections,
            "remaining": remaining,
            "resetAt": "2030-01-01T00:00:00Z",
            "used": 5000 - remaining,
        }
        result = execute_sync(
            SCHEMA,
            document,
            root_value={"rateLimit": rate, "repository": self._repository},
            variable_values=request.get("variables") or {},
            field_resolver=_resolve,
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_github_error(e) for e in result.errors]
        return answer

    def _repository(self, info: Any, owner: str, name: str, **_: Any) -> dict[str, Any]:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise _PartError(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            )
        if repo.forbidden:
            raise _PartError("FORBIDDEN", "Resource not accessible by integration")
        return self._node(repo)

    # Plain dicts for graphql-core's resolvers; connections are functions of their
    # arguments, as GitHub's are.
    def _node(self, repo: Repo) -> dict[str, Any]:
        url = f"{self.web}/{repo.slug}"
        branch = None
        if repo.default_branch is not None:
            suites = [self._suite(repo, s) for s in repo.suites]
            branch = {
                "name": repo.default_branch,
                "target": {
                    "__typename": "Commit",
                    "oid": repo.head,
                    "checkSuites": lambda **a: _connection(suites, **a),
                },
            }
        by_time = sorted(repo.deployments, key=lambda d: d.created_at)
        deployments = [self._deployment(repo, d) for d in by_time]

        def latest_completed(environment: str) -> dict[str, Any] | None:
            done = [
                d
                for d, raw in zip(deployments, by_time, strict=True)
                if raw.environment == environment and raw.state in _COMPLETED
            ]
            return done[-1] if done else None

        environments = [
            {"name": e, "latestCompletedDeployment": latest_completed(e)}
            for e in sorted(repo.environments)
        ]
        pulls: list[dict[str, Any]] = [
            {
                "title": p.title,
                "url": f"{url}/pull/{p.number}",
                "createdAt": p.created_at,
                "isDraft": p.draft,
                "number": p.number,
                "reviewDecision": p.review,
                "author": None
                if p.author is None
                else {
                    "__typename": "Bot" if p.author.endswith("[bot]") else "User",
                    "login": p.author,
                    "url": f"{self.web}/{p.author}",
                },
            }
            for p in sorted(repo.pulls, key=lambda p: p.number)
        ]

        def pull_requests(**args: Any) -> dict[str, Any]:
            states = args.get("states") or ["OPEN", "CLOSED", "MERGED"]
            chosen = pulls if "OPEN" in states else []
            extra = repo.closed_pulls if {"CLOSED", "MERGED"} & set(states) else 0
            order = args.get("orderBy")
            if order is not None:
                key = "createdAt" if order["field"] == "CREATED_AT" else "number"
                chosen = sorted(chosen, key=lambda p: p[key], reverse=order["direction"] == "DESC")
            return _connection(chosen, total=len(chosen) + extra, **args)

        def deployments_of(**args: Any) -> dict[str, Any]:
            chosen = deployments
            if args.get("environments"):
                chosen = [d for d in chosen if d["environment"] in args["environments"]]
            if (args.get("orderBy") or {}).get("direction") == "DESC":
                chosen = chosen[::-1]
            return _connection(chosen, **args)

        return {
            "name": repo.name,
            "nameWithOwner": repo.slug,
            "url": url,
            "defaultBranchRef": branch,
            "pullRequests": pull_requests,
            "deployments": deployments_of,
            "environments": lambda **a: _connection(environments, **a),
        }

    def _suite(self, repo: Repo, suite: Suite) -> dict[str, Any]:
        run = None
        if suite.workflow is not None:
            run = {
                "url": f"{self.web}/{repo.slug}/actions/runs/{suite.run_id}",
                "createdAt": suite.created_at,
                "updatedAt": suite.created_at,
                "event": "push",
                "runNumber": suite.run_id,
                "workflow": {
                    "name": suite.workflow,
                    "url": f"{self.web}/{repo.slug}/actions/workflows/{suite.run_id}",
                },
            }
        return {
            "app": {"name": "GitHub Actions", "slug": "github-actions"}
            if run
            else {"name": "Codecov", "slug": "codecov"},
            "status": suite.status,
            "conclusion": suite.conclusion if suite.status == "COMPLETED" else None,
            "createdAt": suite.created_at,
            "updatedAt": suite.created_at,
            "workflowRun": run,
        }

    def _deployment(self, repo: Repo, deploy: Deploy) -> dict[str, Any]:
        status = None
        if deploy.state is not None:
            status = {
                "state": deploy.state,
                "createdAt": deploy.created_at,
                "updatedAt": deploy.created_at,
                "logUrl": deploy.log_url,
                "environmentUrl": deploy.environment_url,
            }
        return {
            "environment": deploy.environment,
            "commitOid": deploy.commit,
            "createdAt": deploy.created_at,
            "updatedAt": deploy.created_at,
            "latestStatus": status,
        }


def _resolve(source: Any, info: Any, **args: Any) -> Any:
    value = source.get(info.field_name) if isinstance(source, dict) else None
    if callable(value):
        return value(info, **args) if info.field_name == "repository" else value(**args)
    return value


def _connection(
    items: list[dict[str, Any]], total: int | None = None, **args: Any
) -> dict[str, Any]:
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("You must provide a `first` or `last` value to properly paginate.")
    for value, word in ((first, "first"), (last, "last")):
        if value is not None and not 0 <= value <= 100:
            raise GraphQLError(
                f"Requesting {value} records on the connection exceeds the `{word}` limit "
                "of 100 records."
            )
    page = items[:first] if first is not None else items[-last:] if last else []
    return {
        "nodes": page,
        "totalCount": len(items) if total is None else total,
        "pageInfo": {
            "hasNextPage": first is not None and len(items) > first,
            "hasPreviousPage": last is not None and len(items) > last,
            "startCursor": None,
            "endCursor": None,
        },
    }


def _measure(document: Any) -> tuple[int, int]:
    """(repository fields asked, requests the connections need): GitHub's cost formula,
    each connection's ``first``/``last`` multiplying the connections inside it."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    repositories = 0
    requests = 0

    def walk(selection_set: SelectionSetNode | None, multiplier: int) -> None:
        nonlocal repositories, requests
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                walk(fragments[selection.name.value].selection_set, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, multiplier)
            elif isinstance(selection, FieldNode):
                if selection.name.value == "repository":
                    repositories += 1
                size = None
                for argument in selection.arguments or ():
                    if argument.name.value in ("first", "last") and isinstance(
                        argument.value, IntValueNode
                    ):
                        size = int(argument.value.value)
                if size is None:
                    walk(selection.selection_set, multiplier)
                else:
                    requests += multiplier
                    walk(selection.selection_set, multiplier * size)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk(definition.selection_set, 1)
    return repositories, requests


def _github_error(error: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = {"message": error.message}
    if isinstance(error.original_error, _PartError):
        out["type"] = error.original_error.kind
    if error.path:
        out["path"] = list(error.path)
    out["locations"] = _locations(error)
    return out


def _locations(error: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]


def _resource_limits() -> dict[str, Any]:
    return {
        "data": None,
        "errors": [{"type": "RESOURCE_LIMITS_EXCEEDED", "message": "Resource limits exceeded"}],
    }
