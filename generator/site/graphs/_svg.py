"""Graphviz's SVG, used for geometry only: text, titles and links are put back from our own
data, and the result is rebuilt from an allow-list of elements and attributes before it is
inlined in a page."""

from __future__ import annotations

import functools
import html
import re
import xml.etree.ElementTree as ET

from ...text import counted
from ._model import (
    MAX_LABEL,
    MAX_TITLE,
    UNSAFE_CHARS,
    Graph,
    GraphEdge,
    GraphNode,
    clean_text,
    display,
    kind_class,
    ordered,
)

__all__ = ["finish"]


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
    if UNSAFE_CHARS.search(value):
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
    return _safe_style(name, value)


@functools.lru_cache(maxsize=4096)
def _safe_style(name: str, value: str) -> str | None:
    """Everything but geometry: the same few colours, fonts and classes in every graph of
    a build, so each is judged once."""
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
        out.append(html.escape(UNSAFE_CHARS.sub(" ", text), quote=False))
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


def finish(raw: str, graph: Graph) -> str:
    """Graphviz SVG -> inline SVG: our own text, titles, links and classes; allowlisted."""
    root = _parse_svg(raw)
    nodes, edges = ordered(graph)
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
    what = f"of {display(focus)[0]}" if focus is not None else "between entities"
    real = sum(1 for node in graph.nodes if not node.collapsed)
    root.attrib = {
        "class": "backlot-graph",
        "role": "img",
        "aria-label": f"Relations {what}: {counted(real, 'entity')}, "
        f"{counted(len(graph.edges), 'relation')}",
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
    label, tooltip = display(node)
    lines = [label, clean_text(node.subtitle, MAX_LABEL)[0]] if node.subtitle else [label]
    for number, text in enumerate(group.iter(f"{svg}text")):
        # Graphviz drew one <text> per line of our label; any further one is emptied.
        text.text = lines[number] if number < len(lines) else ""
        if number == 1:
            text.set("class", "sub")
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
    relation = clean_text(edge.label, MAX_LABEL)[0]
    group.set("class", f"edge rel-{re.sub(r'[^A-Za-z0-9-]+', '-', relation) or 'unknown'}")
    for text in group.iter(f"{svg}text"):
        text.text = relation
        relation = ""
    title = ET.Element(f"{svg}title")
    title.text = clean_text(f"{edge.source} {edge.label} {edge.target}", MAX_TITLE * 2)[0]
    group.insert(0, title)
