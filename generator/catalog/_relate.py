"""Relations in both directions, and the references that lead nowhere."""

from __future__ import annotations

import difflib
from collections.abc import Collection

from ..model import KINDS, RELATION_INVERSES, EntityRef, FieldPath
from ._accepted import Accepted

__all__ = ["relate"]

OWNER_KINDS = frozenset({"group", "user"})


def relate(
    accepted: list[Accepted], known: Collection[str] = ()
) -> tuple[dict[str, list[tuple[str, str]]], list[tuple[Accepted, FieldPath, str, str]], int, int]:
    """Every entity's relations as sorted ``(type, targetRef)`` pairs, plus findings.

    A relation to a missing entity stays on the source's side, as in Backstage; it is
    reported as unresolved, or as an orphan when it is the owner that is missing.
    ``known`` holds refs that exist elsewhere (a whole organisation's catalog.json when
    one repository is validated on its own). Returns (relations by entity ref, findings
    to place, orphans, unresolved refs).
    """
    by_key = {item.ref.key: item for item in accepted}
    # The kinds a reference can mean: Backstage's, and any other kind the catalog holds.
    kinds = {k.kind.lower() for k in KINDS} | {item.ref.kind.lower() for item in accepted}
    kinds |= {key.partition(":")[0] for key in known}
    edges: dict[str, set[tuple[str, str]]] = {key: set() for key in by_key}
    findings: list[tuple[Accepted, FieldPath, str, str]] = []
    orphans = unresolved = 0
    for item in accepted:
        own = edges[item.ref.key]
        for relation in item.relations:
            target_key = relation.target.key
            own.add((relation.type, target_key))
            target = by_key.get(target_key)
            if target is not None:
                edges[target_key].add((RELATION_INVERSES[relation.type], item.ref.key))
                if relation.type == "ownedBy" and target.ref.kind.lower() not in OWNER_KINDS:
                    findings.append(
                        (
                            item,
                            relation.path,
                            "catalog/owner-kind",
                            f"the owner {target_key} is a {target.ref.kind}, not a Group or User",
                        )
                    )
                continue
            if target_key in known:
                continue
            hint = _kind_hint(relation.target, kinds, by_key, known)
            if relation.type == "ownedBy":
                orphans += 1
                findings.append(
                    (
                        item,
                        relation.path,
                        "catalog/orphan",
                        f"the owner {target_key} does not exist, so nobody owns this entity" + hint,
                    )
                )
            else:
                unresolved += 1
                findings.append(
                    (
                        item,
                        relation.path,
                        "catalog/unresolved-ref",
                        f"{target_key} does not exist in the catalog{hint}",
                    )
                )
    return {key: sorted(pairs) for key, pairs in edges.items()}, findings, orphans, unresolved


def _kind_hint(
    target: EntityRef, kinds: set[str], by_key: Collection[str], known: Collection[str]
) -> str:
    """For a reference whose kind is no kind at all (``componet:foo``, ``grup:team-a``),
    ``; 'grup' is not a kind: did you mean group:default/team-a?``, naming the entity
    when it exists. A reference may name any kind, so this is only a hint."""
    kind = target.kind.lower()
    if kind in kinds:
        return ""
    close = difflib.get_close_matches(kind, kinds, n=1)
    if not close:
        return ""
    meant = EntityRef(close[0], target.namespace, target.name).key
    exists = " (it exists)" if meant in by_key or meant in known else ""
    return f"; {target.kind!r} is not a kind: did you mean {meant}{exists}?"
