"""The catalog index, built for 50,000 entities.

Without JavaScript (or from disk) the index is a set of static, paged lists: all
entities, and each kind on its own. With JavaScript, the filter form loads the rows in
shards of plain script files (which also load from ``file://``, unlike fetch), only
when the reader starts filtering, so the first page stays small. Facet counts shown in
the form are computed here, at build time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..text import counted
from ._model import EntityRow, SiteModel
from ._urls import page_file

__all__ = ["FACETS", "CatalogPage", "catalog_pages", "facet_counts", "row_shards"]

SHARD_ROWS = 2000
MAX_OPTIONS = 300
FACETS = (
    ("kind", "Kind"),
    ("type", "Type"),
    ("owner", "Owner"),
    ("lifecycle", "Lifecycle"),
    ("system", "System"),
    ("namespace", "Namespace"),
    ("tag", "Tag"),
)
PAGER_WINDOW = 3


@dataclass
class CatalogPage:
    dir: str
    heading: str
    kind: str | None
    rows: list[EntityRow]
    number: int
    pages: list[dict[str, Any]]
    showing: str


def _facet_values(row: EntityRow) -> dict[str, list[str]]:
    return {
        "kind": [row.kind],
        "type": [row.type] if row.type else [],
        "owner": [row.owner.label] if row.owner else [],
        "lifecycle": [row.lifecycle] if row.lifecycle else [],
        "system": [row.system.label] if row.system else [],
        "namespace": [row.namespace],
        "tag": list(row.tags),
    }


def facet_counts(rows: list[EntityRow]) -> list[dict[str, Any]]:
    counters: dict[str, Counter[str]] = {name: Counter() for name, _ in FACETS}
    for row in rows:
        for name, values in _facet_values(row).items():
            counters[name].update(values)
    return [
        {
            "name": name,
            "label": label,
            "options": [
                {"value": value, "count": count}
                for value, count in sorted(counters[name].items(), key=lambda kv: (-kv[1], kv[0]))[
                    :MAX_OPTIONS
                ]
            ],
        }
        for name, label in FACETS
        if counters[name]
    ]


def _page_dir(kind: str | None, number: int) -> str:
    base = "catalog/" if kind is None else f"catalog/_kinds/{kind.lower()}/"
    return base if number == 1 else f"{base}_pages/{number}/"


def catalog_pages(model: SiteModel, keys: list[str], page_size: int) -> Iterator[CatalogPage]:
    """Every static list page: all entities, then each kind, ``page_size`` rows a page."""
    kinds = sorted({model.entities[k]["kind"] for k in keys})
    for kind in (None, *kinds):
        selected = keys if kind is None else [k for k in keys if model.entities[k]["kind"] == kind]
        count = max(1, -(-len(selected) // page_size))
        heading = "Catalog" if kind is None else f"Catalog: {kind}"
        for number in range(1, count + 1):
            here = _page_dir(kind, number)
            chunk = selected[(number - 1) * page_size : number * page_size]
            first = (number - 1) * page_size + 1
            showing = (
                f"Showing {first} to {first + len(chunk) - 1} of {counted(len(selected), 'entity')}"
                if chunk
                else "Nothing here yet."
            )
            yield CatalogPage(
                dir=here,
                heading=heading,
                kind=kind,
                rows=[model.row(k) for k in chunk],
                number=number,
                pages=_pager(kind, number, count),
                showing=showing,
            )


def _pager(kind: str | None, current: int, count: int) -> list[dict[str, Any]]:
    wanted = {1, count, *range(current - PAGER_WINDOW, current + PAGER_WINDOW + 1)}
    return [
        {"number": n, "href": page_file(_page_dir(kind, n))}
        for n in sorted(wanted)
        if 1 <= n <= count
    ]


def row_shards(rows: list[EntityRow]) -> Iterator[tuple[str, str]]:
    """``(file name, script)`` pairs; each script hands its rows to portal.js.

    Hrefs are site paths; json.dumps with ASCII escapes keeps any text from
    ending the script early.
    """
    for start in range(0, max(len(rows), 1), SHARD_ROWS):
        index = start // SHARD_ROWS
        data = [
            [
                r.href,
                r.kind,
                r.namespace,
                r.label,
                r.type,
                r.owner.label if r.owner else "",
                r.lifecycle,
                r.system.label if r.system else "",
                list(r.tags),
                r.summary,
                r.name,
                (r.owner.href or "") if r.owner else "",
                r.owner.key if r.owner else "",
                r.key,
            ]
            for r in rows[start : start + SHARD_ROWS]
        ]
        payload = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
        payload = payload.replace("<", "\\u003c")
        yield f"rows-{index}.js", f"window.backlotRows({index},{payload});\n"
