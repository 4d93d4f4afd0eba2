"""The part of GitHub's API a template's steps write to, served on 127.0.0.1: creating
repositories (in an organisation or for the user), topics, collaborators and teams, branch
protection, pull requests, workflow and repository dispatches. Each created repository is a
real bare git repository, served by git's own HTTP backend (``tests/git_http.py``) with
pushes allowed for the token, so ``publish:github`` pushes with real git.

Answers carry GitHub's shapes (``clone_url``, ``html_url``, 201/204/422) and its rate-limit
headers; every write is recorded in ``calls`` for the tests to assert."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from .git_http import GitHttpServer
from .local_http import LocalServer


class GitHubWrites(LocalServer):
    def __init__(self, root: Path, org: str = "acme", token: str = "ghs_scaffold-token-42") -> None:
        self.org = org
        self.token = token
        self.root = root
        self.git = GitHttpServer(root, "x-access-token", token)
        self.repos: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, Any]] = []
        self.users = {"ada": "User", org: "Organization"}
        self._lock = threading.Lock()

    def start(self) -> str:
        self.git.start()
        return super().start()

    def stop(self) -> None:
        super().stop()
        self.git.stop()

    def bare(self, slug: str) -> Path:
        return self.root / f"{slug}.git"

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"null") if length else None
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.calls.append((handler.command, path, body))
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            self._reply(handler, 401, {"message": "Bad credentials"})
            return
        status, answer = self._route(handler.command, path.strip("/").split("/"), body)
        self._reply(handler, status, answer)

    def _route(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if method == "GET" and parts[:1] == ["users"] and len(parts) == 2:
            kind = self.users.get(parts[1])
            return (
                (200, {"login": parts[1], "type": kind})
                if kind
                else (404, {"message": "Not Found"})
            )
        if method == "POST" and parts in (["orgs", self.org, "repos"], ["user", "repos"]):
            owner = self.org if parts[0] == "orgs" else "ada"
            return self._create(owner, body)
        if parts[:1] == ["repos"] and len(parts) >= 3:
            slug = f"{parts[1]}/{parts[2]}"
            if slug not in self.repos:
                return 404, {"message": "Not Found"}
            rest = parts[3:]
            if method == "GET" and not rest:
                return 200, self.repos[slug]
            if rest[:1] == ["contents"] and len(rest) >= 2:
                return self._contents(method, slug, "/".join(rest[1:]), body)
            if method == "PUT" and rest == ["topics"]:
                self.repos[slug]["topics"] = body["names"]
                return 200, {"names": body["names"]}
            if method == "PUT" and rest[:1] == ["collaborators"] and len(rest) == 2:
                return 201, {"permissions": body.get("permission")}
            if method == "PUT" and rest[:1] == ["branches"] and rest[-1:] == ["protection"]:
                self.repos[slug].setdefault("protected", {})[rest[1]] = body
                return 200, {"url": f"{self.base}/repos/{slug}/branches/{rest[1]}/protection"}
            if method == "POST" and rest == ["pulls"]:
                number = len([c for c in self.calls if c[1].endswith("/pulls")])
                html = f"https://github.com/{slug}/pull/{number}"
                return 201, {"number": number, "html_url": html, **body}
            if method == "POST" and rest == ["dispatches"]:
                return 204, None
            if (
                method == "POST"
                and rest[:2] == ["actions", "workflows"]
                and rest[-1:] == ["dispatches"]
            ):
                return 204, None
        if method == "PUT" and parts[:1] == ["orgs"] and "teams" in parts:
            return 204, None
        return 404, {"message": "Not Found"}

    def _contents(self, method: str, slug: str, path: str, body: Any) -> tuple[int, Any]:
        """Files committed through the contents API, with GitHub's sha check."""
        files = self.repos[slug].setdefault("files", {})
        if method == "GET":
            if path not in files:
                return 404, {"message": "Not Found"}
            content, sha = files[path]
            return 200, {"path": path, "sha": sha, "encoding": "base64", "content": content}
        if method == "PUT":
            if path in files and body.get("sha") != files[path][1]:
                return 409, {"message": f"{path} does not match {body.get('sha')}"}
            sha = f"{len(self.calls):040x}"
            files[path] = (body["content"], sha)
            return 201, {"content": {"path": path, "sha": sha}}
        return 404, {"message": "Not Found"}

    def add_repo(self, slug: str) -> None:
        """A repository that exists already (the portal's own)."""
        self.repos[slug] = {"full_name": slug, "default_branch": "main", "visibility": "private"}

    def _create(self, owner: str, body: Any) -> tuple[int, Any]:
        name = body["name"]
        slug = f"{owner}/{name}"
        if slug in self.repos:
            return 422, {
                "message": "Repository creation failed.",
                "errors": [
                    {
                        "resource": "Repository",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                ],
            }
        bare = self.bare(slug)
        bare.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        subprocess.run(["git", "-C", str(bare), "config", "http.receivepack", "true"], check=True)
        self.repos[slug] = {
            "name": name,
            "full_name": slug,
            "private": body.get("private", False),
            "visibility": body.get("visibility", "private" if body.get("private") else "public"),
            "description": body.get("description"),
            "default_branch": "main",
            "html_url": f"https://github.com/{slug}",
            "clone_url": f"{self.git.base}/{slug}.git",
            "created": body,
        }
        return 201, self.repos[slug]

    def _reply(self, handler: http.server.BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("x-ratelimit-limit", "5000")
        handler.send_header("x-ratelimit-remaining", "4999")
        handler.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
        handler.send_header("x-ratelimit-resource", "core")
        handler.end_headers()
        handler.wfile.write(data)
