"""The command line: thin; each command reads its inputs and calls one stage."""

from __future__ import annotations

import base64
import difflib
import errno
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from . import __version__
from .actions import build_summary, in_actions, workflow_annotations, write_step_summary
from .catalog import DescriptorMemo, build_catalog
from .cli_scaffold import scaffold, workflows
from .config import (
    CONFIG_FILE,
    DEFAULT_DESCRIPTOR_GLOBS,
    ORG_SOURCE_TYPES,
    BacklotConfig,
    ConfigError,
    EntraSource,
    GitHubTeamsSource,
    GoogleWorkspaceSource,
    LocalSource,
    OktaSource,
    OrgSource,
    PublishSettings,
    SiteSettings,
    load_config,
    settings_problems,
)
from .context import (
    ContextSnapshot,
    describe_run,
    open_sources,
    outline_context,
    refresh_context,
)
from .csp import content_security_policy
from .deploy import EdgeAuthConfig, write_edge_auth_bundle
from .docs import merge_docs_sites, published_sites, run_docs_stage
from .errors import BacklotError
from .health import TECHDOCS_REF, catalog_health, published_health
from .model import (
    DOCS_PREFIX,
    CatalogFile,
    DocsProblem,
    DocsReport,
    EntityRef,
    EntitySource,
    Finding,
    RefError,
    Shard,
    descriptor_json_schema,
    file_digest,
    parse_ref,
    portal_link_from_docs,
    repository_identity,
)
from .org import (
    ORG_INDEX,
    OrgSourceError,
    last_sync,
    open_provider,
    org_files,
    org_location,
    sync_folder,
)
from .publish import (
    Guards,
    PortalTarget,
    PublishError,
    cloudfront_client,
    plan_publish,
    publish_docs_sites,
    publish_portal,
    s3_client,
)
from .serve import CannotListen, serve_folder
from .site import (
    DocsSite,
    ShardMismatch,
    ShardSet,
    SiteResult,
    build_activity,
    build_site,
    read_shards,
    readme_badges,
)
from .sources import OpenedSources, open_repositories, repositories_to_validate
from .sources.org import provider_label
from .text import counted
from .workspace import Workspace, WorkspaceBusy, source_set_key

__all__ = ["main"]


def _examples_dir() -> Path:
    """The bundled example organisation (shipped inside the package, or in a checkout)."""
    packaged = resources.files("generator") / "examples"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "examples"


class _InputProblem(click.ClickException):
    """What the user gave cannot be what they meant (a path with nothing in it, a port in
    use): exit code 2, as for a wrong option, so that a CI step fails loudly."""

    exit_code = 2


def _load_settings(
    config_path: Path | None,
    path: Path | None,
    cache_dir: Path | None = None,
    *,
    command: str | None = None,
) -> BacklotConfig:
    """Settings from ``--config``, else ``./backlot.yaml``; PATH replaces its sources.
    Without PATH or sources, the bundled example organisation: ``command`` (one that reads
    the sources) says so on stderr, as a build of the example inside one's own folder
    would otherwise look like a build of that folder."""
    config_file = config_path
    if config_file is None and Path(CONFIG_FILE).is_file():
        config_file = Path(CONFIG_FILE)
    try:
        config = load_config(config_file) if config_file is not None else BacklotConfig()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if cache_dir is not None:
        config = config.model_copy(update={"cache_dir": cache_dir})
    if path is not None or not config.catalog.sources:
        source = LocalSource(path=path if path is not None else _examples_dir().resolve())
        config = config.model_copy(
            update={"catalog": config.catalog.model_copy(update={"sources": (source,)})}
        )
        if path is None and command is not None:
            why = (
                f"{config_file} names no sources"
                if config_file is not None
                else f"no PATH given and no {CONFIG_FILE} here"
            )
            click.echo(
                f"note: {why}: using the bundled example organisation ({source.path}). "
                f"Give a folder to use your own: backlot {command} PATH",
                err=True,
            )
    return config


@contextmanager
def _sources(config: BacklotConfig) -> Iterator[OpenedSources]:
    """Every configured source opened (crawled, for remote ones) once per command; what
    each crawl cost is printed. A source that cannot be read stops the command before any
    stage runs. What the URL reader learnt is kept when the command ends."""
    with _progress("crawling") as crawling:
        try:
            opened = open_repositories(
                config.catalog,
                config.cache_dir,
                progress=lambda what: crawling.advance(0, what),
            )
        except BacklotError as exc:
            raise click.ClickException(str(exc)) from None
    for report in opened.reports:
        click.echo(report.summary())
    try:
        if not any(r.descriptors for r in opened.repositories):
            raise _InputProblem(_nothing_found(config))
        yield opened
    finally:
        opened.close()


def _nothing_found(config: BacklotConfig) -> str:
    """Which places were searched for which names: a mistyped path in a pull-request
    check must fail, and say what it looked for."""
    searched = []
    for source in config.catalog.sources:
        names = " or ".join(getattr(source, "descriptors", ()))
        if isinstance(source, LocalSource):
            searched.append(f"{source.path.resolve()} and each folder in it, for {names}")
        elif source.type == "github":
            searched.append(f"the repositories of GitHub organisation {source.org}, for {names}")
        elif source.type == "git":
            searched.append(f"{counted(len(source.repositories), 'git repository')}, for {names}")
        else:
            searched.append(" ".join(getattr(source, "urls", ())))
    return (
        "no descriptors found: searched "
        + "; ".join(searched)
        + ". Check the path, or the file names (descriptors: in backlot.yaml)"
    )


# Without a terminal (a CI log), long work says where it is this often, in seconds.
PROGRESS_SECONDS = 5.0

# Held while the progress thread writes a line: the site and docs stages fork workers,
# and a child forked halfway through a write would inherit stderr's lock taken forever.
_WRITING = threading.Lock()
os.register_at_fork(
    before=_WRITING.acquire, after_in_parent=_WRITING.release, after_in_child=_WRITING.release
)


class _Progress:
    """Where one long piece of work is, for whoever waits for it: on a terminal a live line
    (a bar with the count and the time left once the total is known); without one (a CI
    log) a line every ``PROGRESS_SECONDS`` while the work lasts, so that no stage is
    silent for long and a short one adds nothing to the log."""

    def __init__(self, label: str, unit: str, total: int | None) -> None:
        self.label, self.unit, self.total = label, unit, total
        self.done = 0
        self.what = ""
        self.started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def advance(self, count: int = 1, what: str = "") -> None:
        self.done += count
        if what:
            self.what = what
        if self.total is not None and self.done > self.total:
            self.total = self.done  # more than announced (Location targets, say)
        self._show()

    def set_total(self, total: int) -> None:
        self.total = max(total, self.done)
        self._show()

    def _show(self) -> None:
        if self._bar is not None:
            name = self.what if len(self.what) <= 40 else "…" + self.what[-39:]
            self._bar.update(
                self._task,
                completed=self.done,
                total=self.total,
                description=f"{self.label} {name}",
            )

    def line(self) -> str:
        """Where the work is, for a log: ``site: 1200/3000 entity pages, 14 s, about 21 s
        left``."""
        elapsed = time.monotonic() - self.started
        if self.total is not None:
            where = f"{self.done}/{counted(self.total, self.unit)}"
            if 0 < self.done < self.total:
                left = elapsed * (self.total - self.done) / self.done
                where += f", {_duration(elapsed)}, about {_duration(left)} left"
            else:
                where += f", {_duration(elapsed)}"
        elif self.unit and self.done:
            where = f"{counted(self.done, self.unit)} so far, {_duration(elapsed)}"
        else:
            where = _duration(elapsed)
        return f"  … {self.label}: {where}" + (f" ({self.what})" if self.what else "")


