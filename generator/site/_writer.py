"""Writes the site, touching only files whose bytes changed.

Unchanged files keep their mtime, so publishing later uploads only what changed. Files a
previous build wrote and this one did not are removed; nothing else in the folder is.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SiteWriter", "WriteStats"]


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    files: set[str] = field(default_factory=set)

    def merge(self, other: WriteStats) -> None:
        self.written += other.written
        self.unchanged += other.unchanged
        self.files |= other.files


class SiteWriter:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.stats = WriteStats()

    def write(self, relpath: str, content: str | bytes) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = self.out / relpath
        self.stats.files.add(relpath)
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                self.stats.unchanged += 1
                return
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
        self.stats.written += 1

    def copy(self, relpath: str, source: Path) -> None:
        """Like write, for a large file already on disk: compared and copied in chunks."""
        path = self.out / relpath
        self.stats.files.add(relpath)
        if path.is_file() and filecmp.cmp(source, path, shallow=False):
            self.stats.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        shutil.copyfile(source, partial)
        os.replace(partial, path)
        self.stats.written += 1

    def keep(self, relpath: str) -> None:
        """Count a file as produced without rewriting it (its inputs did not change)."""
        self.stats.files.add(relpath)
        self.stats.unchanged += 1


def remove_stale(out: Path, manifest: Path, produced: Iterable[str]) -> int:
    """Delete what the last build into ``out`` wrote and this one did not; record this one."""
    produced = sorted(set(produced))
    removed = 0
    try:
        previous = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    if previous.get("out") == str(out.resolve()):
        keep = set(produced)
        for relpath in previous.get("files", []):
            if (
                relpath in keep
                or not isinstance(relpath, str)
                or relpath.startswith("/")
                or ".." in relpath.split("/")
            ):
                continue  # only relative paths inside ``out`` are ours to delete
            path = out / relpath
            if path.is_file():
                path.unlink()
                removed += 1
                _prune_empty(path.parent, out)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"out": str(out.resolve()), "files": produced}), "utf-8")
    return removed


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
