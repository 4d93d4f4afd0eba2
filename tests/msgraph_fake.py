"""A fake of Microsoft Entra ID's token endpoint and the Microsoft Graph subset the org
provider reads, over real HTTP on 127.0.0.1.

It keeps to what Microsoft documents: the client-credentials grant at
``/{tenant}/oauth2/v2.0/token`` (``invalid_client``/AADSTS7000215 for a wrong secret,
AADSTS90002 for an unknown tenant), ``/v1.0/organization``, ``/users``, ``/groups`` (with
``$select``, ``$top``, ``$filter`` of the forms ``startswith(f,'x')`` and ``f eq 'x'``,
``$search`` only with ``ConsistencyLevel: eventual``, ``$expand=members`` capped at 20
members without a next link), ``/groups/{id}/members`` and ``$batch`` (at most 20
requests). Pages are cut at ``page_size`` and continued by an ``@odata.nextLink`` with a
``$skiptoken``.

Faults are queued per kind (``token``, ``organization``, ``users``, ``groups``,
``members``, ``batch``): ``fake.fault("users", "429")``; inside a ``$batch`` the members
faults answer the sub-request. ``fake.counts`` counts the calls of each kind (batched
sub-requests under ``members``), ``fake.http`` the HTTP requests, and ``fake.seen`` the
query parameters of each list call.
"""

from __future__ import annotations

import http.server
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections import Counter, deque
from typing import Any

from .local_http import LocalServer

EXPAND_CAP = 20
USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"


