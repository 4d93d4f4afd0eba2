"""What the portal knows of TechDocs: which sites exist, when built, and which failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..model import DocsReport, EntityRef, docs_site_dir, repository_identity
from ._model import SiteModel

__all__ = ["DocsSite", "attach_docs", "read_docs_sites"]


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


def attach_docs(model: SiteModel, sites: dict[str, DocsSite], report: DocsReport) -> None:
    """Link each entity's docs, when they came from the entity's own repository: in the
    bucket, any repository whose CI can publish could write a site under another entity's
    name, and the portal would then vouch for it."""
    for key in model.entities:
        site = sites.get(EntityRef.from_key(key).storage_path)
        if site is None:
            continue
        source = model.catalog.sources.get(key)
        own = repository_identity(source.url, source.repository) if source else None
        if site.repository is not None and site.repository == own:
            model.docs[key] = docs_site_dir(site.storage_path) + "index.html"
        elif site.repository is None:
            model.docs_errors[key] = (
                "its docs do not say which repository published them (built by another "
                "tool?), so they are not linked; publish them with backlot docs publish "
                "(docs/unverified)"
            )
        else:
            model.docs_errors[key] = (
                f"docs under its name were published by {site.repository}, not by its own "
                f"repository {own}; not linked (docs/other-repository)"
            )
    for key, problem in report.failed().items():
        if key in model.entities:
            model.docs_errors[key] = f"{problem.message} ({problem.rule})"
    for key, built in report.sites.items():
        if key in model.entities and built.warnings:
            model.docs_warnings[key] = built.warnings
