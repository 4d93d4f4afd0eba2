"""One GitHub client for every stage that talks to GitHub: the crawl, URL locations, and
later the scaffolder and the context snapshots.

GitHub answers a crawler of a large organisation with limits rather than data: a primary
budget per hour (REST requests, GraphQL points), secondary limits (concurrency, points
per minute, CPU time), GraphQL queries that time out at 10 s and cost extra afterwards,
and "200 OK" answers that carry an error. This client is the one place that knows them:

- authentication by token (``GITHUB_TOKEN``) or as a GitHub App installation (a JWT signed
  with the app's key, exchanged for an installation token, renewed before it expires);
- retries with exponential backoff and jitter on 5xx answers, timeouts and broken
  connections; ``retry-after`` and ``x-ratelimit-reset`` honoured, up to a total wait
  after which it stops with a clear error instead of sleeping for an hour;
- GraphQL errors told apart: rate limits are waited out, resource limits and timeouts are
  raised as ``ResourceLimits`` so the caller can ask for less;
- conditional REST requests with ETags (a 304 costs no rate limit), remembered across
  runs; bounded concurrency; and a ``Budget`` of what the run cost.

The token never leaves the ``Authorization`` header: not in messages, not in artifacts,
not in ``repr``. httpx drops the header when a redirect leaves GitHub's host (tarballs).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from . import __version__
from .errors import BacklotError

__all__ = [
    "DEFAULT_API_URL",
    "AppAuth",
    "Budget",
    "EtagCache",
    "GitHubClient",
    "GitHubError",
    "NotFound",
    "RateLimited",
    "ResourceLimits",
    "TokenAuth",
    "api_url_from",
    "graphql_url",
    "web_url",
]

DEFAULT_API_URL = "https://api.github.com"
_PART_ERRORS = {"NOT_FOUND", "FORBIDDEN"}  # errors of one aliased part of a query
MAX_WAIT_SECONDS = 900.0  # longer than this for a rate limit: stop and say so


class GitHubError(BacklotError):
    """GitHub refused or failed a request; the message says which, never with the token."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(GitHubError):
    pass


class RateLimited(GitHubError):
    """A rate limit that would take longer than the client may wait."""


class ResourceLimits(GitHubError):
    """A GraphQL query too large for GitHub (RESOURCE_LIMITS_EXCEEDED, or a timeout):
    ask for less."""


