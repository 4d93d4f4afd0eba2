"""OpenAPI 2 (Swagger) and 3.x: operations by tag, their parameters, bodies and responses,
the component schemas, the servers."""

from __future__ import annotations

from typing import Any

from ._model import (
    MAX_DEFINITIONS,
    MAX_ITEMS,
    MAX_OPERATIONS,
    ApiReference,
    Definition,
    Field,
    Media,
    Operation,
    OperationGroup,
    Response,
    Server,
    clip,
    mapping,
)
from ._schema import DefinitionError, Document

__all__ = ["openapi_reference"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def openapi_reference(root: Any, reference: ApiReference) -> None:
    if not isinstance(root, dict) or not ("openapi" in root or "swagger" in root):
        raise DefinitionError("not an OpenAPI document: it has no `openapi` or `swagger` field")
    swagger = "swagger" in root and "openapi" not in root
    version = clip(root.get("swagger") if swagger else root.get("openapi"), 40)
    if not (version.startswith("2") if swagger else version.startswith("3")):
        reference.warnings.append(f"OpenAPI version {version!r} is not one Backlot knows")
    reference.format_label = f"{'Swagger' if swagger else 'OpenAPI'} {version}".strip()
    info = mapping(root.get("info"))
    reference.title = clip(info.get("title"))
    reference.version = clip(info.get("version"), 100)
    reference.description = clip(info.get("description"), 10_000)

    schemas_at = "#/definitions/" if swagger else "#/components/schemas/"
    schemas = mapping(
        root.get("definitions") if swagger else mapping(root.get("components")).get("schemas")
    )
    names = list(schemas)[:MAX_DEFINITIONS]
    anchors = {schemas_at + _escape(str(name)): f"s{i}" for i, name in enumerate(names)}
    doc = Document(root, anchors)

    reference.servers = _servers(root, swagger)
    reference.groups = _groups(root, doc, swagger)
    reference.operation_count = sum(len(g.operations) for g in reference.groups)
    reference.definitions = [
        Definition(
            "schema",
            clip(name, 200),
            anchors[schemas_at + _escape(str(name))],
            schema=doc.tree(schemas[name]),
        )
        for name in names
    ]
    if len(schemas) > len(names):
        reference.warnings.append(f"only the first {len(names)} of {len(schemas)} schemas shown")
    for ref in doc.unresolved:
        reference.warnings.append(f"unresolved reference {clip(ref, 200)}")
    if doc.budget.exhausted:
        reference.warnings.append("schemas too large to show in full; see the source")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _servers(root: dict[str, Any], swagger: bool) -> list[Server]:
    if swagger:
        host = clip(root.get("host"), 300)
        if not host:
            return []
        base = clip(root.get("basePath"), 300)
        schemes = [s for s in root.get("schemes") or ["https"] if isinstance(s, str)]
        return [Server("", f"{scheme}://{host}{base}") for scheme in schemes[:5]]
    servers = root.get("servers")
    return [
        Server("", clip(s.get("url"), 500), description=clip(s.get("description")))
        for s in (servers if isinstance(servers, list) else [])[:20]
        if isinstance(s, dict) and s.get("url")
    ]


def _groups(root: dict[str, Any], doc: Document, swagger: bool) -> list[OperationGroup]:
    groups: dict[str, OperationGroup] = {}
    for tag in root.get("tags") or []:
        if isinstance(tag, dict) and isinstance(tag.get("name"), str):
            name = clip(tag["name"], 200)
            groups[name] = OperationGroup(name, clip(tag.get("description")))
    paths = root.get("paths")
    count = 0
    for path, item in (paths if isinstance(paths, dict) else {}).items():
        item = doc.deref(item)
        if not isinstance(item, dict):
            continue
        shared = item["parameters"] if isinstance(item.get("parameters"), list) else []
        for method in METHODS:
            raw = item.get(method)
            if not isinstance(raw, dict):
                continue
            if count >= MAX_OPERATIONS:
                groups.setdefault(
                    "…", OperationGroup("…")
                ).description = (
                    f"Only the first {MAX_OPERATIONS} operations are shown; see the source."
                )
                return [g for g in groups.values() if g.operations or g.title == "…"]
            operation = _operation(root, doc, swagger, str(path), method, raw, shared, count)
            count += 1
            tags = [clip(t, 200) for t in raw.get("tags") or [] if isinstance(t, str)]
            for tag in tags or ["Operations"]:
                groups.setdefault(tag, OperationGroup(tag)).operations.append(operation)
    return [g for g in groups.values() if g.operations]


def _operation(
    root: dict[str, Any],
    doc: Document,
    swagger: bool,
    path: str,
    method: str,
    raw: dict[str, Any],
    shared: list[Any],
    index: int,
) -> Operation:
    operation = Operation(
        method=method.upper(),
        path=clip(path, 500),
        anchor=f"op{index}",
        summary=clip(raw.get("summary")),
        description=clip(raw.get("description"), 10_000),
        operation_id=clip(raw.get("operationId"), 200),
        deprecated=raw.get("deprecated") is True,
    )
    params: dict[tuple[str, str], dict[str, Any]] = {}
    own = raw["parameters"] if isinstance(raw.get("parameters"), list) else []
    for value in [*shared, *own][: MAX_ITEMS * 2]:
        param = doc.deref(value)
        if isinstance(param, dict) and isinstance(param.get("name"), str):
            params[(param["name"], str(param.get("in")))] = param  # the operation's win
    consumes = _media_types(raw.get("consumes"), root.get("consumes"))
    for param in list(params.values())[:MAX_ITEMS]:
        where = clip(param.get("in"), 40)
        if swagger and where == "body":
            title = ", ".join(consumes) or "body"
            operation.body = [Media(title, schema=doc.tree(param.get("schema")))]
            operation.body_required = param.get("required") is True
            operation.body_description = clip(param.get("description"))
            continue
        schema = param.get("schema") if not swagger else param
        tree = doc.tree(schema) if isinstance(schema, dict) else None
        operation.parameters.append(
            Field(
                name=clip(param["name"], 200),
                type=(tree.ref or tree.type) if tree else "",
                type_href=tree.ref_href if tree else "",
                required=param.get("required") is True,
                location=where,
                description=clip(param.get("description")),
                deprecated=param.get("deprecated") is True,
                schema=tree if tree and (tree.children or tree.enum or tree.facts) else None,
            )
        )
    body = doc.deref(raw.get("requestBody"))
    if not swagger and isinstance(body, dict):
        operation.body = _content(doc, body.get("content"))
        operation.body_required = body.get("required") is True
        operation.body_description = clip(body.get("description"))
    produces = _media_types(raw.get("produces"), root.get("produces"))
    responses = raw.get("responses")
    for code, value in list((responses if isinstance(responses, dict) else {}).items())[:MAX_ITEMS]:
        response = doc.deref(value)
        if not isinstance(response, dict):
            continue
        if swagger:
            schema = response.get("schema")
            media = (
                [Media(", ".join(produces) or "body", schema=doc.tree(schema))]
                if isinstance(schema, dict)
                else []
            )
        else:
            media = _content(doc, response.get("content"))
        operation.responses.append(
            Response(clip(code, 20), clip(response.get("description")), media)
        )
    return operation


def _content(doc: Document, content: Any) -> list[Media]:
    if not isinstance(content, dict):
        return []
    found = []
    for media, value in list(content.items())[:20]:
        value = value if isinstance(value, dict) else {}
        schema = value.get("schema")
        found.append(
            Media(clip(media, 200), schema=doc.tree(schema) if isinstance(schema, dict) else None)
        )
    return found


def _media_types(*choices: Any) -> list[str]:
    for choice in choices:
        if isinstance(choice, list):
            return [clip(m, 200) for m in choice[:10] if isinstance(m, str)]
    return []
