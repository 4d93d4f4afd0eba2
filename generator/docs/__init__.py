"""The docs stage: TechDocs sites in Backstage's storage layout."""

from ._build import METADATA_FILE, DocsBuildResult, SiteOutcome, build_docs
from ._mkdocs_config import DocsConfigError
from ._published import published_sites
from ._sources import DocsSource, find_docs_sources
from ._stage import merge_docs_sites, run_docs_stage

__all__ = [
    "METADATA_FILE",
    "DocsBuildResult",
    "DocsConfigError",
    "DocsSource",
    "SiteOutcome",
    "build_docs",
    "find_docs_sources",
    "merge_docs_sites",
    "published_sites",
    "run_docs_stage",
]
