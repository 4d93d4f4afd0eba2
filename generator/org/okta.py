"""Okta: groups, users and memberships through the Okta REST API, named and shaped as
Roadie's ``@roadiehq/catalog-backend-module-okta`` (``OktaOrgEntityProvider``) names them,
so ``group:default/…`` and ``user:default/…`` refs written for it keep resolving.

- Groups: ``kebab-case-name`` (lodash's ``kebabCase`` of ``profile.name``, whose word
  splitting is not a plain "non-alphanumerics to -": ``APIGateway`` → ``api-gateway``),
  ``id``, or ``profile-name`` (normalised: Roadie's raw name may not be a valid entity
  name). ``spec.type`` is ``group``, the profile name its display name, the profile
  description its description.
- Users: ``strip-domain-email`` (the e-mail's local part), ``email`` or ``id``; every user
  ``/api/v1/users`` lists (Okta leaves out deprovisioned ones), members of a group only
  among them.
- Hierarchy as Roadie's ``hierarchyConfig``: a group's ``parent_key`` attribute (e.g.
  ``profile.parentOrgId``) names its parent by the parent's ``key`` attribute (e.g.
  ``profile.orgId``; without one, by the parent's entity name).
- Annotations: Roadie sets only the location annotations, which Backlot's catalog writes
  itself; the Okta ids are kept as ``okta.com/group-id`` and ``okta.com/user-id``.

Cost: one request per page of users and of groups (200 a page), and one per page of each
group's members: N groups cost N + 2 requests and a few more for large ones.
"""

from __future__ import annotations

import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from ..config import OktaSource
from ._model import Org, OrgGroup, OrgSourceError, OrgUser
from ._naming import MAX_NAME, email_local_part, normalize_name
from ._rest import RestClient, same_origin

__all__ = ["GROUP_ID", "USER_ID", "OktaProvider", "lodash_kebab_case"]

GROUP_ID = "okta.com/group-id"
USER_ID = "okta.com/user-id"
PAGE = 200  # Okta's largest page for /groups and /users
MAX_WAIT = 60.0  # seconds one fetch may wait in all for Okta's rate limits
_VALID_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")


