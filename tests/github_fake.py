"""A fake of the GitHub API subset Backlot uses, served over real HTTP on 127.0.0.1.

GitHub cannot run here, so it is the one service the tests fake. It keeps to what GitHub
documents and what Backstage's users met: cursor pagination, ``x-ratelimit-*`` headers,
ETags and 304s, rate-limit answers (403/429 with ``retry-after``, GraphQL errors with
status 200), ``RESOURCE_LIMITS_EXCEEDED`` for pages that are too large, answers slower than
the client waits, blob text truncated at 512,000 bytes, tarballs behind a redirect, and
GitHub App installation tokens (the JWT is checked against the app's public key).

Git object ids are git's own (``sha1("blob <size>\\0" + content)``); trees and commits hash
their content, so an unchanged repository keeps its ids.

Faults are queued: ``fake.fault("graphql", "rate-limited")`` makes the next GraphQL call
answer so; ``fake.counts`` tells how many calls of each kind were served, and
``fake.queries`` which GraphQL queries (``listing``, ``folder``, ``history``).

Each repository keeps its history (commits with their committer dates and the paths they
changed), for ``history(first: 1, path: …)`` on a commit: the last commit that touched a
path. GraphQL points are counted as GitHub counts them (a connection of up to 100 nodes is
one request, a query costs requests / 100, at least 1) against ``graphql_remaining``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import io
import json
import re
import tarfile
import threading
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .local_http import LocalServer

TRUNCATE_AT = 512_000


def blob_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class FakeRepo:
    name: str
    files: dict[str, bytes] = field(default_factory=dict)
    archived: bool = False
    fork: bool = False
    visibility: str = "PRIVATE"
    topics: tuple[str, ...] = ()
    default_branch: str = "main"
    pushes: int = 0  # bumps the commit id when files change
    # (committer date, paths changed), oldest first; the first commit adds every file.
    history: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    clock: Callable[[], str] | None = None  # the next commit's date, when none is given

    def tree_entries(self) -> list[dict[str, Any]]:
        """Git's recursive tree listing: blobs and the trees above them."""
        entries: list[dict[str, Any]] = []
        folders: set[str] = set()
        for path in sorted(self.files):
            parts = path.split("/")
            for i in range(1, len(parts)):
                folders.add("/".join(parts[:i]))
        for folder in sorted(folders):
            entries.append(
                {"path": folder, "mode": "040000", "type": "tree", "sha": self.tree_oid(folder)}
            )
        for path, content in sorted(self.files.items()):
            entries.append(
                {
                    "path": path,
                    "mode": "100644",
                    "type": "blob",
                    "sha": blob_oid(content),
                    "size": len(content),
                }
            )
        return sorted(entries, key=lambda e: e["path"])

    def tree_oid(self, folder: str = "") -> str:
        """Git's own id of the tree at ``folder`` (all files mode 100644)."""
        prefix = folder + "/" if folder else ""
        children: dict[str, tuple[str, str]] = {}
        for path in self.files:
            if not path.startswith(prefix):
                continue
            head, sep, _ = path[len(prefix) :].partition("/")
            children[head] = ("tree", prefix + head) if sep else ("blob", path)
        entries = []
        for name, (kind, where) in children.items():
            if kind == "tree":
                entries.append(
                    (
                        name + "/",
                        b"40000 " + name.encode() + b"\0" + bytes.fromhex(self.tree_oid(where)),
                    )
                )
            else:
                entries.append(
                    (
                        name,
                        b"100644 "
                        + name.encode()
                        + b"\0"
                        + bytes.fromhex(blob_oid(self.files[where])),
                    )
                )
        body = b"".join(entry for _, entry in sorted(entries))
        return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()

    def is_folder(self, folder: str) -> bool:
        return any(p.startswith(folder + "/") for p in self.files)

    @property
    def commit(self) -> str:
        return hashlib.sha1(f"commit {self.tree_oid()} {self.pushes}".encode()).hexdigest()

    def push(self, files: dict[str, bytes | None], at: str | None = None) -> None:
        """One commit writing (None: deleting) ``files``, committed ``at`` (ISO 8601)."""
        for path, content in files.items():
            if content is None:
                self.files.pop(path, None)
            else:
                self.files[path] = content
        self.pushes += 1
        self.history.append((at or self._tick(), frozenset(files)))

    def _tick(self) -> str:
        return self.clock() if self.clock is not None else "2026-11-30T10:00:00Z"

    def last_change(self, path: str) -> tuple[str, str] | None:
        """(commit id, committer date) of the last commit that touched ``path``."""
        for index in range(len(self.history) - 1, -1, -1):
            when, paths = self.history[index]
            if path in paths:
                return hashlib.sha1(f"{self.name} {index}".encode()).hexdigest(), when
        return None


