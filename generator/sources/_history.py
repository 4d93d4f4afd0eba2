"""When each file last changed, from git: the committer date of the last commit that
touched it, found by one ``git log`` walk per work tree (or clone), newest first, stopped
as soon as every file asked about has been seen.

A file whose content is not the one committed (edited, new, ignored) has no such date; a
shallow history cannot tell the date of a file its oldest commit holds (git shows that
commit as adding every file), so such files have none either. Nothing here guesses:
unknown is left out, never replaced by a file's mtime or the time a build first saw it.

Only commands that run no program a repository's configuration could name are used
(``ls-tree``, ``log --name-only`` without external diff, text conversion or signatures):
no ``git status``, which may run clean filters and fsmonitor hooks.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "WorkTreeHistory",
    "iso_utc",
    "log_command",
    "newest_touches",
    "parents_of",
    "shallow_commits",
    "without_parents",
]

# One header token per commit (with -z): \x01<commit id> <committer time>.
LOG_FORMAT = "--format=%x01%H %ct"
_HEADER = re.compile(r"\x01([0-9a-f]{40,64}) (\d+)")
_SAFE = ("-c", "log.showSignature=false", "-c", "core.fsmonitor=false")
_CHUNK = 1 << 16


def iso_utc(seconds: int) -> str:
    """``2026-11-30T14:03:00Z``: how catalog.json writes a time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def log_command(*paths: str) -> list[str]:
    """``git log`` arguments (after ``git -C …``) for the newest-first walk of ``paths``."""
    return [
        *_SAFE,
        "--literal-pathspecs",
        "log",
        "-z",
        "--no-renames",  # rename detection would read blobs (and fetch them, when partial)
        "--no-ext-diff",
        "--no-textconv",
        "--name-only",
        LOG_FORMAT,
        "HEAD",
        "--",
        *paths,
    ]


