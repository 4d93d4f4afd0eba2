"""Google Workspace: groups, their members and users through the Admin SDK Directory API,
with a service account acting as an admin (domain-wide delegation), shaped as the
community Google Workspace (gsuite) org providers for Backstage shape them:

- Groups named by their e-mail's local part (``email-local-part``) or the whole address
  normalised (``email``); the group's name is its display name, its description and
  e-mail its own; ``spec.type`` is ``team``.
- Users named the same way from ``primaryEmail``; ``name.fullName`` is the display name,
  ``thumbnailPhotoUrl`` the picture. Suspended users are left out, as Directory's
  ``query=isSuspended=false`` would.
- Hierarchy from nested groups: a group that is a member (type ``GROUP``) of another is
  its child. Backstage gives a group one parent: a group nested in several takes the first
  listed, and the others are noted.
- The Directory ids are kept as ``google.com/group-id`` and ``google.com/user-id``.

Cost: one token request, one per page of groups (200 a page) and of users (500), and one
per page of each group's members (200): N groups cost N + 3 requests for a small org.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from ..config import GoogleWorkspaceSource
from ._model import Org, OrgGroup, OrgSourceError, OrgUser
from ._naming import email_local_part, normalize_name
from ._rest import RestClient

__all__ = ["GROUP_ID", "SCOPES", "USER_ID", "GoogleWorkspaceProvider"]

GROUP_ID = "google.com/group-id"
USER_ID = "google.com/user-id"
SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
)
GROUP_PAGE = 200  # the Directory API's largest pages
MEMBER_PAGE = 200
USER_PAGE = 500
MAX_WAIT = 60.0  # seconds one fetch may wait in all for Google's rate limits
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class GoogleWorkspaceProvider:
    title = "Google Workspace"

    def __init__(
        self,
        settings: GoogleWorkspaceSource,
        env: Mapping[str, str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.settings = settings
        self.directory = settings.directory_url.rstrip("/")
        self._sleep = sleep
        self._clock = clock
        self._max_wait = max_wait
        self._raw_key = env.get(settings.credentials_env, "").strip()
        self._private_key = ""
        self._access_token = ""
        self._throttled = 0
        try:
            key = json.loads(self._raw_key) if self._raw_key else {}
        except ValueError:
            key = {}
        if isinstance(key, dict) and isinstance(key.get("private_key"), str):
            self._private_key = key["private_key"]

    def __repr__(self) -> str:
        return f"GoogleWorkspaceProvider({self.settings.domain or self.settings.customer!r})"

    def secrets(self) -> tuple[str, ...]:
        found = (self._raw_key, self._private_key.strip(), self._access_token)
        return tuple(s for s in found if s)

    # ------------------------------------------------------------------ fetch

    def fetch(self) -> Org:
        s = self.settings
        client = RestClient(
            "Google Workspace",
            timeout=s.timeout_seconds,
            throttle=self._throttle,
            sleep=self._sleep,
            max_wait=self._max_wait,
        )
        org = Org(source=f"google-workspace:{s.domain or s.customer}")
        self._throttled = 0  # the backoff doubles within one fetch, not across them
        try:
            authorization = self._authorization(client)
            self._read(client, authorization, org)
        finally:
            org.requests = client.requests
            client.close()
        return org

    def _read(self, client: RestClient, authorization: str, org: Org) -> None:
        s = self.settings
        scope = {"domain": s.domain} if s.domain else {"customer": s.customer}
        user_names: dict[str, str] = {}  # Directory id and lowercased e-mail → entity name
        users = self._list(
            client,
            authorization,
            "/admin/directory/v1/users",
            {**scope, "maxResults": str(USER_PAGE), "projection": "basic"},
            "users",
        )
        for item in users:
            if item.get("suspended") is True:
                continue
            email = _text(item.get("primaryEmail"))
            name = self._name(email, s.user_naming)
            if not name:
                org.notes.append(f"Google user {item.get('id')} has no primary e-mail: left out")
                continue
            full = item.get("name")
            display = _text(full.get("fullName")) if isinstance(full, dict) else ""
            before = len(org.users)
            org.add_user(
                OrgUser(
                    name=name,
                    display_name=display,
                    email=email,
                    picture=_text(item.get("thumbnailPhotoUrl")),
                    annotations={USER_ID: str(item.get("id", ""))} if item.get("id") else {},
                )
            )
            if len(org.users) > before:
                user_names[email.lower()] = name
                if item.get("id"):
                    user_names[str(item["id"])] = name
        params = {**scope, "maxResults": str(GROUP_PAGE)}
        if s.group_query:
            params["query"] = s.group_query
        raw = list(
            self._list(client, authorization, "/admin/directory/v1/groups", params, "groups")
        )
        named: list[tuple[dict[str, Any], str]] = []
        group_names: dict[str, str] = {}  # id and lowercased e-mail → entity name
        for group in raw:
            email = _text(group.get("email"))
            name = self._name(email, s.group_naming)
            if not name:
                org.notes.append(f"Google group {group.get('id')} has no e-mail: left out")
                continue
            named.append((group, name))
            group_names.setdefault(email.lower(), name)
            if group.get("id"):
                group_names.setdefault(str(group["id"]), name)
        members: dict[str, list[str]] = {}
        parents: dict[str, list[str]] = {}
        for group, name in named:
            users_in, groups_in = self._members(client, authorization, group, name, org)
            members[name] = [user_names[k] for k in users_in if k in user_names]
            for key in groups_in:
                child = group_names.get(key)
                if child is not None and child != name:
                    parents.setdefault(child, []).append(name)
        for group, name in named:
            parent = None
            if parents.get(name):
                parent, *others = parents[name]
                if others:
                    org.notes.append(
                        f"Google group {name!r} is nested in {', '.join(repr(o) for o in others)} "
                        f"too: its parent is {parent!r} (Backstage gives a group one parent)"
                    )
            org.add_group(
                OrgGroup(
                    name=name,
                    display_name=_text(group.get("name")),
                    description=_text(group.get("description")),
                    email=_text(group.get("email")),
                    type="team",
                    parent=parent,
                    members=tuple(sorted(set(members.get(name, ())))),
                    annotations={GROUP_ID: str(group["id"])} if group.get("id") else {},
                )
            )

    def _members(
        self, client: RestClient, authorization: str, group: dict[str, Any], name: str, org: Org
    ) -> tuple[list[str], list[str]]:
        """The keys (id, else lowercased e-mail) of a group's user and group members."""
        key = str(group.get("id") or group.get("email"))
        path = f"/admin/directory/v1/groups/{quote(key, safe='')}/members"
        users: list[str] = []
        groups: list[str] = []
        try:
            listed = self._list(
                client, authorization, path, {"maxResults": str(MEMBER_PAGE)}, "members", name
            )
            for member in listed:
                ident = str(member.get("id") or _text(member.get("email")).lower())
                kind = member.get("type")
                if kind == "USER":
                    users.append(ident)
                elif kind == "GROUP":
                    groups.append(ident)
        except _Unreadable as exc:
            org.notes.append(f"the members of Google group {name!r} cannot be read: {exc}")
            return [], []
        return users, groups

    def _name(self, email: str, strategy: str) -> str:
        if "@" not in email:
            return ""
        return normalize_name(email) if strategy == "email" else email_local_part(email)

    # ------------------------------------------------------------------ HTTP

    def _list(
        self,
        client: RestClient,
        authorization: str,
        path: str,
        params: dict[str, str],
        key: str,
        member_of: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a Directory list, page by ``pageToken``."""
        token = ""
        while True:
            query = {**params, "pageToken": token} if token else params
            url = f"{self.directory}{path}?{urlencode(query)}"
            answer = client.request("GET", url, headers={"Authorization": authorization})
            status = answer.status_code
            if status != 200:
                problem = f"HTTP {status}{self._reason(answer)}"
                if status == 401:
                    raise OrgSourceError(
                        f"Google Workspace refused the service account's token ({problem})"
                    )
                if member_of is not None and status in (403, 404):
                    raise _Unreadable(problem)
                if status == 403:
                    raise OrgSourceError(
                        f"Google Workspace refused to list {key} ({problem}): the service "
                        f"account needs domain-wide delegation of the Directory read-only "
                        f"scopes, acting as {self.settings.subject}, an admin"
                    )
                if status == 400 and key == "groups" and self.settings.group_query:
                    raise OrgSourceError(
                        f"Google Workspace did not take the group_query ({problem})"
                    )
                raise OrgSourceError(f"Google Workspace answered the {key} list with {problem}")
            try:
                body = answer.json()
            except ValueError:
                raise OrgSourceError(
                    f"Google Workspace answered the {key} list with no JSON"
                ) from None
            if not isinstance(body, dict):
                raise OrgSourceError(f"Google Workspace answered the {key} list with no object")
            items = body.get(key) or []
            yield from (i for i in items if isinstance(i, dict)) if isinstance(items, list) else ()
            token = body.get("nextPageToken") or ""
            if not isinstance(token, str) or not token:
                return

    def _throttle(self, answer: httpx.Response) -> float | None:
        if answer.status_code == 429 or (
            answer.status_code == 403 and _reasons(answer) & _RATE_REASONS
        ):
            # Google asks for exponential backoff; Retry-After, when it says more, wins.
            self._throttled += 1
            wait = float(min(2 ** (self._throttled - 1), 16))
            with contextlib.suppress(ValueError):
                wait = max(wait, float(answer.headers.get("retry-after", "0")))
            return wait
        return None

    def _reason(self, answer: httpx.Response) -> str:
        try:
            body = answer.json()
        except ValueError:
            return ""
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        if not isinstance(message, str) or not message:
            return ""
        return f": {self._scrub(message)[:200]}"

    def _authorization(self, client: RestClient) -> str:
        s = self.settings
        if not self._raw_key:
            raise OrgSourceError(
                f"${s.credentials_env} is not set (the service account's JSON key)"
            )
        try:
            key = json.loads(self._raw_key)
        except ValueError:
            key = None
        if not isinstance(key, dict) or not self._private_key or not key.get("client_email"):
            raise OrgSourceError(
                f"${s.credentials_env} is not a service account's JSON key "
                "(it needs client_email and private_key)"
            )
        assertion = self._assertion(str(key["client_email"]), key.get("private_key_id"))
        form = {"grant_type": _JWT_GRANT, "assertion": assertion}
        answer = client.request("POST", s.token_url, data=form)
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            detail = body.get("error_description", "") if isinstance(body, dict) else ""
            why = ": ".join(str(p) for p in (error, detail) if p) or "no reason given"
            raise OrgSourceError(
                f"Google ({urlsplit(s.token_url).netloc}) refused the service account "
                f"{key['client_email']} a token as {s.subject} (HTTP {answer.status_code}, "
                f"{self._scrub(why)[:200]})"
            )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise OrgSourceError("Google gave the service account no access token")
        self._access_token = token
        return f"Bearer {token}"

    def _assertion(self, client_email: str, key_id: object) -> str:
        import jwt  # PyJWT, with the cryptography backend for RS256

        now = int(self._clock())
        claims = {
            "iss": client_email,
            "sub": self.settings.subject,
            "scope": " ".join(SCOPES),
            "aud": self.settings.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        headers = {"kid": key_id} if isinstance(key_id, str) and key_id else None
        try:
            return str(jwt.encode(claims, self._private_key, algorithm="RS256", headers=headers))
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise OrgSourceError(
                f"the service account's private key (${self.settings.credentials_env}) cannot "
                f"sign ({type(exc).__name__})"
            ) from None

    def _scrub(self, text: str) -> str:
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text


class _Unreadable(Exception):
    """One group's members cannot be read (refused, or gone since it was listed)."""


def _reasons(answer: httpx.Response) -> set[str]:
    try:
        body = answer.json()
    except ValueError:
        return set()
    error = body.get("error") if isinstance(body, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    if not isinstance(errors, list):
        return set()
    return {str(e.get("reason")) for e in errors if isinstance(e, dict)}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
