"""The sources ``backlot.yaml`` names, opened into repositories: one place for every kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..config import (
    CatalogSettings,
    EntraSource,
    GitHubSource,
    GitHubTeamsSource,
    GitSource,
    GoogleWorkspaceSource,
    LocalSource,
    OktaSource,
    UrlSource,
)
from ._repository import Repository, SourceError
from .git import open_git
from .github import crawl_github
from .local import discover_local
from .org import open_org_source, provider_label
from .url import UrlReader, open_url_source

__all__ = ["OpenedSources", "SourceReport", "open_repositories"]


class SourceReport(Protocol):
    """What opening a remote source found and cost: printed, and kept for the health page."""

    def summary(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


@dataclass
class OpenedSources:
    """The repositories of every source, and a reader for URLs that point outside them
    (Location targets, techdocs-ref ``url:``), which the stages open as they meet them.
    ``close`` once the stages are done: it keeps what the reader learnt for next time."""

    urls: UrlReader
    repositories: list[Repository] = field(default_factory=list)
    reports: list[SourceReport] = field(default_factory=list)  # what each remote one cost
    # Repositories listed but left out for having no descriptor (local folders, the GitHub
    # crawl): the catalog counts them as crawled, for the health page's coverage.
    without_descriptors: int = 0

    def close(self) -> None:
        self.urls.close()


# Identity providers, read as catalog sources (sources/org.py).
_ORG_SOURCES = (EntraSource, GitHubTeamsSource, OktaSource, GoogleWorkspaceSource)


def open_repositories(
    settings: CatalogSettings,
    cache_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> OpenedSources:
    """Every repository of every configured source, in the order the sources are listed.

    Each kind of source (``type`` in ``backlot.yaml``) is opened here, and no stage needs
    to know which kind a repository came from. A source that cannot be read at all (a
    missing folder, an organisation GitHub will not list) stops the build: what it held
    would otherwise look deleted.
    """
    github = tuple(s for s in settings.sources if isinstance(s, GitHubSource))
    url_sources = [s for s in settings.sources if isinstance(s, UrlSource)]
    reader = UrlReader(
        cache_dir,
        github,
        url_sources[0].token_env if url_sources else "GITHUB_TOKEN",
        allowed_hosts=(
            *settings.url_hosts,
            *(urlsplit(url).hostname or "" for s in url_sources for url in s.urls),
        ),
    )
    opened = OpenedSources(reader)
    for source in settings.sources:
        if isinstance(source, LocalSource):
            if not source.path.is_dir():
                raise SourceError(f"{source.path}: no such folder of repositories")
            skipped: list[Path] = []
            opened.repositories.extend(
                discover_local(source.path, source.descriptors, source.url_template, skipped)
            )
            opened.without_descriptors += len(skipped)
        elif isinstance(source, GitHubSource):
            found, report = crawl_github(source, cache_dir, progress=progress)
            opened.repositories.extend(found)
            opened.without_descriptors += report.repositories - len(found)
            opened.reports.append(report)
        elif isinstance(source, GitSource):
            fetched, git_report = open_git(source, cache_dir, progress=progress)
            opened.repositories.extend(fetched)
            opened.reports.append(git_report)
        elif isinstance(source, UrlSource):
            opened.repositories.extend(open_url_source(source, reader, progress=progress))
        elif isinstance(
            source, EntraSource | GitHubTeamsSource | OktaSource | GoogleWorkspaceSource
        ):
            if progress is not None:
                progress(f"reading {provider_label(source)}")
            org_repository, org_report = open_org_source(source, cache_dir)
            opened.repositories.append(org_repository)
            opened.reports.append(org_report)
        else:
            raise SourceError(f"sources of type {source.type!r} are not supported yet")
    if url_sources:
        opened.reports.append(reader.report)
    return opened
