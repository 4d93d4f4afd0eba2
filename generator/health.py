"""How healthy the catalog is, in the figures an internal developer platform is judged by:
how much is owned by someone who exists, documented, and started from a golden path.

Computed from catalog.json (and, when the site stage knows them, the entities whose docs
were built), so the build's summary, the portal's Health page, its ``health.json`` and a
pull-request check all count the same way. The history of those figures (``history``) is
kept by the portal in ``health/history.json``; a point is added only when a figure changed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .model import CatalogFile, RefError, parse_ref
from .text import counted

__all__ = [
    "HEALTH_JSON",
    "HISTORY_JSON",
    "HISTORY_POINTS",
    "Health",
    "LocationFindings",
    "OwnerGaps",
    "Share",
    "TemplateUse",
    "catalog_health",
    "next_history",
    "published_health",
    "read_history",
]

TECHDOCS_REF = "backstage.io/techdocs-ref"
SOURCE_TEMPLATE = "backstage.io/source-template"
# Kinds whose spec.owner is required (Backstage's schemas).
OWNED_KINDS = frozenset({"component", "api", "resource", "system", "domain", "template"})
# Kinds whose docs the TechDocs coverage counts.
DOCUMENTED_KINDS = frozenset({"component", "api"})
ORPHAN_RULE = "catalog/orphan"
UNRESOLVED_RULE = "catalog/unresolved-ref"
# Where the portal publishes the figures, and their history (read back at the next build).
HEALTH_JSON = "health/health.json"
HISTORY_JSON = "health/history.json"
HISTORY_POINTS = 200  # the oldest points go first


@dataclass(frozen=True)
class Share:
    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return 100 * self.part / self.whole if self.whole else None

    def __str__(self) -> str:
        percent = self.percent
        shown = "—" if percent is None else f"{percent:.0f} %"
        return f"{shown} ({self.part} of {self.whole})"

    def as_dict(self) -> dict[str, Any]:
        percent = self.percent
        return {
            "part": self.part,
            "whole": self.whole,
            "percent": None if percent is None else round(percent, 1),
        }


@dataclass(frozen=True)
class TemplateUse:
    """Components started from one Software Template (by ``backstage.io/source-template``)."""

    template: str  # the Template's key, or the annotation as written when it is not a ref
    components: int
    exists: bool  # a Template entity of the catalog


@dataclass(frozen=True)
class OwnerGaps:
    """What one owner's entities lack: each team sees its own gaps."""

    owner: str  # the owner's key (ownedBy's target)
    exists: bool  # an entity of the catalog (else: its entities are orphans)
    entities: int
    without_docs: int  # of its components and APIs
    without_description: int
    findings: int  # errors and warnings of its entities

    @property
    def gaps(self) -> int:
        return self.without_docs + self.without_description + self.findings


@dataclass(frozen=True)
class LocationFindings:
    """The findings of one descriptor file."""

    file: str  # as findings name it: <repository>/<path>
    url: str | None  # the file's web address, when known
    errors: int
    warnings: int


