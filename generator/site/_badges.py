"""README badges: a small SVG per fact of an entity, at a URL that stays put.

``badges/<namespace>/<kind>/<name>/<badge>.svg`` (the entity's folder, as below
``catalog/`` and ``docs/``), in shields.io's flat style: a grey label, a coloured value.
A README on GitHub loads them through GitHub's image proxy, which sends no cookie, so the
edge sign-in serves ``/badges/`` without one (``deploy/edge-auth``): Backstage's badges
plugin answers 401 there.

Each badge shows what the entity's own page shows, from data the incremental build already
tracks: its kind and type, owner (the owner's title), lifecycle, whether its docs are built,
and a catalog-health grade (``health_grade``). Values are untrusted text: control and format
characters are dropped, long values cut, and everything is escaped; a badge refers to
nothing outside itself. A badge is written only for an entity whose pages this build renews
(and only where its bytes differ); the others are kept as they are.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..health import OWNED_KINDS
from ..model import EntityRef, badge_file, docs_site_dir, entity_page
from ._context import SiteContext
from ._forked import render_batches
from ._model import SiteModel
from ._output import PageOutput
from ._writer import SiteWriter, WriteStats

__all__ = [
    "BADGES",
    "Badge",
    "Badges",
    "badge_svg",
    "entity_badges",
    "health_grade",
    "readme_badges",
]

# Every badge an entity may have, in the order a README shows them.
BADGES = ("kind", "owner", "lifecycle", "docs", "health")
# Kinds whose spec.lifecycle Backstage's schemas require; others get the badge if they set one.
LIFECYCLE_KINDS = frozenset({"component", "api"})
MAX_CHARS = 40  # a longer value is cut (with "…"): a badge is a label, not a paragraph
BATCH = 1000  # entities per worker task: their badges are small, their files many

# shields.io's palette
GREEN, LIME, YELLOW, ORANGE, RED = "#4c1", "#97ca00", "#dfb317", "#fe7d37", "#e05d44"
BLUE, GREY, LABEL = "#007ec6", "#9f9f9f", "#555"
LIFECYCLE_COLOURS = {"production": GREEN, "experimental": ORANGE, "deprecated": RED}
GRADE_COLOURS = {"A": GREEN, "B": LIME, "C": YELLOW, "D": ORANGE, "F": RED}

# Advance widths at 11 px of DejaVu Sans (Verdana's metrics within a few per cent), for
# U+0020 to U+007E, measured from the font's hmtx table. Shields.io measures Verdana 11 px
# the same way; ``textLength`` then holds each text to its measured width, so a reader's
# fallback font cannot overflow the box.
_ASCII_WIDTHS = (
    3.5, 4.41, 5.06, 9.22, 7.0, 10.45, 8.58, 3.02, 4.29, 4.29, 5.5, 9.22, 3.5, 3.97, 3.5,
    3.71, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 3.71, 3.71, 9.22, 9.22, 9.22,
    5.84, 11.0, 7.52, 7.55, 7.68, 8.47, 6.95, 6.33, 8.52, 8.27, 3.24, 3.24, 7.21, 6.13,
    9.49, 8.23, 8.66, 6.63, 8.66, 7.64, 6.98, 6.72, 8.05, 7.52, 10.88, 7.54, 6.72, 7.54,
    4.29, 3.71, 4.29, 9.22, 5.5, 5.5, 6.74, 6.98, 6.05, 6.98, 6.77, 3.87, 6.98, 6.97,
    3.06, 3.06, 6.37, 3.06, 10.72, 6.97, 6.73, 6.98, 6.98, 4.52, 5.73, 4.31, 6.97, 6.51,
    9.0, 6.51, 6.51, 5.77, 7.0, 3.71, 7.0, 9.22,
)  # fmt: skip
_WIDE = 11.0  # East Asian wide and full-width characters: one em
_OTHER = 7.0  # any other character: an average lowercase letter's width
# What the docs badge says when the entity's docs are built: `readme_badges` reads it back.
_DOCS_AVAILABLE = "docs: available"

# The build's context, for forked workers: set just before they start, cleared after.
_context: SiteContext | None = None


@dataclass(frozen=True)
class Badge:
    label: str
    value: str
    colour: str
    # What a screen reader and a hover say: "label: value", with a reason where one helps.
    title: str = ""


def text_width(text: str) -> float:
    """The width of ``text`` in px at 11 px, from the table above."""
    width = 0.0
    for char in text:
        code = ord(char)
        if 32 <= code <= 126:
            width += _ASCII_WIDTHS[code - 32]
        elif unicodedata.combining(char):
            continue
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            width += _WIDE
        else:
            width += _OTHER
    return width


def clean(text: str, limit: int = MAX_CHARS) -> str:
    """Untrusted text as a badge may show it: no control, format (bidi overrides),
    surrogate, private or unassigned characters, whitespace collapsed, cut at ``limit``."""
    if text.isascii() and text.isprintable():
        kept = " ".join(text.split())  # the common case, without a look-up per character
    else:
        kept = "".join(
            " " if c.isspace() else c
            for c in text
            if c.isspace() or unicodedata.category(c)[0] != "C"
        )
        kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


@functools.cache
def _text_colours(background: str) -> tuple[str, str]:
    """Text and shadow colours readable on ``background`` (shields.io's rule: dark text on
    a light colour)."""
    digits = background.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    brightness = (0.299 * red + 0.587 * green + 0.114 * blue) / 255
    return ("#333", "#ccc") if brightness > 0.69 else ("#fff", "#010101")


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def badge_svg(badge: Badge) -> str:
    """The badge as a standalone SVG document (flat style, 20 px high)."""
    label = clean(badge.label) or "?"
    value = clean(badge.value) or "?"
    title = " ".join((badge.title or f"{label}: {value}").split())
    title = clean(title, limit=300)
    label_text, value_text = text_width(label), text_width(value)
    label_box, value_box = round(label_text + 10), round(value_text + 10)
    width = label_box + value_box
    ink, shadow = _text_colours(badge.colour)
    label_x, value_x = _number(label_box / 2), _number(label_box + value_box / 2)
    quoted_title = escape(title, quote=True)
    shown_label, shown_value = escape(label, quote=False), escape(value, quote=False)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{quoted_title}">'
        f"<title>{escape(title, quote=False)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{label_box}" height="20" fill="{LABEL}"/>'
        f'<rect x="{label_box}" width="{value_box}" height="20" fill="{badge.colour}"/>'
        f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,'
        'sans-serif" text-rendering="geometricPrecision" font-size="11">'
        f'<text aria-hidden="true" x="{label_x}" y="15" fill="#010101" fill-opacity=".3" '
        f'textLength="{_number(label_text)}">{shown_label}</text>'
        f'<text x="{label_x}" y="14" textLength="{_number(label_text)}">{shown_label}</text>'
        f'<text aria-hidden="true" x="{value_x}" y="15" fill="{shadow}" fill-opacity=".3" '
        f'textLength="{_number(value_text)}">{shown_value}</text>'
        f'<text x="{value_x}" y="14" fill="{ink}" textLength="{_number(value_text)}">'
        f"{shown_value}</text></g></svg>\n"
    )


def _spec(entity: dict[str, Any]) -> dict[str, Any]:
    spec = entity.get("spec")
    return spec if isinstance(spec, dict) else {}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def applicable(model: SiteModel, key: str) -> tuple[str, ...]:
    """The badges ``key`` has: every entity a kind, docs and health badge; an owner badge
    where its kind has owners (or it names one), a lifecycle badge likewise. Decided by the
    entity's own data alone, so its set changes only with it."""
    entity = model.entities[key]
    kind = str(entity["kind"]).lower()
    names = ["kind"]
    if kind in OWNED_KINDS or model.related(key, "ownedBy"):
        names.append("owner")
    if kind in LIFECYCLE_KINDS or _text(_spec(entity).get("lifecycle")):
        names.append("lifecycle")
    names += ["docs", "health"]
    return tuple(names)


