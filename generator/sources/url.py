"""Files at URLs: the ``type: url`` source, Location ``url`` targets and techdocs-ref
``url:`` values that point outside the repositories a build has.

A ``blob`` or ``tree`` URL on a GitHub host (github.com, or an Enterprise Server a
``type: github`` source names) is read through the API, so private repositories work:
the ref's commit is one conditional request (free against the rate limit when unchanged),
then the tree and blobs come from the crawl's store by git id, as a crawled repository's
do. Any other http(s) URL is fetched as it is, with its ETag; each host is one repository,
so a relative target stays on the host it came from. A GitHub token goes only to its
GitHub; other hosts get no credentials.
"""

from __future__ import annotations

import os
import posixpath
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..config import GitHubSource, UrlSource
from ..github import (
    DEFAULT_API_URL,
    EtagCache,
    GitHubClient,
    GitHubError,
    NotFound,
    TokenAuth,
    api_url_from,
    web_url,
)
from ..text import counted
from ._repository import (
    FileTooLarge,
    Repository,
    RepositoryError,
    UnreachableRepository,
    WebView,
    checked_path,
)
from ._store import CrawlStore
from .github import GitHubRepository, github_client

__all__ = ["HttpRepository", "UrlReader", "UrlReport", "open_url_source"]

ARTIFACT = "urls"
ARTIFACT_VERSION = 1
_GITHUB_PATH = re.compile(r"^/([^/]+)/([^/]+)/(?:blob|tree|edit|raw)/([^/]+)(?:/(.*))?$")
_MAX_URL_BYTES = 10 * 1024 * 1024


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class UrlReport:
    """What reading URLs found and cost; printed, and kept in the URL artifact."""

    source: str = "url"
    urls: int = 0
    github_repositories: int = 0
    hosts: int = 0
    stale: int = 0
    unreachable: int = 0
    requests: int = 0
    not_modified: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def summary(self) -> str:
        return (
            f"url: {counted(self.urls, 'URL')} "
            f"({counted(self.github_repositories, 'GitHub repository')}, "
            f"{counted(self.hosts, 'other host')}), {self.stale} stale, "
            f"{self.unreachable} unreachable; {counted(self.requests, 'request')} "
            f"({self.not_modified} not modified); {self.seconds:.1f} s"
        )


@dataclass
class HttpRepository:
    """The files of one web host, by URL path. Nothing is read from another host, and a
    folder cannot be listed (a web server has no trees), so globs match nothing and docs
    are not built from here."""

    name: str  # the host, as messages name it
    origin: str  # scheme://host[:port]
    client: GitHubClient  # anonymous: retries and ETags, no credentials
    store: CrawlStore
    state: dict[str, Any]
    named: set[str] = field(default_factory=set)  # paths given as descriptors
    stale_paths: dict[str, tuple[str, str]] = field(default_factory=dict)
    _files: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str | None = None
    commit: str | None = None

    @property
    def descriptors(self) -> tuple[str, ...]:
        return tuple(sorted(self.named))

    def display(self, relpath: str) -> str:
        return f"{self.origin}/{relpath}"

    def _address(self, path: str) -> str:
        return f"{self.origin}/{quote(path)}"

    def read_bytes(self, relpath: str, limit: int) -> bytes:
        path = checked_path(relpath, self.name)
        with self._lock:
            data = self._files.get(path)
            if data is None:
                data = self._fetch(path)
                self._files[path] = data
        if len(data) > limit:
            raise FileTooLarge(f"{relpath} is over the {limit / 1e6:.0f} MB limit")
        return data

    def _fetch(self, path: str) -> bytes:
        address = self._address(path)
        seen = self.state.setdefault("files", {})
        try:
            answer = self.client.request("GET", address, accept="*/*", conditional=True)
        except NotFound:
            raise RepositoryError(f"{address} does not exist (HTTP 404)") from None
        except GitHubError as exc:
            cached = self.client.etags.get(address)
            if cached is None:
                raise RepositoryError(f"{address} cannot be read: {exc}") from None
            # Last known good: the copy read before, marked stale.
            self.stale_paths[path] = (str(exc), str(seen.get(address, "")))
            return cached[1]
        if 300 <= answer.status < 400:
            raise RepositoryError(
                f"{address} redirects to {answer.headers.get('location', 'elsewhere')}; "
                "redirects are not followed (the address they lead to was not allowed)"
            )
        if "etag" not in answer.headers:
            self.client.etags.put(address, "", answer.content)  # kept for when it fails
        seen[address] = _now()
        return answer.content

    def resolve(self, relpath: str) -> Path:
        path = checked_path(relpath, self.name)
        raise RepositoryError(
            f"{self._address(path)} is on a web server, where folders cannot be read: docs "
            "are built from github, git and local sources"
        )

    def relative(self, real: Path) -> str | None:
        return None

    def glob(self, pattern: str) -> list[str]:
        return []

    def is_file(self, relpath: str) -> bool:
        try:
            self.read_bytes(relpath, _MAX_URL_BYTES)
        except RepositoryError:
            return False
        return True

    def location(self, relpath: str) -> str:
        return f"url:{self._address(relpath)}"

    def web_url(self, relpath: str, view: WebView) -> str | None:
        return self._address(relpath) if view == "blob" else None

    def folder_of(self, url: str) -> str | None:
        return None

    def stale(self, relpath: str) -> tuple[str, str] | None:
        return self.stale_paths.get(relpath)

    def changed_times(self, relpaths: Collection[str]) -> dict[str, str]:
        return {}  # a web server keeps no history

    def last_good(self, relpath: str) -> tuple[bytes, str] | None:
        return None


