"""The JSON Schema editors use to check descriptors while they are typed.

Built from the same declarations that validate documents, so the two cannot drift.
"""

from __future__ import annotations

from typing import Any

from ._kinds import KINDS, METADATA

__all__ = ["descriptor_json_schema"]

_PLACEHOLDER = {
    "type": "object",
    "description": "replaced by a file's content: $text (as text), $json or $yaml (parsed)",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        "$text": {"type": "string"},
        "$json": {"type": "string"},
        "$yaml": {"type": "string"},
    },
    "additionalProperties": False,
}


def descriptor_json_schema() -> dict[str, Any]:
    """A draft-07 schema: the envelope, then each kind's spec chosen by ``kind``."""
    kinds = [k.kind for k in KINDS]
    versions = sorted({v for k in KINDS for v in k.api_versions})
    branches = []
    for kind in KINDS:
        spec = kind.spec.json_schema()
        if kind.kind == "API":
            definition = spec["properties"]["definition"]
            spec["properties"]["definition"] = {
                "description": definition.get("description", ""),
                "anyOf": [definition, {"$ref": "#/definitions/placeholder"}],
            }
        branches.append(
            {
                "if": {"properties": {"kind": {"const": kind.kind}}, "required": ["kind"]},
                "then": {
                    "description": kind.description,
                    "properties": {
                        "apiVersion": {"enum": list(kind.api_versions)},
                        "spec": spec,
                    },
                    "required": ["spec"],
                },
            }
        )
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://backlot.dev/schemas/catalog-info.json",
        "title": "Backstage catalog descriptor (catalog-info.yaml)",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"type": "string", "enum": versions},
            "kind": {"type": "string", "enum": kinds},
            "metadata": METADATA.json_schema(),
            "spec": {"type": "object"},
        },
        "allOf": branches,
        "definitions": {"placeholder": _PLACEHOLDER},
    }
