"""Browser-level fixtures: Debian's Chromium driven by Playwright, a local HTTP server, the
built example portal, and pages that record everything an injected script could do.

Recipe (see /work/shared/spec/testing.md): the system browser at /usr/bin/chromium, launched
with ``--no-sandbox`` (we run as root) and flags that keep it from calling home; never
``playwright install``. Playwright's ``launch()`` gives every browser a fresh temporary
profile (user-data dir) of its own.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.linkcheck import is_error_page
from tests.conftest import EXAMPLES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
BUILD_TIMEOUT = 600


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The system Chromium; the browser tests skip when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is absent: install Debian's chromium "
            "(apt-get install -y chromium; .ci/run does it)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """One headless Chromium for the whole session (Playwright's sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


# --------------------------------------------------------------------------- HTTP server


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that drops a connection (favicon, aborted load) is not an error."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            super().handle_error(request, client_address)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves ``directory`` under the URL path ``prefix`` (anything else is a 404)."""

    prefix = "/"

    def __init__(
        self, *args: Any, prefix: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        self.prefix = prefix
        self.extra_headers = headers or {}
        super().__init__(*args, **kwargs)

    def send_head(self) -> Any:
        if not urllib.parse.urlsplit(self.path).path.startswith(self.prefix):
            self.send_error(404, "outside the served prefix")
            return None
        return super().send_head()

    def translate_path(self, path: str) -> str:
        url_path = urllib.parse.urlsplit(path).path
        return super().translate_path("/" + url_path[len(self.prefix) :])

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


_QuietHandler.extensions_map = {
    **http.server.SimpleHTTPRequestHandler.extensions_map,
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".css": "text/css",
    ".webmanifest": "application/manifest+json",
}


Serve = Callable[..., str]


@pytest.fixture(scope="session")
def serve() -> Iterator[Serve]:
    """``serve(directory, prefix="/", headers=None) -> base_url``: a folder over HTTP on
    127.0.0.1, every response carrying ``headers`` too (a CDN's response headers).

    Each call starts a server on a free port in a background thread; ``base_url`` is
    ``http://127.0.0.1:PORT<prefix>`` and ends with ``/``. A prefix such as ``/portal/``
    proves that a site works below any base path. Every server stops at session end.
    """
    servers: list[tuple[_QuietServer, threading.Thread]] = []

    def start(
        directory: Path | str, prefix: str = "/", headers: dict[str, str] | None = None
    ) -> str:
        prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        handler = functools.partial(
            _QuietHandler, directory=str(directory), prefix=prefix, headers=headers
        )
        server = _QuietServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="serve", daemon=True
        )
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}{prefix}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- built sites


def build_site(source: Path, output: Path) -> Path:
    """``python -m generator build SOURCE -o OUTPUT``; fails the test unless it exits 0.

    It runs in OUTPUT's parent folder, so that its cache (``.backlot/``) and settings
    (``backlot.yaml``) are its own, not the checkout's or another build's.
    """
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "build",
            str(Path(source).resolve()),
            "-o",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=output.parent,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"`python -m generator build {source} -o {output}` exited {done.returncode}\n"
            f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    if not (output / "index.html").is_file():
        pytest.fail(f"the build wrote no {output / 'index.html'}", pytrace=False)
    return output


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal of the bundled example organisation, built once per session."""
    return build_site(EXAMPLES, tmp_path_factory.mktemp("example") / "site")


def html_pages(site: Path) -> list[str]:
    """Every ``*.html`` page of a built site (docs' 404 pages aside: see is_error_page)."""
    return sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if p.is_file() and not is_error_page(p.relative_to(site).as_posix())
    )


def page_url(base_url: str, relative: str) -> str:
    """The URL a visitor uses for a page: ``a/index.html`` is visited as ``a/``."""
    if relative == "index.html":
        relative = ""
    elif relative.endswith("/index.html"):
        relative = relative[: -len("index.html")]
    return base_url + urllib.parse.quote(relative)


# --------------------------------------------------------------------------- guarded pages

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})


@dataclass
class Event:
    """Something a page did: ``kind`` is dialog, request, console, pageerror, popup, …"""

    kind: str
    detail: str
    visit: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass
