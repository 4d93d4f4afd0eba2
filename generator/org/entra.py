"""Microsoft Entra ID (Azure AD) through Microsoft Graph, as Backstage's
MicrosoftGraphOrgEntityProvider (``readMicrosoftGraphOrg`` and its default transformers)
reads it:

- the tenant (``/organization``) is a Group of type ``root`` named from its display name,
  annotated ``graph.microsoft.com/tenant-id``, and the parent of every group that has no
  parent among the groups read;
- a group is named from its ``mailNickname`` (its ``displayName`` when it is a security
  group or has no nickname), annotated ``graph.microsoft.com/group-id``; groups that are
  members of a group are its children;
- a user is named from ``mail`` (or ``userPrincipalName``), annotated
  ``graph.microsoft.com/user-id`` and ``microsoft.com/email``, and is a member of the
  groups it is a direct member of and of all their ancestors (Backstage's
  ``buildMemberOf``); users without a display name or the naming field are left out, as
  Backstage's transformer leaves them out.

Backstage reads each group's members with one request per group (N + 1). Here groups are
listed with their members expanded (``$expand=members``), which Graph caps at 20 per
group: only groups that may have more (20 expanded) are read again, 20 per ``$batch``
request. A ``$search`` is an advanced query, where ``$expand`` is not offered, so then
every group's members go through ``$batch``. 300 users and 60 groups of which 5 are large
cost 4 requests (token, organization, users, groups) plus one batch.

Photos are not read: Backstage embeds them as ``data:`` URIs (two requests per user), and
``OrgUser.picture`` takes only http(s) addresses, which Graph's photos are not (they need
the token).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from .. import __version__
from ..config import EntraSource
from ._model import Org, OrgGroup, OrgSourceError, OrgUser
from ._naming import normalize_name

__all__ = [
    "EMAIL_ANNOTATION",
    "GROUP_ID_ANNOTATION",
    "TENANT_ID_ANNOTATION",
    "USER_ID_ANNOTATION",
    "EntraProvider",
]

TENANT_ID_ANNOTATION = "graph.microsoft.com/tenant-id"
GROUP_ID_ANNOTATION = "graph.microsoft.com/group-id"
USER_ID_ANNOTATION = "graph.microsoft.com/user-id"
EMAIL_ANNOTATION = "microsoft.com/email"  # what Backstage's Microsoft sign-in resolves by

SCOPE = "https://graph.microsoft.com/.default"
_GROUP_FIELDS = "id,displayName,description,mail,mailNickname,securityEnabled"
_USER_FIELDS = "id,displayName,mail,userPrincipalName"
_USER_TYPE = "#microsoft.graph.user"
_GROUP_TYPE = "#microsoft.graph.group"
_TOP = "999"  # the largest page Graph gives for users, groups and members
_EXPAND_CAP = 20  # Graph expands at most this many members of a group, without a next link
_BATCH = 20  # requests in one $batch, Graph's limit
_TRIES = 4  # per request, for 5xx answers and timeouts
_MAX_WAIT = 60.0  # seconds one fetch may spend waiting (Retry-After and back-off) in all
_MIN_WAIT = 0.5  # a "Retry-After: 0" answered forever must still use up the bound
_TOKEN_MARGIN = 300.0  # a token this close to expiring is renewed before the next request


@dataclass
class _Members:
    """One group's direct members as Graph listed them, or why they could not be read."""

    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    error: str = ""


class EntraProvider:
    title = "Microsoft Entra ID"

    def __init__(
        self,
        settings: EntraSource,
        env: Mapping[str, str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = _MAX_WAIT,
    ) -> None:
        self.settings = settings
        self._secret = env.get(settings.client_secret_env, "")
        self._sleep = sleep
        self._max_wait = max_wait
        self._token = ""  # kept to scrub it from messages too

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._secret, self._token) if s)

    def fetch(self) -> Org:
        s = self.settings
        if not self._secret:
            raise OrgSourceError(
                f"no client secret for tenant {s.tenant_id}: set {s.client_secret_env}"
            )
        org = Org(source=f"entra:{s.tenant_id}")
        headers = {"User-Agent": f"backlot/{__version__}", "Accept": "application/json"}
        with httpx.Client(timeout=s.timeout_seconds, headers=headers) as http:
            graph = _Graph(self, http)
            try:
                tenant = graph.organization()
                users = list(graph.users())
                groups, members = graph.groups_and_members()
            finally:
                org.requests = graph.requests
                self._token = graph.token
        _assemble(org, s, tenant, users, groups, members)
        return org