class UrlReader:
    """Opens URLs into repositories and paths within them, each repository once per run.

    ``open`` raises RepositoryError (with the URL in its message) for a URL that cannot
    be read; ``close`` keeps what was learnt (ETags, commits) for the next run.
    """

    def __init__(
        self,
        cache_dir: Path,
        github_sources: tuple[GitHubSource, ...] = (),
        token_env: str = "GITHUB_TOKEN",
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        # Descriptors are untrusted: a URL in one could name a cloud metadata address or
        # an internal service, so only hosts the settings name are read (and GitHub's).
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.store = CrawlStore(cache_dir / "crawl")
        self._cache_dir = cache_dir
        self._token_env = token_env
        self._github_sources = {
            urlsplit(web_url(api_url_from(s.api_url))).netloc.lower(): s for s in github_sources
        }
        artifact = self.store.artifact(ARTIFACT)
        self.state: dict[str, Any] = (
            artifact if artifact.get("schemaVersion") == ARTIFACT_VERSION else {}
        )
        self.state["schemaVersion"] = ARTIFACT_VERSION
        self.report = UrlReport()
        self._clients: dict[str, GitHubClient] = {}
        self._repositories: dict[str, Repository] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ clients

    def _github_api(self, host: str) -> str | None:
        """The API base of ``host`` if it is a GitHub host this build knows."""
        if host in self._github_sources:
            return api_url_from(self._github_sources[host].api_url)
        if host == "github.com":
            return DEFAULT_API_URL
        actions = os.environ.get("GITHUB_API_URL")
        if actions and urlsplit(web_url(actions.rstrip("/"))).netloc.lower() == host:
            return actions.rstrip("/")
        return None

    def _client(self, host: str, api: str | None) -> GitHubClient:
        key = api or f"plain:{host}"
        client = self._clients.get(key)
        if client is None:
            etags = EtagCache(self._cache_dir / "crawl" / "url-etags.json")
            if self._clients:  # one cache file, shared by this reader's clients
                etags = next(iter(self._clients.values())).etags
            if api is not None and host in self._github_sources:
                client = github_client(self._github_sources[host], self._cache_dir)
                client.etags = etags
            elif api is not None:
                token = os.environ.get(self._token_env)
                client = GitHubClient(api, TokenAuth(token) if token else None, etags=etags)
            else:
                # host is the origin here; no redirects: they could lead anywhere
                client = GitHubClient(host, None, etags=etags, follow_redirects=False)
            self._clients[key] = client
        return client

    # ------------------------------------------------------------------ opening

    def open(self, url: str) -> tuple[Repository, str]:
        """The repository ``url`` is in, and its path there (``.`` for a repository's root)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RepositoryError(f"{url}: only http and https URLs are read")
        host = parts.netloc.lower()
        api = self._github_api(host)
        if api is None and (parts.hostname or "") not in self.allowed_hosts:
            raise RepositoryError(
                f"{url}: {parts.hostname} is not a host this build reads (add it to "
                "catalog.url_hosts in backlot.yaml to allow it)"
            )
        with self._lock:
            if api is not None:
                match = _GITHUB_PATH.match(parts.path)
                if match is None:
                    raise RepositoryError(
                        f"{url}: not a blob or tree URL of a repository on {host}"
                    )
                owner, name, ref, rest = match.groups()
                repository = self._github_repository(host, api, owner, name, unquote(ref))
                return repository, posixpath.normpath(unquote(rest or "")) if rest else "."
            origin = f"{parts.scheme}://{parts.netloc}"
            known = self._repositories.get(origin)
            if known is None:
                client = self._client(origin, None)
                known = HttpRepository(
                    name=parts.netloc,
                    origin=origin,
                    client=client,
                    store=self.store,
                    state=self.state.setdefault("hosts", {}).setdefault(origin, {}),
                )
                self._repositories[origin] = known
                self.report.hosts += 1
            path = posixpath.normpath(unquote(parts.path).lstrip("/") or ".")
            return known, path

    def _github_repository(
        self, host: str, api: str, owner: str, name: str, ref: str
    ) -> GitHubRepository:
        key = f"{host}/{owner}/{name}@{ref}".lower()
        known = self._repositories.get(key)
        if isinstance(known, GitHubRepository):
            return known
        client = self._client(host, api)
        slug = f"{owner}/{name}"
        seen = self.state.setdefault("github", {})
        stale: tuple[str, str] | None = None
        try:
            answer = client.request(
                "GET", f"/repos/{slug}/commits/{quote(ref, safe='')}", conditional=True
            )
            data = answer.json()
            commit, tree = str(data["sha"]), str(data["commit"]["tree"]["sha"])
            seen[key] = {"commit": commit, "tree": tree, "readAt": _now()}
        except GitHubError as exc:
            if isinstance(exc, NotFound) or exc.status == 422:  # 422: no such ref
                raise RepositoryError(
                    f"{web_url(api)}/{slug} has no {ref!r} (or the token cannot see the repository)"
                ) from None
            commit, tree, stale = self._last_read(key, seen, slug, exc)
        except (KeyError, TypeError, ValueError) as exc:
            commit, tree, stale = self._last_read(key, seen, slug, exc)
        repository = GitHubRepository(
            name=slug,
            url=f"{web_url(api)}/{slug}",
            commit=commit,
            slug=slug,
            tree_oid=tree,
            client=client,
            store=self.store,
            folders=self.store.folder_ids(slug, commit),
            stale_all=stale,
        )
        self._repositories[key] = repository
        self.report.github_repositories += 1
        return repository

    def _last_read(
        self, key: str, seen: dict[str, Any], slug: str, exc: Exception
    ) -> tuple[str, str, tuple[str, str]]:
        """Last known good: the commit this ref had when last read, marked stale."""
        before = seen.get(key)
        if not isinstance(before, dict):
            raise RepositoryError(f"{slug} cannot be read: {exc}") from None
        self.report.stale += 1
        return str(before["commit"]), str(before["tree"]), (str(exc), str(before["readAt"]))

    def repositories(self) -> list[Repository]:
        with self._lock:
            return list(self._repositories.values())

    def tally(self) -> UrlReport:
        """The report, with what the requests so far cost."""
        clients = list(self._clients.values())
        self.report.requests = sum(c.budget.requests for c in clients)
        self.report.not_modified = sum(c.budget.not_modified for c in clients)
        return self.report

    def close(self) -> None:
        """Keep the ETags and commits for the next run."""
        self.tally()
        clients = list(self._clients.values())
        if not clients:
            return  # nothing was read: nothing to keep
        clients[0].etags.save()
        self.store.put_artifact(ARTIFACT, {**self.state, "report": self.report.as_dict()})
        for client in clients:
            client.close()


def open_url_source(
    settings: UrlSource, reader: UrlReader, progress: Callable[[str], None] | None = None
) -> list[Repository]:
    """The repositories of a ``type: url`` source, each with the URLs in it as descriptors.
    A URL that cannot be read is an unreadable descriptor of its own; the rest go on."""
    started = time.monotonic()
    found: dict[int, Repository] = {}
    for done, url in enumerate(settings.urls, 1):
        reader.report.urls += 1
        try:
            repository, path = reader.open(url)
        except RepositoryError as exc:
            reader.report.unreachable += 1
            parts = urlsplit(url)
            found[id(exc)] = UnreachableRepository(
                name=f"{parts.scheme}://{parts.netloc}" if parts.netloc else url,
                root=Path(os.devnull),
                descriptors=(parts.path.lstrip("/") or url,),
                reason=str(exc),
            )
            continue
        if isinstance(repository, (GitHubRepository, HttpRepository)):
            repository.named.add(path)
        found.setdefault(id(repository), repository)
        if progress is not None:
            progress(f"{done} of {len(settings.urls)} URLs")
    reader.report.seconds += time.monotonic() - started
    reader.tally()
    return list(found.values())
