"""The docs stage: every entity's TechDocs, built safely, in parallel, only when changed.

Worker processes import MkDocs, Material and the extensions once and build many sites
each; that start-up is most of what a `mkdocs build` per site costs. Each site is built
under a time and memory limit (``_workers``), inside its repository (``_contain``), and
everything that goes wrong becomes that site's finding, with a rule id: one repository
cannot stop the others. The worker reads the repository, not the parent: it checks the
links, reads ``mkdocs.yml``, walks the docs tree and hashes exactly what the build will
read; a site whose inputs hash as before is not built again. A site is built in a scratch
folder outside the output and swapped in whole, so a failed or killed build leaves the
previous one in place.
"""

from __future__ import annotations

import errno
import hashlib
import html
import importlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import __version__
from ..config import DocsSettings
from ..csp import content_security_policy
from ..model import (
    DocsProblem,
    SiteStatus,
    docs_site_dir,
    portal_link_from_docs,
    repository_identity,
)
from ..sources import Repository, RepositoryError
from ..workers import Failure, JobLimits, run_isolated
from ..workspace import Workspace
from . import _contain as contain
from . import _speedups as speedups
from ._links import FoundLink, broken_link_warnings, parse_link_message, validation_settings
from ._mkdocs_config import MAX_CONFIG_BYTES, DocsConfigError, check_links, read_mkdocs_config
from ._sources import DocsSource
from ._tree import DocsTreeError, TreeLimits, hash_repository_files, walk_docs_tree

__all__ = [
    "METADATA_FILE",
    "DocsBuildResult",
    "SiteOutcome",
    "build_docs",
    "overrides_dir",
    "swap_site",
]

METADATA_FILE = "techdocs_metadata.json"
STATE_FILE = "docs-state.json"


@dataclass(frozen=True)
class SiteOutcome:
    entity_ref: str
    storage_path: str
    status: SiteStatus
    failure: DocsProblem | None = None
    warnings: tuple[DocsProblem, ...] = ()
    seconds: float = 0.0
    digest: str = ""
    snippets: tuple[str, ...] = ()  # repository files outside the docs tree that it read

    @property
    def message(self) -> str:
        return self.failure.message if self.failure is not None else ""


@dataclass
class DocsBuildResult:
    sites: list[SiteOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for s in self.sites if s.status == status)


@dataclass(frozen=True)
class _Previous:
    digest: str
    snippets: tuple[str, ...]
    # What the build that made the site warned about: an unchanged site still has them.
    warnings: tuple[DocsProblem, ...] = ()


@dataclass(frozen=True)
class _Job:
    source: DocsSource
    out: Path
    scratch: Path
    homepage: str  # the entity's page, from the site's root ("": docs without a portal)
    site_title: str  # the portal's title, for the docs' header
    allowed_plugins: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    tree_limits: TreeLimits
    fingerprint: str
    previous: _Previous | None
    publisher: str | None


def overrides_dir() -> Path:
    """Backlot's Material overrides: the page's Content-Security-Policy, the theme's inline
    scripts as files, the portal's header, navigation and footer."""
    return Path(__file__).resolve().parent / "theme"


