"""The sources ``backlot.yaml`` names, opened into repositories: one place for every kind."""

from __future__ import annotations

from ..config import CatalogSettings
from ..errors import BacklotError
from ._repository import Repository
from .local import discover_local

__all__ = ["SourceError", "open_repositories"]


class SourceError(BacklotError):
    """A configured source cannot be read at all; the message names it."""


def open_repositories(settings: CatalogSettings) -> list[Repository]:
    """Every repository of every configured source, in the order the sources are listed.

    Each kind of source (``type`` in ``backlot.yaml``) is opened here: the GitHub crawl
    and git sources join the local folder as one more branch, and no stage needs to know
    which kind a repository came from.
    """
    repositories: list[Repository] = []
    for source in settings.sources:
        if not source.path.is_dir():
            raise SourceError(f"{source.path}: no such folder of repositories")
        repositories.extend(discover_local(source.path, source.descriptors, source.url_template))
    return repositories