def _duration(seconds: float) -> str:
    whole = int(seconds + 0.5)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


@contextmanager
def _progress(label: str, unit: str = "", total: int | None = None) -> Iterator[_Progress]:
    """A ``_Progress`` shown on stderr for the length of the block."""
    progress = _Progress(label, unit, total)
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if unit:  # work that is counted: a bar, the count, the time it took and has left
            columns += [
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
            ]
        else:
            columns.append(TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            progress._bar, progress._task = bar, bar.add_task(label, total=total)
            yield progress
        return
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(PROGRESS_SECONDS):
            with _WRITING:
                click.echo(progress.line(), err=True)

    ticker = threading.Thread(target=report, name=f"progress {label}", daemon=True)
    ticker.start()
    try:
        yield progress
    finally:
        stop.set()
        ticker.join()


class _Commands(click.Group):
    """Errors of the machine a build runs on, said once, as what to do."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WorkspaceBusy as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            where = f" while writing {exc.filename}" if exc.filename else ""
            raise click.ClickException(
                f"the disk is full{where}. Nothing published before was changed; free some "
                "space and build again (it goes on from what this build finished)."
            ) from None


@click.group(cls=_Commands)
@click.version_option(__version__, prog_name="backlot")
def main() -> None:
    """Backlot: a developer portal without a server.

    Reads Backstage descriptors (catalog-info.yaml) from a folder of repositories,
    checks them as Backstage would, and builds the catalog every later stage reads.
    """


_CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="backlot.yaml"
)
_CACHE_OPTION = click.option(
    "--cache-dir", type=click.Path(path_type=Path, file_okay=False), help="default: .backlot"
)
_OUTPUT_OPTION = click.option(
    "-o", "--output", type=click.Path(path_type=Path, file_okay=False), help="default: site"
)
_STRICT_OPTION = click.option(
    "--strict",
    is_flag=True,
    help="fail (exit 1) on any catalog error or warning, docs site failure or docs warning",
)
_PATH_ARGUMENT = click.argument(
    "path", required=False, type=click.Path(path_type=Path, file_okay=False, exists=True)
)


@main.command()
@_PATH_ARGUMENT
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="where catalog.json goes",
)
@_CONFIG_OPTION
@_CACHE_OPTION
def catalog(
    path: Path | None, output: Path | None, config_path: Path | None, cache_dir: Path | None
) -> None:
    """Build catalog.json from PATH (a folder of repositories), or from backlot.yaml.

    Without either, the bundled example organisation is used (and said so).
    Exits 2 when no descriptor is found.
    """
    config = _load_settings(config_path, path, cache_dir, command="catalog")
    workspace = Workspace(config.cache_dir, config.output)
    out = output or workspace.catalog
    with workspace.locked("catalog", output=False):
        with _sources(config) as sources:
            _run_catalog(config, out, workspace, sources)
        workspace.finished(_source_set(config) if out == workspace.catalog else None)


def _source_set(config: BacklotConfig) -> str:
    """What the workspace keeps each source set's baseline catalog by."""
    return source_set_key(config.catalog.sources)


def _run_catalog(
    config: BacklotConfig, out: Path, workspace: Workspace, sources: OpenedSources
) -> CatalogFile:
    """The catalog stage, compared with the last finished build of the same sources (the
    workspace's baseline), or, written elsewhere, with the catalog that is there."""
    own = out == workspace.catalog
    previous = _read_previous(workspace.baseline_catalog(_source_set(config)) if own else out)
    files = sum(len(r.descriptors) for r in sources.repositories)
    memo = DescriptorMemo.read(workspace.descriptor_memo)
    with _progress("reading", "file", files) as reading:
        result = build_catalog(
            sources.repositories,
            config.catalog,
            previous=previous,
            progress=lambda what: reading.advance(1, what),
            urls=sources.urls,
            without_descriptors=sources.without_descriptors,
            memo=memo,
        )
    result.write(out)
    memo.write(workspace.descriptor_memo)
    _print_summary(result, out, memo.served)
    return result


@main.command()
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="default: <cache-dir>/catalog.json",
)
@_OUTPUT_OPTION
@_CONFIG_OPTION
@_CACHE_OPTION
def site(
    catalog_path: Path | None, output: Path | None, config_path: Path | None, cache_dir: Path | None
) -> None:
    """The site stage alone: render catalog.json into a folder of HTML."""
    config = _load_settings(config_path, None, cache_dir)
    workspace = Workspace(config.cache_dir, output or config.output)
    source = catalog_path or workspace.catalog
    with workspace.locked("site"):
        catalog_file = _read_catalog(source)
        snapshot = (
            ContextSnapshot.read(workspace.context_snapshot) if config.context.sources else None
        )
        _run_site(config, catalog_file, workspace.output, source, context_snapshot=snapshot)


@main.command("context")
@_OUTPUT_OPTION
@_CONFIG_OPTION
@_CACHE_OPTION
def context_command(output: Path | None, config_path: Path | None, cache_dir: Path | None) -> None:
    """Refresh the context snapshot and only the Activity pages of a built portal.

    For a workflow run more often than the full build: pull requests, CI, deployments,
    on call and incidents, as the sources in backlot.yaml's context section say. Every
    other page stays as the last `backlot build` wrote it. Prints what each source cost.
    """
    config = _load_settings(config_path, None, cache_dir)
    if not config.context.sources:
        raise click.ClickException(
            "no context sources: add a context: sources: list to backlot.yaml "
            "(type: github, pagerduty or argocd)"
        )
    workspace = Workspace(config.cache_dir, output or config.output)
    with workspace.locked("context"):
        try:
            catalog_file = CatalogFile.read(workspace.catalog)
        except (OSError, ValueError):
            raise click.ClickException(
                f"{workspace.catalog}: no catalog; run 'backlot build' first"
            ) from None
        snapshot = _run_context(config, catalog_file, workspace)
        assert snapshot is not None
        result = build_activity(
            catalog_file,
            workspace.output,
            config.cache_dir,
            snapshot,
            config.site,
            published_docs=_published_docs(config, workspace.output),
            allowed_hosts=config.security.allowed_hosts,
        )
    if result.needs_build:
        raise click.ClickException(
            f"{workspace.output}: {result.needs_build}; run 'backlot build' (the snapshot "
            "is saved and the build uses it)"
        )
    if in_actions():
        rows = "".join(f"| {k} | {v} |\n" for k, v in _context_rows(snapshot))
        write_step_summary(f"### Context refresh\n\n| | |\n| --- | --- |\n{rows}\n")
    stats = result.stats
    click.echo(
        f"activity: {counted(result.pages, 'page')} → {workspace.output}: "
        f"{counted(stats.written, 'file')} written, {stats.unchanged} unchanged, "
        f"{stats.removed} removed"
    )


