"""The local source: a folder whose subfolders are repositories.

A folder that itself holds a descriptor is taken as a single repository, so
``backlot catalog my-repo`` works as well as ``backlot catalog all-repos``.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..config import DEFAULT_DESCRIPTOR_GLOBS
from ._history import WorkTreeHistory
from ._repository import LocalRepository

__all__ = ["discover_local", "find_descriptors", "repositories_to_validate"]


def discover_local(
    root: Path,
    globs: Sequence[str] = DEFAULT_DESCRIPTOR_GLOBS,
    url_template: str | None = None,
    skipped: list[Path] | None = None,
) -> list[LocalRepository]:
    """The repositories below ``root`` with the descriptor files each one holds; folders
    without one are left out (and appended to ``skipped``, when given).

    ``url_template`` (e.g. ``https://github.com/acme/{name}``) gives each repository a web
    address; without it, a git checkout's ``origin`` remote is used when it is on GitHub.
    """
    root = root.resolve()
    if find_descriptors(root, globs):
        candidates = [root]
    else:
        candidates = sorted(
            (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.name,
        )
    repositories = []
    # One history for the work tree the whole folder is in (a checkout of a monorepo, or
    # of Backlot with its examples), walked once for every repository in it; a repository
    # that is a checkout of its own has its own.
    shared = WorkTreeHistory.around(root)
    for folder in candidates:
        descriptors = find_descriptors(folder, globs)
        if not descriptors:
            if skipped is not None:
                skipped.append(folder)
            continue
        url = url_template.format(name=folder.name) if url_template else _git_web_url(folder)
        history = shared
        if (folder / ".git").exists() and (shared is None or shared.top != folder):
            history = WorkTreeHistory.around(folder)
        prefix = history.prefix_of(folder) if history is not None else None
        if history is not None and prefix is not None:
            inner = "" if prefix == "." else prefix + "/"
            history.want(inner + d for d in descriptors)
        repositories.append(
            LocalRepository(
                folder.name,
                folder,
                url=url,
                commit=_git_commit(folder),
                descriptors=descriptors,
                history=history if prefix is not None else None,
                history_prefix=prefix or ".",
            )
        )
    return repositories


def repositories_to_validate(paths: Sequence[Path], globs: Sequence[str]) -> list[LocalRepository]:
    """What ``backlot validate`` checks. Folders are read as ``backlot catalog`` reads them
    (a repository, or a folder of repositories); a single file is part of its enclosing
    git checkout, so ``$text`` and Location targets stay contained exactly as in a build.
    Messages name files as the user typed them (relative to the working directory)."""
    repositories: list[LocalRepository] = []
    for path in paths:
        absolute = path.resolve()
        if absolute.is_dir():
            found = discover_local(absolute, globs)
        else:
            root = _enclosing_checkout(absolute.parent) or absolute.parent
            found = [
                LocalRepository(
                    root.name, root, descriptors=(absolute.relative_to(root).as_posix(),)
                )
            ]
        repositories.extend(dataclasses.replace(r, display_root=r.root) for r in found)
    return repositories


def _enclosing_checkout(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def find_descriptors(folder: Path, globs: Sequence[str]) -> tuple[str, ...]:
    """The files of ``folder`` the globs match, in the order of the globs."""
    found: list[str] = []
    for pattern in globs:
        for path in sorted(folder.glob(pattern)):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and rel not in found:
                found.append(rel)
    return tuple(found)


def _git(folder: Path, *args: str) -> str | None:
    if not (folder / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _git_commit(folder: Path) -> str | None:
    return _git(folder, "rev-parse", "HEAD")


def _git_web_url(folder: Path) -> str | None:
    remote = _git(folder, "remote", "get-url", "origin")
    if not remote:
        return None
    for prefix in ("git@github.com:", "https://github.com/", "ssh://git@github.com/"):
        if remote.startswith(prefix):
            slug = remote[len(prefix) :].removesuffix(".git")
            return f"https://github.com/{slug}"
    return None
