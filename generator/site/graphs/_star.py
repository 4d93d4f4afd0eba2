"""A star drawn without Graphviz: the focus in the middle, the entities with relations into
it on the left, those it relates to on the right.

An Overview's card is a depth-1 neighbourhood: every edge touches the focus, so the
layout is fixed and needs no solver, and half of a build's graphs are such stars (each
entity has one). This draws the geometry in the shape of Graphviz's SVG (node groups
``n<i>``, edge groups ``e<j>`` in ``ordered`` order, text per label line) so that the one
finishing step (``_svg.finish``: our own text, titles, links and classes, then the
allow-list) serves both. Text widths are estimated from Helvetica's metrics, as Graphviz
does when it has no font file to measure with.
"""

from __future__ import annotations

import math

from ._model import MAX_LABEL, Graph, GraphNode, clean_text, display, kind_style, ordered

__all__ = ["MAX_STAR_NODES", "star_svg"]

MAX_STAR_NODES = 40  # a card never has more (graph_max_nodes caps it well below)
_INK = "#1a1a1a"
_NAME, _SUB, _LABEL = 14.0, 12.0, 11.0  # font sizes (CSS px at natural size), as in _dot
_PAD_X, _PAD_Y, _GAP_Y, _MARGIN = 10.0, 5.0, 10.0, 6.0

# Helvetica's advance widths (per 1000 em), grouped; what a group leaves out is 556.
_WIDTHS = {
    **dict.fromkeys("ijl|.,:;!'", 222),
    **dict.fromkeys("frtI/ -()[]", 278),
    **dict.fromkeys('ckszvxy"', 500),
    **dict.fromkeys("mM", 833),
    **dict.fromkeys("wW", 778),
    **dict.fromkeys("ABCDEHKNPRSUVXY&", 667),
    **dict.fromkeys("GOQ", 778),
    **dict.fromkeys("FTZL", 611),
    "J": 500,
}


def text_width(text: str, size: float) -> float:
    return sum(_WIDTHS.get(c, 667 if c.isupper() else 556) for c in text) * size / 1000


def star_svg(graph: Graph) -> str | None:
    """Graphviz-shaped SVG of ``graph`` when it is a star around its focus, else None."""
    nodes, edges = ordered(graph)
    focus = next((i for i, n in enumerate(nodes) if n.focus), None)
    if focus is None or len(nodes) > MAX_STAR_NODES:
        return None
    key = nodes[focus].key
    index = {n.key: i for i, n in enumerate(nodes)}
    # Not a star: an edge between two neighbours, or an entity related to itself.
    if any(key not in (e.source, e.target) or e.source == e.target for e in edges):
        return None
    if any(e.source not in index or e.target not in index for e in edges):
        return None
    # Left: entities relating to the focus; right: those it relates to (first edge wins).
    side: dict[int, str] = {}
    for e in edges:
        other = e.target if e.source == key else e.source
        side.setdefault(index[other], "right" if e.source == key else "left")
    for i in range(len(nodes)):
        if i != focus:
            side.setdefault(i, "right")
    sizes = [_size(n) for n in nodes]
    labels = [text_width(clean_text(e.label, MAX_LABEL)[0], _LABEL) for e in edges]
    # Each label sits on a straight run beside its neighbour, then the edge curves in.
    gap = max(labels, default=0.0) + 10.0 + 44.0
    lefts = [i for i in range(len(nodes)) if side.get(i) == "left"]
    rights = [i for i in range(len(nodes)) if side.get(i) == "right"]

    def column_height(members: list[int]) -> float:
        return sum(sizes[i][1] for i in members) + _GAP_Y * max(0, len(members) - 1)

    height = max(column_height(lefts), column_height(rights), sizes[focus][1]) + 2 * _MARGIN
    left_w = max((sizes[i][0] for i in lefts), default=0.0)
    x_focus = _MARGIN + (left_w + gap if lefts else 0.0)
    x_right = x_focus + sizes[focus][0] + gap
    right_w = max((sizes[i][0] for i in rights), default=0.0)
    width = (x_right + right_w if rights else x_focus + sizes[focus][0]) + _MARGIN

    boxes: dict[int, tuple[float, float, float, float]] = {}
    fw, fh = sizes[focus]
    boxes[focus] = (x_focus, (height - fh) / 2, fw, fh)
    for members, x_of in ((lefts, lambda w: _MARGIN + left_w - w), (rights, lambda w: x_right)):
        y = (height - column_height(members)) / 2
        for i in members:
            w, h = sizes[i]
            boxes[i] = (x_of(w), y, w, h)
            y += h + _GAP_Y

    # Whole units: the page sizes the drawing by its width rounded, and text must not shrink.
    width, height = math.ceil(width), math.ceil(height)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">',
        '<g id="graph0" class="graph">',
    ]
    for i, node in enumerate(nodes):
        parts.append(_node(i, node, boxes[i]))
    # Where each edge meets the focus: spread over its side, in the order of the rows, so
    # arrows do not meet in one point.
    ends: dict[int, float] = {}
    _, fy, _, fh = boxes[focus]
    for members in (lefts, rights):
        mine = [
            j
            for i in members
            for j, e in enumerate(edges)
            if index[e.source] == i or index[e.target] == i
        ]
        for n, j in enumerate(mine):
            ends[j] = fy + fh * (n + 1) / (len(mine) + 1)
    for j, e in enumerate(edges):
        a, b = index[e.source], index[e.target]
        neighbour = b if a == focus else a
        parts.append(
            _edge(
                j,
                boxes[neighbour],
                boxes[focus],
                ends[j],
                outgoing=a == focus,
                left=side[neighbour] == "left",
                label=clean_text(e.label, MAX_LABEL)[0],
                run=labels[j] + 10.0,
            )
        )
    parts.append("</g></svg>")
    return "".join(parts)


