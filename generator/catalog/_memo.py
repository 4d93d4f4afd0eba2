"""What the last build's catalog stage made of each descriptor file, so that a file whose
bytes did not change is neither parsed nor checked again.

Parsing and checking are four fifths of the stage (10,000 entities: 1.9 s of YAML and 1.1 s
of checks in 3.8 s). What a file gives depends on its bytes and on where it was read from
(the location annotations its entities get), so that is the key, with the version of
Backlot: a new version may judge differently, and checks everything again. Only a file
whose every document was accepted as written is remembered (no placeholders, no problem
of any kind): the rest is rare, and recomputed, so each of its findings is made the one way.
What a file's entities meet in the rest of the catalog (conflicts, the repository's size
limit, references) is not remembered: it is worked out anew every build.

The memo is JSON lines in the cache directory (which may come back from a shared Actions
cache: nothing in it can run), written atomically, holding only the files this build read,
so it never grows past the catalog. A memo that cannot be read is an empty one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..files import writing_atomically
from ..model import EntityRef, Relation

__all__ = ["DescriptorMemo", "RememberedDocument"]

MEMO_VERSION = 1


@dataclass(frozen=True)
class RememberedDocument:
    """One accepted document of a file: where it is, its size once expanded, the entity
    with its location annotations, and what its check found (identity and relations)."""

    index: int
    line: int
    size: int
    entity: dict[str, Any]
    ref: EntityRef
    relations: list[Relation]


class DescriptorMemo:
    """Remembered files by key; ``write`` keeps the ones this build asked for or gave."""

    def __init__(self, files: dict[str, list[RememberedDocument]] | None = None) -> None:
        self._files = files or {}
        self._used: dict[str, list[RememberedDocument]] = {}
        self.served = 0  # files this build took from the memo

    def __len__(self) -> int:
        return len(self._files)

    @staticmethod
    def key(data: bytes, *where: str | None) -> str:
        """The key of a file's bytes read at ``where`` (its location, origin and web
        addresses)."""
        digest = hashlib.sha256(data)
        for part in where:
            digest.update(b"\0" + (part or "").encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def get(self, key: str) -> list[RememberedDocument] | None:
        found = self._files.get(key)
        if found is not None:
            self._used[key] = found
            self.served += 1
        return found

    def put(self, key: str, documents: list[RememberedDocument]) -> None:
        self._files[key] = documents
        self._used[key] = documents

    @classmethod
    def read(cls, path: Path) -> DescriptorMemo:
        """The memo at ``path``; an empty one when there is none, it is another version's
        or it cannot be read (the catalog is then simply built in full)."""
        try:
            with path.open("rb") as handle:
                header = json.loads(handle.readline())
                if header != _header():
                    return cls()
                files = {}
                for line in handle:
                    key, documents = json.loads(line)
                    files[key] = [_document(item) for item in documents]
        except (OSError, ValueError, TypeError, KeyError, IndexError):
            return cls()
        return cls(files)

    def write(self, path: Path) -> None:
        """The files this build used, one a line, in one rename; nothing when those are
        the files read (every file unchanged, none gone)."""
        if self._used.keys() == self._files.keys() and self.served == len(self._used) > 0:
            return
        # Line by line: at 50,000 entities the memo is 100 MB, which must not be held in
        # memory again as one string.
        with writing_atomically(path) as handle:
            handle.write(json.dumps(_header()) + "\n")
            for key, documents in self._used.items():
                line = json.dumps([key, [_item(d) for d in documents]], allow_nan=False)
                handle.write(line + "\n")


def _header() -> dict[str, Any]:
    return {"memo": MEMO_VERSION, "generator": f"backlot {__version__}"}


def _item(document: RememberedDocument) -> list[Any]:
    return [
        document.index,
        document.line,
        document.size,
        list(document.ref),
        [[r.type, list(r.target), list(r.path)] for r in document.relations],
        document.entity,
    ]


def _document(item: list[Any]) -> RememberedDocument:
    index, line, size, ref, relations, entity = item
    if not isinstance(entity, dict):
        raise TypeError("an entity is a mapping")
    return RememberedDocument(
        index=int(index),
        line=int(line),
        size=int(size),
        entity=entity,
        ref=EntityRef(*ref),
        relations=[
            Relation(kind, EntityRef(*target), tuple(path)) for kind, target, path in relations
        ],
    )
