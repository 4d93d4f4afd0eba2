"""Backstage's relation types, declared once: each pair (forward and inverse), and what the
portal calls them. The catalog stage emits both directions; pages and graphs show each
pair once, in its forward direction, ownership first."""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "FORWARD_RELATIONS",
    "RELATION_INVERSES",
    "RELATION_TITLES",
    "RelationPair",
    "forward_of",
]


class RelationPair(NamedTuple):
    forward: str
    inverse: str
    forward_title: str
    inverse_title: str


# In the order a crowded graph gives them room: ownership first.
PAIRS: tuple[RelationPair, ...] = (
    RelationPair("ownedBy", "ownerOf", "Owned by", "Owns"),
    RelationPair("partOf", "hasPart", "Part of", "Has part"),
    RelationPair("providesApi", "apiProvidedBy", "Provides APIs", "Provided by"),
    RelationPair("consumesApi", "apiConsumedBy", "Consumes APIs", "Consumed by"),
    RelationPair("dependsOn", "dependencyOf", "Depends on", "Dependency of"),
    RelationPair("childOf", "parentOf", "Parent group", "Sub-groups"),
    RelationPair("hasMember", "memberOf", "Members", "Member of"),
)

# Relation type → the type the target gets back.
RELATION_INVERSES: dict[str, str] = {
    name: other
    for pair in PAIRS
    for name, other in ((pair.forward, pair.inverse), (pair.inverse, pair.forward))
}
RELATION_TITLES: dict[str, str] = {
    name: title
    for pair in PAIRS
    for name, title in ((pair.forward, pair.forward_title), (pair.inverse, pair.inverse_title))
}
# Forward relation → its rank (0 = given room first).
FORWARD_RELATIONS: dict[str, int] = {pair.forward: rank for rank, pair in enumerate(PAIRS)}


def forward_of(relation: str) -> str | None:
    """The forward type of an inverse relation (``ownerOf`` → ``ownedBy``); None for a
    forward one or an unknown one."""
    inverse = RELATION_INVERSES.get(relation)
    return inverse if inverse is not None and relation not in FORWARD_RELATIONS else None
