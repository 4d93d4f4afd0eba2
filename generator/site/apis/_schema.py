"""YAML/JSON documents and their JSON Schemas as readable trees, for OpenAPI and AsyncAPI.

Only local references (``#/…``) are followed, each through a JSON pointer; a reference
back to a schema being shown is drawn as a reference, not followed. A shared budget caps
the nodes of every tree of one document, so a schema that fans out (or a YAML alias
bomb) costs a bounded amount of work.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import yaml

from ._model import MAX_DEPTH, MAX_ITEMS, Budget, SchemaNode, clip

__all__ = ["DefinitionError", "Document", "load_document"]

_TYPE_FACTS = (
    "format",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "multipleOf",
    "default",
    "example",
    "const",
)
_FLAGS = ("nullable", "readOnly", "writeOnly", "deprecated", "uniqueItems")


class DefinitionError(Exception):
    """A definition that cannot be read: ``message`` says what, ``line``/``column`` where."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        super().__init__(self.text)

    @property
    def text(self) -> str:
        if self.line is None:
            return self.message
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{self.message} ({where} of the definition)"


def load_document(text: str) -> Any:
    """A YAML or JSON document (JSON is YAML, but JSON's own errors say more)."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DefinitionError(f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
        except RecursionError:
            raise DefinitionError("not readable JSON: nested too deeply") from None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        if mark is None:
            raise DefinitionError(f"not valid YAML: {problem}") from None
        raise DefinitionError(
            f"not valid YAML: {problem}", mark.line + 1, mark.column + 1
        ) from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"not valid YAML: {clip(str(exc), 300)}") from None
    except RecursionError:
        raise DefinitionError("not readable YAML: nested too deeply") from None


class Document:
    """One parsed document: its ``#/…`` references, and schema trees drawn from it."""

    def __init__(self, root: Any, anchors: dict[str, str] | None = None) -> None:
        self.root = root
        self.budget = Budget()
        # "#/components/schemas/Order" -> "#s3": where a named schema has its own entry.
        self.anchors = anchors or {}
        self.unresolved: list[str] = []

    def pointer(self, ref: str) -> Any:
        """The value a local reference names, or None."""
        if not ref.startswith("#"):
            return None
        node = self.root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node

    def deref(self, value: Any) -> Any:
        """``value`` with its reference followed (a few hops at most), or as it is."""
        for _ in range(8):
            if not (isinstance(value, dict) and isinstance(value.get("$ref"), str)):
                return value
            target = self.pointer(value["$ref"])
            if target is None:
                self._unresolved(value["$ref"])
                return {}
            value = target
        return {}

    def _unresolved(self, ref: str) -> None:
        if ref.startswith("#") and ref not in self.unresolved and len(self.unresolved) < 20:
            self.unresolved.append(ref)

    def tree(self, schema: Any, name: str = "", required: bool = False) -> SchemaNode:
        return self._node(schema, name, required, (), 0)

    def _node(
        self, schema: Any, name: str, required: bool, stack: tuple[str, ...], depth: int
    ) -> SchemaNode:
        node = SchemaNode(name=clip(name, 200), required=required)
        if not self.budget.take():
            node.truncated = True
            return node
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if isinstance(ref, str):
            node.ref = _ref_name(ref)
            node.ref_href = self.anchors.get(ref, "")
            if not ref.startswith("#"):
                node.type = "external reference"
                node.facts.append(clip(ref, 300))
                return node
            target = self.pointer(ref)
            if target is None:
                self._unresolved(ref)
                node.type = "unresolved reference"
                node.facts.append(clip(ref, 300))
                return node
            if ref in stack:
                node.recursive = True
                return node
            stack = (*stack, ref)
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **extra} if isinstance(target, dict) and extra else target
        if not isinstance(schema, dict):
            node.type = "any" if schema is True or schema == {} else ""
            return node
        node.type = _type_name(schema)
        node.description = clip(schema.get("description") or schema.get("title") or "")
        enum = schema.get("enum")
        if isinstance(enum, list):
            node.enum = [_literal(v) for v in enum[:MAX_ITEMS]]
        for key in _TYPE_FACTS:
            if key in schema and not isinstance(schema[key], (dict, list)):
                node.facts.append(f"{key}: {_literal(schema[key])}")
        node.facts += [flag for flag in _FLAGS if schema.get(flag) is True]
        if depth >= MAX_DEPTH:
            node.truncated = _has_children(schema)
            return node
        children = node.children
        properties = schema.get("properties")
        if isinstance(properties, dict):
            needed = schema.get("required")
            needed = set(needed) if isinstance(needed, list) else set()
            for i, (key, value) in enumerate(properties.items()):
                if i >= MAX_ITEMS:
                    node.truncated = True
                    break
                children.append(self._node(value, str(key), key in needed, stack, depth + 1))
        extra_props = schema.get("additionalProperties")
        if isinstance(extra_props, dict):
            children.append(self._node(extra_props, "[any key]", False, stack, depth + 1))
        for word, label in (("allOf", "all of"), ("oneOf", "one of"), ("anyOf", "any of")):
            options = schema.get(word)
            if isinstance(options, list) and options:
                group = SchemaNode(type=label)
                group.children = [
                    self._node(option, "", False, stack, depth + 1)
                    for option in options[:MAX_ITEMS]
                ]
                children.append(group)
        if isinstance(schema.get("not"), dict):
            children.append(self._node(schema["not"], "not", False, stack, depth + 1))
        items = schema.get("items")
        if isinstance(items, dict):
            item = self._node(items, "", False, stack, depth + 1)
            # "array of Order" with Order's properties right under it.
            node.type = f"array of {item.ref or item.type or 'any'}"
            node.ref_href = node.ref_href or item.ref_href
            node.recursive = node.recursive or item.recursive
            node.enum = node.enum or item.enum
            node.facts += [f"items {fact}" for fact in item.facts]
            node.truncated = node.truncated or item.truncated
            children += item.children
        return node


