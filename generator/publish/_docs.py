"""External mode: a repository publishes the TechDocs it built, each site below its own
prefix in Backstage's layout, ``techdocs_metadata.json`` last."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import DocsStorage
from ..model import DocsReport
from ._s3 import SyncResult, sync_folder

__all__ = ["publish_docs_sites", "s3_client"]

METADATA_FILE = "techdocs_metadata.json"


def s3_client(storage: DocsStorage) -> Any:
    """An S3 client with the usual AWS settings (``AWS_ENDPOINT_URL`` included), and the
    endpoint and region ``backlot.yaml`` names, if any."""
    boto3: Any = importlib.import_module("boto3")  # imported only when publishing
    return boto3.client("s3", endpoint_url=storage.endpoint_url, region_name=storage.region)


def publish_docs_sites(
    client: Any, report: DocsReport, built: Path, bucket: str, prefix: str
) -> Iterator[tuple[str, str, SyncResult]]:
    """Sync every site the docs stage built (failed ones are left as published) to
    ``s3://bucket/<prefix><namespace>/<kind>/<name>/``; yields (entity, key prefix, what
    changed) as each site is done. Deletions stay below each site's own prefix."""
    for ref, site in sorted(report.sites.items()):
        if site.status == "failed":
            continue
        key_prefix = f"{prefix}{site.storage_path}/"
        synced = sync_folder(
            client, built / site.storage_path, bucket, key_prefix, last=[METADATA_FILE]
        )
        yield ref, key_prefix, synced
