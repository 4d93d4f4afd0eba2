"""A fake of the Okta REST API subset the org provider reads, served over real HTTP on
127.0.0.1.

It keeps to what Okta documents: ``Authorization: SSWS <token>`` or ``Bearer <access
token>``; ``/api/v1/users`` (deprovisioned users left out), ``/api/v1/groups`` (``search``
on ``type``, ``profile.name`` with ``eq``/``sw``, joined by ``and``) and
``/api/v1/groups/{id}/users``, each paged by ``limit`` (capped at ``max_page``) and an
``after`` cursor, the next page in ``Link: <…>; rel="next"``; 429s with
``X-Rate-Limit-Reset`` (the epoch second the window reopens); errors as Okta shapes them
(``errorCode``, ``errorSummary``). ``/oauth2/v1/token`` takes a client-credentials grant
with a private-key-JWT client assertion, checked against the service app's public key.

Faults are queued per kind (``users``, ``groups``, ``members``, ``token``):
``fake.fault("groups", "429")``; also ``500``, ``403``, ``404``, ``echo`` (an error whose
summary repeats the Authorization header). ``fake.counts`` tells how many requests of each
kind were served, ``fake.searches`` the group searches asked for.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import urllib.parse
from collections import Counter, deque
from typing import Any

from .local_http import LocalServer

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class FakeOkta(LocalServer):
    def __init__(self, token: str = "00okta-test-token-0123456789abcdef") -> None:
        self.token = token
        self.users: list[dict[str, Any]] = []
        self.groups: list[dict[str, Any]] = []
        self.members: dict[str, list[str]] = {}
        self.counts: Counter[str] = Counter()
        self.searches: list[str] = []
        self.faults: dict[str, deque[str]] = {}
        self.max_page = 200
        self.reset_seconds = 2
        self.client_id = "0oa-backlot-service-app"
        self.key_id: str | None = None
        self.public_key: Any = None
        self.access_token = "eyJ-okta-access-token-fedcba9876543210"
        self.granted_scopes: list[str] = []
        self.assertions: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def reset(self) -> None:
        base, server = self.base, self._server
        self.__init__()  # type: ignore[misc]
        self.base, self._server = base, server

    # ------------------------------------------------------------------ control

    def add_user(
        self,
        uid: str,
        email: str,
        first: str = "",
        last: str = "",
        display: str | None = None,
        status: str = "ACTIVE",
    ) -> None:
        profile: dict[str, Any] = {
            "firstName": first,
            "lastName": last,
            "email": email,
            "login": email,
        }
        if display is not None:
            profile["displayName"] = display
        self.users.append({"id": uid, "status": status, "profile": profile})

    def add_group(
        self,
        gid: str,
        name: str,
        description: str | None = None,
        members: tuple[str, ...] = (),
        type: str = "OKTA_GROUP",
        **profile: Any,
    ) -> None:
        self.groups.append(
            {
                "id": gid,
                "type": type,
                "profile": {"name": name, "description": description, **profile},
            }
        )
        self.members[gid] = list(members)

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
            reset = str(int(time.time()) + self.reset_seconds)
            headers = {"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "0"}
            headers["X-Rate-Limit-Reset"] = reset
            self._error(handler, 429, "E0000047", "API call exceeded rate limit", headers)
            return
        if fault in ("500", "502", "503"):
            self._error(handler, int(fault), "E0000009", "Internal Server Error")
            return
        if fault == "403":
            self._error(handler, 403, "E0000006", "You do not have permission")
            return
        if fault == "404":
            self._error(handler, 404, "E0000007", "Not found: Resource not found")
            return
        if fault == "echo":
            self._error(handler, 400, "E0000001", f"Bad request, header was {authorization}")
            return
        if kind == "token":
            self._token(handler)
            return
        if authorization not in (f"SSWS {self.token}", f"Bearer {self.access_token}"):
            self._error(handler, 401, "E0000011", "Invalid token provided")
            return
        if kind == "users":
            items = [u for u in self.users if u["status"] != "DEPROVISIONED"]
        elif kind == "groups":
            search = query.get("search", "")
            if search:
                self.searches.append(search)
            try:
                items = [g for g in self.groups if _matches(g, search)]
            except ValueError:
                self._error(handler, 400, "E0000031", "Invalid search criteria.")
                return
        elif kind == "members":
            gid = urllib.parse.unquote(path.split("/")[4])
            if gid not in self.members:
                self._error(handler, 404, "E0000007", f"Not found: Resource not found: {gid}")
                return
            by_id = {u["id"]: u for u in self.users}
            items = [by_id[u] for u in self.members[gid] if u in by_id]
        else:
            self._error(handler, 404, "E0000022", "The endpoint does not support the method")
            return
        self._page(handler, path, query, items)

    def _kind(self, path: str) -> str:
        if path == "/oauth2/v1/token":
            return "token"
        if path == "/api/v1/users":
            return "users"
        if path == "/api/v1/groups":
            return "groups"
        if re.fullmatch(r"/api/v1/groups/[^/]+/users", path):
            return "members"
        return "other"

    def _page(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        path: str,
        query: dict[str, str],
        items: list[dict[str, Any]],
    ) -> None:
        limit = min(int(query.get("limit", "200")), self.max_page)
        start = 0
        if "after" in query:
            ids = [i["id"] for i in items]
            start = ids.index(query["after"]) + 1 if query["after"] in ids else len(items)
        page = items[start : start + limit]
        self_url = f"{self.base}{handler.path}"
        links = [f'<{self_url}>; rel="self"']
        if start + limit < len(items):
            nxt = {**query, "limit": str(limit), "after": page[-1]["id"]}
            links.append(f'<{self.base}{path}?{urllib.parse.urlencode(nxt)}>; rel="next"')
        self._reply(handler, 200, page, {"Link": ", ".join(links)})

    def _token(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        import jwt

        length = int(handler.headers.get("Content-Length", "0"))
        form = {
            k: v[-1] for k, v in urllib.parse.parse_qs(handler.rfile.read(length).decode()).items()
        }
        if form.get("grant_type") != "client_credentials":
            self._oauth_error(handler, 400, "unsupported_grant_type", "client_credentials only")
            return
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            self._oauth_error(handler, 401, "invalid_client", "no client assertion")
            return
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                audience=f"{self.base}/oauth2/v1/token",
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as exc:
            self._oauth_error(handler, 401, "invalid_client", f"assertion refused: {exc}")
            return
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            self._oauth_error(handler, 401, "invalid_client", "unknown client")
            return
        if self.key_id is not None and header.get("kid") != self.key_id:
            self._oauth_error(handler, 401, "invalid_client", "unknown key id")
            return
        if claims["exp"] - claims["iat"] > 3600:
            self._oauth_error(handler, 401, "invalid_client", "assertion lives too long")
            return
        self.assertions.append(claims)
        self.granted_scopes = form.get("scope", "").split()
        body = {
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": self.access_token,
            "scope": form.get("scope", ""),
        }
        self._reply(handler, 200, body)

    def _oauth_error(
        self, handler: http.server.BaseHTTPRequestHandler, status: int, error: str, why: str
    ) -> None:
        self._reply(handler, status, {"error": error, "error_description": why})

    def _error(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        code: str,
        summary: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = {
            "errorCode": code,
            "errorSummary": summary,
            "errorId": "oae-fake",
            "errorCauses": [],
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
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


_CLAUSE = re.compile(r'\s*([A-Za-z.]+)\s+(eq|sw)\s+"([^"]*)"\s*')


def _matches(group: dict[str, Any], search: str) -> bool:
    """Okta's search expressions, the subset the tests use."""
    if not search:
        return True
    for clause in re.split(r"\s+and\s+", search):
        found = _CLAUSE.fullmatch(clause)
        if not found:
            raise ValueError(search)
        attribute, operator, value = found.groups()
        actual: Any = group
        for part in attribute.split("."):
            actual = actual.get(part) if isinstance(actual, dict) else None
        if not isinstance(actual, str):
            return False
        if operator == "eq" and actual != value:
            return False
        if operator == "sw" and not actual.startswith(value):
            return False
    return True
