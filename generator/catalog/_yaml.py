"""YAML loading with Backstage's semantics and hard limits.

Backstage parses descriptors with npm ``yaml`` (YAML 1.2 core schema, merge keys off,
unique keys required, at most 100 alias expansions). PyYAML resolves plain scalars by
YAML 1.1 rules and merges ``<<``, so we never use its constructors: libyaml's C parser
emits events and this module builds plain Python values from them with YAML 1.2 core
resolution. Building from events needs no recursion, so depth is checked as we go and a
10,000-deep document cannot crash the process the way PyYAML's recursive composer does.
Aliases share one Python object, so a document that expands one large anchor a hundred
times is small in memory and huge in ``catalog.json``: each document says how large it
is once its aliases are expanded, for the catalog stage to cap.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import BacklotError
from ..model import MAX_NESTING

__all__ = ["YamlDocument", "YamlError", "load_yaml_stream"]

MAX_DEPTH = MAX_NESTING
# npm yaml's default maxAliasCount: beyond it a document is treated as an expansion attack.
MAX_ALIAS_COUNT = 100

_CORE_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_CORE_TRUE = frozenset({"true", "True", "TRUE"})
_CORE_FALSE = frozenset({"false", "False", "FALSE"})
_INT_RE = re.compile(r"[-+]?[0-9]+")
_OCT_RE = re.compile(r"0o[0-7]+")
_HEX_RE = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF_RE = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = frozenset({".nan", ".NaN", ".NAN"})

_TAG_PREFIX = "tag:yaml.org,2002:"


class YamlError(BacklotError):
    """A document (or the whole stream) could not be read; carries a rule id and position."""

    def __init__(self, rule: str, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line
        self.column = column


@dataclass
class YamlDocument:
    """One non-empty document of a stream: its value, or the error that spoiled it."""

    index: int
    line: int
    value: Any = None
    error: YamlError | None = None
    # Whether any mapping key starts with "$": only then can it hold placeholders.
    dollar_keys: bool = False
    # Characters of source text plus what aliases add when expanded.
    size: int = 0
    # Whether a float is NaN or infinite (JSON has neither: written as null).
    non_finite: bool = False


@dataclass
class _Anchor:
    value: Any
    weight: int
    size: int
    uses: int = 0


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    anchor: str | None
    line: int
    column: int
    start: int = 0  # index of the first character, to size anchored collections
    weight: int = 1
    extra: int = 0  # what aliases inside add when expanded
    key: Any = None
    has_key: bool = False
    flow: bool = False  # written [ ] or { }: it must be closed before its document ends


class _BrokenDocument(Exception):
    """libyaml's syntax error inside a document, with the flow collection that was open
    when it came (the likely mistake, when libyaml only names the end of the file)."""

    def __init__(self, error: yaml.MarkedYAMLError, flow: _Frame | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.flow = flow


def resolve_plain_scalar(text: str) -> Any:
    """Resolve an untagged plain scalar by the YAML 1.2 core schema, as npm ``yaml`` does."""
    if text in _CORE_NULL:
        return None
    first = text[0]
    if first in "tTfF":
        if text in _CORE_TRUE:
            return True
        if text in _CORE_FALSE:
            return False
        return text
    if first in "0123456789+-.":
        if _INT_RE.fullmatch(text):
            return _js_integer(text, 10)
        if _OCT_RE.fullmatch(text):
            return _js_integer(text[2:], 8)
        if _HEX_RE.fullmatch(text):
            return _js_integer(text[2:], 16)
        if _FLOAT_RE.fullmatch(text):
            return float(text)
        if _INF_RE.fullmatch(text):
            return -math.inf if first == "-" else math.inf
        if text in _NAN:
            return math.nan
    return text


def _js_integer(digits: str, base: int) -> int | float:
    """An integer as JavaScript's number holds it at the extremes: past 2**1024 it is
    Infinity (stored as null). Python would keep it exact, and then refuse to write an
    integer of more than 4,300 digits back as text."""
    if base == 10 and len(digits.lstrip("+-0")) > 310:
        return -math.inf if digits.startswith("-") else math.inf
    value = int(digits, base)
    if value.bit_length() > 1024:
        return -math.inf if value < 0 else math.inf
    return value


_YAML11_RESOLVER: Any = yaml.resolver.Resolver()  # untyped in the stubs
_YAML11_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_YAML11_KEEP_TEXT = frozenset(
    {
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:timestamp",
        "tag:yaml.org,2002:merge",
        "tag:yaml.org,2002:value",
    }
)


def resolve_plain_scalar_11(text: str) -> Any:
    """YAML 1.1 resolution (PyYAML's resolver implements 1.1), for ``%YAML 1.1`` documents."""
    node = yaml.ScalarNode(_YAML11_RESOLVER.resolve(yaml.ScalarNode, text, (True, False)), text)
    if node.tag in _YAML11_KEEP_TEXT:
        return text
    if node.tag == "tag:yaml.org,2002:int":
        # PyYAML's own conversion has no limit on digits (and Python's int() has one).
        digits = text.replace("_", "")
        if len(digits.lstrip("+-0")) > 310:
            return -math.inf if digits.startswith("-") else math.inf
    value = _YAML11_CONSTRUCTOR.construct_object(node)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1024:
        return -math.inf if value < 0 else math.inf
    return value


def _merge(mapping: dict[str, Any]) -> dict[str, Any]:
    """Apply a YAML 1.1 merge key: explicit keys win, then earlier merged mappings."""
    sources = mapping.pop("<<")
    merged: dict[str, Any] = {}
    for source in sources if isinstance(sources, list) else [sources]:
        if isinstance(source, dict):
            for key, item in source.items():
                merged.setdefault(key, item)
    merged.update(mapping)
    return merged


def _tagged_scalar(tag: str, text: str) -> Any:
    """Scalars with an explicit tag. Unknown tags (``!!python/object``, ``!custom``) are
    only a warning in npm ``yaml`` and leave the text as a string: nothing ever runs."""
    name = tag[len(_TAG_PREFIX) :] if tag.startswith(_TAG_PREFIX) else None
    if name == "str" or name is None:
        return text
    resolved = resolve_plain_scalar(text)
    if name == "null" and resolved is None:
        return None
    if name == "bool" and isinstance(resolved, bool):
        return resolved
    if name == "int" and isinstance(resolved, int) and not isinstance(resolved, bool):
        return resolved
    if name == "float" and isinstance(resolved, int | float) and not isinstance(resolved, bool):
        return float(resolved)
    return text


def js_key(value: Any) -> str:
    """The property name a JavaScript object gets for a YAML key (``1`` → ``"1"``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
    return str(value)


def load_yaml_stream(text: str) -> list[YamlDocument]:
    """Parse every document of ``text``. Empty documents (``~``, comments only) are dropped.

    A syntax error ends the stream (later documents cannot be located reliably); an error
    confined to one document (duplicate key, depth, aliases, non-mapping root is left to
    the caller) spoils only that document.
    """
    was_enabled = gc.isenabled()
    # Millions of small containers and no cycles: the collector would only slow us down.
    gc.disable()
    try:
        return list(_documents(text))
    finally:
        if was_enabled:
            gc.enable()


def _documents(text: str) -> Iterator[YamlDocument]:
    parser = yaml.CSafeLoader(text)
    get_event: Any = parser.get_event
    document_start = yaml.DocumentStartEvent
    stream_end = yaml.StreamEndEvent

    index = 0
    try:
        while True:
            event = get_event()
            cls = event.__class__
            if cls is stream_end:
                return
            if cls is not document_start:
                continue
            yaml_11 = event.version is not None and tuple(event.version) == (1, 1)
            doc = _read_document(get_event, event.start_mark, yaml_11)
            if doc.error is None and doc.value is None:
                continue
            doc.index = index
            index += 1
            yield doc
            if doc.error is not None and doc.error.rule == "yaml/syntax":
                return
    except _BrokenDocument as broken:
        yield _syntax_error_document(broken.error, index, text, broken.flow)
    except yaml.MarkedYAMLError as exc:
        yield _syntax_error_document(exc, index, text)
    except yaml.YAMLError as exc:
        yield YamlDocument(index, 1, error=YamlError("yaml/syntax", str(exc), 1, 1))
    finally:
        parser.dispose()


def _syntax_error_document(
    exc: yaml.MarkedYAMLError, index: int, text: str, flow: _Frame | None = None
) -> YamlDocument:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    if "maximum nesting depth" in problem:
        # libyaml's own guard; the same finding as ours for block nesting.
        line, column = _position(mark)
        message = f"YAML nesting deeper than {MAX_DEPTH} levels"
        return YamlDocument(index, line, error=YamlError("yaml/too-deep", message, line, column))
    opened = _opened(exc, text, flow)
    end = exc.problem_mark
    if opened is not None and end is not None and end.line + 1 > opened[2]:
        # A quote or a flow collection that runs on past its line: libyaml notices where
        # it gave up (often the end of the file), but the mistake is most likely where the
        # construct opens, which is where the finding points.
        name, closer, line, column = opened
        if _at_end(text, end):
            message = f"YAML syntax error: {name} that starts here is never closed"
        else:
            at_line, at_column = _position(end)
            message = (
                f"YAML syntax error in {name} that starts here: {problem} at line {at_line}, "
                f"column {at_column} (is its {closer} missing?)"
            )
        return YamlDocument(index, line, error=YamlError("yaml/syntax", message, line, column))
    line, column = _position(mark)
    context = f" ({exc.context})" if exc.context else ""
    message = f"YAML syntax error: {problem}{context}"
    return YamlDocument(index, line, error=YamlError("yaml/syntax", message, line, column))


def _opened(
    exc: yaml.MarkedYAMLError, text: str, flow: _Frame | None
) -> tuple[str, str, int, int] | None:
    """The construct that was open when libyaml stopped, if it is one that runs on until
    it is closed: its name, its closing mark, and where it starts. libyaml names quoted
    strings and flow collections in its context; when it names only a node at the end
    of the file, the innermost flow collection still open is the one."""
    if exc.context in _OPENED and exc.context_mark is not None:
        name, closer = _OPENED[exc.context]
        line, column = _position(exc.context_mark)
        if exc.context == "while scanning a quoted scalar":
            name, closer = _QUOTES.get(_character(text, line, column), (name, closer))
        return name, closer, line, column
    if flow is not None:
        kind = "sequence" if isinstance(flow.container, list) else "mapping"
        name, closer = _OPENED[f"while parsing a flow {kind}"]
        return name, closer, flow.line, flow.column
    return None


# libyaml's contexts for constructs that run on until they are closed, as the finding
# names them.
_OPENED = {
    "while scanning a quoted scalar": ("the quoted string", "closing quote"),
    "while parsing a flow sequence": ("the [ list", "]"),
    "while parsing a flow mapping": ("the { mapping", "}"),
}


_QUOTES = {
    '"': ("the double-quoted string", 'closing "'),
    "'": ("the single-quoted string", "closing '"),
}


def _at_end(text: str, mark: Any) -> bool:
    """Whether only blank text follows a libyaml mark (its line and column are in
    characters on every build of libyaml; its index is not)."""
    lines = text.splitlines()
    rest = [lines[mark.line][mark.column :]] if mark.line < len(lines) else []
    return not "".join(rest + lines[mark.line + 1 :]).strip()


def _character(text: str, line: int, column: int) -> str:
    """The character at a 1-based position ("" when the position is not in ``text``)."""
    lines = text.splitlines()
    if 0 < line <= len(lines) and 0 < column <= len(lines[line - 1]):
        return lines[line - 1][column - 1]
    return ""


def _position(mark: Any) -> tuple[int, int]:
    """1-based line and column of a libyaml mark (1, 1 without one)."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _read_document(get_event: Any, start: Any, yaml_11: bool = False) -> YamlDocument:
    """Build one document's value from events up to its DocumentEndEvent.

    ``yaml_11``: the document starts with ``%YAML 1.1``, which npm ``yaml`` honours with
    YAML 1.1 scalars (``yes`` is true) and merge keys; so do we.
    """
    resolve_plain = resolve_plain_scalar_11 if yaml_11 else resolve_plain_scalar
    doc = YamlDocument(0, start.line + 1)
    extra = 0
    anchors: dict[str, _Anchor] = {}
    stack: list[_Frame] = []
    root: Any = None
    error: YamlError | None = None
    root_line = 0

    scalar_event = yaml.ScalarEvent
    alias_event = yaml.AliasEvent
    mapping_start = yaml.MappingStartEvent
    sequence_start = yaml.SequenceStartEvent
    mapping_end = yaml.MappingEndEvent
    sequence_end = yaml.SequenceEndEvent
    document_end = yaml.DocumentEndEvent

    while True:
        try:
            event = get_event()
        except yaml.MarkedYAMLError as exc:
            flow = next((frame for frame in reversed(stack) if frame.flow), None)
            raise _BrokenDocument(exc, flow) from None
        cls = event.__class__
        if cls is document_end:
            doc.size = event.end_mark.index - start.index + extra
            break
        if error is not None:
            # Drain the rest of a spoiled document so the next one starts cleanly.
            continue

        if root_line == 0 and hasattr(event, "start_mark"):
            root_line = event.start_mark.line + 1
        weight = 1
        added = 0
        if cls is scalar_event:
            tag = event.tag
            if tag is None:
                # implicit[0]: a plain scalar, which the schema resolves; quoted stays text.
                value: Any = resolve_plain(event.value) if event.implicit[0] else event.value
            elif tag == "!":
                value = event.value
            else:
                value = _tagged_scalar(tag, event.value)
            if value.__class__ is float and not math.isfinite(value):
                doc.non_finite = True
            anchor = event.anchor
            if anchor is not None:
                anchors[anchor] = _Anchor(value, 1, len(event.value))
        elif cls is alias_event:
            target = anchors.get(event.anchor)
            mark = event.start_mark
            if target is None:
                error = YamlError(
                    "yaml/syntax",
                    f"YAML error: alias *{event.anchor} refers to no anchor defined before it",
                    mark.line + 1,
                    mark.column + 1,
                )
                continue
            target.uses += 1
            if target.uses * target.weight > MAX_ALIAS_COUNT:
                error = YamlError(
                    "yaml/alias-limit",
                    f"YAML aliases expand *{event.anchor} more than {MAX_ALIAS_COUNT} times; "
                    "this looks like an expansion attack (Backstage rejects it too)",
                    mark.line + 1,
                    mark.column + 1,
                )
                continue
            value = target.value
            weight = target.uses * target.weight
            added = target.size
        elif cls is mapping_start or cls is sequence_start:
            mark = event.start_mark
            if len(stack) >= MAX_DEPTH:
                error = YamlError(
                    "yaml/too-deep",
                    f"YAML nesting deeper than {MAX_DEPTH} levels",
                    mark.line + 1,
                    mark.column + 1,
                )
                continue
            container: dict[str, Any] | list[Any] = {} if cls is mapping_start else []
            stack.append(
                _Frame(
                    container,
                    event.anchor,
                    mark.line + 1,
                    mark.column + 1,
                    mark.index,
                    flow=event.flow_style is True,
                )
            )
            continue
        elif cls is mapping_end or cls is sequence_end:
            frame = stack.pop()
            value = frame.container
            if yaml_11 and "<<" in value:
                value = _merge(value)
            weight = frame.weight
            added = frame.extra
            if frame.anchor is not None:
                size = event.end_mark.index - frame.start + frame.extra
                anchors[frame.anchor] = _Anchor(value, frame.weight, size)
        else:
            continue

        if not stack:
            root = value
            extra = added
            continue
        parent = stack[-1]
        if weight > parent.weight:
            parent.weight = weight
        if added:
            parent.extra += added
        container = parent.container
        if container.__class__ is list:
            container.append(value)
        elif not parent.has_key:
            if isinstance(value, dict | list):
                mark = event.start_mark
                error = YamlError(
                    "yaml/complex-key",
                    "YAML mapping key is a collection; descriptor keys must be plain strings",
                    mark.line + 1,
                    mark.column + 1,
                )
                continue
            key = js_key(value)
            if key in container:
                mark = event.start_mark
                error = YamlError(
                    "yaml/duplicate-key",
                    f"YAML mapping has the key {js_key(value)!r} twice; keys must be unique",
                    mark.line + 1,
                    mark.column + 1,
                )
                continue
            parent.key = key
            if key[:1] == "$":
                doc.dollar_keys = True
            parent.has_key = True
        else:
            container[parent.key] = value
            parent.has_key = False

    doc.value = root
    doc.error = error
    if root_line:
        doc.line = root_line
    return doc
