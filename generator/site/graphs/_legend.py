"""The legend under a graph, drawn from the same palette and shapes as the nodes
(``KIND_STYLE``), so the two can never disagree."""

from __future__ import annotations

import html
from collections.abc import Iterable

from ._model import kind_style

__all__ = ["legend_svg"]

_SWATCH = 18
_INK = "#1a1a1a"


def _glyph(shape: str, fill: str, x: float) -> str:
    """A small drawing of a node's shape at ``x``."""
    w, h, y = _SWATCH, 12.0, 3.0
    paint = f'fill="{fill}" stroke="{_INK}" stroke-width="1"'
    if shape == "ellipse":
        return f'<ellipse cx="{x + w / 2}" cy="{y + h / 2}" rx="{w / 2}" ry="{h / 2}" {paint}/>'
    if shape == "hexagon":
        points = [(x, y + h / 2), (x + 4, y), (x + w - 4, y), (x + w, y + h / 2)]
        points += [(x + w - 4, y + h), (x + 4, y + h)]
    elif shape == "octagon":
        points = [(x + 3, y), (x + w - 3, y), (x + w, y + 3), (x + w, y + h - 3)]
        points += [(x + w - 3, y + h), (x + 3, y + h), (x, y + h - 3), (x, y + 3)]
    elif shape == "folder":
        points = [(x, y + 2), (x + 6, y + 2), (x + 8, y), (x + w, y), (x + w, y + h), (x, y + h)]
    else:  # box, box3d, cylinder, note, component: a rounded box reads as all of them
        return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="3" {paint}/>'
    text = " ".join(f"{px:g},{py:g}" for px, py in points)
    return f'<polygon points="{text}" {paint}/>'


def legend_svg(kinds: Iterable[str], missing: bool = True) -> str:
    """The legend as HTML: one item per kind in ``kinds`` (a small drawing of its node and
    its name) and, with ``missing``, the dashed "not in catalog" box. Items wrap on a
    narrow page."""
    items: list[str] = []
    for kind in kinds:
        fill, shape = kind_style(kind)
        items.append(_item(_glyph(shape, fill, 1), html.escape(kind)))
    if missing:
        box = (
            f'<rect x="1" y="3" width="{_SWATCH}" height="12" rx="3" fill="none" '
            'stroke="currentColor" stroke-dasharray="3 2"/>'
        )
        items.append(_item(box, "not in catalog"))
    return f'<span class="legend">{"".join(items)}</span>'


def _item(drawing: str, text: str) -> str:
    width = _SWATCH + 2
    return (
        f'<span class="legend-item"><svg xmlns="http://www.w3.org/2000/svg" aria-hidden="true" '
        f'viewBox="0 0 {width} 18" width="{width}" height="18">{drawing}</svg>{text}</span>'
    )
