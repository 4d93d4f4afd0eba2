"""Line and column of a field, found only when a document has something to report.

Loading keeps no marks (that would slow the common, error-free case); a file with
problems is walked once more, event by event, to place each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from ..model import FieldPath
from ._yaml import js_key, resolve_plain_scalar

__all__ = ["locate"]

Position = tuple[int, int]


def locate(
    text: str, wanted: Iterable[tuple[int, FieldPath]]
) -> dict[tuple[int, FieldPath], Position]:
    """Positions of ``(document index, path)`` pairs; a missing path gets its parent's.

    A mapping value is placed at its key, which is where a reader looks for it.
    """
    requests: dict[int, set[FieldPath]] = {}
    for doc, path in wanted:
        requests.setdefault(doc, set()).add(path)
    marks = _marks(text, requests)
    found: dict[tuple[int, FieldPath], Position] = {}
    for doc, paths in requests.items():
        doc_marks = marks.get(doc, {})
        for path in paths:
            probe = path
            while probe and probe not in doc_marks:
                probe = probe[:-1]
            found[(doc, path)] = doc_marks.get(probe, (1, 1))
    return found


def _marks(text: str, requests: dict[int, set[FieldPath]]) -> dict[int, dict[FieldPath, Position]]:
    prefixes = {
        doc: {p[:i] for p in paths for i in range(len(p) + 1)} for doc, paths in requests.items()
    }
    out: dict[int, dict[FieldPath, Position]] = {}
    parser = yaml.CSafeLoader(text)
    index = -1
    try:
        while True:
            event = parser.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                first = parser.peek_event()
                empty = (
                    isinstance(first, yaml.ScalarEvent)
                    and first.tag is None
                    and first.implicit[0]
                    and resolve_plain_scalar(first.value) is None
                )
                if not empty:
                    index += 1
                if not empty and index in requests:
                    out[index] = _walk_document(parser, prefixes[index])
    except yaml.YAMLError:
        pass
    finally:
        parser.dispose()
    return out


@dataclass
class _Frame:
    path: FieldPath
    mapping: bool
    index: int = 0
    key: str | None = None
    key_position: Position = (1, 1)


def _walk_document(parser: yaml.CSafeLoader, prefixes: set[FieldPath]) -> dict[FieldPath, Position]:
    marks: dict[FieldPath, Position] = {}
    stack: list[_Frame] = []
    while True:
        event = parser.get_event()
        if isinstance(event, yaml.DocumentEndEvent):
            return marks
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        mark = event.start_mark
        position = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        path: FieldPath = ()
        if stack:
            frame = stack[-1]
            if frame.mapping and frame.key is None:
                frame.key, frame.key_position = _key_text(event), position
                if isinstance(event, yaml.CollectionStartEvent):
                    is_map = isinstance(event, yaml.MappingStartEvent)
                    stack.append(_Frame((*frame.path, "?"), is_map))
                continue
            if frame.mapping:
                path = (*frame.path, frame.key or "")
                position = frame.key_position
                frame.key = None
            else:
                path = (*frame.path, frame.index)
                frame.index += 1
        if path in prefixes:
            marks[path] = position
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append(_Frame(path, isinstance(event, yaml.MappingStartEvent)))


def _key_text(event: yaml.Event) -> str:
    if not isinstance(event, yaml.ScalarEvent):
        return "?"
    if event.tag is None and event.implicit[0]:
        return js_key(resolve_plain_scalar(event.value))
    return str(event.value)
