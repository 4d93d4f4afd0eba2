"""Untrusted text into HTML: which URLs may become links, and Markdown made safe.

Every string in the portal comes from a repository we do not control. Jinja escapes
text; what is left is URLs (a ``javascript:`` href runs on click) and Markdown (which
may carry raw HTML). Markdown is rendered with raw HTML off, then sanitised by nh3
(ammonia) with an allow-list, so a bug in one layer is caught by the other.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from ..model import SAFE_SCHEMES, safe_url

__all__ = ["markdown_to_html", "safe_url"]


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "del", "table", "thead", "tbody", "tr",
    "th", "td",
}  # fmt: skip


def markdown_to_html(text: str) -> str:
    """Sanitised HTML for a description. Images are dropped: a remote image is a request
    the reader did not ask for, to a host the descriptor's author chose."""
    html = _MARKDOWN.render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes=set(SAFE_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
