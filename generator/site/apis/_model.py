"""The view model of an API reference: plain dataclasses the template walks.

Every string here is untrusted text from a definition; the template autoescapes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiReference",
    "Budget",
    "Definition",
    "Field",
    "Media",
    "Operation",
    "OperationGroup",
    "Response",
    "SchemaNode",
    "Server",
    "clip",
    "mapping",
]

# Caps that keep a huge or hostile definition from blowing up a build of 10,000 pages.
MAX_TEXT = 2_000  # one description, summary or name
MAX_NODES = 3_000  # schema tree nodes in one reference
MAX_DEPTH = 10  # nesting of one schema tree
MAX_OPERATIONS = 500
MAX_DEFINITIONS = 500
MAX_ITEMS = 200  # fields of one type, values of one enum, parameters of one operation


def mapping(value: object) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def clip(value: object, limit: int = MAX_TEXT) -> str:
    """A definition's value as display text: strings as they are (capped), numbers and
    booleans as written, anything else empty."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        return ""
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class Budget:
    """What one reference may still spend; shared by every tree of the document."""

    nodes: int = MAX_NODES
    exhausted: bool = False

    def take(self) -> bool:
        if self.nodes <= 0:
            self.exhausted = True
            return False
        self.nodes -= 1
        return True


@dataclass
class SchemaNode:
    """One schema, or one property of one: ``type`` is the readable type ("string",
    "array of Order", "one of"); ``ref`` the name of the schema it refers to."""

    name: str = ""
    type: str = ""
    ref: str = ""
    ref_href: str = ""  # "#s3": the schema's own entry on the page, where it has one
    required: bool = False
    description: str = ""
    enum: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)  # format, limits, default, example
    children: list[SchemaNode] = field(default_factory=list)
    recursive: bool = False  # a reference back to a schema being shown: not followed
    truncated: bool = False  # more below, left out by the caps


@dataclass
class Field:
    """A parameter, an argument or a field: ``location`` is OpenAPI's ``in``."""

    name: str
    type: str = ""
    type_href: str = ""
    required: bool = False
    location: str = ""
    description: str = ""
    default: str = ""
    deprecated: bool = False
    schema: SchemaNode | None = None
    number: str = ""  # a protobuf field's number


@dataclass
class Media:
    """A body in one media type, or one message: its payload's schema."""

    title: str
    description: str = ""
    schema: SchemaNode | None = None
    facts: list[str] = field(default_factory=list)


@dataclass
class Response:
    code: str
    description: str = ""
    media: list[Media] = field(default_factory=list)


@dataclass
class Operation:
    """One thing a client can do: an HTTP operation, a channel's send or receive, a
    GraphQL root field, an RPC. ``method`` is its verb, ``path`` what it acts on."""

    method: str
    path: str
    anchor: str
    summary: str = ""
    description: str = ""
    operation_id: str = ""
    deprecated: bool = False
    parameters: list[Field] = field(default_factory=list)
    body: list[Media] = field(default_factory=list)
    body_required: bool = False
    body_description: str = ""
    responses: list[Response] = field(default_factory=list)
    messages: list[Media] = field(default_factory=list)
    returns: Field | None = None


@dataclass
class OperationGroup:
    """Operations under one heading: an OpenAPI tag, an AsyncAPI channel, a GraphQL root
    type, a gRPC service."""

    title: str
    description: str = ""
    facts: list[str] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)


@dataclass
class Definition:
    """A named type: a component schema, a GraphQL type, a protobuf message or enum."""

    kind: str
    name: str
    anchor: str
    description: str = ""
    fields: list[Field] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    schema: SchemaNode | None = None
    note: str = ""  # "implements Node", "= A | B"


@dataclass
class Server:
    name: str
    url: str
    protocol: str = ""
    description: str = ""


@dataclass
class ApiReference:
    """What an API's Definition view shows. ``format`` is "openapi", "asyncapi",
    "graphql", "grpc" or "text" (shown as source only); ``error`` says why a definition
    that should have rendered did not (the source is shown instead)."""

    format: str
    format_label: str
    download_name: str
    title: str = ""
    version: str = ""
    description: str = ""
    servers: list[Server] = field(default_factory=list)
    groups: list[OperationGroup] = field(default_factory=list)
    groups_title: str = "Operations"
    definitions: list[Definition] = field(default_factory=list)
    definitions_title: str = "Schemas"
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    operation_count: int = 0
    source: str = field(default="", repr=False)  # the definition whole: the download

    @property
    def rendered(self) -> bool:
        return self.format != "text" and not self.error

    @property
    def problems(self) -> list[str]:
        """Lines for the build's report (and the Problems page)."""
        lines = [f"API definition: {self.error}"] if self.error else []
        return lines + [f"API definition: {w}" for w in self.warnings]
