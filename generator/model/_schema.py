"""A small schema language for descriptor fields: one declaration validates and exports.

Each kind's fields are declared once with these nodes; the same declaration checks a
document (reporting every problem with its path, not only the first as Backstage does)
and produces the JSON Schema that ``backlot schema`` gives to editors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["Arr", "FieldPath", "Node", "Obj", "OneOf", "Problem", "Str", "StrOrBool", "describe"]

FieldPath = tuple[str | int, ...]


class Problem(NamedTuple):
    """Something wrong at ``path`` in a document; ``rule`` is a stable id."""

    path: FieldPath
    rule: str
    message: str


def dotted(path: FieldPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "the document"


def describe(value: Any) -> str:
    """How a value reads in an error message: its type, and a short sample."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        sample = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({sample!r})" if value else "an empty string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Node:
    """A schema node: checks a value and writes its JSON Schema."""

    hint: str = ""
    expected: str = "a value"

    def check(self, value: Any, path: FieldPath, out: list[Problem]) -> None:
        raise NotImplementedError

    def matches(self, value: Any) -> bool:
        problems: list[Problem] = []
        self.check(value, (), problems)
        return not problems

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def _wrong_type(self, value: Any, path: FieldPath, out: list[Problem]) -> None:
        out.append(
            Problem(
                path, "wrong-type", f"{dotted(path)} must be {self.expected}, not {describe(value)}"
            )
        )

    def _with_hint(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.hint:
            schema["description"] = self.hint
        return schema


@dataclass
class Str(Node):
    """A string; by default non-empty, like most Backstage fields (``minLength: 1``)."""

    hint: str = ""
    min_length: int = 1
    enum: tuple[str, ...] = ()
    expected: str = "a string"

    def check(self, value: Any, path: FieldPath, out: list[Problem]) -> None:
        if not isinstance(value, str):
            self._wrong_type(value, path, out)
        elif len(value) < self.min_length:
            out.append(Problem(path, "empty-string", f"{dotted(path)} must not be empty"))
        elif self.enum and value not in self.enum:
            allowed = ", ".join(self.enum)
            out.append(
                Problem(
                    path, "not-allowed", f"{dotted(path)} must be one of {allowed}, not {value!r}"
                )
            )

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.enum:
            schema["enum"] = list(self.enum)
        return self._with_hint(schema)


@dataclass
class StrOrBool(Node):
    hint: str = ""
    expected: str = "a string or a boolean"

    def check(self, value: Any, path: FieldPath, out: list[Problem]) -> None:
        if not isinstance(value, str | bool):
            self._wrong_type(value, path, out)

    def json_schema(self) -> dict[str, Any]:
        return self._with_hint({"type": ["string", "boolean"]})


@dataclass
class Arr(Node):
    items: Node
    hint: str = ""

    @property
    def expected(self) -> str:  # type: ignore[override]
        inner = self.items.expected
        return "a list" if inner == "an object" else f"a list of {inner.split(' ', 1)[-1]}s"

    def check(self, value: Any, path: FieldPath, out: list[Problem]) -> None:
        if not isinstance(value, list):
            self._wrong_type(value, path, out)
            return
        for i, item in enumerate(value):
            self.items.check(item, (*path, i), out)

    def json_schema(self) -> dict[str, Any]:
        return self._with_hint({"type": "array", "items": self.items.json_schema()})


@dataclass
class Obj(Node):
    """A mapping with declared properties; others allowed unless ``additional`` says not.

    ``additional`` is a node that every undeclared property's value must match (Backstage
    uses this for Template ``output`` values and label/annotation values).
    """

    props: dict[str, Node] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    additional: Node | None = None
    hint: str = ""
    kind_label: str = ""
    expected: str = "an object"

    def check(self, value: Any, path: FieldPath, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            self._wrong_type(value, path, out)
            return
        for name in self.required:
            if name not in value:
                node = self.props.get(name)
                hint = f" ({node.hint})" if node is not None and node.hint else ""
                whose = f"; a {self.kind_label} needs it" if self.kind_label else ""
                out.append(
                    Problem(
                        (*path, name),
                        "missing-field",
                        f"{dotted((*path, name))} is missing{whose}{hint}",
                    )
                )
        for name, item in value.items():
            node = self.props.get(name)
            if node is not None:
                node.check(item, (*path, name), out)
            elif self.additional is not None:
                self.additional.check(item, (*path, name), out)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object"}
        if self.props:
            schema["properties"] = {k: v.json_schema() for k, v in self.props.items()}
        if self.required:
            schema["required"] = list(self.required)
        if self.additional is not None:
            schema["additionalProperties"] = self.additional.json_schema()
        return self._with_hint(schema)


@dataclass
class OneOf(Node):
    """Exactly one of ``options`` must match (JSON Schema ``oneOf``)."""

    options: tuple[Node, ...] = ()
    hint: str = ""

    @property
    def expected(self) -> str:  # type: ignore[override]
        return " or ".join(o.expected for o in self.options)

    def check(self, value: Any, path: FieldPath, out: list[Problem]) -> None:
        matching = [o for o in self.options if o.matches(value)]
        if len(matching) == 1:
            return
        if not matching:
            # Report the problems of the option of the right shape, if one has it.
            for option in self.options:
                problems: list[Problem] = []
                option.check(value, path, problems)
                if all(p.rule != "wrong-type" or p.path != path for p in problems):
                    out.extend(problems)
                    return
            self._wrong_type(value, path, out)
        else:
            out.append(Problem(path, "ambiguous", f"{dotted(path)} matches more than one form"))

    def json_schema(self) -> dict[str, Any]:
        return self._with_hint({"oneOf": [o.json_schema() for o in self.options]})