class _Graph:
    """One fetch's conversation with the token endpoint and Microsoft Graph."""

    def __init__(self, provider: EntraProvider, http: httpx.Client) -> None:
        self.p = provider
        self.s = provider.settings
        self.http = http
        self.base = self.s.graph_url.rstrip("/")
        self.requests = 0
        self.waited = 0.0
        self.token = ""
        self._expires = 0.0

    # ------------------------------------------------------------------ reads

    def organization(self) -> dict[str, Any]:
        # /organization is the token's own tenant, whether tenant_id is an id or a domain.
        body = self._json(
            "GET", f"{self.base}/organization", "the tenant", {"$select": "id,displayName"}
        )
        values = body.get("value")
        if not isinstance(values, list) or not values or not isinstance(values[0], dict):
            raise OrgSourceError(f"Microsoft Graph gave no organization for {self.s.tenant_id}")
        return values[0]

    def users(self) -> Iterator[dict[str, Any]]:
        params = {"$select": _USER_FIELDS, "$top": _TOP}
        if self.s.user_filter:
            params["$filter"] = self.s.user_filter
        yield from self._collection(f"{self.base}/users", "users", params)

    def groups_and_members(self) -> tuple[list[dict[str, Any]], dict[str, _Members]]:
        params = {"$select": _GROUP_FIELDS, "$top": _TOP}
        headers: dict[str, str] = {}
        if self.s.group_filter:
            params["$filter"] = self.s.group_filter
        advanced = bool(self.s.group_search)
        if advanced:
            search = self.s.group_search or ""
            # Graph wants each clause quoted; a bare "displayName:team" is quoted for it.
            params["$search"] = search if '"' in search else f'"{search}"'
            params["$count"] = "true"
            headers["ConsistencyLevel"] = "eventual"
        else:
            params["$expand"] = "members($select=id)"
        groups: list[dict[str, Any]] = []
        members: dict[str, _Members] = {}
        again: list[str] = []
        for group in self._collection(f"{self.base}/groups", "groups", params, headers):
            gid = group.get("id")
            if not isinstance(gid, str) or not gid:
                continue
            groups.append(group)
            expanded = group.get("members")
            if isinstance(expanded, list) and len(expanded) < _EXPAND_CAP:
                members[gid] = _members_of(expanded)
            else:
                again.append(gid)
        members.update(self._batched_members(again))
        return groups, members

    def _batched_members(self, group_ids: list[str]) -> dict[str, _Members]:
        """Each group's members, 20 requests to a ``$batch``; a group whose members cannot
        be read gets the reason instead, and the others are still read."""
        found = {gid: _Members() for gid in group_ids}
        pending = {gid: f"/groups/{quote(gid)}/members?$select=id&$top={_TOP}" for gid in group_ids}
        tries: Counter[str] = Counter()
        while pending:
            chunk = list(pending.items())[:_BATCH]
            body = self._json(
                "POST",
                f"{self.base}/$batch",
                "group members",
                json={
                    "requests": [
                        {"id": str(i), "method": "GET", "url": url}
                        for i, (_, url) in enumerate(chunk)
                    ]
                },
            )
            answers = {
                str(a.get("id")): a for a in body.get("responses") or [] if isinstance(a, dict)
            }
            wait = 0.0
            for i, (gid, _) in enumerate(chunk):
                answer = answers.get(str(i), {})
                status = answer.get("status")
                raw = answer.get("body")
                item: dict[str, Any] = raw if isinstance(raw, dict) else {}
                if status == 200:
                    got = _members_of(item.get("value") or [])
                    found[gid].users += got.users
                    found[gid].groups += got.groups
                    link = item.get("@odata.nextLink")
                    if isinstance(link, str) and link:
                        if not link.startswith(self.base + "/"):
                            found[gid].error = "its next page pointed outside graph_url"
                            del pending[gid]
                        else:
                            pending[gid] = link[len(self.base) :]
                    else:
                        del pending[gid]
                    continue
                tries[gid] += 1
                if (status in (429, 503) or not isinstance(status, int) or status >= 500) and (
                    tries[gid] < _TRIES
                ):
                    wait = max(
                        wait, _retry_after(_headers(answer)) if status in (429, 503) else 1.0
                    )
                    continue
                if status == 401 and tries[gid] < _TRIES:
                    self._expires = 0.0  # the token ran out mid-run: a new one, once
                    continue
                found[gid].error = f"Microsoft Graph answered {status} {_code(item)}".rstrip()
                del pending[gid]
            if wait and pending:
                self._wait(wait, "group members", "kept throttling")
        return found

    # ------------------------------------------------------------------ HTTP

    def _collection(
        self,
        url: str,
        what: str,
        params: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        next_url: str | None = url
        query: dict[str, str] | None = params
        while next_url:
            body = self._json("GET", next_url, what, query, headers=headers)
            for item in body.get("value") or []:
                if isinstance(item, dict):
                    yield item
            link = body.get("@odata.nextLink")
            if isinstance(link, str) and link and not link.startswith(self.base + "/"):
                # The token goes with every page: never to a host the settings do not name.
                raise OrgSourceError(f"Microsoft Graph's next page of {what} is outside graph_url")
            next_url = link if isinstance(link, str) and link else None
            query = None  # the next link carries the whole query

    def _json(
        self,
        method: str,
        url: str,
        what: str,
        params: dict[str, str] | None = None,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        answer = self._send(method, url, what, params, headers or {}, json)
        if answer.status_code != 200:
            raise self._failure(what, answer)
        try:
            body = answer.json()
        except ValueError:
            raise OrgSourceError(
                f"Microsoft Graph answered {what} with something other than JSON"
            ) from None
        return body if isinstance(body, dict) else {}

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        params: dict[str, str] | None,
        headers: dict[str, str],
        json: Any,
    ) -> httpx.Response:
        renewed = False
        attempt = 0  # failures (5xx, no answer); throttling is bounded by the wait instead
        while True:
            auth = {"Authorization": f"Bearer {self._bearer()}"}
            self.requests += 1
            try:
                answer = self.http.request(
                    method, url, params=params, headers={**headers, **auth}, json=json
                )
            except httpx.HTTPError as exc:
                attempt += 1
                if attempt >= _TRIES:
                    raise OrgSourceError(
                        f"Microsoft Graph did not answer {what} ({_why(exc, self.s)}, "
                        f"{attempt} tries)"
                    ) from None
                self._wait(float(2 ** (attempt - 1)), what, "did not answer")
                continue
            status = answer.status_code
            if status == 401 and not renewed:
                renewed = True  # an expired token: one new token, then a 401 is a refusal
                self._expires = 0.0
                continue
            if status == 429 or (status == 503 and "retry-after" in answer.headers):
                self._wait(_retry_after(answer.headers), what, "kept throttling")
                continue
            if status >= 500:
                attempt += 1
            if status >= 500 and attempt < _TRIES:
                self._wait(float(2 ** (attempt - 1)), what, f"kept failing ({status})")
                continue
            return answer

    def _bearer(self) -> str:
        if self.token and time.monotonic() < self._expires - _TOKEN_MARGIN:
            return self.token
        s = self.s
        url = f"{s.authority.rstrip('/')}/{quote(s.tenant_id, safe='')}/oauth2/v2.0/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": self.p._secret,
            "scope": SCOPE,
        }
        for attempt in range(1, _TRIES + 1):
            self.requests += 1
            try:
                answer = self.http.post(url, data=form)
            except httpx.HTTPError as exc:
                if attempt == _TRIES:
                    raise OrgSourceError(
                        f"the token endpoint {s.authority} did not answer ({_why(exc, s)})"
                    ) from None
                self._wait(float(2 ** (attempt - 1)), "a token", "did not answer")
                continue
            if answer.status_code >= 500 or answer.status_code == 429:
                if attempt == _TRIES:
                    break
                wait = (
                    _retry_after(answer.headers)
                    if answer.status_code == 429
                    else 2.0 ** (attempt - 1)
                )
                self._wait(wait, "a token", "kept failing")
                continue
            return self._accept_token(answer)
        raise OrgSourceError(
            f"the token endpoint {s.authority} kept failing ({answer.status_code}, {_TRIES} tries)"
        )

    def _accept_token(self, answer: httpx.Response) -> str:
        s = self.s
        try:
            body = answer.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if answer.status_code == 200 and isinstance(body.get("access_token"), str):
            self.token = body["access_token"]
            try:
                lifetime = float(body.get("expires_in", 3600))
            except (TypeError, ValueError):
                lifetime = 3600.0
            self._expires = time.monotonic() + lifetime
            return self.token
        codes = {int(c) for c in body.get("error_codes") or [] if isinstance(c, int)}
        error = str(body.get("error") or answer.status_code)
        tag = f"{error}, AADSTS{min(codes)}" if codes else error
        if 90002 in codes or 90023 in codes:
            raise OrgSourceError(f"tenant {s.tenant_id} was not found ({tag})")
        if error in ("invalid_client", "unauthorized_client") or codes & {7000215, 7000222, 700016}:
            raise OrgSourceError(
                f"the client credentials of app {s.client_id} were refused by tenant "
                f"{s.tenant_id} ({tag}): check {s.client_secret_env} and the client id"
            )
        raise OrgSourceError(f"tenant {s.tenant_id} gave no token ({answer.status_code} {tag})")

    def _wait(self, seconds: float, what: str, why: str) -> None:
        # The bound is the whole fetch's: a scheduled sync must not spend its job waiting.
        seconds = max(_MIN_WAIT, seconds)
        if self.waited + seconds > self.p._max_wait:
            raise OrgSourceError(
                f"Microsoft Graph {why} reading {what}: gave up after waiting "
                f"{self.waited:.0f} s in all"
            )
        self.waited += seconds
        self.p._sleep(seconds)

    def _failure(self, what: str, answer: httpx.Response) -> OrgSourceError:
        status = answer.status_code
        try:
            body = answer.json()
        except ValueError:
            body = {}
        code = _code(body if isinstance(body, dict) else {})
        if status == 401:
            return OrgSourceError(
                f"Microsoft Graph refused the app's token reading {what} ({code})"
            )
        if status == 403:
            return OrgSourceError(
                f"Microsoft Graph refused to read {what} (403 {code}): the app needs the "
                "application permissions User.Read.All and GroupMember.Read.All, "
                "with admin consent"
            )
        if status >= 500:
            return OrgSourceError(
                f"Microsoft Graph is failing: {what} answered {status} after {_TRIES} tries"
            )
        message = ""
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = str(body["error"].get("message") or "")[:200]
        detail = f"{code}: {message}" if message else code
        return OrgSourceError(f"Microsoft Graph refused the query for {what} ({status} {detail})")