def _builder_fingerprint() -> str:
    versions = [
        f"{name}={metadata.version(name)}"
        for name in ("mkdocs", "mkdocs-material", "pymdown-extensions", "markdown", "nh3")
    ]
    files = sorted(p for p in overrides_dir().rglob("*") if p.is_file())
    digest = hashlib.sha256("\n".join([__version__, *versions]).encode())
    for path in files:
        digest.update(path.relative_to(overrides_dir()).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_docs(
    sources: list[DocsSource],
    out: Path,
    cache_dir: Path,
    *,
    settings: DocsSettings | None = None,
    allowed_hosts: tuple[str, ...] = (),
    link_back: Callable[[str], str] | None = portal_link_from_docs,
    site_title: str = "Backlot",
    progress: Callable[[SiteOutcome], None] | None = None,
    scratch: Path | None = None,
    publisher: str | None = None,
    isolate: bool = True,
) -> DocsBuildResult:
    """Build ``sources`` into ``out/<namespace>/<kind>/<name>/``.

    ``link_back``: from a storage path to the entity's page, relative to the docs site's
    root. With it the sites are the portal's own (under ``docs/`` of the portal): they
    carry its header, sections and footer (``site_title`` names it), follow the system's
    light or dark mode, and their links name ``index.html`` so that they work from disk.
    None: docs for Backstage's reader (external mode), in MkDocs' and Material's own form.
    ``scratch``: where sites are built before they are swapped in (default: the
    workspace's, on the same file system as ``out``). ``publisher``: the
    repository publishing the sites, for their metadata (default: each site's own).
    ``isolate=False`` builds in this process, without limits: for profiling only.
    """
    settings = settings or DocsSettings()
    out = out.resolve()  # MkDocs resolves a relative site_dir against mkdocs.yml's folder
    out.mkdir(parents=True, exist_ok=True)
    scratch = (scratch or Workspace(cache_dir, out).scratch_for(out)).resolve()
    state_path = cache_dir / STATE_FILE
    state = _load_state(state_path)
    fingerprint = _builder_fingerprint()
    tree_limits = TreeLimits(settings.max_files, settings.max_tree_mb * 1024 * 1024)
    jobs = [
        _Job(
            source=source,
            out=out,
            scratch=scratch,
            homepage=link_back(source.storage_path) if link_back is not None else "",
            site_title=site_title if link_back is not None else "",
            allowed_plugins=settings.allowed_plugins,
            allowed_hosts=allowed_hosts,
            tree_limits=tree_limits,
            fingerprint=fingerprint,
            previous=state.get(source.entity_ref),
            publisher=publisher,
        )
        for source in sources
    ]
    limits = JobLimits(settings.timeout_seconds, settings.max_memory_mb * 1024 * 1024)
    result = DocsBuildResult()
    for outcome in _run(jobs, settings.workers, limits, isolate):
        if outcome.failure is not None and outcome.failure.rule == "docs/disk-full":
            # Every other site would fail the same way: stop, and say it once.
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))
        result.sites.append(outcome)
        if outcome.status == "failed":
            state.pop(outcome.entity_ref, None)
        else:
            state[outcome.entity_ref] = _Previous(
                outcome.digest, outcome.snippets, outcome.warnings
            )
        if progress is not None:
            progress(outcome)
    _save_state(state_path, state)
    result.sites.sort(key=lambda s: s.entity_ref)
    return result


def _run(
    jobs: Sequence[_Job], workers: int | None, limits: JobLimits, isolate: bool
) -> Iterator[SiteOutcome]:
    if not jobs:
        return
    if not isolate:
        _prepare_worker()
        yield from map(_build_site, jobs)
        return
    count = min(workers or os.cpu_count() or 1, len(jobs))
    for item in run_isolated(
        _build_site, jobs, workers=count, limits=limits, initializer=_prepare_worker
    ):
        if isinstance(item, Failure):
            job = item.job
            yield SiteOutcome(
                job.source.entity_ref,
                job.source.storage_path,
                "failed",
                failure=DocsProblem(rule=f"docs/{item.kind}", message=item.message),
            )
        else:
            yield item


def _load_state(path: Path) -> dict[str, _Previous]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    state: dict[str, _Previous] = {}
    for ref, entry in data.items() if isinstance(data, dict) else ():
        if isinstance(entry, dict) and isinstance(entry.get("digest"), str):
            snippets = entry.get("snippets")
            warnings = entry.get("warnings")
            state[ref] = _Previous(
                entry["digest"],
                tuple(s for s in snippets if isinstance(s, str))
                if isinstance(snippets, list)
                else (),
                tuple(_read_warnings(warnings)) if isinstance(warnings, list) else (),
            )
    return state


