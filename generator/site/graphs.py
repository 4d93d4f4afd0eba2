"""Entity neighbourhood graphs: chosen in Python, laid out by Graphviz, inlined as safe SVG.

``neighbourhood`` picks what an entity page shows: the entities within ``depth`` relations
of the focus, each Backstage relation pair drawn once in its forward direction, large
fan-outs collapsed into "+N more" nodes and the whole graph bounded by ``max_nodes``, so a
hub (a group owning 500 components) still lays out in a few milliseconds.

``render_svgs`` lays graphs out with ``dot`` (pygraphviz, in-process) and returns SVG ready
to inline. Layouts are cached under ``cache_dir/graphs/<digest>.svg`` and the uncached ones
run in a process pool.

Labels are untrusted (anyone can write ``metadata.title``). Graphviz only ever sees node
and edge ids we make up (``n0``, ``e0``) and labels in quoted DOT strings, which are never
HTML-like labels. Its SVG is then used for geometry only: the text, titles and links are
put back from our own data, and the result is rebuilt from an allowlist of elements and
attributes before it leaves this module.

Styling: the root ``<svg>`` has class ``backlot-graph``; nodes ``node kind-<kind>`` plus
``focus``, ``missing`` or ``collapsed``; edges ``edge rel-<relation>``. Default colours work
on light and dark pages: kind-coloured pastel fills with dark text inside the box, and
``currentColor`` for edges, edge labels and the unfilled (missing, collapsed) nodes.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pygraphviz  # type: ignore[import-untyped]

__all__ = [
    "Collapsed",
    "Graph",
    "GraphEdge",
    "GraphNode",
    "kind_class",
    "legend",
    "neighbourhood",
    "render_svg",
    "render_svgs",
]

# Bump when the drawing changes, so cached SVGs of the old style are not reused.
_RENDER_VERSION = "4"

# Each Backstage relation pair is drawn once, in the first direction of the pair.
_FORWARD: dict[str, str] = {
    "ownerOf": "ownedBy",
    "hasPart": "partOf",
    "apiProvidedBy": "providesApi",
    "apiConsumedBy": "consumesApi",
    "dependencyOf": "dependsOn",
    "parentOf": "childOf",
    "memberOf": "hasMember",
}
# The order in which a node's relation groups get room in a crowded graph: ownership first.
_RELATION_RANK: dict[str, int] = {
    relation: rank
    for rank, relation in enumerate(
        ("ownedBy", "partOf", "providesApi", "consumesApi", "dependsOn", "childOf", "hasMember")
    )
}

_MORE_PREFIX = "+"  # collapsed-node keys start with it; no entity ref can
_MAX_LABEL = 40
_MAX_TITLE = 200

# Fill colours per kind (Backstage spells kinds this way; classes use the lowercase form).
# Pastels with dark text inside the box read the same on light and dark pages.
_KIND_FILL: dict[str, str] = {
    "component": "#a9d2ff",
    "api": "#b7ecc0",
    "resource": "#ffd7a8",
    "system": "#d9c8ff",
    "domain": "#ffc6e0",
    "group": "#fff0a0",
    "user": "#c4eeee",
    "location": "#dcdcdc",
    "template": "#f7c8c0",
}
_OTHER_FILL = "#e4e4e4"
_INK = "#1a1a1a"  # text and outline on a filled node


@dataclass(frozen=True)
class GraphNode:
    key: str  # canonical entity ref, e.g. "component:default/orders-service"
    kind: str  # as spelled in the catalog; "" if unknown (missing entity, collapsed node)
    label: str  # text to show (entity title or name); untrusted
    href: str | None  # relative URL of the node's page; None if missing or collapsed
    focus: bool = False
    missing: bool = False  # referenced but not in the catalog: drawn dashed
    collapsed: int = 0  # >0: stands for this many collapsed neighbours ("+N more")


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
        nodes, edges = _ordered(self)
        content = [
            _RENDER_VERSION,
            [[n.key, n.kind, n.label, n.href, n.focus, n.missing, n.collapsed] for n in nodes],
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


# --- choosing the neighbourhood -------------------------------------------------------------


def neighbourhood(
    relations: Mapping[str, Sequence[tuple[str, str]]],
    nodes: Mapping[str, tuple[str, str]],
    focus: str,
    href: Callable[[str], str],
    depth: int = 2,
    max_fanout: int = 12,
    max_nodes: int = 60,
) -> tuple[Graph, list[Collapsed]]:
    """The entities within ``depth`` relations of ``focus``, bounded for a fast layout.

    ``relations`` maps an entity ref to its ``(type, targetRef)`` pairs, both directions
    present as in catalog.json; ``nodes`` maps the refs that exist to ``(kind, label)``.
    Neighbours are added level by level. Per (node, relation type) at most ``max_fanout``
    nodes are drawn: beyond that the first ``max_fanout - 1`` are drawn (existing entities
    before missing ones, rarer kinds first, natural order) and the rest become one "+N more"
    node. When a level would pass ``max_nodes``, the per-group allowance is
    lowered for that whole level (so every group keeps at least its "+N more" node), and
    further levels are not explored. Groups that find no room at all (only when there are
    more relation groups at one level than free nodes) are left out of the graph. Entities
    missing from the catalog are drawn but not explored (they have no relations of their
    own). Returns the graph and, for each "+N more" node, what it hides.
    """
    if depth < 0 or max_fanout < 1 or max_nodes < 1:
        raise ValueError("depth must be >= 0, max_fanout and max_nodes >= 1")

    def make(key: str) -> GraphNode:
        known = nodes.get(key)
        if known is None:
            return GraphNode(key, "", key, None, focus=key == focus, missing=True)
        kind, label = known
        return GraphNode(key, kind, label or key, href(key), focus=key == focus)

    shown: dict[str, GraphNode] = {focus: make(focus)}
    level: dict[str, int] = {focus: 0}
    hidden: set[str] = set()
    more_nodes: list[GraphNode] = []
    more_edges: list[GraphEdge] = []
    collapsed: list[Collapsed] = []
    frontier = [focus]

    for distance in range(1, depth + 1):
        groups: list[tuple[str, str, list[str]]] = []
        claimed: set[str] = set()
        for via in frontier:
            for relation, targets in _groups(relations.get(via, ())):
                fresh = [
                    t for t in targets if t not in shown and t not in hidden and t not in claimed
                ]
                if not fresh:
                    continue
                fresh = _rare_kinds_first(fresh, nodes)
                claimed.update(fresh)
                groups.append((via, relation, fresh))
        if not groups:
            break
        room = max_nodes - len(shown) - len(more_nodes)
        cap = _allowance([len(fresh) for _, _, fresh in groups], room, max_fanout)
        frontier = []
        for via, relation, fresh in groups:
            room = max_nodes - len(shown) - len(more_nodes)
            if room <= 0:
                break
            if len(fresh) <= min(cap, room):
                keep, rest = fresh, []
            else:
                cut = max(0, min(cap, room) - 1)
                keep, rest = fresh[:cut], fresh[cut:]
            for key in keep:
                shown[key] = make(key)
                level[key] = distance
            frontier.extend(keep)
            if rest:
                more = f"{_MORE_PREFIX}{relation}:{via}"
                more_nodes.append(
                    GraphNode(more, "", f"+{len(rest)} more", None, collapsed=len(rest))
                )
                more_edges.append(_edge(via, relation, more))
                collapsed.append(Collapsed(via, relation, tuple(rest)))
                hidden.update(rest)
        if len(shown) + len(more_nodes) >= max_nodes:
            break

    # Relations between two entities of the outer ring are left out: they are what turns
    # a depth-2 neighbourhood into a hairball, and what makes its layout slow.
    edges: dict[GraphEdge, None] = {}
    for key, node in shown.items():
        if node.missing:
            continue
        for relation, target in relations.get(key, ()):
            if target in shown and not (depth > 1 and level[key] == level[target] == depth):
                edges[_edge(key, relation, target)] = None
    for edge in more_edges:
        edges[edge] = None
    graph = Graph(tuple(shown.values()) + tuple(more_nodes), tuple(edges))
    return graph, collapsed


def _rare_kinds_first(keys: list[str], nodes: Mapping[str, tuple[str, str]]) -> list[str]:
    """Existing entities before missing ones, rarer kinds first (the one System a team owns
    is not buried under its 500 Components), then in natural order."""
    kinds = {key: nodes[key][0] if key in nodes else key.partition(":")[0] for key in keys}
    counts = Counter(kinds.values())
    return sorted(
        keys, key=lambda k: (k not in nodes, counts[kinds[k]], kinds[k].lower(), _natural(k))
    )


def _natural(text: str) -> tuple[str | int, ...]:
    """Sort key putting "c2" before "c10"."""
    return tuple(int(p) if i % 2 else p for i, p in enumerate(re.split(r"(\d+)", text)))


def _edge(source: str, relation: str, target: str) -> GraphEdge:
    forward = _FORWARD.get(relation)
    if forward is None:
        return GraphEdge(source, target, relation)
    return GraphEdge(target, source, forward)


def _groups(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Targets grouped by relation type, in a fixed order: ownership first."""
    by_type: dict[str, dict[str, None]] = {}
    for relation, target in pairs:
        by_type.setdefault(relation, {})[target] = None

    def rank(relation: str) -> tuple[int, bool, str]:
        forward = _FORWARD.get(relation, relation)
        return (_RELATION_RANK.get(forward, len(_RELATION_RANK)), forward != relation, relation)

    return [(rel, list(by_type[rel])) for rel in sorted(by_type, key=rank)]


