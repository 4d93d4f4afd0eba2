"""Org structure from where it lives: identity providers (GitHub teams, Microsoft Entra ID,
Okta, Google Workspace) as Backstage Group and User entities.

Two ways to use them, one representation: the org's descriptors as files (``org_files``),
written into a folder by ``sync_folder`` — an org repository a scheduled workflow keeps in
sync and people review (``backlot org sync DIR``), or the build's cache, read as one more
catalog source (``sources/org.py``). Each provider is one module (``OrgProvider``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import cast

from ..config import OrgSource
from ._folder import MANIFEST, FolderSync, last_sync, sync_folder
from ._model import Org, OrgGroup, OrgProvider, OrgSourceError, OrgUser
from ._naming import email_local_part, kebab_case, normalize_name
from ._render import GROUPS_DIR, ORG_INDEX, USERS_DIR, org_entities, org_files, org_location

__all__ = [
    "GROUPS_DIR",
    "MANIFEST",
    "ORG_INDEX",
    "USERS_DIR",
    "FolderSync",
    "Org",
    "OrgGroup",
    "OrgProvider",
    "OrgSourceError",
    "OrgUser",
    "email_local_part",
    "kebab_case",
    "last_sync",
    "normalize_name",
    "open_provider",
    "org_entities",
    "org_files",
    "org_location",
    "sync_folder",
]


def open_provider(settings: OrgSource, env: Mapping[str, str] | None = None) -> OrgProvider:
    """The provider of one org source's settings (nothing is read until ``fetch``)."""
    env = os.environ if env is None else env
    module_name, class_name = _PROVIDERS[settings.type]
    try:
        module = importlib.import_module(f".{module_name}", __name__)
    except ModuleNotFoundError:
        raise OrgSourceError(f"sources of type {settings.type!r} are not available yet") from None
    return cast(OrgProvider, getattr(module, class_name)(settings, env))


# Each provider is one module of this package, imported when a source of its type is used.
_PROVIDERS = {
    "github-teams": ("github_teams", "GitHubTeamsProvider"),
    "entra": ("entra", "EntraProvider"),
    "okta": ("okta", "OktaProvider"),
    "google-workspace": ("google_workspace", "GoogleWorkspaceProvider"),
}
