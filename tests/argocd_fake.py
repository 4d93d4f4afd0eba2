"""A fake of Argo CD's application list (``GET /api/v1/applications``), over real HTTP on
127.0.0.1: bearer tokens, the ``fields`` trimming Argo CD does, and queued faults
(``fake.fault("down")``: a 500; ``"garbage"``: a body that is not JSON). ``fake.counts``
tells how many requests were served."""

from __future__ import annotations

import http.server
import json
import urllib.parse
from collections import Counter, deque
from typing import Any

from tests.local_http import LocalServer


class FakeArgoCd(LocalServer):
    def __init__(self, token: str = "argocd-test-token-0123456789") -> None:
        self.token = token
        self.apps: dict[str, dict[str, Any]] = {}
        self.counts: Counter[str] = Counter()
        self.fields: list[str] = []
        self._faults: deque[str] = deque()

    def add(
        self,
        name: str,
        health: str = "Healthy",
        sync: str = "Synced",
        revision: str = "0123456789abcdef0123456789abcdef01234567",
        finished: str = "2026-12-03T11:00:00Z",
    ) -> None:
        self.apps[name] = {
            "metadata": {"name": name, "namespace": "argocd", "uid": f"uid-{name}"},
            "spec": {"project": "default", "source": {"repoURL": f"https://git/{name}"}},
            "status": {
                "sync": {"status": sync, "revision": revision},
                "health": {"status": health},
                "operationState": {"phase": "Succeeded", "finishedAt": finished},
                "reconciledAt": finished,
            },
        }

    def fault(self, what: str, times: int = 1) -> None:
        self._faults.extend([what] * times)

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(handler.path)
        self.counts["requests"] += 1
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self._reply(handler, 401, {"error": "invalid session", "code": 16})
        if self._faults:
            fault = self._faults.popleft()
            if fault == "down":
                return self._reply(handler, 500, {"error": "internal error"})
            if fault == "garbage":
                return self._send(handler, 200, b"<html>proxy error</html>", "text/html")
        if handler.command != "GET" or url.path != "/api/v1/applications":
            return self._reply(handler, 404, {"error": "not found"})
        fields = urllib.parse.parse_qs(url.query).get("fields", [""])[0]
        self.fields.append(fields)
        items = [self._trim(app, fields) for _, app in sorted(self.apps.items())]
        self._reply(handler, 200, {"metadata": {"resourceVersion": "1"}, "items": items})

    @staticmethod
    def _trim(app: dict[str, Any], fields: str) -> dict[str, Any]:
        """Argo CD keeps only the ``items.a.b`` paths asked for (all of it when none)."""
        if not fields:
            return app
        out: dict[str, Any] = {}
        for path in fields.split(","):
            parts = path.removeprefix("items.").split(".")
            source, target = app, out
            for i, part in enumerate(parts):
                if not isinstance(source, dict) or part not in source:
                    break
                if i == len(parts) - 1:
                    target[part] = source[part]
                else:
                    source = source[part]
                    target = target.setdefault(part, {})
        return out

    def _reply(self, handler: http.server.BaseHTTPRequestHandler, status: int, body: Any) -> None:
        self._send(handler, status, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _send(
        handler: http.server.BaseHTTPRequestHandler, status: int, data: bytes, kind: str
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
