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

from ..model import Path
from ..sources import Repository, RepositoryError
from ._yaml import load_yaml_stream

__all__ = ["PlaceholderError", "resolve_placeholders"]

RESOLVERS = ("text", "json", "yaml")


class PlaceholderError(Exception):
    def __init__(self, path: Path, rule: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.rule = rule
        self.message = message


def resolve_placeholders(
    value: Any, repository: Repository, descriptor: str, max_bytes: int
) -> Any:
    """``value`` with every placeholder replaced; raises PlaceholderError on the first bad one.

    Returns the same object when there is nothing to replace, so the common case copies
    nothing.
    """
    base = posixpath.dirname(descriptor)

    def walk(node: Any, path: Path) -> tuple[Any, bool]:
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

    def _resolve(resolver: str, target: Any, path: Path) -> Any:
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
            return text
        if resolver == "json":
            try:
                return json.loads(text)
            except ValueError as exc:
                raise PlaceholderError(
                    path, "placeholder/parse", f"$json: {target} is not valid JSON: {exc}"
                ) from None
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
        return document.value

    resolved, _ = walk(value, ())
    return resolved
