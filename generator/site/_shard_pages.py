"""The entity pages of a merge (``backlot merge``): rendered by the shards, copied in.

Each shard (``backlot build --shard I/N``) rendered the entity pages of the entities it
owns, and said so in its ``shard.json``. The merge takes them only when every shard of
the set is there, built from the same ``catalog.json`` with the same settings and the same
Backlot, and when each file it lists belongs to an entity of that shard: a shard folder is
an artifact passed between jobs, so a path in it is checked before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import BacklotError
from ..model import Shard, ShardManifest, badge_file, entity_dir, entity_page
from ._api_problems import note_api_problems
from ._context import SiteContext
from ._output import PageOutput
from ._search import PARTS_FILE, SEARCH_DIR

__all__ = ["ShardMismatch", "ShardPages", "ShardSet", "check_inputs", "read_shards"]


class ShardMismatch(BacklotError):
    """The shards given to a merge are not one complete set built from its inputs."""


ShardSet = list[tuple[Path, ShardManifest, Shard]]


def read_shards(
    folders: Sequence[Path], catalog: str, version: str, keys: Iterable[str]
) -> ShardSet:
    """Each shard folder with its manifest, checked: one complete set (1/N … N/N, each
    once), built by Backlot ``version`` from the catalog.json whose digest is ``catalog``
    (whose entities are ``keys``); every file it lists is a file of an entity it owns,
    and every entity has its page. ShardMismatch says which folder is wrong and why. The
    site stage checks the rest (``check_inputs``) before it writes."""
    shards = []
    for folder in folders:
        try:
            manifest = ShardManifest.read(folder)
            shard = Shard.parse(manifest.shard)
        except ValueError as exc:
            raise ShardMismatch(str(exc)) from None
        if manifest.generator != version:
            raise ShardMismatch(
                f"{folder}: shard {shard} was built by Backlot {manifest.generator}, "
                f"this is {version}; build every shard with the merge's version"
            )
        if manifest.catalog != catalog:
            raise ShardMismatch(
                f"{folder}: shard {shard} was built from another catalog.json than this "
                "merge's; give every shard and the merge the same one (--catalog)"
            )
        shards.append((folder, manifest, shard))
    counts = {shard.count for _, _, shard in shards}
    if len(counts) > 1:
        raise ShardMismatch(
            "the shards are of different sets: "
            + ", ".join(f"{shard} ({folder})" for folder, _, shard in shards)
        )
    count = counts.pop() if counts else 0
    seen: dict[int, Path] = {}
    for folder, _, shard in shards:
        if shard.index in seen:
            raise ShardMismatch(f"shard {shard} is given twice: {seen[shard.index]} and {folder}")
        seen[shard.index] = folder
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
    if missing or not shards:
        raise ShardMismatch(
            f"shard{'s' if len(missing) != 1 else ''} {', '.join(missing)} missing: a merge "
            "needs every shard of the set"
            if shards
            else "no shard folders given"
        )
    _check_files(shards, set(keys))
    return sorted(shards, key=lambda s: s[2].index)


def check_inputs(shards: ShardSet, inputs: str) -> None:
    """Every shard was rendered with the settings, templates and context sources whose
    digest is ``inputs`` (the merge's)."""
    for folder, manifest, shard in shards:
        if manifest.inputs != inputs:
            raise ShardMismatch(
                f"{folder}: shard {shard} was built with other settings, templates or "
                "context sources than this merge's; build them from the same backlot.yaml"
            )


def _check_files(shards: ShardSet, keys: set[str]) -> None:
    """A shard folder is an artifact passed between jobs: each path it lists must be a
    regular file below a folder of an entity the shard owns (or in its own part of the
    search index), reached without a link, and listed by no other shard; and every entity
    needs its page from some shard."""
    # An entity's files are below its folders: catalog/<ns>/<kind>/<name>/…, and its
    # badges below badges/<ns>/<kind>/<name>/.
    owner = {folder: key for key in keys for folder in (entity_dir(key), _badge_dir(key))}
    found: set[str] = set()
    listed: dict[str, Path] = {}
    for folder, manifest, shard in shards:
        regular = _regular_files(folder)
        for relpath in manifest.files:
            if relpath in listed:
                raise ShardMismatch(f"{relpath!r} is listed by {listed[relpath]} and {folder}")
            listed[relpath] = folder
            if relpath.startswith(SEARCH_DIR) and relpath in regular:
                # Its part of the search index: below pagefind/part-<its slot>/, or the
                # first part's files at pagefind/ itself.
                slot = manifest.search_part
                inside = relpath[len(SEARCH_DIR) :]
                if slot is not None and (
                    inside.startswith(f"part-{slot}/")
                    or not (inside.startswith("part-") or inside == PARTS_FILE)
                ):
                    continue
            parts = relpath.split("/")
            key = owner.get("/".join(parts[:4]) + "/")
            if key is None or not shard.owns(key) or relpath not in regular:
                raise ShardMismatch(
                    f"{folder}: shard {shard} lists {relpath!r}, which is not a file of "
                    "an entity it owns"
                )
            if relpath == entity_page(key):
                found.add(key)
    lost = sorted(keys - found)
    if lost:
        raise ShardMismatch(
            f"no shard has the page of {lost[0]}"
            + (f" (and {len(lost) - 1} more)" if len(lost) > 1 else "")
            + "; were the shards built from this catalog.json?"
        )


def _regular_files(folder: Path) -> set[str]:
    """The regular files below ``folder``, by relative path, reached without following a
    link (one directory read per folder: no system call per file)."""
    found: set[str] = set()
    pending = [("", str(folder))]
    while pending:
        prefix, path = pending.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((f"{prefix}{entry.name}/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    found.add(prefix + entry.name)
    return found


def _badge_dir(key: str) -> str:
    return badge_file(key, "").rpartition("/")[0] + "/"


class ShardPages:
    """The page family that stands for EntityPages and Badges in a merge: the shards'
    files, checked by ``read_shards``, linked in (only those whose bytes differ)."""

    def __init__(self, shards: ShardSet) -> None:
        self.shards = shards

    def render(self, context: SiteContext, output: PageOutput) -> None:
        for _, manifest, _ in self.shards:
            note_api_problems(context.workspace, manifest.api_problems)
        pages = {entity_page(key) for key in context.model.entities}
        for folder, manifest, _ in self.shards:
            for relpath in manifest.files:
                output.copy(relpath, folder / relpath, link=True)
                if relpath in pages:
                    output.result.pages += 1
