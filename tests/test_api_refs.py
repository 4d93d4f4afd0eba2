"""API references (generator/site/apis): definitions read into the Definition view's model,
references resolved without looping, and broken or hostile definitions contained."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from generator.csp import content_security_policy
from generator.site._context import environment
from generator.site.apis import ApiReference, SchemaNode, api_reference, definition_file

from .conftest import GROUP_A, run_backlot, write_tree


def render(reference: ApiReference, definition: str, api_type: str = "openapi") -> str:
    env = environment(content_security_policy(()))
    view = SimpleNamespace(api_reference=reference, definition=definition, type=api_type)
    return env.get_template("api_reference.html").render(e=view)


def walk(node: SchemaNode) -> list[SchemaNode]:
    return [node, *(n for child in node.children for n in walk(child))]


def child(node: SchemaNode, name: str) -> SchemaNode:
    return next(c for c in node.children if c.name == name)


CYCLIC = {
    "openapi": "3.1.0",
    "info": {"title": "Tree", "version": "1"},
    "paths": {
        "/nodes/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {
                "tags": ["nodes"],
                "summary": "One node",
                "responses": {
                    "200": {
                        "description": "The node",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                        },
                    },
                    "404": {"$ref": "#/components/responses/Missing"},
                },
            },
        }
    },
    "components": {
        "parameters": {
            "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        },
        "responses": {"Missing": {"description": "No such node"}},
        "schemas": {
            "Node": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "integer", "format": "int64"},
                    "parent": {"$ref": "#/components/schemas/Node"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "kind": {"$ref": "#/components/schemas/Kind"},
                    "odd": {"$ref": "#/components/schemas/Nowhere"},
                },
            },
            "Kind": {"type": "string", "enum": ["leaf", "branch"]},
        },
    },
}


def test_openapi_refs_are_resolved_and_a_cycle_is_shown_as_a_reference() -> None:
    reference = api_reference("openapi", json.dumps(CYCLIC))
    assert reference.error == "" and reference.rendered
    [group] = reference.groups
    assert group.title == "nodes"
    [operation] = group.operations
    assert (operation.method, operation.path, operation.summary) == (
        "GET",
        "/nodes/{id}",
        "One node",
    )
    # The path-level parameter, through its $ref.
    [param] = operation.parameters
    assert (param.name, param.location, param.required, param.type) == (
        "id",
        "path",
        True,
        "integer",
    )
    ok, missing = operation.responses
    assert (missing.code, missing.description) == ("404", "No such node")
    tree = ok.media[0].schema
    assert tree is not None and tree.ref == "Node" and tree.ref_href == "#s0"[1:]
    assert child(tree, "id").required and "format: int64" in child(tree, "id").facts
    assert child(tree, "parent").recursive and not child(tree, "parent").children
    assert child(tree, "children").type == "array of Node" and child(tree, "children").recursive
    assert child(tree, "kind").enum == ["leaf", "branch"] and child(tree, "kind").ref == "Kind"
    assert child(tree, "odd").type == "unresolved reference"
    assert any("#/components/schemas/Nowhere" in w for w in reference.warnings)
    assert [d.name for d in reference.definitions] == ["Node", "Kind"]
    html = render(reference, json.dumps(CYCLIC))
    assert "(recursive: shown above)" in html and 'href="#s0"' in html and 'id="s0"' in html


def test_swagger_2_body_parameters_definitions_and_host() -> None:
    text = """
swagger: "2.0"
info: {title: Pets, version: "1.0"}
host: pets.example
basePath: /v1
schemes: [https]
consumes: [application/json]
paths:
  /pets:
    post:
      parameters:
        - {name: pet, in: body, required: true, schema: {$ref: "#/definitions/Pet"}}
        - {name: dry, in: query, type: boolean}
      responses:
        "201": {description: Created, schema: {$ref: "#/definitions/Pet"}}
definitions:
  Pet: {type: object, properties: {name: {type: string}}}
"""
    reference = api_reference("openapi", text)
    assert reference.error == "" and reference.format_label == "Swagger 2.0"
    assert [s.url for s in reference.servers] == ["https://pets.example/v1"]
    operation = reference.groups[0].operations[0]
    assert operation.body_required and operation.body[0].title == "application/json"
    assert operation.body[0].schema is not None and operation.body[0].schema.ref == "Pet"
    assert [(p.name, p.location, p.type) for p in operation.parameters] == [
        ("dry", "query", "boolean")
    ]
    assert operation.responses[0].media[0].schema.ref == "Pet"  # type: ignore[union-attr]
    assert definition_file("openapi", text) == "definition.yaml"
    assert definition_file("openapi", "{}") == "definition.json"


def test_asyncapi_2_and_3_channels_operations_and_messages() -> None:
    v2 = api_reference(
        "asyncapi",
        """