def _read_warnings(entries: list[object]) -> Iterator[DocsProblem]:
    for entry in entries:
        try:
            yield DocsProblem.model_validate(entry)
        except ValidationError:
            continue  # a state written by another version: the next build writes it anew


def _save_state(path: Path, state: dict[str, _Previous]) -> None:
    data = {
        ref: {
            "digest": p.digest,
            "snippets": list(p.snippets),
            "warnings": [w.model_dump() for w in p.warnings],
        }
        for ref, p in sorted(state.items())
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)
    os.replace(partial, path)


def _prepare_worker() -> None:
    """Import once what every build needs: most of a `mkdocs build` is start-up."""
    for module in ("mkdocs.commands.build", "material", "pymdownx.emoji", "pymdownx.superfences"):
        importlib.import_module(module)
    speedups.install()
    contain.install()
    logging.getLogger("mkdocs").setLevel(logging.WARNING)


class _Collect(logging.Handler):
    """MkDocs' own warnings, as the site's warnings; the links its validation could not
    resolve apart (they become docs/broken-link, with their page and line)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[DocsProblem] = []
        self.links: list[FoundLink] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(("Error reading page", "Error building page")):
            return  # the builder reports those itself, as docs/page-failed
        link = parse_link_message(message)
        if link is not None:
            self.links.append(link)
            return
        self.messages.append(DocsProblem(rule="docs/mkdocs", message=message[:500]))


def _mkdocs_file(repository: Repository, folder: str) -> str | None:
    """The repository-relative path of the folder's mkdocs.yml (a link to one is refused
    by check_links before anything is read)."""
    for name in ("mkdocs.yaml", "mkdocs.yml"):
        relpath = f"{folder}/{name}" if folder else name
        try:
            if repository.resolve(relpath).is_file():
                return relpath
        except RepositoryError:
            continue
    return None


def _build_site(job: _Job) -> SiteOutcome:
    """One site, in a worker: checked, hashed, and built only if its inputs changed."""
    source = job.source
    started = time.perf_counter()

    def failed(rule: str, message: str, warnings: Sequence[DocsProblem] = ()) -> SiteOutcome:
        return SiteOutcome(
            source.entity_ref,
            source.storage_path,
            "failed",
            failure=DocsProblem(rule=rule, message=message),
            warnings=tuple(warnings),
            seconds=time.perf_counter() - started,
        )

    try:
        return _check_and_build(job, started)
    except DocsConfigError as exc:
        return failed(exc.rule, str(exc))
    except DocsTreeError as exc:
        return failed(exc.rule, str(exc))
    except MemoryError:
        raise  # the worker reports it, and is replaced
    except RecursionError:
        return failed("docs/build-failed", "the build recursed too deeply (a nesting or link loop)")
    except OSError as exc:
        return failed(
            "docs/build-failed", f"{exc.strerror or exc}: {exc.filename or ''}".strip(": ")
        )
    except Exception as exc:
        return failed("docs/build-failed", f"{type(exc).__name__}: {str(exc)[:500]}")


def _check_and_build(job: _Job, started: float) -> SiteOutcome:
    source = job.source
    repository = source.repository
    # Before anything of the docs folder is read: no link in it may lead out of the
    # repository (every other read checks its own path).
    check_links(repository.resolve(source.folder or "."))
    config_path = _mkdocs_file(repository, source.folder)
    config_text = None
    if config_path is not None:
        config_text = repository.read_bytes(config_path, MAX_CONFIG_BYTES).decode(
            "utf-8", errors="replace"
        )
    elif not _has_docs_folder(repository, source.folder):
        raise DocsConfigError(
            f"no mkdocs.yml and no docs/ folder in {repository.name}/{source.folder}".rstrip("/"),
            "docs/no-tree",
        )
    safe = read_mkdocs_config(
        config_text,
        repository=repository,
        folder=source.folder,
        site_name=source.site_name,
        allowed_plugins=job.allowed_plugins,
        allowed_hosts=job.allowed_hosts,
    )
    sort_key = importlib.import_module("mkdocs.structure.files")._file_sort_key
    tree = walk_docs_tree(
        repository,
        Path(safe.values["docs_dir"]),
        sort_key=sort_key,
        limits=job.tree_limits,
        extra=[
            job.fingerprint,
            config_text or "",
            source.site_name,
            source.description,
            job.homepage,
            job.site_title,
            ",".join(job.allowed_plugins),
            ",".join(job.allowed_hosts),
        ],
    )
    previous = job.previous
    target = job.out / source.storage_path
    if previous is not None and (target / METADATA_FILE).is_file():
        digest = _digest(tree.digest, repository, previous.snippets)
        if digest == previous.digest:
            return SiteOutcome(
                source.entity_ref,
                source.storage_path,
                "unchanged",
                warnings=previous.warnings,
                digest=digest,
                snippets=previous.snippets,
                seconds=time.perf_counter() - started,
            )
    theme = safe.values["theme"]
    containment = contain.Containment(
        repository,
        tree,
        job.allowed_hosts,
        theme_paths={k: theme[k] for k in ("logo", "favicon") if isinstance(theme.get(k), str)},
    )
    for relpath, why in tree.refused:
        containment.warn("docs/unreadable", f"left out: {why}", relpath)
    warnings = _mkdocs_build(job, safe.values, config_path, config_text, containment)
    if containment.pages and len(containment.failed_pages) >= containment.pages:
        first = containment.failed_pages[0]
        raise DocsConfigError(
            f"no page of the site could be built; the first: {first.file}: {first.message}",
            "docs/build-failed",
        )
    snippets = tuple(sorted(containment.snippets))
    return SiteOutcome(
        source.entity_ref,
        source.storage_path,
        "built",
        warnings=tuple(safe.warnings + warnings),
        seconds=time.perf_counter() - started,
        digest=_digest(tree.digest, repository, snippets),
        snippets=snippets,
    )


def _has_docs_folder(repository: Repository, folder: str) -> bool:
    try:
        return repository.resolve(f"{folder}/docs" if folder else "docs").is_dir()
    except RepositoryError:
        return False


def _digest(tree_digest: str, repository: Repository, snippets: Sequence[str]) -> str:
    snippet_digest = hash_repository_files(repository, snippets)
    return hashlib.sha256(f"{tree_digest}\n{snippet_digest}".encode()).hexdigest()


def _portal_frame(job: _Job) -> dict[str, str]:
    """What the docs' header and footer print of the portal around them (``extra.backlot_portal``,
    a name no repository's setting reaches): links relative to the site's root, texts
    HTML-escaped (the theme prints them as they are)."""
    storage_path = job.source.storage_path
    return {
        "root": "../" * docs_site_dir(storage_path).count("/"),
        "title": html.escape(job.site_title),
        "entity": job.homepage,
        "entity_name": html.escape(job.source.site_name),
    }


# Material's two schemes, switched by the system's setting as the portal's stylesheet is:
# its indigo header on white, and the same header on slate. The first entry is Material's
# "system preference" selector: with it Material's script picks one of the two by the
# media query whenever the setting changes; with the two alone it keeps re-applying the
# scheme it chose (and stored) first. There is no toggle, as the portal has none.
PORTAL_PALETTE = [
    {
        "media": "(prefers-color-scheme)",
        "scheme": "default",
        "primary": "indigo",
        "accent": "indigo",
    },
    {
        "media": "(prefers-color-scheme: light)",
        "scheme": "default",
        "primary": "indigo",
        "accent": "indigo",
    },
    {
        "media": "(prefers-color-scheme: dark)",
        "scheme": "slate",
        "primary": "indigo",
        "accent": "indigo",
    },
]


def _mkdocs_build(
    job: _Job,
    values: dict[str, Any],
    config_path: str | None,
    config_text: str | None,
    containment: contain.Containment,
) -> list[DocsProblem]:
    """Build into a scratch folder, write the metadata, swap the folder into place; the
    warnings of the build (the builder's, MkDocs', the broken links)."""
    from mkdocs.commands.build import build
    from mkdocs.config.defaults import MkDocsConfig

    source = job.source
    repository = source.repository
    scratch = Path(tempfile.mkdtemp(prefix="site-", dir=job.scratch))
    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        values = dict(values)
        values["site_dir"] = str(scratch / "site")
        values["theme"] = {**values["theme"], "custom_dir": str(overrides_dir())}
        values["validation"] = validation_settings(values.get("validation"))
        extra = dict(values.get("extra") or {})
        extra["backlot_csp"] = content_security_policy(job.allowed_hosts)
        extra["backlot_hosts"] = list(job.allowed_hosts)
        if job.homepage:
            extra["backlot_portal"] = _portal_frame(job)
            values["theme"]["palette"] = PORTAL_PALETTE
        values["extra"] = extra
        folder = repository.resolve(source.folder or ".")
        config = MkDocsConfig(config_file_path=str(folder / Path(config_path or "mkdocs.yml").name))
        config.load_dict(values)
        errors, _ = config.validate()
        if errors:
            raise DocsConfigError(
                "; ".join(f"{name}: {error}" for name, error in errors)[:1000],
                "docs/config-invalid",
            )
        config.plugins.on_startup(command="build", dirty=False)
        try:
            with contain.containing(containment):
                build(config)
        finally:
            config.plugins.on_shutdown()
        site = scratch / "site"
        links = broken_link_warnings(
            collect.links,
            sources={f.relpath: f.real for f in containment.tree.files},
            site_dir=site,
            config_path=config_path,
            config_text=config_text,
        )
        _write_metadata(site, values, job, containment)
        swap_site(site, job.out / source.storage_path, scratch)
        return [*containment.warnings, *collect.messages, *links]
    finally:
        logger.removeHandler(collect)
        shutil.rmtree(scratch, ignore_errors=True)


def swap_site(site: Path, target: Path, scratch: Path) -> None:
    """Put the new site where the old one was with two renames: a reader (or a build
    killed in between) sees the old site or the new one, or for an instant none."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = scratch / "old"
    if target.exists():
        os.replace(target, old)
    os.replace(site, target)


