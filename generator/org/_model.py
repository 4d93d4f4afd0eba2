"""An organisation as an identity provider describes it: groups (with their parent and
members) and users, named the way Backstage's own org providers name them, so ownership
refs already written in descriptors keep resolving when an organisation switches to
Backlot.

Each provider (``github_teams.py``, ``entra.py``, ``okta.py``, ``google_workspace.py``) is one
module with a class satisfying ``OrgProvider``: it fetches the whole org (paging and rate
limits are its own), applies the settings' filters and naming strategy, and returns an
``Org``; it raises ``OrgSourceError`` with one clear message when it cannot (no
credentials, refused, the API down), never with a credential in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..errors import BacklotError

__all__ = ["Org", "OrgGroup", "OrgProvider", "OrgSourceError", "OrgUser"]


class OrgSourceError(BacklotError):
    """An identity provider could not be read; the message says which and why."""


@dataclass(frozen=True)
class OrgUser:
    name: str  # the entity name (metadata.name), already normalised by the naming strategy
    display_name: str = ""
    email: str = ""
    picture: str = ""  # an http(s) URL, as the provider gives it
    annotations: dict[str, str] = field(default_factory=dict)  # the provider's ids


@dataclass(frozen=True)
class OrgGroup:
    name: str
    display_name: str = ""
    description: str = ""
    email: str = ""
    picture: str = ""
    type: str = "team"  # spec.type
    parent: str | None = None  # a group name of the same org
    members: tuple[str, ...] = ()  # user names of the same org
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Org:
    """What one provider said: groups and users by name, and what it cost."""

    source: str  # "github-teams:acme", "entra:<tenant>", …: where it came from
    groups: dict[str, OrgGroup] = field(default_factory=dict)
    users: dict[str, OrgUser] = field(default_factory=dict)
    requests: int = 0
    notes: list[str] = field(default_factory=list)  # what was skipped, and why

    def add_group(self, group: OrgGroup) -> None:
        """Two groups whose names normalise alike: the first is kept, the clash noted."""
        if group.name in self.groups:
            self.notes.append(f"two groups are named {group.name!r}: the second is left out")
            return
        self.groups[group.name] = group

    def add_user(self, user: OrgUser) -> None:
        if user.name in self.users:
            self.notes.append(f"two users are named {user.name!r}: the second is left out")
            return
        self.users[user.name] = user


class OrgProvider(Protocol):
    """Constructed as ``Provider(settings, env)``: its ``backlot.yaml`` source settings and
    the environment it reads credentials from."""

    title: str  # "GitHub teams", "Microsoft Entra ID", "Okta", "Google Workspace"

    def fetch(self) -> Org:
        """The whole org, filtered and named; raises OrgSourceError when it cannot."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Credentials it holds: never written to any output."""
        ...
