"""The site stage: ``catalog.json`` in, a folder of HTML out.

Like Pelican's run: read everything (the catalog, the docs sites, what changed since the
last build) into one frozen context, then let each page family write its pages. Files a
previous build wrote and this one did not are removed, and the state that says the pages
are done is written last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import SiteSettings
from ..context import ContextSnapshot
from ..csp import content_security_policy
from ..model import (
    DOCS_PREFIX,
    CatalogFile,
    DocsReport,
    Shard,
    ShardManifest,
    entity_page,
    file_digest,
)
from ..workspace import Workspace
from ._activity import ActivityPages, activity_keys, is_activity_file
from ._api_problems import api_definitions, known_api_problems
from ._badges import Badges
from ._build_files import AboutPage, CatalogJson, NotFoundPage, StaticAssets
from ._changes import changed_times, dump_json, inputs_digest, load_json, within
from ._context import SiteContext, build_time, environment
from ._docs_index import DocsSite, attach_docs, read_docs_sites
from ._entity_pages import EntityPages
from ._health_page import HealthPage
from ._list_pages import CatalogIndex, DocsIndex, HomePage, ProblemsPage
from ._model import SiteModel
from ._output import PageFamily, PageOutput, SiteResult
from ._ownership import pages_aggregating, pages_under
from ._pictures import Pictures
from ._search import SearchIndex, part_count
from ._shard_pages import ShardPages, ShardSet, check_inputs
from ._templates import TemplatesPage
from ._writer import SiteWriter, remove_stale

__all__ = ["SiteResult", "build_activity", "build_site"]


def build_site(
    catalog: CatalogFile,
    out: Path,
    cache_dir: Path,
    settings: SiteSettings | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    docs_report: DocsReport | None = None,
    published_docs: dict[str, DocsSite] | None = None,
    catalog_file: Path | None = None,
    allowed_hosts: tuple[str, ...] = (),
    context_snapshot: ContextSnapshot | None = None,
    shard: Shard | None = None,
    merge: ShardSet | None = None,
) -> SiteResult:
    """Render the portal into ``out``. TechDocs built into ``out/docs``, or published to
    the bucket by repositories (``published_docs``, by storage path), are linked to their
    entities when they came from the entity's own repository; ``docs_report`` (the docs
    stage's) says which entities' docs failed and why.
    ``catalog_file``, when given, is the catalog.json ``catalog`` came from.

    Past one machine: with ``shard``, only the entity pages of the entities that shard
    owns, and its ``shard.json`` (``catalog_file`` needed: the shards and the merge must
    be made from the same one); with ``merge`` (every shard of a set, checked against
    this catalog by ``read_shards``), the portal, its entity pages copied from the shards
    (ShardMismatch, before anything is written, when they were rendered with other
    settings)."""
    settings = settings or SiteSettings()
    report = docs_report or DocsReport()
    read = _read(
        catalog, out, cache_dir, settings, report, published_docs, allowed_hosts, context_snapshot
    )
    model, workspace, seeds = read.model, read.workspace, read.seeds
    catalog_digest = ""
    if shard is not None:
        if catalog_file is None:
            raise ValueError("a shard is built from a catalog.json file")
        catalog_digest = file_digest(catalog_file)
    if merge:
        check_inputs(merge, read.inputs)
    radius = max(settings.graph_depth, 2)
    if seeds is None:
        dirty = set(model.entities)
    else:
        dirty = within(model, seeds, radius)
        dirty |= pages_aggregating(model, seeds)
        dirty |= pages_under(model, seeds)
    # progress(rendered, total): the entity pages this build renders (EntityPages keeps
    # the others), announced before the first is rendered.
    own = shard.owns if shard is not None else None
    pages = (
        0
        if merge
        else sum(
            1
            for k in model.entities
            if (own is None or own(k)) and (k in dirty or not (out / entity_page(k)).is_file())
        )
    )
    if progress is not None:
        progress(0, pages)
    # Before any page is written: which pages this build renews. A build killed halfway
    # leaves this behind, and the next one renders those pages again; and what the list
    # pages were rendered from is forgotten until this build finishes, since it may have
    # rewritten some of them.
    last = load_json(workspace.site_state)
    remembered = last.pop("pages", None)
    dump_json(
        workspace.site_state,
        {**last, "pending": sorted(dirty) if seeds is not None else "all"},
    )
    context = read.context(frozenset(dirty), catalog_file)
    output = PageOutput(
        SiteWriter(out, context.scratch, workspace.site_journal),
        remembered if isinstance(remembered, dict) else None,
        read.inputs,
    )
    entity_pages = EntityPages(
        workers, (lambda n: progress(n, pages)) if progress is not None else None, only=own
    )
    families: list[PageFamily] = [
        *((ShardPages(merge),) if merge else (entity_pages, Badges(workers))),
        Pictures(),
        CatalogIndex(),
        HomePage(),
        DocsIndex(),
        TemplatesPage(),
        ProblemsPage(),
        HealthPage(),
        ActivityPages(),
        AboutPage(),
        NotFoundPage(),
        CatalogJson(),
        StaticAssets(),
        # Last: it indexes the pages the others wrote (a merge, the parts the shards did).
        SearchIndex(
            provided=frozenset(
                m.search_part for _, m, _ in merge or () if m.search_part is not None
            )
        ),
    ]
    # A shard indexes its own part when the index has as many parts as there are shards
    # (an entity's part is then its shard: every page of it is there).
    search_part = None
    if shard is not None:
        # What is per entity; the rest needs every entity: the merge renders it.
        families = [entity_pages, Badges(workers, only=own)]
        if part_count(len(model.entities), settings.search_parts) == shard.count:
            search_part = shard.index - 1
            families.append(SearchIndex(only=search_part))
    for family in families:
        family.render(context, output)
    result = output.result
    result.stats = output.writer.stats
    result.stats.removed = remove_stale(
        out, workspace.site_manifest, workspace.site_journal, result.stats.files
    )
    if shard is not None:
        ShardManifest(
            generator=__version__,
            shard=str(shard),
            catalog=catalog_digest,
            inputs=read.inputs,
            files=sorted(result.stats.files),
            docs=report,
            api_problems=known_api_problems(
                workspace, api_definitions(model, filter(shard.owns, model.entities)).values()
            ),
            search_part=search_part,
        ).write(out)
    # Last: the state that says these pages are done.
    dump_json(workspace.site_state, {**read.state, "pages": output.digests})
    return result


def build_activity(
    catalog: CatalogFile,
    out: Path,
    cache_dir: Path,
    context_snapshot: ContextSnapshot,
    settings: SiteSettings | None = None,
    published_docs: dict[str, DocsSite] | None = None,
    allowed_hosts: tuple[str, ...] = (),
) -> SiteResult:
    """Only the Activity pages and fragments, into a portal ``build_site`` already wrote
    from this catalog (``backlot context``, between full builds): the same bytes a full
    build would give them, every other file left as it is. When the portal was not built
    from this catalog with these settings (the configured sources decide which pages have
    an Activity tab), only a full build can bring it up to date: ``needs_build`` then says
    why, and nothing is written."""
    settings = settings or SiteSettings()
    workspace = Workspace(cache_dir, out)
    report = DocsReport.read(workspace.docs_report)
    read = _read(
        catalog, out, cache_dir, settings, report, published_docs, allowed_hosts, context_snapshot
    )
    seeds = read.seeds
    if seeds is None or seeds:
        why = (
            "the catalog changed since the portal was built"
            if seeds
            else "the portal was built from another catalog or with other settings"
        )
        return SiteResult(needs_build=why)
    context = read.context(frozenset(), None)
    output = PageOutput(SiteWriter(out, context.scratch, workspace.site_journal))
    ActivityPages().render(context, output)
    ProblemsPage().render(context, output)
    result = output.result
    result.stats = output.writer.stats
    result.stats.removed = remove_stale(
        out,
        workspace.site_manifest,
        workspace.site_journal,
        result.stats.files,
        only=is_activity_file,
    )
    return result


@dataclass
class _Read:
    """What a render reads before it writes: the catalog indexed, the docs attached, what
    changed since the last build; and the context of the pages from it."""

    model: SiteModel
    workspace: Workspace
    settings: SiteSettings
    docs_sites: dict[str, DocsSite]
    csp: str
    snapshot: ContextSnapshot | None
    activity: frozenset[str]
    changed: dict[str, str]
    seeds: set[str] | None
    state: dict[str, Any]
    inputs: str  # the digest of what every page depends on besides data

    def context(self, dirty: frozenset[str], catalog_file: Path | None) -> SiteContext:
        model = self.model
        return SiteContext(
            model=model,
            settings=self.settings,
            keys=tuple(sorted(model.entities, key=lambda k: (model.labels[k][1].lower(), k))),
            changed=self.changed,
            dirty=dirty,
            docs_sites=self.docs_sites,
            csp=self.csp,
            now=build_time(),
            workspace=self.workspace,
            scratch=self.workspace.scratch_for(self.workspace.output),
            catalog_file=catalog_file,
            env=environment(self.csp, activity_nav=bool(self.activity)),
            activity=self.snapshot if self.activity else None,
            activity_keys=self.activity,
        )


def _read(
    catalog: CatalogFile,
    out: Path,
    cache_dir: Path,
    settings: SiteSettings,
    docs_report: DocsReport,
    published_docs: dict[str, DocsSite] | None,
    allowed_hosts: tuple[str, ...],
    snapshot: ContextSnapshot | None,
) -> _Read:
    workspace = Workspace(cache_dir, out)
    model = SiteModel.from_catalog(catalog)
    docs_sites = read_docs_sites(out / DOCS_PREFIX)
    for path, published in (published_docs or {}).items():
        docs_sites.setdefault(path, published)
    attach_docs(model, docs_sites, docs_report)
    csp = content_security_policy(allowed_hosts)
    activity = frozenset(activity_keys(snapshot, model.entities))
    # Which context sources are configured decides which pages have an Activity tab.
    sources = sorted(snapshot.runs) if activity and snapshot else []
    inputs = inputs_digest(settings, csp, extra=",".join(sources))
    changed, seeds, state = changed_times(model, workspace.site_state, inputs)
    return _Read(
        model,
        workspace,
        settings,
        docs_sites,
        csp,
        snapshot,
        activity,
        changed,
        seeds,
        state,
        inputs,
    )
