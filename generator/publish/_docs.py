"""External mode: a repository publishes the TechDocs it built, each site below its own
prefix in Backstage's layout, ``techdocs_metadata.json`` last."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..model import DocsReport
from ._s3 import SyncResult, sync_folder

__all__ = ["publish_docs_sites"]

METADATA_FILE = "techdocs_metadata.json"


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