asyncapi: 2.6.0
info: {title: Events, version: "1"}
servers: {prod: {url: "kafka:9092", protocol: kafka}}
channels:
  orders.placed:
    subscribe:
      message: {$ref: "#/components/messages/Placed"}
components:
  messages:
    Placed: {name: Placed, payload: {type: object, properties: {id: {type: string}}}}
""",
    )
    assert v2.error == "" and [s.protocol for s in v2.servers] == ["kafka"]
    [channel] = v2.groups
    assert channel.title == "orders.placed" and channel.operations[0].method == "subscribe"
    message = channel.operations[0].messages[0]
    assert message.title == "Placed" and message.schema is not None
    assert [c.name for c in message.schema.children] == ["id"]
    v3 = api_reference(
        "asyncapi",
        """
asyncapi: 3.0.0
info: {title: Events, version: "1"}
servers: {prod: {host: "broker:5672", protocol: amqp}}
channels:
  placed:
    address: orders/placed
    messages:
      Placed: {payload: {type: object, properties: {id: {type: string}}}}
operations:
  sendPlaced:
    action: send
    channel: {$ref: "#/channels/placed"}
""",
    )
    assert v3.error == "" and v3.servers[0].url == "broker:5672"
    [channel] = v3.groups
    assert channel.title == "orders/placed"
    operation = channel.operations[0]
    assert (operation.method, operation.operation_id) == ("send", "sendPlaced")
    assert operation.messages[0].title == "Placed"


def test_graphql_roots_arguments_and_types() -> None:
    sdl = '''
"""Books."""
type Query { book(isbn: ID!, first: Int = 20): Book }
type Mutation { addBook(title: String!): Book! }
"A book."
type Book implements Node { id: ID! title: String @deprecated }
interface Node { id: ID! }
enum Genre { FICTION POETRY }
union Thing = Book
'''
    reference = api_reference("graphql", sdl)
    assert reference.error == "", reference.error
    assert [g.title for g in reference.groups] == ["Queries", "Mutations"]
    book = reference.groups[0].operations[0]
    assert (book.method, book.path, book.returns.type) == ("query", "book", "Book")  # type: ignore[union-attr]
    assert [(a.name, a.type, a.required, a.default) for a in book.parameters] == [
        ("isbn", "ID!", True, ""),
        ("first", "Int", False, "20"),
    ]
    kinds = {d.name: d for d in reference.definitions}
    assert kinds["Book"].note == "implements Node" and kinds["Book"].description == "A book."
    assert kinds["Book"].fields[1].deprecated
    assert kinds["Genre"].values == ["FICTION", "POETRY"]
    assert kinds["Thing"].note == "= Book"
    assert book.returns.type_href == kinds["Book"].anchor  # type: ignore[union-attr]


def test_proto_services_streaming_messages_and_enums() -> None:
    reference = api_reference(
        "grpc",
        """