def _run_site(
    config: BacklotConfig,
    catalog_file: CatalogFile,
    out: Path,
    source: Path | None = None,
    context_snapshot: ContextSnapshot | None = None,
    shard: Shard | None = None,
    merge: ShardSet | None = None,
) -> SiteResult:
    published = _published_docs(config, out)

    def rendered(count: int, total: int) -> None:
        rendering.set_total(total)
        rendering.advance(count)

    with _progress("site", "entity page") as rendering:
        result = build_site(
            catalog_file,
            out,
            config.cache_dir,
            config.site,
            progress=rendered,
            docs_report=DocsReport.read(Workspace(config.cache_dir, out).docs_report)
            if published is None
            else None,
            published_docs=published,
            catalog_file=source,
            allowed_hosts=config.security.allowed_hosts,
            context_snapshot=context_snapshot,
            shard=shard,
            merge=merge,
        )
    stats = result.stats
    done = (
        f"from {counted(len(merge), 'shard')}"
        if merge
        else f"{counted(result.rendered, 'entity page')} rendered"
    )
    click.echo(
        f"{'shard ' + str(shard) + ': ' if shard else ''}{counted(result.pages, 'page')} "
        f"({done}) → {out}: {counted(stats.written, 'file')} written, "
        f"{stats.unchanged} unchanged, {stats.removed} removed"
    )
    for problem in result.problems[:20]:
        click.echo(f"  warning: {problem}")
    if len(result.problems) > 20:
        click.echo(f"  … and {len(result.problems) - 20} more")
    return result


def _published_docs(config: BacklotConfig, out: Path) -> dict[str, DocsSite] | None:
    """In external mode, the docs sites repositories published to the bucket."""
    published = None
    if config.docs.builder == "external":
        storage = config.docs.storage
        if not storage.bucket:
            raise click.ClickException("docs.builder is external: set docs.storage.bucket")
        found = published_sites(
            s3_client(config.docs.storage.endpoint_url, config.docs.storage.region),
            storage.bucket,
            storage.prefix,
            cache=Workspace(config.cache_dir, out).published_docs,
        )
        published = {
            path: DocsSite(path, site.site_name, site.built, site.repository)
            for path, site in found.items()
        }
        click.echo(
            f"docs: {counted(len(published), 'site')} published in "
            f"s3://{storage.bucket}/{storage.prefix}"
        )
    return published


def _run_context(
    config: BacklotConfig, catalog_file: CatalogFile, workspace: Workspace
) -> ContextSnapshot | None:
    """Refresh the context snapshot when sources are configured (never fails the command:
    a source that cannot be read keeps its last good facts and says why)."""
    if not config.context.sources:
        return None
    sources = open_sources(config.context, config.cache_dir)
    previous = ContextSnapshot.read(workspace.context_snapshot)
    with _progress("context") as refreshing:
        snapshot = refresh_context(
            catalog_file.entities,
            sources,
            previous,
            keep_hours=config.context.keep_hours,
            progress=lambda line: refreshing.advance(0, line),
        )
    snapshot.write(workspace.context_snapshot)
    for _, run in sorted(snapshot.runs.items()):
        click.echo(f"context: {describe_run(run)}")
    return snapshot


@main.command()
@_PATH_ARGUMENT
@_OUTPUT_OPTION
@_STRICT_OPTION
@click.option(
    "--shard",
    "shard_spec",
    metavar="I/N",
    help="build only shard I of N (docs and entity pages) for backlot merge; "
    "default output: <output>-shard-I-of-N",
)
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="with --shard: build from this catalog.json (the one every shard and the merge use)",
)
@_CONFIG_OPTION
@_CACHE_OPTION
def build(
    path: Path | None,
    output: Path | None,
    strict: bool,
    shard_spec: str | None,
    catalog_path: Path | None,
    config_path: Path | None,
    cache_dir: Path | None,
) -> None:
    """Build the portal: crawl → catalog → docs → site.

    PATH is a folder of repositories (no backlot.yaml needed); without it, the sources in
    backlot.yaml, else the bundled example organisation (and it says so).

    A document Backstage would reject, or a docs site that fails, does not stop the build:
    the portal shows the rest and says what went wrong, and the last line counts it. With
    --strict those, and every warning, fail the build (exit 1). Exits 2 when no descriptor
    is found.

    With --shard I/N, only the heavy part of shard I of N: the docs sites and entity pages
    of the entities it owns, for `backlot merge` to assemble (on N machines, from one
    catalog.json given with --catalog).
    """
    config = _load_settings(config_path, path, cache_dir, command="build")
    if shard_spec is not None:
        _build_shard(config, shard_spec, output, catalog_path, strict)
        return
    if catalog_path is not None:
        raise click.UsageError("--catalog goes with --shard (a whole build makes its own)")
    workspace = Workspace(config.cache_dir, output or config.output)
    report = None
    with workspace.locked("build"):
        with _sources(config) as sources:
            catalog_file = _run_catalog(config, workspace.catalog, workspace, sources)
            if config.docs.builder == "local":
                report = _run_docs(config, catalog_file, workspace.output / DOCS_PREFIX, sources)
            else:
                click.echo("docs: builder is external; repositories publish their own TechDocs")
        snapshot = _run_context(config, catalog_file, workspace)
        site_result = _run_site(
            config, catalog_file, workspace.output, workspace.catalog, context_snapshot=snapshot
        )
        workspace.finished(_source_set(config))
    problems = _BuildProblems.of(catalog_file, report)
    if in_actions():
        _report_to_actions(
            catalog_file,
            report,
            site_result,
            problems.verdict(strict),
            workspace.output,
            snapshot,
        )
    problems.last_line(strict)


