"""One refresh of every configured context source into a new snapshot.

Sources run side by side (each is I/O-bound on its own API), each on its own request
budget. Whatever one source does — a spent budget, a timeout, an exception of its own —
stays its own: its run records the error, its targets keep their last good facts, and
the others go on. Every message is scrubbed of every source's credentials before it is
stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ..model import EntityRef
from ._snapshot import ContextSnapshot, SourceRun, iso_utc, merge_run
from ._source import Collected, ContextSource, RequestBudget

__all__ = ["outline_context", "refresh_context"]


def refresh_context(
    entities: Iterable[Mapping[str, Any]],
    sources: Sequence[tuple[ContextSource, int]],
    previous: ContextSnapshot | None,
    *,
    keep_hours: float,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> ContextSnapshot:
    """A snapshot of ``sources`` (each with its request budget) for ``entities``; facts a
    source could not renew are taken from ``previous`` while young enough."""
    now = now or datetime.now(UTC)
    previous = previous or ContextSnapshot()
    named, annotated = _targets(entities, [source for source, _ in sources])
    wanted: dict[str, set[str]] = {source.name: set() for source, _ in sources}
    for by_source in named.values():
        for name, targets in by_source.items():
            wanted[name].update(targets)
    snapshot = ContextSnapshot(generated_at=iso_utc(now), entities=named)

    def run(source: ContextSource, limit: int) -> tuple[Collected, float]:
        started = time.perf_counter()
        targets = sorted(wanted[source.name])
        if not targets:
            return Collected(), 0.0
        budget = RequestBudget(limit)
        try:
            collected = source.collect(targets, budget, now)
        except Exception as exc:  # a source's own bug must not take the build down
            collected = Collected(error=f"{type(exc).__name__}: {exc}")
        collected.requests = collected.requests or budget.used
        return collected, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=max(1, len(sources))) as pool:
        futures = [(source, limit, pool.submit(run, source, limit)) for source, limit in sources]
        for source, limit, future in futures:
            collected, seconds = future.result()
            # Asked again now: a credential may be learnt during the run (a GitHub App's
            # installation token).
            secrets = tuple(s for src, _ in sources for s in src.secrets() if s)
            targets = sorted(wanted[source.name])
            missing = {t: _scrub(r, secrets) for t, r in collected.missing.items()}
            error = _scrub(collected.error, secrets)
            if error:
                missing = {t: error for t in targets if t not in collected.facts}
            facts, still_missing, kept = merge_run(
                previous.targets.get(source.name, {}),
                collected.facts,
                missing,
                targets,
                now,
                keep_hours,
            )
            snapshot.targets[source.name] = facts
            snapshot.runs[source.name] = SourceRun(
                title=source.title,
                started_at=iso_utc(now),
                seconds=round(seconds, 2),
                requests=collected.requests,
                budget=limit,
                targets=len(targets),
                fetched=len(collected.facts),
                kept=kept,
                missing=still_missing,
                error=error,
                detail=collected.detail,
            )
            if progress is not None:
                progress(describe_run(snapshot.runs[source.name]))
    for key, entity in annotated:
        for source, _ in sources:
            known = snapshot.targets.get(source.name, {})
            for target in named[key].get(source.name, ()):
                if target in known:
                    full = known[target].facts
                    shown = source.narrow(entity, full)
                    if shown != full:
                        narrowed = snapshot.narrowed.setdefault(key, {})
                        narrowed.setdefault(source.name, {})[target] = shown
    return snapshot


def outline_context(
    entities: Iterable[Mapping[str, Any]], sources: Sequence[tuple[ContextSource, int]]
) -> ContextSnapshot:
    """The snapshot's shape without a fact and without a request: which entities name
    which targets, and each configured source as not run. What an entity page shows of the
    context (whether it has an Activity view) depends on this alone, so a shard
    (``backlot build --shard``) renders its pages from it while the merge refreshes."""
    named, _ = _targets(entities, [source for source, _ in sources])
    runs = {source.name: SourceRun(title=source.title, started_at="") for source, _ in sources}
    return ContextSnapshot(entities=named, runs=runs)


def _targets(
    entities: Iterable[Mapping[str, Any]], sources: Sequence[ContextSource]
) -> tuple[dict[str, dict[str, list[str]]], list[tuple[str, Mapping[str, Any]]]]:
    """The targets each entity's annotations name, by entity key and source; and the
    entities that name any, in catalog order."""
    named: dict[str, dict[str, list[str]]] = {}
    annotated: list[tuple[str, Mapping[str, Any]]] = []
    for entity in entities:
        key = EntityRef.of(entity).key
        for source in sources:
            names = source.targets_of(entity)
            if names:
                named.setdefault(key, {})[source.name] = list(names)
        if key in named:
            annotated.append((key, entity))
    return named, annotated


def describe_run(run: SourceRun) -> str:
    """One line of what a refresh of one source did and cost."""
    line = (
        f"{run.title}: {run.fetched} of {run.targets} targets fetched with "
        f"{run.requests} of {run.budget} requests in {run.seconds:.1f} s"
    )
    if run.kept:
        line += f"; {run.kept} kept from the last good snapshot"
    if run.missing:
        line += f"; {len(run.missing)} missing"
    if run.error:
        line += f" ({run.error})"
    return line


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
