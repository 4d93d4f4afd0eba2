"""Template drift: a repository created from a template re-rendered with its recorded
answers from the template as it is now, and the difference offered as a pull request.

Only the template's files are compared: files the repository added are never touched or
deleted, and a file the template no longer renders is left for people to decide.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._actions import Action
from ._answers import ANSWERS_FILE, Answers, read_answers, template_origin, write_answers
from ._errors import ScaffoldError
from ._runner import run_template
from ._template import ScaffoldTemplate


@dataclass
class Drift:
    answers: Answers
    commit: str | None  # the template's commit now
    changed: dict[str, bytes] = field(default_factory=dict)  # relpath -> new content
    added: dict[str, bytes] = field(default_factory=dict)

    @property
    def files(self) -> dict[str, bytes]:
        return {**self.changed, **self.added}

    def diff(self, repository: Path) -> str:
        out: list[str] = []
        for relpath, data in sorted(self.files.items()):
            old = repository / relpath
            text = old.read_text("utf-8", "replace") if old.exists() else ""
            before = text.splitlines(keepends=True)
            after = data.decode("utf-8", "replace").splitlines(keepends=True)
            out += difflib.unified_diff(before, after, f"a/{relpath}", f"b/{relpath}")
        return "".join(out)


def find_drift(
    repository: Path, template: ScaffoldTemplate, actions: Mapping[str, Action], services: Any
) -> Drift:
    """What re-rendering the template with the repository's answers would change."""
    answers = read_answers(repository)
    expected = f"{template.ref.kind}:{template.ref.namespace}/{template.ref.name}".lower()
    if answers.template and answers.template != expected:
        raise ScaffoldError(
            f"{repository / ANSWERS_FILE} was written by {answers.template}, not {expected}"
        )
    scratch = Path(tempfile.mkdtemp(prefix="backlot-update-"))
    try:
        run_template(
            template, answers.values, actions, workspace=scratch, dry_run=True, services=services
        )
        drift = Drift(answers, template_origin(template)[1])
        for path in sorted(p for p in scratch.rglob("*") if p.is_file() and not p.is_symlink()):
            relpath = path.relative_to(scratch).as_posix()
            if relpath == ANSWERS_FILE:
                continue
            data = path.read_bytes()
            target = repository / relpath
            if not target.exists():
                drift.added[relpath] = data
            elif target.is_file() and target.read_bytes() != data:
                drift.changed[relpath] = data
        return drift
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def apply_drift(repository: Path, template: ScaffoldTemplate, drift: Drift) -> list[str]:
    """The template's new files written into the checkout, and the record moved on."""
    written = []
    for relpath, data in sorted(drift.files.items()):
        target = repository / relpath
        if target.is_symlink():
            raise ScaffoldError(f"{target}: a symbolic link; not overwritten")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(relpath)
    write_answers(repository, template, drift.answers.values)
    return written
