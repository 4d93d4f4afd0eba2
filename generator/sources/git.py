"""The git source: repositories on any host, fetched shallow, blob-less and sparse.

Each repository is a worktree in the cache (``<cache>/git/<key>``) that holds only what
was asked of it: the descriptors on every run, a docs folder or a Location's target when a
stage reads one. The first run clones (depth 1, no blobs, sparse); later runs fetch the
default branch's head and, when it moved, check out only the descriptors' blobs. A
repository that cannot be fetched keeps the commit it had, its files marked stale; one
that was never fetched is reported as unreadable, and the rest go on.

Git runs with no prompts, a time limit, and the token (when configured) only in its
environment, as an HTTP header: never in a URL, an argument list or a file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..config import GitSource
from ..text import counted
from ._glob import glob_regex
from ._history import iso_utc, log_command, newest_touches, parents_of, shallow_commits
from ._repository import (
    LocalRepository,
    RepositoryError,
    SourceError,
    UnreachableRepository,
    checked_path,
    is_git_path,
)
from ._store import CrawlStore
from .local import find_descriptors

__all__ = ["GitError", "GitReport", "GitRepository", "open_git", "repository_path"]

ARTIFACT_VERSION = 1
PARALLEL_FETCHES = 4
# How far a clone is deepened (commits and trees, never blobs) to find when a file last
# changed: twice at most, to 1,000 commits below the head. A file older than that has no
# date: what a shallow clone can say is only "at or before", and that is not a date.
DEEPEN_STEPS = (100, 900)
_PREVIOUS = "refs/backlot/previous"  # the commit read before the current one
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


class GitError(RepositoryError):
    """A git command failed; the message is git's own, with credentials removed."""


@dataclass
class GitReport:
    """What opening a git source found and did; printed, and kept with each repository."""

    source: str = "git"
    repositories: int = 0
    with_descriptors: int = 0
    without_descriptors: int = 0
    cloned: int = 0
    changed: int = 0
    unchanged: int = 0
    stale: int = 0
    unreachable: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def summary(self) -> str:
        return (
            f"git: {counted(self.repositories, 'repository')} "
            f"({self.with_descriptors} with descriptors, "
            f"{self.without_descriptors} without), {self.cloned} cloned, {self.changed} "
            f"changed, {self.unchanged} unchanged, {self.stale} stale, {self.unreachable} "
            f"unreachable; {self.seconds:.1f} s"
        )


def repository_path(url: str) -> str:
    """A clone URL's path on its host, without ``.git``: ``team/orders`` for
    ``https://git.example.com/team/orders.git`` and ``git@host:team/orders.git``."""
    scp_like = "://" not in url and ":" in url  # [user@]host:path
    path = url.split(":", 1)[1] if scp_like else urlsplit(url).path
    return path.strip("/").removesuffix(".git").strip("/")


def _local_path(url: str) -> str | None:
    """The folder a clone URL names on this machine (``file://…`` or a path), or None for
    a remote one (``https://…``, ``ssh://…``, ``[user@]host:path``)."""
    if url.startswith("file://"):
        return unquote(urlsplit(url).path) or None
    if "://" in url:
        return None
    head, colon, _ = url.partition(":")
    if colon and "/" not in head:
        return None  # scp-like: host:path
    return os.path.abspath(url)


def redact(text: str) -> str:
    """``text`` without the user and password of any URL in it."""
    return _USERINFO.sub("***@", text)


