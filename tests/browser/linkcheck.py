"""A link checker for a built static site (pure Python, no browser).

Every ``*.html`` file, and every entity graph (``catalog/**/*.svg``), is parsed with
``html.parser``; every URL it references (``href``,
``src``, ``srcset``, ``data``, ``action``, ``formaction``, ``poster``, ``xlink:href``, a
``<meta http-equiv=refresh>`` target) is resolved against the page's location as a browser
would under any base path or from ``file://``: a trailing ``/`` means ``index.html``, the
query and fragment are stripped and the path is percent-decoded. ``url(...)`` and
``@import`` in ``*.css`` files are checked too.

Reported, each as ``(page, url, reason)``:
- a relative URL whose target file does not exist (or leaves the site folder);
- a link to a folder that does not end in ``/`` (it would work over HTTP only by redirect,
  and never from ``file://``);
- a root-relative URL (``/x``) or a ``file:`` URL: the site must work at any base path;
- a ``#fragment`` with no element of that ``id`` (or ``<a name>``) on the target page.

Absolute ``http(s):``, ``mailto:``, ``tel:`` and ``data:`` URLs and protocol-relative
``//host`` URLs are not checked; other schemes are left to the injection tests.
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

URL_ATTRIBUTES = frozenset(
    {"href", "src", "data", "action", "formaction", "poster", "xlink:href", "background"}
)
IGNORED_SCHEMES = frozenset({"http", "https", "mailto", "tel", "data"})
REPORTED_SCHEMES = frozenset({"file"})
FRAGMENT_TYPES = frozenset({".html", ".htm", ".svg", ".xhtml"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_CSS_URL = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
    re.IGNORECASE,
)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_REFRESH = re.compile(r"^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class BrokenLink:
    """One broken reference: the page (relative to the site), its line, the URL, why."""

    page: str
    url: str
    reason: str
    line: int = 0

    def __str__(self) -> str:
        where = f"{self.page}:{self.line}" if self.line else self.page
        return f"{where}: {self.url!r} — {self.reason}"


@dataclass
class LinkReport:
    pages_checked: int = 0
    links_checked: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{len(self.broken)} broken link(s) in {self.pages_checked} page(s) "
            f"({self.links_checked} links checked):"
        ]
        lines += [f"  {link}" for link in self.broken]
        return "\n".join(lines)


@dataclass
class _Page:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, int]] = field(default_factory=list)
    base: str | None = None


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = _Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = {name.lower(): value for name, value in attrs if value is not None}
        if "id" in values:
            self.page.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.page.ids.add(values["name"])
        if tag == "base" and "href" in values:
            if self.page.base is None:
                self.page.base = values["href"]
            return
        for name, value in values.items():
            if name in URL_ATTRIBUTES:
                self.page.links.append((value, line))
            elif name in ("srcset", "imagesrcset"):
                for candidate in value.split(","):
                    url = candidate.strip().split(" ")[0].strip()
                    if url:
                        self.page.links.append((url, line))
        if (
            tag == "meta"
            and values.get("http-equiv", "").lower() == "refresh"
            and "content" in values
        ):
            match = _REFRESH.match(values["content"])
            target = match.group(1).strip().strip("'\"") if match else ""
            if target:
                self.page.links.append((target, line))

    handle_startendtag = handle_starttag


def parse_html(text: str) -> _Page:
    collector = _Collector()
    collector.feed(text)
    collector.close()
    return collector.page


def _css_links(text: str) -> list[tuple[str, int]]:
    text = _CSS_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    found = []
    for match in _CSS_URL.finditer(text):
        url = next((g for g in match.groups() if g is not None), "")
        if url:
            found.append((url, text.count("\n", 0, match.start()) + 1))
    return found


class _Site:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._parsed: dict[str, _Page] = {}

    def parsed(self, relative: str) -> _Page:
        if relative not in self._parsed:
            text = (self.root / relative).read_text(encoding="utf-8", errors="replace")
            self._parsed[relative] = parse_html(text)
        return self._parsed[relative]


def _check_url(site: _Site, page: str, url: str, folder: str) -> str | None:
    """The reason ``url`` on ``page`` (resolved against ``folder``) is broken, or None."""
    url = url.strip()
    if url.startswith("//"):
        return None  # protocol-relative: another host
    scheme = _SCHEME.match(url)
    if scheme:
        name = scheme.group(1).lower()
        if name in REPORTED_SCHEMES:
            return f"a {name}: URL; internal links must be relative"
        return None
    parts = urllib.parse.urlsplit(url)
    path = urllib.parse.unquote(parts.path)
    fragment = urllib.parse.unquote(parts.fragment)
    if path.startswith("/"):
        return "root-relative URL; the site must work at any base path"
    if path:
        target = posixpath.normpath(posixpath.join(folder, path))
        if target == ".." or target.startswith("../"):
            return "leaves the site folder"
        if target == ".":
            target = ""
        if path.endswith("/") or path in (".", "..") or not target:
            target = posixpath.join(target, "index.html") if target else "index.html"
            if not (site.root / target).is_file():
                return "missing: no index.html in that folder"
        elif (site.root / target).is_dir():
            return "a folder without a trailing '/' (write the link with '/')"
        elif not (site.root / target).is_file():
            return "missing"
    else:
        target = page  # "#x" or "?q": this page
    if (
        fragment
        and fragment.lower() != "top"
        and Path(target).suffix.lower() in FRAGMENT_TYPES
        and fragment not in site.parsed(target).ids
    ):
        return f"no element with id {fragment!r} in {target}"
    return None


def is_error_page(relative: str) -> bool:
    """A ``404.html`` (the portal's own, or MkDocs' in a docs site): a web server serves it in
    place of any missing path, so its links are written for the site's root, not for where
    the file lies."""
    parts = relative.split("/")
    return parts[-1] == "404.html" and (len(parts) == 1 or "docs" in parts[:-1])


def is_graph_file(relative: str) -> bool:
    """An entity's graph, a file beside its page (``site/_graph_files.py``): its nodes link
    to other pages, like the page's own links."""
    return (
        relative.startswith("catalog/") and relative.endswith(".svg") and "/docs/" not in relative
    )