def _allowance(sizes: list[int], room: int, max_fanout: int) -> int:
    """The largest per-group allowance (nodes incl. its "+N more") that fits in ``room``."""
    for cap in range(max_fanout, 0, -1):
        if sum(min(size, cap) for size in sizes) <= room:
            return cap
    return 1


# --- rendering ------------------------------------------------------------------------------


def render_svgs(
    graphs: Mapping[str, Graph], cache_dir: Path | None, workers: int | None = None
) -> dict[str, str]:
    """Page key -> inline ``<svg>``. Cached by digest; uncached layouts run in parallel.

    The cache holds finished (sanitised) SVG at ``cache_dir/graphs/<digest>.svg``; a graph
    found there is not laid out again. Identical graphs are laid out once. Fewer than
    ``_PARALLEL_FROM`` layouts, or ``workers == 1``, run in this process.
    """
    digests = {page: graph.digest() for page, graph in graphs.items()}
    svgs: dict[str, str] = {}
    todo: dict[str, Graph] = {}
    folder = cache_dir / "graphs" if cache_dir is not None else None
    for page, graph in graphs.items():
        digest = digests[page]
        if digest in svgs or digest in todo:
            continue
        if folder is not None:
            try:
                svgs[digest] = (folder / f"{digest}.svg").read_text(encoding="utf-8")
                continue
            except FileNotFoundError:
                pass
        todo[digest] = graph

    if todo:
        drawn = _render_many(list(todo.values()), workers)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        for digest, svg in zip(todo, drawn, strict=True):
            svgs[digest] = svg
            if folder is not None:
                _write_atomic(folder / f"{digest}.svg", svg)
    return {page: svgs[digests[page]] for page in graphs}


