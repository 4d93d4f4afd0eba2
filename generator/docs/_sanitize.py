"""Docs pages' content, sanitised: Markdown may carry raw HTML, and the portal serves the
pages on the company's domain.

Backstage's reader sanitises TechDocs with DOMPurify when it shows them; a static portal
serves the pages as they are, so each page's content is cleaned when it is built, by nh3
(ammonia) with an allow-list of what Python-Markdown, pymdownx and Material produce:
headings and their permalinks, admonitions, tabs, task lists, highlighted code, tables,
emoji SVG. Scripts, event handlers, frames, forms and unsafe URLs are dropped; so are
images from other hosts (a request the reader did not ask for, to a host the
repository chose), ``url(…)`` references out of inline SVG, and ids the theme uses
itself (an element with ``id="__config"`` in the content would replace the theme's
configuration). Front matter is held to the types the theme expects. Material's own
templates around the content are Backlot's, not the repository's, and stay as they are.
"""

from __future__ import annotations

import re
import urllib.parse
from html import escape
from pathlib import Path
from typing import Any

import nh3
from mkdocs.plugins import BasePlugin

from ..model import outside_origin
from ._contain import warn
from ._links import index_links
from ._theme_settings import icon_exists, icon_file

__all__ = ["SanitizePlugin", "clean_docs_html", "icons_stylesheet"]

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd",
    "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd", "label", "li", "mark",
    "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
    "svg", "path", "g", "circle", "rect", "title",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "aria-hidden", "aria-label", "role"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height", "loading"},
    "input": {"type", "checked", "disabled", "name"},
    "label": {"for"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "style", "scope"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "details": {"open"},
    "div": {"data-tabs"},
    "code": {"data-lang"},
    "svg": {"xmlns", "viewBox", "width", "height", "fill"},
    "path": {"d", "fill", "fill-rule", "clip-rule"},
    "g": {"fill"},
    "circle": {"cx", "cy", "r", "fill"},
    "rect": {"x", "y", "width", "height", "rx", "ry", "fill"},
}
# Ids in Material's own templates (__config, __drawer, __search, __toc, __consent,
# __settings, __analytics, __palette_N, __nav_…) and the globals its scripts define
# (__md_scope, __md_get…): content may not take them.
THEME_IDS = re.compile(r"__(?:config|drawer|search|toc|consent|settings|analytics|palette|nav|md)")
_LOCAL_FILL = re.compile(r"\s*url\(\s*['\"]?#[^)'\"]*['\"]?\s*\)\s*", re.IGNORECASE)


def clean_docs_html(html: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    hosts = frozenset(h.lower() for h in allowed_hosts)

    def keep(element: str, attribute: str, value: str) -> str | None:
        if attribute in ("id", "for", "name") and THEME_IDS.match(value):
            return None
        if element == "img" and attribute == "src":
            where = outside_origin(value)
            return value if where is None or where in hosts else None
        if attribute == "fill" and "url" in value.lower():
            return value if _LOCAL_FILL.fullmatch(value) else None
        return value

    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=keep,
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        link_rel=None,
        strip_comments=True,
    )


# Front matter the theme reads, and the type it must have (anything else is dropped).
_TEXT_META = ("title", "description", "author", "subtitle", "status")


