"""S3 as the publishers use it: a client that retries, parallel uploads with the right
headers, batched deletes, and the content-hash sync of one folder (a TechDocs site).

`aws s3 sync` compares sizes and mtimes (so a rebuild re-uploads everything, or with
--size-only misses same-size edits) and techdocs-cli re-uploads every file. Here an
object is uploaded only when its content differs, with a real Content-Type and
Cache-Control, and stale keys go in batched deletes of up to 1,000.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BacklotError
from ._files import LocalFile, local_files

__all__ = [
    "DELETE_BATCH",
    "PublishError",
    "SyncResult",
    "delete_keys",
    "list_keys",
    "put_files",
    "s3_client",
    "sync_folder",
]

DELETE_BATCH = 1000  # DeleteObjects' limit
UPLOAD_WORKERS = 16


class PublishError(BacklotError):
    """The bucket refused or could not be reached, after retries; or a guard refused."""


def s3_client(
    endpoint_url: str | None = None, region: str | None = None, workers: int = UPLOAD_WORKERS
) -> Any:
    """An S3 client with the usual AWS settings (``AWS_ENDPOINT_URL`` and the rest of the
    environment), connections for ``workers`` parallel uploads, and botocore's standard
    retries: exponential backoff with jitter on throttling (``SlowDown``, 503), other 5xx
    answers and connection errors."""
    boto3: Any = importlib.import_module("boto3")  # imported only when publishing
    botocore_config: Any = importlib.import_module("botocore.config")
    config = botocore_config.Config(
        retries={"mode": "standard", "max_attempts": 10},
        max_pool_connections=max(workers, 10),
        connect_timeout=10,
        read_timeout=60,
    )
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def describe(exc: Exception, what: str) -> PublishError:
    """One message for what S3 (or the network) said, naming what was being done."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        said = f"{error.get('Code', '?')}: {error.get('Message', '')}".rstrip(": ")
    else:
        said = str(exc)
    return PublishError(f"{what}: {said}")


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


def put_files(
    client: Any,
    bucket: str,
    files: Sequence[tuple[str, LocalFile]],
    *,
    workers: int = UPLOAD_WORKERS,
    done: Callable[[str], None] | None = None,
) -> None:
    """Upload (key, file) pairs in parallel; returns when all are in the bucket. The first
    failure (after the client's retries) stops the rest and is raised as one message."""

    def put(key: str, file: LocalFile) -> str:
        try:
            client.put_object(
                Bucket=bucket,
                Key=key,
                Body=file.path.read_bytes(),
                ContentType=file.content_type,
                CacheControl=file.cache_control,
            )
        except Exception as exc:
            raise describe(exc, f"uploading {file.relpath} to s3://{bucket}/{key}") from None
        return key

    if not files:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(files)))) as pool:
        futures = [pool.submit(put, key, file) for key, file in files]
        for future in futures:
            future.add_done_callback(
                lambda f: done(f.result()) if done and not f.exception() else None
            )
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in finished if f.exception() is not None]
        if failed:
            for future in futures:
                future.cancel()
            error = failed[0].exception()
            assert error is not None
            raise error


def delete_keys(
    client: Any, bucket: str, keys: Iterable[str], done: Callable[[int], None] | None = None
) -> None:
    """Delete in batches of up to 1,000 keys, one request each."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), DELETE_BATCH):
        batch = ordered[start : start + DELETE_BATCH]
        try:
            answer = client.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
        except Exception as exc:
            raise describe(exc, f"deleting {len(batch)} objects in s3://{bucket}") from None
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise PublishError(
                f"deleting s3://{bucket}/{first.get('Key')}: {first.get('Code')}: "
                f"{first.get('Message', '')} ({len(errors)} objects not deleted)"
            )
        if done is not None:
            done(len(batch))


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
    """Make ``s3://bucket/prefix`` hold exactly ``folder``'s files, comparing with the
    listing's ETags (a docs site is small and its prefix is its own).

    ``prefix`` ends with ``/`` (or is empty); only keys below it are ever deleted. Files
    named in ``last`` (e.g. techdocs_metadata.json) are uploaded after all others, so a
    reader never sees metadata that names files not there yet.
    """
    if prefix and not prefix.endswith("/"):
        raise ValueError(f"prefix {prefix!r} must end with '/'")
    existing = list_keys(client, bucket, prefix)
    result = SyncResult()
    files = local_files(folder)
    late = set(last)
    changed = [f for f in files if existing.get(prefix + f.relpath) != f.md5]
    result.unchanged = len(files) - len(changed)
    for group in (
        [f for f in changed if f.relpath not in late],
        [f for f in changed if f.relpath in late],
    ):
        put_files(client, bucket, [(prefix + f.relpath, f) for f in group], done=progress)
        result.uploaded += [prefix + f.relpath for f in group]
    if delete:
        wanted = {prefix + f.relpath for f in files}
        stale = sorted(set(existing) - wanted)
        delete_keys(client, bucket, stale)
        result.deleted = stale
    return result
