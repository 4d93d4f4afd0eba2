"""Identity providers as catalog sources (``type: github-teams``, ``entra``, ``okta``,
``google-workspace``): the org is fetched, written as descriptors into the build's cache
(``<cache>/org/<source>/``, the same files ``backlot org sync`` writes into an org
repository) and read from there like any checkout, so its entities go through the same
checks, with files and lines in every message.

A provider that fails, or a sync the shrink guard refuses, keeps the last good org: its
files are served as they were, marked stale (the entity pages say *Out of date* and why).
Without an earlier org to fall back on, the source cannot be read and the build stops,
as for any source: its owners would otherwise look deleted.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import OrgSource
from ..org import (
    GROUPS_DIR,
    USERS_DIR,
    FolderSync,
    OrgSourceError,
    last_sync,
    open_provider,
    org_files,
    sync_folder,
)
from ..text import counted
from ._repository import LocalRepository, SourceError
from .local import find_descriptors

__all__ = ["OrgReport", "OrgRepository", "open_org_source", "org_folder"]

DESCRIPTORS = (f"{GROUPS_DIR}*.yaml", f"{USERS_DIR}*.yaml")


@dataclass(frozen=True, kw_only=True)
class OrgRepository(LocalRepository):
    """The org's descriptors in the cache; stale (with why and since when) when this
    build could not renew them."""

    stale_reason: str = ""
    stale_since: str = ""

    def stale(self, relpath: str) -> tuple[str, str] | None:
        return (self.stale_reason, self.stale_since) if self.stale_reason else None


@dataclass
class OrgReport:
    """What reading one identity provider found and cost."""

    title: str
    label: str
    sync: FolderSync | None
    requests: int = 0
    error: str = ""
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.error:
            return f"{self.title} {self.label}: {self.error}; the last good org is used"
        assert self.sync is not None
        requests = counted(self.requests, "request")
        line = f"{self.title} {self.label}: {self.sync.summary()} ({requests})"
        if self.sync.refused:
            line += "; the last good org is used"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.label,
            "requests": self.requests,
            "error": self.error,
            "refused": self.sync.refused if self.sync else "",
            "groups": self.sync.groups if self.sync else 0,
            "users": self.sync.users if self.sync else 0,
            "notes": list(self.notes),
        }


def org_folder(cache_dir: Path, settings: OrgSource) -> Path:
    """The cache folder of one org source: named by its type and what identifies it."""
    identity = settings.model_dump_json(include=_IDENTITY.get(settings.type, set()))
    digest = hashlib.sha256(f"{settings.type}\n{identity}".encode()).hexdigest()[:12]
    return cache_dir / "org" / f"{settings.type}-{digest}"


_IDENTITY = {
    "github-teams": {"org", "api_url", "teams"},
    "entra": {"tenant_id", "group_filter", "group_search", "user_filter"},
    "okta": {"org_url", "group_filter"},
    "google-workspace": {"customer", "domain", "group_query"},
}


def open_org_source(
    settings: OrgSource, cache_dir: Path, env: Mapping[str, str] | None = None
) -> tuple[OrgRepository, OrgReport]:
    env = os.environ if env is None else env
    provider = open_provider(settings, env)
    folder = org_folder(cache_dir, settings)
    label = provider_label(settings)
    try:
        org = provider.fetch()
    except OrgSourceError as exc:
        # Asked after the fetch: a provider learns access tokens while it runs.
        error = _scrub(str(exc), provider.secrets())
        report = OrgReport(provider.title, label, None, error=error)
        return _last_good(folder, label, error), report
    sync = sync_folder(
        folder,
        org_files(org),
        org.source,
        max_shrink=settings.max_shrink,
        force=settings.force,
    )
    report = OrgReport(provider.title, label, sync, org.requests, notes=tuple(org.notes))
    if sync.refused:
        return _last_good(folder, label, sync.refused), report
    return _repository(folder, label), report


def provider_label(settings: OrgSource) -> str:
    """How messages and pages name an org source: ``github-teams:acme``."""
    ident = {
        "github-teams": getattr(settings, "org", ""),
        "entra": getattr(settings, "tenant_id", ""),
        "okta": getattr(settings, "org_url", ""),
        "google-workspace": getattr(settings, "domain", None) or getattr(settings, "customer", ""),
    }[settings.type]
    return f"{settings.type}:{ident}"


def _repository(folder: Path, label: str, reason: str = "", since: str = "") -> OrgRepository:
    return OrgRepository(
        name=label,
        root=folder,
        descriptors=find_descriptors(folder, DESCRIPTORS),
        stale_reason=reason,
        stale_since=since,
    )


def _last_good(folder: Path, label: str, reason: str) -> OrgRepository:
    synced = last_sync(folder)
    if not synced:
        raise SourceError(f"{label}: {reason}; and there is no earlier org to fall back on")
    return _repository(folder, label, reason, str(synced.get("syncedAt", "")))


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
