"""The docs stage: every entity's TechDocs, built safely, in parallel, only when changed.

Worker processes import MkDocs, Material and the extensions once and build many sites
each; that start-up is most of what a `mkdocs build` per site costs. A site whose inputs
(its docs tree, its mkdocs.yml, the builder's version and settings) hash as before is
not built again. Each site is built into a scratch folder and swapped in whole, so a
failed build leaves the previous one in place.
"""

from __future__ import annotations

import hashlib
import html
import importlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from . import _speedups as speedups
from ._mkdocs_config import DEFAULT_PLUGINS, DocsConfigError, check_links, read_mkdocs_config
from ._sources import DocsSource, docs_root

__all__ = ["DocsBuildResult", "SiteOutcome", "build_docs", "overrides_dir"]

METADATA_FILE = "techdocs_metadata.json"
STATE_FILE = "docs-state.json"


@dataclass(frozen=True)
class SiteOutcome:
    entity_ref: str
    storage_path: str
    status: str  # "built", "unchanged" or "failed"
    message: str = ""
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass
class DocsBuildResult:
    sites: list[SiteOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for s in self.sites if s.status == status)


@dataclass(frozen=True)
class _Job:
    source: DocsSource
    out: Path
    digest: str
    homepage: str
    allowed_plugins: tuple[str, ...]


def overrides_dir() -> Path:
    """Backlot's Material overrides: the header's logo becomes a link back to the portal."""
    return Path(__file__).resolve().parent / "theme"


def _builder_fingerprint() -> str:
    versions = [
        f"{name}={metadata.version(name)}"
        for name in ("mkdocs", "mkdocs-material", "pymdown-extensions", "markdown")
    ]
    files = sorted(p for p in overrides_dir().rglob("*") if p.is_file())
    digest = hashlib.sha256("\n".join([__version__, *versions]).encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _mkdocs_file(folder: Path) -> Path | None:
    for name in ("mkdocs.yaml", "mkdocs.yml"):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            return path
    return None


_DOCS_DIR = re.compile(r"^docs_dir:\s*['\"]?([^'\"\s#]+)", re.MULTILINE)


def _inputs_digest(root: Path, config_text: str, extra: Iterable[str]) -> str:
    """What a build reads: the docs tree (docs_dir) and the files beside mkdocs.yml (where
    snippets such as README.md usually come from). Not the whole repository: its source
    code, and whatever else a checkout holds, does not change the docs."""
    match = _DOCS_DIR.search(config_text)
    docs_dir = root / (match.group(1) if match else "docs")
    files = [p for p in root.iterdir() if p.is_file()]
    if docs_dir.is_dir() and docs_dir.resolve() != root.resolve():
        files += [p for p in docs_dir.rglob("*") if p.is_file()]
    digest = hashlib.sha256()
    for item in extra:
        digest.update(item.encode() + b"\0")
    for path in sorted(set(files)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_docs(
    sources: list[DocsSource],
    out: Path,
    cache_dir: Path,
    *,
    portal_root: str | None = "../../../../",
    allowed_plugins: tuple[str, ...] = DEFAULT_PLUGINS,
    workers: int | None = None,
    progress: Callable[[SiteOutcome], None] | None = None,
) -> DocsBuildResult:
    """Build ``sources`` into ``out/<namespace>/<kind>/<name>/``.

    ``portal_root``: the portal's root relative to a docs site's root, for the header link
    back to the entity page (None when the docs are published without a portal).
    """
    out = out.resolve()  # MkDocs resolves a relative site_dir against mkdocs.yml's folder
    out.mkdir(parents=True, exist_ok=True)
    state_path = cache_dir / STATE_FILE
    try:
        state: dict[str, str] = json.loads(state_path.read_text("utf-8"))
    except (OSError, ValueError):
        state = {}
    fingerprint = _builder_fingerprint()
    result = DocsBuildResult()
    jobs: list[_Job] = []
    for source in sources:
        root = docs_root(source)
        config_file = _mkdocs_file(root)
        if config_file is None and not (root / "docs").is_dir():
            # Nothing to build: say so without starting a build for it.
            outcome = SiteOutcome(
                source.entity_ref,
                source.storage_path,
                "failed",
                message=f"no mkdocs.yml and no docs/ folder in {source.repository.name}/"
                f"{source.folder}".rstrip("/"),
            )
            result.sites.append(outcome)
            state.pop(source.entity_ref, None)
            if progress is not None:
                progress(outcome)
            continue
        config_text = config_file.read_text("utf-8", errors="replace") if config_file else ""
        homepage = f"{portal_root}catalog/{source.storage_path}/index.html" if portal_root else ""
        digest = _inputs_digest(
            root,
            config_text,
            [
                fingerprint,
                config_text,
                source.site_name,
                source.description,
                homepage,
                ",".join(allowed_plugins),
            ],
        )
        target = out / source.storage_path
        if state.get(source.entity_ref) == digest and (target / METADATA_FILE).is_file():
            outcome = SiteOutcome(source.entity_ref, source.storage_path, "unchanged")
            result.sites.append(outcome)
            if progress is not None:
                progress(outcome)
            continue
        jobs.append(_Job(source, out, digest, homepage, allowed_plugins))

    digests = {job.source.entity_ref: job.digest for job in jobs}
    for outcome in _run(jobs, workers):
        result.sites.append(outcome)
        if outcome.status == "built":
            state[outcome.entity_ref] = digests[outcome.entity_ref]
        else:
            state.pop(outcome.entity_ref, None)
        if progress is not None:
            progress(outcome)
    cache_dir.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, sort_keys=True), "utf-8")
    result.sites.sort(key=lambda s: s.entity_ref)
    return result


