"""The catalog stage: descriptors in, ``catalog.json`` out."""

from ._build import CatalogOptions, build_catalog

__all__ = ["CatalogOptions", "build_catalog"]
