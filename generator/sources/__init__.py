"""Where descriptors come from. Each source yields repositories; none knows about HTML."""

from ._open import OpenedSources, SourceReport, open_repositories
from ._repository import (
    FileTooLarge,
    GitFolder,
    LocalRepository,
    OutsideRepository,
    Repository,
    RepositoryError,
    SourceError,
    UnreachableRepository,
    UrlOpener,
    WebView,
    is_git_path,
)
from .git import GitError, GitReport, GitRepository, open_git
from .github import (
    CrawlError,
    CrawlReport,
    GitHubRepository,
    changed_times_of,
    crawl_github,
    discovers,
)
from .local import discover_local, repositories_to_validate
from .url import HttpRepository, UrlReader, UrlReport

__all__ = [
    "CrawlError",
    "CrawlReport",
    "FileTooLarge",
    "GitError",
    "GitFolder",
    "GitHubRepository",
    "GitReport",
    "GitRepository",
    "HttpRepository",
    "LocalRepository",
    "OpenedSources",
    "OutsideRepository",
    "Repository",
    "RepositoryError",
    "SourceError",
    "SourceReport",
    "UnreachableRepository",
    "UrlOpener",
    "UrlReader",
    "UrlReport",
    "WebView",
    "changed_times_of",
    "crawl_github",
    "discover_local",
    "discovers",
    "is_git_path",
    "open_git",
    "open_repositories",
    "repositories_to_validate",
]
