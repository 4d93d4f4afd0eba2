"""Graphs as files of their own, beside the pages that show them.

A graph inlined into its page was over half of an entity page's bytes (10,000 entities:
12.9 KB of 22.4 KB on average), read again by Pagefind and sent again with every visit.
As a file it is written once, cached by the browser and the CDN apart from the page, and
only the pages whose HTML changed are sent again. The page holds a picture of it (the
``<img>`` fallback: without script, or opened from disk); ``portal.js`` puts the SVG
itself in its place, so its links, tooltips and the page's colours work as inline. The
file sits in the folder of the page that shows it, so its relative links lead to the same
pages whether it is opened alone or inlined.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass

__all__ = ["CARD_GRAPH", "FULL_GRAPH", "SYSTEM_GRAPH", "GraphImage", "graph_files", "graph_image"]

CARD_GRAPH = "relations.svg"  # the Overview's depth-1 card
SYSTEM_GRAPH = "system.svg"  # a System's Overview: its diagram
FULL_GRAPH = "graph.svg"  # the Dependencies view's, in that view's folder

_ROOT_TAG = re.compile(r"<svg\b[^>]*>")
_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')


@dataclass(frozen=True)
class GraphImage:
    """What a page needs to show a graph file: its name (in the page's folder), its
    natural size in CSS pixels, and what it shows, in words."""

    src: str
    width: int
    height: int
    label: str


def graph_image(svg: str, src: str) -> GraphImage:
    """The picture of ``svg`` (a finished graph: ``graphs.render_svgs``) saved as ``src``."""
    found = _ROOT_TAG.search(svg)
    attributes = dict(_ATTRIBUTE.findall(found.group(0))) if found else {}
    numbers = attributes.get("viewBox", "").split()
    try:
        box_width, box_height = float(numbers[2]), float(numbers[3])
        width = round(float(attributes.get("width", box_width)))
        height = round(box_height * width / box_width) if box_width else round(box_height)
    except (IndexError, ValueError):
        width = height = 0
    return GraphImage(src, width, height, html.unescape(attributes.get("aria-label", "A graph")))


def graph_files(entity_dir: str, dependencies_dir: str) -> list[str]:
    """Every graph file an entity's pages may have, by site path."""
    return [
        posixpath.join(entity_dir, CARD_GRAPH),
        posixpath.join(entity_dir, SYSTEM_GRAPH),
        posixpath.join(dependencies_dir, FULL_GRAPH),
    ]
