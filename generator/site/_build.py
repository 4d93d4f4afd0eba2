"""The site stage: ``catalog.json`` in, a folder of HTML out.

Entity pages are the bulk of the work (a graph layout and a template each), so they are
rendered in batches, across worker processes that share the indexed catalog by fork.
A page whose inputs hash as before is not rendered again.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .. import __version__
from ..config import SiteSettings
from ..csp import content_security_policy
from ..model import (
    DOCS_PREFIX,
    CatalogFile,
    DocsReport,
    EntityRef,
    docs_site_dir,
    entity_dir,
    entity_page,
    repository_identity,
)
from ..workers import die_with_parent
from ..workspace import Workspace
from ._catalog_index import catalog_pages, facet_counts, row_shards
from ._docs_index import DocsSite, read_docs_sites
from ._model import SiteModel
from ._pages import Section, entity_view, system_graph
from ._safety import safe_url
from ._urls import page_file
from ._writer import SiteWriter, WriteStats, remove_stale
from .graphs import Graph, neighbourhood, render_svgs

__all__ = ["SiteResult", "build_site", "templates_dir"]

BATCH = 500
RECENT = 15
MAX_PROBLEMS = 2000


@dataclass
class SiteResult:
    pages: int = 0
    rendered: int = 0
    stats: WriteStats = field(default_factory=WriteStats)
    problems: list[str] = field(default_factory=list)


def templates_dir() -> Path:
    """``site_templates/``, shipped inside the package or beside it in a checkout."""
    packaged = resources.files("generator") / "site_templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "site_templates"


def _environment(csp: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.globals["csp"] = csp
    return env


def _root(page_dir: str) -> str:
    depth = page_dir.count("/")
    return "../" * depth


def _stamp(moment: datetime) -> tuple[str, str]:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z"), moment.strftime("%Y-%m-%d %H:%M UTC")


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)


# The model shared with forked workers: set before the pool starts, read-only after.
_SHARED: dict[str, Any] = {}


def build_site(
    catalog: CatalogFile,
    out: Path,
    cache_dir: Path,
    settings: SiteSettings | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    docs_report: DocsReport | None = None,
    published_docs: dict[str, DocsSite] | None = None,
    catalog_file: Path | None = None,
    allowed_hosts: tuple[str, ...] = (),
) -> SiteResult:
    """Render the portal into ``out``. TechDocs built into ``out/docs``, or published to
    the bucket by repositories (``published_docs``, by storage path), are linked to their
    entities when they came from the entity's own repository; ``docs_report`` (the docs
    stage's) says which entities' docs failed and why.
    ``catalog_file``, when given, is the catalog.json ``catalog`` came from."""
    settings = settings or SiteSettings()
    now = build_time()
    model = SiteModel.from_catalog(catalog)
    docs_sites = read_docs_sites(out / DOCS_PREFIX)
    for path, published in (published_docs or {}).items():
        docs_sites.setdefault(path, published)
    _attach_docs(model, docs_sites, docs_report or DocsReport())
    keys = sorted(model.entities, key=lambda k: (model.labels[k][1].lower(), k))
    csp = content_security_policy(allowed_hosts)
    inputs = _inputs_digest(settings, csp)
    workspace = Workspace(cache_dir, out)
    changed, seeds, state = _changed_times(model, workspace.site_state, now, inputs)
    radius = max(settings.graph_depth, 2)
    dirty = _within(model, seeds, radius) if seeds is not None else set(model.entities)
    # Before any page is written: which pages this build renews. A build killed halfway
    # leaves this behind, and the next one renders those pages again.
    _dump_json(
        workspace.site_state,
        {
            **_load_json(workspace.site_state),
            "pending": sorted(dirty) if seeds is not None else "all",
        },
    )
    scratch = workspace.scratch_for(out)
    env = _environment(csp)
    result = SiteResult()
    writer = SiteWriter(out, scratch, workspace.site_journal)
    site_title = settings.title
    repositories = len({s.repository for s in catalog.sources.values()})
    # No time here: list pages must stay byte-identical until their own content changes.
    provenance = f"Catalog of {len(keys)} entities from {repositories} repositories"

    def page(template: str, page_dir: str, **context: Any) -> None:
        context.setdefault("provenance", provenance)
        html = env.get_template(template).render(
            root=_root(page_dir), site_title=site_title, **context
        )
        writer.write(page_file(page_dir), html)
        result.pages += 1

    # Entity pages: the bulk, in parallel batches; only those whose inputs may have changed.
    clean = {k for k in keys if k not in dirty and (out / entity_page(k)).is_file()}
    for key in clean:
        writer.keep(entity_page(key))
    result.pages += len(clean)
    _SHARED.update(
        csp=csp,
        model=model,
        settings=settings,
        changed=changed,
        out=out,
        scratch=scratch,
        journal=workspace.site_journal,
        cache_dir=cache_dir,
        title=site_title,
    )
    for batch_result in _entity_batches([k for k in keys if k not in clean], workers):
        writer.stats.merge(batch_result.stats)
        result.rendered += batch_result.rendered
        result.pages += batch_result.rendered
        result.problems += batch_result.problems
        if progress is not None:
            progress(batch_result.rendered)
    _SHARED.clear()

    # The catalog index: static pages, row shards for the filter, precomputed counts.
    all_rows = [model.row(k) for k in keys]
    facets = facet_counts(all_rows)
    kind_links = [
        {"label": kind, "count": count, "href": page_file(f"catalog/_kinds/{kind.lower()}/")}
        for kind, count in sorted(Counter(row.kind for row in all_rows).items())
    ]
    shards = list(row_shards(all_rows))
    for name, script in shards:
        writer.write(f"catalog/_data/{name}", script)
    filters = Markup(
        env.get_template("filters.html").render(
            facets=facets, total=len(all_rows), shards=len(shards)
        )
    )
    for listing in catalog_pages(model, keys, settings.page_size):
        page(
            "catalog.html",
            listing.dir,
            page_title=listing.heading,
            section="catalog",
            heading=listing.heading,
            filters=filters,
            total=len(all_rows),
            kinds=kind_links,
            current_kind=listing.kind,
            rows=listing.rows,
            pages=listing.pages,
            page_number=listing.number,
            showing=listing.showing,
        )

    summary = catalog.summary
    recent = sorted(keys, key=lambda k: (changed[k], k), reverse=True)[:RECENT]
    page(
        "home.html",
        "",
        page_title="Home",
        section="home",
        counts=[
            {
                "label": kind,
                "count": count,
                "href": page_file(f"catalog/_kinds/{kind.lower()}/"),
            }
            for kind, count in summary.by_kind.items()
        ],
        problems={"errors": summary.errors, "warnings": summary.warnings},
        recent=[
            {
                "label": model.labels[k][1],
                "kind": model.labels[k][0],
                "href": entity_page(k),
                "changed": changed[k],
                "changed_label": _label(changed[k]),
            }
            for k in recent
        ],
        quick=[
            {
                "label": f"{model.labels[k][1]} ({model.labels[k][0]})",
                "href": entity_page(k),
            }
            for k in keys
            if model.labels[k][0] in ("Domain", "System")
        ][:12],
    )
    page(
        "documentation.html",
        "documentation/",
        page_title="Docs",
        section="docs",
        **_docs_page(model, docs_sites),
    )
    page(
        "problems.html",
        "problems/",
        page_title="Problems",
        section="problems",
        **_problem_groups(model, catalog),
    )
    build = _build_info(catalog, now)
    writer.write("build.json", json.dumps(build, indent=1, sort_keys=True) + "\n")
    page(
        "about.html",
        "about/",
        page_title="About this build",
        section="about",
        build=build,
        provenance=f"Built {build['time_label']}",
    )
    if catalog_file is not None:  # the file ``catalog`` was read from: copy, not re-serialise
        writer.copy("catalog.json", catalog_file)
    else:
        buffer = io.StringIO()
        catalog.dump(buffer)
        writer.write("catalog.json", buffer.getvalue())
    for asset in sorted((templates_dir() / "static").rglob("*")):
        if asset.is_file():
            writer.write(
                f"static/{asset.relative_to(templates_dir() / 'static').as_posix()}",
                asset.read_bytes(),
            )

    writer.stats.removed = remove_stale(
        out, workspace.site_manifest, workspace.site_journal, writer.stats.files
    )
    # Last: the state that says these pages are done.
    _dump_json(workspace.site_state, state)
    result.stats = writer.stats
    return result


@dataclass
class _BatchResult:
    stats: WriteStats
    rendered: int
    problems: list[str]


def _entity_batches(keys: list[str], workers: int | None) -> Iterator[_BatchResult]:
    batches = [keys[i : i + BATCH] for i in range(0, len(keys), BATCH)]
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or len(batches) <= 1:
        yield from map(_render_batch, batches)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=die_with_parent
    ) as pool:
        yield from pool.map(_render_batch, batches)


def _render_batch(keys: list[str]) -> _BatchResult:
    """Render the pages of ``keys`` (in a worker): views, graphs, then HTML."""
    model: SiteModel = _SHARED["model"]
    settings: SiteSettings = _SHARED["settings"]
    changed: dict[str, str] = _SHARED["changed"]
    out: Path = _SHARED["out"]
    env = _environment(_SHARED["csp"])
    writer = SiteWriter(out, _SHARED["scratch"], _SHARED["journal"])
    views = {}
    graphs: dict[str, Graph] = {}
    extra_graphs: dict[str, Graph] = {}
    problems: list[str] = []
    for key in keys:
        root = _root(entity_dir(key))
        view = entity_view(model, key, settings, changed[key], _label(changed[key]))
        graph, _ = neighbourhood(
            model.relations,
            model.labels,
            key,
            lambda target, root=root: root + entity_page(target),  # type: ignore[misc]
            depth=settings.graph_depth,
            max_fanout=settings.graph_max_fanout,
            max_nodes=settings.graph_max_nodes,
        )
        problems += [f"{key}: {p}" for p in view.problems]
        views[key] = view
        graphs[key] = graph
        if view.kind == "System":
            extra_graphs[key] = system_graph(model, key, root)
    svgs = render_svgs(graphs, _SHARED["cache_dir"], workers=1) if graphs else {}
    system_svgs = render_svgs(extra_graphs, _SHARED["cache_dir"], workers=1) if extra_graphs else {}
    template = env.get_template("entity.html")
    for key, view in views.items():
        view.graph = Markup(svgs[key]) if key in svgs else None
        view.graph_kinds = sorted({n.kind for n in graphs[key].nodes if n.kind})
        if key in system_svgs:
            view.sections.insert(0, _diagram_section(system_svgs[key]))
        html = template.render(
            root=_root(view.dir),
            site_title=_SHARED["title"],
            provenance=f"From {view.source_label}",
            page_title=f"{view.label} ({view.kind})",
            section="catalog",
            e=view,
        )
        writer.write(page_file(view.dir), html)
    return _BatchResult(writer.stats, len(views), problems)


def _diagram_section(svg: str) -> Section:
    return Section("System diagram", graph=Markup(svg))


def _inputs_digest(settings: SiteSettings, csp: str) -> str:
    """What every page depends on besides data: templates, settings, this version."""
    digest = hashlib.sha256(f"{__version__}\n{settings.model_dump_json()}\n{csp}".encode())
    for path in sorted(templates_dir().rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(templates_dir()).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _changed_times(
    model: SiteModel, path: Path, now: datetime, inputs: str
) -> tuple[dict[str, str], set[str] | None, dict[str, Any]]:
    """When each entity's own data last changed, remembered across builds by content hash;
    the entities that changed, appeared or disappeared since (None: everything), counting
    the pages a build that did not finish may have left half-renewed; and the state to
    record once this build's pages are written."""
    previous = _load_json(path)
    before_entities = previous.get("entities")
    before: dict[str, Any] = before_entities if isinstance(before_entities, dict) else {}
    stamp = _stamp(now)[0]
    state: dict[str, list[str]] = {}
    changed: dict[str, str] = {}
    dirty: set[str] = set()
    for key in model.entities:
        digest = model.content_hash(key)
        old = before.get(key)
        same = isinstance(old, list) and len(old) == 2 and old[0] == digest
        when = str(old[1]) if same and old is not None else stamp
        if not same:
            dirty.add(key)
        state[key] = [digest, when]
        changed[key] = when
    dirty.update(key for key in before if key not in model.entities)
    pending = previous.get("pending")
    if previous.get("inputs") != inputs or pending == "all":
        return changed, None, {"inputs": inputs, "entities": state}
    if isinstance(pending, list):
        dirty.update(key for key in pending if isinstance(key, str))
    return changed, dirty, {"inputs": inputs, "entities": state}


