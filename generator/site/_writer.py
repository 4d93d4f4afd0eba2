"""Writes the site, touching only files whose bytes changed.

Unchanged files keep their mtime, so publishing later uploads only what changed. Files a
previous build wrote and this one did not are removed; nothing else in the folder is.

A build can be killed at any point (a CI job cancelled, a machine lost). Files are written
in the scratch space outside the output and renamed into place, so a reader never sees
half a page and no temporary file is ever left in what gets published. A file that did
not exist before is first noted in a journal, so if the build dies before it records its
manifest, the next build still knows the file is its own to remove.
"""

from __future__ import annotations

import errno
import filecmp
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_atomic

__all__ = ["SiteWriter", "WriteStats", "remove_stale"]


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    files: set[str] = field(default_factory=set)

    def merge(self, other: WriteStats) -> None:
        twice = self.files & other.files
        if twice:
            raise ValueError(f"{sorted(twice)[0]} was written twice in one build")
        self.written += other.written
        self.unchanged += other.unchanged
        self.files |= other.files


class SiteWriter:
    def __init__(self, out: Path, scratch: Path, journal: Path) -> None:
        self.out = out
        self.scratch = scratch
        self.journal = journal
        self.stats = WriteStats()
        # A cold build writes tens of thousands of files into a few thousand folders: each
        # folder is made once, and the output's real path resolved once.
        self._folders: set[Path] = set()
        self._where = ""
        self._journal_fd: int | None = None
        self._links = 0

    def __del__(self) -> None:
        # The journal stays open for the writer's life: one open per batch, not per file.
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None

    def _folder(self, path: Path) -> None:
        folder = path.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def write(self, relpath: str, content: str | bytes) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = self.out / relpath
        self._claim(relpath)
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                self.stats.unchanged += 1
                return
        except FileNotFoundError:
            self._note_new(relpath, path)
        self._folder(path)
        write_atomic(path, data, scratch=self.scratch, parent_exists=True)
        self.stats.written += 1

    def copy(self, relpath: str, source: Path, *, link: bool = False) -> None:
        """Like write, for a file already on disk: compared and copied in chunks. With
        ``link``, a hard link to ``source`` where the file system allows: one system call
        instead of a create, a copy and a rename (a merge puts tens of thousands of shard
        files in place). Only for sources nothing writes into afterwards: every writer
        here replaces a file whole, so the two names never diverge by an edit in place;
        and so a file that is still the link made last time is the same without a read."""
        path = self.out / relpath
        self._claim(relpath)
        try:
            there = os.stat(path)
        except FileNotFoundError:
            there = None
        exists = there is not None and stat.S_ISREG(there.st_mode)
        if (
            there is not None
            and exists
            and ((link and _same_file(source, there)) or filecmp.cmp(source, path, shallow=False))
        ):
            self.stats.unchanged += 1
            return
        if not exists:
            self._note_new(relpath, path)
        if link and self._link(source, path, exists):
            self.stats.written += 1
            return
        fd, temporary = tempfile.mkstemp(prefix="copy-", dir=self.scratch)
        os.close(fd)
        try:
            shutil.copyfile(source, temporary)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stats.written += 1

    def _link(self, source: Path, path: Path, exists: bool) -> bool:
        """``path`` as a hard link to ``source``; False where links cannot be made (another
        file system, a file system without them)."""
        try:
            if not exists:
                os.link(source, path)  # the name appears with the whole file behind it
                return True
            self._links += 1
            temporary = self.scratch / f"link-{os.getpid()}-{self._links}"
            temporary.unlink(missing_ok=True)
            os.link(source, temporary)
            os.replace(temporary, path)
            return True
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                return False
            raise

    def keep(self, relpath: str) -> None:
        """Count a file as produced without rewriting it (its inputs did not change)."""
        self._claim(relpath)
        self.stats.unchanged += 1

    def merge(self, stats: WriteStats) -> None:
        """What another writer of the same build (a worker's) produced."""
        self.stats.merge(stats)

    def _claim(self, relpath: str) -> None:
        # Two pages at one path would be a bug that hides one of them: fail loudly.
        if relpath in self.stats.files:
            raise ValueError(f"{relpath} was written twice in one build")
        self.stats.files.add(relpath)

    def _note_new(self, relpath: str, path: Path) -> None:
        self._folder(path)
        if not self._where:
            self._where = str(self.out.resolve())
        # One short append per new file; O_APPEND keeps lines whole across worker processes.
        line = json.dumps([self._where, relpath]) + "\n"
        if self._journal_fd is None:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            self._journal_fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self._journal_fd, line.encode("utf-8"))


def _same_file(source: Path, there: os.stat_result) -> bool:
    """Whether ``there`` is ``source`` itself (a hard link to it)."""
    mine = os.stat(source)
    return (mine.st_ino, mine.st_dev) == (there.st_ino, there.st_dev)


def remove_stale(
    out: Path,
    manifest: Path,
    journal: Path,
    produced: Iterable[str],
    only: Callable[[str], bool] | None = None,
) -> int:
    """Delete what earlier builds into ``out`` wrote (their manifest, and the journal of a
    build that did not finish) and this one did not; record this one. ``only``: this run
    renewed only the files it matches (one page family): the others stay, and stay
    recorded."""
    produced = sorted(set(produced))
    removed = 0
    try:
        previous = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    ours = previous.get("files", []) if previous.get("out") == str(out.resolve()) else []
    keep = set(produced)
    noted = _journal(journal, out)
    if only is not None:
        # A killed full build's new files included: the next full build decides on them.
        others = [p for p in [*ours, *noted] if isinstance(p, str) and not only(p)]
        keep.update(others)
        produced = sorted(keep)
    for relpath in [*ours, *noted]:
        if (
            relpath in keep
            or not isinstance(relpath, str)
            or relpath.startswith("/")
            or ".." in relpath.split("/")
        ):
            continue  # only relative paths inside ``out`` are ours to delete
        path = out / relpath
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed += 1
            _prune_empty(path.parent, out)
    write_atomic(manifest, json.dumps({"out": str(out.resolve()), "files": produced}).encode())
    journal.unlink(missing_ok=True)
    return removed


def _journal(journal: Path, out: Path) -> list[str]:
    """The files an unfinished build into ``out`` created."""
    try:
        lines = journal.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    noted = []
    where = str(out.resolve())
    for line in lines:
        try:
            folder, relpath = json.loads(line)
        except ValueError:
            continue  # the last line of a killed build may be cut short
        if folder == where:
            noted.append(relpath)
    return noted


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
