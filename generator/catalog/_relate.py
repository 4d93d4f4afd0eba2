"""Relations in both directions, and the references that lead nowhere."""

from __future__ import annotations

from collections.abc import Collection

from ..model import RELATION_INVERSES, FieldPath
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
            if relation.type == "ownedBy":
                orphans += 1
                findings.append(
                    (
                        item,
                        relation.path,
                        "catalog/orphan",
                        f"the owner {target_key} does not exist, so nobody owns this entity",
                    )
                )
            else:
                unresolved += 1
                findings.append(
                    (
                        item,
                        relation.path,
                        "catalog/unresolved-ref",
                        f"{target_key} does not exist in the catalog",
                    )
                )
    return {key: sorted(pairs) for key, pairs in edges.items()}, findings, orphans, unresolved