def _build_timestamp() -> int:
    """Milliseconds, as techdocs-cli writes it; SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return int(epoch) * 1000 if epoch and epoch.isdigit() else int(time.time() * 1000)


def _write_metadata(
    site: Path, values: dict[str, Any], job: _Job, containment: contain.Containment
) -> None:
    """techdocs_metadata.json with the fields `techdocs-cli generate` writes, and a
    ``backlot`` entry: who built it, from which repository (the portal links a site only
    when it came from its entity's own repository).

    techdocs-core renders site_description through Jinja's ``string`` filter, so an unset
    one is the string "None" there; the same here, for readers that expect it.
    """
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    files.append(METADATA_FILE)
    repository = job.source.repository
    data = {
        # The config's texts were HTML-escaped for the theme; the metadata carries them plain.
        "site_description": html.unescape(str(values.get("site_description"))),
        "site_name": html.unescape(values["site_name"]),
        "build_timestamp": _build_timestamp(),
        "files": sorted(files),
        "etag": _digest(containment.tree.digest, repository, sorted(containment.snippets)),
        "backlot": {
            "generator": f"backlot {__version__}",
            "entity": job.source.entity_ref,
            "repository": job.publisher or publishing_repository(repository),
        },
    }
    (site / METADATA_FILE).write_text(json.dumps(data), "utf-8")


def publishing_repository(repository: Repository) -> str:
    """The repository a site is recorded as published from, when no other is given."""
    return repository_identity(repository.url, repository.name)
