"""What changed since the last build, and so which pages must be rendered again.

A page is rendered again only when something it shows may have changed: an entity within
two relations of one whose content changed, appeared or disappeared, or every page when
templates, settings or the Backlot version change. When each entity's own data last
changed is remembered across builds by content hash (``site-state.json``), with the
pages a build renews noted before it writes them, so that a build killed halfway is
finished by the next.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import SiteSettings
from ._context import templates_dir
from ._model import SiteModel

__all__ = ["changed_times", "dump_json", "inputs_digest", "load_json", "within"]


def inputs_digest(settings: SiteSettings, csp: str, extra: str = "") -> str:
    """What every page depends on besides data: templates, settings, this version (and
    ``extra``: other settings pages show, such as the context sources configured)."""
    digest = hashlib.sha256(f"{__version__}\n{settings.model_dump_json()}\n{csp}\n{extra}".encode())
    for path in sorted(templates_dir().rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(templates_dir()).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def changed_times(
    model: SiteModel, path: Path, inputs: str
) -> tuple[dict[str, str], set[str] | None, dict[str, Any]]:
    """When each entity's descriptor last changed (its source's last commit, "" when no
    history says: never the time a cache first saw it); the entities whose data changed,
    appeared or disappeared since the last build (None: everything), counting the pages a
    build that did not finish may have left half-renewed; and the state to record once
    this build's pages are written."""
    previous = load_json(path)
    before_entities = previous.get("entities")
    before: dict[str, Any] = before_entities if isinstance(before_entities, dict) else {}
    state: dict[str, str] = {}
    changed: dict[str, str] = {}
    dirty: set[str] = set()
    for key in model.entities:
        digest = model.content_hash(key)
        old = before.get(key)
        if isinstance(old, list) and old:  # the state of builds before this one's format
            old = old[0]
        if old != digest:
            dirty.add(key)
        state[key] = digest
        changed[key] = model.source(key).changed or ""
    dirty.update(key for key in before if key not in model.entities)
    pending = previous.get("pending")
    if previous.get("inputs") != inputs or pending == "all":
        return changed, None, {"inputs": inputs, "entities": state}
    if isinstance(pending, list):
        dirty.update(key for key in pending if isinstance(key, str))
    return changed, dirty, {"inputs": inputs, "entities": state}


def within(model: SiteModel, seeds: set[str], radius: int) -> set[str]:
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


def load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def dump_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"), sort_keys=True)
    os.replace(partial, path)
