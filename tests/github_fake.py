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
answer so; ``fake.counts`` tells how many calls of each kind were served.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import io
import json
import tarfile
import threading
import time
import urllib.parse
from collections import Counter, deque
from dataclasses import dataclass, field
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

    def push(self, files: dict[str, bytes | None]) -> None:
        for path, content in files.items():
            if content is None:
                self.files.pop(path, None)
            else:
                self.files[path] = content
        self.pushes += 1


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
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control

    def add(
        self, name: str, files: dict[str, str | bytes] | None = None, **options: Any
    ) -> FakeRepo:
        content = {p: (c.encode() if isinstance(c, str) else c) for p, c in (files or {}).items()}
        repo = FakeRepo(name, content, **options)
        self.repos[name] = repo
        return repo

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
        handler.send_header("x-ratelimit-limit", "5000")
        handler.send_header("x-ratelimit-remaining", "4321")
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
        if "repository(owner:" in query:
            self._folder_query(handler, variables)
            return
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
            "rateLimit": {"cost": 1, "remaining": 4999, "resetAt": "2030-01-01T00:00:00Z"},
            "organization": {
                "repositories": {
                    "pageInfo": {"hasNextPage": end < len(names), "endCursor": str(end)},
                    "nodes": nodes,
                }
            },
        }
        self._reply(handler, 200, {"data": data})

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
