"""``context.json``: the snapshot of every context source, the artifact the site renders.

A versioned file written atomically, like ``catalog.json``. It holds, per source, the facts
of each target with the time they were fetched, which entities name which targets, and what
each run cost. A refresh that cannot reach a target keeps the last good facts, marked stale
with the reason, for ``keep_hours``; after that the target is reported missing. So a
timeout or a spent budget never empties a page that had something to say.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..files import write_atomic
from ._facts import Facts

__all__ = [
    "SCHEMA_VERSION",
    "ContextSnapshot",
    "SourceRun",
    "TargetFacts",
    "iso_utc",
    "merge_run",
    "parse_utc",
]

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetFacts(_Model):
    fetched_at: str  # ISO 8601, UTC: when these facts were read from the source
    facts: Facts
    stale: str = ""  # why the last refresh did not renew them ("" when it did)
    # When they last differed from the refresh before: pages show this, not fetched_at,
    # so a refresh that learnt nothing new rewrites no page (the time of each source's
    # last refresh is published once, in the Activity index's sources.js).
    changed_at: str = ""


class SourceRun(_Model):
    """One source's last refresh: what it cost and what it could not learn."""

    title: str
    started_at: str
    seconds: float = 0.0
    requests: int = 0
    budget: int = 0
    targets: int = 0
    fetched: int = 0
    kept: int = 0  # stale facts kept from an earlier refresh
    missing: dict[str, str] = Field(default_factory=dict)  # target → why
    error: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class ContextSnapshot(_Model):
    schema_version: int = SCHEMA_VERSION
    generated_at: str = ""
    runs: dict[str, SourceRun] = Field(default_factory=dict)  # by source name
    # source name → target → facts
    targets: dict[str, dict[str, TargetFacts]] = Field(default_factory=dict)
    # entity key → source name → the targets its annotations name
    entities: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    # entity key → source name → target → the facts as that entity shows them, where they
    # differ from the target's (the workflows an entity names, say)
    narrowed: dict[str, dict[str, dict[str, Facts]]] = Field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> ContextSnapshot | None:
        """The snapshot at ``path``; None when there is none, or one of another version
        (a newer Backlot's, or a damaged file: the next refresh writes a good one)."""
        try:
            snapshot = cls.model_validate_json(path.read_bytes())
        except (OSError, ValueError):
            return None
        return snapshot if snapshot.schema_version == SCHEMA_VERSION else None

    def write(self, path: Path) -> None:
        write_atomic(path, self.model_dump_json(exclude_defaults=False).encode())

    def facts_of(self, key: str) -> list[tuple[str, str, TargetFacts | None]]:
        """(source, target, facts or None when missing) for each target the entity names."""
        out: list[tuple[str, str, TargetFacts | None]] = []
        narrowed = self.narrowed.get(key, {})
        for source, targets in sorted(self.entities.get(key, {}).items()):
            known = self.targets.get(source, {})
            mine = narrowed.get(source, {})
            for target in targets:
                found = known.get(target)
                if found is not None and target in mine:
                    found = found.model_copy(update={"facts": mine[target]})
                out.append((source, target, found))
        return out


def merge_run(
    previous: dict[str, TargetFacts],
    fetched: dict[str, Facts],
    missing: dict[str, str],
    targets: list[str],
    now: datetime,
    keep_hours: float,
) -> tuple[dict[str, TargetFacts], dict[str, str], int]:
    """A source's facts after a refresh: what it fetched, else the last good facts while
    younger than ``keep_hours`` (marked stale with the reason), else missing.

    Returns (facts by target, missing targets with reasons, how many were kept stale)."""
    stamp = iso_utc(now)
    oldest = now - timedelta(hours=keep_hours)
    merged: dict[str, TargetFacts] = {}
    still_missing: dict[str, str] = {}
    kept = 0
    for target in targets:
        if target in fetched:
            before = previous.get(target)
            same = before is not None and before.facts == fetched[target]
            changed = (before.changed_at or before.fetched_at) if same and before else stamp
            merged[target] = TargetFacts(
                fetched_at=stamp, facts=fetched[target], changed_at=changed
            )
            continue
        reason = missing.get(target, "the source said nothing of it")
        last = previous.get(target)
        if last is not None and parse_utc(last.fetched_at) >= oldest:
            merged[target] = last.model_copy(update={"stale": reason})
            kept += 1
        else:
            still_missing[target] = reason
    return merged, still_missing, kept


def iso_utc(moment: datetime) -> str:
    """``2026-12-03T12:00:00Z``: how the snapshot writes times."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