class _Git:
    """Git for one source: no prompts, a time limit, the token only in the environment."""

    def __init__(self, settings: GitSource) -> None:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
        self.secrets: tuple[str, ...] = ()
        if settings.token_env is not None:
            token = os.environ.get(settings.token_env)
            if not token:
                raise SourceError(f"git: the token is not in ${settings.token_env}")
            basic = base64.b64encode(f"{settings.token_user}:{token}".encode()).decode()
            # GIT_CONFIG_COUNT adds settings for this process only: nothing on disk.
            count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
            env[f"GIT_CONFIG_KEY_{count}"] = "http.extraHeader"
            env[f"GIT_CONFIG_VALUE_{count}"] = f"Authorization: Basic {basic}"
            env["GIT_CONFIG_COUNT"] = str(count + 1)
            self.secrets = (token, basic)
        self.env = env
        self.timeout = settings.timeout_seconds
        self.hidden: list[tuple[str, str]] = []

    def hide(self, names: dict[str, str]) -> None:
        """Say each of these (folders of this machine) by the name given, in messages."""
        self.hidden = sorted(names.items(), key=lambda kv: -len(kv[0]))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for folder, name in self.hidden:
            text = text.replace(folder, name)
        return redact(text)

    def __call__(self, cwd: Path, *args: str) -> str:
        return self.raw(cwd, *args).decode("utf-8", "surrogateescape")

    def raw(self, cwd: Path, *args: str) -> bytes:
        command = ["git", "-c", "advice.detachedHead=false", "-C", str(cwd), *args]
        try:
            done = subprocess.run(command, env=self.env, capture_output=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise GitError(
                f"git {args[0]} took over {self.timeout:.0f} s and was stopped"
            ) from None
        except OSError as exc:
            raise GitError(f"git cannot be run: {exc.strerror}") from None
        if done.returncode != 0:
            stderr = done.stderr.decode("utf-8", "replace")
            lines = [line.removeprefix("fatal: ") for line in stderr.splitlines() if line.strip()]
            said = " ".join(lines[-3:]) or f"exit status {done.returncode}"
            raise GitError(self.redact(f"git {args[0]} failed: {said}"))
        return done.stdout


def _sparse_pattern(path: str, folder: bool) -> str:
    """A non-cone sparse-checkout pattern for exactly one path (gitignore syntax)."""
    escaped = re.sub(r"([\\*?\[\]!#])", r"\\\1", path)
    return "/*" if path == "." else f"/{escaped}/" if folder else f"/{escaped}"


def _descriptor_patterns(descriptors: Sequence[str]) -> list[str]:
    """The sparse-checkout patterns of the descriptor globs: rooted at the repository,
    as the globs are."""
    return [p if p.startswith("**/") else "/" + p.lstrip("/") for p in descriptors]


@dataclass
class _Checkout:
    """A sparse worktree that grows on demand: a path a stage reads is checked out (its
    blobs fetched) the first time, in one git call per path."""

    git: _Git
    root: Path
    covered: set[str] = field(default_factory=set)
    _kinds: dict[str, str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def kinds(self) -> dict[str, str]:
        """Every path at the checked-out commit: ``blob``, ``tree`` or ``commit``."""
        if self._kinds is None:
            listing = self.git(self.root, "ls-tree", "-r", "-t", "-z", "HEAD")
            kinds = {}
            for entry in listing.split("\0"):
                if "\t" in entry:
                    meta, path = entry.split("\t", 1)
                    kinds[path] = meta.split()[1]
            self._kinds = kinds
        return self._kinds

    def ensure(self, path: str) -> None:
        with self._lock:
            if any(path == c or c == "." or path.startswith(c + "/") for c in self.covered):
                return
            if path != "." and os.path.lexists(self.root / path):
                return  # checked out already (a descriptor)
            kind = self.kinds().get(path, "tree" if path == "." else None)
            if kind not in ("blob", "tree"):
                return  # not in the commit (or a submodule): reading it says so
            self.git(self.root, "sparse-checkout", "add", _sparse_pattern(path, kind == "tree"))
            self.covered.add(path)

    def matching(self, pattern: str) -> list[str]:
        regex = glob_regex(pattern)
        return [p for p, kind in self.kinds().items() if kind == "blob" and regex.fullmatch(p)]


@dataclass
class _CloneHistory:
    """When files of a clone last changed. A clone is shallow (one commit deep at first),
    so the answers are remembered by blob id in the crawl store: a file that still has
    the blob it had costs nothing. Otherwise, from the history the clone has: exact when
    the last commit that touched the file is in it; when that is the clone's oldest commit
    (git shows it adding every file), exact only if its parent is the commit read before
    (refs/backlot/previous: one push between two builds) and the file differs there; else
    the clone is deepened, by commits and trees only, up to ``DEEPEN_STEPS``."""

    git: _Git
    root: Path
    store: CrawlStore
    key: str
    may_fetch: bool = True  # False when the host could not be reached this time
    _answered: dict[str, str | None] = field(default_factory=dict)
    _deepened: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def times(self, paths: Collection[str]) -> dict[str, str]:
        with self._lock:
            asked = [p for p in paths if p not in self._answered]
            if asked:
                self._learn(asked)
            return {p: t for p in paths if (t := self._answered.get(p)) is not None}

    def _learn(self, paths: list[str]) -> None:
        try:
            ids = _blob_ids(self.git, self.root, paths)
        except GitError:
            ids = {}
        remembered = self.store.history(self.key)
        missing = []
        for path in paths:
            oid = ids.get(path)
            earlier = remembered.get(path)
            if oid is not None and earlier is not None and earlier[0] == oid:
                self._answered[path] = earlier[1] or None  # "": deeper than DEEPEN_STEPS
            else:
                self._answered[path] = None
                if oid is not None:
                    missing.append(path)
        if not missing:
            return
        learnt, undated = self._walk(missing)
        for path, when in learnt.items():
            self._answered[path] = when
            remembered[path] = (ids[path], when)
        for path in undated:
            # Older than the deepest history fetched: not deepened again for this blob,
            # so a warm run costs no fetch for it either.
            remembered[path] = (ids[path], "")
        if learnt or undated:
            self.store.put_history(self.key, remembered)

    def _walk(self, paths: list[str]) -> tuple[dict[str, str], list[str]]:
        """The dates found, and the paths that history fetched as deep as it may be still
        cannot date (a deepening that failed leaves them neither)."""
        found: dict[str, str] = {}
        unsure = list(paths)
        steps = [0, *(DEEPEN_STEPS if self.may_fetch else ())]
        complete = False
        for step in steps:
            if step:
                if self._deepened >= sum(DEEPEN_STEPS):
                    complete = True
                    break
                try:
                    self.git(
                        self.root,
                        "fetch",
                        "--quiet",
                        f"--deepen={step}",
                        "--filter=blob:none",
                        "origin",
                        "HEAD",
                    )
                except GitError:
                    return found, []  # no date, and no failed build: asked again next time
                self._deepened += step
            command = ["git", "-C", str(self.root), *log_command(*unsure)]
            seen, _ = newest_touches(
                command, set(unsure), env=self.git.env, timeout=self.git.timeout
            )
            boundary = shallow_commits(self.root / ".git")
            oldest = {c for c, _ in seen.values()} & boundary
            parents = parents_of(self.root, oldest, self.git.env)
            boundary -= {c for c, named in parents.items() if not named}  # a first commit
            by_previous = self._changed_since_previous(
                [p for p in unsure if p in seen and seen[p][0] in boundary], seen, parents
            )
            still = []
            for path in unsure:
                if path not in seen:
                    continue  # not in the history at all (a submodule's path)
                commit, when = seen[path]
                if commit not in boundary or path in by_previous:
                    found[path] = iso_utc(when)
                else:
                    still.append(path)
            unsure = still
            if not unsure or not boundary:
                break
        else:
            complete = self.may_fetch
        return found, unsure if complete else []

    def _changed_since_previous(
        self, paths: list[str], seen: dict[str, tuple[str, int]], parents: dict[str, list[str]]
    ) -> set[str]:
        """Those of ``paths`` whose oldest commit here has the commit read before as its
        only parent and a different blob there: that commit changed them."""
        if not paths:
            return set()
        try:
            previous = self.git(self.root, "rev-parse", "--verify", "--quiet", _PREVIOUS).strip()
            before = _blob_ids(self.git, self.root, paths, previous)
            after = {
                commit: _blob_ids(
                    self.git, self.root, [p for p in paths if seen[p][0] == commit], commit
                )
                for commit in {seen[p][0] for p in paths}
                if parents.get(commit) == [previous]
            }
        except GitError:
            return set()
        return {
            path
            for commit, ids in after.items()
            for path, oid in ids.items()
            if before.get(path) != oid
        }


@dataclass(frozen=True, kw_only=True)
class GitRepository(LocalRepository):
    """A repository fetched with git: a checkout whose files arrive as they are read. The
    boundary is the checkout's (no path out of it, none into ``.git``)."""

    checkout: _Checkout
    clone_url: str  # credentials removed
    stale_reason: str | None = None
    stale_since: str | None = None  # when the version served was fetched
    previous_read_at: str | None = None  # when the commit before this one was last read
    changes: _CloneHistory | None = field(default=None, compare=False, repr=False)
    local: bool = False  # the clone URL is a path on this machine (file://, /srv/…)

    def resolve(self, relpath: str) -> Path:
        self.checkout.ensure(checked_path(relpath, self.name))
        return super().resolve(relpath)

    def glob(self, pattern: str) -> list[str]:
        for path in self.checkout.matching(pattern):
            if not is_git_path(path):
                self.checkout.ensure(path)
        return super().glob(pattern)

    def location(self, relpath: str) -> str:
        if self.url is None and not self.local:
            return f"url:{self.clone_url}/{relpath}"
        return super().location(relpath)  # a local clone URL is a path of this machine

    def changed_times(self, relpaths: Collection[str]) -> dict[str, str]:
        paths = {}
        for relpath in relpaths:
            try:
                paths[checked_path(relpath, self.name)] = relpath
            except RepositoryError:
                continue
        known = self.changes.times(list(paths)) if self.changes is not None else {}
        return {paths[p]: when for p, when in known.items()}

    def stale(self, relpath: str) -> tuple[str, str] | None:
        if self.stale_reason is None:
            return None
        return self.stale_reason, self.stale_since or ""

    def last_good(self, relpath: str) -> tuple[bytes, str] | None:
        """The file at the commit read before this one, if it was different there."""
        if self.previous_read_at is None:
            return None
        path = checked_path(relpath, self.name)
        try:
            ids = self.checkout.git(self.root, "rev-parse", f"{_PREVIOUS}:{path}", f"HEAD:{path}")
            earlier, now = ids.split()
            if earlier == now:
                return None
            return self.checkout.git.raw(
                self.root, "cat-file", "blob", earlier
            ), self.previous_read_at
        except (GitError, ValueError):
            return None  # new in this commit (or gone from it): nothing to fall back on


def open_git(
    settings: GitSource, cache_dir: Path, progress: Callable[[str], None] | None = None
) -> tuple[list[LocalRepository], GitReport]:
    """Every repository of the source, fetched (or as last fetched, when it cannot be)."""
    started = time.monotonic()
    git = _Git(settings)
    store = CrawlStore(cache_dir / "crawl")
    named: dict[str, str] = {}
    for url in settings.repositories:
        name = _name(url)
        if name in named:
            raise SourceError(
                f"git: {redact(url)} and {redact(named[name])} would both be named {name!r}"
            )
        named[name] = url
    report = GitReport(repositories=len(named))
    # Git names folders in its messages, and messages are published: the cache's and a
    # local repository's are said by name instead.
    hidden = {str(cache_dir.absolute() / "git"): "<cache>/git"}
    for name, url in named.items():
        local = _local_path(url)
        if local is not None:
            hidden[redact(url)] = name
            hidden[local] = name
    git.hide(hidden)
    opened: list[LocalRepository] = []
    with ThreadPoolExecutor(max_workers=PARALLEL_FETCHES) as pool:
        jobs = [
            pool.submit(_open_one, git, settings, url, name, cache_dir.absolute() / "git", store)
            for name, url in named.items()
        ]
        for done, job in enumerate(jobs, 1):
            repository, outcome = job.result()
            opened.append(repository)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if isinstance(repository, UnreachableRepository) or not repository.descriptors:
                report.without_descriptors += 1
            else:
                report.with_descriptors += 1
            if progress is not None:
                progress(f"{done} of {len(jobs)} git repositories")
    report.seconds = time.monotonic() - started
    return opened, report


def _name(url: str) -> str:
    """How the portal names a repository: the last two segments of its path."""
    path = repository_path(url)
    return "/".join(path.split("/")[-2:]) or redact(url)


def _key(name: str, url: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "repository"
    return f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _open_one(
    git: _Git, settings: GitSource, url: str, name: str, root: Path, store: CrawlStore
) -> tuple[LocalRepository, str]:
    key = _key(name, url)
    worktree = root / key
    artifact = f"git-{key}"
    before = store.artifact(artifact)
    if before.get("schemaVersion") != ARTIFACT_VERSION:
        before = {}
    shown = redact(url)
    stale_reason: str | None = None
    try:
        outcome = _fetch(git, url, worktree, settings.descriptors)
        fetched_at = _now()
    except GitError as exc:
        if not _has_commit(git, worktree):
            # A local clone URL is a folder of this machine: messages are published.
            why = f"{name if _local_path(url) else shown} could not be cloned: {exc}"
            return UnreachableRepository(
                name=name,
                root=worktree,
                descriptors=tuple(settings.descriptors),
                reason=why,
            ), "unreachable"
        stale_reason, outcome = str(exc), "stale"
        fetched_at = str(before.get("fetchedAt") or "")
    commit = git(worktree, "rev-parse", "HEAD").strip()
    descriptors = find_descriptors(worktree, settings.descriptors)
    previous_read_at = (
        before.get("fetchedAt") if outcome == "changed" else before.get("previousReadAt")
    )
    path = repository_path(url)
    changes = _CloneHistory(git, worktree, store, f"git:{shown}", may_fetch=stale_reason is None)
    repository = GitRepository(
        name=name,
        root=worktree,
        url=_web_url(url, name, path, settings.url_template),
        commit=commit,
        descriptors=descriptors,
        checkout=_Checkout(git, worktree),
        clone_url=shown,
        stale_reason=stale_reason,
        stale_since=fetched_at,
        previous_read_at=str(previous_read_at) if previous_read_at else None,
        changes=changes,
        local=_local_path(url) is not None,
    )
    if stale_reason is None:
        # Here, in parallel with the other repositories' fetches, rather than one by one
        # in the catalog stage: a first clone is deepened to find the dates.
        changes.times(descriptors)
    store.put_artifact(
        artifact,
        {
            "schemaVersion": ARTIFACT_VERSION,
            "url": shown,
            "commit": commit,
            "fetchedAt": fetched_at,
            "error": stale_reason,
            "previousReadAt": repository.previous_read_at,
            "descriptors": _blob_ids(git, worktree, descriptors),
        },
    )
    return repository, outcome


def _fetch(git: _Git, url: str, worktree: Path, descriptors: Sequence[str]) -> str:
    """Clone or update ``worktree``; ``cloned``, ``changed`` or ``unchanged``."""
    patterns = _descriptor_patterns(descriptors)
    if not (worktree / ".git").is_dir():
        _clone(git, url, worktree, patterns)
        return "cloned"
    _clear_locks(worktree)
    head = git(worktree, "rev-parse", "HEAD").strip()
    # Asking first costs one round trip; a shallow fetch of a commit already here would
    # still negotiate and send a pack.
    remote = git(worktree, "ls-remote", "origin", "HEAD").split()
    if remote and remote[0] == head:
        return "unchanged"
    git(worktree, "fetch", "--quiet", "--depth=1", "--filter=blob:none", "origin", "HEAD")
    fetched = git(worktree, "rev-parse", "FETCH_HEAD").strip()
    if fetched == head:
        return "unchanged"
    git(worktree, "update-ref", _PREVIOUS, head)
    # Back to just the descriptors: a docs folder read last time is checked out again
    # only if a stage reads it again.
    git(worktree, "sparse-checkout", "set", "--no-cone", "--", *patterns)
    git(worktree, "checkout", "--quiet", "--detach", fetched)
    return "changed"


def _clone(git: _Git, url: str, worktree: Path, patterns: list[str]) -> None:
    """A clone in a scratch folder, moved into place when whole: a clone stopped halfway
    is never taken for a repository."""
    partial = worktree.with_name(worktree.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        git(
            partial.parent,
            "clone",
            "--quiet",
            "--depth=1",
            "--filter=blob:none",
            "--no-checkout",
            "--",
            url,
            partial.name,
        )
        git(partial, "sparse-checkout", "set", "--no-cone", "--", *patterns)
        git(partial, "checkout", "--quiet")
    except GitError:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(worktree, ignore_errors=True)
    partial.rename(worktree)


def _clear_locks(worktree: Path) -> None:
    """Locks a killed git left behind. The workspace lock means no other build is using
    this checkout, so any lock here is stale."""
    for lock in (
        *worktree.joinpath(".git").glob("*.lock"),
        worktree / ".git/info/sparse-checkout.lock",
    ):
        with contextlib.suppress(OSError):
            lock.unlink()


def _has_commit(git: _Git, worktree: Path) -> bool:
    if not (worktree / ".git").is_dir():
        return False
    try:
        git(worktree, "rev-parse", "--verify", "--quiet", "HEAD")
    except GitError:
        return False
    return True


def _blob_ids(
    git: _Git, worktree: Path, paths: Sequence[str], commit: str = "HEAD"
) -> dict[str, str]:
    if not paths:
        return {}
    listing = git(worktree, "--literal-pathspecs", "ls-tree", "-z", commit, "--", *paths)
    ids = {}
    for entry in listing.split("\0"):
        if "\t" in entry:
            meta, path = entry.split("\t", 1)
            ids[path] = meta.split()[2]
    return ids


def _web_url(url: str, name: str, path: str, template: str | None) -> str | None:
    if template is not None:
        return template.format(name=name, path=path).rstrip("/")
    host = urlsplit(url).hostname if "://" in url else url.rsplit("@", 1)[-1].split(":", 1)[0]
    if host == "github.com":
        return f"https://github.com/{path}"
    return None