def _members_of(values: list[Any]) -> _Members:
    found = _Members()
    for member in values:
        if not isinstance(member, dict) or not isinstance(member.get("id"), str):
            continue
        kind = member.get("@odata.type")
        if kind == _USER_TYPE:
            found.users.append(member["id"])
        elif kind == _GROUP_TYPE:
            found.groups.append(member["id"])
    return found


def _retry_after(headers: Mapping[str, str]) -> float:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 1.0


def _headers(answer: dict[str, Any]) -> dict[str, str]:
    headers = answer.get("headers")
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


def _code(body: dict[str, Any]) -> str:
    error = body.get("error")
    return str(error.get("code") or "") if isinstance(error, dict) else ""


def _why(exc: httpx.HTTPError, s: EntraSource) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {s.timeout_seconds:g} s"
    return type(exc).__name__


# ---------------------------------------------------------------------- the org


def _group_name(group: dict[str, Any], naming: str) -> str:
    display = str(group.get("displayName") or "")
    if naming == "id":
        return normalize_name(str(group["id"]))
    if naming == "display-name":
        return normalize_name(display)
    # Backstage's extractGroupName: security groups by display name, others by nickname.
    if group.get("securityEnabled"):
        return normalize_name(display)
    return normalize_name(str(group.get("mailNickname") or display))


