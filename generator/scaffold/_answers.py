"""The record a new repository keeps of where it came from: ``.backlot-answers.yml`` holds
the template's ref, its path and commit, and the answers (secrets are never among them:
Secret fields are not parameters). ``backlot scaffold update`` re-renders from it, the
update path Backstage does not have (copier's ``.copier-answers.yml`` is the model).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._errors import ScaffoldError
from ._template import ScaffoldTemplate

ANSWERS_FILE = ".backlot-answers.yml"
HEADER = (
    "# Written by Backlot when this repository was created from a template: the template,\n"
    "# its version and the answers. Keep it: backlot scaffold update reads it.\n"
)


@dataclass(frozen=True)
class Answers:
    template: str  # template:default/python-service
    path: str  # the template.yaml, relative to its repository
    commit: str | None  # the template repository's commit it was rendered from
    values: Mapping[str, Any]


def template_origin(template: ScaffoldTemplate) -> tuple[str, str | None]:
    """(path of template.yaml inside its git repository, that repository's HEAD commit)."""
    folder = template.path.resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None:
        return template.path.name, None
    relative = template.path.resolve().relative_to(Path(top).resolve()).as_posix()
    return relative, git("log", "-1", "--format=%H", "--", ".")


def write_answers(workspace: Path, template: ScaffoldTemplate, values: Mapping[str, Any]) -> None:
    path, commit = template_origin(template)
    record = {
        "template": f"{template.ref.kind}:{template.ref.namespace}/{template.ref.name}".lower(),
        "path": path,
        "commit": commit,
        "values": dict(values),
    }
    text = yaml.safe_dump(record, sort_keys=False, allow_unicode=True)
    (workspace / ANSWERS_FILE).write_text(HEADER + text, encoding="utf-8")


def read_answers(folder: Path) -> Answers:
    path = folder / ANSWERS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        raise ScaffoldError(
            f"{path}: not found; this repository was not created by a Backlot template"
        ) from None
    except yaml.YAMLError as exc:
        raise ScaffoldError(f"{path}: not YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("values"), dict):
        raise ScaffoldError(f"{path}: has no values")
    commit = data.get("commit")
    return Answers(
        template=str(data.get("template", "")),
        path=str(data.get("path", "")),
        commit=commit if isinstance(commit, str) else None,
        values=data["values"],
    )


def creates_repository(template: ScaffoldTemplate) -> bool:
    return any(step.action == "publish:github" for step in template.steps)
