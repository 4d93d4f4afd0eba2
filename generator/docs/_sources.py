"""Which entities have docs, and where each docs tree lives (``backstage.io/techdocs-ref``)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ..model import CatalogFile, DocsProblem, EntityRef
from ..sources import OutsideRepository, Repository, RepositoryError, UrlOpener

__all__ = ["DocsSource", "find_docs_sources"]

TECHDOCS_REF = "backstage.io/techdocs-ref"


@dataclass(frozen=True)
class DocsSource:
    """One entity's docs: the folder holding its ``mkdocs.yml`` (or ``docs/``), inside
    its repository, and where the built site goes in Backstage's storage layout."""

    entity_ref: str
    storage_path: str
    repository: Repository
    folder: str  # POSIX path of the docs folder within the repository ("" = its root)
    site_name: str
    description: str


def find_docs_sources(
    catalog: CatalogFile, repositories: dict[str, Repository], urls: UrlOpener | None = None
) -> tuple[list[DocsSource], dict[str, DocsProblem]]:
    """Every entity with a techdocs-ref, resolved; and per entity, why it could not be.
    A ``url:`` ref into another repository is opened with ``urls`` (when given)."""
    found: list[DocsSource] = []
    problems: dict[str, DocsProblem] = {}

    def problem(key: str, rule: str, message: str) -> None:
        problems[key] = DocsProblem(rule=rule, message=message)

    for entity in catalog.entities:
        meta = entity["metadata"]
        ref = (meta.get("annotations") or {}).get(TECHDOCS_REF)
        if not isinstance(ref, str):
            continue
        key = f"{entity['kind']}:{meta['namespace']}/{meta['name']}".lower()
        source = catalog.sources[key]
        repository = repositories.get(source.repository)
        if repository is None:
            problem(
                key,
                "docs/no-repository",
                f"repository {source.repository!r} is not available to the docs stage",
            )
            continue
        kind, _, target = ref.partition(":")
        base = posixpath.dirname(source.path)
        if kind == "dir":
            folder = posixpath.normpath(posixpath.join(base, target or "."))
        elif kind == "url" and (own := repository.folder_of(target)) is not None:
            # A URL into the entity's own repository: read the checkout we already have.
            folder = own
        elif kind == "url" and urls is not None:
            try:
                repository, folder = urls.open(target)
            except RepositoryError as exc:
                problem(key, "docs/unreadable", f"{TECHDOCS_REF} {ref!r}: {exc}")
                continue
        elif kind == "url":
            problem(
                key,
                "docs/remote-ref",
                f"{TECHDOCS_REF} {ref!r}: docs in another repository are read through the "
                "sources in backlot.yaml, which this command does not open",
            )
            continue
        else:
            problem(key, "docs/bad-ref", f"{TECHDOCS_REF} {ref!r} must start with dir: or url:")
            continue
        if folder == "..":
            folder = ".."  # reported as outside the repository just below
        try:
            path = repository.resolve(folder)
        except OutsideRepository as exc:
            problem(key, "docs/outside-repository", f"{TECHDOCS_REF} {ref!r}: {exc}")
            continue
        except RepositoryError as exc:
            problem(key, "docs/unreadable", f"{TECHDOCS_REF} {ref!r}: {exc}")
            continue
        if not path.is_dir():
            problem(
                key,
                "docs/no-tree",
                f"{TECHDOCS_REF} {ref!r}: {folder} is not a folder in {repository.name}",
            )
            continue
        title = meta.get("title")
        description = meta.get("description")
        found.append(
            DocsSource(
                entity_ref=key,
                storage_path=EntityRef.from_key(key).storage_path,
                repository=repository,
                folder="" if folder == "." else folder,
                site_name=title if isinstance(title, str) else meta["name"],
                description=description if isinstance(description, str) else "",
            )
        )
    return found, problems