class OktaProvider:
    title = "Okta"

    def __init__(
        self,
        settings: OktaSource,
        env: Mapping[str, str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = MAX_WAIT,
        hierarchy: tuple[str, str | None] | None = None,
    ) -> None:
        self.settings = settings
        self.base = settings.org_url.rstrip("/")
        self._sleep = sleep
        self._clock = clock
        self._max_wait = max_wait
        # (parent_key, key), Roadie's hierarchyConfig.
        if hierarchy is None and settings.hierarchy is not None:
            hierarchy = (settings.hierarchy.parent_key, settings.hierarchy.key)
        self.hierarchy = hierarchy
        self._token = env.get(settings.token_env, "").strip()
        self._key = env.get(settings.oauth.private_key_env, "").strip() if settings.oauth else ""
        self._access_token = ""

    def __repr__(self) -> str:
        return f"OktaProvider({self.base!r})"

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._token, self._key, self._access_token) if s)

    # ------------------------------------------------------------------ fetch

    def fetch(self) -> Org:
        if not self.base.startswith(("https://", "http://")):
            raise OrgSourceError(f"Okta org_url {self.base!r} is not an http(s) address")
        client = RestClient(
            "Okta",
            timeout=self.settings.timeout_seconds,
            throttle=self._throttle,
            sleep=self._sleep,
            max_wait=self._max_wait,
        )
        org = Org(source=f"okta:{self.base}")
        try:
            authorization = self._authorization(client)
            self._read(client, authorization, org)
        finally:
            org.requests = client.requests
            client.close()
        return org

    def _read(self, client: RestClient, authorization: str, org: Org) -> None:
        s = self.settings
        user_names: dict[str, str] = {}  # Okta id → entity name
        for item in self._list(client, authorization, "/api/v1/users", {}):
            user = self._user(item, org)
            if user is None:
                continue
            before = len(org.users)
            org.add_user(user)
            if len(org.users) > before:
                user_names[str(item["id"])] = user.name
        params = {"search": s.group_filter} if s.group_filter else {}
        raw_groups = [
            g
            for g in self._list(client, authorization, "/api/v1/groups", params)
            if isinstance(g.get("id"), str)
        ]
        named: list[tuple[dict[str, Any], str]] = []
        for group in raw_groups:
            name = self._group_name(group)
            if not name:
                org.notes.append(f"Okta group {group['id']} has no usable name: left out")
                continue
            named.append((group, name))
        parents = self._parents(named)
        for group, name in named:
            members = self._members(client, authorization, group, name, user_names, org)
            profile = group.get("profile") or {}
            org.add_group(
                OrgGroup(
                    name=name,
                    display_name=_text(profile.get("name")),
                    description=_text(profile.get("description")),
                    type="group",
                    parent=parents.get(name),
                    members=tuple(sorted(set(members))),
                    annotations={GROUP_ID: str(group["id"])},
                )
            )

    def _members(
        self,
        client: RestClient,
        authorization: str,
        group: dict[str, Any],
        name: str,
        user_names: dict[str, str],
        org: Org,
    ) -> list[str]:
        path = f"/api/v1/groups/{quote(str(group['id']), safe='')}/users"
        try:
            return [
                user_names[str(u.get("id"))]
                for u in self._list(client, authorization, path, {}, member_of=name)
                if str(u.get("id")) in user_names
            ]
        except _Unreadable as exc:
            org.notes.append(f"the members of Okta group {name!r} cannot be read: {exc}")
            return []

    def _parents(self, named: list[tuple[dict[str, Any], str]]) -> dict[str, str]:
        if self.hierarchy is None:
            return {}
        parent_key, key = self.hierarchy
        by_key: dict[str, str] = {}
        for group, name in named:
            ident = _attribute(group, key) if key else name
            if ident is not None:
                by_key.setdefault(ident, name)
        parents = {}
        for group, name in named:
            ident = _attribute(group, parent_key)
            parent = by_key.get(ident) if ident is not None else None
            if parent is not None and parent != name:
                parents[name] = parent
        return parents

    # ------------------------------------------------------------------ naming

    def _group_name(self, group: dict[str, Any]) -> str:
        profile_name = _text((group.get("profile") or {}).get("name"))
        strategy = self.settings.group_naming
        if strategy == "id":
            return _id_name(str(group["id"]))
        if strategy == "profile-name":
            return normalize_name(profile_name)
        return lodash_kebab_case(profile_name)

    def _user(self, item: dict[str, Any], org: Org) -> OrgUser | None:
        ident = item.get("id")
        profile = item.get("profile") or {}
        if not isinstance(ident, str) or not isinstance(profile, dict):
            return None
        email = _text(profile.get("email"))
        strategy = self.settings.user_naming
        if strategy == "id":
            name = _id_name(ident)
        elif strategy == "email":
            name = normalize_name(email)
        else:
            name = email_local_part(email) if "@" in email else ""
        if not name:
            org.notes.append(f"Okta user {ident} has no e-mail to name it by: left out")
            return None
        display = _text(profile.get("displayName")) or " ".join(
            p for p in (_text(profile.get("firstName")), _text(profile.get("lastName"))) if p
        )
        return OrgUser(name=name, display_name=display, email=email, annotations={USER_ID: ident})

    # ------------------------------------------------------------------ HTTP

    def _list(
        self,
        client: RestClient,
        authorization: str,
        path: str,
        params: dict[str, str],
        member_of: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``Link: <…>; rel="next"``."""
        url: str | None = f"{self.base}{path}?" + urlencode({"limit": str(PAGE), **params})
        while url:
            answer = client.request(
                "GET", url, headers={"Authorization": authorization, "Accept": "application/json"}
            )
            status = answer.status_code
            if status != 200:
                problem = f"HTTP {status}{_summary(answer, self.secrets())}"
                if status == 401:
                    raise OrgSourceError(
                        f"Okta at {self._host} refused the credentials ({problem})"
                    )
                if member_of is not None and status in (403, 404):
                    raise _Unreadable(problem)
                if status == 403:
                    raise OrgSourceError(
                        f"Okta at {self._host} refused to list {path} ({problem}): the token "
                        "needs read access to groups and users"
                    )
                if status == 400 and path == "/api/v1/groups" and self.settings.group_filter:
                    raise OrgSourceError(
                        f"Okta at {self._host} did not take the group_filter search ({problem})"
                    )
                raise OrgSourceError(f"Okta at {self._host} answered {path} with {problem}")
            try:
                items = answer.json()
            except ValueError:
                raise OrgSourceError(f"Okta at {self._host} answered {path} with no JSON") from None
            if not isinstance(items, list):
                raise OrgSourceError(f"Okta at {self._host} answered {path} with no list")
            yield from (i for i in items if isinstance(i, dict))
            url = answer.links.get("next", {}).get("url")
            if url and not same_origin(url, self.base):
                raise OrgSourceError(
                    f"Okta at {self._host} sent a next page on another host "
                    f"({urlsplit(url).netloc}): not followed"
                )

    @property
    def _host(self) -> str:
        return urlsplit(self.base).netloc

    def _throttle(self, answer: httpx.Response) -> float | None:
        if answer.status_code != 429:
            return None
        # X-Rate-Limit-Reset is the epoch second the window reopens.
        reset = answer.headers.get("x-rate-limit-reset", "")
        try:
            return max(0.0, float(reset) - self._clock())
        except ValueError:
            return 1.0

    def _authorization(self, client: RestClient) -> str:
        oauth = self.settings.oauth
        if oauth is None:
            if not self._token:
                raise OrgSourceError(f"${self.settings.token_env} is not set (an Okta API token)")
            return f"SSWS {self._token}"
        if not self._key:
            raise OrgSourceError(
                f"${oauth.private_key_env} is not set (the Okta service app's private key)"
            )
        token_url = f"{self.base}/oauth2/v1/token"
        form = {
            "grant_type": "client_credentials",
            "scope": " ".join(oauth.scopes),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self._assertion(token_url),
        }
        answer = client.request("POST", token_url, data=form)
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            detail = body.get("error_description", "") if isinstance(body, dict) else ""
            why = ": ".join(str(p) for p in (error, detail) if p) or "no reason given"
            raise OrgSourceError(
                f"Okta at {self._host} refused the service app {oauth.client_id!r} a token "
                f"(HTTP {answer.status_code}, {self._scrub(why)[:200]})"
            )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise OrgSourceError(f"Okta at {self._host} gave the service app no access token")
        self._access_token = token
        token_type = str(body.get("token_type") or "Bearer")
        return f"{token_type} {token}"

    def _assertion(self, audience: str) -> str:
        import jwt  # PyJWT, with the cryptography backend for RS256

        oauth = self.settings.oauth
        assert oauth is not None
        now = int(self._clock())
        claims = {
            "iss": oauth.client_id,
            "sub": oauth.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": oauth.key_id} if oauth.key_id else None
        try:
            return str(jwt.encode(claims, self._key, algorithm="RS256", headers=headers))
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            reason = type(exc).__name__
            raise OrgSourceError(
                f"the Okta service app's private key (${oauth.private_key_env}) cannot sign "
                f"({reason}): it must be an RSA key in PEM"
            ) from None

    def _scrub(self, text: str) -> str:
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text


class _Unreadable(Exception):
    """One group's members cannot be read (refused, or gone since it was listed)."""


def _summary(answer: httpx.Response, secrets: tuple[str, ...]) -> str:
    """Okta's ``errorSummary``, when it gave one, without any credential in it."""
    try:
        body = answer.json()
    except ValueError:
        return ""
    summary = body.get("errorSummary") if isinstance(body, dict) else None
    if not isinstance(summary, str) or not summary:
        return ""
    for secret in secrets:
        summary = summary.replace(secret, "***")
    return f": {summary[:200]}"


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _attribute(item: dict[str, Any], dotted: str) -> str | None:
    """lodash's ``get(item, "profile.orgId")``, kept when a string or a number."""
    value: Any = item
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) and value else None


