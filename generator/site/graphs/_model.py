"""The graph an entity page shows, as data: nodes, edges, what was collapsed, and the texts
drawn for them (labels are untrusted: anyone can write ``metadata.title``)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, replace

__all__ = [
    "KIND_STYLE",
    "MAX_LABEL",
    "MAX_TITLE",
    "MORE_PREFIX",
    "RENDER_VERSION",
    "UNSAFE_CHARS",
    "Collapsed",
    "Graph",
    "GraphEdge",
    "GraphNode",
    "clean_text",
    "display",
    "kind_class",
    "kind_style",
    "legend",
    "natural",
    "ordered",
    "with_subtitles",
]

# Bump when the drawing changes, so cached SVGs of the old style are not reused.
RENDER_VERSION = "7"

MORE_PREFIX = "+"  # collapsed-node keys start with it; no entity ref can
MAX_LABEL = 40
MAX_TITLE = 200


@dataclass(frozen=True)
class GraphNode:
    key: str  # canonical entity ref, e.g. "component:default/orders-service"
    kind: str  # as spelled in the catalog; "" if unknown (missing entity, collapsed node)
    label: str  # text to show (entity title or name); untrusted
    href: str | None  # relative URL of the node's page; None if missing or collapsed
    focus: bool = False
    missing: bool = False  # referenced but not in the catalog: drawn dashed
    collapsed: int = 0  # >0: stands for this many collapsed neighbours ("+N more")
    subtitle: str = ""  # a second line telling apart nodes whose labels repeat


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    label: str  # relation type, e.g. "dependsOn"


@dataclass(frozen=True)
class Graph:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    def digest(self) -> str:
        """sha256 of the sorted content and the drawing version: the layout cache key."""
        nodes, edges = ordered(self)
        content = [
            RENDER_VERSION,
            [
                [n.key, n.kind, n.label, n.href, n.focus, n.missing, n.collapsed, n.subtitle]
                for n in nodes
            ],
            [[e.source, e.target, e.label] for e in edges],
        ]
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Collapsed:
    """What one "+N more" node hides, for the full list under the graph."""

    via: str  # the node whose neighbours were collapsed
    relation: str  # the relation as seen from ``via``, e.g. "ownerOf"
    keys: tuple[str, ...]


def kind_class(kind: str) -> str:
    """The CSS class of a kind: ``kind-component``; also used for the legend."""
    slug = re.sub(r"[^a-z0-9-]+", "-", kind.lower()).strip("-")
    return f"kind-{slug or 'unknown'}"


def legend(graph: Graph) -> tuple[tuple[str, str], ...]:
    """(kind, CSS class) for every kind drawn in ``graph``, sorted: the page draws the legend."""
    kinds = {node.kind for node in graph.nodes if node.kind and not node.collapsed}
    return tuple((kind, kind_class(kind)) for kind in sorted(kinds, key=str.lower))


# The one palette: node fills and the legend's swatches are both drawn from it. Pastels with
# dark text inside the box read the same on light and dark pages. Shapes tell kinds apart
# where colour cannot (colour blindness, print).
KIND_STYLE: dict[str, tuple[str, str]] = {
    "component": ("#a9d2ff", "box"),
    "api": ("#b7ecc0", "ellipse"),
    "resource": ("#ffd7a8", "cylinder"),
    "system": ("#d9c8ff", "box3d"),
    "domain": ("#ffc6e0", "hexagon"),
    "group": ("#fff0a0", "folder"),
    "user": ("#c4eeee", "octagon"),
    "location": ("#dcdcdc", "note"),
    "template": ("#f7c8c0", "component"),
}
OTHER_STYLE = ("#e4e4e4", "box")


def kind_style(kind: str) -> tuple[str, str]:
    """(fill colour, Graphviz shape) of a kind's nodes."""
    return KIND_STYLE.get(kind.lower(), OTHER_STYLE)


def with_subtitles(nodes: tuple[GraphNode, ...]) -> tuple[GraphNode, ...]:
    """Nodes whose labels repeat get a second line: the kind when that tells them apart
    (the System "Fulfilment" and the Group "Fulfilment"), else the short reference."""
    seen: dict[str, list[GraphNode]] = {}
    for node in nodes:
        if not node.collapsed:
            seen.setdefault(display(node)[0].casefold(), []).append(node)
    subtitles: dict[str, str] = {}
    for same in seen.values():
        if len(same) < 2:
            continue
        kinds = [n.kind or n.key.partition(":")[0] for n in same]
        for node, kind in zip(same, kinds, strict=True):
            if kinds.count(kind) == 1:
                subtitles[node.key] = kind.capitalize() if kind.islower() else kind
            else:
                subtitles[node.key] = _short_ref(node.key)
    return tuple(
        replace(node, subtitle=subtitles[node.key]) if node.key in subtitles else node
        for node in nodes
    )


def _short_ref(key: str) -> str:
    kind, _, rest = key.partition(":")
    namespace, _, name = rest.partition("/")
    return f"{kind}:{name}" if namespace == "default" else key


def ordered(graph: Graph) -> tuple[list[GraphNode], list[GraphEdge]]:
    nodes = sorted(graph.nodes, key=lambda n: (natural(n.key), n.kind, n.label, n.href or ""))
    edges = sorted(set(graph.edges), key=lambda e: (e.source, e.target, e.label))
    return nodes, edges


def natural(text: str) -> tuple[str | int, ...]:
    """Sort key putting "c2" before "c10"."""
    return tuple(int(p) if i % 2 else p for i, p in enumerate(re.split(r"(\d+)", text)))


UNSAFE_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\uffff\ud800-\udfff]"
)


def clean_text(text: str, limit: int) -> tuple[str, bool]:
    """Printable one-line text of at most ``limit`` characters; (text, was it shortened)."""
    text = unicodedata.normalize("NFC", UNSAFE_CHARS.sub(" ", text))
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, False
    return text[: limit - 1].rstrip() + "…", True


def display(node: GraphNode) -> tuple[str, str]:
    """(label, tooltip) of a node, both cleaned."""
    label, shortened = clean_text(node.label, MAX_LABEL)
    if not label:
        label, shortened = clean_text(node.key, MAX_LABEL)
    key = clean_text(node.key, MAX_TITLE)[0]
    if node.collapsed:
        relation, _, via = node.key[len(MORE_PREFIX) :].partition(":")
        tooltip = (
            f"{via} {relation} {node.collapsed} more: every relation is listed on the "
            "Dependencies view"
        )
    elif node.missing:
        tooltip = f"{key} (not in the catalog)"
    elif shortened:
        tooltip = f"{key} ({clean_text(node.label, MAX_TITLE)[0]})"
    else:
        tooltip = key
    return label, clean_text(tooltip, MAX_TITLE * 2)[0]


# --- sanitising -----------------------------------------------------------------------------
