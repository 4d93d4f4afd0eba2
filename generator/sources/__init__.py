"""Where descriptors come from. Each source yields repositories; none knows about HTML."""

from ._repository import FileTooLarge, OutsideRepository, Repository, RepositoryError
from .local import DEFAULT_DESCRIPTOR_GLOBS, discover_local

__all__ = [
    "DEFAULT_DESCRIPTOR_GLOBS",
    "FileTooLarge",
    "OutsideRepository",
    "Repository",
    "RepositoryError",
    "discover_local",
]
