"""Where descriptors come from. Each source yields repositories; none knows about HTML."""

from ._repository import (
    FileTooLarge,
    GitFolder,
    OutsideRepository,
    Repository,
    RepositoryError,
    is_git_path,
)
from .local import DEFAULT_DESCRIPTOR_GLOBS, discover_local

__all__ = [
    "DEFAULT_DESCRIPTOR_GLOBS",
    "FileTooLarge",
    "GitFolder",
    "OutsideRepository",
    "Repository",
    "RepositoryError",
    "discover_local",
    "is_git_path",
]
