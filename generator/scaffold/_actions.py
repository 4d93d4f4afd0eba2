"""What a step's ``action`` names: an input schema (checked strictly before the step runs,
as Backstage checks it, so a template that Backstage would fail fails here too), a handler,
and for actions with effects outside the workspace, a plan that says what a dry run would
do and gives later steps plausible outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._template import ScaffoldTemplate, Step


@dataclass
class ActionContext:
    step: Step
    input: Mapping[str, Any]
    workspace: Path
    template: ScaffoldTemplate
    dry_run: bool
    secrets: Mapping[str, str]
    log: Callable[[str], None]
    services: Any = None  # Services: the GitHub client and catalog settings (_github.py)
    outputs: dict[str, Any] = field(default_factory=dict)

    def output(self, name: str, value: Any) -> None:
        self.outputs[name] = value


Handler = Callable[[ActionContext], None]


@dataclass(frozen=True)
class Action:
    id: str
    description: str
    schema: Mapping[str, Any]
    handler: Handler
    # None: the handler itself is safe in a dry run (it only touches the workspace).
    plan: Handler | None = None


def schema(
    properties: Mapping[str, Any], required: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    """An action's input schema, closed as zod's are: an unknown input key is an error."""
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
STRINGS = {"type": "array", "items": {"type": "string"}}
OBJECT = {"type": "object"}
