"""Backstage's ``${{ }}`` templating, rendered the way its scaffolder renders it.

Backstage (scaffolder-backend 4.x) renders templates with nunjitsu, a closed interpreter
for a subset of Nunjucks that behaves like JavaScript: ``true``/``false`` print in lower
case, ``null`` prints as nothing, ``[]`` is truthy, ``"a" + 1`` is ``"a1"``. Python has
no such engine, so this module runs Jinja2's *sandboxed* environment and bends it to
JavaScript semantics in four places:

- the lexer (``===``/``!==``, ``elseif``, no newline normalisation, ``True`` is a name);
- the tree (bare dictionary keys, JavaScript truthiness in ``if``/``and``/``or``/``not``,
  ``for k, v in object``, ``~``, comparisons and ``a if b`` without ``else``);
- attribute lookup: only a value's own keys and the JavaScript methods nunjitsu allows
  (``.length``, ``.toUpperCase()``…), never a Python attribute of a value;
- printing, arithmetic and filters, which follow JavaScript's conversions.

The filter and test sets are nunjitsu's, not Jinja's: a filter Backstage does not know
fails here too, so a template that renders in Backlot renders in Backstage.

The public functions are ``render_text`` (one template to text), ``render_value`` (a
step's input, keeping types as the workflow runner does), ``is_truthy`` (a step's
``if``), ``MISSING``, and ``Secret``/``secrets_in``/``mask`` for logs.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import datetime
import decimal
import functools
import json
import math
import os
import re
import traceback
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from jinja2 import nodes
from jinja2.exceptions import TemplateError, TemplateSyntaxError
from jinja2.filters import (
    do_batch,
    do_dictsort,
    do_random,
    do_reject,
    do_rejectattr,
    do_select,
    do_selectattr,
    do_slice,
    do_sort,
    do_urlize,
)
from jinja2.lexer import Lexer, Token
from jinja2.parser import Parser
from jinja2.runtime import ChainableUndefined, Undefined
from jinja2.sandbox import SandboxedEnvironment, safe_range
from jinja2.utils import Cycler, Joiner
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from ._errors import RenderError

__all__ = [
    "DEFAULT_INTEGRATIONS",
    "MISSING",
    "Secret",
    "is_truthy",
    "mask",
    "parse_entity_ref",
    "parse_repo_url",
    "render_text",
    "render_value",
    "secrets_in",
]

# Hosts Backstage knows without any `integrations:` configuration, and their type
# (ScmIntegrations.fromConfig of an empty config, @backstage/integration).
DEFAULT_INTEGRATIONS: Final[Mapping[str, str]] = {
    "github.com": "github",
    "gitlab.com": "gitlab",
    "bitbucket.org": "bitbucketCloud",
    "dev.azure.com": "azure",
    "amazonaws.com": "awsS3",
    "blob.core.windows.net": "azureBlobStorage",
    "storage.cloud.google.com": "googleGcs",
}


def configured_integrations() -> Mapping[str, str]:
    """Backstage's default hosts plus the GitHub this job runs on (GITHUB_SERVER_URL, set by
    GitHub Actions; a GitHub Enterprise Server there): the ``integrations:`` an app-config
    would declare, so parseRepoUrl reads RepoUrlPicker values for that host too."""
    server = urllib.parse.urlsplit(os.environ.get("GITHUB_SERVER_URL", "")).hostname
    if not server or server in DEFAULT_INTEGRATIONS:
        return DEFAULT_INTEGRATIONS
    return {**DEFAULT_INTEGRATIONS, server: "github"}


# nunjitsu's own ceilings (limits.ts), so a hostile template cannot loop or grow forever.
MAX_WORK_UNITS: Final = 1_000_000
MAX_OUTPUT_CHARS: Final = 16 * 1024 * 1024

_RESERVED_NAMES: Final = frozenset({"constructor", "prototype", "__proto__"})
# JavaScript's String.prototype.trim() set, which is not Python's str.strip() set.
_JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_MAX_SAFE_INTEGER: Final = 2**53


# ---------------------------------------------------------------------------------------
# Sentinels and secrets


class _Missing:
    """What a step input that rendered to nothing becomes: JavaScript's ``undefined``."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class Secret(str):
    """A string that must never be logged: it renders as its value, prints as ``***``.

    Mark the task's secrets with it before rendering; ``secrets_in`` collects them again
    so that any log line can go through ``mask``."""

    def __repr__(self) -> str:
        return "Secret('***')"


