"""A fake of Google's OAuth token endpoint and the Admin SDK Directory API subset the
Google Workspace org provider reads, served over real HTTP on 127.0.0.1.

It keeps to what Google documents: ``/token`` takes a JWT-bearer grant whose assertion is
signed by the service account's key (checked against its public key: ``iss`` the account,
``sub`` the admin it acts as, ``aud`` the token URL, the Directory scopes delegated to
it); ``/admin/directory/v1/users``, ``/groups`` (``customer`` or ``domain``, ``query`` as
``email:<prefix>*`` or ``name:<name>``) and ``/groups/{key}/members`` (members of type
``USER`` or ``GROUP``), each paged by ``maxResults`` (capped at ``max_page``) and
``pageToken``/``nextPageToken``; errors in Google's JSON shape, rate limits as 429 or as
403 ``rateLimitExceeded``.

Faults are queued per kind (``token``, ``users``, ``groups``, ``members``):
``fake.fault("members", "403-rate")``; also ``429``, ``500``, ``403``, ``404``, ``echo``
(an error whose message repeats the Authorization header). ``fake.counts`` tells how many
requests of each kind were served, ``fake.queries`` the query strings asked for.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import urllib.parse
from collections import Counter, deque
from typing import Any

from .local_http import LocalServer

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
READ_SCOPES = {
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
}


class FakeGoogleDirectory(LocalServer):
    def __init__(self) -> None:
        self.client_email = "backlot@acme-project.iam.gserviceaccount.com"
        self.key_id = "0123456789abcdef0123456789abcdef01234567"
        self.subject = "admin@acme.test"
        self.customer_id = "C0abc123"
        self.domain = "acme.test"
        self.public_key: Any = None
        self.delegated = set(READ_SCOPES)
        self.access_token = "ya29.fake-access-token-0123456789"
        self.users: list[dict[str, Any]] = []
        self.groups: list[dict[str, Any]] = []
        self.members: dict[str, list[dict[str, str]]] = {}
        self.counts: Counter[str] = Counter()
        self.queries: list[dict[str, str]] = []
        self.assertions: list[dict[str, Any]] = []
        self.faults: dict[str, deque[str]] = {}
        self.max_page = 500
        self._lock = threading.Lock()

    def reset(self) -> None:
        base, server, key = self.base, self._server, self.public_key
        self.__init__()  # type: ignore[misc]
        self.base, self._server, self.public_key = base, server, key

    @property
    def token_url(self) -> str:
        return f"{self.base}/token"

    # ------------------------------------------------------------------ control

    def add_user(
        self,
        uid: str,
        email: str,
        full_name: str,
        photo: str | None = None,
        suspended: bool = False,
    ) -> None:
        user: dict[str, Any] = {
            "kind": "admin#directory#user",
            "id": uid,
            "primaryEmail": email,
            "name": {"fullName": full_name},
            "suspended": suspended,
        }
        if photo:
            user["thumbnailPhotoUrl"] = photo
        self.users.append(user)

    def add_group(
        self, gid: str, email: str, name: str, description: str = "", members: tuple[str, ...] = ()
    ) -> None:
        """``members``: user or group ids (a group id makes a nested group)."""
        self.groups.append(
            {
                "kind": "admin#directory#group",
                "id": gid,
                "email": email,
                "name": name,
                "description": description,
            }
        )
        self.members[gid] = [{"id": m} for m in members]

    def fault(self, kind: str, what: str, times: int = 1) -> None:
        self.faults.setdefault(kind, deque()).extend([what] * times)

    def _take_fault(self, kind: str) -> str | None:
        with self._lock:
            queue = self.faults.get(kind)
            return queue.popleft() if queue else None

    # ------------------------------------------------------------------ serving

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        path = parsed.path
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        kind = self._kind(path)
        with self._lock:
            self.counts[kind] += 1
        authorization = handler.headers.get("Authorization", "")
        fault = self._take_fault(kind)
        if fault == "429":
            self._error(handler, 429, "rateLimitExceeded", "Quota exceeded", {"Retry-After": "1"})
            return
        if fault == "403-rate":
            self._error(handler, 403, "userRateLimitExceeded", "User Rate Limit Exceeded")
            return
        if fault in ("500", "503"):
            self._error(handler, int(fault), "backendError", "Backend Error")
            return
        if fault == "403":
            self._error(handler, 403, "forbidden", "Not Authorized to access this resource/api")
            return
        if fault == "404":
            self._error(handler, 404, "notFound", "Resource Not Found: groupKey")
            return
        if fault == "echo":
            self._error(handler, 400, "invalid", f"Invalid Input: {authorization}")
            return
        if kind == "token":
            self._token(handler)
            return
        if authorization != f"Bearer {self.access_token}":
            self._error(handler, 401, "authError", "Invalid Credentials")
            return
        self.queries.append({"kind": kind, **query})
        if kind in ("users", "groups"):
            if query.get("domain") not in (None, self.domain) or query.get("customer") not in (
                None,
                "my_customer",
                self.customer_id,
            ):
                self._error(handler, 404, "notFound", "Domain not found.")
                return
            if "customer" not in query and "domain" not in query:
                self._error(handler, 400, "badRequest", "Bad Request")
                return
        if kind == "users":
            items = self.users
        elif kind == "groups":
            try:
                items = [g for g in self.groups if _matches(g, query.get("query", ""))]
            except ValueError:
                self._error(handler, 400, "invalid", "Invalid Input: query")
                return
        elif kind == "members":
            key = urllib.parse.unquote(path.split("/")[5])
            gid = next((g["id"] for g in self.groups if key in (g["id"], g["email"])), None)
            if gid is None:
                self._error(handler, 404, "notFound", "Resource Not Found: groupKey")
                return
            items = [self._member(m["id"]) for m in self.members[gid]]
        else:
            self._error(handler, 404, "notFound", "Not Found")
            return
        self._page(handler, kind, query, items)

    def _member(self, ident: str) -> dict[str, str]:
        for user in self.users:
            if user["id"] == ident:
                return {
                    "id": ident,
                    "email": user["primaryEmail"],
                    "role": "MEMBER",
                    "type": "USER",
                    "status": "ACTIVE",
                }
        for group in self.groups:
            if group["id"] == ident:
                return {"id": ident, "email": group["email"], "role": "MEMBER", "type": "GROUP"}
        return {"id": ident, "email": f"{ident}@elsewhere.test", "type": "USER"}

    def _kind(self, path: str) -> str:
        if path == "/token":
            return "token"
        if path == "/admin/directory/v1/users":
            return "users"
        if path == "/admin/directory/v1/groups":
            return "groups"
        if re.fullmatch(r"/admin/directory/v1/groups/[^/]+/members", path):
            return "members"
        return "other"

    def _page(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        kind: str,
        query: dict[str, str],
        items: list[dict[str, Any]],
    ) -> None:
        limit = min(int(query.get("maxResults", "200")), self.max_page)
        start = int(query.get("pageToken", "0") or 0)
        body: dict[str, Any] = {"kind": f"admin#directory#{kind}", "etag": '"fake"'}
        page = items[start : start + limit]
        if page:
            body[kind] = page
        if start + limit < len(items):
            body["nextPageToken"] = str(start + limit)
        self._reply(handler, 200, body)

    def _token(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        import jwt

        length = int(handler.headers.get("Content-Length", "0"))
        form = {
            k: v[-1] for k, v in urllib.parse.parse_qs(handler.rfile.read(length).decode()).items()
        }
        if form.get("grant_type") != JWT_GRANT:
            self._oauth_error(handler, 400, "unsupported_grant_type", "Invalid grant_type")
            return
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_url,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "scope"]},
            )
        except jwt.PyJWTError:
            self._oauth_error(handler, 400, "invalid_grant", "Invalid JWT Signature.")
            return
        if header.get("kid") != self.key_id or claims["iss"] != self.client_email:
            self._oauth_error(handler, 400, "invalid_grant", "Invalid JWT Signature.")
            return
        if claims["exp"] - claims["iat"] > 3600:
            self._oauth_error(handler, 400, "invalid_grant", "Invalid JWT: lifetime too long")
            return
        scopes = set(str(claims["scope"]).split())
        if claims["sub"] != self.subject or not scopes <= self.delegated:
            self._oauth_error(
                handler,
                401,
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or client "
                "not authorized for any of the scopes requested.",
            )
            return
        self.assertions.append(claims)
        body = {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}
        self._reply(handler, 200, body)

    def _oauth_error(
        self, handler: http.server.BaseHTTPRequestHandler, status: int, error: str, why: str
    ) -> None:
        self._reply(handler, status, {"error": error, "error_description": why})

    def _error(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        reason: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
            }
        }
        self._reply(handler, status, body, headers)

    def _reply(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def _matches(group: dict[str, Any], query: str) -> bool:
    """Directory's group queries, the subset the tests use."""
    if not query:
        return True
    found = re.fullmatch(r"(email|name):(\S+?)(\*?)", query.strip())
    if not found:
        raise ValueError(query)
    field, value, star = found.groups()
    actual = str(group[field])
    return actual.startswith(value) if star else actual == value
