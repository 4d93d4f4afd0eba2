"""catalog:write: the new repository's descriptor, marked with the template it came from
(``backstage.io/source-template``, as Backstage's action adds it), which is how the portal
measures template adoption."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from ._actions import OBJECT, STRING, Action, ActionContext, schema
from ._skeleton import inside

SOURCE_TEMPLATE = "backstage.io/source-template"


def template_ref(context: ActionContext) -> str:
    """The template's ref as Backstage's stringifyEntityRef writes it: lower case."""
    ref = context.template.ref
    return f"{ref.kind}:{ref.namespace}/{ref.name}".lower()


def _write(context: ActionContext) -> None:
    entity: dict[str, Any] = copy.deepcopy(dict(context.input["entity"]))
    metadata = entity.setdefault("metadata", {})
    if isinstance(metadata, dict):
        annotations = metadata.setdefault("annotations", {})
        if isinstance(annotations, dict):
            annotations[SOURCE_TEMPLATE] = template_ref(context)
    relpath = str(context.input.get("filePath", "catalog-info.yaml"))
    target = inside(context.workspace, relpath)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(entity, sort_keys=False, allow_unicode=True), "utf-8")
    context.log(f"wrote {relpath}")


CATALOG_ACTIONS = [
    Action(
        "catalog:write",
        "Write a catalog-info.yaml, marked with this template",
        schema({"entity": OBJECT, "filePath": STRING}, ("entity",)),
        _write,
    ),
]
