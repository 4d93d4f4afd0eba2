"""Where descriptors come from. Each source yields repositories; none knows about HTML."""

from ._repository import (
    FileTooLarge,
    GitFolder,
    OutsideRepository,
    Repository,
    RepositoryError,
    is_git_path,
)
from .local import discover_local

__all__ = [
    "FileTooLarge",
    "GitFolder",
    "OutsideRepository",
    "Repository",
    "RepositoryError",
    "discover_local",
    "is_git_path",
]
