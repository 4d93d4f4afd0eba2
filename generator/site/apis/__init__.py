"""API references: an API entity's definition pre-rendered for its Definition view.

``api_reference(type, definition)`` reads the definition once (OpenAPI 2/3, AsyncAPI 2/3,
GraphQL SDL, gRPC ``.proto``; anything else is shown as its source) and returns the view
model the template ``api_reference.html`` draws. It never raises: a definition that cannot
be read gives a reference with ``error`` set (what is wrong, and where), which the page
shows above the source, and ``problems`` lines for the build's report.

Definitions come from repositories we do not control: sizes are capped before parsing,
every tree and list is capped while drawing (``_model``), and the template autoescapes.
"""

from __future__ import annotations

from ._asyncapi import asyncapi_reference
from ._model import (
    ApiReference,
    Definition,
    Field,
    Media,
    Operation,
    OperationGroup,
    Response,
    SchemaNode,
    Server,
)
from ._openapi import openapi_reference
from ._schema import DefinitionError, load_document

__all__ = [
    "DEFINITION_FILES",
    "ApiReference",
    "Definition",
    "Field",
    "Media",
    "Operation",
    "OperationGroup",
    "Response",
    "SchemaNode",
    "Server",
    "api_reference",
    "definition_file",
]

# Larger definitions are offered as a download and shown as source only.
MAX_PARSE_CHARS = 2_000_000
MAX_PROTO_CHARS = 300_000  # ANTLR's Python runtime reads about 100 kB a second

# Every name a definition's download may have: the file lives beside the view's page
# (``…/<name>/api/definition.<ext>``), so a build that keeps the page keeps it too.
DEFINITION_FILES = (
    "definition.yaml",
    "definition.json",
    "definition.graphql",
    "definition.proto",
    "definition.txt",
)

_LABELS = {"openapi": "OpenAPI", "asyncapi": "AsyncAPI", "graphql": "GraphQL", "grpc": "gRPC"}
_ALIASES = {"swagger": "openapi", "proto": "grpc", "protobuf": "grpc"}


def _format(api_type: str) -> str:
    kind = api_type.strip().lower()
    return _ALIASES.get(kind, kind) if _ALIASES.get(kind, kind) in _LABELS else "text"


def definition_file(api_type: str, definition: str) -> str:
    """The download's file name: by format, and JSON where the document is JSON."""
    kind = _format(api_type)
    if kind in ("openapi", "asyncapi"):
        return "definition.json" if definition.lstrip().startswith("{") else "definition.yaml"
    if kind == "graphql":
        return "definition.graphql"
    if kind == "grpc":
        return "definition.proto"
    return "definition.txt"


def api_reference(api_type: str, definition: str) -> ApiReference:
    """The reference of one definition; never raises."""
    kind = _format(api_type)
    reference = ApiReference(
        format=kind,
        format_label=_LABELS.get(kind, api_type.strip() or "Definition"),
        download_name=definition_file(api_type, definition),
        source=definition,
    )
    if kind == "text" or not definition.strip():
        reference.format = "text"
        return reference
    limit = MAX_PROTO_CHARS if kind == "grpc" else MAX_PARSE_CHARS
    if len(definition) > limit:
        reference.error = (
            f"too large to render ({len(definition):,} characters; the limit is {limit:,}):"
            " download it, or read the source below"
        )
        return reference
    try:
        # graphql-core and the ANTLR runtime take a fifth of a second to import: only a
        # build with such definitions pays for it.
        if kind == "graphql":
            from ._graphql import graphql_reference

            graphql_reference(definition, reference)
        elif kind == "grpc":
            from ._proto import proto_reference

            proto_reference(definition, reference)
        else:
            document = load_document(definition)
            if kind == "openapi":
                openapi_reference(document, reference)
            else:
                asyncapi_reference(document, reference)
    except DefinitionError as exc:
        _failed(reference, exc.text)
    except RecursionError:
        _failed(reference, "nested too deeply to render")
    except Exception as exc:
        _failed(reference, f"could not be rendered ({type(exc).__name__})")
    return reference


def _failed(reference: ApiReference, message: str) -> None:
    reference.error = message
    reference.groups, reference.definitions, reference.servers = [], [], []
