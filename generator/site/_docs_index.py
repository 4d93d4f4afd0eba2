"""What the portal knows of TechDocs: which sites exist, when built, and which failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["DocsSite", "read_docs_sites"]


@dataclass(frozen=True)
class DocsSite:
    storage_path: str  # <namespace>/<kind>/<name>
    site_name: str
    built: str  # ISO time of the build, from techdocs_metadata.json
    # The repository it was built or published from (techdocs_metadata.json's "backlot"
    # entry); None when the site does not say.
    repository: str | None = None


def read_docs_sites(docs_dir: Path) -> dict[str, DocsSite]:
    """Every built site below ``docs_dir``, by storage path, from its techdocs_metadata.json
    (the file Backstage reads too; in external mode, repositories wrote them)."""
    sites: dict[str, DocsSite] = {}
    if not docs_dir.is_dir():
        return sites
    for metadata in sorted(docs_dir.glob("*/*/*/techdocs_metadata.json")):
        storage_path = metadata.parent.relative_to(docs_dir).as_posix()
        try:
            data: Any = json.loads(metadata.read_text("utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(data, dict):
            continue
        stamp = data.get("build_timestamp")
        built = (
            datetime.fromtimestamp(stamp / 1000, UTC).replace(microsecond=0).isoformat()
            if isinstance(stamp, int | float)
            else ""
        )
        name = data.get("site_name")
        backlot = data["backlot"] if isinstance(data.get("backlot"), dict) else {}
        repository = backlot.get("repository")
        sites[storage_path] = DocsSite(
            storage_path,
            name if isinstance(name, str) else "",
            built,
            repository if isinstance(repository, str) else None,
        )
    return sites
