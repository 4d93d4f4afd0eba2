"""The docs stage as the pipeline runs it: catalog in, sites and a report out."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ..config import DocsSettings
from ..model import CatalogFile, DocsReport, SiteReport, portal_link_from_docs
from ..sources import Repository, UrlOpener
from ..workspace import Workspace
from ._build import METADATA_FILE, SiteOutcome, build_docs, swap_site
from ._sources import find_docs_sources

__all__ = ["merge_docs_sites", "remove_stale_sites", "run_docs_stage"]


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
    only: Callable[[str], bool] | None = None,
) -> DocsReport:
    """Build every entity's docs into ``out``; remove sites of entities that no longer have
    docs; write and return the report the site stage reads. ``urls`` opens techdocs-ref
    ``url:`` values into other repositories, and has the repositories the catalog stage
    reached through Location URLs. ``only`` (an entity key → whether to build it) narrows
    the stage to a shard's entities: ``out`` then holds their sites alone.

    ``link_back`` (an entity's page from its docs site's root) makes the sites the portal's
    own: its header and sections (``site_title`` names it), its footer, links that work from
    disk. None builds them for Backstage's reader (external mode: ``backlot docs publish``),
    in MkDocs' own form."""
    known = {r.name: r for r in (*(urls.repositories() if urls else ()), *repositories)}
    sources, problems = find_docs_sources(catalog, known, urls)
    if only is not None:
        sources = [s for s in sources if only(s.entity_ref)]
        problems = {ref: p for ref, p in problems.items() if only(ref)}
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


def merge_docs_sites(
    shards: Sequence[tuple[Path, DocsReport]], out: Path, cache_dir: Path
) -> tuple[int, int]:
    """Put the docs sites that shards built (each shard's ``docs/`` folder, with the report
    that lists its sites) into ``out``, and remove the sites no shard has: ``out`` then
    holds what one docs stage over every entity would. A site whose files are already
    there, byte for byte, is left alone; another is copied aside and swapped in whole.
    Returns (sites copied, sites unchanged)."""
    # Every site checked before the first is copied: a shard that does not fit leaves
    # the docs as they were.
    sites: dict[str, Path] = {}  # storage path → the shard's copy
    for folder, report in shards:
        for ref, site in sorted(report.sites.items()):
            if site.status == "failed":
                continue
            path = site.storage_path
            parts = path.split("/")
            if len(parts) != 3 or any(p in ("", ".", "..") for p in parts):
                raise ValueError(f"{folder}: {ref}'s site is at {path!r}, not <ns>/<kind>/<name>")
            source = folder / path
            if not (source / METADATA_FILE).is_file():
                raise ValueError(f"{folder}: the docs site of {ref} is missing ({source})")
            _refuse_links(source, ref)
            sites[path] = source
    out.mkdir(parents=True, exist_ok=True)
    scratch = Workspace(cache_dir, out).scratch_for(out)
    copied = unchanged = 0
    for path, source in sites.items():
        target = out / path
        if _same_tree(source, target):
            unchanged += 1
            continue
        staging = Path(tempfile.mkdtemp(prefix="merge-", dir=scratch))
        try:
            shutil.copytree(source, staging / "site", copy_function=_link_or_copy)
            swap_site(staging / "site", target, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        copied += 1
    remove_stale_sites(out, set(sites))
    return copied, unchanged


def _refuse_links(site: Path, ref: str) -> None:
    """A shard's folder is an artifact passed between jobs: a docs site with a symbolic
    link in it is none this builder wrote, and copying it could follow the link out."""
    if site.is_symlink():
        raise ValueError(f"{site}: the docs site of {ref} is a symbolic link")
    for root, folders, files in os.walk(site):
        for name in (*folders, *files):
            if (Path(root) / name).is_symlink():
                raise ValueError(f"{Path(root) / name}: a symbolic link in the docs of {ref}")


def _link_or_copy(source: str, target: str) -> None:
    """A hard link where the file system allows (nothing edits a built site in place),
    else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _same_tree(a: Path, b: Path) -> bool:
    """Whether folders ``a`` and ``b`` hold the same files with the same bytes."""
    if not b.is_dir() or b.is_symlink():
        return False
    for root, folders, files in os.walk(a):
        there = b / Path(root).relative_to(a)
        try:
            if sorted(os.listdir(there)) != sorted([*folders, *files]):
                return False
        except OSError:
            return False
        for name in files:
            if not filecmp.cmp(Path(root) / name, there / name, shallow=False):
                return False
    return True