_PARALLEL_FROM = 24  # below this a process pool costs more than it saves


def _render_many(graphs: list[Graph], workers: int | None) -> list[str]:
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or len(graphs) < _PARALLEL_FROM:
        return [render_svg(graph) for graph in graphs]
    chunk = max(1, min(64, math.ceil(len(graphs) / (count * 4))))
    with ProcessPoolExecutor(max_workers=count) as pool:
        return list(pool.map(render_svg, graphs, chunksize=chunk))


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def render_svg(graph: Graph) -> str:
    """One graph to sanitised inline SVG (no cache)."""
    return _finish(_layout(graph), graph)


def _ordered(graph: Graph) -> tuple[list[GraphNode], list[GraphEdge]]:
    nodes = sorted(graph.nodes, key=lambda n: (_natural(n.key), n.kind, n.label, n.href or ""))
    edges = sorted(set(graph.edges), key=lambda e: (e.source, e.target, e.label))
    return nodes, edges


def _layout(graph: Graph) -> str:
    """Graphviz ``dot``'s SVG for ``graph`` (untrusted geometry; see ``_finish``)."""
    data = pygraphviz.AGraph(string=_dot(graph)).draw(format="svg", prog="dot")
    if not isinstance(data, bytes):
        raise TypeError("pygraphviz returned no SVG")
    return data.decode("utf-8")


