"""Links in built docs: named so they work from disk, and checked so broken ones are reported.

**Index links.** MkDocs builds ``page.md`` into ``page/index.html`` and links it as
``page/``. A web server answers that with the folder's ``index.html``; a browser reading
the portal from ``file://`` shows the folder's listing instead. Inside the portal every
internal link therefore names the file: ``page/index.html``, ``../index.html``. The files
stay where Backstage's layout puts them. Docs built for Backstage's own reader (external
mode) keep MkDocs' form: that reader fetches ``<path>/index.html`` for whatever path a
link names, so ``page/index.html`` would become ``page/index.html/index.html`` there.

**Broken links.** MkDocs checks every Markdown link against the docs' pages and anchors
(``validation:`` in mkdocs.yml) and logs what it cannot find. The builder turns those
messages into ``docs/broken-link`` warnings naming the page, the line where the link is
written, and the link itself. A link MkDocs cannot judge (no ``.md``: ``setup/``) is
looked for in the built site instead; one that leaves the site is not judged at all.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ..model import DocsProblem

__all__ = [
    "MAX_BROKEN_LINKS",
    "FoundLink",
    "broken_link_warnings",
    "index_links",
    "parse_link_message",
    "validation_settings",
]

BROKEN_LINK = "docs/broken-link"
MAX_BROKEN_LINKS = 200  # per site: the rest are counted in one last warning

# --------------------------------------------------------------------------- index links

# Attributes in Material's templates and in nh3's output are always double-quoted, and a
# double quote inside a value is always &quot;: one attribute never holds another.
_LINK_TAG = re.compile(r"<(?:a|link)\s[^>]*>", re.IGNORECASE)
_HREF = re.compile(r'(\shref=")([^"]*)(")', re.IGNORECASE)


def with_index(url: str) -> str:
    """``url`` naming ``index.html`` when it names a folder of this site or the portal
    (``page/``, ``..``, ``./``); any other URL as it is."""
    if not url or url.startswith(("#", "/", "?")):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme or parts.netloc or not parts.path:
        return url
    path = parts.path
    last = path.rsplit("/", 1)[-1]
    if not (path.endswith("/") or last in (".", "..")):
        return url
    folder = posixpath.normpath(path)
    return urlunsplit(("", "", f"{folder}/index.html", parts.query, parts.fragment))


def index_links(html: str) -> str:
    """Every ``<a href>`` (and ``<link rel=prev|next>``) of a page that names a folder,
    rewritten to name its index.html."""

    def tag(match: re.Match[str]) -> str:
        return _HREF.sub(lambda m: m.group(1) + with_index(m.group(2)) + m.group(3), match[0])

    return _LINK_TAG.sub(tag, html)


# --------------------------------------------------------------------------- validation


def validation_settings(raw: Any) -> dict[str, Any]:
    """mkdocs.yml's ``validation``, with every link check MkDocs has turned up to a
    warning (the builder reports them). A repository's choice to resolve absolute links
    against the docs folder (``relative_to_docs``) is kept: it changes what a link means."""
    given: dict[str, Any] = raw if isinstance(raw, dict) else {}
    links: dict[str, Any] = given["links"] if isinstance(given.get("links"), dict) else {}
    nav: dict[str, Any] = given["nav"] if isinstance(given.get("nav"), dict) else {}
    keep_absolute = links.get("absolute_links") == "relative_to_docs"
    keep_nav_absolute = nav.get("absolute_links") == "relative_to_docs"
    return {
        **given,
        "links": {
            **links,
            "not_found": "warn",
            "anchors": "warn",
            "unrecognized_links": "warn",
            "absolute_links": "relative_to_docs" if keep_absolute else "warn",
        },
        "nav": {
            **nav,
            "not_found": "warn",
            "absolute_links": "relative_to_docs" if keep_nav_absolute else "warn",
        },
    }


@dataclass(frozen=True)
class FoundLink:
    """A link MkDocs logged: on ``page`` (a path in the docs; None: mkdocs.yml's nav)."""

    kind: str  # not-found, anchor, absolute, unrecognized, nav-not-found, nav-absolute
    page: str | None
    url: str
    detail: str = ""  # the page missing the anchor, or MkDocs' suggestion


_DOC = r"Doc file '(?P<page>.+?)' contains "
_SUGGEST = r"(?: Did you mean '(?P<suggest>.*)'\?)?"
_MESSAGES = [
    (
        "not-found",
        re.compile(
            _DOC + r"a link '(?P<url>.*)', but the target(?: '.*')? is not found among "
            r"documentation files\." + _SUGGEST + "$",
            re.DOTALL,
        ),
    ),
    (
        "anchor",
        re.compile(
            _DOC + r"a link '(?P<url>.*)', but (?:there is no such anchor on this page|the doc "
            r"'(?P<doc>.*)' does not contain an anchor '#.*')\.",
            re.DOTALL,
        ),
    ),
    (
        "absolute",
        re.compile(_DOC + r"an absolute link '(?P<url>.*)', it was left as is\." + _SUGGEST + "$"),
    ),
    (
        "unrecognized",
        re.compile(
            _DOC
            + r"an unrecognized relative link '(?P<url>.*)', it was left as is\."
            + _SUGGEST
            + "$"
        ),
    ),
    (
        "nav-not-found",
        re.compile(
            r"A reference to '(?P<url>.*)' is included in the 'nav' configuration, which is "
            r"not found in the documentation files\.$"
        ),
    ),
    (
        "nav-absolute",
        re.compile(
            r"An absolute path to '(?P<url>.*)' is included in the 'nav' configuration, "
            r"which presumably points to an external resource\.$"
        ),
    ),
]


def parse_link_message(message: str) -> FoundLink | None:
    """The link a MkDocs log message is about, or None when it is about something else."""
    for kind, pattern in _MESSAGES:
        match = pattern.match(message)
        if match is None:
            continue
        groups = match.groupdict()
        detail = groups.get("doc") or groups.get("suggest") or ""
        return FoundLink(kind, groups.get("page"), groups["url"], detail)
    return None


def _message(found: FoundLink) -> str | None:
    url = found.url
    suggestion = f" (did you mean '{found.detail}'?)" if found.detail else ""
    if found.kind == "not-found":
        return f"broken link '{url}': no page or file of the docs is there{suggestion}"
    if found.kind == "anchor":
        target, _, anchor = url.partition("#")
        where = f"'{found.detail}'" if found.detail and target else "this page"
        return f"broken link '{url}': {where} has no heading or anchor '#{anchor}'"
    if found.kind == "absolute":
        return (
            f"link '{url}' starts at the server's root: it leads out of the docs, and "
            f"nowhere once the portal is served below a path; write it relative{suggestion}"
        )
    if found.kind == "unrecognized":
        return f"broken link '{url}': nothing is built at that address{suggestion}"
    if found.kind == "nav-not-found":
        return f"nav: '{url}' is not a page of the docs"
    if found.kind == "nav-absolute":
        return (
            f"nav: '{url}' starts at the server's root: it leads out of the docs, and "
            "nowhere once the portal is served below a path"
        )
    return None


def _page_url(src_uri: str) -> str:
    """The folder URL MkDocs (directory URLs) gives the page built from ``src_uri``."""
    stem, _ = posixpath.splitext(src_uri)
    parent, name = posixpath.split(stem)
    if name.lower() in ("index", "readme"):
        return f"{parent}/" if parent else ""
    return f"{stem}/"


def _built(site_dir: Path, page: str, url: str) -> bool | None:
    """Whether ``url`` (relative, on ``page``) reaches a file of the built site; None when
    it leaves the site (another docs site, the portal: not this build's to judge)."""
    path = unquote(urlsplit(url).path)
    target = posixpath.normpath(posixpath.join(_page_url(page), path))
    if target == ".." or target.startswith("../"):
        return None
    found = site_dir / ("" if target == "." else target)
    return found.is_file() or (found / "index.html").is_file()


_LINK_FORMS = ("]({url}", "]: {url}", "]:{url}", 'href="{url}"', "href='{url}'", "<{url}>")


def locate_line(text: str, url: str) -> int | None:
    """The first line of ``text`` where a link to ``url`` is written (Markdown inline or
    reference link, raw HTML, autolink; else the URL anywhere), 1-based."""
    lines = text.splitlines()
    for form in _LINK_FORMS:
        needle = form.format(url=url)
        for number, line in enumerate(lines, 1):
            if needle in line:
                return number
    for number, line in enumerate(lines, 1):
        if url in line:
            return number
    return None


def broken_link_warnings(
    found: Iterable[FoundLink],
    *,
    sources: Mapping[str, Path],
    site_dir: Path,
    config_path: str | None,
    config_text: str | None,
) -> list[DocsProblem]:
    """``docs/broken-link`` warnings for what MkDocs logged, each once, with the line:
    mkdocs.yml's nav first, then by page and line.

    ``sources``: the docs' files by their path in the docs (to find lines in);
    ``site_dir``: the built site (for links MkDocs could not judge); ``config_path`` /
    ``config_text``: mkdocs.yml, for broken nav entries (None: the site has none).
    """
    problems: list[DocsProblem] = []
    seen: set[tuple[str | None, str, str]] = set()
    texts: dict[str, str | None] = {}
    extra = 0
    for link in found:
        key = (link.page, link.url, link.kind)
        if key in seen:
            continue
        seen.add(key)
        if (
            link.kind == "unrecognized"
            and link.page is not None
            and _built(site_dir, link.page, link.url) is not False
        ):
            continue
        message = _message(link)
        if message is None:
            continue
        if len(problems) >= MAX_BROKEN_LINKS:
            extra += 1
            continue
        if link.page is None:
            file, text = config_path, config_text
        else:
            file = link.page
            if file not in texts:
                texts[file] = _read(sources.get(file))
            text = texts[file]
        problems.append(
            DocsProblem(
                rule=BROKEN_LINK,
                message=message[:500],
                file=file,
                line=locate_line(text, link.url) if text is not None else None,
                target=link.url[:1000],
            )
        )
    problems.sort(key=lambda p: (p.file != config_path, p.file or "", p.line or 0, p.target or ""))
    if extra:
        problems.append(
            DocsProblem(rule=BROKEN_LINK, message=f"and {extra} more broken links not listed")
        )
    return problems


def _read(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text("utf-8", errors="replace")
    except OSError:
        return None
