"""Software Templates in the portal: each template's form as its workflow shows it, where to
run it (the generated workflow in the template's repository), and what was made from it."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..model import EntitySource
from ..scaffold import ScaffoldError, plan_inputs, template_from_entity
from ._context import SiteContext
from ._model import EntityRow, SiteModel
from ._output import PageOutput

SOURCE_TEMPLATE = "backstage.io/source-template"
_REPOSITORY = re.compile(r"^(https://[^/]+/[^/]+/[^/]+?)(?:\.git)?(?:/(?:blob|tree)/.*)?$")


@dataclass(frozen=True)
class FormField:
    name: str
    title: str
    type: str
    required: bool
    default: str
    description: str
    widget: str


@dataclass(frozen=True)
class FormPageView:
    title: str
    fields: list[FormField]
    conditional: bool


@dataclass
class TemplateView:
    pages: list[FormPageView]
    workflow: str  # scaffold-<folder>.yml
    run_url: str | None  # the workflow in the Actions UI
    command: str  # gh workflow run …
    created: list[EntityRow] = field(default_factory=list)
    problem: str | None = None


def template_view(model: SiteModel, key: str) -> TemplateView:
    entity = model.entities[key]
    source = model.source(key)
    folder = PurePosixPath(source.path).parent.name or "template"
    workflow = f"scaffold-{folder}.yml"
    repository = _repository_url(source)
    view = TemplateView(
        pages=_pages(entity),
        workflow=workflow,
        run_url=f"{repository}/actions/workflows/{workflow}" if repository else None,
        command="",
        created=created_from(model, key),
    )
    try:
        descriptor = {k: v for k, v in entity.items() if k != "relations"}
        plan = plan_inputs(template_from_entity(descriptor, Path(source.path)))
    except ScaffoldError as exc:
        view.problem = str(exc)
        return view
    slug = repository.split("/", 3)[3] if repository else None
    parts = ["gh", "workflow", "run", workflow, *(["-R", slug] if slug else [])]
    for entry in plan.inputs:
        if entry.required:
            parts += ["-f", f"{entry.id}={entry.id.upper()}"]
    view.command = shlex.join(parts)
    return view


def created_from(model: SiteModel, key: str) -> list[EntityRow]:
    """Entities whose descriptor says this template made them (catalog:write adds it)."""
    ref = key.lower()
    rows = []
    for other, entity in model.entities.items():
        annotations = entity["metadata"].get("annotations") or {}
        if str(annotations.get(SOURCE_TEMPLATE, "")).lower() == ref:
            rows.append(model.row(other))
    return sorted(rows, key=lambda row: row.label.lower())


def _repository_url(source: EntitySource) -> str | None:
    match = _REPOSITORY.match(source.url or "")
    return match.group(1) if match else None


def _pages(entity: dict[str, Any]) -> list[FormPageView]:
    parameters = (entity.get("spec") or {}).get("parameters")
    raw = parameters if isinstance(parameters, list) else [parameters] if parameters else []
    pages = []
    for index, page in enumerate(raw):
        if not isinstance(page, dict):
            continue
        given_required = page.get("required")
        required: list[Any] = given_required if isinstance(given_required, list) else []
        given_properties = page.get("properties")
        properties: dict[str, Any] = given_properties if isinstance(given_properties, dict) else {}
        fields = [
            _field(name, schema, name in required)
            for name, schema in properties.items()
            if isinstance(schema, dict)
        ]
        title = page.get("title")
        pages.append(
            FormPageView(
                title if isinstance(title, str) else f"Page {index + 1}",
                fields,
                page.get("when", True) is not True,
            )
        )
    return pages


def _field(name: str, schema: dict[str, Any], required: bool) -> FormField:
    kind = schema.get("type", "string")
    if isinstance(schema.get("enum"), list):
        kind = "one of " + ", ".join(str(v) for v in schema["enum"])
    default = json.dumps(schema["default"], ensure_ascii=False) if "default" in schema else ""
    help_text = schema.get("description") or schema.get("ui:help") or ""
    return FormField(
        name=name,
        title=str(schema.get("title") or name),
        type=str(kind),
        required=required and "default" not in schema,
        default=default,
        description=str(help_text),
        widget=str(schema.get("ui:field") or schema.get("ui:widget") or ""),
    )


class TemplatesPage:
    """Every Software Template, with how to run it and how often it was used."""

    def render(self, context: SiteContext, output: PageOutput) -> None:
        model = context.model
        templates = sorted(
            (k for k in model.entities if k.startswith("template:")),
            key=lambda k: model.labels[k][1].lower(),
        )
        items = [
            {"row": model.row(k), "view": template_view(model, k), "entity": model.entities[k]}
            for k in templates
        ]
        output.page(
            context,
            "templates.html",
            "templates/",
            page_title="Templates",
            section="templates",
            items=items,
        )