def health_grade(model: SiteModel, key: str) -> tuple[str, list[str]]:
    """The entity's catalog-health grade, A to F, and what it misses.

    Each miss costs a point: a warning about its descriptor, no description (but Users),
    an owner that is not in the catalog (kinds with owners), no built docs (Components);
    an error costs two. 0 → A, 1 → B, 2 → C, 3 → D, 4 or more → F. From the entity's own
    data only (its findings, docs, descriptor, and whether its owner exists)."""
    entity = model.entities[key]
    kind = str(entity["kind"]).lower()
    findings = model.findings.get(key, ())
    missing: list[str] = []
    points = 0
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    if errors:
        missing.append(f"{errors} error{'s' if errors > 1 else ''}")
        points += 2
    if warnings:
        missing.append(f"{warnings} warning{'s' if warnings > 1 else ''}")
        points += 1
    if kind != "user" and not _text(entity["metadata"].get("description")):
        missing.append("no description")
        points += 1
    if kind in OWNED_KINDS and not any(o in model.entities for o in model.related(key, "ownedBy")):
        missing.append("owner not in the catalog")
        points += 1
    if kind == "component" and key not in model.docs:
        missing.append("no docs")
        points += 1
    return "ABCDF"[min(points, 4)], missing


def entity_badges(model: SiteModel, key: str) -> dict[str, Badge]:
    """``key``'s badges by name (see ``applicable``)."""
    entity = model.entities[key]
    spec = _spec(entity)
    kind = str(entity["kind"]).lower()
    badges: dict[str, Badge] = {}
    for name in applicable(model, key):
        if name == "kind":
            kind_type = _text(spec.get("type"))
            value = f"{kind} | {clean(kind_type)}" if clean(kind_type) else kind
            badges[name] = Badge("kind", value, BLUE)
        elif name == "owner":
            owners = model.related(key, "ownedBy")
            if not owners:
                badges[name] = Badge("owner", "none", GREY, "owner: none")
            elif owners[0] in model.entities:
                ref = model.ref(owners[0])
                badges[name] = Badge("owner", clean(ref.label) or ref.key, BLUE)
            else:
                shown = model.ref(owners[0]).label
                badges[name] = Badge("owner", shown, ORANGE, f"owner: {shown} (not in the catalog)")
        elif name == "lifecycle":
            lifecycle = clean(_text(spec.get("lifecycle")))
            colour = LIFECYCLE_COLOURS.get(lifecycle.lower(), BLUE) if lifecycle else GREY
            badges[name] = Badge("lifecycle", lifecycle or "unknown", colour)
        elif name == "docs":
            if key in model.docs:
                badges[name] = Badge("docs", "available", GREEN, _DOCS_AVAILABLE)
            else:
                badges[name] = Badge("docs", "none", GREY)
        else:
            grade, missing = health_grade(model, key)
            why = f" ({', '.join(missing)})" if missing else " (nothing missing)"
            badges[name] = Badge(
                "catalog health", grade, GRADE_COLOURS[grade], f"catalog health: {grade}{why}"
            )
    return badges