def _dot(graph: Graph) -> str:
    """DOT source with made-up ids; every string quoted, so nothing is an HTML label."""
    nodes, edges = _ordered(graph)
    index = {node.key: i for i, node in enumerate(nodes)}
    lines = [
        "digraph backlot {",
        # Polyline edges: a quarter faster to lay out than splines, and as readable here.
        'graph [rankdir=LR, bgcolor="transparent", pad=0.1, nodesep=0.2, ranksep=0.45, '
        'splines=polyline, fontname="Helvetica"];',
        'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, '
        f'height=0.3, margin="0.12,0.05", color="{_INK}", fontcolor="{_INK}"];',
        'edge [fontname="Helvetica", fontsize=8, arrowsize=0.6, color="black", fontcolor="black"];',
    ]
    for i, node in enumerate(nodes):
        attrs = {"id": f"n{i}", "label": _dot_label(_display(node)[0])}
        if node.collapsed:
            attrs.update(style="rounded,dotted", color="black", fontcolor="black")
        elif node.missing:
            attrs.update(style="rounded,dashed", color="black", fontcolor="black")
        else:
            attrs["fillcolor"] = _KIND_FILL.get(node.kind.lower(), _OTHER_FILL)
        if node.focus:  # a thick outline in the page's text colour: visible light or dark
            attrs.update(penwidth="2.5", color="black")
        lines.append(f"n{i} [{_dot_attrs(attrs)}];")
    for j, edge in enumerate(edges):
        if edge.source not in index or edge.target not in index:
            continue
        attrs = {"id": f"e{j}", "label": _dot_label(_clean_text(edge.label, _MAX_LABEL)[0])}
        lines.append(f"n{index[edge.source]} -> n{index[edge.target]} [{_dot_attrs(attrs)}];")
    lines.append("}")
    return "\n".join(lines)


def _dot_attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={_dot_quote(value)}" for name, value in attrs.items())


