"""Docs pages' content, sanitised: Markdown may carry raw HTML, and the portal serves the
pages on the company's domain.

Backstage's reader sanitises TechDocs with DOMPurify when it shows them; a static portal
serves the pages as they are, so each page's content is cleaned when it is built, by nh3
(ammonia) with an allow-list of what Python-Markdown, pymdownx and Material produce:
headings and their permalinks, admonitions, tabs, task lists, highlighted code, tables,
emoji SVG. Scripts, event handlers, frames, forms and unsafe URLs are dropped. Material's
own templates around the content are Backlot's, not the repository's, and stay as they are.
"""

from __future__ import annotations

from html import escape
from typing import Any

import nh3
from mkdocs.plugins import BasePlugin

__all__ = ["SanitizePlugin", "clean_docs_html"]

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


def clean_docs_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        link_rel=None,
        strip_comments=True,
    )


class SanitizePlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    """Registered as ``backlot/sanitize`` (pyproject.toml); the builder adds it to every
    site, last, so no other plugin's output escapes it."""

    def on_page_markdown(self, markdown: str, page: Any, **kwargs: Any) -> str:
        # Front matter (title, description...) is printed by the theme unescaped.
        page.meta = _escaped(page.meta)
        return markdown

    def on_page_content(self, html: str, page: Any, **kwargs: Any) -> str:
        # The title MkDocs takes from the first heading is plain text, entities decoded.
        title = getattr(page, "_title_from_render", None)
        if isinstance(title, str):
            page._title_from_render = escape(title)
        return clean_docs_html(html)


def _escaped(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return escape(value, quote=True) if isinstance(value, str) else value
