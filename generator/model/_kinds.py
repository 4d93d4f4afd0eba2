"""The nine kinds Backlot knows, their fields, and which field emits which relation."""

from __future__ import annotations

from dataclasses import dataclass

from ._relations import RELATION_INVERSES
from ._schema import Arr, Obj, OneOf, Str, StrOrBool

__all__ = [
    "KINDS",
    "METADATA",
    "RELATION_INVERSES",
    "KindDef",
    "RelationField",
    "find_kind",
]

BACKSTAGE_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
TEMPLATE_VERSIONS = ("scaffolder.backstage.io/v1beta3",)


@dataclass(frozen=True)
class RelationField:
    """``spec.<field>`` holds references that become ``relation`` edges.

    ``default_kind`` is the kind assumed when a reference has none; without one the
    reference must spell its kind out (``dependsOn: [resource:db]``).
    """

    field: str
    relation: str
    default_kind: str | None

    @property
    def inverse(self) -> str:
        return RELATION_INVERSES[self.relation]


@dataclass(frozen=True)
class KindDef:
    kind: str
    api_versions: tuple[str, ...]
    description: str
    spec: Obj
    relations: tuple[RelationField, ...]


def _ref(hint: str) -> Str:
    return Str(hint=hint)


def _refs(hint: str) -> Arr:
    return Arr(Str(), hint=hint)


_OWNER = _ref("entity reference to the owning Group or User, e.g. 'team-payments'")
_SYSTEM = _ref("entity reference to the System it belongs to")
_PERMISSIONS = Obj({"tags": Arr(Str(min_length=0))})
_PROFILE = Obj(
    {
        "displayName": Str(hint="name shown for the entity"),
        "email": Str(hint="e-mail address"),
        "picture": Str(hint="URL of an avatar picture"),
    }
)
_LIFECYCLE = Str(hint="lifecycle stage, e.g. production, experimental, deprecated")
_OWNED_BY = RelationField("owner", "ownedBy", "Group")
_PART_OF_SYSTEM = RelationField("system", "partOf", "System")
_DEPENDS_ON = RelationField("dependsOn", "dependsOn", None)
_DEPENDENCY_OF = RelationField("dependencyOf", "dependencyOf", None)

METADATA = Obj(
    {
        "uid": Str(),
        "etag": Str(),
        "name": Str(hint="the entity's name: 1-63 characters, [A-Za-z0-9] at both ends"),
        "namespace": Str(hint="a lowercase DNS label; 'default' when omitted"),
        "title": Str(hint="a display name"),
        "description": Str(min_length=0, hint="a short description, in Markdown"),
        "labels": Obj(additional=Str(min_length=0)),
        "annotations": Obj(additional=Str(min_length=0)),
        "tags": Arr(Str(), hint="lowercase tags: [a-z0-9:+#] groups joined by '-'"),
        "links": Arr(
            Obj(
                {
                    "url": Str(hint="an absolute URL"),
                    "title": Str(),
                    "icon": Str(),
                    "type": Str(),
                },
                required=("url",),
            )
        ),
    },
    required=("name",),
)

_TEMPLATE_OUTPUT = Obj(
    {
        "links": Arr(
            Obj(
                {
                    "if": StrOrBool(),
                    "url": Str(),
                    "entityRef": Str(),
                    "title": Str(),
                    "icon": Str(),
                }
            )
        ),
        "text": Arr(
            Obj(
                {
                    "if": StrOrBool(),
                    "title": Str(),
                    "icon": Str(),
                    "content": Str(min_length=0),
                }
            )
        ),
    },
    additional=Str(min_length=0),
    hint="templated outputs of the task; every value other than links and text is a string",
)

_FORM_DECORATORS = Arr(Obj({"id": Str(min_length=0), "input": Obj()}))

