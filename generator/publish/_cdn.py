"""CloudFront invalidation: as few paths as the change needs, within the API's limits.

A wildcard path costs as much as one file path (the first 1,000 a month are free, then
each is paid), so a folder with more than one changed file is invalidated as
``/folder/*``; the root is never wildcarded unless the limits leave no other way. At most
3,000 file paths and 15 wildcards may be in progress per distribution, counting those of
earlier runs still in progress; past that, changes are merged into wildcards of their
nearest common folders, deepest first, so each step widens the invalidation least.
Hashed assets are never invalidated: their names change with their content.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_PATHS", "MAX_WILDCARDS", "collapse_paths", "in_progress", "invalidate"]

MAX_PATHS = 3000
MAX_WILDCARDS = 15


def _folder(path: str) -> str:
    """``/a/b/c.html`` → ``/a/b/``; ``/a/b/`` → ``/a/b/``."""
    return path[: path.rindex("/") + 1]


def _parent(folder: str) -> str:
    return folder if folder == "/" else _folder(folder[:-1])


def _ancestors(item: str) -> list[str]:
    """The folders that contain a path (``/a/b.html``) or a wildcard (``/a/*``)."""
    folder = item[:-1] if item.endswith("*") else _folder(item)
    found = [folder]
    while folder != "/":
        folder = _parent(folder)
        found.append(folder)
    return found


def collapse_paths(
    paths: Iterable[str], max_paths: int = MAX_PATHS, max_wildcards: int = MAX_WILDCARDS
) -> list[str] | None:
    """The paths to invalidate for ``paths`` (viewer paths starting with ``/``), at most
    ``max_paths`` in all and ``max_wildcards`` of them wildcards; None when even ``/*``
    does not fit (the limits are used up by invalidations in progress)."""
    exact = set(paths)
    if not exact:
        return []
    wild: set[str] = set()
    by_folder: dict[str, set[str]] = {}
    for path in exact:
        by_folder.setdefault(_folder(path), set()).add(path)
    for folder, members in by_folder.items():
        if folder != "/" and len(members) > 1:
            wild.add(folder + "*")
            exact -= members
    while len(wild) > max_wildcards or len(exact) + len(wild) > max_paths:
        items = exact | wild
        if len(items) == 1:
            break
        cover: dict[str, int] = {}
        for item in items:
            for folder in set(_ancestors(item)):
                cover[folder] = cover.get(folder, 0) + 1
        candidates = [f for f, n in cover.items() if n > 1]
        chosen = max(candidates, key=lambda f: (f.count("/"), cover[f]))
        covered = {i for i in items if i.startswith(chosen) and i != chosen + "*"}
        exact -= covered
        wild -= covered
        wild.add(chosen + "*")
    if len(wild) > max_wildcards or len(exact) + len(wild) > max_paths:
        return None
    return sorted(exact | wild)


def cloudfront_client(endpoint_url: str | None = None) -> Any:
    boto3: Any = importlib.import_module("boto3")
    botocore_config: Any = importlib.import_module("botocore.config")
    config = botocore_config.Config(retries={"mode": "standard", "max_attempts": 10})
    return boto3.client("cloudfront", endpoint_url=endpoint_url, config=config)


def in_progress(client: Any, distribution_id: str) -> tuple[int, int]:
    """File paths and wildcard paths of this distribution's invalidations in progress."""
    files = wildcards = 0
    paginator = client.get_paginator("list_invalidations")
    for page in paginator.paginate(DistributionId=distribution_id):
        for summary in page.get("InvalidationList", {}).get("Items", []) or []:
            if summary.get("Status") != "InProgress":
                continue
            detail = client.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])
            batch = detail["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", [])
            wildcards += sum(1 for p in batch if p.endswith("*"))
            files += sum(1 for p in batch if not p.endswith("*"))
    return files, wildcards


def invalidate(client: Any, distribution_id: str, paths: list[str]) -> str:
    """One invalidation request; its id."""
    answer = client.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": f"backlot-{time.time_ns()}",
        },
    )
    return str(answer["Invalidation"]["Id"])
