"""Where an entity's pages live: the portal's and its TechDocs', as relative site paths.

One layout for every stage: the site writes pages there and links them, the docs stage
links back from a docs site to its entity's page, and the portal's script reads the
page's own address from the page (never rebuilding it from a key). Paths are relative to
the portal's root and name ``index.html``, so links work at any base path and from disk.
"""

from __future__ import annotations

import functools
import hashlib
from urllib.parse import quote

from ._refs import EntityRef

__all__ = [
    "BADGES_PREFIX",
    "DOCS_PREFIX",
    "PICTURES_PREFIX",
    "badge_file",
    "docs_site_dir",
    "entity_dir",
    "entity_page",
    "picture_file",
    "portal_link_from_docs",
]

DOCS_PREFIX = "docs/"  # where the portal serves TechDocs (the bucket's prefix, by the CDN)
# README badges, one folder per entity; served without sign-in behind the edge check.
BADGES_PREFIX = "badges/"
# Group and User pictures, copied at build time (site/_pictures.py): named by their URL,
# not their format, so the type of one is read from its bytes (publish/_files.py).
PICTURES_PREFIX = "pictures/"


def entity_dir(ref_key: str) -> str:
    """``component:default/orders`` → ``catalog/default/component/orders/``."""
    return f"catalog/{_entity_folder(ref_key)}/"


def entity_page(ref_key: str) -> str:
    """The site path of an entity's page file; pages put their ``root`` in front of it."""
    return entity_dir(ref_key) + "index.html"


def badge_file(ref_key: str, badge: str) -> str:
    """``component:default/orders``, "owner" → ``badges/default/component/orders/owner.svg``:
    the entity's folder, as below ``catalog/`` and ``docs/``."""
    return f"{BADGES_PREFIX}{_entity_folder(ref_key)}/{badge}.svg"


# Remembered: every page links dozens of entities, and a build with nothing changed asks
# for each entity's folders a dozen times (at 50,000 entities, 790,000 calls took 6.4 s
# in a profile; remembered, 550,000 take 0.3 s).
@functools.cache
def _entity_folder(ref_key: str) -> str:
    return quote(EntityRef.from_key(ref_key).storage_path)


def picture_file(url: str) -> str:
    """Where the portal serves the picture of ``spec.profile.picture`` ``url``: a name
    that changes exactly when the URL does (``.image``: whatever raster type it holds)."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    return f"{PICTURES_PREFIX}{digest}.image"


def docs_site_dir(storage_path: str) -> str:
    """The site path of the TechDocs stored at ``<namespace>/<kind>/<name>``."""
    return f"{DOCS_PREFIX}{storage_path}/"


def portal_link_from_docs(storage_path: str) -> str:
    """From a docs site's root (``docs/<namespace>/<kind>/<name>/``) back to its entity's
    page in the portal: four folders up, then the entity page."""
    namespace, kind, name = storage_path.split("/")
    return "../" * (docs_site_dir(storage_path).count("/")) + entity_page(
        EntityRef(kind, namespace, name).key
    )
