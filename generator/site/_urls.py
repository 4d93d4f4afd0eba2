"""Where each page lives, and relative links between pages.

Every link is relative, so the site works at a CDN's root, under ``/portal/``, or
opened from disk: pages know their site path, and templates put ``root`` (``../`` once per
folder level) in front of it. Links name ``index.html`` explicitly, because a link to a
folder does not open its index when the site is opened from disk.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote

__all__ = ["entity_dir", "entity_page", "page_file"]


def entity_dir(ref_key: str) -> str:
    """``component:default/orders`` → ``catalog/default/component/orders/``, lowercase."""
    kind, _, rest = ref_key.partition(":")
    namespace, _, name = rest.partition("/")
    return f"catalog/{quote(namespace.lower())}/{quote(kind.lower())}/{quote(name.lower())}/"


def entity_page(ref_key: str) -> str:
    """The site path of an entity's page file; templates put ``root`` in front of it."""
    return entity_dir(ref_key) + "index.html"


def page_file(page_dir: str) -> str:
    """The file that holds the page at ``page_dir`` (``""`` is the home page)."""
    return posixpath.join(page_dir, "index.html") if page_dir else "index.html"