def _build_shard(
    config: BacklotConfig,
    spec: str,
    output: Path | None,
    catalog_path: Path | None,
    strict: bool,
) -> None:
    """``backlot build --shard I/N``: sources → catalog (unless given) → the docs and
    entity pages of shard I's entities, and its shard.json, into its own folder."""
    try:
        shard = Shard.parse(spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None
    out = output or config.output.with_name(
        f"{config.output.name}-shard-{shard.index}-of-{shard.count}"
    )
    workspace = Workspace(config.cache_dir, out)
    report = None
    with workspace.locked(f"build --shard {shard}"):
        with _sources(config) as sources:
            if catalog_path is not None:
                catalog_file, source = _read_catalog(catalog_path), catalog_path
            else:
                catalog_file = _run_catalog(config, workspace.catalog, workspace, sources)
                source = workspace.catalog
            if config.docs.builder == "local":
                report = _run_docs(
                    config, catalog_file, out / DOCS_PREFIX, sources, only=shard.owns
                )
        # Whether a page has an Activity view depends on annotations alone: the shard
        # asks no context source; the merge refreshes them.
        outline = (
            outline_context(catalog_file.entities, open_sources(config.context))
            if config.context.sources
            else None
        )
        _run_site(config, catalog_file, out, source, context_snapshot=outline, shard=shard)
        if catalog_path is None:
            workspace.finished(_source_set(config))
    problems = _BuildProblems.of(catalog_file, report)
    problems.last_line(strict)


def _read_catalog(path: Path) -> CatalogFile:
    """A catalog.json given on the command line, or one clear error."""
    try:
        return CatalogFile.read(path)
    except FileNotFoundError:
        raise click.ClickException(f"{path}: no catalog; run 'backlot catalog' first") from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: not a Backlot catalog.json ({exc})") from None


@main.command()
@click.argument("shards", nargs=-1, type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="the catalog.json the shards were built from (default: <cache-dir>/catalog.json)",
)
@_OUTPUT_OPTION
@_STRICT_OPTION
@_CONFIG_OPTION
@_CACHE_OPTION
def merge(
    shards: tuple[Path, ...],
    catalog_path: Path | None,
    output: Path | None,
    strict: bool,
    config_path: Path | None,
    cache_dir: Path | None,
) -> None:
    """Assemble the portal from SHARDS, the folders of `backlot build --shard I/N`.

    Every shard of the set must be there, built from the same catalog.json with the same
    settings and Backlot. Their docs sites and entity pages are copied in (only files
    whose bytes differ are written), the context is refreshed, and the rest of the portal
    (lists, badges, search) is rendered: the same bytes one `backlot build` gives. Without
    SHARDS, the folders <output>-shard-*-of-* beside the output.
    """
    config = _load_settings(config_path, None, cache_dir)
    workspace = Workspace(config.cache_dir, output or config.output)
    out = workspace.output
    folders = shards or tuple(
        sorted(p for p in out.parent.glob(f"{out.name}-shard-*-of-*") if p.is_dir())
    )
    if not folders:
        raise click.UsageError(f"no shard folders given, and none named {out.name}-shard-*-of-*")
    source = catalog_path or workspace.catalog
    with workspace.locked("merge"):
        catalog_file = _read_catalog(source)
        try:
            # The set is checked before anything is written (and their settings by the site
            # stage, before it writes).
            keys = [EntityRef.of(e).key for e in catalog_file.entities]
            checked = read_shards(folders, file_digest(source), __version__, keys)
        except ShardMismatch as exc:
            raise click.ClickException(str(exc)) from None
        report = None
        if config.docs.builder == "local":
            report = DocsReport.merged([manifest.docs for _, manifest, _ in checked])
            try:
                copied, unchanged = merge_docs_sites(
                    [(folder / DOCS_PREFIX, manifest.docs) for folder, manifest, _ in checked],
                    out / DOCS_PREFIX,
                    config.cache_dir,
                )
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            report.write(workspace.docs_report)
            click.echo(
                f"docs: {counted(copied + unchanged, 'site')} from the shards → "
                f"{out / DOCS_PREFIX}: {copied} copied, {unchanged} unchanged"
            )
        snapshot = _run_context(config, catalog_file, workspace)
        try:
            site_result = _run_site(
                config, catalog_file, out, source, context_snapshot=snapshot, merge=checked
            )
        except ShardMismatch as exc:
            raise click.ClickException(str(exc)) from None
    problems = _BuildProblems.of(catalog_file, report)
    if in_actions():
        _report_to_actions(
            catalog_file, report, site_result, problems.verdict(strict), out, snapshot
        )
    problems.last_line(strict)


@dataclass(frozen=True)
class _BuildProblems:
    """What went wrong in a build, counted for its last line and the run's summary."""

    catalog_errors: int
    rejected: int
    catalog_warnings: int
    docs_failed: int
    docs_warnings: int

    @classmethod
    def of(cls, catalog_file: CatalogFile, report: DocsReport | None) -> _BuildProblems:
        s = catalog_file.summary
        return cls(
            catalog_errors=s.errors,
            rejected=s.rejected,
            catalog_warnings=s.warnings,
            docs_failed=len(report.failed()) if report is not None else 0,
            docs_warnings=len(_docs_warnings(report)) if report is not None else 0,
        )

    def any(self) -> bool:
        return bool(
            self.catalog_errors + self.catalog_warnings + self.docs_failed + self.docs_warnings
        )

    def describe(self) -> str:
        parts = []
        if self.catalog_errors:
            parts.append(
                f"{counted(self.catalog_errors, 'catalog error')} "
                f"({counted(self.rejected, 'rejected document')})"
            )
        if self.catalog_warnings:
            parts.append(counted(self.catalog_warnings, "catalog warning"))
        if self.docs_failed:
            parts.append(f"{counted(self.docs_failed, 'docs site')} failed")
        if self.docs_warnings:
            parts.append(counted(self.docs_warnings, "docs warning"))
        return ", ".join(parts)

    def last_line(self, strict: bool) -> None:
        """The log's last line: what went wrong, counted (on stderr, and exit 1, when it
        fails the build)."""
        failed = strict and self.any()
        click.echo(self.verdict(strict), err=failed)
        if failed:
            sys.exit(1)

    def verdict(self, strict: bool) -> str:
        if not self.any():
            return "build finished: no problems"
        if strict:
            return f"build failed (--strict): {self.describe()}"
        return (
            f"build finished with problems: {self.describe()}; the portal shows them, and "
            "--strict fails the build on them"
        )


def _docs_warnings(report: DocsReport) -> list[tuple[str, DocsProblem]]:
    """Every docs warning with its entity, in the report's order."""
    return [(ref, w) for ref, site in report.sites.items() for w in site.warnings]


def _report_to_actions(
    catalog_file: CatalogFile,
    report: DocsReport | None,
    site_result: SiteResult,
    verdict: str,
    out: Path,
    snapshot: ContextSnapshot | None = None,
) -> None:
    """Findings and docs problems as annotations on the run, and its summary: counts,
    health, problems, what each context source cost, and the verdict the log ends with."""
    docs_failures = report.failed() if report is not None else {}
    docs_warnings = _docs_warnings(report) if report is not None else []
    annotated = [
        *catalog_file.findings,
        *(
            Finding(
                file=w.file or ref,
                line=w.line or 1,
                rule=w.rule,
                severity="warning",
                message=f"{ref}: {w.message}",
            )
            for ref, w in docs_warnings
        ),
    ]
    for line in workflow_annotations(annotated, docs_failures):
        click.echo(line)
    s = catalog_file.summary
    counts = [
        ("Result", verdict),
        ("Entities", f"{s.entities} ({', '.join(f'{n} {k}' for k, n in s.by_kind.items())})"),
        ("Descriptor files", str(s.files)),
        ("Rejected documents", str(s.rejected)),
        ("Errors / warnings", f"{s.errors} / {s.warnings}"),
        ("Unresolved references", str(s.unresolved_refs)),
    ]
    if report is not None:
        counts.append(
            (
                "Docs sites",
                f"{report.count('built')} built, {report.count('unchanged')} unchanged, "
                f"{len(docs_failures)} failed; {counted(len(docs_warnings), 'warning')}",
            )
        )
    stats = site_result.stats
    counts.append(
        (
            "Pages",
            f"{site_result.pages}: {counted(stats.written, 'file')} written, "
            f"{stats.removed} removed",
        )
    )
    counts += _context_rows(snapshot)
    problems = [f.format_text() for f in catalog_file.findings if f.severity == "error"]
    problems += [f"{ref}: error: {p.format_text()}" for ref, p in docs_failures.items()]
    problems += [f"{ref}: warning: {w.format_text()}" for ref, w in docs_warnings]
    problems += [f.format_text() for f in catalog_file.findings if f.severity == "warning"]
    # The Health page's own figures (with the docs that were built), else the catalog's.
    health = published_health(out) or catalog_health(catalog_file)
    write_step_summary(build_summary(counts, health, problems))


def _context_rows(snapshot: ContextSnapshot | None) -> list[tuple[str, str]]:
    """A row of the run's summary per context source: what its refresh learnt and cost."""
    if snapshot is None:
        return []
    return [("Context", describe_run(run)) for _, run in sorted(snapshot.runs.items())]


@main.group()
def docs() -> None:
    """TechDocs: build every entity's docs in Backstage's storage layout."""


@docs.command("build")
@_PATH_ARGUMENT
@click.option(
    "-o",
    "--out",
    "output",
    type=click.Path(path_type=Path, file_okay=False),
    help="default: <site>/docs (the layout is <namespace>/<kind>/<name>/)",
)
@_CONFIG_OPTION
@_CACHE_OPTION
def docs_build(
    path: Path | None, output: Path | None, config_path: Path | None, cache_dir: Path | None
) -> None:
    """Build the TechDocs of every entity with a backstage.io/techdocs-ref annotation.

    Reads the catalog of PATH (a folder of repositories) or of backlot.yaml's sources.
    A site whose inputs did not change is not built again.
    """
    config = _load_settings(config_path, path, cache_dir, command="docs build")
    workspace = Workspace(config.cache_dir, output or config.output / DOCS_PREFIX)
    with workspace.locked("docs build"):
        with _sources(config) as sources:
            catalog_file = _run_catalog(config, workspace.catalog, workspace, sources)
            report = _run_docs(config, catalog_file, workspace.output, sources)
        workspace.finished(_source_set(config))
    if report.failed():
        sys.exit(1)


@docs.command("publish")
@click.argument(
    "path", required=False, default=".", type=click.Path(path_type=Path, file_okay=False)
)
@click.option("--bucket", help="default: docs.storage.bucket in backlot.yaml")
@click.option("--prefix", help="key prefix of the TechDocs layout, e.g. techdocs/")
@click.option("--endpoint-url", help="an S3-compatible endpoint instead of AWS")
@_CONFIG_OPTION
@_CACHE_OPTION
def docs_publish(
    path: Path,
    bucket: str | None,
    prefix: str | None,
    endpoint_url: str | None,
    config_path: Path | None,
    cache_dir: Path | None,
) -> None:
    """Build this repository's TechDocs and publish them (external mode), like
    techdocs-cli publish: <prefix><namespace>/<kind>/<name>/... in the bucket.

    Only changed files are uploaded; files no longer built are deleted, below each
    entity's own prefix only. Credentials come from the usual AWS settings.
    """
    config = _load_settings(config_path, path, cache_dir)
    storage = config.docs.storage.model_copy(
        update={
            k: v
            for k, v in {"bucket": bucket, "prefix": prefix, "endpoint_url": endpoint_url}.items()
            if v is not None
        }
    )
    target_bucket = storage.bucket
    if not target_bucket:
        raise click.ClickException("no bucket: pass --bucket or set docs.storage.bucket")
    if storage.prefix and not storage.prefix.endswith("/"):
        storage = storage.model_copy(update={"prefix": storage.prefix + "/"})
    config = config.model_copy(update={"docs": config.docs.model_copy(update={"storage": storage})})
    workspace = Workspace(config.cache_dir, config.cache_dir / "docs-publish")
    with workspace.locked("docs publish", output=False):
        built = workspace.docs_publish
        with _sources(config) as sources:
            catalog_file = _run_catalog(config, workspace.catalog, workspace, sources)
            report = _run_docs(
                config, catalog_file, built, sources, publisher=_publisher(), portal=False
            )
        client = s3_client(config.docs.storage.endpoint_url, config.docs.storage.region)
        for ref, key_prefix, synced in publish_docs_sites(
            client, report, built, target_bucket, config.docs.storage.prefix
        ):
            click.echo(
                f"{ref} → s3://{target_bucket}/{key_prefix}: {len(synced.uploaded)} uploaded, "
                f"{synced.unchanged} unchanged, {len(synced.deleted)} deleted"
            )
        workspace.finished(_source_set(config))
    sys.exit(1 if report.failed() else 0)


@main.command("publish")
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--bucket", help="default: publish.bucket in backlot.yaml")
@click.option("--prefix", help="key prefix of the portal, e.g. portal/ (default: publish.prefix)")
@click.option("--distribution-id", help="CloudFront distribution to invalidate")
@click.option("--endpoint-url", help="an S3-compatible endpoint instead of AWS")
@click.option("--dry-run", is_flag=True, help="print what would be uploaded and deleted")
@click.option("--force", is_flag=True, help="publish even when a guard refuses")
@_CONFIG_OPTION
@_CACHE_OPTION
def publish_command(
    directory: Path | None,
    bucket: str | None,
    prefix: str | None,
    distribution_id: str | None,
    endpoint_url: str | None,
    dry_run: bool,
    force: bool,
    config_path: Path | None,
    cache_dir: Path | None,
) -> None:
    """Publish the built portal (default folder: site) to S3, by content hash.

    Uploads only files whose content changed since the last publish (a manifest in the
    bucket says what was published), assets before pages; deletes only objects an earlier
    publish wrote; invalidates only changed paths in CloudFront. Refuses to delete most
    of the portal, or to publish a catalog that shrank, unless --force. In local-builder
    mode the docs go to docs.storage.prefix (Backstage's layout), served at /docs/.
    """
    config = _load_settings(config_path, None, cache_dir)
    overrides = {
        "bucket": bucket,
        "prefix": prefix,
        "distribution_id": distribution_id,
        "endpoint_url": endpoint_url,
    }
    try:
        settings = PublishSettings.model_validate(
            {**config.publish.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
        )
    except ValueError as exc:
        raise click.ClickException(f"publish: {exc}") from None
    if not settings.bucket:
        raise click.ClickException("no bucket: pass --bucket or set publish.bucket")
    folder = directory or config.output
    target = _portal_target(config, settings, settings.bucket)
    workspace = Workspace(config.cache_dir, folder)
    with workspace.locked("publish"):
        if workspace.build_unfinished() and not force:
            raise click.ClickException(
                f"the last build into {folder} did not finish ({config.cache_dir} says so): "
                "build again before publishing, or --force"
            )
        client = s3_client(settings.endpoint_url, settings.region, settings.workers)
        try:
            plan = plan_publish(
                client,
                folder,
                target,
                Guards(settings.max_delete_share, settings.max_entity_loss_share),
            )
            for line in plan.describe(dry_run):
                click.echo(line)
            if dry_run:
                click.echo("dry run: nothing was written")
                return
            plan.check(force)
            with _progress("uploading", "file", len(plan.uploads)) as uploading:
                result = publish_portal(
                    client,
                    plan,
                    workers=settings.workers,
                    cloudfront=(
                        cloudfront_client(settings.endpoint_url)
                        if settings.distribution_id
                        else None
                    ),
                    distribution_id=settings.distribution_id,
                    progress=lambda key: uploading.advance(1, key),
                )
        except PublishError as exc:
            raise click.ClickException(str(exc)) from None
    lines = result.summary(plan)
    for line in lines:
        click.echo(line)
    if result.cdn_warning:
        click.echo(f"warning: {result.cdn_warning}", err=True)
        lines.append(f"warning: {result.cdn_warning}")
    write_step_summary("### Publish\n\n" + "".join(f"- {line}\n" for line in lines) + "\n")


def _portal_target(config: BacklotConfig, settings: PublishSettings, bucket: str) -> PortalTarget:
    """Where the portal's keys go, and the docs': one copy of each docs site, at the
    TechDocs prefix (the CDN maps /docs/ there)."""
    storage = config.docs.storage
    docs_prefix = (
        storage.prefix
        if not storage.prefix or storage.prefix.endswith("/")
        else (storage.prefix + "/")
    )
    if storage.bucket and storage.bucket != bucket:
        raise click.ClickException(
            f"docs.storage.bucket ({storage.bucket}) is not the portal's bucket ({bucket}): "
            "the CDN serves /docs/ from the portal's bucket, so keep the TechDocs there"
        )
    if config.docs.builder == "external":
        return PortalTarget(bucket, settings.prefix, None, docs_prefix if storage.bucket else None)
    return PortalTarget(
        bucket, settings.prefix, docs_prefix if storage.bucket else settings.prefix + DOCS_PREFIX
    )


def _publisher() -> str | None:
    """In GitHub Actions, the repository whose job publishes (the one the bucket role was
    granted to), as its web address; elsewhere each site's own repository is recorded."""
    server, slug = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    if not (server and slug):
        return None
    return repository_identity(f"{server.rstrip('/')}/{slug}", slug)


def _run_docs(
    config: BacklotConfig,
    catalog_file: CatalogFile,
    out: Path,
    sources: OpenedSources,
    *,
    publisher: str | None = None,
    portal: bool = True,
    only: Callable[[str], bool] | None = None,
) -> DocsReport:
    """``portal``: the sites are the portal's own (its header, links that work from disk);
    False builds them for Backstage's reader (external mode). ``only``: a shard's
    entities (by key), the only ones built."""
    # Every entity with a techdocs-ref is one site to build (or one that cannot be).
    expected = sum(
        1
        for e in catalog_file.entities
        if isinstance(((e.get("metadata") or {}).get("annotations") or {}).get(TECHDOCS_REF), str)
        and (only is None or only(EntityRef.of(e).key))
    )
    with _progress("docs", "site", expected) as building:
        report = run_docs_stage(
            catalog_file,
            sources.repositories,
            out,
            config.cache_dir,
            settings=config.docs,
            allowed_hosts=config.security.allowed_hosts,
            link_back=portal_link_from_docs if portal else None,
            site_title=config.site.title,
            publisher=publisher,
            progress=lambda site: building.advance(1, site.entity_ref),
            urls=sources.urls,
            only=only,
        )
    failed = report.failed()
    total = len(report.sites) + len(report.unresolved)
    warned = _docs_warnings(report)
    click.echo(
        f"docs: {counted(total, 'entity')} with docs → {out}: {report.count('built')} built, "
        f"{report.count('unchanged')} unchanged, {len(failed)} failed; "
        f"{counted(len(warned), 'warning')}"
    )
    for ref, problem in failed.items():
        click.echo(f"  error: {ref}: {problem.format_text()}")
    for ref, warning in warned[:20]:
        click.echo(f"  warning: {ref}: {warning.format_text()}")
    if len(warned) > 20:
        click.echo(
            f"  … and {counted(len(warned) - 20, 'more warning')} in "
            f"{Workspace(config.cache_dir, out).docs_report}"
        )
    return report


@main.group("org")
def org_group() -> None:
    """Org structure from identity providers: GitHub teams, Entra ID, Okta, Google."""


@org_group.command("sync")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--source",
    "chosen",
    help="which org source, by its label (github-teams:acme) or type, when several",
)
@click.option("--force", is_flag=True, help="write even when the org shrank past max_shrink")
@_CONFIG_OPTION
def org_sync(directory: Path, chosen: str | None, force: bool, config_path: Path | None) -> None:
    """Write an identity provider's Groups and Users into DIR, an org repository.

    One file per group (groups/NAME.yaml) and per user (users/NAME.yaml), and a
    catalog-info.yaml Location of them unless DIR has its own, in a stable
    order with stable bytes: only files whose content changed are rewritten, and only
    files an earlier sync wrote are deleted, so a scheduled workflow can open a pull
    request with exactly the difference (.github/workflows/org-sync.yml). The sources are
    backlot.yaml's org: sources (else the identity providers in catalog: sources). A sync
    that finds far fewer groups or users than the last one (max_shrink) refuses unless
    --force. Exits 1 when the provider cannot be read or the guard refuses.
    """
    config = _load_settings(config_path, None)
    org_types = (EntraSource, GitHubTeamsSource, OktaSource, GoogleWorkspaceSource)
    candidates: list[OrgSource] = list(config.org.sources) or [
        s for s in config.catalog.sources if isinstance(s, org_types)
    ]
    sources = [s for s in candidates if chosen is None or chosen in (s.type, provider_label(s))]
    if not sources:
        raise click.ClickException(
            "no identity provider to sync: add an org: sources: list to backlot.yaml "
            f"(type: {', '.join(ORG_SOURCE_TYPES)})"
            + (f" matching --source {chosen}" if chosen else "")
        )
    if len(sources) > 1:
        labels = ", ".join(provider_label(s) for s in sources)
        raise click.ClickException(f"several org sources ({labels}): choose one with --source")
    settings = sources[0]
    label = provider_label(settings)
    try:
        provider = open_provider(settings)
        with _progress(f"reading {label}"):
            found = provider.fetch()
    except OrgSourceError as exc:
        raise click.ClickException(f"{label}: {exc}") from None
    files = org_files(found)
    # The repository's index: written when there is none, or when a sync wrote it.
    ours = last_sync(directory).get("files")
    if not (directory / ORG_INDEX).exists() or (isinstance(ours, list) and ORG_INDEX in ours):
        files[ORG_INDEX] = org_location(found)
    result = sync_folder(
        directory,
        files,
        found.source,
        max_shrink=settings.max_shrink,
        force=force or settings.force,
    )
    for note in found.notes[:20]:
        click.echo(f"  note: {note}")
    if result.refused:
        raise click.ClickException(f"{label}: {result.refused}")
    for relpath in result.written:
        click.echo(f"  written: {relpath}")
    for relpath in result.removed:
        click.echo(f"  removed: {relpath}")
    line = f"{label} → {directory}: {result.summary()} ({counted(found.requests, 'request')})"
    click.echo(line)
    if in_actions():
        changes = "".join(f"- `{p}` written\n" for p in result.written)
        changes += "".join(f"- `{p}` removed\n" for p in result.removed)
        write_step_summary(f"### Org sync\n\n{line}\n\n{changes or 'No change.'}\n")


@main.group()
def deploy() -> None:
    """What deploy/portal.yaml needs from this portal's settings (docs/deploy.md)."""


main.add_command(scaffold)
main.add_command(workflows)


@deploy.command("csp")
@_CONFIG_OPTION
def deploy_csp(config_path: Path | None) -> None:
    """Print the Content-Security-Policy header for the CDN (the template's
    ContentSecurityPolicy parameter): the pages' own policy, with security.allowed_hosts."""
    config = _load_settings(config_path, None)
    click.echo(content_security_policy(config.security.allowed_hosts, header=True))


@deploy.command("edge-auth")
@click.option("--issuer", required=True, help="your IdP's OpenID Connect issuer URL")
@click.option("--client-id", required=True, help="the portal's client (application) id")
@click.option(
    "--client-secret-env",
    default="BACKLOT_OIDC_CLIENT_SECRET",
    show_default=True,
    help="environment variable holding the client secret (never an argument: shell history)",
)
@click.option(
    "--token-endpoint-auth",
    type=click.Choice(["client_secret_basic", "client_secret_post", "none"]),
    help="default: client_secret_basic with a secret, none (PKCE only) without",
)
@click.option("--allow-domain", "domains", multiple=True, help="e-mail domain allowed in")
@click.option("--allow-group", "groups", multiple=True, help="group (claim value) allowed in")
@click.option(
    "--public-path",
    "public_paths",
    multiple=True,
    help="also served without sign-in, e.g. /catalog.json (a folder ends with /)",
)
@click.option(
    "--private-badges",
    is_flag=True,
    help="sign in for /badges/ too (by default README badges load without a session)",
)
@click.option("--groups-claim", default="groups", show_default=True)
@click.option("--scope", default="openid email profile", show_default=True)
@click.option(
    "--hmac-key-env",
    default="BACKLOT_EDGE_AUTH_KEY",
    show_default=True,
    help="environment variable with the state-signing key; unset: a new random key",
)
@click.option("--portal-prefix", help="the stack's PortalPrefix (default: publish.prefix)")
@click.option("--docs-prefix", help="the stack's DocsPrefix (default: where docs publish)")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("edge-auth.zip"),
    show_default=True,
)
@_CONFIG_OPTION
def deploy_edge_auth(
    issuer: str,
    client_id: str,
    client_secret_env: str,
    token_endpoint_auth: str | None,
    domains: tuple[str, ...],
    groups: tuple[str, ...],
    public_paths: tuple[str, ...],
    private_badges: bool,
    groups_claim: str,
    scope: str,
    hmac_key_env: str,
    portal_prefix: str | None,
    docs_prefix: str | None,
    output: Path,
    config_path: Path | None,
) -> None:
    """Build the Lambda@Edge sign-in bundle for a private portal (docs/deploy.md, section 8):
    deploy/edge-auth with your IdP's settings and this portal's path mapping, as a zip."""
    config = _load_settings(config_path, None)
    target = _portal_target(
        config, config.publish, config.publish.bucket or config.docs.storage.bucket or ""
    )
    secret = os.environ.get(client_secret_env, "")
    settings: dict[str, Any] = {
        "issuer": issuer,
        "client_id": client_id,
        "client_secret": secret,
        "token_endpoint_auth": token_endpoint_auth or ("client_secret_basic" if secret else "none"),
        "scope": scope,
        "allowed_email_domains": domains,
        "allowed_groups": groups,
        "public_paths": public_paths,
        "public_badges": not private_badges,
        "groups_claim": groups_claim,
        "portal_prefix": target.prefix if portal_prefix is None else portal_prefix,
        "docs_prefix": (
            (target.docs_prefix or target.foreign_prefix or target.prefix + DOCS_PREFIX)
            if docs_prefix is None
            else docs_prefix
        ),
    }
    if os.environ.get(hmac_key_env):
        settings["hmac_key"] = os.environ[hmac_key_env]
    try:
        bundle = EdgeAuthConfig(**settings)
    except ValidationError as exc:
        raise click.ClickException(f"edge-auth settings: {settings_problems(exc)}") from None
    digest = hashlib.sha256(write_edge_auth_bundle(bundle, output).read_bytes()).digest()
    click.echo(
        f"Wrote {output}: sign-in with {bundle.issuer} (client {bundle.client_id}, "
        f"{bundle.token_endpoint_auth}); paths mapped to '{bundle.portal_prefix}' and "
        f"'{bundle.docs_prefix}'\n"
        f"  CodeSha256: {base64.b64encode(digest).decode()}\n"
        f"  CodeKey:    backlot/edge-auth-{digest.hex()[:12]}.zip"
    )
    if not domains and not groups:
        click.echo(
            "note: anyone your IdP signs in for this client may read the portal; "
            "--allow-domain or --allow-group narrow it",
            err=True,
        )
    if secret:
        click.echo(
            "note: the zip holds the client secret (Lambda@Edge has no environment): "
            "keep it out of artifacts and limit lambda:GetFunction",
            err=True,
        )


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0: a free one"
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="the address to listen on; 0.0.0.0 lets other machines read the preview",
)
@_CONFIG_OPTION
def serve(directory: Path | None, port: int, host: str, config_path: Path | None) -> None:
    """Preview the built portal on http://HOST:PORT/ (default folder: site).

    Exits 2 when the port is in use or the host is not this machine's.
    """
    config = _load_settings(config_path, None)
    folder = directory or config.output
    if not (folder / "index.html").is_file():
        raise click.ClickException(f"{folder}: no portal here; run 'backlot build' first")
    try:
        serve_folder(
            folder,
            port,
            host,
            csp=content_security_policy(config.security.allowed_hosts, header=True),
        )
    except CannotListen as exc:
        raise _InputProblem(str(exc)) from None


