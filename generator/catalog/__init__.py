"""The catalog stage: descriptors in, ``catalog.json`` out."""

from ._build import build_catalog
from ._memo import DescriptorMemo
from ._read import parse_descriptor_bytes

# parse_descriptor_bytes: Backstage's YAML reading, for the scaffolder's template files.
__all__ = ["DescriptorMemo", "build_catalog", "parse_descriptor_bytes"]
