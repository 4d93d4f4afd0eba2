"""External mode: the TechDocs that repositories published to the bucket themselves."""

from __future__ import annotations

from typing import Any

from ._build import METADATA_FILE

__all__ = ["published_sites"]


def published_sites(client: Any, bucket: str, prefix: str) -> dict[str, str]:
    """Storage path (``<namespace>/<kind>/<name>``) → when its techdocs_metadata.json was
    last written (ISO), for every site below ``prefix``. One listing, no downloads: the
    portal needs to know which sites exist and how fresh they are, not their content."""
    sites: dict[str, str] = {}
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            key: str = item["Key"][len(prefix) :]
            parts = key.split("/")
            if len(parts) == 4 and parts[3] == METADATA_FILE:
                modified = item["LastModified"]
                sites["/".join(parts[:3])] = modified.replace(microsecond=0).isoformat()
    return sites