class Badges:
    """Every entity's badges. An entity whose pages this build keeps keeps its badges; the
    others are written in batches by the build and forked workers, as the entity pages
    are (a cold build writes four or five files per entity, and file creation is the
    cost)."""

    def __init__(
        self, workers: int | None = None, only: Callable[[str], bool] | None = None
    ) -> None:
        self.workers = workers
        self.only = only  # a shard's: the entities whose badges it writes

    def render(self, context: SiteContext, output: PageOutput) -> None:
        global _context
        model = context.model
        todo = []
        out = os.fspath(context.out)
        for key in context.keys:
            if self.only is not None and not self.only(key):
                continue
            paths = [badge_file(key, name) for name in applicable(model, key)]
            if key not in context.dirty and _all_there(out, paths):
                output.claim(paths)
            else:
                todo.append(key)
        batches = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
        _context = context
        try:
            for stats in render_batches(_write_batch, batches, self.workers):
                output.writer.merge(stats)
        finally:
            _context = None


def _all_there(out: str, paths: list[str]) -> bool:
    """Whether every one of an entity's badge files is in ``out`` (a stat each, as
    strings: pathlib's objects cost as much as the system call)."""
    return all(os.path.isfile(f"{out}/{p}") for p in paths)


def _write_batch(keys: list[str]) -> WriteStats:
    """Write the badges of ``keys`` (in a worker, or in the build's own process)."""
    context = _context
    assert context is not None, "badges are written within Badges.render"
    writer = SiteWriter(context.out, context.scratch, context.workspace.site_journal)
    for key in keys:
        for name, badge in entity_badges(context.model, key).items():
            writer.write(badge_file(key, name), badge_svg(badge))
    return writer.stats


def readme_badges(site: Path, key: str, base_url: str = "") -> list[str]:
    """The Markdown of ``key``'s badges in the portal built at ``site``, one per line, each
    linked to the entity's page and the docs badge to its docs (when they are built).
    ``base_url`` is the portal's public address ending with ``/``, or "" for links relative
    to the portal's root."""
    page = base_url + entity_page(key)
    lines = []
    for name in BADGES:
        path = site / badge_file(key, name)
        if not path.is_file():
            continue
        target = page
        if name == "docs" and f"<title>{_DOCS_AVAILABLE}</title>".encode() in path.read_bytes():
            target = base_url + quote(docs_site_dir(EntityRef.from_key(key).storage_path))
            target += "index.html"
        label = "catalog health" if name == "health" else name
        lines.append(f"[![{label}]({base_url}{badge_file(key, name)})]({target})")
    return lines
