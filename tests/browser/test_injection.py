"""Hostile descriptors (valid for Backstage) must not run code or leak requests in the portal.

The corpus is ``injection.py``. The portal built from it is served over HTTP and every page
is opened in Chromium with ``guarded_page``: no dialog, no request beyond the serving origin
(127.0.0.1 on other ports included), no page error, no popup. The built HTML is also scanned
without a browser for ``javascript:``/``vbscript:``/``data:`` URLs and live injected markup,
which a Content-Security-Policy could otherwise hide from the browser checks.
"""

from __future__ import annotations

import contextlib
import html
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_tree

from .conftest import (
    SCRIPT_EVENTS,
    GuardedPageFactory,
    Serve,
    build_site,
    format_events,
    html_pages,
    page_url,
)
from .injection import (
    COMPONENT_LINKS,
    DOCS_FILES,
    MARKER,
    REPOSITORIES,
    EntityId,
    markdown,
    scan_html,
    scan_site,
    title,
    write_injection_org,
)
from .linkcheck import check_site

# Every element and attribute as the browser resolved it, after the page's own scripts ran.
DOM_PROBE = """
marker => {
  const found = [];
  const urlAttributes = ['href', 'src', 'action', 'formaction', 'data', 'poster',
                         'xlink:href', 'background'];
  const imageTags = ['IMG', 'SOURCE', 'INPUT', 'PICTURE'];
  const describe = (el, name, value) =>
    `<${el.tagName.toLowerCase()} ${name}=${JSON.stringify(value.slice(0, 120))}>`;
  for (const el of document.querySelectorAll('*')) {
    for (const name of el.getAttributeNames()) {
      const value = el.getAttribute(name) || '';
      const lower = name.toLowerCase();
      if (lower.startsWith('on') && value.toLowerCase().includes(marker)) {
        found.push(describe(el, name, value) + ': an injected event handler');
      }
      if (!urlAttributes.includes(lower)) continue;
      let url;
      try { url = new URL(value, document.baseURI); } catch (e) { continue; }
      const scheme = url.protocol;
      const image = lower === 'src' && imageTags.includes(el.tagName);
      if (scheme === 'javascript:' || scheme === 'vbscript:' ||
          (scheme === 'data:' && !(image && /^data:image\\//i.test(url.href)))) {
        found.push(describe(el, name, value) + `: a ${scheme} URL in the live page`);
      }
    }
  }
  if (new URL(document.baseURI).origin !== location.origin) {
    found.push(`a <base> moved the document base to ${document.baseURI}`);
  }
  return found;
}
"""

HOSTILE_TITLES = {
    EntityId("Component", "default", "hostile-component"): "component",
    EntityId("API", "default", "hostile-openapi"): "openapi",
    EntityId("Group", "default", "hostile-team"): "group",
    EntityId("User", "default", "hostile-user"): "user",
    EntityId("System", "default", "hostile-system"): "system",
    EntityId("Domain", "default", "hostile-domain"): "domain",
    EntityId("Template", "default", "hostile-template"): "template",
}


@pytest.fixture(scope="module")
def injection_org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[EntityId]]:
    root = tmp_path_factory.mktemp("injection") / "org"
    return root, write_injection_org(root)


