"""Where a build keeps its artifacts, and the guard that keeps two builds from sharing them.

One object names every file a build reads and writes in its cache directory (the catalog,
the docs report and state, the site's state, manifest and journal, scratch space), so no
stage spells a file name of another. ``Workspace.locked()`` holds a lock on the cache
directory and on the output folder for the length of a command: a second build on either
fails at once with a message naming the first, instead of the two overwriting each
other's temporary files. It also clears what a killed build left in the scratch space.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from .errors import BacklotError

__all__ = ["KEPT_BASELINES", "Workspace", "WorkspaceBusy", "source_set_key"]

# Baselines of this many source sets are kept (the most recently finished): switching
# between a few folders keeps each one's history, a thousand test folders fill nothing.
KEPT_BASELINES = 8


def source_set_key(sources: Sequence[BaseModel]) -> str:
    """A short digest of a build's sources (``catalog.sources`` of the settings), local
    folders by their resolved path: ``backlot build ../org`` and ``backlot build
    /home/me/org`` are one source set, another folder or organisation is another."""
    described = []
    for source in sources:
        data = source.model_dump(mode="json")
        path = getattr(source, "path", None)
        if isinstance(path, Path):
            data["path"] = str(path.resolve())
        described.append(json.dumps(data, sort_keys=True))
    return hashlib.sha256("\n".join(sorted(described)).encode()).hexdigest()[:16]


class WorkspaceBusy(BacklotError):
    """Another build holds the cache directory or the output folder."""


@dataclass(frozen=True)
class Workspace:
    cache_dir: Path
    output: Path

    @property
    def catalog(self) -> Path:
        return self.cache_dir / "catalog.json"

    def baseline_catalog(self, sources: str) -> Path:
        """The catalog of the last build of the same source set (``sources``, a
        ``source_set_key``) that finished: what this build's is compared with (entities
        that disappeared, who held an entity). Kept per source set, so that building
        another folder in the same place starts its own history instead of reporting the
        other organisation as gone. Only ``finished`` records one, so a killed build
        leaves the baseline as it was, and the next compares with the same one."""
        killed = self._pending.exists()
        self._pending.touch()
        own = self._baselines / f"catalog-{sources}.json"
        if not self._baselines.exists():
            # A cache from before baselines were kept per source set: its last finished
            # catalog is the baseline once, as it was then (a killed build had moved it
            # aside; else it is catalog.json).
            return self.cache_dir / "catalog.baseline.json" if killed else self.catalog
        return own

    def build_unfinished(self) -> bool:
        """A build that uses this cache started and has not finished (it was killed, or
        is running): its output may be half old, half new."""
        return self._pending.exists()

    def finished(self, sources: str | None) -> None:
        """The command finished. With ``sources`` (it wrote ``catalog`` from that source
        set), its catalog becomes that set's baseline for the next build; the oldest
        baselines beyond ``KEPT_BASELINES`` go. Without, nothing a build started is
        cleared: a ``catalog -o elsewhere.json`` does not finish a killed build."""
        if sources is None:
            return
        self._baselines.mkdir(parents=True, exist_ok=True)
        if self.catalog.is_file():
            # catalog.json is only ever replaced whole (written atomically), so a second
            # name for the same file is a copy that costs nothing.
            partial = self._baselines / f".catalog-{sources}.json.{os.getpid()}"
            partial.unlink(missing_ok=True)
            try:
                os.link(self.catalog, partial)
            except OSError:
                shutil.copyfile(self.catalog, partial)
            os.replace(partial, self._baselines / f"catalog-{sources}.json")
        kept = sorted(
            self._baselines.glob("catalog-*.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in kept[KEPT_BASELINES:]:
            old.unlink(missing_ok=True)
        self._pending.unlink(missing_ok=True)
        (self.cache_dir / "catalog.baseline.json").unlink(missing_ok=True)

    @property
    def _pending(self) -> Path:
        """Present from the moment a build picks its baseline until it finished."""
        return self.cache_dir / "build.pending"

    @property
    def _baselines(self) -> Path:
        return self.cache_dir / "baselines"

    @property
    def descriptor_memo(self) -> Path:
        """What the catalog stage made of each descriptor file (``catalog.DescriptorMemo``)."""
        return self.cache_dir / "descriptors.jsonl"

    @property
    def context_snapshot(self) -> Path:
        """The context sources' last snapshot (``context.ContextSnapshot``)."""
        return self.cache_dir / "context.json"

    @property
    def docs_report(self) -> Path:
        return self.cache_dir / "docs-report.json"

    @property
    def docs_publish(self) -> Path:
        """Where ``backlot docs publish`` builds before it uploads."""
        return self.cache_dir / "docs-publish"

    @property
    def published_docs(self) -> Path:
        """What the bucket's published sites said of themselves, by ETag (external mode)."""
        return self.cache_dir / "published-docs.json"

    @property
    def site_state(self) -> Path:
        """When each entity's data last changed, by content hash (the site stage's)."""
        return self.cache_dir / "site-state.json"

    @property
    def site_manifest(self) -> Path:
        """Every file the last finished site build wrote: what the next may remove."""
        return self.cache_dir / "site-files.json"

    @property
    def site_journal(self) -> Path:
        """Files an unfinished site build created, noted before each was written."""
        return self.cache_dir / "site-files.journal"

    @property
    def graphs(self) -> Path:
        return self.cache_dir / "graphs"

    @property
    def scratch(self) -> Path:
        """Temporary files and folders of the running build; emptied when a build starts,
        so nothing a killed build left lasts, and never inside the published output."""
        return self.cache_dir / "tmp"

    @property
    def lock_file(self) -> Path:
        return self.cache_dir / "lock"

    def scratch_for(self, target: Path) -> Path:
        """Scratch space from which files can be renamed into ``target`` (a rename cannot
        cross file systems): the cache's, or, when ``target`` is on another file system, a
        hidden folder inside it that every build empties first."""
        shared = self.scratch
        shared.mkdir(parents=True, exist_ok=True)
        target.mkdir(parents=True, exist_ok=True)
        if os.stat(shared).st_dev == os.stat(target).st_dev:
            return shared
        local = target / ".backlot-tmp"
        local.mkdir(exist_ok=True)
        return local

    @contextlib.contextmanager
    def locked(self, command: str, *, output: bool = True) -> Iterator[Workspace]:
        """Hold the cache directory (and, with ``output``, the output folder) for one
        command; clear the scratch space a killed build may have left."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            handle = stack.enter_context(self.lock_file.open("a+", encoding="utf-8"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise WorkspaceBusy(
                    f"{self.cache_dir} is in use by {holder}; wait for it to finish, "
                    "or give this build its own --cache-dir"
                ) from None
            handle.seek(0)
            handle.truncate()
            since = time.strftime("%H:%M:%S")
            handle.write(f"backlot {command} (pid {os.getpid()}, since {since})")
            handle.flush()
            if output:
                self.output.mkdir(parents=True, exist_ok=True)
                folder = os.open(self.output, os.O_RDONLY | os.O_DIRECTORY)
                stack.callback(os.close, folder)
                try:
                    fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise WorkspaceBusy(
                        f"{self.output} is being written by another backlot build; "
                        "wait for it to finish, or build into another folder (-o)"
                    ) from None
            shutil.rmtree(self.scratch, ignore_errors=True)
            shutil.rmtree(self.output / ".backlot-tmp", ignore_errors=True)
            shutil.rmtree(self.output / "docs" / ".backlot-tmp", ignore_errors=True)
            yield self