def _size(node: GraphNode) -> tuple[float, float]:
    label = display(node)[0]
    sub = clean_text(node.subtitle, MAX_LABEL)[0] if node.subtitle else ""
    w = max(text_width(label, _NAME), text_width(sub, _SUB)) + 2 * _PAD_X
    h = _NAME * 1.25 + (_SUB * 1.25 if sub else 0.0) + 2 * _PAD_Y
    shape = kind_style(node.kind)[1]
    if shape in ("ellipse", "hexagon", "octagon"):
        w += 18.0  # their sides slope in: room for the text
    if shape in ("box3d", "cylinder", "folder", "note", "component"):
        w += 8.0
        h += 4.0
    return max(w, 54.0), h


def _node(i: int, node: GraphNode, box: tuple[float, float, float, float]) -> str:
    x, y, w, h = box
    if node.collapsed:
        fill, line, shape, ink = "none", 'stroke="black" stroke-dasharray="1,5"', "box", "black"
    elif node.missing:
        fill, line, shape, ink = "none", 'stroke="black" stroke-dasharray="5,2"', "box", "black"
    else:
        fill, shape = kind_style(node.kind)
        line, ink = f'stroke="{"black" if node.focus else _INK}"', _INK
    if node.focus:
        line += ' stroke-width="2.5"'
    label = display(node)[0]
    lines = [(label, _NAME)]
    if node.subtitle:
        lines.append((clean_text(node.subtitle, MAX_LABEL)[0], _SUB))
    top = y + (h - sum(size * 1.25 for _, size in lines)) / 2
    texts = []
    for text, size in lines:
        top += size * 1.25
        texts.append(
            f'<text text-anchor="middle" x="{_n(x + w / 2)}" y="{_n(top - size * 0.3)}" '
            f'font-family="Helvetica,sans-Serif" font-size="{_n(size)}" fill="{ink}">'
            f"{_escape(text)}</text>"
        )
    outline = _outline(shape, x, y, w, h, f'fill="{fill}" {line}', f'fill="none" {line}')
    return f'<g id="n{i}" class="node">{outline}{"".join(texts)}</g>'