class FakeGraph(LocalServer):
    def __init__(
        self,
        tenant_id: str = "0d3f5b6e-0000-4000-8000-00000000acme",
        client_id: str = "backlot-app",
        client_secret: str = "s3cr3t-Entra-Client~Value.123",
        tenant_name: str = "Acme Corp",
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.tenant_name = tenant_name
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.members: dict[str, list[str]] = {}  # group id → member ids (users or groups)
        self.unreadable: set[str] = set()  # groups whose members answer 403
        self.page_size = 100
        self.slow_seconds = 3.0
        self.counts: Counter[str] = Counter()
        self.http = 0
        self.seen: dict[str, list[dict[str, str]]] = {}
        self.tokens: set[str] = set()
        self.faults: dict[str, deque[str]] = {}
        self._pages: dict[str, tuple[str, dict[str, str], int]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control

    def user(self, uid: str, display: str | None, mail: str | None, upn: str = "") -> None:
        self.users[uid] = {
            "id": uid,
            "displayName": display,
            "mail": mail,
            "userPrincipalName": upn or (mail or f"{uid}@acme.onmicrosoft.com"),
            "jobTitle": "not selected unless asked",
        }

    def group(
        self,
        gid: str,
        display: str,
        members: list[str] = (),  # type: ignore[assignment]
        *,
        nickname: str | None = None,
        mail: str | None = None,
        description: str | None = None,
        security: bool = False,
    ) -> None:
        self.groups[gid] = {
            "id": gid,
            "displayName": display,
            "mailNickname": nickname,
            "mail": mail,
            "description": description,
            "securityEnabled": security,
            "visibility": "Private",
        }
        self.members[gid] = list(members)

    def fault(self, kind: str, what: str, times: int = 1) -> None:
        self.faults.setdefault(kind, deque()).extend([what] * times)

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    # ------------------------------------------------------------------ serving

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.http += 1
        if parsed.path.endswith("/oauth2/v2.0/token"):
            status, headers, answer = self._token(parsed.path, body)
        else:
            status, headers, answer = self._graph(
                handler.command,
                parsed.path.removeprefix("/v1.0"),
                dict(urllib.parse.parse_qsl(parsed.query)),
                {k.lower(): v for k, v in handler.headers.items()},
                body,
            )
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _take(self, kind: str) -> str | None:
        with self._lock:
            self.counts[kind] += 1
            queue = self.faults.get(kind)
            return queue.popleft() if queue else None

    def _fault(self, fault: str | None) -> tuple[int, dict[str, str], Any] | None:
        if fault is None or fault == "pass":
            return None
        if fault == "slow":
            time.sleep(self.slow_seconds)
            return None
        if fault == "429":
            return 429, {"Retry-After": "7"}, _error("TooManyRequests", "Too many requests")
        if fault == "429-now":
            return 429, {"Retry-After": "0"}, _error("TooManyRequests", "Too many requests")
        if fault == "503":
            return 503, {"Retry-After": "3"}, _error("ServiceUnavailable", "Try later")
        if fault in ("500", "502", "504"):
            return int(fault), {}, _error("UnknownError", "")
        if fault == "401":
            return 401, {}, _error("InvalidAuthenticationToken", "Access token has expired.")
        if fault == "403":
            return 403, {}, _error("Authorization_RequestDenied", "Insufficient privileges.")
        raise AssertionError(fault)

    def _token(self, path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        fault = self._fault(self._take("token"))
        if fault is not None:
            return fault
        form = dict(urllib.parse.parse_qsl(body.decode()))
        tenant = path.split("/")[1]
        if tenant != self.tenant_id:
            return 400, {}, _aad("invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials" or form.get("scope") != (
            "https://graph.microsoft.com/.default"
        ):
            return 400, {}, _aad("invalid_request", 900144, "Bad grant or scope.")
        if form.get("client_id") != self.client_id:
            return 400, {}, _aad("unauthorized_client", 700016, "Application not found.")
        if form.get("client_secret") != self.client_secret:
            return 401, {}, _aad("invalid_client", 7000215, "Invalid client secret provided.")
        token = "eyJ0eXAi." + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "access_token": token}

    def _graph(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if method == "POST" and path == "/$batch":
            fault = self._fault(self._take("batch"))
            if fault is not None:
                return fault
            if not self._authorized(headers):
                return 401, {}, _error("InvalidAuthenticationToken", "Token is not valid.")
            return self._batch(json.loads(body), headers)
        kind = _kind(path)
        fault = self._fault(self._take(kind))
        if fault is not None:
            return fault
        if not self._authorized(headers):
            return 401, {}, _error("InvalidAuthenticationToken", "Token is not valid.")
        return self._get(kind, path, query, headers)

    def _authorized(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    def _batch(
        self, request: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        items = request.get("requests") or []
        if len(items) > 20:
            return 400, {}, _error("BadRequest", "A maximum of 20 requests is allowed.")
        responses = []
        for item in items:
            parsed = urllib.parse.urlsplit(item["url"])
            path = parsed.path.removeprefix("/v1.0")
            query = dict(urllib.parse.parse_qsl(parsed.query))
            kind = _kind(path)
            answer = self._fault(self._take(kind)) or self._get(kind, path, query, headers)
            status, sub_headers, sub_body = answer
            responses.append(
                {"id": item["id"], "status": status, "headers": sub_headers, "body": sub_body}
            )
        responses.reverse()  # Graph answers in any order
        return 200, {}, {"responses": responses}

    def _get(
        self, kind: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        if "$skiptoken" in query:
            with self._lock:
                state = self._pages.pop(query["$skiptoken"], None)
            if state is None:
                return 400, {}, _error("Directory_InvalidSkipToken", "Bad skip token.")
            path, query, offset = state
        else:
            offset = 0
            if kind in ("users", "groups", "members"):
                self.seen.setdefault(kind, []).append(dict(query))
        if kind == "organization":
            org = {"id": self.tenant_id, "displayName": self.tenant_name, "city": "Basel"}
            return 200, {}, {"value": [_select(org, query)]}
        if kind == "members":
            gid = path.split("/")[2]
            if gid not in self.groups:
                return 404, {}, _error("Request_ResourceNotFound", "No such group.")
            if gid in self.unreadable:
                return 403, {}, _error("Authorization_RequestDenied", "Insufficient privileges.")
            items = [self._member(m, query) for m in self.members[gid]]
        elif kind in ("users", "groups"):
            if "$search" in query or "ne " in query.get("$filter", ""):
                if headers.get("consistencylevel") != "eventual":
                    return 400, {}, _error("Request_UnsupportedQuery", "Needs ConsistencyLevel.")
                if "$expand" in query:
                    return 400, {}, _error("Request_UnsupportedQuery", "No $expand here.")
            pool = list((self.users if kind == "users" else self.groups).values())
            try:
                pool = [r for r in pool if _matches(r, query)]
            except ValueError as exc:
                return 400, {}, _error("BadRequest", str(exc))
            items = []
            for record in pool:
                item = _select(record, query)
                # Graph leaves out what the app may not read; the provider reads it again.
                expand = query.get("$expand", "").startswith("members")
                if kind == "groups" and expand and record["id"] not in self.unreadable:
                    expanded = self.members[record["id"]][:EXPAND_CAP]
                    item["members"] = [self._member(m, {"$select": "id"}) for m in expanded]
                items.append(item)
        else:
            return 404, {}, _error("Request_ResourceNotFound", f"Unknown path {path}.")
        size = min(self.page_size, int(query.get("$top", "100")))
        page = items[offset : offset + size]
        answer: dict[str, Any] = {"value": page}
        if offset + size < len(items):
            token = secrets.token_hex(8)
            with self._lock:
                self._pages[token] = (path, query, offset + size)
            answer["@odata.nextLink"] = f"{self.base}/v1.0{path}?$skiptoken={token}"
        return 200, {}, answer

    def _member(self, mid: str, query: dict[str, str]) -> dict[str, Any]:
        if mid in self.groups:
            return {"@odata.type": GROUP, **_select(self.groups[mid], query)}
        return {"@odata.type": USER, **_select(self.users[mid], query)}


def _kind(path: str) -> str:
    if path.startswith("/organization"):
        return "organization"
    if re.fullmatch(r"/groups/[^/]+/members", path):
        return "members"
    return path.strip("/").split("/")[0]


def _select(record: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    fields = query.get("$select")
    if not fields:
        return dict(record)
    return {f: record.get(f) for f in fields.split(",") if f in record}


def _matches(record: dict[str, Any], query: dict[str, str]) -> bool:
    text = query.get("$filter")
    if text:
        starts = re.fullmatch(r"startswith\((\w+),\s*'([^']*)'\)", text)
        equals = re.fullmatch(r"(\w+) (eq|ne) '([^']*)'", text)
        if starts:
            if not str(record.get(starts[1]) or "").lower().startswith(starts[2].lower()):
                return False
        elif equals:
            if (str(record.get(equals[1])) == equals[3]) != (equals[2] == "eq"):
                return False
        else:
            raise ValueError(f"Invalid filter clause: {text}")
    search = query.get("$search")
    if search:
        clause = re.fullmatch(r'"(\w+):([^"]*)"', search)
        if not clause:
            raise ValueError(f"Syntax error in $search: {search}")
        if clause[2].lower() not in str(record.get(clause[1]) or "").lower():
            return False
    return True


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "r1"}}}


def _aad(error: str, code: int, text: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text} Trace ID: 1 Correlation ID: 2",
        "error_codes": [code],
        "trace_id": "1",
        "correlation_id": "2",
    }
