"""notification:send, as Backstage's notifications module declares it. Backlot has no
notification centre: the run's page is where the engineer who started the template looks,
so the notification becomes an annotation there (and a line of the step summary); outside
Actions it is logged. Severity picks the annotation's level."""

from __future__ import annotations

from ..actions import in_actions, markdown_text, write_step_summary
from ..model import workflow_command
from ._actions import BOOLEAN, STRING, STRINGS, Action, ActionContext, schema
from ._errors import ScaffoldError
from ._expressions import mask

_LEVEL = {"low": "notice", "normal": "notice", "high": "warning", "critical": "error"}


def _send(context: ActionContext) -> None:
    given = context.input
    if given["recipients"] == "entity" and not given.get("entityRefs"):
        if given.get("optional") is True:
            return
        raise ScaffoldError("Entity references must be provided")
    to = "everyone" if given["recipients"] == "broadcast" else ", ".join(given["entityRefs"])
    title = str(given["title"])
    text = " ".join(str(given[k]) for k in ("info", "link") if given.get(k))
    context.log(f"notification to {to}: {title}" + (f": {text}" if text else ""))
    if in_actions():
        hidden = [v for v in context.secrets.values() if v]
        title, text = mask(title, hidden), mask(text, hidden)
        level = _LEVEL[str(given.get("severity", "normal"))]
        print(workflow_command(level, text or title, title=title), flush=True)
        line = f"- **{markdown_text(title)}**: {markdown_text(text)} (to {markdown_text(to)})"
        write_step_summary(line + "\n")


def _plan(context: ActionContext) -> None:
    context.log(f"would notify: {context.input['title']}")


NOTIFY_ACTIONS = [
    Action(
        "notification:send",
        "Notify (in Backlot: an annotation on the run's page and a line of its summary)",
        schema(
            {
                "recipients": {"enum": ["broadcast", "entity"]},
                "entityRefs": STRINGS,
                "title": STRING,
                "info": STRING,
                "link": STRING,
                "severity": {"enum": ["low", "normal", "high", "critical"]},
                "scope": STRING,
                "topic": STRING,
                "optional": BOOLEAN,
            },
            ("recipients", "title"),
        ),
        _send,
        _plan,
    ),
]
