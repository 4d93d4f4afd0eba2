"""The site stage: ``catalog.json`` → the portal, a folder of static HTML."""

from ._build import SiteResult, build_site, templates_dir

__all__ = ["SiteResult", "build_site", "templates_dir"]