def _has_children(schema: dict[str, Any]) -> bool:
    return any(k in schema for k in ("properties", "items", "allOf", "oneOf", "anyOf"))


def _type_name(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(clip(k, 40) for k in kind[:10])
    if isinstance(kind, str):
        return clip(kind, 40)
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return ""


def _ref_name(ref: str) -> str:
    tail = ref.rstrip("/").rsplit("/", 1)[-1]
    return clip(unquote(tail).replace("~1", "/").replace("~0", "~") or ref, 200)


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return clip(value, 200)
    if isinstance(value, (bool, int, float)):
        return clip(value, 200)
    return _compact(value, 200)


def _compact(value: Any, limit: int) -> str:
    """A short JSON-like rendering of a list or mapping, written only as far as ``limit``
    characters: a YAML alias bomb would be billions of items if serialised whole."""
    out: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size < limit:
        item = stack.pop()
        if isinstance(item, _Token):
            text = item.text
        elif isinstance(item, dict):
            parts: list[Any] = [_Token("{")]
            for i, (k, v) in enumerate(item.items()):
                if i >= 20:
                    parts.append(_Token(", …"))
                    break
                parts += [_Token(", " if i else ""), _Token(f"{clip(str(k), 40)}: "), v]
            stack += reversed([*parts, _Token("}")])
            continue
        elif isinstance(item, list):
            parts = [_Token("[")]
            for i, v in enumerate(item[:20]):
                parts += [_Token(", " if i else ""), v]
            if len(item) > 20:
                parts.append(_Token(", …"))
            stack += reversed([*parts, _Token("]")])
            continue
        else:
            text = "null" if item is None else clip(item, 40) or "…"
        out.append(text)
        size += len(text)
    text = "".join(out)
    return text if not stack and len(text) <= limit else text[:limit] + "…"


class _Token:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text