@main.command()
@click.argument("ref")
@click.option(
    "--site",
    "site_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="the built portal (default: output in backlot.yaml, else site)",
)
@click.option(
    "--base-url",
    help="the portal's public address, e.g. https://portal.acme.com/ (default: site.base_url)",
)
@_CONFIG_OPTION
def badge(ref: str, site_dir: Path | None, base_url: str | None, config_path: Path | None) -> None:
    """Print the Markdown for REF's badges in a README, each linked to REF's page in the
    portal (the docs badge to its docs, when they are built).

    REF is an entity reference as the portal shows it (component:default/orders-service;
    the kind defaults to component, the namespace to default). The badges are served below
    /badges/, without sign-in even on a private portal (docs/deploy.md, section 8).
    Exits 2 when REF is not in the portal's catalog.
    """
    config = _load_settings(config_path, None)
    folder = site_dir or config.output
    prefix = config.site.base_url
    if base_url is not None:
        try:
            prefix = SiteSettings(base_url=base_url).base_url
        except ValidationError as exc:
            raise _InputProblem(f"--base-url: {settings_problems(exc)}") from None
    catalog_path = folder / "catalog.json"
    if not catalog_path.is_file():
        raise _InputProblem(f"{folder}: no portal here; run 'backlot build' first, or give --site")
    try:
        wanted = parse_ref(ref, default_kind="component").key
        keys = sorted(CatalogFile.read(catalog_path).sources)
    except RefError as exc:
        raise _InputProblem(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{catalog_path}: cannot be read: {exc}") from None
    except ValueError:
        raise click.ClickException(f"{catalog_path}: not a catalog this version reads") from None
    if wanted not in keys:
        # By name: every key shares "component:default/", which would make all look alike.
        names: dict[str, list[str]] = {}
        for key in keys:
            names.setdefault(key.rpartition("/")[2], []).append(key)
        kind = wanted.partition(":")[0]
        close = [
            key
            for name in difflib.get_close_matches(wanted.rpartition("/")[2], names, n=3)
            for key in sorted(names[name], key=lambda k: (k.partition(":")[0] != kind, k))
        ]
        hint = (
            f"; did you mean {' or '.join(close[:3])}?"
            if close
            else " (references look like component:default/orders-service)"
        )
        raise _InputProblem(f"{wanted} is not in the portal's catalog ({catalog_path}){hint}")
    lines = readme_badges(folder, wanted, prefix or "")
    if not lines:
        raise click.ClickException(
            f"{folder} has no badges for {wanted}: it was built by an earlier version; "
            "build it again"
        )
    click.echo("\n".join(lines))
    if not prefix:
        click.echo(
            "note: no --base-url and no site.base_url in backlot.yaml, so the links are "
            "relative to the portal's root; a README on GitHub would resolve them against "
            "the repository. Give the portal's address: --base-url https://portal.acme.com/",
            err=True,
        )


def _read_previous(path: Path) -> dict[str, EntitySource] | None:
    """The previous build's sources only: the rest is freed before this build starts, so
    the two catalogs are never in memory together."""
    if not path.is_file():
        return None
    try:
        return CatalogFile.read_sources(path)
    except (OSError, ValueError):
        click.echo(f"note: {path} is not a catalog this version reads; not compared", err=True)
        return None


def _print_summary(result: CatalogFile, out: Path, unchanged: int = 0) -> None:
    s = result.summary
    kinds = ", ".join(f"{n} {k}" for k, n in s.by_kind.items()) or "none"
    files = counted(s.files, "file") + (
        f" ({unchanged} unchanged since the last build)" if unchanged else ""
    )
    click.echo(f"{counted(s.entities, 'entity')} ({kinds}) from {files} → {out}")
    click.echo(
        f"{counted(s.rejected, 'rejected document')}, {counted(s.errors, 'error')}, "
        f"{counted(s.warnings, 'warning')} ({counted(s.orphans, 'orphan')}, "
        f"{counted(s.unresolved_refs, 'unresolved reference')}, "
        f"{counted(s.conflicts, 'conflict')}, {s.disappeared} disappeared)"
    )
    for finding in result.findings[:20]:
        click.echo(f"  {finding.format_text()}")
    if len(result.findings) > 20:
        click.echo(f"  … and {len(result.findings) - 20} more in {out}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github", "json"]),
    default="text",
    show_default=True,
    help="github: workflow annotations; json: for machines",
)
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="an organisation's catalog.json: references to its entities resolve",
)
@click.option("--strict", is_flag=True, help="warnings fail too")
@click.option(
    "--glob",
    "globs",
    multiple=True,
    help=f"descriptor names to find in folders (default: {', '.join(DEFAULT_DESCRIPTOR_GLOBS)})",
)
def validate(
    paths: tuple[Path, ...],
    output_format: str,
    catalog_path: Path | None,
    strict: bool,
    globs: tuple[str, ...],
) -> None:
    """Check descriptor files, or every descriptor in folders, as Backstage would.

    Exits 1 when a document is one Backstage would reject (with --strict, also on
    warnings: unresolved references, orphans, missing Location targets), and 2 when the
    folders hold no descriptor at all (a mistyped path must not pass a check).
    """
    names = globs or DEFAULT_DESCRIPTOR_GLOBS
    repositories = repositories_to_validate(paths, names)
    if not any(r.descriptors for r in repositories):
        raise _InputProblem(
            "no descriptors found: searched "
            + ", ".join(str(p) for p in paths)
            + f" and each folder in {'it' if len(paths) == 1 else 'them'}, for "
            + " or ".join(names)
            + ". Check the path, or the file names (--glob)"
        )
    known: dict[str, EntitySource] = {}
    if catalog_path is not None:
        try:
            known = CatalogFile.read(catalog_path).sources
        except (OSError, ValueError) as exc:
            raise click.ClickException(
                f"{catalog_path}: not a Backlot catalog.json ({exc})"
            ) from None
    result = build_catalog(repositories, known=known)
    findings = result.findings
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "summary": result.summary.model_dump(by_alias=True),
                    "findings": [f.model_dump(by_alias=True) for f in findings],
                },
                indent=1,
            )
        )
    elif output_format == "github":
        for finding in findings:
            click.echo(finding.format_github())
    else:
        for finding in findings:
            click.echo(finding.format_text())
        s = result.summary
        click.echo(
            f"{counted(s.documents, 'document')} in {counted(s.files, 'file')}: "
            f"{s.entities} accepted, {s.rejected} rejected; {counted(s.errors, 'error')}, "
            f"{counted(s.warnings, 'warning')}",
            err=True,
        )
    failed = any(f.severity == "error" for f in findings) or (strict and bool(findings))
    sys.exit(1 if failed else 0)


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="write here instead of standard output",
)
def schema(output: Path | None) -> None:
    """Write a JSON Schema of descriptors for editors' YAML language servers.

    Point an editor at it with a first line such as
    ``# yaml-language-server: $schema=./catalog-info.schema.json``.
    """
    text = json.dumps(descriptor_json_schema(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
