"""A repository as the catalog stage sees it: named files, read safely, never outside it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

__all__ = ["FileTooLarge", "OutsideRepository", "Repository", "RepositoryError"]


class RepositoryError(Exception):
    """A file of a repository could not be read; the message says why, for a user."""


class OutsideRepository(RepositoryError):
    """A path (or the symlink it goes through) leads out of the repository."""


class FileTooLarge(RepositoryError):
    pass


@dataclass(frozen=True)
class Repository:
    """A checked-out repository: its files live below ``root``.

    ``name`` is how the portal names it; ``url`` (when known) is the web address of its
    default branch, used for view/edit links and ``backstage.io/source-location``.
    Paths handed to and returned from a repository are POSIX paths relative to its root.
    """

    name: str
    root: Path
    url: str | None = None
    commit: str | None = None
    descriptors: tuple[str, ...] = field(default=())
    display_root: Path | None = None

    def display(self, relpath: str) -> str:
        """How messages name a file: ``<repository>/<path>``, or, with ``display_root``,
        the path relative to the working directory, as a user typing commands sees it."""
        if self.display_root is not None:
            return os.path.relpath(self.display_root / relpath)
        return f"{self.name}/{relpath}"

    def resolve(self, relpath: str) -> Path:
        """The real path of ``relpath``; refuses paths and symlinks that leave the repo."""
        lexical = os.path.normpath(relpath)
        if PurePosixPath(relpath).is_absolute() or lexical == ".." or lexical.startswith("../"):
            raise OutsideRepository(f"{relpath!r} is outside the repository {self.name!r}")
        root = self.root.resolve()
        target = (root / lexical).resolve()
        if target != root and root not in target.parents:
            raise OutsideRepository(
                f"{relpath!r} leads outside the repository {self.name!r} through a symlink"
            )
        return target

    def read_bytes(self, relpath: str, limit: int) -> bytes:
        path = self.resolve(relpath)
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise RepositoryError(f"{relpath} is not a file")
            if size > limit:
                raise FileTooLarge(
                    f"{relpath} is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit "
                    "for descriptor files (catalog.max_file_bytes in backlot.yaml)"
                )
            with path.open("rb") as handle:
                # Read one byte more than allowed: the file may grow between stat and read.
                data = handle.read(limit + 1)
        except FileNotFoundError:
            raise RepositoryError(f"{relpath} does not exist") from None
        except OSError as exc:
            raise RepositoryError(f"{relpath} cannot be read: {exc.strerror}") from None
        if len(data) > limit:
            raise FileTooLarge(f"{relpath} is over the {limit / 1e6:.0f} MB limit")
        return data

    def glob(self, pattern: str) -> list[str]:
        """Files matching ``pattern`` (relative to the root), sorted, symlinks-out excluded."""
        root = self.root.resolve()
        matches: list[str] = []
        for path in sorted(root.glob(pattern)):
            try:
                real = path.resolve()
            except OSError:
                continue
            if real.is_file() and (real == root or root in real.parents):
                matches.append(path.relative_to(root).as_posix())
        return matches