class FakeGitHub(LocalServer):
    def __init__(self, org: str = "acme", token: str = "ghp_test-token-0123456789") -> None:
        self.org = org
        self.token = token
        self.repos: dict[str, FakeRepo] = {}
        self.counts: Counter[str] = Counter()
        self.faults: dict[str, deque[str]] = {}
        self.max_page = 100  # larger GraphQL pages fail with RESOURCE_LIMITS_EXCEEDED
        self.slow_seconds = 3.0
        self.app_public_key: Any = None  # set to check App JWTs
        self.app_id = 4242
        self.installation_token = "ghs_installation-token-987654321"
        self.seen_authorization: list[str] = []
        self.prefix = ""  # "/api/v3" to look like an Enterprise Server
        self.queries: Counter[str] = Counter()
        self.graphql_remaining = 5000
        self.max_history = 100  # more history connections in a query: RESOURCE_LIMITS_EXCEEDED
        self._clock = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control

    def add(
        self, name: str, files: dict[str, str | bytes] | None = None, **options: Any
    ) -> FakeRepo:
        committed_at = options.pop("committed_at", None)
        content = {p: (c.encode() if isinstance(c, str) else c) for p, c in (files or {}).items()}
        repo = FakeRepo(name, content, **options)
        repo.clock = self.tick
        repo.history.append((committed_at or self.tick(), frozenset(content)))
        self.repos[name] = repo
        return repo

    def tick(self) -> str:
        """A committer date an hour after the last one handed out."""
        with self._lock:
            self._clock += timedelta(hours=1)
            return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def fault(self, kind: str, what: str, times: int = 1) -> None:
        self.faults.setdefault(kind, deque()).extend([what] * times)

    def _take_fault(self, kind: str) -> str | None:
        with self._lock:
            queue = self.faults.get(kind)
            return queue.popleft() if queue else None

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        self._handle(handler, handler.command)

    # ------------------------------------------------------------------ serving

    def _reply(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        body: bytes | Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        graphql = "graphql" in handler.path
        handler.send_header("x-ratelimit-limit", "5000")
        handler.send_header(
            "x-ratelimit-remaining", str(self.graphql_remaining) if graphql else "4321"
        )
        handler.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
        handler.send_header(
            "x-ratelimit-resource", "graphql" if "graphql" in handler.path else "core"
        )
        handler.send_header(
            "x-github-request-id", hashlib.md5(handler.path.encode()).hexdigest()[:16]
        )
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _authorized(self, handler: http.server.BaseHTTPRequestHandler, path: str) -> bool:
        header = handler.headers.get("Authorization", "")
        self.seen_authorization.append(header)
        if path.startswith("/app/") or (
            path.endswith("/installation") and path.startswith("/orgs/")
        ):
            return self._valid_jwt(header)
        return header in (f"Bearer {self.token}", f"Bearer {self.installation_token}")

    def _valid_jwt(self, header: str) -> bool:
        if self.app_public_key is None or not header.startswith("Bearer "):
            return False
        import jwt

        try:
            claims = jwt.decode(header[7:], self.app_public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return str(claims.get("iss")) == str(self.app_id)

    def _handle(self, handler: http.server.BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        path = parsed.path
        if self.prefix:
            if path == "/api/graphql":
                path = "/graphql"
            elif path.startswith(self.prefix + "/"):
                path = path[len(self.prefix) :]
            elif not path.startswith("/_codeload/"):
                self._reply(handler, 404, {"message": "Not Found"})
                return
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        kind = self._kind(method, path)
        with self._lock:
            self.counts[kind] += 1
        fault = self._take_fault(kind)
        if fault is not None and self._serve_fault(handler, fault):
            return
        if not path.startswith("/_codeload/") and not self._authorized(handler, path):
            self._reply(handler, 401, {"message": "Bad credentials"})
            return
        if kind == "graphql":
            self._graphql(handler, json.loads(body or b"{}"))
        elif kind == "installation":
            self._reply(handler, 200, {"id": 777})
        elif kind == "access-token":
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
            self._reply(handler, 201, {"token": self.installation_token, "expires_at": expires})
        else:
            self._rest(handler, path, query)

    @staticmethod
    def _kind(method: str, path: str) -> str:
        if path.endswith("/graphql"):
            return "graphql"
        if path.startswith("/app/installations/"):
            return "access-token"
        if path.startswith("/orgs/") and path.endswith("/installation"):
            return "installation"
        if path.startswith("/_codeload/"):
            return "codeload"
        for word in ("blobs", "trees", "tarball", "contents", "commits"):
            if f"/{word}" in path:
                return word
        return "other"

    def _serve_fault(self, handler: http.server.BaseHTTPRequestHandler, fault: str) -> bool:
        if fault == "slow":
            time.sleep(self.slow_seconds)
            return False  # then answer as usual, too late for a short timeout
        if fault == "pass":
            return False  # answered as usual: faults queued after it are for later calls
        if fault == "502":
            self._reply(handler, 502, {"message": "Server Error"})
        elif fault == "500":
            self._reply(handler, 500, {"message": "Internal Server Error"})
        elif fault == "403-retry-after":
            self._reply(
                handler,
                403,
                {"message": "You have exceeded a secondary rate limit."},
                {"retry-after": "1"},
            )
        elif fault == "429":
            self._reply(handler, 429, {"message": "Too many requests"}, {"retry-after": "1"})
        elif fault == "primary-exhausted":
            self._reply(
                handler,
                403,
                {"message": "API rate limit exceeded"},
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 1)},
            )
        elif fault == "rate-limited":
            reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
            self._reply(
                handler,
                200,
                {
                    "data": {"rateLimit": {"cost": 1, "remaining": 0, "resetAt": reset}},
                    "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}],
                },
            )
        elif fault == "resource-limits":
            self._reply(
                handler,
                200,
                {
                    "data": None,
                    "errors": [
                        {"type": "RESOURCE_LIMITS_EXCEEDED", "message": "Resource limits exceeded"}
                    ],
                },
            )
        elif fault == "not-found":
            self._reply(handler, 404, {"message": "Not Found"})
        elif fault == "401":
            self._reply(handler, 401, {"message": "Bad credentials"})
        else:
            raise ValueError(f"unknown fault {fault!r}")
        return True

    # ------------------------------------------------------------------ GraphQL

    def _graphql(
        self, handler: http.server.BaseHTTPRequestHandler, request: dict[str, Any]
    ) -> None:
        query = request.get("query", "")
        variables = request.get("variables", {})
        if "history(" in query:
            self.queries["history"] += 1
            self._history_query(handler, query)
            return
        if "repository(owner:" in query:
            self.queries["folder"] += 1
            self._folder_query(handler, variables)
            return
        self.queries["listing"] += 1
        if "organization(login:" not in query or "object(expression:" not in query:
            self._reply(
                handler, 200, {"errors": [{"type": "PARSE", "message": "unexpected query"}]}
            )
            return
        if variables.get("org") != self.org:
            self._reply(
                handler,
                200,
                {
                    "data": {"organization": None},
                    "errors": [
                        {
                            "type": "NOT_FOUND",
                            "message": "Could not resolve to an Organization with the login "
                            f"of '{variables.get('org')}'.",
                        }
                    ],
                },
            )
            return
        first = int(variables["first"])
        if first > self.max_page:
            self._reply(
                handler,
                200,
                {
                    "data": None,
                    "errors": [
                        {"type": "RESOURCE_LIMITS_EXCEEDED", "message": "Resource limits exceeded"}
                    ],
                },
            )
            return
        names = sorted(self.repos)
        start = int(variables["after"]) if variables.get("after") else 0
        page = names[start : start + first]
        expressions = {k: v for k, v in variables.items() if k.startswith("e") and k[1:].isdigit()}
        nodes = [self._node(self.repos[name], expressions) for name in page]
        end = start + len(page)
        data = {
            "rateLimit": self._spend(1 + first),
            "organization": {
                "repositories": {
                    "pageInfo": {"hasNextPage": end < len(names), "endCursor": str(end)},
                    "nodes": nodes,
                }
            },
        }
        self._reply(handler, 200, {"data": data})

    def _spend(self, connections: int) -> dict[str, Any]:
        """GitHub's cost of a query (requests its connections need / 100, at least 1),
        taken from the points left this hour."""
        cost = max(1, round(connections / 100))
        with self._lock:
            self.graphql_remaining = max(0, self.graphql_remaining - cost)
            remaining = self.graphql_remaining
        return {"cost": cost, "remaining": remaining, "resetAt": "2030-01-01T00:00:00Z"}

    def _history_query(self, handler: http.server.BaseHTTPRequestHandler, query: str) -> None:
        """``rN: repository(owner:, name:) { object(expression:) { ... on Commit {
        pM: history(first: 1, path:) { nodes { committedDate oid } } } } }``, aliases and
        string literals as GitHub reads them; an unknown repository is null in ``data``
        with a NOT_FOUND error naming its alias, as GitHub answers."""
        string = r'"(?:[^"\\]|\\.)*"'
        starts = list(
            re.finditer(rf"(\w+): repository\(owner: ({string}), name: ({string})\)", query)
        )
        histories = len(re.findall(r"\bhistory\(", query))
        if histories > self.max_history:
            self._reply(
                handler,
                200,
                {
                    "data": None,
                    "errors": [
                        {"type": "RESOURCE_LIMITS_EXCEEDED", "message": "Resource limits exceeded"}
                    ],
                },
            )
            return
        data: dict[str, Any] = {"rateLimit": self._spend(histories)}
        errors: list[dict[str, Any]] = []
        for index, start in enumerate(starts):
            end = starts[index + 1].start() if index + 1 < len(starts) else len(query)
            block = query[start.start() : end]
            alias, owner, name = (
                start.group(1),
                json.loads(start.group(2)),
                json.loads(start.group(3)),
            )
            repo = self.repos.get(name) if owner == self.org else None
            if repo is None:
                data[alias] = None
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [alias],
                        "locations": [
                            {"line": query[: start.start()].count("\n") + 1, "column": 3}
                        ],
                        "message": "Could not resolve to a Repository with the name "
                        f"'{owner}/{name}'.",
                    }
                )
                continue
            expression = re.search(rf"object\(expression: ({string})\)", block)
            if expression is None or json.loads(expression.group(1)) not in (
                "HEAD",
                repo.default_branch,
                repo.commit,
            ):
                data[alias] = {"object": None}
                continue
            found: dict[str, Any] = {}
            for history in re.finditer(rf"(\w+): history\(first: (\d+), path: ({string})\)", block):
                last = repo.last_change(json.loads(history.group(3)))
                nodes = [] if last is None else [{"committedDate": last[1], "oid": last[0]}]
                found[history.group(1)] = {"nodes": nodes[: int(history.group(2))]}
            data[alias] = {"object": found}
        self._reply(handler, 200, {"data": data, **({"errors": errors} if errors else {})})

    def _folder_query(
        self, handler: http.server.BaseHTTPRequestHandler, variables: dict[str, Any]
    ) -> None:
        repo = (
            self.repos.get(variables.get("name", ""))
            if variables.get("owner") == self.org
            else None
        )
        found = None
        if repo is not None:
            ref, _, folder = str(variables.get("expression", "")).partition(":")
            if ref == repo.commit:
                found = (
                    {"oid": repo.tree_oid(folder)}
                    if repo.is_folder(folder)
                    else ({} if folder in repo.files else None)
                )
        data = {
            "rateLimit": {"cost": 1, "remaining": 4998, "resetAt": "2030-01-01T00:00:00Z"},
            "repository": None if repo is None else {"object": found},
        }
        self._reply(handler, 200, {"data": data})

    def _node(self, repo: FakeRepo, expressions: dict[str, str]) -> dict[str, Any]:
        node: dict[str, Any] = {
            "name": repo.name,
            "url": f"https://github.com/{self.org}/{repo.name}",
            "isArchived": repo.archived,
            "isFork": repo.fork,
            "visibility": repo.visibility,
            "pushedAt": "2026-11-30T10:00:00Z",
            "defaultBranchRef": {
                "name": repo.default_branch,
                "target": {"oid": repo.commit, "tree": {"oid": repo.tree_oid()}},
            },
            "repositoryTopics": {"nodes": [{"topic": {"name": t}} for t in repo.topics]},
        }
        for alias, expression in expressions.items():
            path = expression.split(":", 1)[1]
            content = repo.files.get(path)
            if content is None:
                node[f"d{alias[1:]}"] = None
                continue
            truncated = len(content) > TRUNCATE_AT
            node[f"d{alias[1:]}"] = {
                "oid": blob_oid(content),
                "byteSize": len(content),
                "isTruncated": truncated,
                "text": content[:TRUNCATE_AT].decode("utf-8", "replace"),
            }
        return node

    # ------------------------------------------------------------------ REST

    def _repo(self, path: str) -> tuple[FakeRepo | None, list[str]]:
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[0] != "repos" or parts[1] != self.org:
            return None, parts
        return self.repos.get(parts[2]), parts[3:]

    def _rest(
        self, handler: http.server.BaseHTTPRequestHandler, path: str, query: dict[str, str]
    ) -> None:
        if path.startswith("/_codeload/"):
            self._codeload(handler, path)
            return
        repo, rest = self._repo(path)
        if repo is None:
            self._reply(handler, 404, {"message": "Not Found"})
            return
        if rest[:2] == ["git", "blobs"] and len(rest) == 3:
            content = next((c for c in repo.files.values() if blob_oid(c) == rest[2]), None)
            if content is None:
                self._reply(handler, 404, {"message": "Not Found"})
                return
            self._etagged(
                handler,
                {
                    "sha": rest[2],
                    "size": len(content),
                    "encoding": "base64",
                    "content": base64.b64encode(content).decode(),
                },
            )
        elif rest[:2] == ["git", "trees"] and len(rest) == 3:
            self._etagged(
                handler, {"sha": rest[2], "tree": repo.tree_entries(), "truncated": False}
            )
        elif rest[:1] == ["commits"] and len(rest) == 2:
            if rest[1] not in ("HEAD", repo.default_branch, repo.commit):
                self._reply(handler, 422, {"message": f"No commit found for SHA: {rest[1]}"})
                return
            self._etagged(
                handler,
                {"sha": repo.commit, "commit": {"tree": {"sha": repo.tree_oid()}}},
            )
        elif rest[:1] == ["tarball"] and len(rest) == 2:
            self._reply(
                handler,
                302,
                b"",
                {"Location": f"{self.base}/_codeload/{self.org}/{repo.name}/{rest[1]}"},
            )
        elif rest[:1] == ["contents"]:
            file = "/".join(rest[1:])
            content = repo.files.get(file)
            if content is None:
                self._reply(handler, 404, {"message": "Not Found"})
                return
            etag = f'"{blob_oid(content)}"'
            if handler.headers.get("If-None-Match") == etag:
                self._reply(handler, 304, b"", {"ETag": etag})
                return
            self._reply(handler, 200, content, {"ETag": etag}, "application/vnd.github.raw")
        else:
            self._reply(handler, 404, {"message": "Not Found"})

    def _etagged(self, handler: http.server.BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        if handler.headers.get("If-None-Match") == etag:
            self._reply(handler, 304, b"", {"ETag": etag})
            return
        self._reply(handler, 200, data, {"ETag": etag})

    def _codeload(self, handler: http.server.BaseHTTPRequestHandler, path: str) -> None:
        _, _, org, name, _ref = path.split("/", 4)
        repo = self.repos.get(name)
        if repo is None or org != self.org:
            self._reply(handler, 404, {"message": "Not Found"})
            return
        buffer = io.BytesIO()
        top = f"{org}-{name}-{repo.commit[:7]}"
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for file, content in sorted(repo.files.items()):
                info = tarfile.TarInfo(f"{top}/{file}")
                info.size = len(content)
                info.mtime = 1700000000
                archive.addfile(info, io.BytesIO(content))
        self._reply(
            handler,
            200,
            gzip.compress(buffer.getvalue(), mtime=0),
            content_type="application/x-gzip",
        )
