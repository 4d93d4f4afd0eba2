"""Software Templates: Backstage's v1beta3 templates run without a server, each as a
GitHub Actions workflow_dispatch job (docs/scaffolder.md)."""

from ._actions import Action, ActionContext
from ._answers import ANSWERS_FILE, Answers, read_answers
from ._catalog_actions import CATALOG_ACTIONS
from ._errors import (
    OutsideWorkspace,
    RenderError,
    ScaffoldError,
    StepFailed,
    TemplateInvalid,
    ValuesInvalid,
)
from ._github_actions import GITHUB_ACTIONS, Services, git_runner, open_pull_request
from ._notify_action import NOTIFY_ACTIONS
from ._repo_url import RepoUrl, parse_github_repo_url
from ._runner import RunFailed, RunResult, StepRecord, run_template
from ._template import FormPage, ScaffoldTemplate, Step, load_template, template_from_entity
from ._update import Drift, apply_drift, find_drift
from ._values import check_values
from ._workflow import DRY_RUN, GENERATED, plan_inputs, render_workflow, values_from_inputs
from ._workspace_actions import WORKSPACE_ACTIONS

BUILTIN_ACTIONS: dict[str, Action] = {
    action.id: action
    for action in (*WORKSPACE_ACTIONS, *CATALOG_ACTIONS, *GITHUB_ACTIONS, *NOTIFY_ACTIONS)
}

__all__ = [
    "ANSWERS_FILE",
    "BUILTIN_ACTIONS",
    "DRY_RUN",
    "GENERATED",
    "Action",
    "ActionContext",
    "Answers",
    "Drift",
    "FormPage",
    "OutsideWorkspace",
    "RenderError",
    "RepoUrl",
    "RunFailed",
    "RunResult",
    "ScaffoldError",
    "ScaffoldTemplate",
    "Services",
    "Step",
    "StepFailed",
    "StepRecord",
    "TemplateInvalid",
    "ValuesInvalid",
    "apply_drift",
    "check_values",
    "find_drift",
    "git_runner",
    "load_template",
    "open_pull_request",
    "parse_github_repo_url",
    "plan_inputs",
    "read_answers",
    "render_workflow",
    "run_template",
    "template_from_entity",
    "values_from_inputs",
]
