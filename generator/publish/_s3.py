"""Content-hash sync of a folder to an S3 prefix: upload what changed, delete what is gone.

`aws s3 sync` compares sizes and mtimes (so a rebuild re-uploads everything, or with
--size-only misses same-size edits) and techdocs-cli re-uploads every file. Here an
object is uploaded only when its MD5 (the ETag S3 gives a single-part upload) differs,
with a real Content-Type and Cache-Control, and stale keys go in batched deletes.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SyncResult", "list_keys", "sync_folder"]

DELETE_BATCH = 1000
# Pages and metadata change in place; fingerprinted assets never do.
NO_CACHE = "public, max-age=0, must-revalidate"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class SyncResult:
    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)


def list_keys(client: Any, bucket: str, prefix: str) -> dict[str, str]:
    """Every key below ``prefix`` with its ETag (quotes removed)."""
    keys: dict[str, str] = {}
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            keys[item["Key"]] = item["ETag"].strip('"')
    return keys


def _content_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "application/json"):
        return f"{guessed}; charset=utf-8"
    return guessed


def _cache_control(relpath: str) -> str:
    name = relpath.rsplit("/", 1)[-1]
    parts = name.split(".")
    # Material's bundles are named like bundle.d7400e89.min.js: the hash is in the name.
    fingerprinted = len(parts) >= 3 and any(
        len(p) >= 8 and all(c in "0123456789abcdef" for c in p) for p in parts[1:-1]
    )
    return IMMUTABLE if fingerprinted else NO_CACHE


def sync_folder(
    client: Any,
    folder: Path,
    bucket: str,
    prefix: str,
    *,
    delete: bool = True,
    last: Iterable[str] = (),
    progress: Callable[[str], None] | None = None,
) -> SyncResult:
    """Make ``s3://bucket/prefix`` hold exactly ``folder``'s files.

    ``prefix`` ends with ``/`` (or is empty); only keys below it are ever deleted. Files
    named in ``last`` (e.g. techdocs_metadata.json) are uploaded after all others, so a
    reader never sees metadata that names files not there yet.
    """
    if prefix and not prefix.endswith("/"):
        raise ValueError(f"prefix {prefix!r} must end with '/'")
    existing = list_keys(client, bucket, prefix)
    result = SyncResult()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    late = set(last)
    ordered = [p for p in files if p.relative_to(folder).as_posix() not in late]
    ordered += [p for p in files if p.relative_to(folder).as_posix() in late]
    wanted: set[str] = set()
    for path in ordered:
        relpath = path.relative_to(folder).as_posix()
        key = prefix + relpath
        wanted.add(key)
        data = path.read_bytes()
        if existing.get(key) == hashlib.md5(data, usedforsecurity=False).hexdigest():
            result.unchanged += 1
            continue
        client.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=_content_type(path),
            CacheControl=_cache_control(relpath),
        )
        result.uploaded.append(key)
        if progress is not None:
            progress(key)
    if delete:
        stale = sorted(set(existing) - wanted)
        for start in range(0, len(stale), DELETE_BATCH):
            batch = stale[start : start + DELETE_BATCH]
            client.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
        result.deleted = stale
    return result
