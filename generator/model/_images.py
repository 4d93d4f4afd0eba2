"""Which raster image a file is, by its first bytes: what a server or a data URI says
its type is does not count (an "image/png" may be an SVG, which can carry script)."""

from __future__ import annotations

__all__ = ["RASTER_TYPES", "raster_type"]

# The types the portal serves as pictures; never SVG.
RASTER_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def raster_type(data: bytes) -> str | None:
    """``image/png``, ``image/jpeg``, ``image/gif`` or ``image/webp``; None for anything
    else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return None
