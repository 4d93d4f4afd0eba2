"""AsyncAPI 2 and 3: servers, channels with their operations (publish/subscribe in 2,
send/receive in 3), messages and their payloads."""

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
    Server,
    clip,
    mapping,
)
from ._schema import DefinitionError, Document

__all__ = ["asyncapi_reference"]


def asyncapi_reference(root: Any, reference: ApiReference) -> None:
    if not isinstance(root, dict) or "asyncapi" not in root:
        raise DefinitionError("not an AsyncAPI document: it has no `asyncapi` field")
    version = clip(root.get("asyncapi"), 40)
    major = version.split(".", 1)[0]
    if major not in ("2", "3"):
        reference.warnings.append(f"AsyncAPI version {version!r} is not one Backlot knows")
    reference.format_label = f"AsyncAPI {version}"
    info = mapping(root.get("info"))
    reference.title = clip(info.get("title"))
    reference.version = clip(info.get("version"), 100)
    reference.description = clip(info.get("description"), 10_000)
    reference.groups_title = "Channels"

    components = mapping(root.get("components"))
    schemas = mapping(components.get("schemas"))
    names = list(schemas)[:MAX_DEFINITIONS]
    anchors = {f"#/components/schemas/{name}": f"s{i}" for i, name in enumerate(names)}
    doc = Document(root, anchors)
    reference.servers = _servers(root)
    reference.groups = _channels_v3(root, doc) if major == "3" else _channels_v2(root, doc)
    reference.operation_count = sum(len(g.operations) for g in reference.groups)
    reference.definitions = [
        Definition(
            "schema",
            clip(name, 200),
            anchors[f"#/components/schemas/{name}"],
            schema=doc.tree(schemas[name]),
        )
        for name in names
    ]
    for ref in doc.unresolved:
        reference.warnings.append(f"unresolved reference {clip(ref, 200)}")
    if doc.budget.exhausted:
        reference.warnings.append("schemas too large to show in full; see the source")


def _servers(root: dict[str, Any]) -> list[Server]:
    servers = root.get("servers")
    found = []
    for name, server in list((servers if isinstance(servers, dict) else {}).items())[:20]:
        if not isinstance(server, dict):
            continue
        url = server.get("url")
        if url is None and "host" in server:  # AsyncAPI 3
            url = f"{clip(server.get('host'), 300)}{clip(server.get('pathname'), 300)}"
        found.append(
            Server(
                clip(name, 200),
                clip(url, 500),
                clip(server.get("protocol"), 40)
                + (
                    f" {clip(server.get('protocolVersion'), 20)}"
                    if server.get("protocolVersion")
                    else ""
                ),
                clip(server.get("description")),
            )
        )
    return found


def _message(doc: Document, value: Any, fallback: str) -> Media:
    raw = value
    message = doc.deref(value)
    message = message if isinstance(message, dict) else {}
    name = message.get("name") or message.get("title")
    if not name and isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
        name = raw["$ref"].rsplit("/", 1)[-1]
    facts = []
    if message.get("contentType"):
        facts.append(f"content type: {clip(message.get('contentType'), 200)}")
    if message.get("title") and message.get("name"):
        facts.append(clip(message["title"], 200))
    payload = message.get("payload")
    return Media(
        clip(name or fallback, 200),
        clip(message.get("summary") or message.get("description")),
        doc.tree(payload) if isinstance(payload, dict) else None,
        facts,
    )


def _messages_v2(doc: Document, value: Any) -> list[Media]:
    message = doc.deref(value)
    if isinstance(message, dict) and isinstance(message.get("oneOf"), list):
        return [
            _message(doc, m, f"message {i + 1}") for i, m in enumerate(message["oneOf"][:MAX_ITEMS])
        ]
    if isinstance(value, dict):
        return [_message(doc, value, "message")]
    return []


