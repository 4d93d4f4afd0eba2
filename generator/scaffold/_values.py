"""The answers to a template's form, checked before any step runs, as Backstage's task
creation checks them: each visible page's schema against the whole values object
(``jsonschema``, draft 7: ``required``, ``enum``, ``dependencies``, ``if``/``then``), the
values of hidden pages dropped. Defaults are filled in first, as the form pre-fills them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import ValuesInvalid
from ._expressions import is_truthy, render_value
from ._template import FormPage, ScaffoldTemplate

if TYPE_CHECKING:
    from jsonschema import ValidationError


def visible_pages(template: ScaffoldTemplate, values: Mapping[str, Any]) -> list[FormPage]:
    """Pages whose ``when`` holds for these values (a ``${{ }}`` string or a boolean)."""
    shown = []
    for page in template.pages:
        when = page.when
        if isinstance(when, str):
            when = render_value(when, {"parameters": values})
        if when is True or (not isinstance(when, bool) and is_truthy(when)):
            shown.append(page)
    return shown


def with_defaults(template: ScaffoldTemplate, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values with each missing property's ``default`` filled in."""
    filled = copy.deepcopy(dict(values))
    for page in template.pages:
        for name, schema in page.properties.items():
            if name not in filled and isinstance(schema, Mapping) and "default" in schema:
                filled[name] = copy.deepcopy(schema["default"])
    return filled


def check_values(template: ScaffoldTemplate, values: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled, every visible page satisfied, hidden pages' values removed; or one
    ValuesInvalid that lists every problem with the page and parameter it belongs to."""
    filled = with_defaults(template, values)
    pages = visible_pages(template, filled)
    problems: list[str] = []
    import jsonschema  # a tenth of a second to import: only where a template runs

    for page in pages:
        schema = {k: v for k, v in page.schema.items() if k not in ("title", "when")}
        try:
            validator = jsonschema.Draft7Validator(schema)
            errors = sorted(validator.iter_errors(filled), key=lambda e: list(e.absolute_path))
        except jsonschema.SchemaError as exc:
            raise ValuesInvalid(
                f"{template.path}: the form page {page.title!r} is not a valid JSON Schema: "
                f"{exc.message}"
            ) from None
        for error in errors:
            where = ".".join(str(p) for p in error.absolute_path) or "values"
            problems.append(f"{where}: {_message(error)} (page {page.title!r})")
    known = set(template.properties())
    shown = {name for page in pages for name in page.properties}
    hidden = known - shown
    if problems:
        raise ValuesInvalid(
            f"{template.ref.key}: the values do not fit the form:\n  " + "\n  ".join(problems)
        )
    return {k: v for k, v in filled.items() if k not in hidden}


def _message(error: ValidationError) -> str:
    # jsonschema quotes the whole instance for some errors; a secret must not be repeated.
    if error.validator in ("pattern", "format", "minLength", "maxLength", "enum", "const"):
        return f"does not match the form's {error.validator} {error.validator_value!r}"
    return str(error.message)
