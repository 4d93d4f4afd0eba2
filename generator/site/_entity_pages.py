"""The entity pages: the bulk of a build (a graph layout and a template each), rendered in
batches across worker processes that inherit the build's context by fork. A page whose
inputs did not change is kept as it is."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from markupsafe import Markup

from ..model import entity_dir, entity_page
from ._api_problems import api_definitions, note_api_problems
from ._context import SiteContext, label, root_of
from ._forked import render_batches
from ._graph_files import CARD_GRAPH, FULL_GRAPH, SYSTEM_GRAPH, GraphImage, graph_files, graph_image
from ._output import PageOutput
from ._pages import VIEWS, Section, entity_view, system_graph, view_dir
from ._urls import page_file
from ._writer import SiteWriter, WriteStats
from .apis import DEFINITION_FILES
from .graphs import Graph, legend_svg, neighbourhood, render_svgs

__all__ = ["EntityPages"]

# Small enough that progress moves every few seconds (the CLI reports per batch), large
# enough that a batch's set-up (a writer, the template) is noise.
BATCH = 200

# The context of the build, for the forked workers: set just before the pool starts,
# read-only while it runs, cleared after.
_context: SiteContext | None = None


@dataclass
class _Batch:
    stats: WriteStats
    rendered: int
    problems: list[str]
    api_problems: dict[str, list[str]]  # by definition digest: what each parse found


class EntityPages:
    def __init__(
        self,
        workers: int | None,
        progress: Callable[[int], None] | None,
        only: Callable[[str], bool] | None = None,
    ) -> None:
        self.workers = workers
        self.progress = progress
        self.only = only  # a shard's: the entities whose pages it renders

    def render(self, context: SiteContext, output: PageOutput) -> None:
        global _context
        keys = [k for k in context.keys if self.only is None or self.only(k)]
        # A kept entity's files: a stat each, as strings (pathlib's objects cost as much as
        # the system call), and the definition files only where an API view is.
        out = os.fspath(context.out)
        clean = {
            k for k in keys if k not in context.dirty and os.path.isfile(f"{out}/{entity_page(k)}")
        }
        for key in keys:
            if key in clean:
                output.keep_page(entity_page(key))
                for view in VIEWS:  # the entity's other views, where it has them
                    path = page_file(view_dir(entity_dir(key), view))
                    if os.path.isfile(f"{out}/{path}"):
                        output.claim([path])  # kept, counted with its entity's page
                        if view == "api":  # and the definition beside it
                            api = view_dir(entity_dir(key), "api")
                            output.claim(
                                [
                                    api + f
                                    for f in DEFINITION_FILES
                                    if os.path.isfile(f"{out}/{api}{f}")
                                ]
                            )
                graphs = graph_files(entity_dir(key), view_dir(entity_dir(key), "dependencies"))
                output.claim([path for path in graphs if os.path.isfile(f"{out}/{path}")])
        _context = context
        parsed: dict[str, list[str]] = {}
        try:
            for batch in self._batches([k for k in keys if k not in clean]):
                output.rendered(batch.stats, batch.rendered, batch.problems)
                parsed.update(batch.api_problems)
                if self.progress is not None:
                    self.progress(batch.rendered)
        finally:
            _context = None
        note_api_problems(context.workspace, parsed)

    def _batches(self, keys: list[str]) -> Iterator[_Batch]:
        batches = [keys[i : i + BATCH] for i in range(0, len(keys), BATCH)]
        return render_batches(_render_batch, batches, self.workers)


def _render_batch(keys: list[str]) -> _Batch:
    """Render the pages of ``keys`` (in a worker): views, graphs, then HTML: each entity's
    overview (with its depth-1 card graph) and its other views (``VIEWS``)."""
    context = _context
    assert context is not None, "entity pages are rendered within EntityPages.render"
    model, settings = context.model, context.settings
    writer = SiteWriter(context.out, context.scratch, context.workspace.site_journal)
    views = {}
    cards: dict[str, Graph] = {}
    graphs: dict[str, Graph] = {}
    extra_graphs: dict[str, Graph] = {}
    problems: list[str] = []
    for key in keys:
        changed = context.changed[key]
        view = entity_view(
            model, key, settings, changed, label(changed), activity=key in context.activity_keys
        )
        problems += [f"{key}: {p}" for p in view.problems]
        views[key] = view
        # The card, as Backstage's: depth 1. The Dependencies view: the deeper neighbourhood.
        for depth, into in ((1, cards), (settings.graph_depth, graphs)):
            root = root_of(view_dir(entity_dir(key), "dependencies" if into is graphs else ""))
            into[key], _ = neighbourhood(
                model.relations,
                model.labels,
                key,
                lambda target, root=root: root + entity_page(target),  # type: ignore[misc]
                depth=depth,
                max_fanout=settings.graph_max_fanout,
                max_nodes=settings.graph_max_nodes,
            )
        if view.kind == "System":
            extra_graphs[key] = system_graph(model, key, root_of(entity_dir(key)))
    cache = context.workspace.cache_dir
    card_svgs = render_svgs(cards, cache, workers=1) if cards else {}
    svgs = render_svgs(graphs, cache, workers=1) if graphs else {}
    system_svgs = render_svgs(extra_graphs, cache, workers=1) if extra_graphs else {}
    template = context.env.get_template("entity.html")

    def graph_file(folder: str, name: str, svg: str) -> GraphImage:
        writer.write(posixpath.join(folder, name), svg)
        return graph_image(svg, name)

    for key, view in views.items():
        dependencies = view_dir(view.dir, "dependencies")
        if key in card_svgs:
            view.card_graph = graph_file(view.dir, CARD_GRAPH, card_svgs[key])
        if key in svgs:
            view.graph = graph_file(dependencies, FULL_GRAPH, svgs[key])
        view.graph_kinds = sorted({n.kind for n in graphs[key].nodes if n.kind})
        view.legend = Markup(legend_svg(view.graph_kinds))
        if key in system_svgs:
            system = graph_file(view.dir, SYSTEM_GRAPH, system_svgs[key])
            view.sections.insert(0, Section("System diagram", graph=system))
        pages = ["overview", "dependencies"]
        if any(tab.name == "api" for tab in view.tabs):
            pages.append("api")
        for page in pages:
            here = view_dir(view.dir, page)
            tab = next(t for t in view.tabs if t.name == page)
            html = template.render(
                root=root_of(here),
                site_title=settings.title,
                provenance=f"From {view.source_label}",
                page_title=view.label
                if page == "overview"
                else f"{tab.label} · {view.label} ({view.kind})",
                section="catalog",
                view_name=page,
                e=view,
            )
            writer.write(page_file(here), html)
        if view.api_reference is not None:  # the definition as a file, beside its view
            download = view_dir(view.dir, "api") + view.api_reference.download_name
            writer.write(download, view.api_reference.source)
    parsed = {
        digest: reference.problems
        for key, digest in api_definitions(model, keys).items()
        if (reference := views[key].api_reference) is not None
    }
    return _Batch(writer.stats, len(views), problems, parsed)
