"""The docs stage as the pipeline runs it: catalog in, sites and a report out."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from ..config import DocsSettings
from ..model import CatalogFile, DocsReport, SiteReport, portal_link_from_docs
from ..sources import Repository, UrlOpener
from ..workspace import Workspace
from ._build import METADATA_FILE, SiteOutcome, build_docs
from ._sources import find_docs_sources

__all__ = ["remove_stale_sites", "run_docs_stage"]


def run_docs_stage(
    catalog: CatalogFile,
    repositories: list[Repository],
    out: Path,
    cache_dir: Path,
    *,
    settings: DocsSettings | None = None,
    allowed_hosts: tuple[str, ...] = (),
    link_back: Callable[[str], str] | None = portal_link_from_docs,
    site_title: str = "Backlot",
    publisher: str | None = None,
    progress: Callable[[SiteOutcome], None] | None = None,
    urls: UrlOpener | None = None,
) -> DocsReport:
    """Build every entity's docs into ``out``; remove sites of entities that no longer have
    docs; write and return the report the site stage reads. ``urls`` opens techdocs-ref
    ``url:`` values into other repositories, and has the repositories the catalog stage
    reached through Location URLs.

    ``link_back`` (an entity's page from its docs site's root) makes the sites the portal's
    own: its header and sections (``site_title`` names it), its footer, links that work from
    disk. None builds them for Backstage's reader (external mode: ``backlot docs publish``),
    in MkDocs' own form."""
    known = {r.name: r for r in (*(urls.repositories() if urls else ()), *repositories)}
    sources, problems = find_docs_sources(catalog, known, urls)
    result = build_docs(
        sources,
        out,
        cache_dir,
        settings=settings,
        allowed_hosts=allowed_hosts,
        link_back=link_back,
        site_title=site_title,
        publisher=publisher,
        progress=progress,
    )
    remove_stale_sites(out, {s.storage_path for s in sources})
    report = DocsReport(
        builder="local",
        sites={
            s.entity_ref: SiteReport(
                storage_path=s.storage_path,
                status=s.status,
                failure=s.failure,
                warnings=s.warnings,
            )
            for s in result.sites
        },
        unresolved=problems,
    )
    report.write(Workspace(cache_dir, out).docs_report)
    return report


def remove_stale_sites(out: Path, current: set[str]) -> list[str]:
    """Remove the sites below ``out`` that this builder wrote (their metadata says so) and
    that no entity has now: the entity went, or lost its docs. Found on disk rather than
    in the last report, so that a site a killed build swapped in is not left behind."""
    removed = []
    for metadata in sorted(out.glob(f"*/*/*/{METADATA_FILE}")):
        site = metadata.parent
        path = site.relative_to(out).as_posix()
        if path in current or site.is_symlink() or path.startswith("."):
            continue
        try:
            data = json.loads(metadata.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("backlot"), dict):
            shutil.rmtree(site)
            removed.append(path)
    return removed