def _parameters(doc: Document, channel: dict[str, Any]) -> list[Field]:
    params = channel.get("parameters")
    found = []
    for name, value in list((params if isinstance(params, dict) else {}).items())[:MAX_ITEMS]:
        param = doc.deref(value)
        param = param if isinstance(param, dict) else {}
        schema = param.get("schema")
        tree = doc.tree(schema) if isinstance(schema, dict) else None
        found.append(
            Field(
                clip(name, 200),
                type=(tree.ref or tree.type) if tree else "string",
                required=True,
                location="channel",
                description=clip(param.get("description")),
                schema=tree if tree and (tree.enum or tree.facts) else None,
            )
        )
    return found


def _channels_v2(root: dict[str, Any], doc: Document) -> list[OperationGroup]:
    channels = root.get("channels")
    groups = []
    count = 0
    for address, value in (channels if isinstance(channels, dict) else {}).items():
        channel = doc.deref(value)
        if not isinstance(channel, dict):
            continue
        group = OperationGroup(clip(address, 500), clip(channel.get("description")))
        params = _parameters(doc, channel)
        for action in ("publish", "subscribe"):
            raw = doc.deref(channel.get(action))
            if not isinstance(raw, dict) or count >= MAX_OPERATIONS:
                continue
            group.operations.append(
                Operation(
                    method=action,
                    path=clip(address, 500),
                    anchor=f"op{count}",
                    summary=clip(raw.get("summary")),
                    description=clip(raw.get("description"), 10_000),
                    operation_id=clip(raw.get("operationId"), 200),
                    deprecated=raw.get("deprecated") is True,
                    parameters=params,
                    messages=_messages_v2(doc, raw.get("message")),
                )
            )
            count += 1
        groups.append(group)
    return groups


def _channels_v3(root: dict[str, Any], doc: Document) -> list[OperationGroup]:
    channels = root.get("channels")
    channels = channels if isinstance(channels, dict) else {}
    groups: dict[str, OperationGroup] = {}
    params: dict[str, list[Field]] = {}
    messages: dict[str, list[Media]] = {}
    for key, value in channels.items():
        channel = doc.deref(value)
        if not isinstance(channel, dict):
            continue
        address = channel.get("address")
        group = OperationGroup(
            clip(address if isinstance(address, str) else key, 500),
            clip(channel.get("description") or channel.get("summary")),
        )
        if isinstance(address, str) and address != key:
            group.facts.append(f"channel {clip(key, 200)}")
        groups[f"#/channels/{key}"] = group
        params[f"#/channels/{key}"] = _parameters(doc, channel)
        found = channel.get("messages")
        messages[f"#/channels/{key}"] = [
            _message(doc, m, str(k))
            for k, m in list((found if isinstance(found, dict) else {}).items())[:MAX_ITEMS]
        ]
    operations = root.get("operations")
    count = 0
    for key, value in (operations if isinstance(operations, dict) else {}).items():
        raw = doc.deref(value)
        if not isinstance(raw, dict) or count >= MAX_OPERATIONS:
            continue
        channel = raw.get("channel")
        ref = channel.get("$ref") if isinstance(channel, dict) else None
        found_group = groups.get(ref) if isinstance(ref, str) else None
        group = found_group or groups.setdefault("", OperationGroup("(no channel)"))
        listed = raw.get("messages")
        if isinstance(listed, list) and listed:
            found = [_message(doc, m, f"message {i + 1}") for i, m in enumerate(listed[:MAX_ITEMS])]
        else:
            found = messages.get(ref or "", [])
        group.operations.append(
            Operation(
                method=clip(raw.get("action"), 20) or "operation",
                path=group.title,
                anchor=f"op{count}",
                summary=clip(raw.get("summary") or raw.get("title")),
                description=clip(raw.get("description"), 10_000),
                operation_id=clip(key, 200),
                deprecated=raw.get("deprecated") is True,
                parameters=params.get(ref or "", []),
                messages=found,
            )
        )
        count += 1
    # A channel no operation uses still shows its messages.
    for ref, group in groups.items():
        if not group.operations and messages.get(ref):
            group.operations.append(
                Operation("messages", group.title, f"op{count}", messages=messages[ref])
            )
            count += 1
    return list(groups.values())