def api_url_from(configured: str | None) -> str:
    """The REST base: the source's ``api_url``, else ``$GITHUB_API_URL`` (Actions sets it,
    for Enterprise Server too), else api.github.com."""
    return (configured or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")


def graphql_url(api_url: str) -> str:
    """``https://api.github.com/graphql``; an Enterprise Server ``…/api/v3`` base has its
    endpoint at ``…/api/graphql``."""
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/v3")] + "/graphql"
    return api_url + "/graphql"


def web_url(api_url: str) -> str:
    """Where people browse the host the API belongs to: github.com for api.github.com,
    ``https://HOST`` for an Enterprise Server ``https://HOST/api/v3``."""
    if api_url == DEFAULT_API_URL:
        return "https://github.com"
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/api/v3")]
    return api_url


@dataclass
class Budget:
    """What a run cost, and what is left."""

    requests: int = 0
    rest: int = 0
    graphql: int = 0
    graphql_points: int = 0
    not_modified: int = 0  # 304 answers to conditional requests: no rate limit spent
    retries: int = 0
    waited_seconds: float = 0.0
    rest_remaining: int | None = None
    rest_reset: int | None = None
    graphql_remaining: int | None = None
    graphql_reset: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["waited_seconds"] = round(self.waited_seconds, 1)
        return data


class TokenAuth:
    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(***)"

    def header(self, client: GitHubClient) -> str:
        return f"Bearer {self._token}"

    def secrets(self) -> tuple[str, ...]:
        return (self._token,)


class AppAuth:
    """A GitHub App: a JWT (RS256, signed with the app's private key, valid 10 minutes)
    buys an installation token for the organisation, valid an hour; it is renewed a few
    minutes before it expires."""

    def __init__(
        self, app_id: int, private_key: str, org: str, installation_id: int | None
    ) -> None:
        self.app_id = app_id
        self._key = private_key
        self.org = org
        self.installation_id = installation_id
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AppAuth(app_id={self.app_id}, org={self.org!r})"

    def jwt(self) -> str:
        import jwt  # PyJWT, with the cryptography backend for RS256

        now = int(time.time())
        payload = {"iat": now - 60, "exp": now + 540, "iss": str(self.app_id)}
        try:
            return str(jwt.encode(payload, self._key, algorithm="RS256"))
        except (ValueError, TypeError) as exc:
            raise GitHubError(f"the GitHub App's private key cannot sign: {exc}") from None

    def header(self, client: GitHubClient) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires - 300:
                self._token, self._expires = self._installation_token(client)
            return f"Bearer {self._token}"

    def secrets(self) -> tuple[str, ...]:
        return (self._key, self._token) if self._token else (self._key,)

    def _installation_token(self, client: GitHubClient) -> tuple[str, float]:
        bearer = f"Bearer {self.jwt()}"
        installation = self.installation_id
        if installation is None:
            found = client.request("GET", f"/orgs/{self.org}/installation", authorization=bearer)
            installation = int(found.json()["id"])
        answer = client.request(
            "POST", f"/app/installations/{installation}/access_tokens", authorization=bearer
        )
        data = answer.json()
        expires = _parse_time(str(data.get("expires_at", ""))) or time.time() + 3600
        return str(data["token"]), expires


def _parse_time(text: str) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class EtagCache:
    """REST answers by URL with their ETag, kept across runs in one JSON file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(path.read_text("utf-8"))
                if isinstance(data, dict):
                    self._entries = {k: v for k, v in data.items() if isinstance(v, dict)}

    def get(self, url: str) -> tuple[str, bytes] | None:
        entry = self._entries.get(url)
        if entry is None:
            return None
        return entry["etag"], base64.b64decode(entry["body"])

    def put(self, url: str, etag: str, body: bytes) -> None:
        with self._lock:
            self._entries[url] = {"etag": etag, "body": base64.b64encode(body).decode()}

    def save(self) -> None:
        if self.path is None:
            return
        import tempfile

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self._entries, handle, sort_keys=True)
        os.replace(partial, self.path)


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes
    from_cache: bool = False

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class _Attempt:
    count: int = 0
    waited: float = 0.0
    errors: list[str] = field(default_factory=list)


class GitHubClient:
    def __init__(
        self,
        api_url: str,
        auth: TokenAuth | AppAuth | None,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        concurrency: int = 8,
        etags: EtagCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT_SECONDS,
        follow_redirects: bool = True,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.graphql_url = graphql_url(self.api_url)
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self.etags = etags or EtagCache(None)
        self.budget = Budget()
        self._sleep = sleep
        self._max_wait = max_wait
        self._follow_redirects = follow_redirects
        self._slots = threading.BoundedSemaphore(concurrency)
        self._budget_lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"GitHubClient({self.api_url!r})"

    # ------------------------------------------------------------------ plumbing

    def _client(self) -> httpx.Client:
        # A forked worker must not reuse its parent's connections.
        if self._http is None or self._pid != os.getpid():
            self._http = httpx.Client(
                timeout=self.timeout,
                headers={"User-Agent": f"backlot/{__version__}"},
                follow_redirects=self._follow_redirects,
            )
            self._pid = os.getpid()
        return self._http

    def close(self) -> None:
        if self._http is not None and self._pid == os.getpid():
            self._http.close()
        self._http = None
        self.etags.save()

    def redact(self, text: str) -> str:
        for secret in self.auth.secrets() if self.auth is not None else ():
            if secret:
                text = text.replace(secret, "***")
        return text

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        accept: str = "application/vnd.github+json",
        authorization: str | None = None,
        conditional: bool = False,
        stream_to: Path | None = None,
        graphql: bool = False,
    ) -> Answer:
        """One REST call, retried and rate-limited as GitHub asks. ``conditional``: send
        the remembered ETag and answer a 304 from the cache. ``stream_to``: write the body
        to that file instead of holding it (tarballs)."""
        url = path_or_url if "://" in path_or_url else self.api_url + path_or_url
        what = f"{method} {httpx.URL(url).copy_with(query=None)}"
        attempt = _Attempt()
        while True:
            headers = {"Accept": accept, "X-GitHub-Api-Version": "2022-11-28"}
            auth = authorization or (self.auth.header(self) if self.auth is not None else None)
            if auth:
                headers["Authorization"] = auth
            cached = self.etags.get(str(httpx.URL(url, params=params))) if conditional else None
            if cached is not None and cached[0]:
                headers["If-None-Match"] = cached[0]
            try:
                answer = self._send(method, url, params, json_body, headers, stream_to)
            except httpx.TransportError as exc:  # timeouts and broken connections
                if graphql and isinstance(exc, httpx.TimeoutException):
                    raise ResourceLimits(f"{what}: no answer within {self.timeout:g} s") from None
                self._retry_or_raise(attempt, what, f"{type(exc).__name__}", None)
                continue
            self._note_limits(answer.headers, rest=True)
            if answer.status == 304 and cached is not None and cached[0]:
                with self._budget_lock:
                    self.budget.not_modified += 1
                return Answer(200, answer.headers, cached[1], from_cache=True)
            wait = self._rate_limit_wait(answer)
            if wait is not None:
                self._wait(attempt, wait, what)
                continue
            if graphql and answer.status in (502, 504):
                # GitHub's 10 s limit for a query: retrying the same query costs points.
                raise ResourceLimits(
                    f"{what}: GitHub timed out (HTTP {answer.status})", answer.status
                )
            if answer.status >= 500:
                self._retry_or_raise(attempt, what, f"HTTP {answer.status}", answer.status)
                continue
            if answer.status == 404:
                raise NotFound(f"{what}: not found (or not visible to this token)", 404)
            if answer.status >= 400:
                raise GitHubError(
                    self.redact(f"{what}: HTTP {answer.status}: {_message(answer)}"), answer.status
                )
            if conditional and "etag" in answer.headers and stream_to is None:
                self.etags.put(
                    str(httpx.URL(url, params=params)), answer.headers["etag"], answer.content
                )
            return answer

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json_body: Any,
        headers: dict[str, str],
        stream_to: Path | None,
    ) -> Answer:
        with self._slots:
            with self._budget_lock:
                self.budget.requests += 1
                if url.startswith(self.graphql_url):
                    self.budget.graphql += 1
                else:
                    self.budget.rest += 1
            client = self._client()
            if stream_to is None:
                response = client.request(
                    method, url, params=params, json=json_body, headers=headers
                )
                return Answer(response.status_code, response.headers, response.content)
            with client.stream(method, url, params=params, headers=headers) as response:
                if response.status_code == 200:
                    with stream_to.open("wb") as handle:
                        for chunk in response.iter_bytes(1 << 20):
                            handle.write(chunk)
                    return Answer(200, response.headers, b"")
                return Answer(response.status_code, response.headers, response.read())

    def _note_limits(self, headers: httpx.Headers, rest: bool) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is None or not remaining.isdigit():
            return
        with self._budget_lock:
            resource = headers.get("x-ratelimit-resource", "core")
            if resource == "graphql":
                self.budget.graphql_remaining = int(remaining)
            elif rest:
                self.budget.rest_remaining = int(remaining)
                reset = headers.get("x-ratelimit-reset")
                self.budget.rest_reset = int(reset) if reset and reset.isdigit() else None

    def _rate_limit_wait(self, answer: Answer) -> float | None:
        """How long GitHub asks us to wait before trying again, if it does."""
        if answer.status not in (403, 429):
            return None
        retry_after = answer.headers.get("retry-after")
        if retry_after is not None:
            with contextlib.suppress(ValueError):
                return max(float(retry_after), 0.0)
        if answer.headers.get("x-ratelimit-remaining") == "0":
            reset = answer.headers.get("x-ratelimit-reset")
            if reset and reset.isdigit():
                return max(int(reset) - time.time(), 0.0) + 1.0
        text = answer.content[:2000].decode("utf-8", "replace").lower()
        if "secondary rate limit" in text or "abuse" in text or answer.status == 429:
            return 60.0  # GitHub: without a header, wait at least a minute
        return None

    def _wait(self, attempt: _Attempt, seconds: float, what: str) -> None:
        attempt.count += 1
        if attempt.waited + seconds > self._max_wait or attempt.count > self.max_retries + 5:
            raise RateLimited(
                f"{what}: GitHub's rate limit asks to wait {seconds:.0f} s more; stopped "
                f"after waiting {attempt.waited:.0f} s (the limit resets on the hour: run "
                "again later, or use a GitHub App, whose limit is higher)",
                429,
            )
        attempt.waited += seconds
        with self._budget_lock:
            self.budget.retries += 1
            self.budget.waited_seconds += seconds
        self._sleep(seconds)

    def _retry_or_raise(
        self, attempt: _Attempt, what: str, problem: str, status: int | None
    ) -> None:
        attempt.count += 1
        attempt.errors.append(problem)
        if attempt.count > self.max_retries:
            raise GitHubError(
                f"{what}: failed {attempt.count} times ({', '.join(attempt.errors[-3:])})", status
            )
        delay = min(30.0, 0.5 * 2 ** (attempt.count - 1)) + random.uniform(0, 0.5)
        with self._budget_lock:
            self.budget.retries += 1
            self.budget.waited_seconds += delay
        self._sleep(delay)

    # ------------------------------------------------------------------ GraphQL

    def graphql(
        self, query: str, variables: dict[str, Any], *, partial: bool = False
    ) -> dict[str, Any]:
        """The ``data`` of a query. Rate limits are waited out; a query too large or too
        slow for GitHub raises ResourceLimits (ask for less) and is not retried here.
        ``partial``: a query of many aliased parts answers with the parts it could, when
        the errors are only parts that are not there or not visible (``NOT_FOUND``,
        ``FORBIDDEN``: a repository renamed, deleted or out of reach since the listing)."""
        what = "GraphQL query"
        attempt = _Attempt()
        while True:
            answer = self.request(
                "POST",
                self.graphql_url,
                json_body={"query": query, "variables": variables},
                accept="application/json",
                graphql=True,
            )
            payload = answer.json()
            errors = payload.get("errors") or []
            data = payload.get("data") or {}
            cost = data.get("rateLimit") if isinstance(data, dict) else None
            if isinstance(cost, dict):
                with self._budget_lock:
                    self.budget.graphql_points += int(cost.get("cost") or 0)
                    self.budget.graphql_remaining = cost.get("remaining")
                    self.budget.graphql_reset = cost.get("resetAt")
            if not errors:
                return data
            kinds = {str(e.get("type", "")) for e in errors if isinstance(e, dict)}
            if partial and isinstance(data, dict) and data and kinds <= _PART_ERRORS:
                return data
            messages = "; ".join(str(e.get("message", e))[:200] for e in errors[:3])
            if "RATE_LIMITED" in kinds:
                reset = _parse_time(str((cost or {}).get("resetAt", ""))) if cost else None
                wait = max((reset or time.time() + 60) - time.time(), 1.0)
                self._wait(attempt, wait, what)
                continue
            if "RESOURCE_LIMITS_EXCEEDED" in kinds or "timeout" in messages.lower():
                raise ResourceLimits(f"{what}: {messages}")
            raise GitHubError(self.redact(f"{what}: {messages}"))

    # ------------------------------------------------------------------ conveniences

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a REST list, following ``Link: rel="next"``."""
        url: str | None = path
        query = {"per_page": 100, **(params or {})}
        while url is not None:
            answer = self.request("GET", url, params=query if url == path else None)
            items = answer.json()
            yield from items if isinstance(items, list) else items.get("items", [])
            url = _next_link(answer.headers.get("link", ""))


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def _message(answer: Answer) -> str:
    try:
        data = json.loads(answer.content)
    except ValueError:
        return answer.content[:200].decode("utf-8", "replace")
    return str(data.get("message", ""))[:300] if isinstance(data, dict) else ""
