"""``$text``, ``$json`` and ``$yaml`` substitution, as Backstage's PlaceholderProcessor does.

A placeholder is a mapping with exactly one key, ``$`` and a known resolver's name; other
``$`` keys (a JSON Schema ``$ref`` in a Template, say) are left alone, as the catalog
backend leaves them. Paths are relative to the descriptor and must stay inside its
repository: unlike a server fetching URLs, we read files, so ``../../etc/passwd`` is refused.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from ..errors import BacklotError
from ..model import MAX_NESTING, FieldPath, json_safe, nesting_depth
from ..sources import Repository, RepositoryError
from ._yaml import load_yaml_stream

__all__ = ["PlaceholderError", "resolve_placeholders"]

RESOLVERS = ("text", "json", "yaml")


class PlaceholderError(BacklotError):
    def __init__(self, path: FieldPath, rule: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.rule = rule
        self.message = message


def resolve_placeholders(
    value: Any, repository: Repository, descriptor: str, max_bytes: int, budget: int
) -> tuple[Any, int]:
    """``value`` with every placeholder replaced, and how many characters the files read
    added; raises PlaceholderError on the first bad one, and once more than ``budget``
    characters were added (200 ``$text`` of one large file would make a huge entity).

    Returns the same object when there is nothing to replace, so the common case copies
    nothing.
    """
    base = posixpath.dirname(descriptor)
    added = 0

    def walk(node: Any, path: FieldPath) -> tuple[Any, bool]:
        if isinstance(node, list):
            items = [walk(item, (*path, i)) for i, item in enumerate(node)]
            if not any(changed for _, changed in items):
                return node, False
            return [item for item, _ in items], True
        if not isinstance(node, dict):
            return node, False
        dollar = [k for k in node if k.startswith("$")]
        if not dollar:
            entries = {k: walk(v, (*path, k)) for k, v in node.items()}
            if not any(changed for _, changed in entries.values()):
                return node, False
            return {k: v for k, (v, _) in entries.items()}, True
        resolver = dollar[0][1:]
        if len(node) != 1 or resolver not in RESOLVERS:
            return node, False
        return _resolve(resolver, node[dollar[0]], path), True

    def _resolve(resolver: str, target: Any, path: FieldPath) -> Any:
        nonlocal added
        result, size = _read(resolver, target, path)
        added += size
        if added > budget:
            raise PlaceholderError(
                path,
                "entity/too-large",
                f"${resolver}: the files this document includes add {added / 1e6:.1f} MB, "
                f"over the {budget / 1e6:.1f} MB an entity may hold "
                "(catalog.max_document_bytes in backlot.yaml)",
            )
        if isinstance(result, dict | list) and len(path) + nesting_depth(result) > MAX_NESTING:
            raise PlaceholderError(
                path,
                "yaml/too-deep",
                f"${resolver}: {target} nests the entity deeper than {MAX_NESTING} levels",
            )
        return json_safe(result)

    def _read(resolver: str, target: Any, path: FieldPath) -> tuple[Any, int]:
        if not isinstance(target, str):
            raise PlaceholderError(
                path, "placeholder/form", f"${resolver} needs a path or URL string"
            )
        if "://" in target:
            raise PlaceholderError(
                path,
                "placeholder/remote",
                f"${resolver}: {target} is a URL; descriptors from this source may only "
                "include files of their own repository",
            )
        relpath = posixpath.normpath(posixpath.join(base, target))
        try:
            data = repository.read_bytes(relpath, max_bytes)
        except RepositoryError as exc:
            raise PlaceholderError(path, "placeholder/read", f"${resolver}: {exc}") from None
        text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
        if resolver == "text":
            return text, len(text)
        if resolver == "json":
            return _json(text, target, path), len(text)
        documents = load_yaml_stream(text)
        if len(documents) != 1:
            raise PlaceholderError(
                path,
                "placeholder/parse",
                f"$yaml: {target} must hold exactly one YAML document, not {len(documents)}",
            )
        document = documents[0]
        if document.error is not None:
            raise PlaceholderError(
                path,
                "placeholder/parse",
                f"$yaml: {target} line {document.error.line}: {document.error.message}",
            )
        return document.value, document.size

    resolved, _ = walk(value, ())
    return resolved, added


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _json(text: str, target: str, path: FieldPath) -> Any:
    """JSON as ``JSON.parse`` reads it: no ``NaN``/``Infinity`` literals. (A lone surrogate
    escape, which JavaScript keeps, is made U+FFFD by the caller, with ``json_safe``.)"""
    try:
        value = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise PlaceholderError(
            path, "yaml/too-deep", f"$json: {target} is nested deeper than {MAX_NESTING} levels"
        ) from None
    except ValueError as exc:
        raise PlaceholderError(
            path, "placeholder/parse", f"$json: {target} is not valid JSON: {exc}"
        ) from None
    return value