def newest_touches(
    command: Sequence[str],
    wanted: set[str] | None,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> tuple[dict[str, tuple[str, int]], bool]:
    """Run a ``git log`` made by ``log_command``; for each path it lists, the first commit
    (the newest) listing it: ``path → (commit, committer time)``. Reading stops as soon as
    every path of ``wanted`` has been seen. Also says whether the walk went to its end
    (False: stopped early, or git failed or ran out of time)."""
    seen: dict[str, tuple[str, int]] = {}
    try:
        process = subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        return seen, False
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    current: tuple[str, int] | None = None
    pending = b""
    missing = set(wanted) if wanted is not None else None
    finished = False
    try:
        while True:
            chunk = os.read(process.stdout.fileno(), _CHUNK)
            if not chunk:
                finished = True
                break
            tokens = (pending + chunk).split(b"\0")
            pending = tokens.pop()
            for raw in tokens:
                token = raw.decode("utf-8", "surrogateescape")
                header = _HEADER.fullmatch(token)
                if header is not None:
                    current = (header.group(1), int(header.group(2)))
                    continue
                path = token.removeprefix("\n")
                if current is not None and path and path not in seen:
                    seen[path] = current
                    if missing is not None:
                        missing.discard(path)
            if missing is not None and not missing and wanted:
                break
            if time.monotonic() > deadline:
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        code = process.wait()
    return seen, finished and code == 0


def shallow_commits(git_dir: Path) -> frozenset[str]:
    """The commits of a shallow repository whose parents it does not have (git shows each
    as adding every file it holds)."""
    try:
        text = (git_dir / "shallow").read_text("ascii")
    except (OSError, ValueError):
        return frozenset()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def parents_of(top: Path, commits: Iterable[str], env: dict[str, str]) -> dict[str, list[str]]:
    """The parents each of ``commits`` names in its own object, whatever a shallow clone
    grafts (it shows its oldest commits without them). Only for commits that are there:
    in a partial clone, asking for a missing one would fetch it."""
    wanted = sorted(set(commits))
    if not wanted:
        return {}
    try:
        done = subprocess.run(
            ["git", "-C", str(top), *_SAFE, "cat-file", "--batch"],
            input="".join(f"{c}\n" for c in wanted).encode(),
            capture_output=True,
            env=env,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    parents: dict[str, list[str]] = {}
    data, at = done.stdout, 0
    while at < len(data):
        end = data.find(b"\n", at)
        if end < 0:
            break
        header = data[at:end].split()
        at = end + 1
        if len(header) != 3 or header[1] != b"commit":
            continue  # "<id> missing"
        size = int(header[2])
        head = data[at : at + size].split(b"\n\n", 1)[0]
        at += size + 1
        parents[header[0].decode()] = [
            line[len(b"parent ") :].decode()
            for line in head.split(b"\n")
            if line.startswith(b"parent ")
        ]
    return parents


def without_parents(top: Path, commits: Iterable[str], env: dict[str, str]) -> set[str]:
    """Those of ``commits`` that have no parents at all: a shallow clone that holds the
    first commit lists it as shallow too, yet it is the true start of the history."""
    return {c for c, parents in parents_of(top, commits, env).items() if not parents}


def _git_dirs(top: Path) -> tuple[Path, Path] | None:
    """A work tree's git folder and common folder (the same but for linked work trees):
    ``.git`` is a folder, or a file naming one (``gitdir: …``)."""
    dot_git = top / ".git"
    if dot_git.is_dir():
        return dot_git, dot_git
    try:
        text = dot_git.read_text("utf-8").strip()
    except (OSError, ValueError):
        return None
    if not text.startswith("gitdir:"):
        return None
    git_dir = (top / text.removeprefix("gitdir:").strip()).resolve()
    try:
        common = (git_dir / (git_dir / "commondir").read_text("utf-8").strip()).resolve()
    except (OSError, ValueError):
        common = git_dir
    return git_dir, common


def _blob_id(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class WorkTreeHistory:
    """The history of one git work tree, as far as a folder in it (``scope``, relative to
    the top; ``.`` for all of it) is concerned. Paths handed in are relative to the top.

    It answers from one walk: the descriptors registered with ``want`` and the paths of
    the first ``times`` call are looked for together, and the walk stops once all are
    seen. A path asked later that the walk stopped before reaching costs one more walk,
    limited to the paths asked then."""

    top: Path
    scope: str = "."
    _wanted: set[str] = field(default_factory=set, repr=False)
    _committed: dict[str, str] | None = field(default=None, repr=False)  # path → HEAD's blob
    _seen: dict[str, tuple[str, int]] = field(default_factory=dict, repr=False)
    _complete: bool = field(default=False, repr=False)
    _shallow: frozenset[str] = field(default=frozenset(), repr=False)
    _checked: set[str] = field(default_factory=set, repr=False)  # shallow ones, for parents
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def around(cls, folder: Path) -> WorkTreeHistory | None:
        """The history of the work tree ``folder`` is in (itself or a folder above), or
        None when it is in none."""
        folder = folder.resolve()
        for candidate in (folder, *folder.parents):
            if (candidate / ".git").exists():
                if _git_dirs(candidate) is None:
                    return None
                scope = folder.relative_to(candidate).as_posix()
                return cls(candidate, scope)
        return None

    def prefix_of(self, folder: Path) -> str | None:
        """``folder`` relative to the top, or None if it is not inside this work tree."""
        try:
            inner = folder.resolve().relative_to(self.top)
        except ValueError:
            return None
        return inner.as_posix()

    def want(self, paths: Iterable[str]) -> None:
        with self._lock:
            self._wanted.update(paths)

    def times(self, paths: Iterable[str]) -> dict[str, str]:
        """``path → committer time`` of the last commit that touched it, for each path
        whose content in the work tree is the one committed at HEAD."""
        asked = [p for p in paths]
        with self._lock:
            committed = self._committed_ids()
            tracked = [p for p in asked if p in committed]
            unseen = [p for p in tracked if p not in self._seen]
            if unseen and not self._complete:
                first = not self._seen
                wanted = {p for p in self._wanted | set(unseen) if p in committed}
                if first:
                    command = ["git", "-C", str(self.top), *log_command(self.scope)]
                else:
                    command = ["git", "-C", str(self.top), *log_command(*sorted(set(unseen)))]
                seen, finished = newest_touches(command, wanted, env=_env())
                for path, touch in seen.items():
                    self._seen.setdefault(path, touch)
                if first and finished:
                    self._complete = True
            suspect = {t[0] for p in tracked if (t := self._seen.get(p))} & self._shallow
            suspect -= self._checked
            self._checked |= suspect
            self._shallow -= without_parents(self.top, suspect, _env())
            found: dict[str, str] = {}
            for path in tracked:
                last = self._seen.get(path)
                if last is None or last[0] in self._shallow:
                    continue  # never committed here, or before what a shallow clone holds
                if _blob_id(self.top / path) != committed[path]:
                    continue  # changed since it was committed: its date is not known
                found[path] = iso_utc(last[1])
            return found

    def _committed_ids(self) -> dict[str, str]:
        if self._committed is None:
            dirs = _git_dirs(self.top)
            self._shallow = shallow_commits(dirs[1]) if dirs else frozenset()
            self._committed = {}
            try:
                done = subprocess.run(
                    [
                        "git",
                        "-C",
                        str(self.top),
                        *_SAFE,
                        "--literal-pathspecs",
                        "ls-tree",
                        "-r",
                        "-z",
                        "--full-name",
                        "HEAD",
                        "--",
                        self.scope,
                    ],
                    capture_output=True,
                    env=_env(),
                    timeout=120,
                )
            except (OSError, subprocess.SubprocessError):
                return self._committed
            if done.returncode != 0:
                return self._committed  # no commit yet, or not a repository git accepts
            for entry in done.stdout.split(b"\0"):
                meta, tab, name = entry.partition(b"\t")
                parts = meta.split()
                if tab and len(parts) == 3 and parts[1] == b"blob":
                    self._committed[name.decode("utf-8", "surrogateescape")] = parts[2].decode()
        return self._committed


def _env() -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
