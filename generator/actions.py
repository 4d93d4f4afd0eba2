"""GitHub Actions: what a run shows beyond its log, the annotations and the step summary.

Both are quiet outside Actions. Annotations are capped because GitHub shows only ten of
each severity per step; the rest are on the portal's Problems page and in the log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

from .health import Health
from .model import DocsProblem, Finding

__all__ = [
    "ANNOTATIONS_SHOWN",
    "build_summary",
    "in_actions",
    "markdown_text",
    "workflow_annotations",
    "write_step_summary",
]

ANNOTATIONS_SHOWN = 10


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def workflow_annotations(
    findings: Iterable[Finding], docs_failures: dict[str, DocsProblem]
) -> list[str]:
    """Workflow commands for the first findings of each severity, then one notice of
    how many more there are."""
    shown: dict[str, int] = {"error": 0, "warning": 0}
    hidden = 0
    lines: list[str] = []
    for finding in findings:
        if shown[finding.severity] < ANNOTATIONS_SHOWN:
            shown[finding.severity] += 1
            lines.append(finding.format_github())
        else:
            hidden += 1
    for ref, problem in docs_failures.items():
        if shown["error"] < ANNOTATIONS_SHOWN:
            shown["error"] += 1
            lines.append(
                Finding(
                    file=problem.file or ref, rule=problem.rule, message=f"{ref}: {problem.message}"
                ).format_github()
            )
        else:
            hidden += 1
    if hidden:
        lines.append(f"::notice title=More problems::{hidden} more, on the portal's Problems page")
    return lines


def build_summary(
    counts: Sequence[tuple[str, str]], health: Health, problems: Sequence[str]
) -> str:
    """Markdown for the run's summary page: what was built, how healthy, what went wrong."""
    rows = "".join(f"| {name} | {value} |\n" for name, value in [*counts, ("Health", health.row())])
    figures = "".join(f"- {line}\n" for line in health.lines())
    worst = health.worst_owners()
    if worst:
        gaps = ", ".join(f"{markdown_text(o.owner)} ({o.gaps})" for o in worst)
        figures += f"- Owners with the most gaps (docs, descriptions, findings): {gaps}\n"
    listed = "".join(f"- {markdown_text(line)}\n" for line in problems[: ANNOTATIONS_SHOWN * 2])
    more = len(problems) - ANNOTATIONS_SHOWN * 2
    if more > 0:
        listed += f"- … and {more} more on the portal's Problems page\n"
    return (
        "### Build\n\n| | |\n| --- | --- |\n"
        + rows
        + "\n#### Health\n\n"
        + figures
        + ("\n#### Problems\n\n" + listed if problems else "\nNo problems.\n")
        + "\n"
    )


def write_step_summary(markdown: str) -> None:
    """Appended to the step's summary file; nothing outside Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as summary:
        summary.write(markdown)


def markdown_text(text: str) -> str:
    """Text shown as itself in Markdown, on one line."""
    # A repository's text must not turn into markup (links, images) on the run's page:
    # Markdown lets any ASCII punctuation be escaped.
    return _PUNCTUATION.sub(r"\\\g<0>", " ".join(text.split()))


_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