def secrets_in(value: Any) -> frozenset[str]:
    """Every ``Secret`` found in ``value``, walking mappings and sequences."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, Secret):
            found.add(str(item))
        elif isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
    return frozenset(found)


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``. Longer secrets go first,
    so a secret that contains another is masked whole."""
    for secret in sorted({str(s) for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


# ---------------------------------------------------------------------------------------
# JavaScript values: undefined, truthiness, numbers, strings, equality, order, JSON


class _JsUndefined(ChainableUndefined):
    """``undefined``: members of it are undefined too (``github.head_ref`` prints nothing,
    as nunjitsu does), calling it fails."""

    __slots__ = ()


_UNDEF: Final = _JsUndefined()


def _is_undefined(value: Any) -> bool:
    return value is MISSING or isinstance(value, Undefined)


def _is_nullish(value: Any) -> bool:
    return value is None or _is_undefined(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_array(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _is_primitive(value: Any) -> bool:
    return _is_nullish(value) or isinstance(value, bool | int | float | str)


def js_truthy(value: Any) -> bool:
    """JavaScript's ``!!value``: ``[]`` and ``{}`` are true, ``""``, ``0`` and NaN false."""
    if _is_nullish(value) or value is False:
        return False
    if _is_number(value):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return len(value) > 0
    return True


def is_truthy(value: Any) -> bool:
    """Backstage's ``isTruthy`` for a step's ``if``: an array is true when it has items;
    anything else is JavaScript's ``!!``, so the string ``"false"`` is true."""
    if _is_array(value):
        return len(value) > 0
    return js_truthy(value)


def _num(value: float) -> int | float:
    """A JavaScript number as Python holds it: integral values as int when exact."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_SAFE_INTEGER:
        return int(value)
    return value


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest digits that round-trip ``value`` and n, with value = 0.digits * 10**n."""
    _, digit_tuple, exponent = decimal.Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return stripped, len(stripped) + exponent


def _number_text(value: float) -> str:
    """ECMAScript Number::toString: ``1`` not ``1.0``, ``1e-7`` not ``1e-07``."""
    if isinstance(value, int):
        if abs(value) <= _MAX_SAFE_INTEGER:
            return str(value)
        value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, n = _shortest_digits(abs(value))
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    exponent = f"+{n - 1}" if n - 1 >= 0 else f"-{1 - n}"
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return sign + mantissa + "e" + exponent


def js_string(value: Any) -> str:
    """JavaScript's ``String(value)``, as ``+``, ``~`` and string methods convert."""
    if _is_undefined(value):
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if _is_number(value):
        return _number_text(value)
    if _is_array(value):
        return ",".join("" if _is_nullish(item) else js_string(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    raise TypeError(f"a {_kind(value)} cannot be used as text")


def js_print(value: Any) -> str:
    """How ``${{ value }}`` prints: as ``String(value)``, but null and undefined print as
    nothing (also inside arrays, which print joined by ``,``)."""
    if _is_nullish(value):
        return ""
    if _is_array(value):
        return ",".join(js_print(item) for item in value)
    return js_string(value)


def _kind(value: Any) -> str:
    if callable(value):
        return "function"
    return type(value).__name__


_DECIMAL_LITERAL = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\Z")
_RADIX_LITERAL = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)\Z")


def _to_primitive(value: Any) -> Any:
    if _is_primitive(value):
        return value
    return js_string(value)


def js_number(value: Any) -> int | float:
    """JavaScript's ``Number(value)``."""
    primitive = _to_primitive(value)
    if _is_undefined(primitive):
        return math.nan
    if primitive is None:
        return 0
    if isinstance(primitive, bool):
        return int(primitive)
    if _is_number(primitive):
        number: int | float = primitive
        return number
    return _string_to_number(str(primitive))


def _string_to_number(text: str) -> int | float:
    text = text.strip(_JS_WHITESPACE)
    if text == "":
        return 0
    if _RADIX_LITERAL.match(text):
        return _num(float(int(text, 0)))
    if not _DECIMAL_LITERAL.match(text):
        return math.nan
    return _num(float(text.replace("Infinity", "inf")))


def _js_type(value: Any) -> str:
    if _is_undefined(value):
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def js_strict_equal(left: Any, right: Any) -> bool:
    """``===``: same type and value for primitives, the same object otherwise."""
    kind = _js_type(left)
    if kind != _js_type(right):
        return False
    if kind in {"undefined", "null"}:
        return True
    if kind == "object":
        return left is right
    return bool(left == right)


def js_loose_equal(left: Any, right: Any) -> bool:
    """``==``, with nunjitsu's closed conversions (objects become their text)."""
    if js_strict_equal(left, right):
        return True
    if not _is_primitive(left) and not _is_primitive(right):
        return False
    return _primitive_loose_equal(_to_primitive(left), _to_primitive(right))


def _primitive_loose_equal(left: Any, right: Any) -> bool:
    if js_strict_equal(left, right):
        return True
    if _is_nullish(left) or _is_nullish(right):
        return _is_nullish(left) and _is_nullish(right)
    if _js_type(left) == _js_type(right):
        return False
    if isinstance(left, bool):
        return _primitive_loose_equal(int(left), right)
    if isinstance(right, bool):
        return _primitive_loose_equal(left, int(right))
    if _is_number(left) and isinstance(right, str):
        return bool(left == _string_to_number(right))
    if isinstance(left, str) and _is_number(right):
        return bool(_string_to_number(left) == right)
    return False


def js_order(left: Any, right: Any) -> float:
    """-1, 0 or 1 as ``<`` orders two values (NaN when they do not compare)."""
    left, right = _to_primitive(left), _to_primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    a, b = js_number(left), js_number(right)
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return (a > b) - (a < b)


def _property_key(key: Any) -> str:
    return key if isinstance(key, str) else js_string(key)


def _is_index_key(key: str) -> bool:
    return key.isascii() and key.isdigit() and str(int(key)) == key and int(key) < 2**32 - 1


def _js_entries(mapping: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    """A JavaScript object's entries in its own order: integer keys first, ascending,
    then the other keys in insertion order."""
    entries = [(_property_key(key), value) for key, value in mapping.items()]
    if not any(_is_index_key(key) for key, _ in entries):
        return entries
    indexed = sorted((e for e in entries if _is_index_key(e[0])), key=lambda e: int(e[0]))
    return indexed + [e for e in entries if not _is_index_key(e[0])]


def js_json(value: Any, indent: str = "") -> str | None:
    """``JSON.stringify(value, null, indent)``; None where JavaScript gives undefined."""
    return _json(value, indent, "")


def _json(value: Any, indent: str, current: str) -> str | None:
    if _is_undefined(value):
        return None
    if callable(value):
        raise TypeError("a function cannot be serialised")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(str(value), ensure_ascii=False)
    if _is_number(value):
        return "null" if math.isnan(value) or math.isinf(value) else _number_text(value)
    inner = current + indent
    if _is_array(value):
        items = [_json(item, indent, inner) or "null" for item in value]
        return _json_container("[", items, "]", indent, current)
    if isinstance(value, Mapping):
        colon = ": " if indent else ":"
        members = []
        for key, item in _js_entries(value):
            encoded = _json(item, indent, inner)
            if encoded is not None:
                members.append(json.dumps(key, ensure_ascii=False) + colon + encoded)
        return _json_container("{", members, "}", indent, current)
    raise TypeError(f"a {_kind(value)} cannot be serialised")


def _json_container(opening: str, items: list[str], closing: str, indent: str, current: str) -> str:
    if not items:
        return opening + closing
    if not indent:
        return opening + ",".join(items) + closing
    inner = current + indent
    return opening + "\n" + inner + (",\n" + inner).join(items) + "\n" + current + closing


def _json_parse(text: str) -> Any:
    """``JSON.parse``: no NaN or Infinity literals, numbers as JavaScript holds them."""

    def refuse(literal: str) -> Any:
        raise ValueError(f"{literal} is not JSON")

    return json.loads(text, parse_constant=refuse, parse_float=lambda s: _num(float(s)))


def _to_template_value(value: Any) -> Any:
    """A fresh, plain copy of a context value: dicts with text keys in JavaScript order,
    lists, text, numbers. Templates may mutate arrays (``push``); the caller's data must
    not change, as nunjitsu copies its context."""
    if isinstance(value, Mapping):
        return {key: _to_template_value(item) for key, item in _js_entries(value)}
    if isinstance(value, list | tuple):
        return [_to_template_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float) or _is_undefined(value):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------------------
# Work budget: nunjitsu's limits, so a template cannot run or grow without end


_BUDGET: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "backlot_template_budget", default=None
)


@contextlib.contextmanager
def _budget() -> Iterator[None]:
    token = _BUDGET.set([MAX_WORK_UNITS, MAX_OUTPUT_CHARS])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _charge(work: int = 1, output: int = 0) -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    budget[0] -= work
    budget[1] -= output
    if budget[0] < 0:
        raise RuntimeError(f"the template does more than {MAX_WORK_UNITS} steps of work")
    if budget[1] < 0:
        raise RuntimeError(f"the template renders more than {MAX_OUTPUT_CHARS} characters")


# ---------------------------------------------------------------------------------------
# Members: own keys and the JavaScript methods nunjitsu exposes, never Python attributes


def _optional_int(value: Any, default: int | None = None) -> int | None:
    if _is_undefined(value):
        return default
    number = js_number(value)
    if math.isnan(number):
        return 0
    if math.isinf(number):
        return 2**53 if number > 0 else -(2**53)
    return int(number)


def _js_replacement(replacement: str, match: str, before: str, after: str) -> str:
    """The ``$$``, ``$&``, ``$``` and ``$'`` patterns of String.prototype.replace."""
    patterns = {"$$": "$", "$&": match, "$`": before, "$'": after}
    return re.sub(r"\$[$&`']", lambda m: patterns[m.group(0)], replacement)


def _string_replace(text: str, search: Any, replacement: Any) -> str:
    needle = js_string(search)
    index = text.find(needle)
    if index < 0:
        return text
    before, after = text[:index], text[index + len(needle) :]
    return before + _js_replacement(js_string(replacement), needle, before, after) + after


def _string_split(text: str, separator: Any = _UNDEF, limit: Any = _UNDEF) -> list[str]:
    count = None if _is_undefined(limit) else int(js_number(limit)) & 0xFFFFFFFF
    if _is_undefined(separator):
        parts = [text]
    elif (sep := js_string(separator)) == "":
        parts = list(text)
    else:
        parts = text.split(sep)
    return parts if count is None else parts[:count]


def _substring(text: str, start: Any = 0, end: Any = _UNDEF) -> str:
    length = len(text)
    a = min(max(_optional_int(start, 0) or 0, 0), length)
    b = min(max(_optional_int(end, length) or 0, 0), length)
    return text[min(a, b) : max(a, b)]


def _js_slice(items: Any, start: Any = _UNDEF, end: Any = _UNDEF) -> Any:
    return items[_optional_int(start) : _optional_int(end)]


def _index_of(text: str, search: Any, position: Any = _UNDEF) -> int:
    return text.find(js_string(search), max(_optional_int(position, 0) or 0, 0))


def _last_index_of(text: str, search: Any, position: Any = _UNDEF) -> int:
    end = len(text) if _is_undefined(position) else max(_optional_int(position, 0) or 0, 0)
    return text.rfind(js_string(search), 0, end + len(js_string(search)))


def _char_at(text: str, index: Any = 0) -> str:
    i = _optional_int(index, 0) or 0
    return text[i] if 0 <= i < len(text) else ""


def _char_code_at(text: str, index: Any = 0) -> int | float:
    char = _char_at(text, index)
    return ord(char) if char else math.nan


def _starts_with(text: str, search: Any, position: Any = _UNDEF) -> bool:
    return text.startswith(js_string(search), max(_optional_int(position, 0) or 0, 0))


def _ends_with(text: str, search: Any, end: Any = _UNDEF) -> bool:
    stop = len(text) if _is_undefined(end) else max(_optional_int(end, 0) or 0, 0)
    return text[:stop].endswith(js_string(search))


def _includes(text: str, search: Any, position: Any = _UNDEF) -> bool:
    return _index_of(text, search, position) >= 0


_STRING_METHODS: Final[Mapping[str, Callable[..., Any]]] = {
    "charAt": _char_at,
    "charCodeAt": _char_code_at,
    "concat": lambda text, *more: text + "".join(js_string(m) for m in more),
    "endsWith": _ends_with,
    "includes": _includes,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "replace": _string_replace,
    "slice": lambda text, start=_UNDEF, end=_UNDEF: _js_slice(text, start, end),
    "split": _string_split,
    "startsWith": _starts_with,
    "substring": _substring,
    "toLowerCase": lambda text: text.lower(),
    "toUpperCase": lambda text: text.upper(),
    "trim": lambda text: text.strip(_JS_WHITESPACE),
    "trimEnd": lambda text: text.rstrip(_JS_WHITESPACE),
    "trimStart": lambda text: text.lstrip(_JS_WHITESPACE),
}


def _to_fixed(number: float, digits: Any = _UNDEF) -> str:
    places = _optional_int(digits, 0) or 0
    if math.isnan(number) or math.isinf(number) or abs(number) >= 1e21:
        return js_string(number)
    # JavaScript rounds the exact binary value half away from zero, not half to even.
    exact = decimal.Decimal(number).quantize(
        decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP
    )
    return f"{exact:f}"


def _number_to_string(number: float, radix: Any = _UNDEF) -> str:
    base = _optional_int(radix, 10) or 10
    if base == 10:
        return _number_text(number)
    if not 2 <= base <= 36 or not float(number).is_integer():
        raise ValueError("toString takes a radix from 2 to 36, for whole numbers only")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    value, text = abs(int(number)), ""
    while True:
        value, digit = divmod(value, base)
        text = digits[digit] + text
        if value == 0:
            return ("-" if number < 0 else "") + text


_NUMBER_METHODS: Final[Mapping[str, Callable[..., Any]]] = {
    "toFixed": _to_fixed,
    "toString": _number_to_string,
}


def _array_join(items: list[Any], separator: Any = _UNDEF) -> str:
    sep = "," if _is_undefined(separator) else js_string(separator)
    return sep.join("" if _is_nullish(item) else js_string(item) for item in items)


def _array_at(items: list[Any], index: Any) -> Any:
    i = _optional_int(index, 0) or 0
    return items[i] if -len(items) <= i < len(items) else _UNDEF


def _array_concat(items: list[Any], *more: Any) -> list[Any]:
    result = list(items)
    for value in more:
        result.extend(value if _is_array(value) else [value])
    return result


def _array_flat(items: list[Any], depth: Any = _UNDEF) -> list[Any]:
    levels = max(_optional_int(depth, 1) or 0, 0)
    result: list[Any] = []
    for item in items:
        if levels > 0 and _is_array(item):
            result.extend(_array_flat(list(item), levels - 1))
        else:
            result.append(item)
    return result


def _array_index_of(items: list[Any], search: Any, start: Any = _UNDEF) -> int:
    first = _optional_int(start, 0) or 0
    for index in range(first if first >= 0 else max(len(items) + first, 0), len(items)):
        if js_strict_equal(items[index], search):
            return index
    return -1


def _array_last_index_of(items: list[Any], search: Any) -> int:
    for index in range(len(items) - 1, -1, -1):
        if js_strict_equal(items[index], search):
            return index
    return -1


def _array_push(items: list[Any], *values: Any) -> int:
    items.extend(values)
    return len(items)


def _array_unshift(items: list[Any], *values: Any) -> int:
    items[:0] = values
    return len(items)


def _array_pop(items: list[Any], index: Any = _UNDEF) -> Any:
    if not items:
        return _UNDEF
    return items.pop(-1 if _is_undefined(index) else _optional_int(index, -1) or 0)


def _array_shift(items: list[Any]) -> Any:
    return items.pop(0) if items else _UNDEF


def _array_sort(items: list[Any]) -> list[Any]:
    # Array.prototype.sort without a comparator orders by String(item).
    items.sort(key=js_string)
    return items


def _array_reverse(items: list[Any]) -> list[Any]:
    items.reverse()
    return items


def _array_splice(items: list[Any], start: Any = _UNDEF, count: Any = _UNDEF, *add: Any) -> Any:
    if _is_undefined(start):
        return []
    first = _optional_int(start, 0) or 0
    first = max(len(items) + first, 0) if first < 0 else min(first, len(items))
    stop = len(items) if _is_undefined(count) else first + max(_optional_int(count) or 0, 0)
    removed = items[first:stop]
    items[first:stop] = add
    return removed


def _array_includes(items: list[Any], search: Any, start: Any = _UNDEF) -> bool:
    return _array_index_of(items, search, start) >= 0 or (
        _is_number(search) and math.isnan(search) and any(_is_nan(i) for i in items)
    )


def _is_nan(value: Any) -> bool:
    return _is_number(value) and math.isnan(value)


_ARRAY_METHODS: Final[Mapping[str, Callable[..., Any]]] = {
    "at": _array_at,
    "concat": _array_concat,
    "flat": _array_flat,
    "includes": _array_includes,
    "indexOf": _array_index_of,
    "join": _array_join,
    "lastIndexOf": _array_last_index_of,
    "pop": _array_pop,
    "push": _array_push,
    "reverse": _array_reverse,
    "shift": _array_shift,
    "slice": lambda items, start=_UNDEF, end=_UNDEF: _js_slice(items, start, end),
    "sort": _array_sort,
    "splice": _array_splice,
    "unshift": _array_unshift,
}


def _array_remove(items: list[Any], value: Any) -> list[Any]:
    index = _array_index_of(items, value)
    return [items.pop(index)] if index >= 0 else []


def _array_insert(items: list[Any], index: Any, value: Any) -> list[Any]:
    items.insert(_optional_int(index, 0) or 0, value)
    return []


# Jinja-style methods nunjitsu adds in cookiecutter-compat mode.
_COOKIECUTTER_ARRAY_METHODS: Final[Mapping[str, Callable[..., Any]]] = {
    "append": _array_push,
    "count": lambda items, value: sum(1 for i in items if js_strict_equal(i, value)),
    "find": _array_index_of,
    "index": _array_index_of,
    "insert": _array_insert,
    "remove": _array_remove,
}

_COOKIECUTTER_RECORD_METHODS: Final[Mapping[str, Callable[..., Any]]] = {
    "get": lambda record, key, default=_UNDEF: record.get(js_string(key), default),
    "has_key": lambda record, key: js_string(key) in record,
    "items": lambda record: [[key, value] for key, value in record.items()],
    "keys": lambda record: list(record),
    "values": lambda record: list(record.values()),
}


def _method(table: Mapping[str, Callable[..., Any]], receiver: Any, name: str) -> Any:
    function = table.get(name)
    if function is None:
        return _UNDEF
    return functools.partial(function, receiver)


def _index(key: str, length: int) -> int | None:
    return int(key) if _is_index_key(key) and int(key) < length else None


def js_member(obj: Any, key: Any, *, cookiecutter: bool = False) -> Any:
    """``obj[key]`` as nunjitsu reads it; undefined when there is no such member."""
    name = _property_key(key)
    if name in _RESERVED_NAMES:
        raise TypeError(f'the name "{name}" is reserved')
    found = _own_member(obj, name, cookiecutter)
    # A named undefined, so that calling it says what was not there.
    return _JsUndefined(name=name) if found is _UNDEF else found


def _own_member(obj: Any, name: str, cookiecutter: bool) -> Any:
    if _is_nullish(obj) or isinstance(obj, bool):
        return _UNDEF
    if isinstance(obj, Mapping):
        if name in obj:
            return obj[name]
        if cookiecutter:
            return _method(_COOKIECUTTER_RECORD_METHODS, obj, name)
        return _UNDEF
    if isinstance(obj, str):
        return _sequence_member(obj, name, _STRING_METHODS, str(obj))
    if _is_array(obj):
        table = {**_ARRAY_METHODS, **_COOKIECUTTER_ARRAY_METHODS} if cookiecutter else None
        return _sequence_member(obj, name, table or _ARRAY_METHODS, obj)
    if _is_number(obj):
        return _method(_NUMBER_METHODS, obj, name)
    return _NOT_A_VALUE


def _sequence_member(
    obj: Any, name: str, methods: Mapping[str, Callable[..., Any]], receiver: Any
) -> Any:
    if name == "length":
        return len(obj)
    position = _index(name, len(obj))
    if position is not None:
        return obj[position]
    return _method(methods, receiver, name)


# js_member's answer for objects that are not template values (loop, cycler, macros):
# those keep Jinja's sandboxed attribute lookup.
_NOT_A_VALUE: Final = object()


# ---------------------------------------------------------------------------------------
# Backstage's filters: parseRepoUrl, parseEntityRef, pick, projectSlug


def _url_host(netloc: str, original: str) -> str:
    """The WHATWG host of ``https://<netloc>``: no credentials, lower case, no :443."""
    host = netloc.rpartition("@")[2].lower()
    if host.endswith(":443"):
        host = host[: -len(":443")]
    bad = set(" \t\n\r<>^|%\\#?/[]") if not host.startswith("[") else set(" <>^|%\\")
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not name or any(ch in bad for ch in name):
        raise ValueError(f"Invalid repo URL passed to publisher, got {original}")
    return host


def parse_repo_url(
    repo_url: Any, integrations: Mapping[str, str] = DEFAULT_INTEGRATIONS
) -> dict[str, str]:
    """Backstage's ``parseRepoUrl`` (plugin-scaffolder-node): the parts of a
    RepoUrlPicker value ``host?owner=…&repo=…``. Parameters that are absent are left out
    (JavaScript's ``undefined``). Raises ValueError as Backstage raises InputError."""
    text = js_string(repo_url)
    parsed = urllib.parse.urlsplit("https://" + text)
    host = _url_host(parsed.netloc, text)
    kind = integrations.get(host)
    if kind is None:
        raise ValueError(
            f"No matching integration configuration for host {host}, "
            "please check your integrations config"
        )
    query: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(parsed.query, keep_blank_values=True):
        query.setdefault(name, value)
    for name in _required_repo_params(kind, query):
        if not query.get(name):
            raise ValueError(
                f"Invalid repo URL passed to publisher: https://{text}, missing {name}"
            )
    parts = {"host": host}
    for name in ("owner", "repo", "organization", "workspace", "project"):
        if name in query:
            parts[name] = query[name].strip("/")
    return parts


def _required_repo_params(kind: str, query: Mapping[str, str]) -> tuple[str, ...]:
    if kind == "bitbucketCloud":
        return ("workspace", "project", "repo")
    if kind in {"bitbucketServer", "azure"}:
        return ("project", "repo")
    if kind == "gitlab":
        return () if query.get("project") else ("owner", "repo")
    if kind in {"gitea", "gerrit"}:
        return ("repo",)
    return ("repo", "owner")


def parse_entity_ref(ref: Any, context: Any = None) -> dict[str, str]:
    """catalog-model's ``parseEntityRef``: ``[kind:][namespace/]name`` with case kept,
    the namespace defaulting to ``default``; raises ValueError when the kind is missing
    and no ``defaultKind`` is given."""
    if not js_truthy(ref):
        raise ValueError("Entity reference must not be empty")
    options = context if isinstance(context, Mapping) else {}
    default_kind = options.get("defaultKind")
    default_namespace = options.get("defaultNamespace") or "default"
    kind: Any
    namespace: Any
    name: Any
    if isinstance(ref, str):
        kind, namespace, name = _split_ref(ref)
    elif isinstance(ref, Mapping):
        kind, namespace, name = ref.get("kind"), ref.get("namespace"), ref.get("name")
    else:
        kind = namespace = name = None
    kind = default_kind if _is_nullish(kind) else kind
    namespace = default_namespace if _is_nullish(namespace) else namespace
    textual = js_json(ref)
    if not js_truthy(kind):
        raise ValueError(
            f"Entity reference {textual} had missing or empty kind "
            '(e.g. did not start with "component:" or similar)'
        )
    if not js_truthy(namespace):
        raise ValueError(f"Entity reference {textual} had missing or empty namespace")
    if not js_truthy(name):
        raise ValueError(f"Entity reference {textual} had missing or empty name")
    return {"kind": kind, "namespace": namespace, "name": name}


def _split_ref(ref: str) -> tuple[str | None, str | None, str]:
    colon, slash = ref.find(":"), ref.find("/")
    if slash != -1 and slash < colon:
        colon = -1
    kind = None if colon == -1 else ref[:colon]
    namespace = None if slash == -1 else ref[colon + 1 : slash]
    name = ref[max(colon + 1, slash + 1) :]
    if kind == "" or namespace == "" or name == "":
        raise ValueError(
            f'Entity reference "{ref}" was not on the form [<kind>:][<namespace>/]<name>'
        )
    return kind, namespace, name


# lodash's path grammar (stringToPath / isKey).
_PROP_NAME = re.compile(
    r"""[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]|(?=(?:\.|\[\])(?:\.|\[\]|$))"""
)
_DEEP_PROP = re.compile(r"""\.|\[(?:[^[\]]*|(["'])(?:(?!\1)[^\\]|\\.)*?\1)\]""")
_PLAIN_PROP = re.compile(r"\w*\Z")


def _lodash_path(path: Any, obj: Any) -> list[Any]:
    if _is_array(path):
        return list(path)
    if not isinstance(path, str):
        return [path]
    if _PLAIN_PROP.match(path) or not _DEEP_PROP.search(path) or _has_own(obj, path):
        return [path]
    parts: list[Any] = [""] if path.startswith(".") else []
    for match in _PROP_NAME.finditer(path):
        number, quote, quoted = match.group(1), match.group(2), match.group(3)
        if quote:
            parts.append(re.sub(r"\\(\\)?", r"\1", quoted))
        else:
            parts.append(number or match.group(0))
    return parts


def _has_own(obj: Any, key: str) -> bool:
    if isinstance(obj, Mapping):
        return key in obj
    if isinstance(obj, str) or _is_array(obj):
        return key == "length" or _index(key, len(obj)) is not None
    return False


def pick(obj: Any, path: Any, default: Any = _UNDEF) -> Any:
    """``lodash.get(obj, path, default)``: ``pick('name')``, ``pick('a.b[0].c')``."""
    current = obj
    steps = _lodash_path(path, obj)
    for step in steps:
        if _is_nullish(current):
            return default
        current = js_member(current, step)
        if current is _NOT_A_VALUE:
            return default
    if not steps or _is_undefined(current):
        return default
    return current


def _project_slug(repo_url: Any) -> str:
    parts = parse_repo_url(repo_url, configured_integrations())
    return f"{js_string(parts.get('owner', _UNDEF))}/{js_string(parts.get('repo', _UNDEF))}"


# ---------------------------------------------------------------------------------------
# nunjitsu's built-in filters


def _text_input(value: Any, filter_name: str) -> str:
    """nunjitsu's normalised text input: null, undefined and false are ``""``."""
    if _is_nullish(value) or value is False:
        return ""
    return _require_text(value, filter_name)


def _require_text(value: Any, filter_name: str) -> str:
    if isinstance(value, str):
        return str(value)
    raise TypeError(f'filter "{filter_name}" needs text, not {_js_type(value)}')


def _spaces(count: float) -> str:
    if math.isnan(count) or count <= 0:
        return ""
    if count > MAX_OUTPUT_CHARS:
        raise ValueError("filter spacing exceeds the supported bound")
    return " " * math.ceil(count)


def _f_dump(value: Any, spacing: Any = _UNDEF) -> Any:
    if isinstance(spacing, str):
        indent = spacing[:10]
    elif _is_number(spacing) and not math.isnan(spacing) and spacing > 0:
        indent = " " * min(10, int(spacing))
    else:
        indent = ""
    text = js_json(value, indent)
    return _UNDEF if text is None else text


def _f_default(value: Any, fallback: Any = _UNDEF, boolean: Any = False) -> Any:
    if js_truthy(boolean):
        return value if js_truthy(value) else fallback
    return fallback if _is_undefined(value) else value


def _f_replace(value: Any, search: Any, replacement: Any = _UNDEF, maximum: Any = _UNDEF) -> Any:
    if not isinstance(search, str) and not _is_number(search):
        return value
    if _is_number(value):
        value = js_string(value)
    if not isinstance(value, str):
        return value
    needle = js_string(search)
    new = js_string(replacement)
    if needle == "":
        separator = "," if _is_undefined(replacement) else new
        return new + separator.join(value) + new
    limit = -1 if _is_undefined(maximum) else maximum
    if (_is_number(limit) and limit == 0) or needle not in value:
        return value
    if _is_number(limit) and limit == -1:
        return value.replace(needle, new)
    return value.replace(needle, new, max(int(js_number(limit)), 0))


def _f_join(value: Any, separator: Any = _UNDEF, attribute: Any = _UNDEF) -> str:
    sep = js_string(separator) if js_truthy(separator) else ""
    if js_truthy(attribute):
        items = [_attribute(item, attribute) for item in _attribute_source(value)]
    elif _is_array(value):
        items = list(value)
    else:
        raise TypeError("join needs an array")
    return sep.join("" if _is_nullish(item) else js_string(item) for item in items)


def _attribute_source(value: Any) -> list[Any]:
    if _is_array(value):
        return list(value)
    if isinstance(value, str):
        return list(value)
    return []


def _attribute(item: Any, attribute: Any) -> Any:
    if _is_nullish(item):
        raise TypeError("cannot read an attribute of null or undefined")
    found = js_member(item, attribute)
    return _UNDEF if found is _NOT_A_VALUE else found


def _f_length(value: Any) -> Any:
    if _is_array(value) or isinstance(value, str | Mapping):
        return len(value)
    if _is_nullish(value) or value is False:
        return 0
    return _UNDEF


def _f_first(value: Any) -> Any:
    return _edge(value, last=False)


def _f_last(value: Any) -> Any:
    return _edge(value, last=True)


def _edge(value: Any, *, last: bool) -> Any:
    if _is_nullish(value):
        raise TypeError(f"{'last' if last else 'first'} needs a sequence")
    if _is_array(value) or isinstance(value, str):
        return (value[-1] if last else value[0]) if len(value) else _UNDEF
    if isinstance(value, Mapping):
        key = js_string(js_number(value.get("length", _UNDEF)) - 1) if last else "0"
        return value.get(key, _UNDEF)
    return _UNDEF


def _f_truncate(value: Any, length: Any = 255, killwords: Any = False, end: Any = _UNDEF) -> Any:
    text = "" if _is_nullish(value) or value is False else value
    limit = length if js_truthy(length) else 255
    size = _direct_length(text)
    if js_order(size, limit) <= 0:
        return text
    text = _require_text(text, "truncate")
    count = int(js_number(limit))
    if js_truthy(killwords):
        cut = text[:count]
    else:
        index = text.rfind(" ", 0, count + 1)
        cut = text[: count if index < 0 else index]
    return cut + ("..." if _is_nullish(end) else js_string(end))


def _direct_length(value: Any) -> Any:
    if isinstance(value, str) or _is_array(value):
        return len(value)
    if isinstance(value, Mapping):
        return value.get("length", _UNDEF)
    return _UNDEF


def _f_indent(value: Any, width: Any = 4, first: Any = False) -> Any:
    text = "" if _is_nullish(value) or value is False else value
    if text == "":
        return ""
    text = _require_text(text, "indent")
    prefix = _spaces(js_number(width if js_truthy(width) else 4))
    lines = text.split("\n")
    start = 0 if js_truthy(first) else 1
    return "\n".join(line if i < start else prefix + line for i, line in enumerate(lines))


def _f_title(value: Any) -> str:
    words = _text_input(value, "title").split(" ")
    return " ".join(word.lower()[:1].upper() + word.lower()[1:] for word in words)


def _f_capitalize(value: Any) -> str:
    text = _text_input(value, "capitalize").lower()
    return text[:1].upper() + text[1:]


def _f_string(value: Any) -> str:
    if _is_nullish(value):
        raise TypeError("string needs a value")
    return js_print(value)


def _f_list(value: Any) -> list[Any]:
    if _is_array(value):
        return list(value)
    if isinstance(value, str):
        return list(value)
    if isinstance(value, Mapping):
        return [{"key": key, "value": item} for key, item in value.items()]
    raise TypeError("list needs an iterable value")


def _f_reverse(value: Any) -> Any:
    if isinstance(value, str):
        return value[::-1]
    if _is_array(value):
        return list(reversed(value))
    return []


_PARSE_FLOAT = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def _f_int(value: Any, default: Any = _UNDEF, base: Any = _UNDEF) -> Any:
    text = js_string(value).lstrip(_JS_WHITESPACE)
    radix = 10 if _is_undefined(base) else _optional_int(base, 10) or 10
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"[: max(2, min(radix, 36))]
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in {"+", "-"} else text
    if radix == 16 and body[:2].lower() == "0x":
        body = body[2:]
    length = 0
    while length < len(body) and body[length].lower() in digits:
        length += 1
    if length == 0 or not 2 <= radix <= 36:
        return default
    return sign * int(body[:length], radix)


def _f_float(value: Any, default: Any = _UNDEF) -> Any:
    match = _PARSE_FLOAT.match(js_string(value).lstrip(_JS_WHITESPACE))
    if match is None:
        return default
    return _num(float(match.group(0).replace("Infinity", "inf")))


def _f_round(value: Any, precision: Any = 0, method: Any = "common") -> int | float:
    places = js_number(precision if js_truthy(precision) else 0)
    factor = 10**places
    scaled = js_number(value) * factor
    if math.isnan(scaled) or math.isinf(scaled):
        return scaled
    if method == "ceil":
        rounded: float = math.ceil(scaled)
    elif method == "floor":
        rounded = math.floor(scaled)
    else:
        rounded = math.floor(scaled + 0.5)  # Math.round: halves go up
    return _num(rounded / factor)


_HTML_ESCAPES: Final = {
    "&": "&amp;",
    '"': "&quot;",
    "'": "&#39;",
    "<": "&lt;",
    ">": "&gt;",
    "\\": "&#92;",
}


def _f_escape(value: Any) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(re.sub(r"""[&"'<>\\]""", lambda m: _HTML_ESCAPES[m.group(0)], js_print(value)))


def _f_forceescape(value: Any) -> Markup:
    return Markup(re.sub(r"""[&"'<>\\]""", lambda m: _HTML_ESCAPES[m.group(0)], js_print(value)))


def _f_safe(value: Any) -> Markup:
    return value if isinstance(value, Markup) else Markup(js_print(value))


def _f_center(value: Any, width: Any = 80) -> Any:
    text = "" if _is_nullish(value) or value is False else value
    size = js_number(width if js_truthy(width) else 80)
    if js_order(_direct_length(text), size) >= 0:
        return text
    text = _require_text(text, "center")
    spaces = size - len(text)
    return _spaces(spaces / 2 - spaces % 2) + text + _spaces(spaces / 2)


def _f_nl2br(value: Any) -> str:
    text = "" if _is_nullish(value) else _require_text(value, "nl2br")
    return re.sub(r"\r\n|\n", "<br />\n", text)


_HTML_TAG = re.compile(r"<\/?([a-z][a-z0-9]*)\b[^>]*>|<!--[\s\S]*?-->", re.I)


def _f_striptags(value: Any, preserve_linebreaks: Any = False) -> str:
    text = _text_input(value, "striptags")
    for _ in range(8):  # nunjitsu's passes, so nested markup cannot survive one pass
        text, count = _HTML_TAG.subn("", text)
        if count == 0:
            break
    text = text.strip(_JS_WHITESPACE)
    if not js_truthy(preserve_linebreaks):
        return re.sub(r"\s+", " ", text)
    text = re.sub(r"^ +| +$", "", text, flags=re.M)
    text = re.sub(r" +", " ", text).replace("\r\n", "\n")
    return re.sub(r"\n\n\n+", "\n\n", text)


def _f_wordcount(value: Any) -> int | None:
    text = "" if _is_nullish(value) or value is False else value
    if not js_truthy(text):
        return None
    return len(re.findall(r"\w+", _require_text(text, "wordcount"), flags=re.ASCII)) or None


def _encode_component(value: Any) -> str:
    return urllib.parse.quote(js_string(value), safe="-_.!~*'()")


def _f_urlencode(value: Any) -> str:
    if isinstance(value, str):
        return _encode_component(value)
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif _is_array(value):
        pairs = [(item[0], item[1]) if len(item) > 1 else (item[0], _UNDEF) for item in value]
    else:
        pairs = []
    return "&".join(f"{_encode_component(k)}={_encode_component(v)}" for k, v in pairs)


def _f_abs(value: Any) -> int | float:
    return abs(js_number(value))


def _f_sum(value: Any, attribute: Any = _UNDEF, start: Any = 0) -> Any:
    if js_truthy(attribute):
        items = [_attribute(item, attribute) for item in _attribute_source(value)]
    elif _is_array(value):
        items = list(value)
    else:
        raise TypeError("sum needs an array")
    total: Any = 0
    for item in items:
        total = _js_add(total, item)
    return _js_add(start, total)


def _f_groupby(value: Any, attribute: Any) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    path = js_string(attribute).split(".") if isinstance(attribute, str) else [attribute]
    for item in _attribute_source(value):
        key = item
        for step in path:
            key = _attribute(key, step)
        groups.setdefault(_property_key(key), []).append(item)
    return groups


def _listing(jinja_filter: Callable[..., Any]) -> Callable[..., Any]:
    """A Jinja filter that yields, as one that returns a list (arrays print and dump)."""

    @functools.wraps(jinja_filter)
    def listed(*args: Any, **kwargs: Any) -> list[Any]:
        return list(jinja_filter(*args, **kwargs))

    return listed


def _filters(cookiecutter: bool) -> dict[str, Callable[..., Any]]:
    table: dict[str, Callable[..., Any]] = {
        "abs": _f_abs,
        "batch": _listing(do_batch),
        "capitalize": _f_capitalize,
        "center": _f_center,
        "d": _f_default,
        "default": _f_default,
        "dictsort": do_dictsort,
        "dump": _f_dump,
        "e": _f_escape,
        "escape": _f_escape,
        "first": _f_first,
        "float": _f_float,
        "forceescape": _f_forceescape,
        "groupby": _f_groupby,
        "indent": _f_indent,
        "int": _f_int,
        "join": _f_join,
        "last": _f_last,
        "length": _f_length,
        "list": _f_list,
        "lower": lambda value: _text_input(value, "lower").lower(),
        "nl2br": _f_nl2br,
        "random": do_random,
        "reject": _listing(do_reject),
        "rejectattr": _listing(do_rejectattr),
        "replace": _f_replace,
        "reverse": _f_reverse,
        "round": _f_round,
        "safe": _f_safe,
        "select": _listing(do_select),
        "selectattr": _listing(do_selectattr),
        "slice": _listing(do_slice),
        "sort": do_sort,
        "string": _f_string,
        "striptags": _f_striptags,
        "sum": _f_sum,
        "title": _f_title,
        "trim": lambda value: _require_text(value, "trim").strip(_JS_WHITESPACE),
        "truncate": _f_truncate,
        "upper": lambda value: _text_input(value, "upper").upper(),
        "urlencode": _f_urlencode,
        "urlize": do_urlize,
        "wordcount": _f_wordcount,
        # Backstage's own (createDefaultFilters).
        "parseRepoUrl": lambda value: parse_repo_url(value, configured_integrations()),
        "parseEntityRef": parse_entity_ref,
        "pick": pick,
        "projectSlug": _project_slug,
        # What the tree rewrite below inserts.
        "_js_truthy": js_truthy,
        "_js_string": js_string,
        "_js_compare": _js_compare,
        "_js_iter": _js_iter,
        "_js_slice": _js_subscript_slice,
    }
    if cookiecutter:
        table["jsonify"] = _f_dump
    return table


def _strict_test(value: Any, other: Any) -> bool:
    return js_strict_equal(value, other)


_TESTS: Final[Mapping[str, Callable[..., bool]]] = {
    "callable": callable,
    "defined": lambda v: not _is_undefined(v),
    "divisibleby": lambda v, n: _js_remainder(js_number(v), js_number(n)) == 0,
    "escaped": lambda v: isinstance(v, Markup),
    "eq": _strict_test,
    "equalto": _strict_test,
    "sameas": _strict_test,
    "even": lambda v: _js_remainder(js_number(v), 2) == 0,
    "falsy": lambda v: not js_truthy(v),
    "ge": lambda v, o: js_order(v, o) >= 0,
    "greaterthan": lambda v, o: js_order(v, o) > 0,
    "gt": lambda v, o: js_order(v, o) > 0,
    "iterable": lambda v: isinstance(v, str) or _is_array(v),
    "le": lambda v, o: js_order(v, o) <= 0,
    "lessthan": lambda v, o: js_order(v, o) < 0,
    "lt": lambda v, o: js_order(v, o) < 0,
    "lower": lambda v: _require_text(v, "lower").lower() == v,
    "mapping": lambda v: isinstance(v, Mapping),
    "ne": lambda v, o: not js_strict_equal(v, o),
    "null": lambda v: v is None,
    "number": _is_number,
    "odd": lambda v: _js_remainder(js_number(v), 2) == 1,
    "string": lambda v: isinstance(v, str),
    "truthy": js_truthy,
    "undefined": _is_undefined,
    "upper": lambda v: _require_text(v, "upper").upper() == v,
}


# ---------------------------------------------------------------------------------------
# Operators


def _js_add(left: Any, right: Any) -> Any:
    a, b = _to_primitive(left), _to_primitive(right)
    if isinstance(a, str) or isinstance(b, str):
        result = js_string(a) + js_string(b)
        if len(result) > MAX_OUTPUT_CHARS:
            raise ValueError(f"a text longer than {MAX_OUTPUT_CHARS} characters")
        return result
    return _num(float(js_number(a)) + float(js_number(b)))


def _js_remainder(a: float, b: float) -> float:
    if b == 0 or math.isnan(a) or math.isnan(b) or math.isinf(a):
        return math.nan
    if math.isinf(b):
        return a
    return _num(math.fmod(a, b))


def _js_divide(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1, b)
    return _num(a / b)


def _js_power(a: float, b: float) -> float:
    try:
        return _num(float(a) ** float(b))
    except ZeroDivisionError:
        return math.inf
    except OverflowError:
        return math.inf if a > 0 or float(b) % 2 == 0 else -math.inf


def _js_floor_divide(a: float, b: float) -> float:
    quotient = _js_divide(a, b)
    return quotient if math.isnan(quotient) or math.isinf(quotient) else _num(math.floor(quotient))


def _js_arithmetic(operator: str, left: Any, right: Any) -> Any:
    if operator == "+":
        return _js_add(left, right)
    a, b = js_number(left), js_number(right)
    if operator == "-":
        return _num(float(a) - float(b))
    if operator == "*":
        return _num(float(a) * float(b))
    if operator == "/":
        return _js_divide(a, b)
    if operator == "//":
        return _js_floor_divide(a, b)
    if operator == "%":
        return _js_remainder(a, b)
    if operator == "**":
        return _js_power(a, b)
    raise TypeError(f"unknown operator {operator}")


def _js_contains(container: Any, needle: Any) -> bool:
    if isinstance(container, str):
        return js_string(needle) in container
    if _is_array(container):
        return any(js_strict_equal(item, needle) for item in container)
    if isinstance(container, Mapping):
        return _property_key(needle) in container
    raise TypeError("membership needs an array, an object or text")


def _js_compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "eq":
        return js_loose_equal(left, right)
    if operator == "ne":
        return not js_loose_equal(left, right)
    if operator == "stricteq":
        return js_strict_equal(left, right)
    if operator == "strictne":
        return not js_strict_equal(left, right)
    if operator == "in":
        return _js_contains(right, left)
    if operator == "notin":
        return not _js_contains(right, left)
    order = js_order(left, right)
    return {
        "lt": order < 0,
        "lteq": order <= 0,
        "gt": order > 0,
        "gteq": order >= 0,
    }[operator]


def _js_subscript_slice(obj: Any, start: Any, stop: Any, step: Any) -> Any:
    """``obj[start:stop:step]``: arrays and text (as an array of characters, as nunjitsu
    slices it) give an array, anything else undefined."""
    if not (isinstance(obj, str) or _is_array(obj)):
        return _UNDEF
    bounds = [None if _is_nullish(b) else _optional_int(b) for b in (start, stop, step)]
    if bounds[2] == 0:
        raise ValueError("a slice step cannot be zero")
    return list(obj)[bounds[0] : bounds[1] : bounds[2]]


def _js_iter(value: Any, targets: int) -> Iterator[Any]:
    """What ``{% for %}`` walks: arrays and text item by item, an object's entries when
    the loop names a key and a value (one name over an object walks nothing, as in
    nunjitsu), nothing at all for other values."""
    if _is_array(value) or isinstance(value, str):
        items: Iterable[Any] = list(value)
    elif isinstance(value, Mapping):
        items = list(value.items()) if targets > 1 else []
    elif isinstance(value, range | Iterator):
        items = value
    else:
        items = []
    for item in items:
        _charge()
        yield item


# ---------------------------------------------------------------------------------------
# Syntax: nunjitsu's tokens, and a tree rewrite to JavaScript semantics


@dataclass(frozen=True)
class _Mode:
    cookiecutter: bool = False
    trim_blocks: bool = False
    lstrip_blocks: bool = False
    json_output: bool = False


# nunjitsu reads True, False and None as names outside cookiecutter mode; Jinja would
# read them as literals, so the lexer renames them to names no context defines.
_PYTHON_LITERALS: Final[Mapping[str, str]] = {
    name: f"_js_name_{name}" for name in ("True", "False", "None")
}
_LITERAL_NAMES: Final[Mapping[str, str]] = {v: k for k, v in _PYTHON_LITERALS.items()}


# nunjitsu's numbers are decimal digits with an optional fraction: no 1e3, 0x10, 1_000.
_NUNJUCKS_NUMBER: Final = re.compile(r"\d+(?:\.\d*)?\Z")


# Characters Jinja's lexer reads as whitespace but not as a line break, to stand in for
# "\r" while it tokenises (it rewrites every "\r\n" to "\n" first; Nunjucks keeps them).
_CR_STAND_INS: Final = "\x1c\x1d\x1e\x1f"
_LEADING_NEWLINE: Final = re.compile(r"\A\r?\n")


class _NunjucksLexer(Lexer):
    def __init__(self, environment: SandboxedEnvironment, mode: _Mode) -> None:
        super().__init__(environment)
        self._cookiecutter = mode.cookiecutter
        self._trim_blocks = mode.trim_blocks

    def _normalize_newlines(self, value: str) -> str:
        return value

    def tokeniter(
        self,
        source: str,
        name: str | None,
        filename: str | None = None,
        state: str | None = None,
    ) -> Iterator[tuple[int, str, str]]:
        stand_in = next((c for c in _CR_STAND_INS if c not in source), None)
        if stand_in is None or "\r" not in source:
            yield from super().tokeniter(source, name, filename, state)
            return
        protected = source.replace("\r", stand_in)
        for lineno, token, value in super().tokeniter(protected, name, filename, state):
            yield lineno, token, value.replace(stand_in, "\r")

    def wrap(
        self,
        stream: Iterable[tuple[int, str, str]],
        name: str | None = None,
        filename: str | None = None,
    ) -> Iterator[Token]:
        tokens = _strict_equality(stream)
        tokens = self._names_and_numbers(tokens)
        if self._trim_blocks:
            tokens = _trim_after_blocks(tokens)
        return super().wrap(tokens, name, filename)

    def _names_and_numbers(self, stream: Iterable[_RawToken]) -> Iterator[_RawToken]:
        previous = prior = ("", "")
        for lineno, token, value in stream:
            if token == "name":
                value = self._rename(value, previous)
            elif token in {"integer", "float"} and not _NUNJUCKS_NUMBER.match(value):
                raise TemplateSyntaxError(f"invalid numeric literal {value}", lineno)
            elif (token, value) == ("operator", "/") and _regex_start(prior, previous):
                # Nunjucks reads "r/" as the start of a regular expression, where Jinja
                # would divide a variable r: refused rather than misread.
                raise TemplateSyntaxError(
                    "regular-expression literals (r/…/) are not supported by Backlot", lineno
                )
            if token != "whitespace":
                prior, previous = previous, (token, value)
            yield lineno, token, value

    def _rename(self, value: str, previous: tuple[str, str]) -> str:
        if value == "elseif" and previous[0] == "block_begin":
            return "elif"
        if value in _PYTHON_LITERALS and not self._cookiecutter and previous != ("operator", "."):
            # Outside cookiecutter mode these are plain (undefined) names, not literals.
            return _PYTHON_LITERALS[value]
        return value


_RawToken = tuple[int, str, str]


def _regex_start(prior: tuple[str, str], previous: tuple[str, str]) -> bool:
    """Whether a ``/`` follows a bare ``r`` (not an attribute ``x.r``)."""
    return previous == ("name", "r") and prior != ("operator", ".")


def _strict_equality(stream: Iterable[_RawToken]) -> Iterator[_RawToken]:
    """``===`` and ``!==``, which Jinja's lexer reads as ``==``/``!=`` then ``=``."""
    pending: _RawToken | None = None
    for lineno, token, value in stream:
        if pending is not None:
            if (token, value) == ("operator", "="):
                kind = "stricteq" if pending[2] == "==" else "strictne"
                yield lineno, kind, pending[2] + "="
                pending = None
                continue
            yield pending
            pending = None
        if token == "operator" and value in {"==", "!="}:
            pending = (lineno, token, value)
        else:
            yield lineno, token, value
    if pending is not None:
        yield pending


def _trim_after_blocks(stream: Iterable[_RawToken]) -> Iterator[_RawToken]:
    """nunjitsu's trimBlocks: one ``\r?\n`` after a block tag (not after a comment)."""
    trim = False
    for lineno, token, value in stream:
        if trim and token == "data":
            value = _LEADING_NEWLINE.sub("", value)
        trim = token in {"block_end", "raw_begin"}
        yield lineno, token, value


class _NunjucksParser(Parser):
    def parse_compare(self) -> nodes.Expr:
        lineno = self.stream.current.lineno
        expr = self.parse_math1()
        ops = []
        while True:
            token_type = self.stream.current.type
            if token_type in {"eq", "ne", "lt", "lteq", "gt", "gteq", "stricteq", "strictne"}:
                next(self.stream)
                ops.append(nodes.Operand(token_type, self.parse_math1()))
            elif self.stream.skip_if("name:in"):
                ops.append(nodes.Operand("in", self.parse_math1()))
            elif self.stream.current.test("name:not") and self.stream.look().test("name:in"):
                self.stream.skip(2)
                ops.append(nodes.Operand("notin", self.parse_math1()))
            else:
                break
            lineno = self.stream.current.lineno
        if not ops:
            return expr
        return nodes.Compare(expr, ops, lineno=lineno)


def _filter(name: str, node: nodes.Node, *args: nodes.Node) -> nodes.Filter:
    return nodes.Filter(node, name, list(args), [], None, None, lineno=node.lineno)


class _JavaScriptSemantics(NodeTransformer):
    """Rewrites the parsed tree where Nunjucks and Jinja mean different things."""

    def visit_Pair(self, node: nodes.Pair) -> nodes.Node:
        self.generic_visit(node)
        if isinstance(node.key, nodes.Name):
            name = _LITERAL_NAMES.get(node.key.name, node.key.name)
            node.key = nodes.Const(name, lineno=node.key.lineno)
        return node

    def visit_If(self, node: nodes.If) -> nodes.Node:
        self.generic_visit(node)
        node.test = _filter("_js_truthy", node.test)
        return node

    def visit_CondExpr(self, node: nodes.CondExpr) -> nodes.Node:
        self.generic_visit(node)
        node.test = _filter("_js_truthy", node.test)
        if node.expr2 is None:
            node.expr2 = nodes.Const("", lineno=node.lineno)
        return node

    def visit_Not(self, node: nodes.Not) -> nodes.Node:
        self.generic_visit(node)
        node.node = _filter("_js_truthy", node.node)
        return node

    def visit_And(self, node: nodes.And) -> nodes.Node:
        self.generic_visit(node)
        test = _filter("_js_truthy", copy.deepcopy(node.left))
        return nodes.CondExpr(test, node.right, node.left, lineno=node.lineno)

    def visit_Or(self, node: nodes.Or) -> nodes.Node:
        self.generic_visit(node)
        test = _filter("_js_truthy", copy.deepcopy(node.left))
        return nodes.CondExpr(test, node.left, node.right, lineno=node.lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        targets = len(node.target.items) if isinstance(node.target, nodes.Tuple) else 1
        node.iter = _filter("_js_iter", node.iter, nodes.Const(targets))
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        node.nodes = [_filter("_js_string", part) for part in node.nodes]
        return node

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        self.generic_visit(node)
        if not isinstance(node.arg, nodes.Slice):
            return node
        # Jinja compiles a slice to Python's own subscript, past the sandbox's getitem.
        bounds = (node.arg.start, node.arg.stop, node.arg.step)
        args = [bound or nodes.Const(None, lineno=node.lineno) for bound in bounds]
        return _filter("_js_slice", node.node, *args)

    def visit_Compare(self, node: nodes.Compare) -> nodes.Node:
        self.generic_visit(node)
        result: nodes.Expr = node.expr
        # JavaScript chains comparisons left to right: 1 < 2 < 3 is (1 < 2) < 3.
        for operand in node.ops:
            result = _filter("_js_compare", result, nodes.Const(operand.op), operand.expr)
        return result


# ---------------------------------------------------------------------------------------
# The environment


def _print_text(value: Any) -> str:
    if callable(value) and not isinstance(value, Undefined):
        raise TypeError("a function cannot be printed")
    text = js_print(value)
    _charge(output=len(text))
    return text


def _print_json(value: Any) -> str:
    text = js_json(value) or ""
    _charge(output=len(text))
    return text


def _js_range(*args: Any) -> list[int]:
    """``range(…)`` as an array (it prints and dumps like one), within the sandbox's
    bound on its length."""
    return list(safe_range(*(int(js_number(a)) for a in args)))


class _NunjucksEnvironment(SandboxedEnvironment):
    """Jinja's sandbox with Nunjucks' syntax and JavaScript's values."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"-", "+"})

    def __init__(self, mode: _Mode) -> None:
        super().__init__(
            variable_start_string="{{" if mode.cookiecutter else "${{",
            variable_end_string="}}",
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=False,  # done by the lexer, as nunjitsu does it
            lstrip_blocks=mode.lstrip_blocks,
            undefined=_JsUndefined,
            finalize=_print_json if mode.json_output else _print_text,
            cache_size=0,
        )
        self.cookiecutter = mode.cookiecutter
        self.filters = _filters(mode.cookiecutter)
        self.tests = dict(_TESTS)
        self.globals = {"range": _js_range, "cycler": Cycler, "joiner": Joiner}
        self.globals["null"] = None
        self._nunjucks_lexer = _NunjucksLexer(self, mode)

    @property
    def lexer(self) -> Lexer:
        return self._nunjucks_lexer

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = _NunjucksParser(self, source, name, filename).parse()
        result = _JavaScriptSemantics().visit(tree)
        assert isinstance(result, nodes.Template)
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._member(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, slice):
            return _js_subscript_slice(obj, argument.start, argument.stop, argument.step)
        return self._member(obj, argument)

    def _member(self, obj: Any, key: Any) -> Any:
        found = js_member(obj, key, cookiecutter=self.cookiecutter)
        if found is not _NOT_A_VALUE:
            return found
        if isinstance(key, str):
            return super().getattr(obj, key)
        return self.undefined(obj=obj, name=str(key))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return _js_arithmetic(operator, left, right)

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        number = js_number(arg)
        return _num(-float(number)) if operator == "-" else number


@functools.lru_cache(maxsize=32)
def _environment(mode: _Mode) -> _NunjucksEnvironment:
    return _NunjucksEnvironment(mode)


# ---------------------------------------------------------------------------------------
# Rendering


def _template_line(error: BaseException) -> int | None:
    if isinstance(error, TemplateSyntaxError):
        return error.lineno
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line


def _describe(error: BaseException, where: str) -> str:
    line = _template_line(error)
    place = ", ".join(p for p in (where, f"line {line}" if line else "") if p)
    reason = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{place}: {reason}" if place else reason


def _has_tags(source: str, environment: _NunjucksEnvironment) -> bool:
    opening = "{{" if environment.cookiecutter else "${{"
    return opening in source or "{%" in source or "{#" in source


def _render(
    environment: _NunjucksEnvironment, source: str, context: Mapping[str, Any], where: str
) -> str:
    if not _has_tags(source, environment):
        return source  # text without tags renders to itself: no need to compile it
    with _budget():
        try:
            return environment.from_string(source).render(context)
        except Exception as error:
            # The template is untrusted input: whatever it makes fail is its problem.
            raise RenderError(_describe(error, where)) from error


def _prepare(context: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key): _to_template_value(value) for key, value in context.items()}


def render_text(
    text: str,
    context: Mapping[str, Any],
    *,
    cookiecutter: bool = False,
    trim_blocks: bool = False,
    lstrip_blocks: bool = False,
    where: str = "",
) -> str:
    """``text`` rendered as Backstage renders a skeleton file or a file name. Raises
    RenderError naming ``where`` (a file or a step) and the template's line."""
    mode = _Mode(cookiecutter, trim_blocks, lstrip_blocks)
    return _render(_environment(mode), text, _prepare(context), where)


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """A step's ``input`` (or ``if``, ``each``, ``output``) rendered as Backstage's
    workflow runner renders it: every string leaf of dicts and lists goes through the
    template engine. A string that is exactly one expression keeps the expression's
    type; one that renders to nothing becomes ``MISSING`` (and its key is dropped; in a
    list it becomes None, as JSON holds a hole); one that fails to render stays as
    written."""
    return _render_tree(value, _prepare(context))


def _render_tree(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return _render_leaf(value, context)
    if isinstance(value, Mapping):
        rendered = {key: _render_tree(item, context) for key, item in value.items()}
        return {key: item for key, item in rendered.items() if item is not MISSING}
    if isinstance(value, list | tuple):
        return [None if (item := _render_tree(v, context)) is MISSING else item for v in value]
    return value


def _render_leaf(source: str, context: Mapping[str, Any]) -> Any:
    try:
        return _coerce(source, context)
    except RenderError:
        return source


def _coerce(source: str, context: Mapping[str, Any]) -> Any:
    """nunjitsu's ``renderValue(…, {coercion: 'json'})``: when the template is one node
    (one expression, or one ``{% if %}``/``{% for %}``…), expressions print as JSON and
    the output is parsed as JSON; otherwise, or when that is not JSON, it is text."""
    text_mode = _environment(_Mode())
    if _is_single_node(source, text_mode):
        encoded = _render(_environment(_Mode(json_output=True)), source, context, "")
        if encoded == "":
            return MISSING
        with contextlib.suppress(ValueError):
            return _json_parse(encoded)
    text = _render(text_mode, source, context, "")
    return MISSING if text == "" else text


def _is_single_node(source: str, environment: _NunjucksEnvironment) -> bool:
    try:
        body = environment.parse(source).body
    except TemplateError as error:
        raise RenderError(str(error)) from error
    if len(body) != 1:
        return False
    node = body[0]
    if not isinstance(node, nodes.Output):
        return True
    return len(node.nodes) == 1 and not isinstance(node.nodes[0], nodes.TemplateData)
