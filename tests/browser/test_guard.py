"""The browser fixtures themselves: the server honours its prefix, and the guard can fail."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import write_tree

from .conftest import SCRIPT_EVENTS, GuardedPageFactory, Serve

PAGES = {
    "clean/index.html": """\
        <!doctype html><html><head><title>clean</title>
        <link rel="stylesheet" href="../static/site.css"><script src="../static/app.js"></script>
        </head><body><main><a href="http://127.0.0.1:1/steal?c=">a link is fine</a>
        <a href="javascript:alert('not clicked')">not clicked</a></main></body></html>
        """,
    "static/site.css": "main { color: #333 }",
    "static/app.js": "document.documentElement.dataset.ready = 'yes';",
    "alert.html": "<p>x</p><script>alert('BLX-guard-script')</script>",
    "onerror.html": "<img src=x onerror=\"alert('BLX-guard-img')\">",
    "svg.html": "<svg onload=\"confirm('BLX-guard-svg')\"></svg>",
    "fetch.html": "<script>fetch('http://127.0.0.1:9/BLX-guard-fetch').catch(() => {})</script>",
    "external.html": '<img src="http://203.0.113.7/pixel.png" alt="">',
    "throw.html": "<script>throw new Error('BLX-guard-throw')</script>",
    "console.html": "<script>console.error('BLX-guard-console')</script>",
    "popup.html": "<script>window.open('about:blank')</script>",
    "refresh.html": '<meta http-equiv="refresh" content="0; url=http://127.0.0.1:9/BLX-refresh">',
    "csp.html": '<meta http-equiv="Content-Security-Policy" content="script-src \'self\'">'
    "<script>alert('BLX-guard-csp')</script>",
}


@pytest.fixture
def handmade(tmp_path: Path, serve: Serve) -> str:
    return serve(write_tree(tmp_path / "site", PAGES), prefix="/portal/")


def test_the_server_serves_below_its_prefix_only(handmade: str) -> None:
    assert handmade.endswith("/portal/")
    with urllib.request.urlopen(handmade + "static/site.css") as response:
        assert response.read() == b"main { color: #333 }"
    with urllib.request.urlopen(handmade + "clean/") as response:
        assert b"<title>clean</title>" in response.read()
    outside = handmade.replace("/portal/", "/static/site.css")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(outside)
    assert error.value.code == 404


def test_a_clean_page_is_clean(handmade: str, guarded_page: GuardedPageFactory) -> None:
    guard = guarded_page(allowed_origin=handmade)
    guard.visit(handmade + "clean/")
    assert guard.page.evaluate("document.documentElement.dataset.ready") == "yes"
    assert guard.page.evaluate("getComputedStyle(document.querySelector('main')).color") == (
        "rgb(51, 51, 51)"
    )
    guard.assert_clean()


@pytest.mark.parametrize(
    ("page", "kind", "needle"),
    [
        ("alert.html", "dialog", "BLX-guard-script"),
        ("onerror.html", "dialog", "BLX-guard-img"),
        ("svg.html", "dialog", "BLX-guard-svg"),
        ("fetch.html", "request", "127.0.0.1:9/BLX-guard-fetch"),
        ("external.html", "request", "203.0.113.7/pixel.png"),
        ("throw.html", "pageerror", "BLX-guard-throw"),
        ("console.html", "console", "BLX-guard-console"),
        ("popup.html", "popup", "new window"),
        ("refresh.html", "request", "127.0.0.1:9/BLX-refresh"),
        ("csp.html", "csp", "inline script"),
    ],
)
def test_the_guard_catches(
    handmade: str, guarded_page: GuardedPageFactory, page: str, kind: str, needle: str
) -> None:
    guard = guarded_page(allowed_origin=handmade)
    guard.visit(handmade + page, settle_ms=150 if page == "refresh.html" else 50)
    found = [e for e in guard.events if e.kind == kind and needle in e.detail]
    assert found, f"no {kind} event with {needle!r}; events: {guard.events}"
    with pytest.raises(pytest.fail.Exception, match=needle.split("/")[-1]):
        guard.assert_clean()


def test_other_ports_on_localhost_are_off_limits(
    handmade: str, guarded_page: GuardedPageFactory
) -> None:
    """With an allowed origin, 127.0.0.1 on another port is as foreign as any host."""
    guard = guarded_page(allowed_origin=handmade)
    guard.visit(handmade + "fetch.html")
    assert [e.kind for e in guard.problems(SCRIPT_EVENTS)] == ["request"]
    # Without one, any loopback origin is allowed (the request is made, and refused).
    loose = guarded_page()
    loose.visit(handmade + "fetch.html")
    assert not loose.problems({"request"})


def test_events_are_filed_under_their_visit(
    handmade: str, guarded_page: GuardedPageFactory
) -> None:
    guard = guarded_page(allowed_origin=handmade)
    guard.visit(handmade + "clean/", label="clean")
    guard.visit(handmade + "alert.html", label="alert")
    guard.visit(handmade + "missing.html", label="missing")
    assert [(e.visit, e.kind) for e in guard.problems({"dialog", "http-status"})] == [
        ("alert", "dialog"),
        ("missing", "http-status"),
    ]
