"""The GitHub source: every repository of an organisation, with its descriptors, for the
cost of what changed.

One GraphQL query lists a page of repositories together with each one's descriptor blobs
(``object(expression: "HEAD:catalog-info.yaml")``), its head commit and topics, as
Backstage's GitHub provider does; a page costs one point, so 10,000 repositories are about
100 queries. The page size adapts: halved when GitHub answers that a page is too large or
too slow (its 10 s limit), grown back after a good page. Blob text arrives in the listing
except past 512,000 bytes, where GitHub truncates it silently: such blobs are read from
the REST blob API, once, kept by their git id. Globs, Location targets and ``$text`` files
are read from the repository's tree at the crawled commit; a docs folder is fetched once
per tree (a tarball of the commit, just that folder kept) when the docs stage asks for it.

The crawl writes ``.backlot/crawl/github-<org>.json`` (per repository: commit, descriptor
ids, topics, and the last good descriptor when one can no longer be read) beside the
content it fetched, and reports what it cost. A listing that fails stops the build before
anything downstream runs: a partial organisation would look like deleted entities.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import GitHubSource
from ..github import (
    AppAuth,
    EtagCache,
    GitHubClient,
    GitHubError,
    ResourceLimits,
    TokenAuth,
    api_url_from,
    web_url,
)
from ..text import counted
from ._glob import glob_regex, is_glob
from ._repository import (
    FileTooLarge,
    OutsideRepository,
    Repository,
    RepositoryError,
    SourceError,
    WebView,
    checked_path,
    github_style_folder,
    github_style_url,
    is_git_path,
)
from ._store import CrawlStore

__all__ = [
    "CrawlError",
    "CrawlReport",
    "GitHubRepository",
    "changed_times_of",
    "crawl_github",
    "github_client",
    "look_up_history",
]

ARTIFACT_VERSION = 1
MIN_PAGE = 1
# When each descriptor last changed: ``history(first: 1, path:)`` per file, this many in
# one query (halved when GitHub finds a query too heavy: each is a walk of the history),
# and not at all when fewer GraphQL points than the reserve are left for everything else.
HISTORY_BATCH = 50
HISTORY_RESERVE = 100


class CrawlError(SourceError):
    """The organisation could not be listed: nothing downstream may run on half of it."""


@dataclass
class CrawlReport:
    """What the crawl found and what it cost; printed, and kept in the crawl artifact."""

    org: str
    repositories: int = 0
    with_descriptors: int = 0
    without_descriptors: int = 0
    filtered_out: int = 0
    changed: int = 0
    stale: int = 0
    listing_pages: int = 0
    page_size: int = 0
    # When descriptors last changed: remembered (blob unchanged), looked up, or unknown.
    dates_remembered: int = 0
    dates_looked_up: int = 0
    dates_unknown: int = 0
    history_queries: int = 0
    seconds: float = 0.0
    budget: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def summary(self) -> str:
        b = self.budget
        remaining = b.get("graphql_remaining")
        return (
            f"github {self.org}: {counted(self.repositories, 'repository')} "
            f"({self.with_descriptors} with "
            f"descriptors, {self.without_descriptors} without, {self.filtered_out} left out by "
            f"the filters), {self.changed} changed, {self.stale} stale; "
            f"{counted(b.get('requests', 0), 'request')} ({b.get('graphql', 0)} GraphQL, "
            f"{b.get('graphql_points', 0)} points, {b.get('rest', 0)} REST, "
            f"{b.get('not_modified', 0)} not modified), {b.get('retries', 0)} retries"
            + (f", {remaining} points left" if remaining is not None else "")
            + f"; dates of change: {self.dates_remembered} remembered, {self.dates_looked_up} "
            f"looked up in {counted(self.history_queries, 'query')}, {self.dates_unknown} unknown"
            + f"; {self.seconds:.1f} s"
        )


def github_client(settings: GitHubSource, cache_dir: Path) -> GitHubClient:
    """The client for a source: App auth when configured, else the token in the
    environment (``token_env``), else anonymous (public repositories only)."""
    api = api_url_from(settings.api_url)
    auth: TokenAuth | AppAuth | None = None
    if settings.app is not None:
        key = os.environ.get(settings.app.private_key_env)
        if not key:
            raise CrawlError(
                f"github {settings.org}: the GitHub App's private key is not in "
                f"${settings.app.private_key_env}"
            )
        auth = AppAuth(settings.app.app_id, key, settings.org, settings.app.installation_id)
    elif os.environ.get(settings.token_env):
        auth = TokenAuth(os.environ[settings.token_env])
    return GitHubClient(
        api,
        auth,
        timeout=settings.timeout_seconds,
        etags=EtagCache(cache_dir / "crawl" / "http-etags.json"),
    )


_LISTING = """
query($org: String!, $first: Int!, $after: String{expression_variables}) {{
  rateLimit {{ cost remaining resetAt }}
  organization(login: $org) {{
    repositories(first: $first, after: $after, orderBy: {{field: NAME, direction: ASC}}) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        name url isArchived isFork visibility pushedAt
        defaultBranchRef {{ name target {{ ... on Commit {{ oid tree {{ oid }} }} }} }}
        repositoryTopics(first: 20) {{ nodes {{ topic {{ name }} }} }}
{descriptor_fields}
      }}
    }}
  }}
}}
"""

_FOLDER = """
query($owner: String!, $name: String!, $expression: String!) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    object(expression: $expression) { ... on Tree { oid } }
  }
}
"""


_BLOB_FIELDS = "oid byteSize isTruncated text"


def _listing_query(paths: list[str]) -> str:
    return _LISTING.format(
        expression_variables="".join(f", $e{i}: String!" for i in range(len(paths))),
        descriptor_fields="\n".join(
            f"        d{i}: object(expression: $e{i}) {{ ... on Blob {{ {_BLOB_FIELDS} }} }}"
            for i in range(len(paths))
        ),
    )


def crawl_github(
    settings: GitHubSource,
    cache_dir: Path,
    *,
    client: GitHubClient | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[GitHubRepository], CrawlReport]:
    """Every repository of the organisation that the filters keep, with its descriptors
    read (from the listing, the blob store, or the REST API)."""
    started = time.monotonic()
    store = CrawlStore(cache_dir / "crawl")
    artifact_name = f"github-{settings.org.lower()}"
    previous = store.artifact(artifact_name)
    known: dict[str, Any] = (
        previous.get("repositories", {})
        if previous.get("schemaVersion") == ARTIFACT_VERSION
        else {}
    )
    client = client or github_client(settings, cache_dir)
    report = CrawlReport(settings.org)
    paths = [p for p in settings.descriptors if not is_glob(p)]
    globs = [p for p in settings.descriptors if is_glob(p)]
    try:
        nodes = _list(client, settings, paths, report, progress)
    except GitHubError as exc:
        raise CrawlError(
            f"github {settings.org}: the organisation could not be listed, so nothing was "
            f"built (a partial list would look like deleted entities): {exc}"
        ) from None
    web = web_url(client.api_url)
    repositories: list[GitHubRepository] = []
    entries: dict[str, Any] = {}
    pending: list[tuple[GitHubRepository, str, str]] = []  # (repository, path, oid) to fetch
    for node in nodes:
        if not _keep(settings, node):
            report.filtered_out += 1
            continue
        report.repositories += 1
        ref = node.get("defaultBranchRef") or {}
        target = ref.get("target") or {}
        commit, tree = target.get("oid"), (target.get("tree") or {}).get("oid")
        if not commit:
            report.without_descriptors += 1  # an empty repository
            continue
        name = str(node["name"])
        before = known.get(name, {})
        if before.get("commit") != commit:
            report.changed += 1
        repository = GitHubRepository(
            name=f"{settings.org}/{name}",
            url=str(node.get("url") or f"{web}/{settings.org}/{name}").rstrip("/"),
            commit=commit,
            slug=f"{settings.org}/{name}",
            tree_oid=tree,
            client=client,
            store=store,
            folders=store.folder_ids(f"{settings.org}/{name}", commit),
        )
        repository.previous = {
            path: (str(entry["oid"]), str(entry.get("since", "")))
            for path, entry in before.get("descriptors", {}).items()
            if isinstance(entry, dict) and entry.get("oid")
        }
        for index, path in enumerate(paths):
            blob = node.get(f"d{index}")
            if not isinstance(blob, dict) or not blob.get("oid"):
                continue
            oid = str(blob["oid"])
            repository.blobs[path] = oid
            if store.has_blob(oid):
                continue
            if blob.get("isTruncated") or blob.get("text") is None:
                pending.append((repository, path, oid))
            else:
                store.put_blob(oid, str(blob["text"]).encode("utf-8"))
        if globs:
            try:
                for path in repository.glob_many(globs):
                    if path not in repository.blobs:
                        oid = repository.tree_entry(path)["sha"]
                        repository.blobs[path] = oid
                        if not store.has_blob(oid):
                            pending.append((repository, path, oid))
            except GitHubError as exc:
                repository.problems[".tree"] = str(exc)
        repositories.append(repository)
        entries[name] = before
    _fetch_blobs(client, store, pending, progress)
    for repository in repositories:
        name = repository.slug.split("/", 1)[1]
        _settle(repository, known.get(name, {}), report)
        entries[name] = repository.artifact_entry()
    _date_descriptors(client, [r for r in repositories if r.descriptors], report, progress)
    report.seconds = time.monotonic() - started
    report.budget = client.budget.as_dict()
    store.put_artifact(
        artifact_name,
        {
            "schemaVersion": ARTIFACT_VERSION,
            "org": settings.org,
            "apiUrl": client.api_url,
            "repositories": entries,
            "report": report.as_dict(),
        },
    )
    client.etags.save()
    return [r for r in repositories if r.descriptors], report


def _list(
    client: GitHubClient,
    settings: GitHubSource,
    paths: list[str],
    report: CrawlReport,
    progress: Callable[[str], None] | None,
) -> list[dict[str, Any]]:
    """Every repository node of the organisation, page by page, the page size adapting."""
    query = _listing_query(paths)
    expressions = {f"e{i}": f"HEAD:{p}" for i, p in enumerate(paths)}
    size = settings.page_size
    after: str | None = None
    nodes: list[dict[str, Any]] = []
    failures = 0
    while True:
        variables = {"org": settings.org, "first": size, "after": after, **expressions}
        try:
            data = client.graphql(query, variables)
        except ResourceLimits:
            failures += 1
            if size > MIN_PAGE:
                size = max(MIN_PAGE, size // 2)
                continue
            if failures > client.max_retries:
                raise
            continue
        failures = 0
        organization = data.get("organization")
        if not isinstance(organization, dict):
            raise GitHubError(f"no organisation {settings.org!r} is visible to this token")
        repositories = organization["repositories"]
        nodes.extend(n for n in repositories["nodes"] if isinstance(n, dict))
        report.listing_pages += 1
        report.page_size = size
        if progress is not None:
            progress(f"{counted(len(nodes), 'repository')} listed")
        if not repositories["pageInfo"]["hasNextPage"]:
            return nodes
        after = repositories["pageInfo"]["endCursor"]
        size = min(settings.page_size, size * 2)  # grow back after a good page


def discovers(
    settings: GitHubSource, owner: str, name: str, visibility: str, topics: Iterable[str]
) -> bool:
    """Whether the crawl of ``settings`` lists this (new, unarchived, not forked) repository."""
    node = {
        "name": name,
        "visibility": visibility.upper(),
        "repositoryTopics": {"nodes": [{"topic": {"name": t}} for t in topics]},
    }
    return owner.lower() == settings.org.lower() and _keep(settings, node)


def _keep(settings: GitHubSource, node: dict[str, Any]) -> bool:
    topics = {
        str(t["topic"]["name"])
        for t in (node.get("repositoryTopics") or {}).get("nodes", [])
        if isinstance(t, dict)
    }
    if node.get("isArchived") and not settings.archived:
        return False
    if node.get("isFork") and not settings.forks:
        return False
    if str(node.get("visibility", "")).lower() not in settings.visibility:
        return False
    if settings.topics.include and not topics & set(settings.topics.include):
        return False
    if topics & set(settings.topics.exclude):
        return False
    return not (settings.repositories and not re.search(settings.repositories, str(node["name"])))


def _fetch_blobs(
    client: GitHubClient,
    store: CrawlStore,
    pending: list[tuple[GitHubRepository, str, str]],
    progress: Callable[[str], None] | None,
) -> None:
    """Blobs the listing could not carry (truncated, or found through a glob), read from
    the REST API in parallel; a failure is that repository's, kept for last known good."""

    def fetch(item: tuple[GitHubRepository, str, str]) -> None:
        repository, path, oid = item
        try:
            store.put_blob(oid, repository.fetch_blob(oid))
        except GitHubError as exc:
            repository.problems[path] = str(exc)

    seen: set[str] = set()
    unique = [i for i in pending if not (i[2] in seen or seen.add(i[2]))]  # type: ignore[func-returns-value]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for done, _ in enumerate(pool.map(fetch, unique), 1):
            if progress is not None and done % 20 == 0:
                progress(f"{done} of {len(unique)} blobs fetched")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _date_descriptors(
    client: GitHubClient,
    repositories: list[GitHubRepository],
    report: CrawlReport,
    progress: Callable[[str], None] | None,
) -> None:
    """When each descriptor read fresh last changed: remembered while its blob is the one
    dated before, else looked up for all repositories together, a batch per query."""
    wanted: list[tuple[GitHubRepository, str, str]] = []
    for repository in repositories:
        remembered = repository.store.history(repository.slug)
        for path, oid in sorted(repository.blobs.items()):
            if path in repository.stale_paths:
                continue  # served as last read: the catalog keeps that version's date
            repository.dated.add(path)
            earlier = remembered.get(path)
            if earlier is not None and earlier[0] == oid and earlier[1]:
                repository.changed[path] = earlier[1]
                report.dates_remembered += 1
            else:
                wanted.append((repository, path, oid))
    if progress is not None and wanted:
        progress(f"when {len(wanted)} descriptors last changed")
    queries, learnt = look_up_history(client, wanted)
    report.history_queries += queries
    report.dates_looked_up += learnt
    report.dates_unknown += len(wanted) - learnt