def _outline(shape: str, x: float, y: float, w: float, h: float, paint: str, lines: str) -> str:
    """The node's outline in its kind's shape (the legend draws the same shapes small);
    ``paint`` fills and strokes, ``lines`` only strokes (the 3-D box's back edges)."""
    r, e = 4.0, 5.0

    def poly(points: list[tuple[float, float]], tag: str = "polygon", p: str = paint) -> str:
        return f'<{tag} {p} points="{" ".join(f"{_n(a)},{_n(b)}" for a, b in points)}"/>'

    if shape == "ellipse":
        return (
            f'<ellipse {paint} cx="{_n(x + w / 2)}" cy="{_n(y + h / 2)}" rx="{_n(w / 2)}" '
            f'ry="{_n(h / 2)}"/>'
        )
    if shape == "hexagon":
        s = 9.0
        return poly([(x, y + h / 2), (x + s, y), (x + w - s, y), (x + w, y + h / 2),
                     (x + w - s, y + h), (x + s, y + h)])  # fmt: skip
    if shape == "octagon":
        s = 7.0
        return poly([(x + s, y), (x + w - s, y), (x + w, y + s), (x + w, y + h - s),
                     (x + w - s, y + h), (x + s, y + h), (x, y + h - s), (x, y + s)])  # fmt: skip
    if shape == "folder":
        return poly([(x, y + 4), (x + w - 22, y + 4), (x + w - 18, y), (x + w - 4, y),
                     (x + w, y + 4), (x + w, y + h), (x, y + h)])  # fmt: skip
    if shape == "box3d":
        k = 4.0
        front = poly([(x, y + k), (x + w - k, y + k), (x + w - k, y + h), (x, y + h)])
        back = [(x, y + k), (x + k, y), (x + w, y), (x + w, y + h - k), (x + w - k, y + h)]
        return front + poly(back, "polyline", lines)
    if shape == "note":
        f = 8.0
        body = poly([(x, y), (x + w - f, y), (x + w, y + f), (x + w, y + h), (x, y + h)])
        return body + poly([(x + w - f, y), (x + w - f, y + f), (x + w, y + f)], "polyline", lines)
    if shape == "cylinder":
        d = (
            f"M{_n(x)},{_n(y + e)} A{_n(w / 2)},{_n(e)} 0 0 1 {_n(x + w)},{_n(y + e)} "
            f"V{_n(y + h - e)} A{_n(w / 2)},{_n(e)} 0 0 1 {_n(x)},{_n(y + h - e)} Z "
            f"M{_n(x)},{_n(y + e)} A{_n(w / 2)},{_n(e)} 0 0 0 {_n(x + w)},{_n(y + e)}"
        )
        return f'<path {paint} d="{d}"/>'
    if shape == "component":
        body = poly([(x + 4, y), (x + w, y), (x + w, y + h), (x + 4, y + h)])
        tabs = "".join(
            poly([(x, ty), (x + 8, ty), (x + 8, ty + 5), (x, ty + 5)])
            for ty in (y + h * 0.25, y + h * 0.6)
        )
        return body + tabs
    d = (
        f"M{_n(x + r)},{_n(y)} H{_n(x + w - r)} Q{_n(x + w)},{_n(y)} {_n(x + w)},{_n(y + r)} "
        f"V{_n(y + h - r)} Q{_n(x + w)},{_n(y + h)} {_n(x + w - r)},{_n(y + h)} "
        f"H{_n(x + r)} Q{_n(x)},{_n(y + h)} {_n(x)},{_n(y + h - r)} "
        f"V{_n(y + r)} Q{_n(x)},{_n(y)} {_n(x + r)},{_n(y)} Z"
    )
    return f'<path {paint} d="{d}"/>'


def _edge(
    j: int,
    other: tuple[float, float, float, float],
    focus: tuple[float, float, float, float],
    at_focus: float,
    *,
    outgoing: bool,
    left: bool,
    label: str,
    run: float,
) -> str:
    """An edge between the focus and a neighbour: a straight run beside the neighbour that
    carries the label (so labels never pile up where edges meet), then a curve to the
    focus; the arrowhead at the target."""
    ox, oy, ow, oh = other
    fx, _, fw, _ = focus
    y_other = oy + oh / 2
    x_other = ox + ow if left else ox  # the neighbour's side facing the focus
    x_focus = fx if left else fx + fw
    step = run if left else -run
    x_run = x_other + step  # where the straight run ends and the curve begins
    head = 7.0
    if outgoing:  # focus -> neighbour: the arrow ends at the neighbour
        start, end = (x_focus, at_focus), (x_other, y_other)
        tip = end
        base = x_other + (head if left else -head)
        stop = (base, y_other)
        curve = (x_focus, at_focus, x_run, y_other)
    else:  # neighbour -> focus
        start, end = (x_other, y_other), (x_focus, at_focus)
        tip = end
        base = x_focus - (head if left else -head)
        stop = (base, at_focus)
        curve = (x_run, y_other, base, at_focus)
    mid = (curve[0] + curve[2]) / 2
    bend = f"C{_n(mid)},{_n(curve[1])} {_n(mid)},{_n(curve[3])} {_n(curve[2])},{_n(curve[3])}"
    if outgoing:
        d = f"M{_n(start[0])},{_n(start[1])} {bend} H{_n(stop[0])}"
    else:
        d = f"M{_n(start[0])},{_n(start[1])} H{_n(x_run)} {bend}"
    wing = 3.5
    arrow = [tip, (stop[0], tip[1] - wing), (stop[0], tip[1] + wing)]
    points = " ".join(f"{_n(a)},{_n(b)}" for a, b in arrow)
    lx = (x_other + x_run) / 2
    return (
        f'<g id="e{j}" class="edge"><path fill="none" stroke="black" d="{d}"/>'
        f'<polygon fill="black" stroke="black" points="{points}"/>'
        f'<text text-anchor="middle" x="{_n(lx)}" y="{_n(y_other - 4)}" '
        f'font-family="Helvetica,sans-Serif" font-size="{_n(_LABEL)}" fill="black">'
        f"{_escape(label)}</text></g>"
    )


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
