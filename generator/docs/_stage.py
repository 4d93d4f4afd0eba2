"""The docs stage as the pipeline runs it: catalog in, sites and a report out."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..model import CatalogFile
from ..sources import Repository
from ._build import METADATA_FILE, SiteOutcome, build_docs
from ._sources import find_docs_sources

__all__ = ["REPORT_FILE", "read_docs_report", "run_docs_stage"]

REPORT_FILE = "docs-report.json"


def run_docs_stage(
    catalog: CatalogFile,
    repositories: list[Repository],
    out: Path,
    cache_dir: Path,
    *,
    allowed_plugins: tuple[str, ...],
    workers: int | None = None,
    portal_root: str | None = "../../../../",
    progress: Callable[[SiteOutcome], None] | None = None,
) -> dict[str, Any]:
    """Build every entity's docs into ``out``; remove sites of entities that no longer have
    docs; write and return the report the site stage reads."""
    sources, problems = find_docs_sources(catalog, {r.name: r for r in repositories})
    result = build_docs(
        sources,
        out,
        cache_dir,
        portal_root=portal_root,
        allowed_plugins=allowed_plugins,
        workers=workers,
        progress=progress,
    )
    previous = read_docs_report(cache_dir)
    current = {s.storage_path for s in sources}
    for site in previous.get("sites", {}).values():
        path = site.get("storage_path") if isinstance(site, dict) else None
        if isinstance(path, str) and path not in current and path.count("/") == 2:
            stale = out / path
            inside = not path.startswith("/") and ".." not in path.split("/")
            if inside and (stale / METADATA_FILE).is_file():
                shutil.rmtree(stale)
    report: dict[str, Any] = {
        "schemaVersion": 1,
        "builder": "local",
        "sites": {
            s.entity_ref: {
                "storage_path": s.storage_path,
                "status": s.status,
                "message": s.message,
                "warnings": list(s.warnings),
            }
            for s in result.sites
        },
        "unresolved": problems,
    }
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / REPORT_FILE).write_text(json.dumps(report, indent=1, sort_keys=True), "utf-8")
    return report


def read_docs_report(cache_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((cache_dir / REPORT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