KINDS: tuple[KindDef, ...] = (
    KindDef(
        "Component",
        BACKSTAGE_VERSIONS,
        "A piece of software: a service, website, library or the like.",
        Obj(
            {
                "type": Str(hint="e.g. service, website, library"),
                "lifecycle": _LIFECYCLE,
                "owner": _OWNER,
                "system": _SYSTEM,
                "subcomponentOf": _ref("entity reference to the parent Component"),
                "providesApis": _refs("entity references to the APIs it provides"),
                "consumesApis": _refs("entity references to the APIs it consumes"),
                "dependsOn": _refs("entity references with their kind, e.g. 'resource:db'"),
            },
            required=("type", "lifecycle", "owner"),
            kind_label="Component",
        ),
        (
            _OWNED_BY,
            RelationField("subcomponentOf", "partOf", "Component"),
            RelationField("providesApis", "providesApi", "API"),
            RelationField("consumesApis", "consumesApi", "API"),
            _DEPENDS_ON,
            _DEPENDENCY_OF,
            _PART_OF_SYSTEM,
        ),
    ),
    KindDef(
        "API",
        BACKSTAGE_VERSIONS,
        "An interface a component exposes: OpenAPI, AsyncAPI, GraphQL, gRPC and others.",
        Obj(
            {
                "type": Str(hint="e.g. openapi, asyncapi, graphql, grpc"),
                "lifecycle": _LIFECYCLE,
                "owner": _OWNER,
                "system": _SYSTEM,
                "definition": Str(hint="the API definition, inline or via $text"),
            },
            required=("type", "lifecycle", "owner", "definition"),
            kind_label="API",
        ),
        (_OWNED_BY, _PART_OF_SYSTEM),
    ),
    KindDef(
        "Resource",
        BACKSTAGE_VERSIONS,
        "Infrastructure a component needs at runtime: databases, buckets, queues.",
        Obj(
            {
                "type": Str(hint="e.g. database, s3-bucket, queue"),
                "owner": _OWNER,
                "dependsOn": _refs("entity references with their kind"),
                "system": _SYSTEM,
            },
            required=("type", "owner"),
            kind_label="Resource",
        ),
        (_OWNED_BY, _DEPENDS_ON, _DEPENDENCY_OF, _PART_OF_SYSTEM),
    ),
    KindDef(
        "System",
        BACKSTAGE_VERSIONS,
        "A collection of components, APIs and resources that together provide a function.",
        Obj(
            {
                "owner": _OWNER,
                "domain": _ref("entity reference to the Domain it belongs to"),
                "type": Str(),
            },
            required=("owner",),
            kind_label="System",
        ),
        (_OWNED_BY, RelationField("domain", "partOf", "Domain")),
    ),
    KindDef(
        "Domain",
        BACKSTAGE_VERSIONS,
        "A business area: a group of systems.",
        Obj(
            {
                "owner": _OWNER,
                "subdomainOf": _ref("entity reference to the parent Domain"),
                "type": Str(),
            },
            required=("owner",),
            kind_label="Domain",
        ),
        (_OWNED_BY, RelationField("subdomainOf", "partOf", "Domain")),
    ),
    KindDef(
        "Group",
        BACKSTAGE_VERSIONS,
        "A team or other organisational unit.",
        Obj(
            {
                "type": Str(hint="e.g. team, department, organization"),
                "profile": _PROFILE,
                "parent": _ref("entity reference to the parent Group"),
                "children": _refs("entity references to child Groups; [] when none"),
                "members": _refs("entity references to member Users"),
            },
            required=("type", "children"),
            kind_label="Group",
        ),
        (
            RelationField("parent", "childOf", "Group"),
            RelationField("children", "parentOf", "Group"),
            RelationField("members", "hasMember", "User"),
        ),
    ),
    KindDef(
        "User",
        BACKSTAGE_VERSIONS,
        "A person.",
        Obj(
            {
                "profile": _PROFILE,
                "memberOf": _refs("entity references to the Groups; [] when none"),
            },
            required=("memberOf",),
            kind_label="User",
        ),
        (RelationField("memberOf", "memberOf", "Group"),),
    ),
    KindDef(
        "Location",
        BACKSTAGE_VERSIONS,
        "A pointer to more descriptor files.",
        Obj(
            {
                "type": Str(hint="url or file"),
                "target": Str(hint="a path relative to this file, or a URL; globs allowed"),
                "targets": Arr(Str()),
                "presence": Str(enum=("required", "optional")),
            },
            kind_label="Location",
        ),
        (),
    ),
    KindDef(
        "Template",
        TEMPLATE_VERSIONS,
        "A Software Template: parameters and steps that create something new.",
        Obj(
            {
                "type": Str(hint="the type of what the template creates, e.g. service"),
                "owner": _OWNER,
                "lifecycle": Str(),
                "parameters": OneOf(
                    (
                        Obj({"backstage:permissions": _PERMISSIONS}),
                        Arr(
                            Obj({"when": StrOrBool(), "backstage:permissions": _PERMISSIONS}),
                        ),
                    ),
                    hint="JSON Schema forms collecting the inputs",
                ),
                "secrets": Obj({"schema": Obj()}),
                "presentation": Obj(
                    {
                        "buttonLabels": Obj(
                            {
                                "backButtonText": Str(min_length=0),
                                "createButtonText": Str(min_length=0),
                                "reviewButtonText": Str(min_length=0),
                            }
                        )
                    }
                ),
                "EXPERIMENTAL_recovery": Obj({"EXPERIMENTAL_strategy": Str(min_length=0)}),
                "formDecorators": _FORM_DECORATORS,
                "EXPERIMENTAL_formDecorators": _FORM_DECORATORS,
                "steps": Arr(
                    Obj(
                        {
                            "id": Str(min_length=0),
                            "name": Str(min_length=0),
                            "action": Str(min_length=0, hint="the action id, e.g. fetch:template"),
                            "input": Obj(),
                            "if": StrOrBool(),
                            "backstage:permissions": _PERMISSIONS,
                        },
                        required=("action",),
                        kind_label="step",
                    ),
                    hint="the steps to run, in order",
                ),
                "output": _TEMPLATE_OUTPUT,
            },
            required=("type", "steps"),
            kind_label="Template",
        ),
        (_OWNED_BY,),
    ),
)

_BY_KIND = {k.kind: k for k in KINDS}


def find_kind(kind: str) -> KindDef | None:
    """The definition of ``kind``, spelled exactly (Backstage's kinds are case-sensitive)."""
    return _BY_KIND.get(kind)