syntax = "proto3";
package shop.v1;
service Shop {
  // Watch the stock.
  rpc Watch(WatchRequest) returns (stream Stock);
}
message WatchRequest { repeated string isbn = 1; }
message Stock { string isbn = 1; State state = 2; enum State { UNKNOWN = 0; OK = 1; } }
""",
    )
    assert reference.error == "", reference.error
    [service] = reference.groups
    [watch] = service.operations
    assert watch.description == "Watch the stock."
    assert watch.returns is not None and watch.returns.type == "stream Stock"
    names = [d.name for d in reference.definitions]
    assert names == ["WatchRequest", "Stock", "Stock.State"]
    stock = reference.definitions[1]
    assert stock.fields[1].type_href == reference.definitions[2].anchor
    assert reference.definitions[0].fields[0].type == "repeated string"


def test_broken_definitions_give_a_warning_with_where_and_no_failure() -> None:
    cases = {
        ("openapi", "openapi: 3.0.0\npaths: [unclosed\n"): "line 3",
        ("openapi", '{"openapi": "3.0.0",}'): "not valid JSON",
        ("openapi", "title: not an API\n"): "not an OpenAPI document",
        ("asyncapi", "- a list\n"): "not an AsyncAPI document",
        ("graphql", "type Query {\n  book(: Book\n}\n"): "GraphQL syntax error",
        ("grpc", 'syntax = "proto3";\nmessage {\n'): "proto syntax error",
    }
    for (api_type, text), expected in cases.items():
        reference = api_reference(api_type, text)
        assert expected in reference.error, (api_type, text, reference.error)
        assert not reference.rendered and not reference.groups
        assert reference.problems and reference.problems[0].startswith("API definition: ")
        html = render(reference, text, api_type)
        assert "could not be rendered" in html
        assert '<details class="api-source" open>' in html  # the source, shown
    graphql = api_reference("graphql", "type Query {\n  book(: Book\n}\n")
    assert "(line 2, column 8 of the definition)" in graphql.error


def test_an_unknown_type_is_shown_as_its_source() -> None:
    reference = api_reference("wsdl", "<definitions/>")
    assert reference.format == "text" and not reference.error and not reference.problems
    html = render(reference, "<definitions/>", "wsdl")
    assert "&lt;definitions/&gt;" in html and "<definitions/>" not in html
    assert 'href="definition.txt" download' in html


def test_hostile_text_is_escaped() -> None:
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    text = json.dumps(
        {
            "openapi": "3.0.0",
            "info": {"title": evil, "description": evil, "version": evil},
            "servers": [{"url": "javascript:alert(3)", "description": evil}],
            "tags": [{"name": evil, "description": evil}],
            "paths": {
                f"/x{evil}": {
                    "get": {
                        "tags": [evil],
                        "summary": evil,
                        "operationId": evil,
                        "parameters": [{"name": evil, "in": evil, "schema": {"enum": [evil]}}],
                        "responses": {evil: {"description": evil}},
                    }
                }
            },
            "components": {"schemas": {evil: {"properties": {evil: {"type": evil}}}}},
        }
    )
    reference = api_reference("openapi", text)
    assert reference.error == ""
    html = render(reference, text)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    # Anchors and classes are ours, never the definition's names.
    assert 'id="op0"' in html and 'id="s0"' in html


def test_huge_and_hostile_documents_stay_bounded() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    bomb += "openapi: 3.0.0\ncomponents:\n  schemas:\n    Bomb:\n      properties:\n"
    bomb += "".join(f"        p{i}: {{items: {{enum: *i}}}}\n" for i in range(300))
    started = time.monotonic()
    reference = api_reference("openapi", bomb)
    assert time.monotonic() - started < 5
    assert reference.error == ""
    assert sum(len(walk(d.schema)) for d in reference.definitions if d.schema) < 3_100
    too_big = "openapi: 3.0.0\n" + "#" * 2_100_000
    assert "too large" in api_reference("openapi", too_big).error
    deep = "[" * 50_000 + "]" * 50_000
    assert api_reference("openapi", deep).error  # nested too deeply, not a crash
    assert api_reference(
        "graphql", "type Q { f: " + "[" * 50_000 + "Int" + "]" * 50_000 + " }"
    ).error


def test_a_build_renders_references_reports_a_broken_one_and_writes_downloads(
    tmp_path: Path,
) -> None:
    def api(name: str, api_type: str, definition: str) -> str:
        return (
            "apiVersion: backstage.io/v1alpha1\nkind: API\n"
            f"metadata: {{name: {name}}}\n"
            f"spec: {{type: {api_type}, lifecycle: production, owner: team-a, "
            f"definition: {json.dumps(definition)}}}\n"
        )

    good = json.dumps(CYCLIC)
    files: dict[str, Any] = {
        "org/catalog-info.yaml": GROUP_A,
        "apis/catalog-info.yaml": api("tree-api", "openapi", good)
        + "---\n"
        + api("broken-api", "openapi", "openapi: 3.0.0\npaths: [unclosed\n"),
    }
    write_tree(tmp_path / "src", files)
    result = run_backlot(
        "build", tmp_path / "src", "-o", tmp_path / "site", "--cache-dir", tmp_path / "cache"
    )
    assert result.returncode == 0, result.stderr
    assert "api:default/broken-api: API definition: not valid YAML" in result.stdout
    site = tmp_path / "site/catalog/default/api"
    tree = (site / "tree-api/api/index.html").read_text()
    assert "/nodes/{id}" in tree and "Download the definition" in tree
    assert (site / "tree-api/api/definition.json").read_text() == good
    broken = (site / "broken-api/api/index.html").read_text()
    assert "This definition could not be rendered" in broken and "(line 3" in broken
    assert "paths: [unclosed" in broken
    assert (site / "broken-api/api/definition.yaml").is_file()
    # A rebuild that keeps the pages keeps their downloads.
    again = run_backlot(
        "build", tmp_path / "src", "-o", tmp_path / "site", "--cache-dir", tmp_path / "cache"
    )
    assert again.returncode == 0, again.stderr
    assert (site / "tree-api/api/definition.json").read_text() == good
