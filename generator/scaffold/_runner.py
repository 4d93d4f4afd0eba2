"""Running a template: Backstage's workflow runner without a server. Values checked first,
then each step in order with its ``if`` and ``each``, its input rendered in the template
context and checked against the action's schema, its outputs visible to later steps as
``steps.<id>.output``; the template's ``output`` rendered last.

After a failed step, only steps whose ``if`` calls ``always()`` or ``failure()`` still run,
as in Backstage; the run then raises the first failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._actions import Action, ActionContext
from ._answers import creates_repository, write_answers
from ._errors import ScaffoldError, StepFailed, TemplateInvalid
from ._expressions import MISSING, is_truthy, mask, render_value
from ._template import ScaffoldTemplate, Step
from ._values import check_values


@dataclass
class StepRecord:
    id: str
    name: str
    action: str
    status: str  # "done", "skipped", "planned" (dry run), "failed"
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class RunResult:
    workspace: Path
    values: dict[str, Any]
    steps: list[StepRecord]
    output: dict[str, Any]
    log: list[str]

    @property
    def links(self) -> list[Mapping[str, Any]]:
        links = self.output.get("links", [])
        return (
            [link for link in links if isinstance(link, Mapping)] if isinstance(links, list) else []
        )

    @property
    def text(self) -> list[Mapping[str, Any]]:
        text = self.output.get("text", [])
        return (
            [item for item in text if isinstance(item, Mapping)] if isinstance(text, list) else []
        )


class RunFailed(ScaffoldError):
    """A step failed; ``result`` holds what ran before and the log."""

    def __init__(self, failure: StepFailed, result: RunResult) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.result = result


def run_template(
    template: ScaffoldTemplate,
    values: Mapping[str, Any],
    actions: Mapping[str, Action],
    *,
    workspace: Path,
    dry_run: bool = False,
    secrets: Mapping[str, str] | None = None,
    user: Mapping[str, Any] | None = None,
    services: Any = None,
    echo: Callable[[str], None] = lambda line: None,
) -> RunResult:
    """Run every step into ``workspace``. Refuses before any step when an action is
    unknown or the values do not fit the form."""
    unknown = [step for step in template.steps if step.action not in actions]
    if unknown:
        step = unknown[0]
        raise TemplateInvalid(
            f"{template.path}: step {step.id} uses the action {step.action!r}, which Backlot "
            f"does not have; it has: {', '.join(sorted(actions))}"
        )
    checked = check_values(template, values)
    secret_values = {k: v for k, v in (secrets or {}).items() if isinstance(v, str)}
    hidden = [v for v in secret_values.values() if v]
    log: list[str] = []

    def write(line: str) -> None:
        line = mask(line, hidden)
        log.append(line)
        echo(line)

    workspace.mkdir(parents=True, exist_ok=True)
    if creates_repository(template):
        write_answers(workspace, template, checked)
    result = RunResult(workspace, checked, [], {}, log)
    state = {"failed": False}
    context: dict[str, Any] = {
        "parameters": checked,
        "steps": {},
        "secrets": secret_values,
        "user": dict(user or {}),
        "context": {"task": {"id": str(uuid.uuid4())}},
        "always": lambda: True,
        "failure": lambda: state["failed"],
    }
    first_failure: StepFailed | None = None
    for step in template.steps:
        record = StepRecord(step.id, step.name, step.action, "skipped")
        result.steps.append(record)
        action = actions[step.action]
        try:
            iterations = _iterations(step, context)
            outputs: list[dict[str, Any]] = []
            ran = False
            for each in iterations:
                scope = {**context, "each": each} if each is not None else context
                if not _should_run(step, scope, state["failed"]):
                    continue
                ran = True
                write(f"[{step.id}] {step.name}")
                outputs.append(
                    _run_step(
                        step,
                        action,
                        scope,
                        template,
                        workspace,
                        dry_run,
                        secret_values,
                        services,
                        write,
                    )
                )
            if ran:
                record.status = "planned" if dry_run and action.plan is not None else "done"
            record.output = (
                _merge(outputs) if step.each is not None else (outputs[0] if outputs else {})
            )
        except StepFailed as failure:
            record.status, record.error = "failed", failure.reason
            write(f"[{step.id}] failed: {failure.reason}")
            state["failed"] = True
            first_failure = first_failure or failure
        context["steps"][step.id] = {"output": record.output}
    if first_failure is not None:
        raise RunFailed(first_failure, result)
    result.output = _output(template.output, context)
    return result


def _iterations(step: Step, context: Mapping[str, Any]) -> list[Mapping[str, Any] | None]:
    if step.each is None:
        return [None]
    each = render_value(step.each, context)
    if isinstance(each, list):
        return [{"key": str(i), "value": v} for i, v in enumerate(each)]
    if isinstance(each, Mapping):
        return [{"key": k, "value": v} for k, v in each.items()]
    raise StepFailed(step.id, step.action, f"each must be a list or a mapping, not {each!r}")


def _should_run(step: Step, context: Mapping[str, Any], failed: bool) -> bool:
    condition = step.condition
    if condition is None:
        return not failed
    if isinstance(condition, str):
        if failed and "always()" not in condition and "failure()" not in condition:
            return False
        rendered = render_value(condition, context)
        # A step ``if`` that renders to nothing skips the step (Backstage renders it alone).
        return rendered is not MISSING and is_truthy(rendered)
    return not failed and is_truthy(condition)


def _run_step(
    step: Step,
    action: Action,
    context: Mapping[str, Any],
    template: ScaffoldTemplate,
    workspace: Path,
    dry_run: bool,
    secrets: Mapping[str, str],
    services: Any,
    write: Callable[[str], None],
) -> dict[str, Any]:
    rendered = render_value(dict(step.input), context)
    given = rendered if isinstance(rendered, Mapping) else {}
    import jsonschema  # a tenth of a second to import: only where a template runs

    errors = sorted(
        jsonschema.Draft7Validator(action.schema).iter_errors(given),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path) or "input"
        raise StepFailed(
            step.id, step.action, f"{where}: {mask(errors[0].message, secrets.values())}"
        )
    action_context = ActionContext(
        step=step,
        input=given,
        workspace=workspace,
        template=template,
        dry_run=dry_run,
        secrets=secrets,
        log=lambda line: write(f"[{step.id}] {line}"),
        services=services,
    )
    handler = action.plan if dry_run and action.plan is not None else action.handler
    try:
        handler(action_context)
    except StepFailed:
        raise
    except ScaffoldError as exc:
        raise StepFailed(step.id, step.action, str(exc)) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise StepFailed(step.id, step.action, f"{exc.strerror or exc}{where}") from None
    return action_context.outputs


def _merge(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """An ``each`` step's outputs: every name an array with one entry per iteration."""
    names = {name for output in outputs for name in output}
    return {name: [output.get(name) for output in outputs] for name in sorted(names)}


def _output(output: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    rendered = render_value(dict(output), context)
    if not isinstance(rendered, Mapping):
        return {}
    result: dict[str, Any] = {}
    for key, value in rendered.items():
        if key in ("links", "text") and isinstance(value, list):
            # Items whose if is falsy are dropped, the if removed from the rest.
            result[key] = [
                {k: v for k, v in item.items() if k != "if"}
                for item in value
                if isinstance(item, Mapping) and ("if" not in item or is_truthy(item["if"]))
            ]
        else:
            result[key] = value
    return result
