"""Writing a file so that a reader, or a run killed half-way, never sees part of it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


def write_atomic(
    path: Path, data: bytes, scratch: Path | None = None, *, parent_exists: bool = False
) -> None:
    """``data`` at ``path`` in one rename: the old file or the new one, never a mix. The
    temporary name is unique, so parallel writers of the same path do not collide. With
    ``scratch`` (a folder on the same file system) the partial file is written there, so a
    kill leaves nothing beside the output for a reader to see. ``parent_exists``: the
    caller made the folder (a writer of thousands of files saves the system calls)."""
    if not parent_exists:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".partial", dir=scratch or path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def writing_atomically(path: Path) -> Iterator[TextIO]:
    """A text file to write piece by piece (what is too big to hold as one string), put
    at ``path`` in one rename when the block ends, and never if it fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