def _dot_quote(value: str) -> str:
    """A quoted DOT string. Quoted strings are never HTML labels, whatever they contain."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_label(text: str) -> str:
    # Graphviz decodes &entities; in labels: escape '&' so it measures the text we show.
    return text.replace("&", "&amp;")


_UNSAFE_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\uffff\ud800-\udfff]"
)


def _clean_text(text: str, limit: int) -> tuple[str, bool]:
    """Printable one-line text of at most ``limit`` characters; (text, was it shortened)."""
    text = unicodedata.normalize("NFC", _UNSAFE_CHARS.sub(" ", text))
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, False
    return text[: limit - 1].rstrip() + "…", True


def _display(node: GraphNode) -> tuple[str, str]:
    """(label, tooltip) of a node, both cleaned."""
    label, shortened = _clean_text(node.label, _MAX_LABEL)
    if not label:
        label, shortened = _clean_text(node.key, _MAX_LABEL)
    key = _clean_text(node.key, _MAX_TITLE)[0]
    if node.collapsed:
        relation, _, via = node.key[len(_MORE_PREFIX) :].partition(":")
        tooltip = f"{via} {relation} {node.collapsed} more, listed below the graph"
    elif node.missing:
        tooltip = f"{key} (not in the catalog)"
    elif shortened:
        tooltip = f"{key} ({_clean_text(node.label, _MAX_TITLE)[0]})"
    else:
        tooltip = key
    return label, _clean_text(tooltip, _MAX_TITLE * 2)[0]


# --- sanitising -----------------------------------------------------------------------------

_SVG_NS = "http://www.w3.org/2000/svg"
_SVG_PREFIX = f"{{{_SVG_NS}}}"
_ELEMENTS = frozenset(
    {"svg", "g", "title", "desc", "path", "polygon", "polyline", "ellipse", "circle", "rect"}
    | {"text", "a"}
)
_TEXT_ELEMENTS = frozenset({"title", "desc", "text"})
_ATTRIBUTES = frozenset(
    {"class", "viewBox", "role", "aria-label", "transform", "d", "points"}
    | {"cx", "cy", "rx", "ry", "r", "x", "y", "width", "height", "href"}
    | {"fill", "stroke", "stroke-width", "stroke-dasharray", "fill-opacity", "stroke-opacity"}
    | {"font-family", "font-size", "font-weight", "font-style", "text-anchor"}
)
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,30}")
_GEOMETRY = frozenset({"d", "points", "transform", "viewBox", "x", "y", "cx", "cy", "rx", "ry"})
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9 ,.+\-#()]*")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")


def _safe_href(value: str) -> bool:
    """Relative URLs and http(s) only; judged the way a browser reads the scheme."""
    if _UNSAFE_CHARS.search(value):
        return False
    squeezed = value.strip(" ")
    if squeezed[:2].replace("\\", "/") == "//":  # another host (browsers read \ as /)
        return False
    scheme = _SCHEME.match(squeezed)
    return scheme is None or scheme.group(1).lower() in {"http", "https"}


def _safe_attribute(name: str, value: str) -> str | None:
    """The value to keep for an allowed attribute, escaped for a double-quoted attribute,
    or None to drop it. Values matched by the plain-value pattern hold nothing to escape."""
    if name in _GEOMETRY:
        # The bulk of a drawing: numbers, commas, spaces, and transform() words.
        if not _PLAIN_VALUE.fullmatch(value) or ("(" in value and "url" in value.lower()):
            return None
        return value
    if name == "href":
        return html.escape(value, quote=True) if _safe_href(value) else None
    if name == "class":
        return " ".join(re.sub(r"[^A-Za-z0-9_-]+", "-", word) for word in value.split())
    if name in {"aria-label", "role"}:
        return html.escape(value, quote=True)
    if name in {"fill", "stroke"}:
        if not _COLOUR.fullmatch(value):
            return None
        return "currentColor" if value.lower() in {"black", "#000", "#000000"} else value
    if "url" in value.lower() or not _PLAIN_VALUE.fullmatch(value):
        return None
    return value


def _emit(element: ET.Element, out: list[str], extra: str = "") -> None:
    """Write ``element`` as plain XML, keeping only allowed SVG elements, attributes and text.

    Names are compared as ElementTree spells them: SVG elements arrive as ``{svg-ns}tag``;
    anything in another namespace (``xlink:href``, ``xml:space``, XHTML) keeps its ``{``
    prefix and so never matches the allowlists. No allowed attribute is an ``on*`` handler.
    Every attribute value and text is escaped; comments were dropped by the parser.
    """
    tag = element.tag
    if tag.startswith(_SVG_PREFIX):
        tag = tag[len(_SVG_PREFIX) :]
    if tag not in _ELEMENTS:
        return
    start = [f"<{tag}{extra}"]
    for name, raw in element.attrib.items():
        if name in _ATTRIBUTES:
            value = _safe_attribute(name, raw)
            if value is not None:
                start.append(f' {name}="{value}"')
    if tag == "a" and len(start) == 1:
        return  # only our own links: <a> with a checked href and nothing else
    out.extend(start)
    text = element.text if tag in _TEXT_ELEMENTS else None
    if not text and len(element) == 0:
        out.append("/>")
        return
    out.append(">")
    if text:
        out.append(html.escape(_UNSAFE_CHARS.sub(" ", text), quote=False))
    for child in element:
        _emit(child, out)
    out.append(f"</{tag}>")


def _parse_svg(text: str) -> ET.Element:
    """Parse Graphviz's SVG without its prolog, DOCTYPE or comments (no entities at all)."""
    start = text.find("<svg")
    if start < 0:
        raise ValueError("Graphviz produced no <svg> element")
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=False, insert_pis=False))
    parser.feed(text[start:])
    return parser.close()


