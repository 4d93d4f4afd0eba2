"""Where each page lives, and relative links between pages.

Every link is relative, so the site works at a CDN's root, under ``/portal/``, or
opened from disk. Pages are folders with an ``index.html``; links to them end in ``/``
(and ``index.html`` when the site is opened from disk, where folders do not resolve).
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote

__all__ = ["entity_dir", "page_file", "relative"]


def entity_dir(ref_key: str) -> str:
    """``component:default/orders`` → ``catalog/default/component/orders/``, lowercase."""
    kind, _, rest = ref_key.partition(":")
    namespace, _, name = rest.partition("/")
    return f"catalog/{quote(namespace.lower())}/{quote(kind.lower())}/{quote(name.lower())}/"


def page_file(page_dir: str) -> str:
    """The file that holds the page at ``page_dir`` (``""`` is the home page)."""
    return posixpath.join(page_dir, "index.html") if page_dir else "index.html"


def relative(from_dir: str, to_path: str) -> str:
    """A link from the page in ``from_dir`` to ``to_path`` (a page dir or a file).

    Links to pages name ``index.html`` explicitly: a link to a folder does not open its
    index when the site is opened from disk.
    """
    target = page_file(to_path) if to_path == "" or to_path.endswith("/") else to_path
    start = from_dir.rstrip("/") or "."
    return posixpath.relpath(target, start)
