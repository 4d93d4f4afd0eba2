"""A test server on 127.0.0.1, in a thread: the fakes of services that cannot run here
(GitHub's API, a web host) and git's own HTTP backend share it."""

from __future__ import annotations

import http.server
import threading
from typing import Any


class LocalServer:
    """Subclasses answer every request in ``serve``; ``start`` returns the base URL."""

    base = ""
    _server: http.server.ThreadingHTTPServer | None = None

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def start(self) -> str:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.serve(self)

            def do_POST(self) -> None:
                outer.serve(self)

            def do_PUT(self) -> None:
                outer.serve(self)

            def do_DELETE(self) -> None:
                outer.serve(self)

            def do_HEAD(self) -> None:
                outer.serve(self)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.base

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
