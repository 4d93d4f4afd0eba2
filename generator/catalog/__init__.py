"""The catalog stage: descriptors in, ``catalog.json`` out."""

from ._build import build_catalog

__all__ = ["build_catalog"]
