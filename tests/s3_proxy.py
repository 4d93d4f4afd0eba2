"""A proxy in front of moto's S3 server (real HTTP on 127.0.0.1) that counts what a client
sends and injects what real S3 does under load: 503 SlowDown throttling, and a client
killed mid-way (the proxy kills the publishing process when a chosen request arrives)."""

from __future__ import annotations

import http.client
import http.server
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .local_http import LocalServer

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # without the query
    query: str
    sent: int  # request body bytes


class S3Proxy(LocalServer):
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.seen: list[Seen] = []
        self.throttled = 0
        # (method, path, query) → True to answer 503 SlowDown instead of forwarding.
        self.throttle: Callable[[str, str, str], bool] = lambda *_: False
        # (method, path, query) → True to SIGKILL ``victim`` before forwarding.
        self.kill_when: Callable[[str, str, str], bool] = lambda *_: False
        self.victim: int | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()
            self.throttled = 0
        self.throttle = lambda *_: False
        self.kill_when = lambda *_: False
        self.victim = None

    def requests(self, method: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if method is None or s.method == method]

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        method = handler.command
        with self._lock:
            self.seen.append(Seen(method, path, query, len(body)))
        if self.victim is not None and self.kill_when(method, path, query):
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None
            handler.close_connection = True
            return
        if self.throttle(method, path, query):
            with self._lock:
                self.throttled += 1
            handler.send_response(503)
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("Content-Length", str(len(SLOW_DOWN)))
            handler.end_headers()
            handler.wfile.write(SLOW_DOWN)
            return
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "connection"}
        connection.request(method, handler.path, body=body, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        handler.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(data)
        connection.close()