def changed_times_of(
    wanted: Sequence[tuple[Repository, Collection[str]]],
) -> list[dict[str, str]]:
    """``repository.changed_times(paths)`` for each pair, with what GitHub must be asked
    for all of them in as few queries as one client can: a catalog opens many GitHub
    repositories through URLs, and a query per repository would be a request each."""
    by_client: dict[int, tuple[GitHubClient, list[tuple[GitHubRepository, str, str]]]] = {}
    for repository, paths in wanted:
        if isinstance(repository, GitHubRepository):
            items = by_client.setdefault(id(repository.client), (repository.client, []))[1]
            items += repository.undated(paths)
    for client, items in by_client.values():
        look_up_history(client, items)
    return [repository.changed_times(paths) for repository, paths in wanted]


def _history_query(parts: list[tuple[GitHubRepository, list[str]]]) -> str:
    """One query for the last commit that touched each path: an alias per repository
    (its crawled commit) and one per path, strings quoted as JSON (a subset of GraphQL's)."""
    lines = ["query {", "  rateLimit { cost remaining resetAt }"]
    for i, (repository, paths) in enumerate(parts):
        owner, name = repository.slug.split("/", 1)
        lines.append(f"  r{i}: repository(owner: {json.dumps(owner)}, name: {json.dumps(name)}) {{")
        lines.append(f"    object(expression: {json.dumps(repository.commit)}) {{")
        lines.append("      ... on Commit {")
        lines += [
            f"        p{j}: history(first: 1, path: {json.dumps(path)}) "
            "{ nodes { committedDate oid } }"
            for j, path in enumerate(paths)
        ]
        lines += ["      }", "    }", "  }"]
    lines.append("}")
    return "\n".join(lines)


