"""Choosing the neighbourhood: the entities within ``depth`` relations of the focus, each
Backstage relation pair drawn once in its forward direction, large fan-outs collapsed into
"+N more" nodes and the whole graph bounded, so that a hub (a group owning 500 components)
still lays out in a few milliseconds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from ...model import FORWARD_RELATIONS, forward_of
from ._model import (
    MORE_PREFIX,
    Collapsed,
    Graph,
    GraphEdge,
    GraphNode,
    natural,
    with_subtitles,
)

__all__ = ["FOCUS_ONLY", "neighbourhood"]

# Ownership is drawn for the focus only: the owner of every neighbour, and its edges
# looping round the drawing to the one team that owns half of it, are what made a service's
# depth-2 graph a hairball. Each neighbour's own page shows its owner.
FOCUS_ONLY = frozenset({"ownedBy", "ownerOf"})


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
                if via != focus and relation in FOCUS_ONLY:
                    continue
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
                more = f"{MORE_PREFIX}{relation}:{via}"
                more_nodes.append(
                    GraphNode(more, "", f"+{len(rest)} more", None, collapsed=len(rest))
                )
                more_edges.append(_edge(via, relation, more))
                collapsed.append(Collapsed(via, relation, tuple(rest)))
                hidden.update(rest)
        if len(shown) + len(more_nodes) >= max_nodes:
            break

    # Relations between two entities of the outer ring are left out: they are what turns
    # a depth-2 neighbourhood into a hairball, and what makes its layout slow (at depth 1,
    # the card shows the focus's own relations, as Backstage's does).
    edges: dict[GraphEdge, None] = {}
    for key, node in shown.items():
        if node.missing:
            continue
        for relation, target in relations.get(key, ()):
            if target not in shown or level[key] == level[target] == depth:
                continue
            if relation in FOCUS_ONLY and focus not in (key, target):
                continue
            edges[_edge(key, relation, target)] = None
    for edge in more_edges:
        edges[edge] = None
    graph = Graph(with_subtitles(tuple(shown.values()) + tuple(more_nodes)), tuple(edges))
    return graph, collapsed


def _rare_kinds_first(keys: list[str], nodes: Mapping[str, tuple[str, str]]) -> list[str]:
    """Existing entities before missing ones, rarer kinds first (the one System a team owns
    is not buried under its 500 Components), then in natural order."""
    kinds = {key: nodes[key][0] if key in nodes else key.partition(":")[0] for key in keys}
    counts = Counter(kinds.values())
    return sorted(
        keys, key=lambda k: (k not in nodes, counts[kinds[k]], kinds[k].lower(), natural(k))
    )


def _edge(source: str, relation: str, target: str) -> GraphEdge:
    forward = forward_of(relation)
    if forward is None:
        return GraphEdge(source, target, relation)
    return GraphEdge(target, source, forward)


def _groups(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Targets grouped by relation type, in a fixed order: ownership first."""
    by_type: dict[str, dict[str, None]] = {}
    for relation, target in pairs:
        by_type.setdefault(relation, {})[target] = None

    def rank(relation: str) -> tuple[int, bool, str]:
        forward = forward_of(relation) or relation
        return (
            FORWARD_RELATIONS.get(forward, len(FORWARD_RELATIONS)),
            forward != relation,
            relation,
        )

    return [(rel, list(by_type[rel])) for rel in sorted(by_type, key=rank)]


def _allowance(sizes: list[int], room: int, max_fanout: int) -> int:
    """The largest per-group allowance (nodes incl. its "+N more") that fits in ``room``."""
    for cap in range(max_fanout, 0, -1):
        if sum(min(size, cap) for size in sizes) <= room:
            return cap
    return 1
