"""The Activity pages: what the context snapshot (``context.json``) says of each entity —
CI and deployments, pull requests, on call and incidents — with its source and its age.

The one page family that changes when only the snapshot does, so it is kept apart: each
entity that names a context target gets ``<entity>/activity/index.html`` (the facts, static:
read without script) and ``<entity>/activity/summary.js`` (the few facts its Overview shows,
loaded by the Overview's script); Groups get the same over the entities they own, and
``activity/index.html`` is the organisation's. The Overview and the other views never
contain a fact, so they stay byte-identical when a refresh changes nothing else.
``backlot context`` renders this family alone into a built portal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..context import SOURCE_KINDS, ContextSnapshot, Facts, TargetFacts
from ..model import entity_dir
from ..text import counted
from ._context import SiteContext, label
from ._model import RefView
from ._output import PageOutput
from ._ownership import aggregated_owned
from ._pages import entity_view, view_dir

__all__ = [
    "ACTIVITY_DIR",
    "ACTIVITY_VIEW",
    "ActivityPages",
    "activity_keys",
    "context_problems",
    "is_activity_file",
]

ACTIVITY_VIEW = "activity"
ACTIVITY_DIR = "activity/"  # the organisation's page
SUMMARY_FILE = "summary.js"
SOURCES_FILE = "sources.js"  # each source's last refresh: the one file every refresh changes
# The three tabs Backstage's entity page gives these plugins, and the fact kinds in each.
TABS = (
    ("ci", "CI/CD", ("ci", "deployments", "app")),
    ("pulls", "Pull requests", ("pull_requests",)),
    ("oncall", "On call and incidents", ("on_call", "incidents")),
)
MAX_ROWS = 200  # per table of a Group's or the organisation's page
# The Problems page lists what the last refresh could not learn: ``backlot context``
# renders it again with the Activity pages (it has no other volatile content).
PROBLEMS_PAGE = "problems/index.html"


def activity_keys(context_snapshot: ContextSnapshot | None, model_keys: Iterable[str]) -> set[str]:
    """The entities with an Activity view: those whose annotations name a context target,
    and every Group, once any context source is configured (it shows its entities')."""
    if context_snapshot is None or not context_snapshot.runs:
        return set()
    keys = set(model_keys)
    return (set(context_snapshot.entities) & keys) | {k for k in keys if k.startswith("group:")}


def is_activity_file(relpath: str) -> bool:
    """A file the snapshot decides (``backlot context`` replaces exactly these)."""
    if relpath.startswith(ACTIVITY_DIR) or relpath == PROBLEMS_PAGE:
        return True
    parts = relpath.split("/")
    return (
        len(parts) == 6
        and parts[0] == "catalog"
        and parts[4] == ACTIVITY_VIEW
        and parts[5] in ("index.html", SUMMARY_FILE)
    )


@dataclass
class Block:
    """One source's facts of one target, or why there are none."""

    source: str
    title: str
    target: str
    facts: Facts | None
    fetched_at: str = ""
    fetched_label: str = ""
    stale: str = ""
    missing: str = ""
    changed_at: str = ""  # when the facts last differed: what pages show
    changed_label: str = ""


@dataclass
class Row:
    """A line of a Group's or the organisation's tables."""

    entity: RefView
    text: str
    url: str = ""
    state: str = ""
    at: str = ""
    at_label: str = ""
    extra: str = ""


@dataclass
class Aggregate:
    failing: list[Row] = field(default_factory=list)
    incidents: list[Row] = field(default_factory=list)
    pulls: list[Row] = field(default_factory=list)
    on_call: list[Row] = field(default_factory=list)
    entities: int = 0
    total: dict[str, int] = field(default_factory=dict)


@dataclass
class ActivityView:
    tabs: list[tuple[str, str, list[Block]]]  # (id, title, blocks shown in it)
    aggregate: Aggregate | None
    notes: list[str]


class ActivityPages:
    def render(self, context: SiteContext, output: PageOutput) -> None:
        snapshot = context.activity
        keys = context.activity_keys
        if snapshot is None or not keys:
            return
        model = context.model
        notes = _run_notes(snapshot)
        everything = Aggregate()
        for key in context.keys:
            if key not in keys:
                continue
            blocks = _blocks(snapshot, key)
            aggregate = None
            if key.startswith("group:"):
                aggregate = _aggregate(context, snapshot, aggregated_owned(model, key))
            elif blocks:
                _add_rows(everything, context, key, blocks)
            changed = context.changed.get(key, "")
            view = entity_view(model, key, context.settings, changed, label(changed), activity=True)
            activity = ActivityView(
                tabs=[
                    (tab, title, [b for b in blocks if _shows(b, kinds)])
                    for tab, title, kinds in TABS
                ],
                aggregate=aggregate,
                notes=notes,
            )
            here = view_dir(entity_dir(key), ACTIVITY_VIEW)
            output.page(
                context,
                "entity.html",
                here,
                provenance=f"From {view.source_label}",
                page_title=f"Activity · {view.label} ({view.kind})",
                section="catalog",
                view_name=ACTIVITY_VIEW,
                e=view,
                a=activity,
            )
            output.write(here + SUMMARY_FILE, _summary_js(blocks, aggregate))
        _sort(everything)
        output.write(ACTIVITY_DIR + SOURCES_FILE, _sources_js(snapshot))
        output.page(
            context,
            "activity.html",
            ACTIVITY_DIR,
            page_title="Activity",
            section="activity",
            agg=everything,
            generated_at=snapshot.generated_at,
            generated_label=label(snapshot.generated_at),
            runs=[(name, run) for name, run in sorted(snapshot.runs.items())],
            notes=notes,
        )


def _shows(block: Block, kinds: tuple[str, ...]) -> bool:
    if block.facts is None:
        return any(k in kinds for k in SOURCE_KINDS.get(block.source, ()))
    return any(getattr(block.facts, k) is not None for k in kinds)


def _blocks(snapshot: ContextSnapshot, key: str) -> list[Block]:
    out = []
    for source, target, known in snapshot.facts_of(key):
        run = snapshot.runs.get(source)
        title = run.title if run else source
        if known is None:
            why = (run.missing.get(target) or run.error) if run else "not refreshed yet"
            out.append(Block(source, title, target, None, missing=why or "not known"))
            continue
        out.append(_block(source, title, target, known))
    return out


def _block(source: str, title: str, target: str, known: TargetFacts) -> Block:
    return Block(
        source,
        title,
        target,
        known.facts,
        fetched_at=known.fetched_at,
        fetched_label=label(known.fetched_at),
        stale=known.stale,
        changed_at=known.changed_at or known.fetched_at,
        changed_label=label(known.changed_at or known.fetched_at),
    )


def _run_notes(snapshot: ContextSnapshot) -> list[str]:
    """What a reader should know about the whole snapshot: sources that failed."""
    return [
        f"{run.title}: {run.error}"
        + (f" (last good facts shown for {run.kept})" if run.kept else "")
        for _, run in sorted(snapshot.runs.items())
        if run.error
    ]


def _aggregate(context: SiteContext, snapshot: ContextSnapshot, keys: list[str]) -> Aggregate:
    agg = Aggregate()
    for key in keys:
        blocks = _blocks(snapshot, key)
        if blocks:
            _add_rows(agg, context, key, blocks)
    _sort(agg)
    return agg


def _add_rows(agg: Aggregate, context: SiteContext, key: str, blocks: list[Block]) -> None:
    ref = context.model.ref(key)
    agg.entities += 1
    for b in blocks:
        f = b.facts
        if f is None:
            continue
        if f.ci is not None:
            for run in f.ci.runs:
                if run.state == "failure":
                    agg.failing.append(
                        Row(
                            ref, f"{run.workflow} failed", run.url, run.state, run.at, label(run.at)
                        )
                    )
        if f.deployments is not None:
            for d in f.deployments.latest:
                if d.state == "failure":
                    text = f"deployment to {d.environment} failed"
                    agg.failing.append(_row(ref, text, d.url, d.at))
        if f.app is not None and f.app.state == "failure":
            text = f"Argo CD {f.app.name}: {f.app.health}, {f.app.sync}"
            agg.failing.append(_row(ref, text, f.app.url, f.app.at))
        if f.incidents is not None:
            for i in f.incidents.recent:
                if i.status != "resolved":
                    extra = f"{i.status}, {i.urgency} urgency" if i.urgency else i.status
                    agg.incidents.append(
                        Row(
                            ref, i.title, i.url, "failure", i.created_at, label(i.created_at), extra
                        )
                    )
        if f.pull_requests is not None and f.pull_requests.open_count:
            p = f.pull_requests
            newest = p.recent[0] if p.recent else None
            agg.pulls.append(
                Row(
                    ref,
                    f"{p.open_count} open",
                    p.url,
                    "",
                    newest.created_at if newest else "",
                    label(newest.created_at) if newest else "",
                    newest.title if newest else "",
                )
            )
        if f.on_call is not None and f.on_call.now:
            names = ", ".join(p.name for p in f.on_call.now)
            agg.on_call.append(Row(ref, names, f.on_call.url, "", extra=f.on_call.policy))


def _row(ref: RefView, text: str, url: str, at: str, extra: str = "") -> Row:
    """A row of something wrong (failing, an open incident)."""
    return Row(ref, text, url, "failure", at, label(at), extra)


def _sort(agg: Aggregate) -> None:
    agg.total = {
        "failing": len(agg.failing),
        "incidents": len(agg.incidents),
        "pulls": len(agg.pulls),
        "on_call": len(agg.on_call),
    }
    for rows in (agg.failing, agg.incidents, agg.pulls):
        rows.sort(key=lambda r: (r.at, r.entity.key), reverse=True)
        del rows[MAX_ROWS:]
    agg.on_call.sort(key=lambda r: r.entity.label.lower())
    del agg.on_call[MAX_ROWS:]


def _summary_items(blocks: list[Block]) -> list[dict[str, str]]:
    """The few facts an Overview shows: red CI, open incidents, who is on call, open PRs."""
    items: list[dict[str, str]] = []

    def item(b: Block, state: str, text: str, url: str) -> None:
        items.append(
            {
                "source": b.title,
                "state": state,
                "text": text,
                "url": url,
                "sourceName": b.source,
                # A stale fact's age is its own; a fresh one's is its source's last
                # refresh, from sources.js (so this file changes only with the facts).
                "at": b.fetched_at if b.stale else "",
                "stale": b.stale,
            }
        )

    for b in blocks:
        f = b.facts
        if f is None:
            items.append({"source": b.title, "state": "unknown", "text": f"not known: {b.missing}"})
            continue
        if f.ci is not None and f.ci.runs:
            failing = [r.workflow for r in f.ci.runs if r.state == "failure"]
            if failing:
                item(b, "failure", "CI failing: " + ", ".join(failing), f.ci.url)
            elif any(r.state == "running" for r in f.ci.runs):
                item(b, "running", "CI running", f.ci.url)
            else:
                item(b, "success", "CI passing", f.ci.url)
        if f.app is not None:
            item(b, f.app.state, f"{f.app.name}: {f.app.health}, {f.app.sync}", f.app.url)
        if f.incidents is not None:
            n = f.incidents.open_count
            if n:
                item(b, "failure", f"{n} open incident{'s' if n != 1 else ''}", f.incidents.url)
            else:
                hours = f.incidents.window_hours
                item(b, "success", f"no open incidents (last {hours} h)", f.incidents.url)
        if f.on_call is not None:
            who = ", ".join(p.name for p in f.on_call.now) or "nobody"
            item(b, "", f"on call: {who}", f.on_call.url)
        if f.pull_requests is not None:
            n = f.pull_requests.open_count
            item(b, "", f"{n} open pull request{'s' if n != 1 else ''}", f.pull_requests.url)
    return items


def _summary_js(blocks: list[Block], agg: Aggregate | None) -> str:
    if agg is not None:
        t = agg.total
        shown = [
            ("failure" if t["failing"] else "success", counted(t["failing"], "failing check")),
            ("failure" if t["incidents"] else "success", counted(t["incidents"], "open incident")),
            ("", f"{counted(t['pulls'], 'entity', 'entities')} with open pull requests"),
        ]
        items = [{"state": st, "text": text, "source": "Owned entities"} for st, text in shown]
    else:
        items = _summary_items(blocks)
    return f"window.backlotActivity({_json({'items': items})});\n"


def _sources_js(snapshot: ContextSnapshot) -> str:
    """When each source last refreshed, for the ages pages compute in the browser."""
    runs = {
        name: {"title": run.title, "at": run.started_at, "error": run.error}
        for name, run in snapshot.runs.items()
    }
    return (
        f"window.backlotSources({_json({'generatedAt': snapshot.generated_at, 'runs': runs})});\n"
    )


def _json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c")


def context_problems(context: SiteContext) -> list[dict[str, Any]] | None:
    """Per source, what its last refresh could not learn and which entities that leaves
    without facts (None: no context source is configured)."""
    snapshot = context.activity
    if snapshot is None:
        return None
    naming: dict[tuple[str, str], list[str]] = {}
    for key, by_source in snapshot.entities.items():
        for source, targets in by_source.items():
            for target in targets:
                naming.setdefault((source, target), []).append(key)
    found = []
    for name, run in sorted(snapshot.runs.items()):
        if not run.error and not run.missing:
            continue
        missing = [
            (
                target,
                why,
                [context.model.ref(k) for k in sorted(naming.get((name, target), []))[:5]],
            )
            for target, why in sorted(run.missing.items())
            if why != run.error  # the source's own error is said once
        ]
        found.append(
            {
                "title": run.title,
                "error": run.error,
                "kept": run.kept,
                "missing": missing[:MAX_ROWS],
                "more": max(0, len(missing) - MAX_ROWS),
            }
        )
    return found
