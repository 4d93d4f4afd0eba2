"""Where each page lives, and relative links between pages.

Every link is relative, so the site works at a CDN's root, under ``/portal/``, or
opened from disk: pages know their site path, and templates put ``root`` (``../`` once per
folder level) in front of it. Links name ``index.html`` explicitly, because a link to a
folder does not open its index when the site is opened from disk. Entity pages follow the
layout in ``model`` (shared with the docs stage); the portal's own pages are named here.
"""

from __future__ import annotations

import posixpath

__all__ = ["page_file"]


def page_file(page_dir: str) -> str:
    """The file that holds the page at ``page_dir`` (``""`` is the home page)."""
    return posixpath.join(page_dir, "index.html") if page_dir else "index.html"