def check_site(root: Path) -> LinkReport:
    """Check every page and stylesheet of the built site at ``root``."""
    root = Path(root)
    site = _Site(root)
    report = LinkReport()
    pages = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and (p.suffix.lower() in (".html", ".htm") or is_graph_file(p.relative_to(root).as_posix()))
        and not is_error_page(p.relative_to(root).as_posix())
    )
    for page in pages:
        parsed = site.parsed(page)
        report.pages_checked += 1
        folder = posixpath.dirname(page)
        if parsed.base is not None:
            if _SCHEME.match(parsed.base) or parsed.base.strip().startswith("/"):
                report.broken.append(
                    BrokenLink(page, parsed.base, "an absolute <base href>; links must be relative")
                )
            else:
                folder = posixpath.normpath(posixpath.join(folder, parsed.base.strip()))
                if not parsed.base.strip().endswith("/"):
                    folder = posixpath.dirname(folder)
        for url, line in parsed.links:
            report.links_checked += 1
            reason = _check_url(site, page, url, folder)
            if reason:
                report.broken.append(BrokenLink(page, url, reason, line))
    for sheet in sorted(root.rglob("*.css")):
        relative = sheet.relative_to(root).as_posix()
        for url, line in _css_links(sheet.read_text(encoding="utf-8", errors="replace")):
            report.links_checked += 1
            reason = _check_url(site, relative, url, posixpath.dirname(relative))
            if reason:
                report.broken.append(BrokenLink(relative, url, reason, line))
    return report


def find_broken_links(root: Path) -> list[BrokenLink]:
    """Every broken link of the built site at ``root`` (empty when all are fine)."""
    return check_site(root).broken