@dataclass(frozen=True)
class Health:
    owned: Share  # owned entities whose owner is an entity of the catalog
    techdocs: Share  # components with a techdocs-ref (whether or not their docs built)
    from_templates: Share  # components created from a Software Template
    stale_repositories: int  # repositories shown from their last good read
    # Repositories with a descriptor / every repository the sources listed; None for a
    # catalog.json written before those were counted.
    repositories: Share | None = None
    # Components and APIs whose docs were built / components and APIs; None when which
    # docs were built is not known (catalog.json alone).
    docs: Share | None = None
    entities: int = 0
    errors: int = 0
    warnings: int = 0
    orphans: int = 0
    unresolved_refs: int = 0
    templates: tuple[TemplateUse, ...] = ()
    owners: tuple[OwnerGaps, ...] = ()  # worst first
    locations: tuple[LocationFindings, ...] = field(default=())

    def lines(self) -> list[str]:
        lines = []
        if self.repositories is not None:
            lines.append(f"Repositories with a descriptor: {self.repositories}")
        lines.append(f"Owners that exist: {self.owned}")
        lines.append(f"Components with TechDocs: {self.techdocs}")
        if self.docs is not None:
            lines.append(f"Components and APIs with built docs: {self.docs}")
        lines.append(f"Components from a template: {self.from_templates}")
        lines.append(f"Repositories out of date: {self.stale_repositories}")
        return lines

    def figures(self) -> dict[str, int]:
        """The headline numbers, flat: what a history point keeps, and compares."""
        figures = {"entities": self.entities}
        shares = {
            "repositories": self.repositories,
            "owned": self.owned,
            "templates": self.from_templates,
            "docs": self.docs,
        }
        for name, share in shares.items():
            if share is not None:
                figures[f"{name}_part"] = share.part
                figures[f"{name}_whole"] = share.whole
        figures |= {
            "errors": self.errors,
            "warnings": self.warnings,
            "orphans": self.orphans,
            "unresolved_refs": self.unresolved_refs,
            "stale_repositories": self.stale_repositories,
        }
        return figures

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Health:
        """A ``health.json`` read back (raises KeyError, TypeError on another shape)."""

        def share(value: Any) -> Share | None:
            return None if value is None else Share(int(value["part"]), int(value["whole"]))

        def required(name: str) -> Share:
            found = share(data[name])
            if found is None:
                raise TypeError(f"{name} is null")
            return found

        return cls(
            owned=required("owned"),
            techdocs=required("techdocsAnnotated"),
            from_templates=required("fromTemplates"),
            stale_repositories=int(data["staleRepositories"]),
            repositories=share(data["repositories"]),
            docs=share(data["docs"]),
            entities=int(data["entities"]),
            errors=int(data["errors"]),
            warnings=int(data["warnings"]),
            orphans=int(data["orphans"]),
            unresolved_refs=int(data["unresolvedRefs"]),
            templates=tuple(
                TemplateUse(str(t["template"]), int(t["components"]), bool(t["exists"]))
                for t in data["templates"]
            ),
            owners=tuple(
                OwnerGaps(
                    str(o["owner"]),
                    bool(o["exists"]),
                    int(o["entities"]),
                    int(o["withoutDocs"]),
                    int(o["withoutDescription"]),
                    int(o["findings"]),
                )
                for o in data["owners"]
            ),
            locations=tuple(
                LocationFindings(
                    str(loc["file"]),
                    None if loc["url"] is None else str(loc["url"]),
                    int(loc["errors"]),
                    int(loc["warnings"]),
                )
                for loc in data["locations"]
            ),
        )

    def row(self) -> str:
        """The step summary's Health row: the Health page's headline figures, in one cell."""

        def shown(share: Share | None) -> str:
            percent = None if share is None else share.percent
            return "not known" if percent is None else f"{percent:.0f} %"

        return (
            f"repositories with a descriptor {shown(self.repositories)}, "
            f"components from a template {shown(self.from_templates)}, "
            f"components and APIs with docs {shown(self.docs)}, "
            f"owners that exist {shown(self.owned)}; "
            f"{counted(self.orphans, 'orphan')}, "
            f"{counted(self.unresolved_refs, 'unresolved reference')}"
        )

    def worst_owners(self, count: int = 5) -> list[OwnerGaps]:
        """The owners with the most gaps (the Health page's first rows)."""
        return [o for o in self.owners if o.gaps][:count]

    def as_dict(self) -> dict[str, Any]:
        """``health/health.json``: the figures for machines."""

        def share(value: Share | None) -> dict[str, Any] | None:
            return None if value is None else value.as_dict()

        return {
            "schemaVersion": 1,
            "entities": self.entities,
            "repositories": share(self.repositories),
            "owned": share(self.owned),
            "techdocsAnnotated": share(self.techdocs),
            "docs": share(self.docs),
            "fromTemplates": share(self.from_templates),
            "staleRepositories": self.stale_repositories,
            "errors": self.errors,
            "warnings": self.warnings,
            "orphans": self.orphans,
            "unresolvedRefs": self.unresolved_refs,
            "templates": [
                {"template": t.template, "components": t.components, "exists": t.exists}
                for t in self.templates
            ],
            "owners": [
                {
                    "owner": o.owner,
                    "exists": o.exists,
                    "entities": o.entities,
                    "withoutDocs": o.without_docs,
                    "withoutDescription": o.without_description,
                    "findings": o.findings,
                }
                for o in self.owners
            ],
            "locations": [
                {"file": loc.file, "url": loc.url, "errors": loc.errors, "warnings": loc.warnings}
                for loc in self.locations
            ],
        }


def published_health(folder: Path) -> Health | None:
    """The figures the site stage published in ``folder`` (``health/health.json``), read
    back as they were computed there (with the docs that were built); None without them."""
    try:
        data = json.loads((folder / HEALTH_JSON).read_text(encoding="utf-8"))
        return Health.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def catalog_health(catalog: CatalogFile, documented: Collection[str] | None = None) -> Health:
    """The catalog's figures; ``documented`` are the keys of the entities whose docs were
    built (the site stage knows them), without which docs coverage is not known."""
    keys = set(catalog.sources)  # every entity, by canonical key
    kinds = {_key(e): str(e.get("kind", "")).lower() for e in catalog.entities}
    owned = [e for e in catalog.entities if kinds[_key(e)] in OWNED_KINDS]
    components = [e for e in catalog.entities if kinds[_key(e)] == "component"]
    documentable = [k for k, kind in kinds.items() if kind in DOCUMENTED_KINDS]
    summary = catalog.summary
    repositories = (
        Share(summary.repositories_with_descriptors or 0, summary.repositories)
        if summary.repositories is not None
        else None
    )
    return Health(
        owned=Share(sum(1 for e in owned if _owners(e) & keys), len(owned)),
        techdocs=Share(_annotated(components, TECHDOCS_REF), len(components)),
        from_templates=Share(_annotated(components, SOURCE_TEMPLATE), len(components)),
        stale_repositories=len(
            {s.repository for s in catalog.sources.values() if s.stale_since is not None}
        ),
        repositories=repositories,
        docs=None
        if documented is None
        else Share(sum(1 for k in documentable if k in documented), len(documentable)),
        entities=summary.entities,
        errors=summary.errors,
        warnings=summary.warnings,
        orphans=sum(1 for f in catalog.findings if f.rule == ORPHAN_RULE),
        unresolved_refs=sum(1 for f in catalog.findings if f.rule == UNRESOLVED_RULE),
        templates=_templates(catalog, kinds, components),
        owners=_owner_gaps(catalog, kinds, owned, documented),
        locations=_locations(catalog),
    )


