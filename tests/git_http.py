"""Git's own HTTP backend (``git http-backend``, the CGI program git ships) served on
127.0.0.1, so the git source is tested against real smart-HTTP fetches: protocol v2,
partial clone filters, optional Basic authentication. It counts what clients ask for."""

from __future__ import annotations

import base64
import gzip
import http.server
import os
import subprocess
from collections import Counter
from pathlib import Path

from .local_http import LocalServer

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


def bare_repository(path: Path, files: dict[str, bytes | str]) -> Path:
    """A bare repository at ``path`` whose default branch has ``files`` (one commit),
    serving partial clones as a git host does."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    for key, value in (
        ("uploadpack.allowFilter", "true"),
        ("uploadpack.allowAnySHA1InWant", "true"),
    ):
        subprocess.run(["git", "-C", str(path), "config", key, value], check=True)
    push(path, files, "first")
    return path


def push(
    bare: Path,
    files: dict[str, bytes | str | None],
    message: str = "change",
    when: str | None = None,
) -> None:
    """A commit on ``main`` that writes (or, for None, deletes) ``files``; ``when`` is its
    committer date (any form git reads, e.g. ``2026-03-01T10:00:00+02:00``)."""
    work = bare.with_name(bare.name + ".work")
    if not work.exists():
        subprocess.run(
            ["git", "clone", "-q", str(bare), str(work)], check=True, capture_output=True
        )
    commit_at(work, files, when, message)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:main"], check=True)


def commit_at(
    work: Path,
    files: dict[str, bytes | str | None],
    when: str | None = None,
    message: str = "change",
) -> None:
    """A commit in the work tree ``work`` (created if need be) writing (None: deleting)
    ``files``, committed at ``when``. The author date is then 2000-01-01, as for a commit
    rebased or cherry-picked long after it was written: the committer date is the one
    that says when the branch changed."""
    if not (work / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    for name, content in files.items():
        target = work / name
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        target.write_bytes(content)
    env = dict(os.environ)
    if when is not None:
        env["GIT_COMMITTER_DATE"] = when
        env["GIT_AUTHOR_DATE"] = "2000-01-01T00:00:00Z"
    subprocess.run([*GIT, "-C", str(work), "add", "-A"], check=True, env=env)
    subprocess.run([*GIT, "-C", str(work), "commit", "-q", "-m", message], check=True, env=env)


class GitHttpServer(LocalServer):
    def __init__(self, root: Path, user: str | None = None, password: str | None = None) -> None:
        self.root = root
        self.credentials = (
            base64.b64encode(f"{user}:{password}".encode()).decode() if password else None
        )
        self.counts: Counter[str] = Counter()
        self.authorizations: list[str] = []

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if self.credentials is not None:
            given = handler.headers.get("Authorization", "")
            self.authorizations.append(given)
            if given != f"Basic {self.credentials}":
                handler.send_response(401)
                handler.send_header("WWW-Authenticate", 'Basic realm="git"')
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
        plain = gzip.decompress(body) if handler.headers.get("Content-Encoding") == "gzip" else body
        if handler.command == "GET":
            self.counts["refs"] += 1
        elif b"command=ls-refs" in plain:
            self.counts["ls-refs"] += 1
        elif b"command=fetch" in plain:
            self.counts["fetch"] += 1
            self.counts["wants"] += plain.count(b"want ")
        env = {
            **os.environ,
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": handler.command,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(plain)),
            "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
            "REMOTE_ADDR": "127.0.0.1",
        }
        done = subprocess.run(
            ["git", "http-backend"], input=plain, env=env, capture_output=True, timeout=60
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


def import_commits(
    bare: Path, commits: list[tuple[str, dict[str, bytes | str | None]]], branch: str = "main"
) -> None:
    """Commits appended to ``branch`` of the bare repository ``bare`` (created if need be)
    in one ``git fast-import``: each is (committer date in ISO 8601, files it writes or,
    for None, deletes; ``{}`` for an empty commit). A thousand commits take a second."""
    from datetime import datetime

    if not bare.exists():
        bare_repository_empty(bare)
    exists = (
        subprocess.run(
            ["git", "-C", str(bare), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            capture_output=True,
        ).returncode
        == 0
    )
    stream = bytearray()
    for index, (when, files) in enumerate(commits):
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
        message = f"commit {index} at {when}\n".encode()
        stream += f"commit refs/heads/{branch}\n".encode()
        stream += f"committer Test <test@example.com> {int(moment.timestamp())} +0000\n".encode()
        stream += b"data %d\n%s\n" % (len(message), message)
        if index == 0 and exists:
            stream += f"from refs/heads/{branch}^0\n".encode()
        for name, content in files.items():
            if content is None:
                stream += f"D {name}\n".encode()
                continue
            data = content.encode() if isinstance(content, str) else content
            stream += f"M 100644 inline {name}\n".encode() + b"data %d\n%s\n" % (len(data), data)
        stream += b"\n"
    subprocess.run(
        ["git", "-C", str(bare), "fast-import", "--quiet"],
        input=bytes(stream),
        check=True,
        capture_output=True,
    )


def bare_repository_empty(path: Path) -> Path:
    """A bare repository with no commits, serving partial clones as a git host does."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    for key, value in (
        ("uploadpack.allowFilter", "true"),
        ("uploadpack.allowAnySHA1InWant", "true"),
    ):
        subprocess.run(["git", "-C", str(path), "config", key, value], check=True)
    return path
