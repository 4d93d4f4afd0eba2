"""A repository as every stage sees it: named files, read safely, never outside it.

``Repository`` is the protocol the stages use; ``LocalRepository`` is a checked-out folder
(the local source's, and later the crawl's and git's, which check out or fetch into one).
Nothing outside a repository object touches its files by path: the boundary (no path
outside the repository, none into ``.git``, only regular files) is kept in one place, and
so are the shapes of its web addresses (``blob/``, ``edit/``, ``tree/``), which belong to
the host that serves it.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from ..errors import BacklotError
from ._history import WorkTreeHistory

__all__ = [
    "FileTooLarge",
    "GitFolder",
    "LocalRepository",
    "OutsideRepository",
    "Repository",
    "RepositoryError",
    "SourceError",
    "UnreachableRepository",
    "UrlOpener",
    "WebView",
    "checked_path",
    "github_style_folder",
    "github_style_url",
    "is_git_path",
]

WebView = Literal["blob", "edit", "tree"]


class SourceError(BacklotError):
    """A configured source cannot be read at all; the message names it."""


class RepositoryError(BacklotError):
    """A file of a repository could not be read; the message says why, for a user."""


class OutsideRepository(RepositoryError):
    """A path (or the symlink it goes through) leads out of the repository."""


class GitFolder(OutsideRepository):
    """A path into ``.git``: git's own files are not the repository's content, and a CI
    checkout keeps its credentials there (``actions/checkout`` writes a token into
    ``.git/config`` by default)."""


class FileTooLarge(RepositoryError):
    pass


def is_git_path(relpath: str) -> bool:
    """Whether a POSIX path relative to a repository goes through a ``.git`` entry (in
    any case: ``.GIT`` is the same folder on case-insensitive file systems)."""
    return any(part.lower() == ".git" for part in relpath.split("/"))


def checked_path(relpath: str, repository: str) -> str:
    """``relpath`` normalised, or the refusal: absolute, up out of the repository, or into
    ``.git``. (A symlink is judged where it leads, by the repository that has files.)"""
    lexical = os.path.normpath(relpath)
    if PurePosixPath(relpath).is_absolute() or lexical == ".." or lexical.startswith("../"):
        raise OutsideRepository(f"{relpath!r} is outside the repository {repository!r}")
    if is_git_path(PurePosixPath(lexical).as_posix()):
        raise GitFolder(
            f"{relpath!r} is inside .git, git's own folder, which is never read "
            "(a checkout may keep credentials there)"
        )
    return lexical


def github_style_url(base: str, relpath: str, view: WebView) -> str:
    """GitHub's shapes (GitHub Enterprise and Gitea share them), at ``HEAD``: the default
    branch, whatever it is called."""
    if view == "tree":
        folder = "" if relpath in ("", ".") else relpath.rstrip("/") + "/"
        return f"{base}/tree/HEAD/{folder}"
    return f"{base}/{view}/HEAD/{relpath}"


def github_style_folder(base: str, url: str) -> str | None:
    """The folder a ``<base>/tree/<ref>/<folder>`` URL names (the crawled commit is the
    default branch's, whichever ref the URL names)."""
    prefix = f"{base}/tree/"
    if not url.startswith(prefix):
        return None
    return posixpath.normpath(url[len(prefix) :].partition("/")[2] or ".")


class Repository(Protocol):
    """What a stage may ask of a repository. Paths handed in and out are POSIX paths
    relative to its root; every read is refused outside the repository and in ``.git``."""

    @property
    def name(self) -> str:
        """How the portal names it (unique among the sources)."""

    @property
    def url(self) -> str | None:
        """The web address of its default branch, when known."""

    @property
    def commit(self) -> str | None: ...

    @property
    def descriptors(self) -> tuple[str, ...]:
        """Its descriptor files, as the source found them."""

    def display(self, relpath: str) -> str:
        """How messages name one of its files."""

    def resolve(self, relpath: str) -> Path:
        """The real local path of a file or folder (the docs stage builds from it)."""

    def relative(self, real: Path) -> str | None:
        """A real path back to the repository's own path, or None if outside it."""

    def read_bytes(self, relpath: str, limit: int) -> bytes: ...

    def glob(self, pattern: str) -> list[str]: ...

    def is_file(self, relpath: str) -> bool: ...

    def location(self, relpath: str) -> str:
        """Backstage's ``managed-by-location`` for a file: ``url:…`` or ``file:…``."""

    def web_url(self, relpath: str, view: WebView) -> str | None:
        """The file's (or folder's, for ``tree``) page on the host, when known."""

    def folder_of(self, url: str) -> str | None:
        """The folder a ``tree`` URL into this repository names, or None."""

    def stale(self, relpath: str) -> tuple[str, str] | None:
        """For a file the source could not read this time and serves as last read: why,
        and since when (ISO). None for a file read fresh."""

    def last_good(self, relpath: str) -> tuple[bytes, str] | None:
        """The version of a file the source read before this one, and since when it was
        current: for the catalog to fall back on when this one cannot be parsed."""

    def changed_times(self, relpaths: Collection[str]) -> dict[str, str]:
        """When each file last changed: the committer date (ISO 8601 UTC,
        ``2026-11-30T14:03:00Z``) of the last commit that touched it, from one walk of the
        history for all of them. A file whose date is not known is left out."""


class UrlOpener(Protocol):
    """Opens a URL that points outside the repositories a build has (a Location target,
    a techdocs-ref ``url:``) into the repository it is in and its path there."""

    def open(self, url: str) -> tuple[Repository, str]:
        """Raises RepositoryError, naming the URL, when it cannot be read."""

    def repositories(self) -> list[Repository]:
        """Every repository opened so far (their entities' docs are read from them)."""


@dataclass(frozen=True)
class LocalRepository:
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
    # The git work tree the folder is in (its own, or one above it), for when files last
    # changed; ``history_prefix`` is the folder's path in it.
    history: WorkTreeHistory | None = field(default=None, compare=False, repr=False)
    history_prefix: str = "."

    def display(self, relpath: str) -> str:
        """How messages name a file: ``<repository>/<path>``, or, with ``display_root``,
        the path relative to the working directory, as a user typing commands sees it."""
        if self.display_root is not None:
            return os.path.relpath(self.display_root / relpath)
        return f"{self.name}/{relpath}"

    def resolve(self, relpath: str) -> Path:
        """The real path of ``relpath``; refuses paths and symlinks that leave the repo,
        and any path into ``.git``, whether it is named or reached through a symlink."""
        lexical = checked_path(relpath, self.name)
        try:
            target = (self._real_root / lexical).resolve()
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a symlink loop
            raise OutsideRepository(f"{relpath!r} is a symlink loop") from None
        inside = self.relative(target)
        if inside is None:
            raise OutsideRepository(
                f"{relpath!r} leads outside the repository {self.name!r} through a symlink"
            )
        if is_git_path(inside):
            raise GitFolder(f"{relpath!r} is a symlink into .git, git's own folder")
        return target

    @cached_property
    def _real_root(self) -> Path:
        """The root with its links resolved, once: a catalog reads thousands of files."""
        return self.root.resolve()

    @cached_property
    def _real_root_prefix(self) -> str:
        root = os.fspath(self._real_root)
        return root if root.endswith(os.sep) else root + os.sep

    def relative(self, real: Path) -> str | None:
        """``real`` (an already resolved path) relative to the root, or None if outside.
        Compared as text: both are resolved (absolute, without "." or ".."), and pathlib's
        ``parents`` and ``relative_to`` cost more than reading the file."""
        path, prefix = os.fspath(real), self._real_root_prefix
        if path == prefix or path + os.sep == prefix:
            return "."
        if not path.startswith(prefix):
            return None
        return path[len(prefix) :].replace(os.sep, "/")

    def read_bytes(self, relpath: str, limit: int) -> bytes:
        path = self.resolve(relpath)
        try:
            info = path.stat()
            # Only regular files: a FIFO or a device would block or never end.
            if not stat.S_ISREG(info.st_mode):
                raise RepositoryError(f"{relpath} is not a regular file")
            if info.st_size > limit:
                raise FileTooLarge(
                    f"{relpath} is {info.st_size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB "
                    "limit for descriptor files (catalog.max_file_bytes in backlot.yaml)"
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

    def is_file(self, relpath: str) -> bool:
        try:
            return stat.S_ISREG(self.resolve(relpath).stat().st_mode)
        except (RepositoryError, OSError):
            return False

    def location(self, relpath: str) -> str:
        """``url:`` and the file's page when the repository's web address is known, else
        ``file:`` and the file as the portal names it (``<repository>/<path>``): never the
        folder it was read from on the build machine, which published pages must not show."""
        web = self.web_url(relpath, "blob")
        if web is not None:
            return f"url:{web}"
        return f"file:{self.name}/{posixpath.normpath(relpath)}"

    def web_url(self, relpath: str, view: WebView) -> str | None:
        return github_style_url(self.url, relpath, view) if self.url else None

    def folder_of(self, url: str) -> str | None:
        return github_style_folder(self.url, url) if self.url else None

    def stale(self, relpath: str) -> tuple[str, str] | None:
        return None  # a checkout is read as it is

    def last_good(self, relpath: str) -> tuple[bytes, str] | None:
        return None

    def changed_times(self, relpaths: Collection[str]) -> dict[str, str]:
        """From the git work tree the folder is in, if any: files whose content is the
        one committed at HEAD (an edited or new file has no date yet)."""
        if self.history is None:
            return {}
        prefix = "" if self.history_prefix in ("", ".") else self.history_prefix + "/"
        inside: dict[str, str] = {}
        for relpath in relpaths:
            try:
                inside[prefix + checked_path(relpath, self.name)] = relpath
            except OutsideRepository:
                continue
        times = self.history.times(inside)
        return {inside[path]: when for path, when in times.items()}

    def glob(self, pattern: str) -> list[str]:
        """Regular files matching ``pattern`` (relative to the root), sorted; links out of
        the repository and anything in ``.git`` excluded."""
        root = self._real_root
        matches: list[str] = []
        for path in sorted(root.glob(pattern)):
            try:
                real = path.resolve()
                regular = stat.S_ISREG(real.stat().st_mode)
            except OSError:
                continue
            inside = self.relative(real)
            relpath = path.relative_to(root).as_posix()
            if regular and inside is not None and not (is_git_path(relpath) or is_git_path(inside)):
                matches.append(relpath)
        return matches


@dataclass(frozen=True, kw_only=True)
class UnreachableRepository(LocalRepository):
    """A repository that could not be fetched (and never was): each descriptor it should
    have is reported unreadable, with why, and the other repositories go on."""

    reason: str

    def resolve(self, relpath: str) -> Path:
        raise RepositoryError(self.reason)

    def glob(self, pattern: str) -> list[str]:
        return []

    def changed_times(self, relpaths: Collection[str]) -> dict[str, str]:
        return {}
