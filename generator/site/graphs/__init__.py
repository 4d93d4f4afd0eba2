"""Entity neighbourhood graphs: chosen in Python, laid out by Graphviz, inlined as safe SVG.

``neighbourhood`` picks what an entity page shows: the entities within ``depth`` relations
of the focus, each Backstage relation pair drawn once in its forward direction, large
fan-outs collapsed into "+N more" nodes and the whole graph bounded by ``max_nodes``, so a
hub (a group owning 500 components) still lays out in a few milliseconds.

``render_svgs`` lays graphs out with ``dot`` (pygraphviz, in-process) and returns SVG ready
to inline; a star around its focus (every card: a depth-1 neighbourhood) is drawn by
``_star`` instead, without Graphviz, in the shape of Graphviz's SVG so that the same
finishing step serves both. Layouts are cached under ``cache_dir/graphs/<digest>.svg`` and
the uncached ones run in a process pool.

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

from ._layout import render_svg, render_svgs
from ._legend import legend_svg
from ._model import (
    Collapsed,
    Graph,
    GraphEdge,
    GraphNode,
    kind_class,
    kind_style,
    legend,
    with_subtitles,
)
from ._select import neighbourhood

__all__ = [
    "Collapsed",
    "Graph",
    "GraphEdge",
    "GraphNode",
    "kind_class",
    "kind_style",
    "legend",
    "legend_svg",
    "neighbourhood",
    "render_svg",
    "render_svgs",
    "with_subtitles",
]
