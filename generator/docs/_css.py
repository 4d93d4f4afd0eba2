"""Stylesheets from a repository, checked before they are published with its docs.

CSS cannot run script in today's browsers, but it can make the reader's browser fetch
from anywhere (``@import``, ``url()`` in any property, ``image-set()``, ``@font-face``):
a tracking pixel for every page view, or a way to read attribute values out through
selectors. A stylesheet is published only when every resource it names stays on the
portal's own origin or on a host ``backlot.yaml`` allows. tinycss2 tokenises it as a
browser does, escapes decoded (``u\\72l(`` is ``url(``), so no spelling slips past.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import tinycss2

from ..model import outside_origin

__all__ = ["CssProblem", "check_css", "check_style_attribute"]

# Functions whose string arguments are URLs the browser fetches.
_URL_FUNCTIONS = frozenset({"url", "src"})
_IMAGE_FUNCTIONS = frozenset(
    {"image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade", "image"}
)


_UNKNOWN = "\0unknown"  # a URL the stylesheet computes (var(), attr())


@dataclass(frozen=True)
class CssProblem:
    line: int
    message: str


def check_css(text: str, allowed_hosts: Iterable[str] = ()) -> list[CssProblem]:
    """Why ``text`` may not be published (empty when it may)."""
    hosts = frozenset(h.lower() for h in allowed_hosts)
    problems: list[CssProblem] = []
    rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    for rule in rules:
        if rule.type == "error":
            continue  # the browser drops what it cannot parse, and so fetches nothing
        if rule.type == "at-rule" and rule.lower_at_keyword == "import":
            problems.append(
                CssProblem(
                    rule.source_line,
                    "@import loads another stylesheet; list it in extra_css instead",
                )
            )
            continue
        if rule.type == "at-rule" and rule.lower_at_keyword == "namespace":
            continue  # a namespace URL is a name, never fetched
        problems += _foreign([*(rule.prelude or ()), *(rule.content or ())], hosts)
    return problems


def check_style_attribute(text: str, allowed_hosts: Iterable[str] = ()) -> list[CssProblem]:
    """Why a ``style="…"`` value may not be kept (empty when it may)."""
    hosts = frozenset(h.lower() for h in allowed_hosts)
    return _foreign(tinycss2.parse_blocks_contents(text, skip_comments=True), hosts)


def _foreign(tokens: list[Any], hosts: frozenset[str]) -> list[CssProblem]:
    problems = []
    for line, url in _urls(tokens):
        if url == _UNKNOWN:
            problems.append(
                CssProblem(
                    line, "var() or attr() names the image: where it loads from cannot be checked"
                )
            )
            continue
        where = outside_origin(url)
        if where is not None and where not in hosts:
            problems.append(
                CssProblem(
                    line,
                    f"url({url[:80]!r}) would load from {where}, outside the portal "
                    "(security.allowed_hosts in backlot.yaml allows a host)",
                )
            )
    return problems


def _urls(tokens: list[Any]) -> Iterator[tuple[int, str]]:
    """Every URL the browser would fetch, among ``tokens`` and everything nested in them."""
    stack = list(reversed(tokens))
    while stack:
        token = stack.pop()
        kind = token.type
        if kind == "url":
            yield token.source_line, token.value
        elif kind == "function":
            name = token.lower_name
            if name in _URL_FUNCTIONS or name in _IMAGE_FUNCTIONS:
                for argument in token.arguments:
                    if argument.type == "string":
                        yield argument.source_line, argument.value
                    elif argument.type == "function" and argument.lower_name in ("var", "attr"):
                        # A custom property can hold any string: which URL it names is
                        # only known in the browser.
                        yield argument.source_line, _UNKNOWN
            stack.extend(reversed(token.arguments))
        elif kind in ("() block", "[] block", "{} block"):
            stack.extend(reversed(token.content))
        elif kind == "declaration":
            stack.extend(reversed(token.value))
        elif kind in ("qualified-rule", "at-rule"):
            stack.extend(reversed([*(token.prelude or ()), *(token.content or ())]))
