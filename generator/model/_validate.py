"""Backstage's verdict on one entity document, with every problem it has.

The checks follow the catalog backend's default processing: envelope, no foreign root
fields, metadata schema and field formats, a kind validator that recognises the
apiVersion/kind pair, the kind's spec schema, and finally the parse of every reference
that becomes a relation. Backstage stops at the first failure; we report them all.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ._formats import (
    is_valid_api_version,
    is_valid_dns_label,
    is_valid_kind,
    is_valid_label_value,
    is_valid_name,
    is_valid_prefixed_key,
    is_valid_tag,
    is_valid_url,
)
from ._kinds import KINDS, METADATA, KindDef, RelationField, find_kind
from ._refs import DEFAULT_NAMESPACE, EntityRef, RefError, parse_ref
from ._schema import FieldPath, Problem, describe, dotted

__all__ = ["EntityCheck", "Relation", "check_entity"]

ROOT_FIELDS = ("apiVersion", "kind", "metadata", "spec")
NAME_RULE = "sequences of [A-Za-z0-9] joined by any of '-', '_' or '.', at most 63 characters"


@dataclass(frozen=True)
class Relation:
    """An edge this entity declares: ``type`` towards ``target``, written at ``path``."""

    type: str
    target: EntityRef
    path: FieldPath


@dataclass
class EntityCheck:
    """What checking one document found: its identity when it has one, and its problems."""

    ref: EntityRef | None = None
    kind: KindDef | None = None
    problems: list[Problem] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.problems


def check_entity(doc: dict[str, Any]) -> EntityCheck:
    """Check one descriptor (placeholders already resolved). Never raises on bad input."""
    result = EntityCheck()
    problems = result.problems
    if not _check_envelope(doc, problems):
        return result
    metadata = doc["metadata"]
    namespace = metadata.get("namespace")
    result.ref = EntityRef(
        doc["kind"],
        namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE,
        metadata["name"],
    )

    for key in doc:
        if key not in ROOT_FIELDS:
            problems.append(
                Problem(
                    (key,),
                    "entity/foreign-root-field",
                    f"unknown top-level field {key!r}: a descriptor has only "
                    "apiVersion, kind, metadata and spec",
                )
            )
    if "spec" in doc and not isinstance(doc["spec"], dict):
        problems.append(
            Problem(
                ("spec",), "spec/wrong-type", f"spec must be a mapping, not {describe(doc['spec'])}"
            )
        )

    schema_problems: list[Problem] = []
    METADATA.check(metadata, ("metadata",), schema_problems)
    problems.extend(p._replace(rule=f"metadata/{p.rule}") for p in schema_problems)
    _check_formats(doc, problems)

    kind = _recognise(doc, problems)
    result.kind = kind
    if kind is None:
        return result
    spec = doc.get("spec")
    if spec is None and "spec" not in doc:
        problems.append(
            Problem(("spec",), "spec/missing-field", f"spec is missing; a {kind.kind} needs it")
        )
        return result
    if not isinstance(spec, dict):
        return result
    spec_problems: list[Problem] = []
    kind.spec.check(spec, ("spec",), spec_problems)
    problems.extend(p._replace(rule=f"spec/{p.rule}") for p in spec_problems)
    if not problems:
        result.relations = _relations(kind, spec, result.ref.namespace, problems)
    return result


def _check_envelope(doc: dict[str, Any], problems: list[Problem]) -> bool:
    """apiVersion, kind and metadata.name must exist before anything else can be said."""
    for key in ("apiVersion", "kind"):
        value = doc.get(key)
        if key not in doc:
            problems.append(Problem((key,), "entity/missing-field", f"{key} is missing"))
        elif not isinstance(value, str) or not value:
            problems.append(
                Problem(
                    (key,),
                    "entity/wrong-type",
                    f"{key} must be a non-empty string, not {describe(value)}",
                )
            )
    metadata = doc.get("metadata")
    if "metadata" not in doc:
        problems.append(Problem(("metadata",), "entity/missing-field", "metadata is missing"))
    elif not isinstance(metadata, dict):
        problems.append(
            Problem(
                ("metadata",),
                "entity/wrong-type",
                f"metadata must be a mapping, not {describe(metadata)}",
            )
        )
    elif "name" not in metadata:
        problems.append(
            Problem(("metadata", "name"), "entity/missing-field", "metadata.name is missing")
        )
    elif not isinstance(metadata["name"], str) or not metadata["name"]:
        problems.append(
            Problem(
                ("metadata", "name"),
                "entity/wrong-type",
                f"metadata.name must be a non-empty string, not {describe(metadata['name'])}",
            )
        )
    return not problems


def _check_formats(doc: dict[str, Any], problems: list[Problem]) -> None:
    metadata: dict[str, Any] = doc["metadata"]

    def bad(path: FieldPath, rule: str, message: str) -> None:
        problems.append(Problem(path, rule, message))

    if not is_valid_api_version(doc["apiVersion"]):
        bad(
            ("apiVersion",),
            "entity/api-version",
            f"apiVersion {doc['apiVersion']!r} is not of the form <group>/<version>",
        )
    if not is_valid_kind(doc["kind"]):
        bad(
            ("kind",),
            "entity/kind",
            f"kind {doc['kind']!r} must be letters and digits, starting with a letter",
        )
    name = metadata["name"]
    if not is_valid_name(name):
        bad(
            ("metadata", "name"),
            "metadata/name",
            f"metadata.name {name!r} is not valid: use {NAME_RULE}",
        )
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and namespace and not is_valid_dns_label(namespace):
        bad(
            ("metadata", "namespace"),
            "metadata/namespace",
            f"metadata.namespace {namespace!r} is not valid: use lowercase [a-z0-9] groups "
            "joined by '-', at most 63 characters",
        )
    for section, rule in (("labels", "metadata/label"), ("annotations", "metadata/annotation")):
        values = metadata.get(section)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if not is_valid_prefixed_key(key):
                bad(
                    ("metadata", section, key),
                    f"{rule}-key",
                    f"{section[:-1]} key {key!r} is not valid: use an optional lowercase DNS "
                    f"prefix and '/', then {NAME_RULE}",
                )
            elif section == "labels" and isinstance(value, str) and not is_valid_label_value(value):
                bad(
                    ("metadata", section, key),
                    f"{rule}-value",
                    f"label value {value!r} of {key!r} is not valid: use {NAME_RULE}, or ''",
                )
    tags = metadata.get("tags")
    if isinstance(tags, list):
        for i, tag in enumerate(tags):
            if isinstance(tag, str) and tag and not is_valid_tag(tag):
                bad(
                    ("metadata", "tags", i),
                    "metadata/tag",
                    f"tag {tag!r} is not valid: use lowercase [a-z0-9:+#] groups joined by "
                    "single '-', at most 63 characters",
                )
    links = metadata.get("links")
    if isinstance(links, list):
        for i, link in enumerate(links):
            if not isinstance(link, dict):
                continue
            url = link.get("url")
            if isinstance(url, str) and url and not is_valid_url(url):
                bad(
                    ("metadata", "links", i, "url"),
                    "metadata/link-url",
                    f"link url {url!r} is not an absolute URL (e.g. https://example.com/page)",
                )
            for key in ("title", "icon"):
                value = link.get(key)
                if isinstance(value, str) and value and not value.strip():
                    bad(
                        ("metadata", "links", i, key),
                        "metadata/link-blank",
                        f"link {key} must not be blank",
                    )


def _recognise(doc: dict[str, Any], problems: list[Problem]) -> KindDef | None:
    """The kind validator that accepts this apiVersion/kind pair, or a problem saying why none."""
    kind_name: str = doc["kind"]
    api_version: str = doc["apiVersion"]
    kind = find_kind(kind_name)
    if kind is not None and api_version in kind.api_versions:
        return kind
    if kind is None:
        known = ", ".join(k.kind for k in KINDS)
        message = f"unknown kind {kind_name!r}{_kind_hint(kind_name)} (known kinds: {known})"
    else:
        versions = " or ".join(kind.api_versions)
        message = (
            f"apiVersion {api_version!r} is not one Backstage knows for {kind.kind}: use {versions}"
        )
    problems.append(
        Problem(("kind",) if kind is None else ("apiVersion",), "entity/unknown-kind", message)
    )
    return None


def _kind_hint(kind_name: str) -> str:
    """``; did you mean 'Component'?`` for a kind that is one of Backstage's misspelt or in
    the wrong case (``Componnet``, ``component``), else nothing."""
    by_lower = {k.kind.lower(): k.kind for k in KINDS}
    same = by_lower.get(kind_name.lower())
    if same is not None:
        return f"; did you mean {same!r}? Kinds are case-sensitive"
    close = difflib.get_close_matches(kind_name.lower(), by_lower, n=1)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


def _relations(
    kind: KindDef, spec: dict[str, Any], namespace: str, problems: list[Problem]
) -> list[Relation]:
    relations: list[Relation] = []
    for rel in kind.relations:
        value = spec.get(rel.field)
        if value is None or value == "" or value is False or value == 0:
            continue
        items = value if isinstance(value, list) else [value]
        for i, target in enumerate(items):
            path: FieldPath = (
                ("spec", rel.field, i) if isinstance(value, list) else ("spec", rel.field)
            )
            ref = _parse_target(target, rel, namespace, path, problems)
            if ref is not None:
                relations.append(Relation(rel.relation, ref, path))
    return relations


def _parse_target(
    target: Any, rel: RelationField, namespace: str, path: FieldPath, problems: list[Problem]
) -> EntityRef | None:
    try:
        if isinstance(target, str):
            return parse_ref(target, default_kind=rel.default_kind, default_namespace=namespace)
        if isinstance(target, dict):
            return _ref_from_mapping(target, rel, namespace)
        raise RefError(f"an entity reference must be a string, not {describe(target)}")
    except RefError as exc:
        problems.append(Problem(path, "ref/malformed", f"{dotted(path)}: {exc}"))
        return None


def _ref_from_mapping(target: dict[str, Any], rel: RelationField, namespace: str) -> EntityRef:
    kind = target.get("kind") or rel.default_kind
    ns = target.get("namespace") or namespace
    name = target.get("name")
    if not kind:
        raise RefError("an entity reference needs a kind here")
    if not name:
        raise RefError("an entity reference needs a name")
    return EntityRef(str(kind), str(ns), str(name))
