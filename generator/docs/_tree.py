"""A docs tree as the build may read it: regular files inside the repository, and a digest
of exactly those.

MkDocs walks ``docs_dir`` following every symlink, and reads whatever it finds there: a
FIFO or a character device hangs it, a link to ``.`` recurses until paths are too long,
an unreadable folder is skipped without a word. Here the tree is walked once, before
MkDocs sees it: hidden entries (which MkDocs leaves out anyway, ``.git`` among them) are
not entered, links are followed only while they stay in the repository and out of
``.git``, loops are cut, only regular files are kept, and each refusal is a warning that
names the path. MkDocs then builds from this list, and the build's digest covers exactly
what it lists.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BacklotError
from ..sources import Repository, RepositoryError

__all__ = [
    "DocsTree",
    "DocsTreeError",
    "TreeFile",
    "TreeLimits",
    "hash_repository_files",
    "walk_docs_tree",
]

_CHUNK = 1 << 20


class DocsTreeError(BacklotError):
    """The tree cannot be built at all (too many files, too large, its folder unreadable);
    the message says why."""

    def __init__(self, message: str, rule: str = "docs/too-large") -> None:
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True)
class TreeLimits:
    max_files: int = 20_000
    max_bytes: int = 1024 * 1024 * 1024


@dataclass(frozen=True)
class TreeFile:
    relpath: str  # POSIX, relative to the docs folder, as MkDocs names it
    real: Path
    size: int


@dataclass
class DocsTree:
    root: Path  # the docs folder's real path
    files: list[TreeFile] = field(default_factory=list)
    # (path relative to the docs folder, why it is left out)
    refused: list[tuple[str, str]] = field(default_factory=list)
    digest: str = ""


def walk_docs_tree(
    repository: Repository,
    docs_dir: Path,
    *,
    sort_key: Callable[[str], Any] = str,
    limits: TreeLimits = TreeLimits(),
    extra: Iterable[str] = (),
) -> DocsTree:
    """Every file MkDocs may build from in ``docs_dir`` (already checked to be inside the
    repository), in the order MkDocs walks a tree (folders depth-first and sorted, each
    folder's files by ``sort_key``), with a digest of names, contents and ``extra``."""
    tree = DocsTree(root=docs_dir)
    digest = hashlib.sha256()
    for item in extra:
        digest.update(item.encode("utf-8", "surrogateescape") + b"\0")
    total = 0
    # (real folder, its path relative to docs_dir, the real folders above it)
    stack: list[tuple[Path, str, frozenset[Path]]] = [(docs_dir, "", frozenset())]
    while stack:
        folder, rel, above = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            if not rel:
                raise DocsTreeError(
                    f"the docs folder cannot be read ({exc.strerror})", "docs/unreadable"
                ) from None
            tree.refused.append((rel, f"the folder cannot be read ({exc.strerror})"))
            continue
        files: list[tuple[str, Path, int]] = []
        folders: list[tuple[Path, str, frozenset[Path]]] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue  # MkDocs never builds hidden files; .git is never read
            relpath = f"{rel}/{entry.name}" if rel else entry.name
            real, problem = _follow(repository, Path(entry.path), entry)
            if problem is not None:
                tree.refused.append((relpath, problem))
                continue
            assert real is not None
            try:
                info = real.stat()
            except OSError as exc:
                tree.refused.append((relpath, f"it cannot be read ({exc.strerror})"))
                continue
            if stat.S_ISDIR(info.st_mode):
                if real in above or real == folder:
                    tree.refused.append(
                        (relpath, "it is a symlink loop (a link to a folder above it)")
                    )
                    continue
                folders.append((real, relpath, above | {folder}))
            elif stat.S_ISREG(info.st_mode):
                files.append((relpath, real, info.st_size))
            else:
                tree.refused.append(
                    (relpath, "it is not a regular file (a FIFO, socket or device is never read)")
                )
        files.sort(key=lambda f: sort_key(f[0].rsplit("/", 1)[-1]))
        for relpath, real, size in files:
            if len(tree.files) >= limits.max_files:
                raise DocsTreeError(
                    f"the docs tree has more than {limits.max_files:,} files; "
                    "is docs_dir the right folder?"
                )
            total += size
            if total > limits.max_bytes:
                raise DocsTreeError(
                    f"the docs tree holds more than {limits.max_bytes // 2**20:,} MB; "
                    "is docs_dir the right folder?"
                )
            try:
                _hash_file(digest, relpath, real)
            except OSError as exc:
                tree.refused.append((relpath, f"it cannot be read ({exc.strerror})"))
                continue
            tree.files.append(TreeFile(relpath, real, size))
        stack.extend(reversed(folders))
    tree.digest = digest.hexdigest()
    return tree


def _follow(
    repository: Repository, path: Path, entry: os.DirEntry[str]
) -> tuple[Path | None, str | None]:
    """The real path behind an entry, or why it may not be followed."""
    if not entry.is_symlink():
        return path, None
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, "it is a broken symlink or a symlink loop"
    inside = repository.relative(real)
    if inside is None:
        return None, "it is a symlink that leads outside the repository"
    try:
        repository.resolve(inside)
    except RepositoryError as exc:
        return None, str(exc)
    return real, None


def _hash_file(digest: Any, relpath: str, real: Path) -> None:
    digest.update(relpath.encode("utf-8", "surrogateescape") + b"\0")
    with real.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    digest.update(b"\0")


def hash_repository_files(repository: Repository, relpaths: Iterable[str]) -> str:
    """A digest of files the last build read from elsewhere in the repository (snippets):
    their names and contents, or that they are gone or no longer readable."""
    digest = hashlib.sha256()
    for relpath in sorted(set(relpaths)):
        digest.update(relpath.encode("utf-8", "surrogateescape") + b"\0")
        try:
            real = repository.resolve(relpath)
            if not stat.S_ISREG(real.stat().st_mode):
                raise RepositoryError("not a regular file")
            _hash_file(digest, relpath, real)
        except (OSError, RepositoryError):
            digest.update(b"\x01missing\0")
    return digest.hexdigest()
