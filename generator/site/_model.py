"""What the pages are made of: the catalog indexed once, and views of its entities.

Built once from ``catalog.json``; every page reads from it and nothing here knows HTML.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..model import CatalogFile, DocsProblem, EntitySource, Finding, entity_page

__all__ = ["EntityRow", "RefView", "SiteModel"]

SUMMARY_CHARS = 140


@dataclass(frozen=True)
class RefView:
    """A reference as a page shows it: a label, and (when the entity exists) the site path
    of its page, which templates prefix with the page's ``root``."""

    key: str
    label: str
    kind: str
    href: str | None


@dataclass(frozen=True)
class EntityRow:
    """One line of an entity table (catalog index, a group's entities, ...); ``href`` is a
    site path, like RefView's."""

    key: str
    href: str
    label: str
    name: str
    namespace: str
    kind: str
    type: str
    owner: RefView | None
    lifecycle: str
    system: RefView | None
    tags: tuple[str, ...]
    summary: str


@dataclass
class SiteModel:
    """The catalog, indexed for pages: entities by ref, their relations and findings."""

    catalog: CatalogFile
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    relations: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    docs: dict[str, str] = field(default_factory=dict)  # entity → docs site path
    docs_errors: dict[str, str] = field(default_factory=dict)  # entity → why no docs
    # entity → what its docs build warned about (broken links, missing snippets…)
    docs_warnings: dict[str, tuple[DocsProblem, ...]] = field(default_factory=dict)
    _rows: dict[str, EntityRow] = field(default_factory=dict)

    @classmethod
    def from_catalog(cls, catalog: CatalogFile) -> SiteModel:
        model = cls(catalog)
        for entity in catalog.entities:
            meta = entity["metadata"]
            key = f"{entity['kind']}:{meta['namespace']}/{meta['name']}".lower()
            model.entities[key] = entity
            model.relations[key] = [(r["type"], r["targetRef"]) for r in entity["relations"]]
            model.labels[key] = (entity["kind"], _title(entity))
        grouped: dict[str, list[Finding]] = defaultdict(list)
        for finding in catalog.findings:
            if finding.entity_ref in model.entities:
                grouped[finding.entity_ref].append(finding)
        model.findings = dict(grouped)
        return model

    def source(self, key: str) -> EntitySource:
        return self.catalog.sources[key]

    def ref(self, key: str) -> RefView:
        """``key`` as pages show it; unknown refs get no link."""
        known = self.labels.get(key)
        if known is None:
            kind = key.partition(":")[0]
            return RefView(key, _short(key), kind.capitalize() if kind else "", None)
        return RefView(key, known[1], known[0], entity_page(key))

    def related(self, key: str, relation: str) -> list[str]:
        return sorted(t for r, t in self.relations.get(key, ()) if r == relation)

    def row(self, key: str) -> EntityRow:
        cached = self._rows.get(key)
        if cached is None:
            cached = self._rows[key] = self._make_row(key)
        return cached

    def _make_row(self, key: str) -> EntityRow:
        entity = self.entities[key]
        meta = entity["metadata"]
        spec = entity.get("spec") or {}
        owner = self._first(key, "ownedBy")
        system = next((t for t in self.related(key, "partOf") if t.startswith("system:")), None)
        description = meta.get("description")
        return EntityRow(
            key=key,
            href=entity_page(key),
            label=self.labels[key][1],
            name=meta["name"],
            namespace=meta["namespace"],
            kind=entity["kind"],
            type=_text(spec.get("type")),
            owner=self.ref(owner) if owner else None,
            lifecycle=_text(spec.get("lifecycle")),
            system=self.ref(system) if system else None,
            tags=tuple(t for t in meta.get("tags") or () if isinstance(t, str)),
            summary=summary(description) if isinstance(description, str) else "",
        )

    def _first(self, key: str, relation: str) -> str | None:
        targets = self.related(key, relation)
        return targets[0] if targets else None

    def content_hash(self, key: str) -> str:
        """Changes exactly when the entity's own data (or its findings) does."""
        payload = json.dumps(
            [
                self.entities[key],
                self.catalog.sources[key].model_dump(),
                [f.model_dump() for f in self.findings.get(key, ())],
                self.docs.get(key),
                self.docs_errors.get(key),
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _title(entity: dict[str, Any]) -> str:
    """How Backstage names an entity on its pages: a User's or Group's
    ``spec.profile.displayName``, else ``metadata.title``, else its name."""
    spec = entity.get("spec") or {}
    profile = spec.get("profile") if isinstance(spec, dict) else None
    if entity["kind"] in ("User", "Group") and isinstance(profile, dict):
        display_name = profile.get("displayName")
        if isinstance(display_name, str) and display_name.strip():
            return display_name
    title = entity["metadata"].get("title")
    return title if isinstance(title, str) and title.strip() else entity["metadata"]["name"]


def summary(description: str) -> str:
    """A one-line plain-text summary: Markdown markers are shown as they are, not parsed."""
    text = " ".join(description.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _short(key: str) -> str:
    """How an unresolved ref reads: without the default namespace."""
    kind, _, rest = key.partition(":")
    namespace, _, name = rest.partition("/")
    return f"{kind}:{name}" if namespace == "default" else key
