"""What each API definition's reference found wrong, remembered by the definition's digest.

Rendering an API's Definition view parses its definition, and the Problems page lists
what every definition's parse found: parsing 1,200 definitions twice cost a 10,000-entity
build ten seconds. The entity pages (or, in a merge, the shards that rendered them) note
what they found; the Problems page parses only definitions nobody noted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeGuard

from ..workspace import Workspace
from ._changes import dump_json, load_json
from ._model import SiteModel
from .apis import api_reference

__all__ = ["api_definitions", "api_problems", "known_api_problems", "note_api_problems"]


def _file(workspace: Workspace) -> Path:
    return workspace.cache_dir / "api-problems.json"


def definition_digest(api_type: str, definition: str) -> str:
    return hashlib.sha256(f"{api_type}\0{definition}".encode("utf-8", "replace")).hexdigest()


def api_definitions(model: SiteModel, keys: Iterable[str]) -> dict[str, str]:
    """The digest of each API's definition among ``keys``, by entity key."""
    found = {}
    for key in keys:
        entity = model.entities[key]
        spec = entity.get("spec") or {}
        definition, kind = spec.get("definition"), spec.get("type")
        if entity["kind"] == "API" and isinstance(definition, str):
            found[key] = definition_digest(kind if isinstance(kind, str) else "", definition)
    return found


def note_api_problems(workspace: Workspace, found: Mapping[str, list[str]]) -> None:
    """Remember what the parse of definitions (by digest) found."""
    if not found:
        return
    known = load_json(_file(workspace))
    if any(known.get(digest) != problems for digest, problems in found.items()):
        dump_json(_file(workspace), {**known, **found})


def known_api_problems(workspace: Workspace, digests: Iterable[str]) -> dict[str, list[str]]:
    """What is remembered of ``digests``."""
    known = load_json(_file(workspace))
    return {d: known[d] for d in digests if _is_problems(known.get(d))}


def api_problems(
    model: SiteModel, keys: Iterable[str], workspace: Workspace
) -> dict[str, list[str]]:
    """The problems of every API definition among ``keys`` (by entity key; only those with
    any), parsing those nobody noted; what is remembered is then exactly these."""
    digests = api_definitions(model, keys)
    before = load_json(_file(workspace))
    known: dict[str, list[str]] = {}
    found = {}
    for key, digest in digests.items():
        remembered = before.get(digest)
        if _is_problems(remembered):
            problems = remembered
        else:
            spec = model.entities[key].get("spec") or {}
            kind = spec.get("type")
            problems = api_reference(
                kind if isinstance(kind, str) else "", spec["definition"]
            ).problems
        known[digest] = problems
        if problems:
            found[key] = problems
    if known != before:
        dump_json(_file(workspace), known)
    return found


def _is_problems(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(p, str) for p in value)
