"""gRPC ``.proto`` files, read by proto-schema-parser: services and their methods
(request, response, streaming), then messages (with their fields, nested messages and
enums) and enums. A comment just above an element is its description."""

from __future__ import annotations

from typing import Any

from antlr4.error.ErrorListener import ErrorListener  # type: ignore[import-untyped]
from proto_schema_parser import ast
from proto_schema_parser.parser import Parser

from ._model import (
    MAX_DEFINITIONS,
    MAX_ITEMS,
    MAX_OPERATIONS,
    ApiReference,
    Definition,
    Field,
    Operation,
    OperationGroup,
    clip,
)
from ._schema import DefinitionError

__all__ = ["proto_reference"]


class _Errors(ErrorListener):  # type: ignore[misc]
    """ANTLR prints syntax errors and recovers; we want the first one, and to stop."""

    def __init__(self) -> None:
        self.first: DefinitionError | None = None

    def syntaxError(
        self, recognizer: Any, offending: Any, line: int, column: int, msg: str, e: Any
    ) -> None:
        if self.first is None:
            self.first = DefinitionError(f"proto syntax error: {clip(msg, 300)}", line, column + 1)


def proto_reference(text: str, reference: ApiReference) -> None:
    errors = _Errors()

    def quiet(recognizer: Any) -> None:
        recognizer.removeErrorListeners()
        recognizer.addErrorListener(errors)

    try:
        file = Parser(setup_lexer=quiet, setup_parser=quiet).parse(text)
    except DefinitionError:
        raise
    except Exception as exc:  # the AST builder on input the grammar only half accepted
        if errors.first is not None:
            raise errors.first from None
        raise DefinitionError(f"proto file not readable: {clip(str(exc), 300)}") from None
    if errors.first is not None:
        raise errors.first
    reference.format_label = f"Protocol Buffers ({file.syntax or file.edition or 'proto2'})"
    reference.groups_title = "Services"
    reference.definitions_title = "Messages and enums"

    package = ""
    definitions: list[tuple[str, Any, str]] = []  # (qualified name, node, description)
    services: list[tuple[ast.Service, str]] = []
    for element, comment in _with_comments(file.file_elements):
        if isinstance(element, ast.Package):
            package = element.name
        elif isinstance(element, ast.Service):
            services.append((element, comment))
        elif isinstance(element, (ast.Message, ast.Enum)):
            _collect(element, "", comment, definitions)
    if package:
        reference.title = clip(package, 200)
    anchors: dict[str, str] = {}
    for i, (name, _, _) in enumerate(definitions[:MAX_DEFINITIONS]):
        anchors.setdefault(name, f"t{i}")
        if package:
            anchors.setdefault(f"{package}.{name}", f"t{i}")

    count = 0
    for service, comment in services:
        group = OperationGroup(clip(service.name, 200), comment)
        for method, note in _with_comments(service.elements):
            if not isinstance(method, ast.Method) or count >= MAX_OPERATIONS:
                continue
            request = _message_type(method.input_type)
            response = _message_type(method.output_type)
            group.operations.append(
                Operation(
                    method="rpc",
                    path=clip(method.name, 200),
                    anchor=f"op{count}",
                    description=note,
                    parameters=[Field("request", request, _href(method.input_type.type, anchors))],
                    returns=Field("", response, _href(method.output_type.type, anchors)),
                )
            )
            count += 1
        reference.groups.append(group)
    reference.operation_count = count
    for name, node, comment in definitions[:MAX_DEFINITIONS]:
        reference.definitions.append(_definition(name, node, comment, anchors))
    if len(definitions) > MAX_DEFINITIONS:
        reference.warnings.append(
            f"only the first {MAX_DEFINITIONS} of {len(definitions)} messages and enums shown"
        )


def _with_comments(elements: Any) -> list[tuple[Any, str]]:
    """Each element with the comment lines right above it."""
    found = []
    pending: list[str] = []
    for element in elements or ():
        if isinstance(element, ast.Comment):
            if not element.inline:
                pending.append(_comment_text(element.text))
            continue
        found.append((element, clip("\n".join(pending))))
        pending = []
    return found


def _comment_text(text: str) -> str:
    text = text.strip()
    if text.startswith("//"):
        return text[2:].strip()
    if text.startswith("/*"):
        lines = [line.strip().lstrip("*").strip() for line in text[2:-2].splitlines()]
        return "\n".join(line for line in lines if line)
    return text


def _collect(node: Any, prefix: str, comment: str, into: list[tuple[str, Any, str]]) -> None:
    if len(into) > MAX_DEFINITIONS:
        return
    name = f"{prefix}{node.name}"
    into.append((name, node, comment))
    if isinstance(node, ast.Message):
        for child, note in _with_comments(node.elements):
            if isinstance(child, (ast.Message, ast.Enum)):
                _collect(child, f"{name}.", note, into)


def _message_type(message: ast.MessageType) -> str:
    return ("stream " if message.stream else "") + clip(message.type, 200)


def _href(type_name: str, anchors: dict[str, str]) -> str:
    return anchors.get(type_name.lstrip("."), "")


def _definition(name: str, node: Any, comment: str, anchors: dict[str, str]) -> Definition:
    if isinstance(node, ast.Enum):
        values = [f"{v.name} = {v.number}" for v in node.elements if isinstance(v, ast.EnumValue)]
        return Definition(
            "enum", clip(name, 300), anchors.get(name, ""), comment, values=values[:MAX_ITEMS]
        )
    definition = Definition("message", clip(name, 300), anchors.get(name, ""), comment)
    scope = name.rsplit(".", 1)[0] + "." if "." in name else ""
    for child, note in _with_comments(node.elements)[:MAX_ITEMS]:
        if isinstance(child, ast.OneOf):
            for item, inner in _with_comments(child.elements):
                if isinstance(item, ast.Field):
                    definition.fields.append(
                        _field(item, inner, anchors, f"{name}.", scope, f"one of {child.name}")
                    )
        elif isinstance(child, ast.MapField):
            definition.fields.append(
                Field(
                    clip(child.name, 200),
                    clip(f"map<{child.key_type}, {child.value_type}>", 300),
                    _resolve(child.value_type, anchors, f"{name}.", scope),
                    number=str(child.number),
                    description=note,
                )
            )
        elif isinstance(child, ast.Field):
            definition.fields.append(_field(child, note, anchors, f"{name}.", scope, ""))
    return definition


def _field(
    field: ast.Field, note: str, anchors: dict[str, str], inner: str, scope: str, extra: str
) -> Field:
    cardinality = field.cardinality.value.lower() if field.cardinality else ""
    kind = f"{cardinality} {field.type}".strip() if cardinality != "required" else field.type
    return Field(
        clip(field.name, 200),
        clip(kind, 300),
        _resolve(field.type, anchors, inner, scope),
        required=cardinality == "required",
        number=str(field.number),
        description="; ".join(t for t in (extra, note) if t),
    )


def _resolve(type_name: str, anchors: dict[str, str], inner: str, scope: str) -> str:
    """The anchor of a field's type, looked up as protobuf scopes names: inside the
    message first, then outward."""
    name = type_name.lstrip(".")
    for candidate in (inner + name, scope + name, name):
        if candidate in anchors:
            return anchors[candidate]
    return ""
