"""Software Templates: Backstage's v1beta3 templates run without a server, each as a
GitHub Actions workflow_dispatch job (docs/scaffolder.md)."""

from ._actions import Action, ActionContext
from ._catalog_actions import CATALOG_ACTIONS
from ._errors import (
    OutsideWorkspace,
    RenderError,
    ScaffoldError,
    StepFailed,
    TemplateInvalid,
    ValuesInvalid,
)
from ._github_actions import GITHUB_ACTIONS, Services
from ._runner import RunFailed, RunResult, StepRecord, run_template
from ._template import FormPage, ScaffoldTemplate, Step, load_template
from ._values import check_values
from ._workspace_actions import WORKSPACE_ACTIONS

BUILTIN_ACTIONS: dict[str, Action] = {
    action.id: action for action in (*WORKSPACE_ACTIONS, *CATALOG_ACTIONS, *GITHUB_ACTIONS)
}

__all__ = [
    "BUILTIN_ACTIONS",
    "Action",
    "ActionContext",
    "FormPage",
    "OutsideWorkspace",
    "RenderError",
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
    "check_values",
    "load_template",
    "run_template",
]
