"""What the scaffolder conformance test asks Backstage and Backlot alike.

- ``SKELETON_CASES``: a skeleton under ``skeletons/``, the values and the other
  ``fetch:template`` inputs; both must write the same tree (or both refuse).
- ``VALUE_CASES``: step inputs rendered as the workflow runner renders them (every
  verified row of the spec's type-preservation table, then more).
- ``TEXT_CASES``: single templates, rendered as a skeleton file is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SKELETONS = Path(__file__).resolve().parent / "skeletons"


@dataclass(frozen=True)
class SkeletonCase:
    id: str
    skeleton: str
    values: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    # True when the right answer is an empty tree (every name is skipped).
    empty: bool = False


SERVICE_VALUES: dict[str, Any] = {
    "name": "my-svc",
    "description": "a-small-service",
    "owner": "group:default/team-a",
    "repoUrl": "github.com?owner=acme&repo=my-svc",
    "tags": ["api", "python"],
    "enabled": True,
    "disabled": False,
    "nothing": None,
    "port": 8080,
    "ratio": 0.5,
    "emptyList": [],
    "stringFalse": "false",
    "nested": [1, [2, 3], None, True],
    "config": {"a": 1, "b": [True, None], "é": "ü", "2": "two", "1": "one"},
    "unicode": "café ✓ </script>",
    "sentence": "The quick brown fox jumps",
}

BLOCK_VALUES: dict[str, Any] = {"tags": ["a", "b"], "enabled": True}

SKELETON_CASES = [
    SkeletonCase("service", "service", SERVICE_VALUES),
    SkeletonCase(
        "service-copy-without-templating",
        "service",
        SERVICE_VALUES,
        {"copyWithoutTemplating": [".github/workflows/*"]},
    ),
    SkeletonCase(
        "service-negated-globs",
        "service",
        SERVICE_VALUES,
        {"copyWithoutTemplating": [".github/**", "!.github/workflows/release.yml", "docs"]},
    ),
    SkeletonCase(
        "service-other-values",
        "service",
        {**SERVICE_VALUES, "name": "other", "enabled": False, "disabled": True, "tags": []},
    ),
    SkeletonCase(
        "extension-njk", "extension", {"name": "ext", "port": 1}, {"templateFileExtension": True}
    ),
    SkeletonCase(
        "extension-custom",
        "extension",
        {"name": "ext", "port": 1},
        {"templateFileExtension": "tmpl"},
    ),
    SkeletonCase(
        "cookiecutter",
        "cookiecutter",
        {
            "name": "cc-app",
            "tags": ["x", "y"],
            "python": 3.11,
            "enabled": True,
            "config": {"k": "v", "n": 2},
        },
        {"cookiecutterCompat": True},
    ),
    SkeletonCase("blocks", "blocks", BLOCK_VALUES),
    SkeletonCase("blocks-trim", "blocks", BLOCK_VALUES, {"trimBlocks": True}),
    SkeletonCase("blocks-lstrip", "blocks", BLOCK_VALUES, {"lstripBlocks": True}),
    SkeletonCase("blocks-both", "blocks", BLOCK_VALUES, {"trimBlocks": True, "lstripBlocks": True}),
    SkeletonCase("escape-dotdot", "escape", {"path": "../outside"}),
    SkeletonCase("escape-absolute", "escape", {"path": "/tmp/absolute"}, empty=True),
    SkeletonCase(
        "extension-with-copy-without-templating",
        "extension",
        {"name": "ext"},
        {"templateFileExtension": True, "copyWithoutTemplating": ["plain.txt"]},
    ),
]

VALUE_CONTEXT: dict[str, Any] = {
    "parameters": {
        "n": 42,
        "one": 1,
        "zero": 0,
        "list": ["x", "y"],
        "numstr": "123",
        "nul": None,
        "flag": False,
        "name": "my-svc",
        "repoUrl": "github.com?owner=acme&repo=svc",
        "obj": {"a": 1, "b": [True, None]},
        "owner": "group:default/team-a",
    },
    "steps": {"fetch": {"output": {"remoteUrl": "https://github.com/acme/svc"}}},
    "user": {"ref": "user:default/ada", "entity": {"metadata": {"name": "ada"}}},
    "secrets": {"token": "s3cr3t"},
}

# (id, input, context override or None)
VALUE_CASES: list[tuple[str, Any, dict[str, Any] | None]] = [
    # The spec's verified table, row by row.
    ("row-number", "${{ parameters.n }}", None),
    ("row-prefixed", "x-${{ parameters.n }}", None),
    ("row-surrounding-space", "  ${{ parameters.n }}  ", None),
    ("row-two-expressions", "${{ parameters.one }}${{ parameters.one }}", None),
    ("row-list", "${{ parameters.list }}", None),
    ("row-numeric-string", "${{ parameters.numstr }}", None),
    ("row-missing", {"kept": "k", "gone": "${{ parameters.missing }}"}, None),
    ("row-empty-literal", '${{ "" }}', None),
    ("row-null", "${{ parameters.nul }}", None),
    ("row-if-false", "{% if parameters.flag %}true{% else %}false{% endif %}", None),
    ("row-error-keeps-raw", '${{ "team-a" | parseEntityRef | pick("name") }}', None),
    # More shapes.
    (
        "nested-input",
        {
            "a": "${{ parameters.n }}",
            "b": "${{ parameters.missing }}",
            "c": ["${{ parameters.missing }}", 1, True, "${{ parameters.flag }}"],
            "d": {"e": "${{ parameters.flag }}", "f": None, "g": 2.5},
        },
        None,
    ),
    ("object", "${{ parameters.obj }}", None),
    ("object-member", "${{ parameters.obj.b }}", None),
    ("if-text", "{% if parameters.n %}hello{% endif %}", None),
    ("if-nothing", "{% if parameters.flag %}x{% endif %}", None),
    ("if-number", "{% if parameters.n %}7{% endif %}", None),
    ("for-text", "{% for x in parameters.list %}${{ x }}{% endfor %}", None),
    ("for-numbers", "{% for n in [1, 2] %}${{ n }}{% endfor %}", None),
    ("comparison", "${{ parameters.n > 40 }}", None),
    ("strict-unset", '${{ parameters.unset === "Yes" }}', None),
    ("filter", "${{ parameters.name | upper }}", None),
    ("inline-if-without-else", "${{ 1 if parameters.flag }}", None),
    ("parse-repo-url", "${{ parameters.repoUrl | parseRepoUrl }}", None),
    ("project-slug", "${{ parameters.repoUrl | projectSlug }}", None),
    ("parse-entity-ref", "${{ parameters.owner | parseEntityRef }}", None),
    (
        "parse-entity-ref-defaults",
        '${{ "team-a" | parseEntityRef({ defaultKind: "group", defaultNamespace: "x" }) }}',
        None,
    ),
    ("infinity", "${{ parameters.n / 0 }}", None),
    ("plain-braces", "{{ parameters.n }}", None),
    ("length", "${{ parameters.list | length }}", None),
    ("empty-string", "", None),
    ("plain-text", "plain text", None),
    ("whitespace", "   ", None),
    ("secret", "${{ secrets.token }}", None),
    ("out-of-range", "${{ parameters.list[5] }}", None),
    ("step-output", "${{ steps.fetch.output.remoteUrl }}", None),
    ("step-output-brackets", "${{ steps['fetch'].output.remoteUrl }}", None),
    ("user", "${{ user.entity.metadata.name }}", None),
    ("syntax-error", "${{ parameters.n | }}", None),
    ("unknown-filter", "${{ parameters.n | nope }}", None),
    ("two-literals", "${{ 'a' }}${{ 'b' }}", None),
    ("empty-list", "${{ [] }}", None),
    ("empty-object", "${{ {} }}", None),
    ("string-false", "false-ish: ${{ 'false' }}", None),
    ("literal-false-string", '${{ "false" }}', None),
    ("zero", "${{ parameters.zero }}", None),
    ("dump", "${{ parameters.obj | dump }}", None),
    ("number-text", "${{ parameters.n }}.5", None),
    ("json-looking-text", '{% if true %}{"a": [1, 2]}{% endif %}', None),
    ("set-then-print", "{% set x = 3 %}${{ x }}", None),
    ("truthy-array", {"if": "${{ parameters.list }}"}, None),
    ("comment-then-expression", "{# c #}${{ parameters.n }}", None),
    ("and-or", "${{ parameters.flag or parameters.name }}", None),
    ("ternary", "${{ 'on' if parameters.n else 'off' }}", None),
    ("non-string-leaves", {"n": 5, "b": False, "z": None, "l": [1, "${{ parameters.n }}"]}, None),
]

TEXT_CONTEXT: dict[str, Any] = {
    "parameters": {
        "n": 42,
        "list": ["x", "y"],
        "numstr": "123",
        "nul": None,
        "flag": False,
        "t": True,
        "name": "my-svc",
        "obj": {"a": 1, "items": 3, "b": [1, 2]},
        "f": 1.5,
        "big": 1e21,
        "tiny": 1e-7,
        "e": [],
        "eo": {},
        "nested": [1, [2, 3], None, True, {"a": 1}],
        "repo": "github.com?owner=acme&repo=svc",
        "owner": "group:default/team-a",
        "uni": "é✓",
        "neg": -7,
        "pairs": [["a", 1], ["b", 2]],
        "ws": "  hi  ",
        "mixed": {"b": 1, "2": 2, "1": 3},
        "s": "Hello World foo",
    }
}

TEXTS_FILE = Path(__file__).resolve().parent / "texts.txt"


def _read_texts() -> tuple[list[str], list[str]]:
    """``texts.txt``: the plain templates, then (after ``[cookiecutter]``) those for
    cookiecutter-compat mode."""
    plain: list[str] = []
    cookiecutter: list[str] = []
    target = plain
    for line in TEXTS_FILE.read_text(encoding="utf-8").splitlines():
        if line == "[cookiecutter]":
            target = cookiecutter
        elif line and not line.startswith("#"):
            target.append(line)
    return plain, cookiecutter


# Templates with line breaks of their own, which a line of texts.txt cannot hold.
MULTILINE_TEXT_CASES: list[str] = [
    "line one\r\nline ${{ parameters.n }}\r\n",
    "{% if parameters.t %}\n  indented\n{% endif %}\n",
    '${{ "a\nb\nc" | indent(2) }}|${{ "a\nb" | indent(2, true) }}|${{ "a\nb" | indent }}',
    '${{ "a\nb" | nl2br }}',
    "  {% if parameters.t %}\n    x\n  {% endif %}\n{# c #}\n",
]

TEXT_CASES, COOKIECUTTER_TEXT_CASES = _read_texts()
TEXT_CASES += MULTILINE_TEXT_CASES

COOKIECUTTER_CONTEXT: dict[str, Any] = {
    "cookiecutter": {"name": "my-svc", "obj": {"a": 1, "b": 2}, "flag": False, "list": ["x"]}
}