def _id_name(ident: str) -> str:
    """Okta ids (``00g1abcDEF``) are valid entity names as they are; Roadie keeps their case."""
    return ident if _VALID_NAME.match(ident) else normalize_name(ident)


# lodash's words() for ASCII text: its "unicode" word pattern (camelCase humps, runs of
# capitals, digits apart from letters) applies as soon as the text has any of these.
_HAS_COMPOUND = re.compile(r"[a-z][A-Z]|[A-Z]{2}[a-z]|[0-9][a-zA-Z]|[a-zA-Z][0-9]|[^a-zA-Z0-9 ]")
_ASCII_WORD = re.compile(r"[^\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")
_BREAK = r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]"
_COMPOUND_WORD = re.compile(
    "|".join(
        (
            rf"[A-Z]?[a-z]+(?={_BREAK}|[A-Z]|$)",
            rf"[A-Z]+(?={_BREAK}|[A-Z][a-z]|$)",
            r"[A-Z]?[a-z]+",
            r"[A-Z]+",
            r"\d*(?:1ST|2ND|3RD|(?![123])\dTH)(?=\b|[a-z_])",
            r"\d*(?:1st|2nd|3rd|(?![123])\dth)(?=\b|[A-Z_])",
            r"\d+",
        )
    )
)


def lodash_kebab_case(value: str) -> str:
    """lodash's ``kebabCase`` as Roadie's ``kebab-case-name`` applies it to a group's
    profile name: ``"Platform Team (EU)"`` → ``platform-team-eu``, ``"APIGateway"`` →
    ``api-gateway``, ``"team2go"`` → ``team-2-go``; trimmed to an entity name's length."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    text = text.replace("'", "")
    pattern = _COMPOUND_WORD if _HAS_COMPOUND.search(text) else _ASCII_WORD
    words = pattern.findall(text)
    return "-".join(w.lower() for w in words)[:MAX_NAME].rstrip("-")
