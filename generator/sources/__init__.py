"""Where descriptors come from. Each source yields repositories; none knows about HTML."""

from ._open import OpenedSources, SourceError, open_repositories
from ._repository import (
    FileTooLarge,
    GitFolder,
    LocalRepository,
    OutsideRepository,
    Repository,
    RepositoryError,
    WebView,
    is_git_path,
)
from .github import CrawlError, CrawlReport, GitHubRepository, crawl_github
from .local import discover_local, repositories_to_validate

__all__ = [
    "CrawlError",
    "CrawlReport",
    "FileTooLarge",
    "GitFolder",
    "GitHubRepository",
    "LocalRepository",
    "OpenedSources",
    "OutsideRepository",
    "Repository",
    "RepositoryError",
    "SourceError",
    "WebView",
    "crawl_github",
    "discover_local",
    "is_git_path",
    "open_repositories",
    "repositories_to_validate",
]
