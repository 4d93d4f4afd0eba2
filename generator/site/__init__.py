"""The site stage: ``catalog.json`` → the portal, a folder of static HTML."""

from ._badges import readme_badges
from ._build import SiteResult, build_activity, build_site
from ._context import templates_dir
from ._docs_index import DocsSite
from ._shard_pages import ShardMismatch, ShardSet, read_shards

__all__ = [
    "DocsSite",
    "ShardMismatch",
    "ShardSet",
    "SiteResult",
    "build_activity",
    "build_site",
    "read_shards",
    "readme_badges",
    "templates_dir",
]
