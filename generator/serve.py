"""``backlot serve``: a preview server for a built portal, on the loopback interface only."""

from __future__ import annotations

import contextlib
import functools
import http.server
from pathlib import Path

__all__ = ["serve_folder"]


class _Handler(http.server.SimpleHTTPRequestHandler):
    csp = ""

    def end_headers(self) -> None:
        # The same protections the CDN sets in production, so previews behave alike: the
        # pages carry their Content-Security-Policy in <meta>; the header adds what only a
        # header can say (frame-ancestors).
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # As the CDN does: a missing path gets the portal's own "not found" page.
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def serve_folder(folder: Path, port: int, host: str = "127.0.0.1", *, csp: str) -> None:
    handler = functools.partial(type("Handler", (_Handler,), {"csp": csp}), directory=str(folder))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        bound_port = server.server_address[1]
        print(f"Serving {folder} at http://{host}:{bound_port}/ (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