def _within(model: SiteModel, seeds: set[str], radius: int) -> set[str]:
    """Entities within ``radius`` relations of ``seeds``: their graphs and tables may show
    what changed. Relations are followed both ways, to missing entities too."""
    neighbours: dict[str, set[str]] = {}
    for key, pairs in model.relations.items():
        for _, target in pairs:
            neighbours.setdefault(key, set()).add(target)
            neighbours.setdefault(target, set()).add(key)
    reached = set(seeds)
    frontier = set(seeds)
    for _ in range(radius):
        frontier = {n for key in frontier for n in neighbours.get(key, ())} - reached
        reached |= frontier
    return reached & set(model.entities)


def _attach_docs(model: SiteModel, sites: dict[str, DocsSite], report: DocsReport) -> None:
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


def _docs_page(model: SiteModel, sites: dict[str, DocsSite]) -> dict[str, Any]:
    documented = sorted(model.docs, key=lambda k: model.labels[k][1].lower())
    owned = {EntityRef.from_key(k).storage_path: k for k in model.entities}
    coverage = []
    for kind in ("Component", "API", "System", "Resource"):
        total = sum(1 for label in model.labels.values() if label[0] == kind)
        if total:
            done = sum(1 for k in documented if model.labels[k][0] == kind)
            coverage.append(
                {"kind": kind, "done": done, "total": total, "percent": round(100 * done / total)}
            )
    return {
        "rows": [
            {
                "row": model.row(k),
                "href": model.docs[k],
                "built": sites[EntityRef.from_key(k).storage_path].built,
                "built_label": _label(sites[EntityRef.from_key(k).storage_path].built)
                if sites[EntityRef.from_key(k).storage_path].built
                else "unknown",
            }
            for k in documented
        ],
        "coverage": coverage,
        "failed": [
            {"row": model.row(k), "message": message}
            for k, message in sorted(model.docs_errors.items())
        ],
        "orphaned": [
            {"path": path, "site_name": site.site_name, "href": docs_site_dir(path) + "index.html"}
            for path, site in sorted(sites.items())
            if path not in owned
        ],
    }