class GuardedPage:
    """A Playwright page (in a fresh context) whose dialogs, requests and errors are recorded.

    ``allowed_origins`` are the only ``scheme://host:port`` origins it may request; without
    them, any http(s) URL on 127.0.0.1/localhost and file: URLs are allowed. Everything else
    is recorded and aborted, so nothing leaves the machine.
    """

    page: Any
    context: Any
    allowed_origins: frozenset[str] | None
    events: list[Event] = field(default_factory=list)
    visit_label: str = ""

    def allowed(self, url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in LOCAL_SCHEMES:
            return True
        if self.allowed_origins is not None:
            return _origin(url) in self.allowed_origins
        if scheme == "file":
            return True
        return scheme in ("http", "https") and (parts.hostname or "") in LOCAL_HOSTS

    def record(self, kind: str, detail: str) -> None:
        self.events.append(Event(kind, detail, self.visit_label or self.page.url))

    def visit(self, url: str, *, label: str | None = None, settle_ms: int = 50) -> Any:
        """Go to ``url``, wait for ``load`` and a short idle; events are filed under label.

        Filing is best effort: an event that a previous page started late (an image error
        after a click, say) may be filed under the next visit.
        """
        self.visit_label = label or url
        response = None
        try:
            response = self.page.goto(url, wait_until="load", timeout=15_000)
            if response is not None and response.status >= 400:
                self.record("http-status", f"{response.status} for {url}")
            # Two animation frames and a short timer: handlers queued during load run.
            if settle_ms > 0:
                self.page.evaluate(
                    "ms => new Promise(r => requestAnimationFrame(() =>"
                    " requestAnimationFrame(() => setTimeout(r, ms))))",
                    settle_ms,
                )
        except Exception as exc:  # a navigation that fails is an event, not a crash
            self.record("navigation", f"{url}: {str(exc).splitlines()[0]}")
        return response

    def problems(self, kinds: frozenset[str] | set[str] | None = None) -> list[Event]:
        return [e for e in self.events if kinds is None or e.kind in kinds]

    def assert_clean(self, kinds: frozenset[str] | set[str] | None = None) -> None:
        found = self.problems(kinds)
        if found:
            pytest.fail(format_events(found), pytrace=False)

    def close(self) -> None:
        self.context.close()


SCRIPT_EVENTS = frozenset({"dialog", "request", "pageerror", "popup", "websocket", "crash"})
ALL_EVENTS = SCRIPT_EVENTS | {"console", "csp", "http-status", "navigation", "download"}


def format_events(events: list[Event]) -> str:
    """All events, grouped by the visit they happened in."""
    by_visit: dict[str, list[Event]] = {}
    for event in events:
        by_visit.setdefault(event.visit, []).append(event)
    lines = [f"{len(events)} problem(s) on {len(by_visit)} page(s):"]
    for visit, found in by_visit.items():
        lines.append(f"  {visit}")
        lines += [f"    - {event}" for event in found]
    return "\n".join(lines)


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL (the port always spelled out)."""
    return _origin(url)


GuardedPageFactory = Callable[..., GuardedPage]


def open_guarded_page(
    browser: Any,
    allowed_origin: str | list[str] | None = None,
    viewport: dict[str, int] | None = None,
) -> GuardedPage:
    """A page in a fresh browser context, with every listener of ``guarded_page`` attached.

    The caller closes it (``GuardedPage.close()``); the ``guarded_page`` fixture does that
    for the pages it opens. Use this directly in module- or session-scoped fixtures.
    """
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 800},
        service_workers="block",
        accept_downloads=False,
    )
    page = context.new_page()
    origins = None
    if allowed_origin is not None:
        given = [allowed_origin] if isinstance(allowed_origin, str) else allowed_origin
        origins = frozenset(_origin(url) for url in given)
    guard = GuardedPage(page=page, context=context, allowed_origins=origins)

    def on_route(route: Any) -> None:
        url = route.request.url
        if guard.allowed(url):
            route.continue_()
        else:
            guard.record("request", f"{route.request.method} {url} (aborted)")
            route.abort("blockedbyclient")

    def on_dialog(dialog: Any) -> None:
        guard.record("dialog", f"{dialog.type}({dialog.message!r})")
        with contextlib.suppress(Exception):  # the page may be gone already
            dialog.dismiss()

    def on_console(message: Any) -> None:
        if message.type == "error":
            guard.record("console", message.text)
            # Chromium reports what a page's Content-Security-Policy blocked on the console.
            if "Content Security Policy" in message.text:
                guard.record("csp", message.text)

    def watch(target: Any, popup: bool) -> None:
        target.on("dialog", on_dialog)
        target.on("console", on_console)
        target.on("pageerror", lambda error: guard.record("pageerror", str(error)))
        target.on("crash", lambda _page: guard.record("crash", "the page crashed"))
        target.on("download", lambda d: guard.record("download", d.url))
        target.on("websocket", lambda ws: guard.record("websocket", ws.url))
        if popup:
            guard.record("popup", f"a new window opened ({target.url})")

    context.route("**/*", on_route)
    watch(page, popup=False)
    context.on("page", lambda new_page: watch(new_page, popup=True))
    return guard


@pytest.fixture
def guarded_page(browser: Any) -> Iterator[GuardedPageFactory]:
    """``guarded_page(allowed_origin=None, viewport=None) -> GuardedPage``.

    Each call opens a page in a fresh browser context with listeners that record dialogs
    (dismissed), requests outside the allowed origin(s) (aborted; with no allowed origin,
    any loopback http(s) origin and file: are allowed), console errors, page errors,
    popups, websockets and downloads. ``allowed_origin`` is a base URL (or several): only
    its ``scheme://host:port`` may be requested. ``GuardedPage.assert_clean()`` fails the
    test with every recorded event, grouped by visit.
    """
    opened: list[GuardedPage] = []

    def open_page(
        allowed_origin: str | list[str] | None = None,
        viewport: dict[str, int] | None = None,
    ) -> GuardedPage:
        guard = open_guarded_page(browser, allowed_origin, viewport)
        opened.append(guard)
        return guard

    yield open_page
    for guard in opened:
        with contextlib.suppress(Exception):
            guard.close()


# --------------------------------------------------------------------------- org pages


@dataclass(frozen=True)
class GroupPortal:
    """A built portal of a small org (``root`` > ``engineering`` > ``payments``, and
    ``payments``' child ``payments-api``) whose members' pictures came from an https host
    on 127.0.0.1 that is stopped once the build has copied them (so a page that hot-linked
    a picture would show nothing), from a data URI, and from addresses that fail."""

    site: Path
    pictures: dict[str, str]  # user name → its spec.profile.picture


@pytest.fixture(scope="session")
def group_portal(tmp_path_factory: pytest.TempPathFactory) -> GroupPortal:
    import base64
    import json

    from tests.conftest import run_backlot, write_tree
    from tests.picture_host import Answer, PictureHost, png

    root = tmp_path_factory.mktemp("group-portal")
    host = PictureHost()
    host.start_tls(root / "tls")
    host.routes["/alice.png"] = Answer(body=png((200, 30, 30), 32))
    pictures = {
        "alice": f"{host.base}/alice.png",
        "bob": "data:image/png;base64," + base64.b64encode(png((30, 30, 200), 32)).decode(),
        "carol": f"{host.base}/gone.png",  # the host answers 404: initials
        "dave": "https://elsewhere.example/dave.png",  # a host not allowed: initials
    }

    def entity(kind: str, name: str, spec: dict[str, Any]) -> str:
        meta = {"name": name}
        return json.dumps(
            {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": meta, "spec": spec}
        )

    def group(name: str, display: str, parent: str | None) -> str:
        spec: dict[str, Any] = {"type": "team", "children": [], "profile": {"displayName": display}}
        if parent:
            spec["parent"] = parent
        return entity("Group", name, spec)

    documents = [
        group("root", "Acme", None),
        group("engineering", "Engineering", "root"),
        group("payments", "Payments", "engineering"),
        group("payments-api", "Payments API", "payments"),
    ]
    for name, picture in pictures.items():
        profile = {"displayName": name.title(), "email": f"{name}@acme.example", "picture": picture}
        documents.append(entity("User", name, {"profile": profile, "memberOf": ["payments"]}))
    write_tree(root / "org", {"people/catalog-info.yaml": "\n---\n".join(documents)})
    (root / "backlot.yaml").write_text(f"site:\n  picture_hosts: [{host.netloc}]\n")
    try:
        result = run_backlot(
            "build",
            root / "org",
            "-o",
            root / "site",
            "--cache-dir",
            root / "cache",
            "--config",
            root / "backlot.yaml",
            env={"SSL_CERT_FILE": str(host.cert_file)},
        )
    finally:
        host.stop()
    if result.returncode != 0:
        pytest.fail(f"the org build failed\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return GroupPortal(root / "site", pictures)
