"""The portal and its docs under the CDN's response headers (deploy/portal.yaml's policy):
every page, portal and docs alike, loads without one Content-Security-Policy violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import GuardedPageFactory, Serve, html_pages, page_url
from tests.test_deploy import template

# Chromium fires this for everything a policy blocks, reported or not.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def cdn_headers() -> dict[str, str]:
    """The headers the distribution adds, as its response-headers policy says."""
    resources = template()["Resources"]
    config = resources["SecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert csp == {"Ref": "ContentSecurityPolicy"}
    return {
        "Content-Security-Policy": template()["Parameters"]["ContentSecurityPolicy"]["Default"],
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
    }


def violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__violations || []"))


def test_every_page_satisfies_the_cdns_policy(
    example_site: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    base = serve(example_site, headers=cdn_headers())
    guard = guarded_page(allowed_origin=base)
    guard.page.add_init_script(RECORD_VIOLATIONS)
    pages = html_pages(example_site)
    docs = [p for p in pages if p.startswith("docs/")]
    assert len(docs) >= 3 and len(pages) - len(docs) >= 20, "the example has portal and docs"
    found: dict[str, list[str]] = {}
    for relative in pages:
        response = guard.visit(page_url(base, relative), label=relative)
        assert response is not None
        assert (
            response.headers["content-security-policy"] == cdn_headers()["Content-Security-Policy"]
        )
        if blocked := violations(guard.page):
            found[relative] = blocked
    assert found == {}
    guard.assert_clean({"csp", "pageerror"})


def test_a_violation_would_be_seen(
    tmp_path: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """The same check on a page with an inline script and a framed page reports both."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>x</title><script>document.title = 'ran'</script>"
        '<iframe src="index.html"></iframe>'
    )
    base = serve(tmp_path, headers=cdn_headers())
    guard = guarded_page(allowed_origin=base)
    guard.page.add_init_script(RECORD_VIOLATIONS)
    guard.visit(base)
    blocked = violations(guard.page)
    assert any(v.startswith("script-src") for v in blocked), blocked
    assert any(v.startswith("frame-src") for v in blocked), blocked
    assert guard.page.title() == "x"