def _checked_meta(meta: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``meta`` as the theme can print it, and which keys were dropped."""
    dropped: list[str] = []
    checked: dict[str, Any] = {}
    for key, value in meta.items():
        name = str(key)
        if name in _TEXT_META and not isinstance(value, str):
            dropped.append(f"{name} (not a text)")
        elif name == "hide" and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            dropped.append("hide (not a list of names)")
        elif name == "tags" and not (
            isinstance(value, list) and all(isinstance(v, str | int | float) for v in value)
        ):
            dropped.append("tags (not a list)")
        elif name == "icon" and not (isinstance(value, str) and icon_exists(value)):
            dropped.append("icon (not an icon Material has)")
        elif name == "search" and not isinstance(value, dict):
            dropped.append("search (not a mapping)")
        elif name == "template":
            dropped.append("template (pages use the portal's template)")
        else:
            checked[name] = _escaped(value)
    return checked, dropped


class SanitizePlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    """Registered as ``backlot/sanitize`` (pyproject.toml); the builder adds it to every
    site, last, so no other plugin's output escapes it. Its settings come from the builder
    through ``config.extra`` (``backlot_hosts``), never from the repository."""

    def on_page_markdown(self, markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
        # Front matter (title, description...) is printed by the theme unescaped.
        page.meta, dropped = _checked_meta(page.meta if isinstance(page.meta, dict) else {})
        if dropped:
            warn("docs/front-matter", f"front matter left out: {', '.join(dropped)}")
        return markdown

    def on_nav(self, nav: Any, config: Any, files: Any, **kwargs: Any) -> Any:
        # Titles from mkdocs.yml's nav, and section titles MkDocs takes from folder names:
        # the theme prints them as they are.
        stack = list(nav.items)
        while stack:
            item = stack.pop()
            if getattr(item, "children", None):
                stack.extend(item.children)
            if "title" in vars(item) and isinstance(item.title, str):
                item.title = escape(item.title)
        return nav

    def on_page_content(self, html: str, page: Any, config: Any, **kwargs: Any) -> str:
        # The title MkDocs takes from the first heading is plain text, entities decoded.
        title = getattr(page, "_title_from_render", None)
        if isinstance(title, str):
            page._title_from_render = escape(title)
        elif "title" not in vars(page) and "title" not in page.meta:
            # No heading, no front matter, no nav title: MkDocs names the page after its
            # file, which a repository names as it likes ("<b>.md").
            page.title = escape(page.title or "")
        return clean_docs_html(html, tuple(config.extra.get("backlot_hosts") or ()))

    def on_page_context(self, context: Any, page: Any, config: Any, **kwargs: Any) -> Any:
        # The edit link is repo_url + edit_uri (both re-serialised) + the file's path, which
        # the repository chose: encode what could end the attribute.
        if isinstance(getattr(page, "edit_url", None), str):
            page.edit_url = urllib.parse.quote(page.edit_url, safe=":/?#[]@!$&()*+,;=%~")
        return context

    def on_template_context(self, context: Any, template_name: str, config: Any) -> Any:
        # MkDocs links the 404 page's assets and pages from the server's root ("/assets/…",
        # "/"), which below a prefix, or under /docs/<namespace>/<kind>/<name>/, is another
        # site or nothing; relative to the page's own place (the site's root folder) every
        # link finds its own, at any prefix and from disk.
        if template_name == "404.html":
            context["base_url"] = "."
        return context

    def on_post_page(self, output: str, page: Any, config: Any, **kwargs: Any) -> str:
        return _portal_links(output, config)

    def on_post_template(self, output_content: str, template_name: str, config: Any) -> str:
        return (
            _portal_links(output_content, config)
            if template_name == "404.html"
            else (output_content)
        )

    def on_post_build(self, config: Any, **kwargs: Any) -> None:
        css = icons_stylesheet(config.theme.get("icon") or {})
        if css:
            target = Path(config.site_dir) / "assets" / "backlot" / "icons.css"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(css, "utf-8")


def _portal_links(html: str, config: Any) -> str:
    """In the portal's own docs (the builder set ``extra.backlot_portal``), links that name
    a folder name its ``index.html``, so that they lead to a page from ``file://`` too;
    docs for Backstage's reader keep MkDocs' folder links (see ``_links``)."""
    return index_links(html) if config.extra.get("backlot_portal") else html


def icons_stylesheet(icons: dict[str, Any]) -> str:
    """The custom admonition, annotation and tag icons as a stylesheet. Material writes
    them into an inline ``<style>`` on every page, which the pages' Content-Security-Policy
    does not allow; the builder's ``partials/icons.html`` links this file instead."""
    rules: list[str] = []

    def data_url(name: str) -> str:
        svg = icon_file(name).read_text("utf-8").replace("\n", "")
        return f"url('data:image/svg+xml;charset=utf-8,{urllib.parse.quote(svg)}')"

    admonition = icons.get("admonition")
    if isinstance(admonition, dict) and admonition:
        props = "".join(f"--md-admonition-icon--{k}:{data_url(v)};" for k, v in admonition.items())
        rules.append(f":root{{{props}}}")
    annotation = icons.get("annotation")
    if isinstance(annotation, str):
        rules.append(f":root{{--md-annotation-icon:{data_url(annotation)};}}")
    tags = icons.get("tag")
    if isinstance(tags, dict) and tags:
        for name, icon in tags.items():
            selector = ".md-tag" if name == "default" else f".md-tag.md-tag--{name}"
            rules.append(f"{selector}{{--md-tag-icon:{data_url(icon)};}}")
    return "\n".join(rules) + "\n" if rules else ""


def _escaped(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return escape(value, quote=True) if isinstance(value, str) else value