def _run(jobs: list[_Job], workers: int | None) -> Iterator[SiteOutcome]:
    if not jobs:
        return
    count = min(workers or os.cpu_count() or 1, len(jobs))
    if count <= 1:
        _prepare_worker()
        yield from map(_build_site, jobs)
        return
    with ProcessPoolExecutor(max_workers=count, initializer=_prepare_worker) as pool:
        yield from pool.map(_build_site, jobs, chunksize=1)


def _prepare_worker() -> None:
    """Import once what every build needs: most of a `mkdocs build` is start-up."""
    for module in ("mkdocs.commands.build", "material", "pymdownx.emoji", "pymdownx.superfences"):
        importlib.import_module(module)
    speedups.install()

    logging.getLogger("mkdocs").setLevel(logging.WARNING)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _build_site(job: _Job) -> SiteOutcome:
    from mkdocs.commands.build import build
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.exceptions import MkDocsException

    source = job.source
    started = time.perf_counter()
    target = job.out / source.storage_path
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=job.out))
    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        # Before anything of the repository is read: no link may lead out of it.
        check_links(source.repository.root)
        root = docs_root(source)
        config_file = _mkdocs_file(root)
        safe = read_mkdocs_config(
            config_file.read_text("utf-8", errors="replace") if config_file else None,
            repo_root=source.repository.root,
            docs_folder=root,
            site_name=source.site_name,
            allowed_plugins=job.allowed_plugins,
        )
        values = dict(safe.values)
        values["site_dir"] = str(scratch)
        values["theme"] = {**values["theme"], "custom_dir": str(overrides_dir())}
        if job.homepage:
            extra = dict(values.get("extra") or {})
            extra["homepage"] = job.homepage
            if not extra.get("alternate"):
                extra.update(alternate=True, backlot_portal=job.homepage)
            values["extra"] = extra
        config = MkDocsConfig(config_file_path=str(config_file or root / "mkdocs.yml"))
        config.load_dict(values)
        errors, _ = config.validate()
        if errors:
            raise DocsConfigError("; ".join(f"{name}: {error}" for name, error in errors))
        shutil.rmtree(scratch, ignore_errors=True)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        finally:
            config.plugins.on_shutdown()
        _write_metadata(scratch, values, job.digest)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch, target)
        return SiteOutcome(
            source.entity_ref,
            source.storage_path,
            "built",
            warnings=tuple(safe.warnings + collect.messages),
            seconds=time.perf_counter() - started,
        )
    except (DocsConfigError, MkDocsException, OSError, ValueError) as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        return SiteOutcome(
            source.entity_ref,
            source.storage_path,
            "failed",
            message=str(exc) or type(exc).__name__,
            warnings=tuple(collect.messages),
            seconds=time.perf_counter() - started,
        )
    finally:
        logger.removeHandler(collect)


def _write_metadata(site: Path, values: dict[str, Any], etag: str) -> None:
    """techdocs_metadata.json with the fields `techdocs-cli generate` writes.

    techdocs-core renders site_description through Jinja's ``string`` filter, so an unset
    one is the string "None" there; the same here, for readers that expect it.
    """
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    files.append(METADATA_FILE)
    data = {
        # The config's texts were HTML-escaped for the theme; the metadata carries them plain.
        "site_description": html.unescape(str(values.get("site_description"))),
        "site_name": html.unescape(values["site_name"]),
        "build_timestamp": int(time.time() * 1000),
        "files": sorted(files),
        "etag": etag,
    }
    (site / METADATA_FILE).write_text(json.dumps(data), "utf-8")