def template_of(entity: Mapping[str, Any]) -> str | None:
    """The Template a component was created from, as a key when the annotation is a ref."""
    value = ((entity.get("metadata") or {}).get("annotations") or {}).get(SOURCE_TEMPLATE)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_ref(value.strip(), default_kind="template").key
    except RefError:
        return value.strip()


def _templates(
    catalog: CatalogFile, kinds: dict[str, str], components: list[dict[str, Any]]
) -> tuple[TemplateUse, ...]:
    used = Counter(t for t in map(template_of, components) if t is not None)
    for key, kind in kinds.items():
        if kind == "template":
            used.setdefault(key, 0)
    return tuple(
        TemplateUse(key, count, kinds.get(key) == "template")
        for key, count in sorted(used.items(), key=lambda item: (-item[1], item[0]))
    )


def _owner_gaps(
    catalog: CatalogFile,
    kinds: dict[str, str],
    owned: list[dict[str, Any]],
    documented: Collection[str] | None,
) -> tuple[OwnerGaps, ...]:
    findings = Counter(f.entity_ref for f in catalog.findings if f.entity_ref)
    rows: dict[str, list[int]] = {}
    for entity in owned:
        key = _key(entity)
        documentable = kinds[key] in DOCUMENTED_KINDS
        if documented is None:
            undocumented = documentable and not _annotated([entity], TECHDOCS_REF)
        else:
            undocumented = documentable and key not in documented
        description = (entity.get("metadata") or {}).get("description")
        for owner in sorted(_owners(entity)) or [""]:
            row = rows.setdefault(owner, [0, 0, 0, 0])
            row[0] += 1
            row[1] += undocumented
            row[2] += not (isinstance(description, str) and description.strip())
            row[3] += findings[key]
    gaps = [OwnerGaps(owner, owner in kinds, *row) for owner, row in rows.items() if owner]
    # Worst first: most gaps, then the largest share of its entities, then by name.
    return tuple(sorted(gaps, key=lambda o: (-o.gaps, -o.gaps / o.entities, o.owner)))


def _locations(catalog: CatalogFile) -> tuple[LocationFindings, ...]:
    urls = {f"{s.repository}/{s.path}": s.url for s in catalog.sources.values()}
    by_file: dict[str, list[int]] = {}
    for finding in catalog.findings:
        counts = by_file.setdefault(finding.file, [0, 0])
        counts[finding.severity == "warning"] += 1
    return tuple(
        LocationFindings(file, urls.get(file), errors, warnings)
        for file, (errors, warnings) in sorted(
            by_file.items(), key=lambda item: (-item[1][0], -item[1][1], item[0])
        )
    )


def next_history(history: list[dict[str, Any]], health: Health, time: str) -> list[dict[str, Any]]:
    """``history`` with a point for ``health`` at ``time`` when one of its figures differs
    from the last point's (else unchanged, so the pages showing it stay byte-identical),
    at most HISTORY_POINTS long."""
    figures = health.figures()
    if history and history[-1].get("figures") == figures:
        return history
    return [*history, {"time": time, "figures": figures}][-HISTORY_POINTS:]


def read_history(data: object) -> list[dict[str, Any]]:
    """The points of a ``history.json`` read back (a published file: anything that is
    not a point is dropped)."""
    points = data.get("points") if isinstance(data, dict) else None
    if not isinstance(points, list):
        return []
    kept = []
    for point in points[-HISTORY_POINTS:]:
        if not isinstance(point, dict) or not _is_time(point.get("time")):
            continue
        figures = point.get("figures")
        if isinstance(figures, dict) and all(
            isinstance(k, str) and type(v) is int for k, v in figures.items()
        ):
            kept.append({"time": point["time"], "figures": figures})
    return kept


def _is_time(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _key(entity: Mapping[str, Any]) -> str:
    meta = entity.get("metadata") or {}
    return f"{entity.get('kind')}:{meta.get('namespace', 'default')}/{meta.get('name')}".lower()


def _owners(entity: Mapping[str, Any]) -> set[str]:
    return {
        str(r.get("targetRef", "")).lower()
        for r in entity.get("relations") or ()
        if r.get("type") == "ownedBy"
    }


def _annotated(entities: Iterable[Mapping[str, Any]], annotation: str) -> int:
    return sum(
        1 for e in entities if ((e.get("metadata") or {}).get("annotations") or {}).get(annotation)
    )
