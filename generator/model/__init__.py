"""The catalog's vocabulary: entities, kinds, references, relations and rules. No I/O."""

from ._catalog_file import (
    SCHEMA_VERSION,
    CatalogFile,
    EntitySource,
    Finding,
    Severity,
    Summary,
    workflow_command,
)
from ._docs_report import DOCS_REPORT_VERSION, DocsProblem, DocsReport, SiteReport, SiteStatus
from ._editor_schema import descriptor_json_schema
from ._formats import (
    SAFE_SCHEMES,
    is_valid_name,
    is_windows_reserved,
    outside_origin,
    repository_identity,
    repository_web_address,
    safe_url,
)
from ._images import RASTER_TYPES, raster_type
from ._json_values import MAX_NESTING, json_safe, json_size, nesting_depth
from ._kinds import KINDS, METADATA, RELATION_INVERSES, KindDef, RelationField, find_kind
from ._refs import DEFAULT_NAMESPACE, EntityRef, RefError, parse_ref
from ._relations import FORWARD_RELATIONS, RELATION_TITLES, forward_of
from ._schema import FieldPath, Problem, dotted
from ._shards import MAX_SHARDS, SHARD_FILE, Shard, ShardManifest, file_digest, slot_of
from ._urls import (
    BADGES_PREFIX,
    DOCS_PREFIX,
    PICTURES_PREFIX,
    badge_file,
    docs_site_dir,
    entity_dir,
    entity_page,
    picture_file,
    portal_link_from_docs,
)
from ._validate import EntityCheck, Relation, check_entity

__all__ = [
    "BADGES_PREFIX",
    "DEFAULT_NAMESPACE",
    "DOCS_PREFIX",
    "DOCS_REPORT_VERSION",
    "FORWARD_RELATIONS",
    "KINDS",
    "MAX_NESTING",
    "MAX_SHARDS",
    "METADATA",
    "PICTURES_PREFIX",
    "RASTER_TYPES",
    "RELATION_INVERSES",
    "RELATION_TITLES",
    "SAFE_SCHEMES",
    "SCHEMA_VERSION",
    "SHARD_FILE",
    "CatalogFile",
    "DocsProblem",
    "DocsReport",
    "EntityCheck",
    "EntityRef",
    "EntitySource",
    "FieldPath",
    "Finding",
    "KindDef",
    "Problem",
    "RefError",
    "Relation",
    "RelationField",
    "Severity",
    "Shard",
    "ShardManifest",
    "SiteReport",
    "SiteStatus",
    "Summary",
    "badge_file",
    "check_entity",
    "descriptor_json_schema",
    "docs_site_dir",
    "dotted",
    "entity_dir",
    "entity_page",
    "file_digest",
    "find_kind",
    "forward_of",
    "is_valid_name",
    "is_windows_reserved",
    "json_safe",
    "json_size",
    "nesting_depth",
    "outside_origin",
    "parse_ref",
    "picture_file",
    "portal_link_from_docs",
    "raster_type",
    "repository_identity",
    "repository_web_address",
    "safe_url",
    "slot_of",
    "workflow_command",
]
