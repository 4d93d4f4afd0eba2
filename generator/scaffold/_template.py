"""A Software Template (``scaffolder.backstage.io/v1beta3``, ``kind: Template``) as the
scaffolder runs it: read with the catalog's YAML rules, checked by the catalog's own Template
validator, then its form pages, steps and output as typed values.

Step ids default to ``step-<n>`` and names to the action, as Backstage's task creation does;
ids must be unique because later steps read ``steps.<id>.output``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import parse_descriptor_bytes
from ..model import EntityRef, check_entity, dotted
from ._errors import TemplateInvalid

MAX_TEMPLATE_BYTES = 1024 * 1024
_STEP_ID = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class FormPage:
    """One page of the form: a JSON Schema object (``ui:*`` keys are the form's, not
    validation's), shown when ``when`` is true."""

    title: str
    schema: Mapping[str, Any]
    when: Any = True

    @property
    def properties(self) -> Mapping[str, Any]:
        props = self.schema.get("properties")
        return props if isinstance(props, Mapping) else {}

    @property
    def required(self) -> tuple[str, ...]:
        required = self.schema.get("required")
        return (
            tuple(r for r in required if isinstance(r, str)) if isinstance(required, list) else ()
        )


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    action: str
    input: Mapping[str, Any] = field(default_factory=dict)
    condition: Any = None  # the step's ``if``: None runs it
    each: Any = None


@dataclass(frozen=True)
class ScaffoldTemplate:
    ref: EntityRef
    title: str
    description: str
    type: str
    owner: str | None
    pages: tuple[FormPage, ...]
    steps: tuple[Step, ...]
    output: Mapping[str, Any]
    secrets_schema: Mapping[str, Any] | None
    path: Path  # the template.yaml
    entity: Mapping[str, Any]

    @property
    def folder(self) -> Path:
        """Relative ``url``s of fetch actions resolve against this (Backstage: the
        template's location)."""
        return self.path.parent

    @property
    def name(self) -> str:
        return self.ref.name

    def properties(self) -> dict[str, Mapping[str, Any]]:
        """Every parameter of every page by name, in form order."""
        found: dict[str, Mapping[str, Any]] = {}
        for page in self.pages:
            for name, schema in page.properties.items():
                if isinstance(schema, Mapping):
                    found.setdefault(name, schema)
        return found


def load_template(path: Path) -> ScaffoldTemplate:
    """The Template entity in ``path`` (the file's first Template document)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateInvalid(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateInvalid(f"{path}: larger than {MAX_TEMPLATE_BYTES} bytes")
    read = parse_descriptor_bytes(data)
    if read.problems:
        problem = read.problems[0]
        raise TemplateInvalid(f"{path}:{problem.line}:{problem.column}: {problem.message}")
    for document in read.documents:
        if document.error is not None:
            raise TemplateInvalid(
                f"{path}:{document.error.line}:{document.error.column}: {document.error}"
            )
        value = document.value
        if isinstance(value, dict) and value.get("kind") == "Template":
            return template_from_entity(value, path, line=document.line)
    raise TemplateInvalid(f"{path}: no document of kind Template")


def template_from_entity(entity: Mapping[str, Any], path: Path, line: int = 1) -> ScaffoldTemplate:
    """A checked entity as a runnable template; refused with the catalog's own verdict."""
    check = check_entity(dict(entity))
    if check.problems or check.ref is None:
        problem = check.problems[0] if check.problems else None
        where = dotted(problem.path) if problem else "the document"
        message = problem.message if problem else "not an entity"
        raise TemplateInvalid(f"{path}:{line}: {where}: {message}")
    metadata = entity["metadata"]
    spec = entity["spec"]
    return ScaffoldTemplate(
        ref=check.ref,
        title=str(metadata.get("title") or metadata["name"]),
        description=str(metadata.get("description") or ""),
        type=str(spec["type"]),
        owner=spec.get("owner") if isinstance(spec.get("owner"), str) else None,
        pages=_pages(spec.get("parameters"), path, line),
        steps=_steps(spec["steps"], path, line),
        output=spec.get("output") if isinstance(spec.get("output"), Mapping) else {},
        secrets_schema=_secrets(spec.get("secrets")),
        path=path,
        entity=entity,
    )


def _pages(parameters: Any, path: Path, line: int) -> tuple[FormPage, ...]:
    if parameters is None:
        return ()
    raw = parameters if isinstance(parameters, list) else [parameters]
    pages = []
    for index, page in enumerate(raw):
        if not isinstance(page, Mapping):
            raise TemplateInvalid(f"{path}:{line}: spec.parameters[{index}] is not a mapping")
        title = page.get("title")
        pages.append(
            FormPage(
                title=title if isinstance(title, str) else f"Page {index + 1}",
                schema=page,
                when=page.get("when", True),
            )
        )
    return tuple(pages)


def _steps(raw: list[Any], path: Path, line: int) -> tuple[Step, ...]:
    steps: list[Step] = []
    seen: set[str] = set()
    for index, step in enumerate(raw):
        where = f"{path}:{line}: spec.steps[{index}]"
        if not isinstance(step, Mapping):
            raise TemplateInvalid(f"{where} is not a mapping")
        action = step.get("action")
        if not isinstance(action, str) or not action:
            raise TemplateInvalid(f"{where} has no action")
        step_id = step.get("id", f"step-{index + 1}")
        if not isinstance(step_id, str) or not _STEP_ID.match(step_id):
            raise TemplateInvalid(f"{where}: id {step_id!r} is not letters, digits, - and _")
        if step_id in seen:
            raise TemplateInvalid(f"{where}: id {step_id!r} is used by an earlier step")
        seen.add(step_id)
        step_input = step.get("input", {})
        if not isinstance(step_input, Mapping):
            raise TemplateInvalid(f"{where}: input must be a mapping")
        name = step.get("name")
        steps.append(
            Step(
                id=step_id,
                name=name if isinstance(name, str) and name else action,
                action=action,
                input=step_input,
                condition=step.get("if"),
                each=step.get("each"),
            )
        )
    return tuple(steps)


def _secrets(secrets: Any) -> Mapping[str, Any] | None:
    if isinstance(secrets, Mapping) and isinstance(secrets.get("schema"), Mapping):
        schema: Mapping[str, Any] = secrets["schema"]
        return schema
    return None
