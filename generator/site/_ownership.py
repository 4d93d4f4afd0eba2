"""Ownership as Backstage's ownership card shows it: what an owner owns directly, and what
it owns aggregated — a Group with its child groups (all the way down) and their members, a
User with the groups it is a member of."""

from __future__ import annotations

from collections.abc import Iterable

from ._model import SiteModel

__all__ = [
    "MAX_AGGREGATED",
    "aggregated_owned",
    "owners_aggregated",
    "pages_aggregating",
    "pages_under",
]

# A company's root group aggregates the whole catalog: the page lists this many and says
# how many more (the catalog filters by owner for the rest).
MAX_AGGREGATED = 200


def _closure(model: SiteModel, start: str, relation: str) -> set[str]:
    """``start`` and everything reached from it through ``relation``, cycles included once."""
    seen = {start}
    todo = [start]
    while todo:
        for target in model.related(todo.pop(), relation):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def owners_aggregated(model: SiteModel, key: str) -> set[str]:
    """The owners whose entities ``key``'s aggregated view lists."""
    if key.startswith("group:"):
        groups = _closure(model, key, "parentOf")
        return groups | {m for g in groups for m in model.related(g, "hasMember")}
    if key.startswith("user:"):
        return {key, *model.related(key, "memberOf")}
    return {key}


def aggregated_owned(model: SiteModel, key: str) -> list[str]:
    """Every entity owned by one of ``key``'s aggregated owners, sorted by ref."""
    owned: set[str] = set()
    for owner in owners_aggregated(model, key):
        owned.update(t for t in model.related(owner, "ownerOf") if t in model.entities)
    return sorted(owned)


def pages_aggregating(model: SiteModel, keys: Iterable[str]) -> set[str]:
    """The Group and User pages whose aggregated view may show one of ``keys``: the
    incremental build renders them again with the changed entities."""
    found: set[str] = set()
    for key in keys:
        for owner in (key, *model.related(key, "ownedBy")):
            if owner.startswith("group:"):
                found |= _closure(model, owner, "childOf")
                found.update(model.related(owner, "hasMember"))
            elif owner.startswith("user:"):
                for group in model.related(owner, "memberOf"):
                    found |= _closure(model, group, "childOf")
    return found & set(model.entities)


def pages_under(model: SiteModel, keys: Iterable[str]) -> set[str]:
    """The Group pages below one of ``keys`` at any depth: each shows its parents up to
    the root, so a group renamed (or gone) changes every descendant's page. Found through
    the children's ``childOf``, which still name a group that is gone."""
    children: dict[str, list[str]] = {}
    for key, pairs in model.relations.items():
        for relation, target in pairs:
            if relation == "childOf":
                children.setdefault(target, []).append(key)
    found: set[str] = set()
    todo = [k for k in keys if k.startswith("group:")]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found & set(model.entities)
