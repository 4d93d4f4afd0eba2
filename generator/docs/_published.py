"""External mode: the TechDocs that repositories published to the bucket themselves."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._build import METADATA_FILE

__all__ = ["PublishedSite", "published_sites"]


@dataclass(frozen=True)
class PublishedSite:
    built: str  # when its techdocs_metadata.json was last written (ISO)
    site_name: str
    repository: str | None  # the repository that published it, from its metadata


def published_sites(client: Any, bucket: str, prefix: str, cache: Path) -> dict[str, PublishedSite]:
    """Storage path (``<namespace>/<kind>/<name>``) → what was published there, for every
    site below ``prefix``. One listing, and a download only of the metadata files that
    changed since the last build (``cache`` remembers them by ETag): the portal needs to
    know which sites exist, how fresh they are and which repository published each (it
    links a site only to an entity of that repository), not their pages."""
    known = _load(cache)
    seen: dict[str, dict[str, Any]] = {}
    sites: dict[str, PublishedSite] = {}
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            key: str = item["Key"]
            parts = key[len(prefix) :].split("/")
            if len(parts) != 4 or parts[3] != METADATA_FILE:
                continue
            etag = str(item.get("ETag", ""))
            entry = known.get(key)
            if entry is None or entry.get("etag") != etag:
                entry = {"etag": etag, **_read_metadata(client, bucket, key)}
            seen[key] = entry
            built = item["LastModified"].replace(microsecond=0).isoformat()
            sites["/".join(parts[:3])] = PublishedSite(
                built, str(entry.get("site_name") or ""), entry.get("repository")
            )
    _save(cache, seen)
    return sites


def _read_metadata(client: Any, bucket: str, key: str) -> dict[str, Any]:
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read(1024 * 1024)
        data = json.loads(body)
    except (ValueError, OSError, KeyError, RecursionError):
        return {"site_name": "", "repository": None}
    if not isinstance(data, dict):
        return {"site_name": "", "repository": None}
    backlot = data["backlot"] if isinstance(data.get("backlot"), dict) else {}
    repository = backlot.get("repository")
    name = data.get("site_name")
    return {
        "site_name": name if isinstance(name, str) else "",
        "repository": repository if isinstance(repository, str) else None,
    }


def _load(cache: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(cache.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def _save(cache: Path, entries: dict[str, dict[str, Any]]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{cache.name}.", dir=cache.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(entries, handle, sort_keys=True)
    os.replace(partial, cache)