def _finish(raw: str, graph: Graph) -> str:
    """Graphviz SVG -> inline SVG: our own text, titles, links and classes; allowlisted."""
    root = _parse_svg(raw)
    nodes, edges = _ordered(graph)
    svg = _SVG_PREFIX

    for group in list(root.iter(f"{svg}g")):
        ident = group.get("id", "")
        kind_of_group = group.get("class", "")
        for title in group.findall(f"{svg}title"):
            group.remove(title)
        if kind_of_group == "graph":
            for polygon in group.findall(f"{svg}polygon"):  # the background
                group.remove(polygon)
        elif kind_of_group == "node" and ident.startswith("n"):
            _finish_node(group, nodes[int(ident[1:])])
        elif kind_of_group == "edge" and ident.startswith("e"):
            _finish_edge(group, edges[int(ident[1:])])

    if root.tag != f"{svg}svg":
        raise ValueError("not an SVG document")
    for text in root.iter(f"{svg}text"):
        # Graphviz leaves black text without a fill; SVG's default black vanishes on dark pages
        text.attrib.setdefault("fill", "currentColor")
    numbers = root.get("viewBox", "").split()
    focus = next((node for node in graph.nodes if node.focus), None)
    what = f"of {_display(focus)[0]}" if focus is not None else "between entities"
    real = sum(1 for node in graph.nodes if not node.collapsed)
    root.attrib = {
        "class": "backlot-graph",
        "role": "img",
        "aria-label": f"Relations {what}: {real} entities, {len(graph.edges)} relations",
        "viewBox": root.get("viewBox", ""),
    }
    if len(numbers) == 4:
        # The natural width, unitless (CSS px), and no height: with `max-width: 100%;
        # height: auto` the graph shrinks to fit a narrow page but a small one stays small.
        root.set("width", str(round(float(numbers[2]))))
    out: list[str] = []
    _emit(root, out, f' xmlns="{_SVG_NS}"')
    return "".join(out)


def _finish_node(group: ET.Element, node: GraphNode) -> None:
    svg = _SVG_PREFIX
    ref_kind = node.key.partition(":")[0] if ":" in node.key else ""
    classes = ["node", kind_class(node.kind or ref_kind)]
    if node.collapsed:
        classes = ["node", "collapsed"]
    if node.missing:
        classes.append("missing")
    if node.focus:
        classes.append("focus")
    group.set("class", " ".join(classes))
    label, tooltip = _display(node)
    for text in group.iter(f"{svg}text"):
        text.text = label
        label = ""  # one line per label: any further <text> would be Graphviz's, emptied
    title = ET.Element(f"{svg}title")
    title.text = tooltip
    if node.href is not None and _safe_href(node.href):
        link = ET.Element(f"{svg}a", {"href": node.href})
        link.append(title)
        link.extend(list(group))
        for child in list(group):
            group.remove(child)
        group.append(link)
    else:
        group.insert(0, title)


def _finish_edge(group: ET.Element, edge: GraphEdge) -> None:
    svg = _SVG_PREFIX
    relation = _clean_text(edge.label, _MAX_LABEL)[0]
    group.set("class", f"edge rel-{re.sub(r'[^A-Za-z0-9-]+', '-', relation) or 'unknown'}")
    for text in group.iter(f"{svg}text"):
        text.text = relation
        relation = ""
    title = ET.Element(f"{svg}title")
    title.text = _clean_text(f"{edge.source} {edge.label} {edge.target}", _MAX_TITLE * 2)[0]
    group.insert(0, title)
