"""Laying graphs out: DOT in, Graphviz's SVG out (pygraphviz, in-process), then made safe by
``_svg``; finished drawings are cached by the graph's digest, and uncached ones laid out in
a process pool. Graphviz only ever sees ids we make up (``n0``, ``e0``) and labels in quoted
DOT strings, never HTML-like labels."""

from __future__ import annotations

import gzip
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pygraphviz  # type: ignore[import-untyped]

from ...files import write_atomic
from ._model import MAX_LABEL, Graph, clean_text, display, kind_style, ordered
from ._star import star_svg
from ._svg import finish

__all__ = ["render_svg", "render_svgs"]

_INK = "#1a1a1a"  # text and outline on a filled node


def render_svgs(
    graphs: Mapping[str, Graph], cache_dir: Path | None, workers: int | None = None
) -> dict[str, str]:
    """Page key -> inline ``<svg>``. Cached by digest; uncached layouts run in parallel.

    The cache holds finished (sanitised) SVG at ``cache_dir/graphs/<digest>.svgz``,
    gzipped (a graph's SVG is 14 KB on average, 3 KB gzipped; a 50,000-entity cache holds
    100,000 of them); a graph found there is not laid out again. Identical graphs are
    laid out once. Fewer than ``_PARALLEL_FROM`` layouts, or ``workers == 1``, run in this
    process.
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
                data = (folder / f"{digest}.svgz").read_bytes()
                svgs[digest] = gzip.decompress(data).decode("utf-8")
                continue
            except (FileNotFoundError, OSError, EOFError, UnicodeDecodeError):
                pass  # not cached, or a file a killed build cut short: laid out again
        todo[digest] = graph

    if todo:
        drawn = _render_many(list(todo.values()), workers)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        for digest, svg in zip(todo, drawn, strict=True):
            svgs[digest] = svg
            if folder is not None:
                write_atomic(folder / f"{digest}.svgz", gzip.compress(svg.encode(), 6, mtime=0))
    return {page: svgs[digests[page]] for page in graphs}


_PARALLEL_FROM = 24  # below this a process pool costs more than it saves


def _render_many(graphs: list[Graph], workers: int | None) -> list[str]:
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or len(graphs) < _PARALLEL_FROM:
        return [render_svg(graph) for graph in graphs]
    chunk = max(1, min(64, math.ceil(len(graphs) / (count * 4))))
    with ProcessPoolExecutor(max_workers=count) as pool:
        return list(pool.map(render_svg, graphs, chunksize=chunk))


def render_svg(graph: Graph) -> str:
    """One graph to sanitised inline SVG (no cache). A star around its focus (a card) is
    drawn directly; anything else is laid out by Graphviz."""
    return finish(star_svg(graph) or _layout(graph), graph)


def _layout(graph: Graph) -> str:
    """Graphviz ``dot``'s SVG for ``graph`` (untrusted geometry; see ``_finish``)."""
    global _fonts_ready
    if not _fonts_ready:
        _start_fonts()
        _fonts_ready = True
    data = pygraphviz.AGraph(string=_dot(graph)).draw(format="svg", prog="dot")
    if not isinstance(data, bytes):
        raise TypeError("pygraphviz returned no SVG")
    return data.decode("utf-8")


# pygraphviz's wheel bundles an older fontconfig that, starting up, reads every sample file
# of the system's newer one and cannot parse one of them: a "Fontconfig warning" from C on
# every build's stderr, which no setting turns off. It starts once per process (forked
# workers inherit it), so the first layout of a process runs with stderr caught and only
# that warning dropped.
_fonts_ready = False
_FONTCONFIG_NOISE = b"Fontconfig warning:"


def _start_fonts() -> None:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            pygraphviz.AGraph(string='digraph { a [label="Aa", fontname="Helvetica"] }').draw(
                format="svg", prog="dot"
            )
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        kept = [line for line in caught if not line.startswith(_FONTCONFIG_NOISE)]
    if kept:
        os.write(2, b"".join(kept))


def _dot(graph: Graph) -> str:
    """DOT source with made-up ids; every string quoted, so nothing is an HTML label."""
    nodes, edges = ordered(graph)
    index = {node.key: i for i, node in enumerate(nodes)}
    lines = [
        "digraph backlot {",
        # Polyline edges: a quarter faster to lay out than splines, and as readable here.
        'graph [rankdir=LR, bgcolor="transparent", pad=0.1, nodesep=0.2, ranksep=0.45, '
        'splines=polyline, fontname="Helvetica"];',
        # Text sizes are CSS pixels when the drawing is shown at its natural size: 14 px
        # names and 11 px relation labels stay readable (the page never scales a card up).
        'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=14, '
        f'height=0.36, margin="0.14,0.06", color="{_INK}", fontcolor="{_INK}"];',
        'edge [fontname="Helvetica", fontsize=11, arrowsize=0.7, color="black", '
        'fontcolor="black"];',
    ]
    for i, node in enumerate(nodes):
        text = display(node)[0]
        if node.subtitle:
            text += "\n" + clean_text(node.subtitle, MAX_LABEL)[0]
        attrs = {"id": f"n{i}", "label": _dot_label(text)}
        if node.collapsed:
            attrs.update(style="rounded,dotted", color="black", fontcolor="black")
        elif node.missing:
            attrs.update(style="rounded,dashed", color="black", fontcolor="black")
        else:
            fill, shape = kind_style(node.kind)
            attrs.update(fillcolor=fill, shape=shape)
            if shape != "box":
                attrs["style"] = "filled"
        if node.focus:  # a thick outline in the page's text colour: visible light or dark
            attrs.update(penwidth="2.5", color="black")
        lines.append(f"n{i} [{_dot_attrs(attrs)}];")
    for j, edge in enumerate(edges):
        if edge.source not in index or edge.target not in index:
            continue
        attrs = {"id": f"e{j}", "label": _dot_label(clean_text(edge.label, MAX_LABEL)[0])}
        lines.append(f"n{index[edge.source]} -> n{index[edge.target]} [{_dot_attrs(attrs)}];")
    lines.append("}")
    return "\n".join(lines)


def _dot_attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={_dot_quote(value)}" for name, value in attrs.items())


def _dot_quote(value: str) -> str:
    """A quoted DOT string. Quoted strings are never HTML labels, whatever they contain."""
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    # A label's line break (cleaned labels hold no newline of their own): DOT's centred \n.
    return '"' + quoted.replace("\n", "\\n") + '"'


def _dot_label(text: str) -> str:
    # Graphviz decodes &entities; in labels: escape '&' so it measures the text we show.
    return text.replace("&", "&amp;")
