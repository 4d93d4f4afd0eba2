"""The scaffolder's exceptions: each says which template, step or path, for a user.

ScaffoldError (BacklotError)
├── TemplateInvalid     the template entity cannot be run (its file and what is wrong)
├── ValuesInvalid       the answers do not satisfy the template's parameters
├── RenderError         a ${{ }} expression or a skeleton file cannot be rendered
├── OutsideWorkspace    a path would leave the workspace (.., absolute, a symlink)
└── StepFailed          a step failed: its id and action, and why
"""

from __future__ import annotations

from ..errors import BacklotError


class ScaffoldError(BacklotError):
    """Running a template went wrong in a way the message explains."""


class TemplateInvalid(ScaffoldError):
    pass


class ValuesInvalid(ScaffoldError):
    pass


class RenderError(ScaffoldError):
    pass


class OutsideWorkspace(ScaffoldError):
    pass


class StepFailed(ScaffoldError):
    def __init__(self, step_id: str, action: str, reason: str) -> None:
        super().__init__(f"step {step_id} ({action}): {reason}")
        self.step_id = step_id
        self.action = action
        self.reason = reason