def _label(stamp: str) -> str:
    return _stamp(datetime.fromisoformat(stamp.replace("Z", "+00:00")))[1]


def _problem_groups(model: SiteModel, catalog: CatalogFile) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for finding in catalog.findings[:MAX_PROBLEMS]:
        ref = finding.entity_ref
        href = entity_page(ref) if ref in model.entities else None
        groups.setdefault(finding.file, []).append({**finding.model_dump(), "href": href})
    return {
        "errors": catalog.summary.errors,
        "warnings": catalog.summary.warnings,
        "groups": [{"file": f, "findings": items} for f, items in sorted(groups.items())],
    }


def _build_info(catalog: CatalogFile, now: datetime) -> dict[str, Any]:
    repos: dict[str, dict[str, Any]] = {}
    for source in catalog.sources.values():
        repo = repos.setdefault(
            source.repository,
            {"name": source.repository, "entities": 0, "commit": source.commit, "url": None},
        )
        repo["entities"] += 1
        if source.url:
            repo["url"] = safe_url(source.url.split("/blob/")[0])
    time, label = _stamp(now)
    return {
        "time": time,
        "time_label": label,
        "generator": f"backlot {__version__}",
        "entities": catalog.summary.entities,
        "errors": catalog.summary.errors,
        "warnings": catalog.summary.warnings,
        "repositories": sorted(repos.values(), key=lambda r: r["name"]),
    }


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _dump_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"), sort_keys=True)
    os.replace(partial, path)
