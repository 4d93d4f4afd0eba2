"""Shards: one build's heavy work split across machines, and ``shard.json``, what a shard
says of itself to the merge.

``backlot build --shard I/N`` builds the docs sites and the entity pages (with their
graphs) of the entities shard I owns, from one ``catalog.json``; ``backlot merge`` puts
the N shards' folders together and renders what needs them all (lists, badges, search).
Which shard owns an entity depends on its key and N alone: the shards agree without
talking, and an entity that comes or goes moves no other.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._docs_report import DocsReport

__all__ = ["MAX_SHARDS", "SHARD_FILE", "Shard", "ShardManifest", "file_digest", "slot_of"]

# In a shard's folder, beside its pages: never part of the portal.
SHARD_FILE = "shard.json"
# GitHub Actions runs at most 256 jobs of one matrix.
MAX_SHARDS = 256

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as a matrix's values are written: 1/4 … 4/4
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``I/N``: shard I of N, 1 ≤ I ≤ N ≤ 256; ValueError saying what is wrong."""
        match = _SPEC.fullmatch(text)
        if not match:
            raise ValueError(f"{text!r} is not I/N (shard I of N, as in 2/4)")
        index, count = int(match[1]), int(match[2])
        if not 1 <= count <= MAX_SHARDS:
            raise ValueError(f"{text!r}: N must be 1 to {MAX_SHARDS}")
        if not 1 <= index <= count:
            raise ValueError(f"{text!r}: I must be 1 to {count} (shards are counted from 1)")
        return cls(index, count)

    def owns(self, key: str) -> bool:
        """Whether this shard builds the entity ``key`` (an ``EntityRef.key``)."""
        return slot_of(key, self.count) == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


class ShardManifest(BaseModel):
    """What one shard built, and from what: the merge refuses shards of another catalog,
    other settings or another Backlot, and copies exactly ``files``."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    schema_version: Literal[1] = Field(default=1, alias="schemaVersion")
    generator: str  # the Backlot version that built it
    shard: str  # "I/N"
    catalog: str  # sha256 of the catalog.json bytes it was built from
    inputs: str  # the site stage's digest of settings, templates and version
    files: list[str]  # the portal files it wrote (its docs sites are under docs/)
    docs: DocsReport = Field(default_factory=DocsReport)  # its docs stage's report
    # What its API definitions' parse found, by definition digest: the merge's Problems
    # page lists them without parsing every definition again.
    api_problems: dict[str, list[str]] = Field(default_factory=dict)
    # The search index's part it built (its files among ``files``), when the index has as
    # many parts as there are shards; None when the merge indexes everything.
    search_part: int | None = None

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{SHARD_FILE}.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.model_dump_json(by_alias=True))
            os.replace(partial, folder / SHARD_FILE)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, folder: Path) -> ShardManifest:
        """The manifest of the shard built into ``folder``; ValueError naming the file and
        what is wrong with it (the folder is no finished shard)."""
        path = folder / SHARD_FILE
        try:
            return cls.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise ValueError(
                f"{path}: no such file; {folder} is not a finished shard "
                "(made by backlot build --shard I/N)"
            ) from None
        except (OSError, ValidationError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            raise ValueError(f"{path}: not a Backlot shard manifest ({first})") from None


def slot_of(key: str, count: int) -> int:
    """Which of ``count`` parts the entity ``key`` falls in (0-based), by a digest of the
    key: the same on every machine and in every build, whatever else the catalog holds."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (a 50,000-entity catalog.json is ~100 MB: read in chunks)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
