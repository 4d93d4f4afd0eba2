"""The Health page (``health/index.html``): the catalog's figures (``generator/health.py``)
with each team's gaps and the problems to fix, their trend over past builds, and the same
figures for machines (``health/health.json``).

The trend is ``health/history.json``, kept in the published site: read back from the output
folder when the page is rendered, and given a point only when a figure changed, so the page
stays byte-identical while nothing it shows does (and a build killed after writing it, run
again, adds nothing). Charts are inline SVG sparklines: no script, no inline styles.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from ..health import (
    HEALTH_JSON,
    HISTORY_JSON,
    ORPHAN_RULE,
    UNRESOLVED_RULE,
    Health,
    Share,
    catalog_health,
    next_history,
    read_history,
)
from ..model import Finding, safe_url
from ._context import SiteContext, label, stamp
from ._model import SiteModel
from ._output import PageOutput

__all__ = ["HealthPage", "sparkline"]

MAX_HISTORY_BYTES = 4 << 20  # a history.json larger than this is not read back
MAX_LISTED = 2000  # findings listed on the page (health.json counts them all)
HISTORY_ROWS = 12  # the latest points, as a table under the charts


@dataclass(frozen=True)
class _Series:
    title: str
    value: Callable[[dict[str, int]], float | None]
    unit: str  # "%" or a noun counted ("error")
    good: str  # "up" or "down": which way is better


def _percent(name: str) -> Callable[[dict[str, int]], float | None]:
    def value(figures: dict[str, int]) -> float | None:
        whole = figures.get(f"{name}_whole")
        part = figures.get(f"{name}_part")
        return 100 * part / whole if whole and part is not None else None

    return value


def _count(name: str) -> Callable[[dict[str, int]], float | None]:
    def value(figures: dict[str, int]) -> float | None:
        found = figures.get(name)
        return None if found is None else float(found)

    return value


SERIES = (
    _Series("Repositories with a descriptor", _percent("repositories"), "%", "up"),
    _Series("Components from a template", _percent("templates"), "%", "up"),
    _Series("Components and APIs with docs", _percent("docs"), "%", "up"),
    _Series("Owners that exist", _percent("owned"), "%", "up"),
    _Series("Errors", _count("errors"), "error", "down"),
    _Series("Warnings", _count("warnings"), "warning", "down"),
    _Series("Orphans", _count("orphans"), "orphan", "down"),
    _Series("Unresolved references", _count("unresolved_refs"), "unresolved reference", "down"),
)


class HealthPage:
    def render(self, context: SiteContext, output: PageOutput) -> None:
        model = context.model
        health = catalog_health(model.catalog, documented=set(model.docs))
        history = next_history(_previous_history(context), health, stamp(context.now)[0])
        output.write(HEALTH_JSON, json.dumps(health.as_dict(), indent=1, sort_keys=True) + "\n")
        output.write(
            HISTORY_JSON,
            json.dumps({"schemaVersion": 1, "points": history}, indent=1, sort_keys=True) + "\n",
        )
        output.page(
            context,
            "health.html",
            "health/",
            page_title="Health",
            section="health",
            **health_view(model, health, history),
        )


def _previous_history(context: SiteContext) -> list[dict[str, Any]]:
    """The history the last build published into this output folder."""
    path = context.out / HISTORY_JSON
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_HISTORY_BYTES:
            return []
        return read_history(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return []


def health_view(
    model: SiteModel, health: Health, history: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """What health.html shows."""
    points = [p["figures"] for p in history]
    times = [str(p["time"]) for p in history]
    cards: list[dict[str, Any]] = []
    for series in SERIES:
        values = [series.value(f) for f in points]
        current = series.value(health.figures())
        if current is None:
            continue
        cards.append(
            {
                "title": series.title,
                "value": _shown(current, series.unit),
                "chart": sparkline(values, percent=series.unit == "%", title=series.title),
                "change": _change(values, times, series),
            }
        )
    shares = {
        "Repositories with a descriptor": (health.repositories, "repository"),
        "Components from a template": (health.from_templates, "component"),
        "Components and APIs with docs": (health.docs, "component or API"),
        "Owners that exist": (health.owned, "owned entity"),
    }
    for card in cards:
        share, noun = shares.get(str(card["title"]), (None, ""))
        card["detail"] = _detail(share, noun) if share is not None else ""
    components = health.from_templates.whole
    return {
        "health": health,
        "cards": cards,
        "templates": [
            {
                "ref": model.ref(t.template),
                "components": t.components,
                "percent": round(100 * t.components / components) if components else 0,
            }
            for t in health.templates
        ],
        "owners": [{"ref": model.ref(o.owner), "gaps": o} for o in health.owners],
        "locations": _locations(model, health),
        "orphans": _by_rule(model, ORPHAN_RULE),
        "unresolved": _by_rule(model, UNRESOLVED_RULE),
        "history": [
            {
                "time": p["time"],
                "label": label(str(p["time"])),
                "values": [
                    _shown(v, s.unit) if (v := s.value(p["figures"])) is not None else "—"
                    for s in SERIES
                ],
            }
            for p in reversed(history[-HISTORY_ROWS:])
        ],
        "history_heads": [s.title for s in SERIES],
        "points": len(history),
    }


def _shown(value: float, unit: str) -> str:
    return f"{value:.0f} %" if unit == "%" else str(int(value))


def _detail(share: Share, noun: str) -> str:
    plural = noun if share.whole == 1 else _plural(noun)
    return f"{share.part} of {share.whole} {plural}"


def _plural(noun: str) -> str:
    if noun.endswith("y") and not noun.endswith("ey"):
        return noun[:-1] + "ies"
    if " or " in noun:
        first, _, second = noun.partition(" or ")
        return f"{_plural(first)} and {_plural(second)}"
    return noun + "s"


def _change(
    values: Sequence[float | None], times: Sequence[str], series: _Series
) -> tuple[str, str, str] | None:
    """How the figure moved at the last point that changed it: ("up 5 points since",
    time, date) of the point before, or ("unchanged since", …) the first point of the run it
    has kept since; None with fewer than two points."""
    known = [(v, t) for v, t in zip(values, times, strict=True) if v is not None]
    if len(known) < 2:
        return None
    now = known[-1][0]
    first = len(known) - 1
    while first > 0 and abs(known[first - 1][0] - now) < 0.5:
        first -= 1
    if first == len(known) - 1:
        before, when = known[-2]
        delta = now - before
        unit = " points" if series.unit == "%" else ""
        direction = "up" if delta > 0 else "down"
        return f"{direction} {abs(delta):.0f}{unit} since", when, label(when)[:10]
    when = known[first][1]
    return "unchanged since", when, label(when)[:10]


def sparkline(
    values: Sequence[float | None], percent: bool, title: str, width: int = 160, height: int = 36
) -> Markup:
    """A small line chart of ``values`` (oldest first) as inline SVG: a 0 to 100 scale for
    percentages, 0 to the largest value for counts; unknown values break the line."""
    known = [v for v in values if v is not None]
    top = 100.0 if percent else max([*known, 1.0])
    pad = 3
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def y(value: float) -> float:
        return round(height - pad - (height - 2 * pad) * value / top, 1)

    runs: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((round(pad + i * step, 1), y(value)))
    lines = "".join(
        f'<polyline class="spark-line" points="{" ".join(f"{x},{y}" for x, y in run)}"/>'
        for run in runs
        if len(run) > 1
    )
    last = next(((x, y) for run in reversed(runs) for x, y in reversed(run)), None)
    dot = f'<circle class="spark-dot" cx="{last[0]}" cy="{last[1]}" r="2.5"/>' if last else ""
    unit = " %" if percent else ""
    described = ", ".join("unknown" if v is None else f"{v:.0f}{unit}" for v in values[-20:])
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)} over {len(values)} builds: {escape(described)}">'
        f'<line class="spark-base" x1="{pad}" y1="{height - pad}" x2="{width - pad}" '
        f'y2="{height - pad}"/>{lines}{dot}</svg>'
    )


def line_url(url: str | None, line: int) -> str | None:
    """A file's web address at one line: ``#L<line>`` on GitHub's blob pages."""
    safe = safe_url(url)
    if safe is None:
        return None
    return f"{safe}#L{line}" if "/blob/" in safe and "#" not in safe else safe


def _finding_view(model: SiteModel, finding: Finding, url: str | None) -> dict[str, Any]:
    ref = finding.entity_ref
    return {
        "line": finding.line,
        "column": finding.column,
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.message,
        "href": line_url(url, finding.line),
        "entity": model.ref(ref) if ref else None,
        "file": finding.file,
    }


def _file_urls(model: SiteModel) -> dict[str, str | None]:
    return {f"{s.repository}/{s.path}": s.url for s in model.catalog.sources.values()}


def _locations(model: SiteModel, health: Health) -> list[dict[str, Any]]:
    urls = _file_urls(model)
    by_file: dict[str, list[Finding]] = {}
    for finding in model.catalog.findings[:MAX_LISTED]:
        by_file.setdefault(finding.file, []).append(finding)
    return [
        {
            "file": loc.file,
            "url": safe_url(loc.url),
            "errors": loc.errors,
            "warnings": loc.warnings,
            "findings": [
                _finding_view(model, f, urls.get(f.file)) for f in by_file.get(loc.file, ())
            ],
        }
        for loc in health.locations
    ]


def _by_rule(model: SiteModel, rule: str) -> list[dict[str, Any]]:
    urls = _file_urls(model)
    return [
        _finding_view(model, f, urls.get(f.file)) for f in model.catalog.findings if f.rule == rule
    ][:MAX_LISTED]