def _user_name(user: dict[str, Any], naming: str) -> str:
    value = {"mail": user.get("mail"), "user-principal-name": user.get("userPrincipalName")}.get(
        naming, user.get("id")
    )
    return normalize_name(str(value)) if value else ""


def _assemble(
    org: Org,
    s: EntraSource,
    tenant: dict[str, Any],
    users: list[dict[str, Any]],
    groups: list[dict[str, Any]],
    members: dict[str, _Members],
) -> None:
    """Backstage's ``resolveRelations``, then ``buildMemberOf``, on what Graph gave."""
    user_names: dict[str, str] = {}  # Graph id → entity name, for users kept
    for user in users:
        uid, display = user.get("id"), user.get("displayName")
        name = _user_name(user, s.user_naming)
        if not isinstance(uid, str) or not display or not name:
            continue  # as Backstage's default transformer: no display name or no mail
        if name in org.users:
            org.notes.append(f"two users are named {name!r}: the second is left out")
            continue
        mail = str(user.get("mail") or "")
        annotations = {USER_ID_ANNOTATION: uid}
        if mail:
            annotations[EMAIL_ANNOTATION] = mail
        org.add_user(
            OrgUser(name=name, display_name=str(display), email=mail, annotations=annotations)
        )
        user_names[uid] = name

    root = ""
    tenant_name = normalize_name(str(tenant.get("displayName") or ""))
    if tenant_name and isinstance(tenant.get("id"), str):
        root = tenant_name
    group_names: dict[str, str] = {}  # Graph id → entity name, for groups kept
    kept: list[dict[str, Any]] = []
    for group in groups:
        name = _group_name(group, s.group_naming) if group.get("displayName") else ""
        if not name:
            continue
        if name in group_names.values() or name == root:
            org.notes.append(f"two groups are named {name!r}: the second is left out")
            continue
        group_names[group["id"]] = name
        kept.append(group)

    parents: dict[str, set[str]] = {gid: set() for gid in group_names}
    for gid in group_names:
        for child in members.get(gid, _Members()).groups:
            if child in parents and child != gid:
                parents[child].add(gid)
    parent_of: dict[str, str] = {}  # entity name → parent's entity name
    for gid, of in parents.items():
        name = group_names[gid]
        if of:
            # Backstage keeps one parent of a group in several (whichever came last); here
            # the first by name, so the choice is stable between runs.
            chosen = sorted(group_names[p] for p in of)
            parent_of[name] = chosen[0]
            if len(chosen) > 1:
                org.notes.append(
                    f"group {name!r} is a member of {', '.join(chosen)}: "
                    f"a group has one parent, {chosen[0]!r}"
                )
        elif root:
            parent_of[name] = root

    # A user belongs to its groups and to every ancestor of theirs (cycles stop the walk).
    transitive: dict[str, set[str]] = {}
    for gid, name in group_names.items():
        for uid in members.get(gid, _Members()).users:
            if uid in user_names:
                transitive.setdefault(name, set()).add(user_names[uid])
    of_group: dict[str, set[str]] = {}
    for name, direct in transitive.items():
        seen: set[str] = set()
        current: str | None = name
        while current and current not in seen:
            seen.add(current)
            of_group.setdefault(current, set()).update(direct)
            current = parent_of.get(current)

    if root:
        org.add_group(
            OrgGroup(
                name=root,
                display_name=str(tenant["displayName"]),
                description=str(tenant["displayName"]),
                type="root",
                members=tuple(sorted(of_group.get(root, ()))),
                annotations={TENANT_ID_ANNOTATION: tenant["id"]},
            )
        )
    for group in kept:
        gid, name = group["id"], group_names[group["id"]]
        error = members.get(gid, _Members()).error
        if error:
            org.notes.append(
                f"the members of group {name!r} could not be read ({error}): "
                "it is listed without them"
            )
        org.add_group(
            OrgGroup(
                name=name,
                display_name=str(group.get("displayName") or ""),
                description=str(group.get("description") or ""),
                email=str(group.get("mail") or ""),
                parent=parent_of.get(name),
                members=tuple(sorted(of_group.get(name, ()))),
                annotations={GROUP_ID_ANNOTATION: gid},
            )
        )
