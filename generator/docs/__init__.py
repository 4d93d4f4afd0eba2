"""The docs stage: TechDocs sites in Backstage's storage layout."""

from ._build import DocsBuildResult, SiteOutcome, build_docs
from ._mkdocs_config import DEFAULT_PLUGINS, DocsConfigError
from ._published import published_sites
from ._sources import DocsSource, find_docs_sources, storage_path
from ._stage import read_docs_report, run_docs_stage

__all__ = [
    "DEFAULT_PLUGINS",
    "DocsBuildResult",
    "DocsConfigError",
    "DocsSource",
    "SiteOutcome",
    "build_docs",
    "find_docs_sources",
    "published_sites",
    "read_docs_report",
    "run_docs_stage",
    "storage_path",
]
