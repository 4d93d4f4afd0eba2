"""Where descriptors come from. Each source yields repositories; none knows about HTML."""

from ._open import SourceError, open_repositories
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
from .local import discover_local, repositories_to_validate

__all__ = [
    "FileTooLarge",
    "GitFolder",
    "LocalRepository",
    "OutsideRepository",
    "Repository",
    "RepositoryError",
    "SourceError",
    "WebView",
    "discover_local",
    "is_git_path",
    "open_repositories",
    "repositories_to_validate",
]
