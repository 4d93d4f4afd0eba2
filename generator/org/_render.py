"""An ``Org`` as Backstage descriptors: one file per group and per user, in a stable order
with stable bytes, so a sync that learnt nothing new rewrites nothing and a pull request
shows exactly what changed in the identity provider."""

from __future__ import annotations

from typing import Any

import yaml

from ._model import Org
from ._naming import normalize_name

__all__ = ["GROUPS_DIR", "ORG_INDEX", "USERS_DIR", "org_entities", "org_files", "org_location"]

GROUPS_DIR = "groups/"
USERS_DIR = "users/"
API_VERSION = "backstage.io/v1alpha1"
ORG_INDEX = "catalog-info.yaml"  # an org repository's Location of its groups and users


def org_entities(org: Org) -> list[dict[str, Any]]:
    """Group and User entities as Backstage's providers shape them: groups carry their
    parent and children, users the groups they are members of (``spec.memberOf``).
    References to groups or users the org does not hold (filtered out) are dropped."""
    children: dict[str, list[str]] = {name: [] for name in org.groups}
    member_of: dict[str, set[str]] = {name: set() for name in org.users}
    for group in org.groups.values():
        if group.parent in children and group.parent != group.name:
            children[group.parent].append(group.name)
        for user in group.members:
            if user in member_of:
                member_of[user].add(group.name)
    entities: list[dict[str, Any]] = []
    for name in sorted(org.groups):
        g = org.groups[name]
        spec: dict[str, Any] = {"type": g.type}
        profile = _profile(g.display_name, g.email, g.picture)
        if profile:
            spec["profile"] = profile
        if g.parent in org.groups and g.parent != name:
            spec["parent"] = g.parent
        spec["children"] = sorted(children[name])
        entities.append(_entity("Group", name, g.description, g.annotations, spec))
    for name in sorted(org.users):
        u = org.users[name]
        spec = {}
        profile = _profile(u.display_name, u.email, u.picture)
        if profile:
            spec["profile"] = profile
        spec["memberOf"] = sorted(member_of[name])
        entities.append(_entity("User", name, "", u.annotations, spec))
    return entities


def org_files(org: Org) -> dict[str, bytes]:
    """``groups/<name>.yaml`` and ``users/<name>.yaml``, each one descriptor."""
    header = f"# Written by backlot org sync from {org.source}: edit it there, not here.\n"
    files = {}
    for entity in org_entities(org):
        folder = GROUPS_DIR if entity["kind"] == "Group" else USERS_DIR
        text = yaml.safe_dump(
            entity, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
        )
        files[f"{folder}{entity['metadata']['name']}.yaml"] = (header + text).encode("utf-8")
    return files


def org_location(org: Org) -> bytes:
    """The org repository's ``catalog-info.yaml``: a Location of its group and user files,
    so the repository is found as any other (by its default descriptor name)."""
    entity = {
        "apiVersion": API_VERSION,
        "kind": "Location",
        "metadata": {
            "name": normalize_name(f"org-{org.source}"),
            "description": f"Groups and users from {org.source}, written by backlot org sync.",
        },
        "spec": {"type": "file", "targets": [f"./{GROUPS_DIR}*.yaml", f"./{USERS_DIR}*.yaml"]},
    }
    text = yaml.safe_dump(entity, sort_keys=False, allow_unicode=True, width=1000)
    return (f"# Written by backlot org sync: edit {org.source} instead.\n" + text).encode()


def _profile(display_name: str, email: str, picture: str) -> dict[str, str]:
    profile = {}
    if display_name:
        profile["displayName"] = display_name
    if email:
        profile["email"] = email
    if picture.startswith(("https://", "http://")) or _small_image(picture):
        profile["picture"] = picture
    return profile


# Backstage's Microsoft Graph provider embeds photos as data URIs; a bounded one is kept
# (the portal serves it as a file of its own, never inline).
MAX_DATA_PICTURE = 96 * 1024
_DATA_PICTURE = ("data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,",
                 "data:image/webp;base64,")  # fmt: skip


def _small_image(picture: str) -> bool:
    return picture.startswith(_DATA_PICTURE) and len(picture) <= MAX_DATA_PICTURE


def _entity(
    kind: str, name: str, description: str, annotations: dict[str, str], spec: dict[str, Any]
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if description:
        metadata["description"] = description
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}
