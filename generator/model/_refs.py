"""Entity references: ``[<kind>:][<namespace>/]<name>``, compared case-insensitively."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import BacklotError

__all__ = ["DEFAULT_NAMESPACE", "EntityRef", "RefError", "parse_ref"]

DEFAULT_NAMESPACE = "default"


class RefError(BacklotError, ValueError):
    """A reference string that is not of the form ``[<kind>:][<namespace>/]<name>``."""


class EntityRef(NamedTuple):
    """A fully qualified reference, kept in the spelling it was written in."""

    kind: str
    namespace: str
    name: str

    @property
    def key(self) -> str:
        """The canonical, lowercase form that Backstage's ``stringifyEntityRef`` returns."""
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    @property
    def storage_path(self) -> str:
        """``<namespace>/<kind>/<name>``, lowercase: where Backstage stores the entity's
        TechDocs, and the folder of its portal page below ``catalog/``."""
        return f"{self.namespace}/{self.kind}/{self.name}".lower()

    @classmethod
    def of(cls, entity: Mapping[str, Any]) -> EntityRef:
        """The reference of an entity as catalog.json holds it (kind and metadata)."""
        meta = entity["metadata"]
        return cls(entity["kind"], meta.get("namespace") or DEFAULT_NAMESPACE, meta["name"])

    @classmethod
    def from_key(cls, key: str) -> EntityRef:
        """A canonical key (``component:default/orders``) back into its parts."""
        kind, colon, rest = key.partition(":")
        namespace, slash, name = rest.partition("/")
        if not (colon and slash and kind and namespace and name):
            raise RefError(f"{key!r} is not a canonical entity key (kind:namespace/name)")
        return cls(kind, namespace, name)

    def __str__(self) -> str:
        return self.key


def parse_ref(
    ref: str, *, default_kind: str | None = None, default_namespace: str = DEFAULT_NAMESPACE
) -> EntityRef:
    """Parse ``ref`` the way Backstage's ``parseEntityRef`` does, with its defaults.

    A ``/`` before the first ``:`` means there is no kind part (``ns/a:b`` is the name
    ``a:b`` in namespace ``ns``). Empty parts and a missing kind without a default fail.
    """
    if not ref:
        raise RefError("an entity reference must not be empty")
    colon = ref.find(":")
    slash = ref.find("/")
    if slash != -1 and slash < colon:
        colon = -1
    kind = ref[:colon] if colon != -1 else None
    namespace = ref[colon + 1 : slash] if slash != -1 else None
    name = ref[max(colon + 1, slash + 1) :]
    if kind == "" or namespace == "" or name == "":
        raise RefError(f"entity reference {ref!r} is not of the form [<kind>:][<namespace>/]<name>")
    kind = kind if kind is not None else default_kind
    if not kind:
        raise RefError(
            f"entity reference {ref!r} needs a kind here (for example 'component:{ref}')"
        )
    return EntityRef(kind, namespace if namespace is not None else default_namespace, name)
