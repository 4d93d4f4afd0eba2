"""``catalog.json``: the versioned contract between the catalog stage and every later one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.alias_generators import to_camel

from ..files import writing_atomically

__all__ = [
    "SCHEMA_VERSION",
    "CatalogFile",
    "EntitySource",
    "Finding",
    "Severity",
    "Summary",
]

SCHEMA_VERSION = 1

Severity = Literal["error", "warning"]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Finding(_Model):
    """One problem, placed as precisely as we can: file, line, column, stable rule id.

    ``document`` is the index of the YAML document in its file (empty documents not
    counted); None when the problem concerns the whole file.
    """

    file: str
    line: int = 1
    column: int = 1
    rule: str
    severity: Severity = "error"
    message: str
    entity_ref: str | None = None
    document: int | None = None

    def format_text(self) -> str:
        """``file:line:col: rule: message``, the form editors and CI logs link up."""
        level = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}:{self.column}: {self.rule}: {level}{self.message}"

    def format_github(self) -> str:
        """A GitHub Actions workflow command, so that the finding shows on the pull
        request's diff: properties and message escaped as the runner expects."""
        return workflow_command(
            self.severity,
            self.message,
            file=self.file,
            line=str(self.line),
            col=str(self.column),
            title=self.rule,
        )


def workflow_command(command: str, message: str, **properties: str) -> str:
    """``::command k=v,…::message``, escaped as the Actions runner expects, so text from a
    repository cannot end the command early or start another."""
    text = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    given = ",".join(f"{key}={_property(value)}" for key, value in properties.items())
    return f"::{command}{' ' + given if given else ''}::{text}"


def _property(value: str) -> str:
    return (
        value.replace("%", "%25")
        .replace("\r", "%0D")
        .replace("\n", "%0A")
        .replace(":", "%3A")
        .replace(",", "%2C")
    )


class EntitySource(_Model):
    """Where an entity came from: repository, file within it, and the document's line."""

    repository: str
    path: str
    line: int
    document: int
    url: str | None = None
    commit: str | None = None
    # When the descriptor file last changed: the committer date (ISO 8601, UTC, e.g.
    # "2026-11-30T14:03:00Z") of the last commit that touched it, from git or from the
    # crawl; None when that is not known (no git history, uncommitted changes, a shallow
    # history that does not reach it, a URL source). Never when a cache first saw it.
    changed: str | None = None
    # Last known good: the source could not read (or parse) the file this time, so this is
    # the version read at ``stale_since``; ``stale_reason`` says why.
    stale_since: str | None = None
    stale_reason: str | None = None


_STALE_FIELDS = {"stale_since", "stale_reason"}


class Summary(_Model):
    entities: int
    by_kind: dict[str, int]
    files: int
    documents: int
    rejected: int
    errors: int
    warnings: int
    orphans: int
    unresolved_refs: int
    conflicts: int
    disappeared: int = 0
    # Repositories the sources listed, with or without a descriptor, and those with one (the
    # health page's coverage); None in a catalog.json written before they were counted.
    repositories: int | None = None
    repositories_with_descriptors: int | None = None


class CatalogFile(_Model):
    """The whole file. ``entities`` are Backstage-shaped, with ``relations`` filled in."""

    schema_version: Literal[1] = 1
    generator: str
    entities: list[dict[str, Any]]
    sources: dict[str, EntitySource]
    findings: list[Finding]
    summary: Summary

    def write(self, path: Path) -> None:
        """Write atomically, so a failed run never leaves half a catalog behind."""
        with writing_atomically(path) as handle:
            self.dump(handle)

    def dump(self, handle: TextIO) -> None:
        """Write the JSON piece by piece, one entity a line: serialising 50,000 entities
        into one string first would hold the catalog in memory twice over."""
        handle.write(f'{{\n "schemaVersion": {self.schema_version},\n')
        handle.write(f' "generator": {json.dumps(self.generator)},\n "entities": [')
        for i, entity in enumerate(self.entities):
            handle.write(",\n  " if i else "\n  ")
            handle.write(
                json.dumps(entity, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            )
        handle.write('\n ],\n "sources": {')
        for i, (key, source) in enumerate(self.sources.items()):
            handle.write(",\n  " if i else "\n  ")
            # Only a stale source says so: most never are, and catalogs are big.
            fresh = _STALE_FIELDS if source.stale_since is None else None
            handle.write(
                f"{json.dumps(key)}:{source.model_dump_json(by_alias=True, exclude=fresh)}"
            )
        handle.write('\n },\n "findings": [')
        for i, finding in enumerate(self.findings):
            handle.write(",\n  " if i else "\n  ")
            handle.write(finding.model_dump_json(by_alias=True))
        handle.write(f'\n ],\n "summary": {self.summary.model_dump_json(by_alias=True)}\n}}\n')

    @classmethod
    def read(cls, path: Path) -> CatalogFile:
        return cls.model_validate_json(path.read_bytes())

    @classmethod
    def read_sources(cls, path: Path) -> dict[str, EntitySource]:
        """Only ``sources``, for comparing with the last build: a catalog ``dump`` wrote is
        read from its sources on (its entities, most of its bytes, are skipped; no string
        holds a line break, so the markers are where ``dump`` put them); any other whole."""
        data = path.read_bytes()
        start = data.find(_SOURCES_START)
        end = data.find(_SOURCES_END, start)
        if data.startswith(_HEADER) and start != -1 and end != -1:
            return _SOURCES.validate_json(b"{" + data[start + len(_SOURCES_START) : end] + b"}")
        return cls.read(path).sources


# Where ``CatalogFile.dump`` starts the file and opens and closes ``sources``.
_HEADER = f'{{\n "schemaVersion": {SCHEMA_VERSION},\n'.encode()
_SOURCES_START = b'\n ],\n "sources": {'
_SOURCES_END = b'\n },\n "findings": ['
_SOURCES = TypeAdapter(dict[str, EntitySource])
