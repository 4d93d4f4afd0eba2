"""An entity the catalog stage accepted, as the relate step receives it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import EntityRef, EntitySource, Relation

__all__ = ["Accepted"]


@dataclass
class Accepted:
    """An entity that passed every check, with what the relate step needs of it."""

    ref: EntityRef
    entity: dict[str, Any]
    relations: list[Relation]
    source: EntitySource
    file: str
    text_key: tuple[str, str]
