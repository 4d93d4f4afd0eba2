"""The files of a folder as objects to publish: content hash, Content-Type, Cache-Control.

Types come from one table here, not from ``mimetypes``: that module reads the build
machine's ``/etc/mime.types``, so the same site would be published with different headers
from different runners. Anything not in the table is served as bytes to download, never
as something a browser renders. The one exception is ``pictures/``: the site names each
picture by its URL, not its format, so its type is read from its first bytes (a raster
type or nothing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..model import BADGES_PREFIX, PICTURES_PREFIX, raster_type

__all__ = [
    "IMMUTABLE",
    "REVALIDATE",
    "LocalFile",
    "cache_control",
    "content_type",
    "fingerprinted",
    "local_files",
]

# Pages, indexes and unhashed assets change in place: browsers and the CDN ask again
# (a 304 costs little). An asset whose name carries its content hash never changes.
REVALIDATE = "public, max-age=0, must-revalidate"
IMMUTABLE = "public, max-age=31536000, immutable"
# README badges (badges/): GitHub's image proxy and browsers fetch them on every README
# view; five minutes, as shields.io's, and the CDN's copy is invalidated on publish.
BADGE = "public, max-age=300"
# Group and User pictures (pictures/) change in place when the image behind their URL
# does; people change their photo rarely: a day, and the CDN's copy is invalidated.
PICTURE = "public, max-age=86400"

_TEXT = "; charset=utf-8"
CONTENT_TYPES = {
    "html": "text/html" + _TEXT,
    "css": "text/css" + _TEXT,
    "js": "text/javascript" + _TEXT,
    "mjs": "text/javascript" + _TEXT,
    "json": "application/json" + _TEXT,
    "map": "application/json" + _TEXT,
    "webmanifest": "application/manifest+json" + _TEXT,
    "xml": "application/xml" + _TEXT,
    "txt": "text/plain" + _TEXT,
    "md": "text/plain" + _TEXT,
    # API definitions are offered for download: shown as text, never run as a page.
    "yaml": "text/plain" + _TEXT,
    "yml": "text/plain" + _TEXT,
    "graphql": "text/plain" + _TEXT,
    "proto": "text/plain" + _TEXT,
    "csv": "text/csv" + _TEXT,
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "ico": "image/x-icon",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    "pdf": "application/pdf",
    "wasm": "application/wasm",
    "gz": "application/gzip",
}
DOWNLOAD = "application/octet-stream"


def content_type(relpath: str, head: bytes = b"") -> str:
    """The type of ``relpath``; ``head``, its first bytes, decides it under ``pictures/``."""
    if relpath.startswith(PICTURES_PREFIX):
        return raster_type(head) or DOWNLOAD
    name = relpath.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(extension, DOWNLOAD)


# Only the theme's and the search index's own folders are trusted to name files by their
# content: a repository's docs may call an image logo.deadbeef.png and change it later.
_HASHED_FOLDERS = ("assets/javascripts/", "assets/stylesheets/", "pagefind/")


def fingerprinted(relpath: str) -> bool:
    """Named with its content hash by the tool that wrote it, like Material's
    ``assets/javascripts/bundle.d7400e89.min.js`` or Pagefind's
    ``pagefind/index/en_3a1b2c4.pf_index``."""
    if not any("/" + folder in "/" + relpath for folder in _HASHED_FOLDERS):
        return False
    name = relpath.rsplit("/", 1)[-1]
    for part in name.replace("_", ".").split(".")[1:-1]:
        if len(part) >= 7 and all(c in "0123456789abcdef" for c in part):
            return True
    return False


def cache_control(relpath: str) -> str:
    if fingerprinted(relpath):
        return IMMUTABLE
    if relpath.startswith(PICTURES_PREFIX):
        return PICTURE
    return BADGE if relpath.startswith(BADGES_PREFIX) else REVALIDATE


@dataclass(frozen=True)
class LocalFile:
    path: Path
    relpath: str  # below the folder, with /
    sha256: str
    md5: str  # what S3 gives a single-part upload as its ETag (docs sites' sync)
    size: int
    head: bytes = b""  # the first bytes, for the files typed by them (pictures/)

    @property
    def content_type(self) -> str:
        return content_type(self.relpath, self.head)

    @property
    def cache_control(self) -> str:
        return cache_control(self.relpath)


# What a build leaves in its output while it works; never part of the site.
SCRATCH = ".backlot-tmp"


def local_files(folder: Path) -> list[LocalFile]:
    """Every regular file below ``folder`` (links are not followed), sorted by path."""
    found = []
    for path in sorted(folder.rglob("*")):
        relpath = path.relative_to(folder).as_posix()
        if SCRATCH in relpath.split("/") or path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        found.append(
            LocalFile(
                path,
                relpath,
                hashlib.sha256(data).hexdigest(),
                hashlib.md5(data, usedforsecurity=False).hexdigest(),
                len(data),
                data[:16] if relpath.startswith(PICTURES_PREFIX) else b"",
            )
        )
    return found
