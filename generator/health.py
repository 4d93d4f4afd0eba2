"""How healthy the catalog is, in the figures an internal developer platform is judged by:
how much is owned by someone who exists, documented, and started from a golden path.

Computed from catalog.json alone, so the build's summary, the portal and a pull-request
check all count the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .model import CatalogFile

__all__ = ["Health", "Share", "catalog_health"]

TECHDOCS_REF = "backstage.io/techdocs-ref"
SOURCE_TEMPLATE = "backstage.io/source-template"
# Kinds whose spec.owner is required (Backstage's schemas).
OWNED_KINDS = frozenset({"component", "api", "resource", "system", "domain", "template"})


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


@dataclass(frozen=True)
class Health:
    owned: Share  # owned entities whose owner is an entity of the catalog
    techdocs: Share  # components with TechDocs
    from_templates: Share  # components created from a Software Template
    stale_repositories: int  # repositories shown from their last good read

    def lines(self) -> list[str]:
        return [
            f"Owners that exist: {self.owned}",
            f"Components with TechDocs: {self.techdocs}",
            f"Components from a template: {self.from_templates}",
            f"Repositories out of date: {self.stale_repositories}",
        ]


def catalog_health(catalog: CatalogFile) -> Health:
    keys = set(catalog.sources)  # every entity, by canonical key
    owned = [e for e in catalog.entities if str(e.get("kind", "")).lower() in OWNED_KINDS]
    components = [e for e in catalog.entities if str(e.get("kind", "")).lower() == "component"]
    return Health(
        owned=Share(sum(1 for e in owned if _owners(e) & keys), len(owned)),
        techdocs=Share(_annotated(components, TECHDOCS_REF), len(components)),
        from_templates=Share(_annotated(components, SOURCE_TEMPLATE), len(components)),
        stale_repositories=len(
            {s.repository for s in catalog.sources.values() if s.stale_since is not None}
        ),
    )


def _owners(entity: dict[str, Any]) -> set[str]:
    return {
        str(r.get("targetRef", "")).lower()
        for r in entity.get("relations") or ()
        if r.get("type") == "ownedBy"
    }


def _annotated(entities: Iterable[dict[str, Any]], annotation: str) -> int:
    return sum(
        1 for e in entities if ((e.get("metadata") or {}).get("annotations") or {}).get(annotation)
    )
