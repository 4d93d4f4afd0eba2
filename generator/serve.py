"""``backlot serve``: a preview server for a built portal, on the loopback interface unless
told otherwise."""

from __future__ import annotations

import contextlib
import errno
import functools
import http.server
import ipaddress
import os
import socket
from pathlib import Path

from .errors import BacklotError
from .model import PICTURES_PREFIX, raster_type

__all__ = ["CannotListen", "serve_folder"]


class CannotListen(BacklotError):
    """The address cannot be listened on: the port is taken, or the host is not this
    machine's. The message says what to do instead."""


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

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        # Pictures are named by their URL, not their format: their bytes say what they are,
        # as the publish step tells the bucket.
        relative = os.path.relpath(path, self.directory).replace(os.sep, "/")
        if relative.startswith(PICTURES_PREFIX):
            with contextlib.suppress(OSError), open(path, "rb") as image:
                return raster_type(image.read(16)) or "application/octet-stream"
        return super().guess_type(path)

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
    with _server(host, port, handler) as server:
        bound_port = server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        print(f"Serving {folder} at http://{shown}:{bound_port}/ (Ctrl-C to stop)", flush=True)
        if not _loopback(host):
            print(f"note: listening on {host}: other machines can read this preview", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


def _server(host: str, port: int, handler: functools.partial[_Handler]) -> http.server.HTTPServer:
    """A threading server on ``host`` (a name, an IPv4 or an IPv6 address), or why not."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
            0
        ][0]
    except (socket.gaierror, UnicodeError):
        raise CannotListen(f"--host {host}: not an address or a name this machine knows") from None
    server_class = type("Server", (http.server.ThreadingHTTPServer,), {"address_family": family})
    try:
        return server_class((host, port), handler)  # type: ignore[no-any-return]
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CannotListen(
                f"port {port} is in use on {host}: pick another with --port, "
                "or --port 0 for a free one"
            ) from None
        if exc.errno == errno.EACCES:
            raise CannotListen(
                f"port {port} needs privileges this user lacks: pick one above 1023 with "
                "--port, or --port 0 for a free one"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise CannotListen(
                f"--host {host}: not an address of this machine (127.0.0.1 is this machine "
                "alone, 0.0.0.0 every interface)"
            ) from None
        raise


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
