"""Writing a file so that a reader, or a run killed half-way, never sees part of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