def look_up_history(
    client: GitHubClient, wanted: list[tuple[GitHubRepository, str, str]]
) -> tuple[int, int]:
    """Ask GitHub when each (repository, path, blob id) last changed, ``HISTORY_BATCH``
    paths a query, and remember the answers by blob id in the crawl store. A failure
    leaves the rest undated (a date is worth no failed build); so does a budget with
    fewer than ``HISTORY_RESERVE`` GraphQL points left. Returns (queries, dates learnt)."""
    queries = learnt = 0
    size = ceiling = HISTORY_BATCH  # ceiling: below the smallest size GitHub found too heavy
    remaining = list(wanted)
    touched: dict[str, GitHubRepository] = {}
    while remaining:
        left = client.budget.graphql_remaining
        if left is not None and int(left) < HISTORY_RESERVE:
            break
        batch, rest = remaining[:size], remaining[size:]
        parts: dict[int, tuple[GitHubRepository, list[tuple[str, str]]]] = {}
        for repository, path, oid in batch:
            parts.setdefault(id(repository), (repository, []))[1].append((path, oid))
        grouped = list(parts.values())
        query = _history_query([(r, [p for p, _ in items]) for r, items in grouped])
        try:
            queries += 1
            data = client.graphql(query, {}, partial=True)
        except ResourceLimits:
            if len(batch) == 1:
                break
            ceiling = len(batch) - 1
            size = max(1, len(batch) // 2)
            continue
        except GitHubError:
            break
        for i, (repository, items) in enumerate(grouped):
            commit = ((data.get(f"r{i}") or {}).get("object")) or {}
            for j, (path, oid) in enumerate(items):
                nodes = (commit.get(f"p{j}") or {}).get("nodes") or []
                when = _utc(str(nodes[0].get("committedDate", ""))) if nodes else None
                if when is None:
                    continue
                repository.changed[path] = when
                repository.learnt[path] = (oid, when)
                touched[repository.slug] = repository
                learnt += 1
        remaining = rest
        size = min(ceiling, size * 2)
    for repository in touched.values():
        remembered = repository.store.history(repository.slug)
        remembered.update(repository.learnt)
        repository.store.put_history(repository.slug, remembered)
        repository.learnt.clear()
    return queries, learnt


def _utc(text: str) -> str | None:
    """GitHub's ISO 8601 time in UTC, as catalog.json writes times; None if it is none."""
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _settle(repository: GitHubRepository, before: dict[str, Any], report: CrawlReport) -> None:
    """Last known good: a descriptor that could not be read this time is the one read
    before, marked stale with why and since when."""
    now = _now()
    earlier = before.get("descriptors", {})
    for path, problem in list(repository.problems.items()):
        old = earlier.get(path)
        if path in repository.blobs and not repository.store.has_blob(repository.blobs[path]):
            del repository.blobs[path]
        if isinstance(old, dict) and repository.store.has_blob(str(old.get("oid"))):
            repository.blobs[path] = str(old["oid"])
            since = old.get("staleSince") or now
            repository.stale_paths[path] = (problem, str(since))
    if repository.stale_paths:
        report.stale += 1
    if repository.blobs:
        report.with_descriptors += 1
    else:
        report.without_descriptors += 1


@dataclass
class GitHubRepository:
    """A crawled repository: files read from the crawl's store by their git ids, the tree
    and folders fetched once per commit or tree. The same boundary as a checkout's: no path
    outside the repository, none into ``.git``, no symlink followed."""

    name: str
    url: str
    commit: str
    slug: str  # owner/name on the host
    tree_oid: str | None
    client: GitHubClient
    store: CrawlStore
    folders: dict[str, str] = field(default_factory=dict)  # folder → its tree's git id
    blobs: dict[str, str] = field(default_factory=dict)  # descriptor path → blob id
    problems: dict[str, str] = field(default_factory=dict)
    stale_paths: dict[str, tuple[str, str]] = field(default_factory=dict)  # path → (why, since)
    # The descriptors of the previous crawl: path → (blob id, since when it was current).
    previous: dict[str, tuple[str, str]] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)  # descriptors named by URL, not listed
    stale_all: tuple[str, str] | None = None  # the commit could not be looked up: why, since
    # When files last changed (ISO, UTC), and which files were asked about already.
    changed: dict[str, str] = field(default_factory=dict)
    dated: set[str] = field(default_factory=set)
    learnt: dict[str, tuple[str, str]] = field(default_factory=dict)  # not yet stored
    _tree: dict[str, dict[str, Any]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def descriptors(self) -> tuple[str, ...]:
        return tuple(sorted(self.blobs.keys() | self.named))

    def display(self, relpath: str) -> str:
        return f"{self.name}/{relpath}"

    # ------------------------------------------------------------------ the tree

    def tree(self) -> dict[str, dict[str, Any]]:
        """The repository's files at the crawled commit (one REST call per tree id)."""
        with self._lock:
            if self._tree is None:
                entries = self.store.tree(self.tree_oid) if self.tree_oid else None
                if entries is None:
                    answer = self.client.request(
                        "GET",
                        f"/repos/{self.slug}/git/trees/{self.tree_oid or self.commit}",
                        params={"recursive": "1"},
                    )
                    entries = [e for e in answer.json().get("tree", []) if isinstance(e, dict)]
                    if self.tree_oid:
                        self.store.put_tree(self.tree_oid, entries)
                self._tree = {str(e["path"]): e for e in entries}
            return self._tree

    def tree_entry(self, relpath: str) -> dict[str, Any]:
        entry = self.tree().get(relpath)
        if entry is None:
            raise RepositoryError(f"{relpath} does not exist")
        return entry

    def glob_many(self, patterns: Iterable[str]) -> list[str]:
        found = []
        for pattern in patterns:
            found += self.glob(pattern)
        return sorted(set(found))

    def fetch_blob(self, oid: str) -> bytes:
        import base64

        answer = self.client.request("GET", f"/repos/{self.slug}/git/blobs/{oid}")
        data = answer.json()
        return (
            base64.b64decode(data.get("content", ""))
            if data.get("encoding") == "base64"
            else str(data.get("content", "")).encode()
        )

    # ------------------------------------------------------------------ the protocol

    def read_bytes(self, relpath: str, limit: int) -> bytes:
        path = checked_path(relpath, self.name)
        oid = self.blobs.get(path)
        local = self._fetched(path)
        if oid is None and local is not None:
            # Below a folder the docs stage already fetched: read that copy.
            return _read_regular(local, relpath, limit)
        if oid is None:
            entry = self._file_entry(path)
            if int(entry.get("size", 0)) > limit:
                raise FileTooLarge(f"{relpath} is over the {limit / 1e6:.0f} MB limit")
            oid = str(entry["sha"])
        data = self.store.blob(oid)
        if data is None:
            try:
                data = self.fetch_blob(oid)
            except GitHubError as exc:
                raise RepositoryError(f"{relpath} cannot be read from GitHub: {exc}") from None
            self.store.put_blob(oid, data)
        if len(data) > limit:
            raise FileTooLarge(f"{relpath} is over the {limit / 1e6:.0f} MB limit")
        return data

    def _file_entry(self, path: str) -> dict[str, Any]:
        try:
            entry = self.tree_entry(path)
        except GitHubError as exc:
            raise RepositoryError(f"{path} cannot be read from GitHub: {exc}") from None
        if entry.get("mode") == "120000":
            raise OutsideRepository(
                f"{path!r} is a symlink; links are not followed in crawled repositories"
            )
        if entry.get("type") != "blob":
            raise RepositoryError(f"{path} is not a file")
        return entry

    def glob(self, pattern: str) -> list[str]:
        regex = glob_regex(pattern)
        return sorted(
            path
            for path, entry in self.tree().items()
            if entry.get("type") == "blob"
            and entry.get("mode") != "120000"
            and not is_git_path(path)
            and regex.fullmatch(path)
        )

    def is_file(self, relpath: str) -> bool:
        try:
            path = checked_path(relpath, self.name)
            return path in self.blobs or self._file_entry(path) is not None
        except (RepositoryError, GitHubError):
            return False

    def location(self, relpath: str) -> str:
        return f"url:{self.web_url(relpath, 'blob')}"

    def web_url(self, relpath: str, view: WebView) -> str | None:
        return github_style_url(self.url, relpath, view)

    def folder_of(self, url: str) -> str | None:
        return github_style_folder(self.url, url)

    def stale(self, relpath: str) -> tuple[str, str] | None:
        return self.stale_paths.get(relpath) or self.stale_all

    def changed_times(self, relpaths: Collection[str]) -> dict[str, str]:
        """Descriptors were dated by the crawl; other files (Location targets) are looked
        up here, all of this repository's together, once (``changed_times_of`` asks for
        several repositories' in one query)."""
        look_up_history(self.client, self.undated(relpaths))
        paths = self._paths(relpaths)
        return {paths[p]: self.changed[p] for p in paths if p in self.changed}

    def _paths(self, relpaths: Collection[str]) -> dict[str, str]:
        paths: dict[str, str] = {}
        for relpath in relpaths:
            try:
                paths[checked_path(relpath, self.name)] = relpath
            except RepositoryError:
                continue
        return paths

    def undated(self, relpaths: Collection[str]) -> list[tuple[GitHubRepository, str, str]]:
        """(this repository, path, blob id) for each file not asked about before whose
        date is not remembered for its blob: what remains to ask GitHub."""
        if self.stale_all is not None:
            return []
        asked = [
            p for p in self._paths(relpaths) if p not in self.dated and p not in self.stale_paths
        ]
        if not asked:
            return []
        remembered = self.store.history(self.slug)
        wanted = []
        for path in asked:
            self.dated.add(path)
            oid = self.blobs.get(path)
            if oid is None:
                try:
                    oid = str(self._file_entry(path)["sha"])
                except (RepositoryError, GitHubError, KeyError):
                    continue
            earlier = remembered.get(path)
            if earlier is not None and earlier[0] == oid and earlier[1]:
                self.changed[path] = earlier[1]
            else:
                wanted.append((self, path, oid))
        return wanted

    def last_good(self, relpath: str) -> tuple[bytes, str] | None:
        earlier = self.previous.get(relpath)
        if earlier is None or earlier[0] == self.blobs.get(relpath):
            return None
        data = self.store.blob(earlier[0])
        return (data, earlier[1]) if data is not None else None

    def resolve(self, relpath: str) -> Path:
        """A local path for the docs stage: a folder is fetched (a tarball of the commit,
        that folder kept) once per tree id; a file is found in its folder's copy."""
        path = checked_path(relpath, self.name)
        for folder, known in sorted(self.folders.items(), key=lambda kv: -len(kv[0])):
            local = self.store.folder(known)
            if local is None:
                continue
            if path == folder:
                return local
            if folder == "." or path.startswith(folder + "/"):
                return local / (path if folder == "." else path[len(folder) + 1 :])
        oid = self._folder_oid(path)
        if oid is None:  # a file, or nothing: look for it in its folder
            if path == ".":
                raise RepositoryError(f"{self.name} has no files at {self.commit[:7]}")
            return self.resolve(posixpath.dirname(path) or ".") / posixpath.basename(path)
        return self._materialise(path, oid)

    def _fetched(self, path: str) -> Path | None:
        """``path`` in a folder already fetched (a regular file there), else None."""
        for folder, known in self.folders.items():
            local = self.store.folder(known)
            if local is not None and (folder == "." or path.startswith(folder + "/")):
                candidate = local / (path if folder == "." else path[len(folder) + 1 :])
                return candidate if candidate.is_file() else None
        return None

    def relative(self, real: Path) -> str | None:
        for folder, oid in self.folders.items():
            local = self.store.folder(oid)
            if local is None:
                continue
            local = local.resolve()
            if real == local:
                return folder
            if local in real.parents:
                inner = real.relative_to(local).as_posix()
                return inner if folder == "." else posixpath.join(folder, inner)
        return None

    def _materialise(self, folder: str, oid: str) -> Path:
        with self._lock:
            local = self.store.folder(oid)
            if local is None:
                tarball = self.store.scratch_file(".tar.gz")
                try:
                    try:
                        self.client.request(
                            "GET", f"/repos/{self.slug}/tarball/{self.commit}", stream_to=tarball
                        )
                    except GitHubError as exc:
                        raise RepositoryError(
                            f"{folder} cannot be fetched from GitHub: {exc}"
                        ) from None
                    oid, local = self.store.put_folder_from_tarball(tarball, folder)
                finally:
                    tarball.unlink(missing_ok=True)
            self.folders[folder] = oid
            self.store.put_folder_ids(self.slug, self.commit, self.folders)
            return local

    def _folder_oid(self, folder: str) -> str | None:
        """The git id of ``folder``'s tree at the crawled commit (None: not a folder). The
        root's is in the listing; another costs one small query, and a folder whose id is
        known is never downloaded again."""
        if folder == ".":
            return self.tree_oid
        owner, name = self.slug.split("/", 1)
        try:
            data = self.client.graphql(
                _FOLDER, {"owner": owner, "name": name, "expression": f"{self.commit}:{folder}"}
            )
        except GitHubError as exc:
            raise RepositoryError(f"{folder} cannot be looked up on GitHub: {exc}") from None
        found = ((data.get("repository") or {}).get("object")) or {}
        return str(found["oid"]) if found.get("oid") else None

    def _descriptor_entry(self, path: str) -> dict[str, str]:
        oid = self.blobs[path]
        earlier = self.previous.get(path)
        since = earlier[1] if earlier and earlier[0] == oid and earlier[1] else _now()
        entry = {"oid": oid, "since": since}
        if path in self.stale_paths:
            entry.update(error=self.stale_paths[path][0], staleSince=self.stale_paths[path][1])
        return entry

    def artifact_entry(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "tree": self.tree_oid,
            "descriptors": {path: self._descriptor_entry(path) for path in sorted(self.blobs)},
            "problems": dict(sorted(self.problems.items())),
        }


def _read_regular(path: Path, relpath: str, limit: int) -> bytes:
    if path.stat().st_size > limit:
        raise FileTooLarge(f"{relpath} is over the {limit / 1e6:.0f} MB limit")
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"{relpath} is over the {limit / 1e6:.0f} MB limit")
    return data
