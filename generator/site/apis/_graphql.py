"""GraphQL SDL, read by graphql-core: the root operations (queries, mutations,
subscriptions) with their arguments and return types, then every type.

The reference is drawn from the parsed document, so a schema that is not complete on its
own (a federated subgraph's directives, types from elsewhere) still renders; what
``build_ast_schema`` finds wrong with it is a warning."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, build_ast_schema, parse
from graphql.language import ast

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

__all__ = ["graphql_reference"]

MAX_TOKENS = 200_000

_ROOTS = (
    ("query", "Query", "Queries"),
    ("mutation", "Mutation", "Mutations"),
    ("subscription", "Subscription", "Subscriptions"),
)

_KINDS: dict[type, str] = {
    ast.ObjectTypeDefinitionNode: "type",
    ast.ObjectTypeExtensionNode: "extend type",
    ast.InterfaceTypeDefinitionNode: "interface",
    ast.InterfaceTypeExtensionNode: "extend interface",
    ast.InputObjectTypeDefinitionNode: "input",
    ast.InputObjectTypeExtensionNode: "extend input",
    ast.EnumTypeDefinitionNode: "enum",
    ast.EnumTypeExtensionNode: "extend enum",
    ast.UnionTypeDefinitionNode: "union",
    ast.UnionTypeExtensionNode: "extend union",
    ast.ScalarTypeDefinitionNode: "scalar",
    ast.ScalarTypeExtensionNode: "extend scalar",
    ast.DirectiveDefinitionNode: "directive",
}


def graphql_reference(text: str, reference: ApiReference) -> None:
    try:
        document = parse(text, no_location=False, max_tokens=MAX_TOKENS)
    except GraphQLSyntaxError as exc:
        where = exc.locations[0] if exc.locations else None
        raise DefinitionError(
            f"GraphQL syntax error: {clip(exc.message, 300)}",
            where.line if where else None,
            where.column if where else None,
        ) from None
    except GraphQLError as exc:
        raise DefinitionError(f"not GraphQL SDL: {clip(exc.message, 300)}") from None
    try:
        build_ast_schema(document)
    except (GraphQLError, TypeError) as exc:
        reference.warnings.append(f"not a complete GraphQL schema: {clip(str(exc), 300)}")
    reference.format_label = "GraphQL SDL"
    reference.groups_title = "Operations"
    reference.definitions_title = "Types"

    roots = {operation: name for operation, name, _ in _ROOTS}
    for node in document.definitions:
        if isinstance(node, (ast.SchemaDefinitionNode, ast.SchemaExtensionNode)):
            if isinstance(node, ast.SchemaDefinitionNode) and node.description:
                reference.description = clip(node.description.value, 10_000)
            for op in node.operation_types or ():
                roots[op.operation.value] = op.type.name.value
    named: list[Any] = [
        node
        for node in document.definitions
        if type(node) in _KINDS and not isinstance(node, ast.DirectiveDefinitionNode)
    ]
    anchors: dict[str, str] = {}
    for i, node in enumerate(named[:MAX_DEFINITIONS]):
        anchors.setdefault(node.name.value, f"t{i}")

    count = 0
    root_names = set(roots.values())
    for operation, _, title in _ROOTS:
        group = OperationGroup(title)
        for node in named:
            if node.name.value != roots[operation] or not isinstance(
                node, (ast.ObjectTypeDefinitionNode, ast.ObjectTypeExtensionNode)
            ):
                continue
            for field in (node.fields or ())[:MAX_ITEMS]:
                if count >= MAX_OPERATIONS:
                    break
                returns = _type(field.type)
                group.operations.append(
                    Operation(
                        method=operation,
                        path=field.name.value,
                        anchor=f"op{count}",
                        description=_description(field),
                        deprecated=_deprecated(field),
                        parameters=[
                            _argument(arg, anchors) for arg in (field.arguments or ())[:MAX_ITEMS]
                        ],
                        returns=Field("", returns, anchors.get(_base(field.type), "")),
                    )
                )
                count += 1
        if group.operations:
            reference.groups.append(group)
    reference.operation_count = count
    for node in named[:MAX_DEFINITIONS]:
        if node.name.value in root_names:
            continue
        reference.definitions.append(_definition(node, anchors))
    if len(named) > MAX_DEFINITIONS:
        reference.warnings.append(f"only the first {MAX_DEFINITIONS} of {len(named)} types shown")


def _definition(node: Any, anchors: dict[str, str]) -> Definition:
    name = node.name.value
    definition = Definition(
        _KINDS[type(node)], clip(name, 200), anchors.get(name, ""), _description(node)
    )
    interfaces = [i.name.value for i in getattr(node, "interfaces", None) or ()]
    if interfaces:
        definition.note = "implements " + " & ".join(interfaces[:20])
    if isinstance(node, (ast.UnionTypeDefinitionNode, ast.UnionTypeExtensionNode)):
        definition.note = "= " + " | ".join(t.name.value for t in (node.types or ())[:MAX_ITEMS])
    if isinstance(node, (ast.EnumTypeDefinitionNode, ast.EnumTypeExtensionNode)):
        definition.values = [v.name.value for v in (node.values or ())[:MAX_ITEMS]]
    for field in (getattr(node, "fields", None) or ())[:MAX_ITEMS]:
        if isinstance(field, ast.InputValueDefinitionNode):
            definition.fields.append(_argument(field, anchors))
            continue
        args = ", ".join(
            f"{a.name.value}: {_type(a.type)}" for a in (field.arguments or ())[:MAX_ITEMS]
        )
        definition.fields.append(
            Field(
                clip(field.name.value + (f"({args})" if args else ""), 500),
                _type(field.type),
                anchors.get(_base(field.type), ""),
                description=_description(field),
                deprecated=_deprecated(field),
            )
        )
    return definition


def _argument(arg: ast.InputValueDefinitionNode, anchors: dict[str, str]) -> Field:
    default = ""
    if arg.default_value is not None and arg.default_value.loc is not None:
        loc = arg.default_value.loc
        default = clip(loc.source.body[loc.start : loc.end], 200)
    return Field(
        clip(arg.name.value, 200),
        _type(arg.type),
        anchors.get(_base(arg.type), ""),
        required=isinstance(arg.type, ast.NonNullTypeNode) and arg.default_value is None,
        description=_description(arg),
        default=default,
        deprecated=_deprecated(arg),
    )


def _type(node: Any) -> str:
    if isinstance(node, ast.NonNullTypeNode):
        return _type(node.type) + "!"
    if isinstance(node, ast.ListTypeNode):
        return f"[{_type(node.type)}]"
    return clip(node.name.value, 200) if isinstance(node, ast.NamedTypeNode) else ""


def _base(node: Any) -> str:
    while isinstance(node, (ast.NonNullTypeNode, ast.ListTypeNode)):
        node = node.type
    return node.name.value if isinstance(node, ast.NamedTypeNode) else ""


def _description(node: Any) -> str:
    description = getattr(node, "description", None)
    return clip(description.value) if description is not None else ""


def _deprecated(node: Any) -> bool:
    return any(d.name.value == "deprecated" for d in getattr(node, "directives", None) or ())