@pytest.fixture(scope="module")
def injection_site(
    injection_org: tuple[Path, list[EntityId]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return build_site(injection_org[0], tmp_path_factory.mktemp("injection-site") / "site")


def visit_all(site: Path, base_url: str, guard: Any) -> list[str]:
    """Open every page of ``site``; return the DOM probe's findings (as event details)."""
    pages = html_pages(site)
    for relative in pages:
        guard.visit(page_url(base_url, relative), label=relative)
        try:
            for finding in guard.page.evaluate(DOM_PROBE, MARKER.lower()):
                guard.record("dom", finding)
        except Exception as exc:
            guard.record("dom", f"the probe failed: {exc}")
    return pages


FAILING = SCRIPT_EVENTS | {"dom", "csp", "http-status", "navigation", "download"}
DOCS_SITE = "docs/default/component/hostile-docs"


# --------------------------------------------------------------------------- the corpus


def test_the_corpus_is_valid_for_backstage(injection_org: tuple[Path, list[EntityId]]) -> None:
    """Every document is one Backstage accepts: the portal may not reject its way out."""
    from tests.conformance.backstage import PACKAGE_JSON, BackstageOracle
    from tests.npm import install_npm_packages

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: Backstage's verdicts come from its npm packages")
    oracle = BackstageOracle(node, install_npm_packages(PACKAGE_JSON))
    root, entities = injection_org
    files = {repo: root / repo / "catalog-info.yaml" for repo in REPOSITORIES}
    verdicts = oracle.judge(files)
    rejected = [
        f"{repo} document {index + 1}: {verdict.reason}"
        for repo, result in verdicts.items()
        for index, verdict in enumerate(result.verdicts)
        if not verdict.accepted
    ] + [f"{repo}: {result.file_error}" for repo, result in verdicts.items() if result.file_error]
    assert not rejected, "\n".join(rejected)
    assert sum(len(result.verdicts) for result in verdicts.values()) == len(entities)


# --------------------------------------------------------------------------- proof it can fail


def naive_page(escape: bool) -> str:
    """A handmade entity page: raw interpolation (a naive renderer) or escaped and filtered."""

    def text(value: str) -> str:
        return html.escape(value) if escape else value

    def url(value: str) -> str:
        if escape:
            return html.escape(value if value.strip().lower().startswith("https:") else "#")
        return value

    links = "".join(
        f'<li><a href="{url(link["url"])}">{text(link["title"])}</a></li>'
        for link in COMPONENT_LINKS
    )
    return (
        f"<!doctype html><html><head><title>{text(title('naive'))}</title></head><body><main>"
        f'<h1 title="{text(title("naive-attr"))}">{text(title("naive-h1"))}</h1>'
        f"<ul>{links}</ul><div>{text(markdown('naive'))}</div></main></body></html>"
    )


def test_the_checks_catch_a_naive_renderer(
    tmp_path: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    naive = naive_page(escape=False)
    # Without a browser.
    assert scan_html("safe/index.html", naive_page(escape=True)) == []
    static = scan_html("naive/index.html", naive)
    whats = "\n".join(map(str, static))
    for expected in (
        "a javascript: URL",
        "a vbscript: URL",
        "a data:text/html URL",
        "an injected event handler",
        "an injected <script>",
        "an injected <style>",
        "an injected <iframe>",
        "an injected stylesheet",
        "<meta http-equiv=refresh",
        "injected srcdoc",
        "injected style",
    ):
        assert expected in whats, f"{expected!r} not found in:\n{whats}"
    # In the browser (without the <meta> refresh, which would leave the page at once).
    site = write_tree(
        tmp_path / "site",
        {
            "naive/index.html": re.sub(r"<meta http-equiv[^>]*>", "", naive),
            "safe/index.html": naive_page(escape=True),
        },
    )
    base_url = serve(site)
    guard = guarded_page(allowed_origin=base_url)
    visit_all(site, base_url, guard)
    kinds = {e.kind for e in guard.problems(FAILING) if e.visit.startswith("naive/")}
    assert {"dialog", "request", "dom"} <= kinds, format_events(guard.events)
    assert not [e for e in guard.problems(FAILING) if e.visit.startswith("safe/")], format_events(
        guard.events
    )
    dialogs = " ".join(e.detail for e in guard.problems({"dialog"}))
    assert f"{MARKER}naive-script" in dialogs or f"{MARKER}naive-img" in dialogs, dialogs


# --------------------------------------------------------------------------- the built portal


def test_every_entity_of_the_corpus_has_its_page(
    injection_org: tuple[Path, list[EntityId]], injection_site: Path
) -> None:
    missing = [e.page for e in injection_org[1] if not (injection_site / e.page).is_file()]
    assert not missing, "entity pages missing (Backstage accepts these entities):\n" + "\n".join(
        missing
    )


def test_no_injected_code_runs_in_chromium(
    injection_site: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    base_url = serve(injection_site)
    guard = guarded_page(allowed_origin=base_url)
    pages = visit_all(injection_site, base_url, guard)
    assert len(pages) >= len(HOSTILE_TITLES)
    assert f"{DOCS_SITE}/index.html" in pages
    # Images of the docs, opened by their own URL: a document on the portal's origin.
    images = sorted(p.relative_to(injection_site).as_posix() for p in injection_site.rglob("*.svg"))
    assert f"{DOCS_SITE}/diagram.svg" in images
    for relative in images:
        guard.visit(base_url + relative, label=relative)
    failures = guard.problems(FAILING)
    if failures:
        context = [e for e in guard.events if e.kind == "console"]
        pytest.fail(
            format_events(failures)
            + (f"\n(console errors on those pages: {format_events(context)})" if context else ""),
            pytrace=False,
        )


def exercise(guard: Any, site: Path, base_url: str, pages: list[str], lists: list[str]) -> int:
    """Press the buttons on ``pages``; use every filter and search box on ``lists``.

    Returns how many actions were taken; events are recorded on ``guard``.
    """
    page = guard.page
    acted = 0
    for relative in pages:
        if not (site / relative).is_file():
            continue
        guard.visit(page_url(base_url, relative), label=f"{relative} (buttons)")
        buttons = page.locator("main button:visible")
        for index in range(min(buttons.count(), 5)):
            with contextlib.suppress(Exception):
                buttons.nth(index).click(timeout=1_000)
                acted += 1
        if buttons.count():
            page.wait_for_timeout(150)  # let what the clicks started finish on this page
    for relative in lists:
        if not (site / relative).is_file():
            continue
        guard.visit(page_url(base_url, relative), label=f"{relative} (filters)")
        selects = page.locator("select:visible")
        for index in range(selects.count()):
            select = selects.nth(index)
            values = _option_values(page, select)
            for value in values[:6]:
                with contextlib.suppress(Exception):
                    select.select_option(value, timeout=1_000)
                    page.wait_for_timeout(30)
                    page.wait_for_load_state("load", timeout=5_000)
                    acted += 1
            with contextlib.suppress(Exception):
                select.select_option(values[0] if values else "", timeout=1_000)
        boxes = page.locator(
            "input[type=search]:visible, input[type=text]:visible, input:not([type]):visible"
        )
        for index in range(boxes.count()):
            for query in ("hostile", "BLX-", "img onerror"):
                with contextlib.suppress(Exception):
                    box = boxes.nth(index)
                    box.fill("", timeout=1_000)
                    box.press_sequentially(query, delay=5, timeout=2_000)
                    page.wait_for_timeout(100)
                    acted += 1
        if boxes.count():
            with contextlib.suppress(Exception):
                boxes.first.press("Enter", timeout=1_000)
                page.wait_for_load_state("load", timeout=5_000)
                page.wait_for_timeout(100)
    return acted


def _option_values(page: Any, select: Any) -> list[str]:
    """A select's option values; choosing a kind goes to that kind's page, so a navigation
    may be under way: read them again once it has loaded."""
    for _ in range(5):
        try:
            return list(select.locator("option").evaluate_all("os => os.map(o => o.value)"))
        except Exception:  # the page navigated while it was read
            page.wait_for_timeout(200)
            page.wait_for_load_state("load", timeout=5_000)
    return []


def test_interacting_runs_no_injected_code(
    injection_site: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """Scripts that render descriptor text after a click or a keystroke: press the buttons of
    the most hostile entities' pages (e.g. star them: the home page lists starred entities),
    then use every filter and search box of the home and catalog pages."""
    base_url = serve(injection_site)
    guard = guarded_page(allowed_origin=base_url)
    pages = [entity.page for entity in list(HOSTILE_TITLES)[:4]]
    acted = exercise(guard, injection_site, base_url, pages, ["index.html", "catalog/index.html"])
    if acted == 0:
        pytest.skip("no button, filter or search box to use in the injection portal")
    guard.assert_clean(FAILING)


def test_exercise_finds_code_that_runs_on_input(
    tmp_path: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """Proof that the interaction test can fail: innerHTML on click, on select, on typing."""
    site = write_tree(
        tmp_path / "site",
        {
            "entity/index.html": "<main><button onclick=\"document.querySelector('main')"
            ".insertAdjacentHTML('beforeend', '<img src=x onerror=alert(1)>')\">Star</button>"
            "</main>",
            "index.html": """<main><select id=s><option>a</option><option>b</option></select>
                <input type=search id=q><div id=out></div></main><script>
                const out = document.getElementById('out');
                document.getElementById('s').onchange = e => out.innerHTML =
                  '<img src=x onerror="alert(\\'BLX-select\\')">';
                document.getElementById('q').oninput = e => { if (e.target.value === 'hostile')
                  out.innerHTML = '<img src=x onerror="fetch(\\'http://127.0.0.1:9/BLX-q\\')">'; };
                </script>""",
        },
    )
    base_url = serve(site)
    guard = guarded_page(allowed_origin=base_url)
    assert exercise(guard, site, base_url, ["entity/index.html"], ["index.html"]) >= 3
    details = format_events(guard.problems(FAILING))
    assert "alert('1')" in details, details  # from the button (usually filed under its page)
    assert "BLX-select" in details and "127.0.0.1:9/BLX-q" in details, details


def test_the_policy_blocks_what_escaping_would_have_missed(
    injection_site: Path, tmp_path: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """Defence in depth: a portal page and a docs page with raw payloads pasted in, as if
    escaping had failed, still run nothing; Chromium reports what the policy blocked."""
    site = tmp_path / "site"
    shutil.copytree(injection_site, site)
    raw = (
        f"<script>alert('{MARKER}raw-script')</script>"
        f"<img src=x onerror=\"alert('{MARKER}raw-img')\">"
        "<script src='http://127.0.0.1:9/raw.js'></script>"
    )
    pages = ["catalog/default/component/hostile-component/index.html", f"{DOCS_SITE}/index.html"]
    for relative in pages:
        path = site / relative
        path.write_text(path.read_text().replace("</body>", raw + "</body>"))
    base_url = serve(site)
    guard = guarded_page(allowed_origin=base_url)
    for relative in pages:
        guard.visit(page_url(base_url, relative), label=relative)
    assert not guard.problems({"dialog", "request"}), format_events(guard.events)
    for relative in pages:
        blocked = [e for e in guard.problems({"csp"}) if e.visit == relative]
        assert len(blocked) >= 3, (relative, format_events(guard.events))


def test_docs_publish_only_inert_static_files(injection_site: Path) -> None:
    """Pages, scripts and XML from the repository's docs/ would run on the portal's origin;
    a stylesheet that imports from elsewhere would load it; a file named like the theme's
    bundle would replace it. None of them is published."""
    site = injection_site / DOCS_SITE
    for name in ("evil.html", "evil.xhtml", "evil.js", "data.xml", "import.css", "escaped.css"):
        assert not (site / name).exists(), name
    for name in ("ok.png", "good.css", "diagram.svg"):
        assert (site / name).is_file(), name
    bundle = (site / "assets/javascripts/bundle.d7400e89.min.js").read_text()
    assert MARKER not in bundle and len(bundle) > 10_000  # Material's own
    svg = (site / "diagram.svg").read_text()
    for gone in ("<script", "onload", "foreignObject", "127.0.0.1:9", "javascript:"):
        assert gone not in svg, gone
    assert "<circle" in svg and "<rect" in svg


def test_docs_content_cannot_take_the_themes_ids(
    injection_site: Path, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    """DOM clobbering: the page's own ``<div id="__config">`` would replace the theme's
    configuration, which Material reads with ``querySelector("#__config")``."""
    base_url = serve(injection_site)
    guard = guarded_page(allowed_origin=base_url)
    guard.visit(f"{base_url}{DOCS_SITE}/")
    found = guard.page.evaluate(
        """() => ({
            config: document.querySelectorAll('#__config').length,
            configTag: document.querySelector('#__config').tagName,
            drawer: document.querySelectorAll('#__drawer').length,
            scope: typeof window.__md_scope === 'object' && window.__md_scope instanceof URL,
            portal: document.querySelector('.backlot-portal-link').href,
        })"""
    )
    assert found["config"] == 1 and found["configTag"] == "SCRIPT", found
    assert found["drawer"] == 1 and found["scope"], found
    assert found["portal"] == f"{base_url}catalog/default/component/hostile-docs/index.html"
    guard.assert_clean(FAILING)


def test_the_html_has_no_dangerous_url_or_live_injected_markup(injection_site: Path) -> None:
    findings = scan_site(injection_site)
    assert not findings, f"{len(findings)} finding(s):\n" + "\n".join(map(str, findings))


def test_hostile_titles_are_shown_as_text(injection_site: Path) -> None:
    """Escaping, not deleting: the page shows the title, payload and all, as plain text."""
    missing = []
    for entity, where in HOSTILE_TITLES.items():
        page = injection_site / entity.page
        if not page.is_file():
            missing.append(f"{entity.page}: no page")
            continue
        text = visible_text(page.read_text(encoding="utf-8"))
        expected = f"alert('{MARKER}{where}-title')"
        if expected not in text:
            missing.append(f"{entity.page}: {expected!r} is not in the page's text")
    assert not missing, "\n".join(missing)


def test_the_injection_portal_has_no_broken_link(injection_site: Path) -> None:
    """Edge names (dots, underscores, uppercase, 63 chars, namespaces) and unresolved refs."""
    report = check_site(injection_site)
    # A broken link the repository's own Markdown wrote is its own (the payloads are meant
    # to be odd URLs); every link the portal and the docs' theme make must work.
    own = [
        b
        for b in report.broken
        if b.page.startswith(f"{DOCS_SITE}/")
        and b.url in DOCS_FILES["hostile-docs"]["docs/index.md"]
    ]
    assert [b for b in report.broken if b not in own] == [], report.summary()


def visible_text(document: str) -> str:
    """The text of a page outside <script>, <style> and <template>, entity-decoded."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.hidden = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("script", "style", "template"):
                self.hidden += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in ("script", "style", "template") and self.hidden:
                self.hidden -= 1

        def handle_data(self, data: str) -> None:
            if not self.hidden:
                self.parts.append(data)

    parser = Text()
    parser.feed(document)
    parser.close()
    return "".join(parser.parts)
