"""A fake of the PagerDuty REST API v2 subset the context source reads, served over real
HTTP on 127.0.0.1.

It keeps to what PagerDuty documents: ``Authorization: Token token=…`` and the
``application/vnd.pagerduty+json;version=2`` media type, classic offset pagination (``limit``
at most 100, ``offset``, ``more``), ``/services`` (``query`` matching a name or an
integration key, ``include[]=integrations``), ``/services/{id}`` (404 for an unknown id),
``/oncalls`` (``escalation_policy_ids[]``, ``since``/``until`` overlapping shifts,
``earliest=true``, ``include[]=users``) and ``/incidents`` (``service_ids[]``,
``statuses[]``, ``since``/``until`` on the creation time or ``date_range=all``).

Faults are queued per kind (``services``, ``service``, ``oncalls``, ``incidents``):
``fake.fault("oncalls", "429")`` makes the next on-call request answer so. ``fake.counts``
tells how many requests of each kind were served, ``fake.urls`` every URL asked for.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
import urllib.parse
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .local_http import LocalServer

MEDIA_TYPE = "application/vnd.pagerduty+json;version=2"


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@dataclass
class FakeService:
    id: str
    name: str
    policy: str  # escalation policy id
    integration_keys: tuple[str, ...] = ()


@dataclass
class FakeShift:
    policy: str
    level: int
    user: str  # user id
    start: str | None = None  # None with end None: named directly by the policy
    end: str | None = None


@dataclass
class FakeIncident:
    id: str
    service: str
    title: str
    status: str
    created_at: str
    urgency: str = "high"
    resolved_at: str | None = None


@dataclass
class FakePagerDuty(LocalServer):
    token: str = "pd-test-token-0123456789abcdef"
    subdomain: str = "acme"
    services: dict[str, FakeService] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)  # id → name
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (name, email)
    shifts: list[FakeShift] = field(default_factory=list)
    incidents: list[FakeIncident] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    urls: list[str] = field(default_factory=list)
    faults: dict[str, deque[str]] = field(default_factory=dict)
    slow_seconds: float = 0.5
    reset_seconds: int = 2  # what a 429 says to wait

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control

    @property
    def web(self) -> str:
        return f"https://{self.subdomain}.pagerduty.com"

    def add_service(
        self, sid: str, name: str, policy: str, keys: tuple[str, ...] = ()
    ) -> FakeService:
        self.policies.setdefault(policy, f"{policy} policy")
        service = FakeService(sid, name, policy, keys)
        self.services[sid] = service
        return service

    def reset(self) -> None:
        """Back to an empty account, the server still running (one per test module)."""
        base, server = self.base, self._server
        self.__init__()
        self.base, self._server = base, server

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
        query = urllib.parse.parse_qs(parsed.query)
        kind = self._kind(path)
        with self._lock:
            self.counts[kind] += 1
            self.urls.append(handler.path)
        fault = self._take_fault(kind)
        if fault == "slow":
            time.sleep(self.slow_seconds)
        elif fault == "429":
            reset = str(self.reset_seconds)
            self._reply(
                handler,
                429,
                {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
                {"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": reset},
            )
            return
        elif fault in ("500", "502", "503"):
            self._reply(handler, int(fault), {"error": {"message": "Internal Server Error"}})
            return
        elif fault in ("401", "403"):
            self._reply(handler, int(fault), {"error": {"message": "Forbidden", "code": 2010}})
            return
        elif fault is not None:
            raise ValueError(f"unknown fault {fault!r}")
        if handler.headers.get("Authorization") != f"Token token={self.token}":
            self._reply(handler, 401, {"error": {"message": "Authentication failed", "code": 2006}})
            return
        if handler.headers.get("Accept") != MEDIA_TYPE:
            self._reply(handler, 406, {"error": {"message": "Not Acceptable"}})
            return
        if kind == "service":
            service = self.services.get(path.rsplit("/", 1)[1])
            if service is None:
                self._reply(handler, 404, {"error": {"message": "Not Found", "code": 2100}})
            else:
                self._reply(handler, 200, {"service": self._service(service, query)})
        elif kind == "services":
            self._page(handler, query, "services", self._services(query))
        elif kind == "oncalls":
            self._page(handler, query, "oncalls", self._oncalls(query))
        elif kind == "incidents":
            self._page(handler, query, "incidents", self._incidents(query))
        else:
            self._reply(handler, 404, {"error": {"message": "Not Found", "code": 2100}})

    @staticmethod
    def _kind(path: str) -> str:
        if path.startswith("/services/"):
            return "service"
        return path.strip("/") or "other"

    def _reply(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        # A client that stopped waiting (the timeout tests) has nothing more to be told.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(data)

    def _page(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        query: dict[str, list[str]],
        key: str,
        items: list[dict[str, Any]],
    ) -> None:
        limit = min(int(query.get("limit", ["25"])[0]), 100)
        offset = int(query.get("offset", ["0"])[0])
        page = items[offset : offset + limit]
        self._reply(
            handler,
            200,
            {
                key: page,
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(items),
                "total": None,
            },
        )

    # ------------------------------------------------------------------ resources

    def _service(self, service: FakeService, query: dict[str, list[str]]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": service.id,
            "type": "service",
            "name": service.name,
            "summary": service.name,
            "html_url": f"{self.web}/service-directory/{service.id}",
            "escalation_policy": {
                "id": service.policy,
                "type": "escalation_policy_reference",
                "summary": self.policies[service.policy],
                "html_url": f"{self.web}/escalation_policies/{service.policy}",
            },
        }
        if "integrations" in query.get("include[]", []):
            out["integrations"] = [
                {
                    "id": f"I{n}{service.id}",
                    "type": "generic_events_api_inbound_integration",
                    "integration_key": key,
                }
                for n, key in enumerate(service.integration_keys)
            ]
        return out

    def _services(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        words = query.get("query", [""])[0]
        found = [
            s
            for _, s in sorted(self.services.items())
            if not words or words.lower() in s.name.lower() or words in s.integration_keys
        ]
        return [self._service(s, query) for s in found]

    def _user(self, uid: str, full: bool) -> dict[str, Any]:
        name, email = self.users[uid]
        user: dict[str, Any] = {
            "id": uid,
            "type": "user" if full else "user_reference",
            "summary": name,
            "html_url": f"{self.web}/users/{uid}",
        }
        if full:
            user.update(name=name, email=email)
        return user

    def _oncalls(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        policies = set(query.get("escalation_policy_ids[]", []))
        now = datetime.now(UTC)
        since = _at(query["since"][0]) if "since" in query else now
        until = _at(query["until"][0]) if "until" in query else since
        full = "users" in query.get("include[]", [])
        chosen: dict[tuple[str, int, str], FakeShift] = {}
        out: list[FakeShift] = []
        for shift in self.shifts:
            if policies and shift.policy not in policies:
                continue
            if (
                shift.start is not None
                and shift.end is not None
                and (_at(shift.end) <= since or _at(shift.start) > until)
            ):
                continue  # PagerDuty lists the shifts overlapping the range
            if query.get("earliest") == ["true"]:
                key = (shift.policy, shift.level, shift.user)
                held = chosen.get(key)
                if held is None or (
                    shift.start is not None
                    and held.start is not None
                    and _at(shift.start) < _at(held.start)
                ):
                    chosen[key] = shift
            else:
                out.append(shift)
        if query.get("earliest") == ["true"]:
            out = list(chosen.values())
        return [
            {
                "escalation_policy": {
                    "id": s.policy,
                    "type": "escalation_policy_reference",
                    "summary": self.policies.get(s.policy, ""),
                    "html_url": f"{self.web}/escalation_policies/{s.policy}",
                },
                "escalation_level": s.level,
                "schedule": None,
                "user": self._user(s.user, full),
                "start": s.start,
                "end": s.end,
            }
            for s in sorted(out, key=lambda s: (s.policy, s.level, s.start or "", s.user))
        ]

    def _incidents(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        services = set(query.get("service_ids[]", []))
        statuses = set(query.get("statuses[]", [])) or {"triggered", "acknowledged"}
        everything = query.get("date_range") == ["all"]
        now = datetime.now(UTC)
        since = _at(query["since"][0]) if "since" in query else now.replace(day=1)
        until = _at(query["until"][0]) if "until" in query else now
        found = [
            i
            for i in self.incidents
            if (not services or i.service in services)
            and i.status in statuses
            and (everything or since <= _at(i.created_at) <= until)
        ]
        found.sort(key=lambda i: i.created_at, reverse=True)
        return [
            {
                "id": i.id,
                "type": "incident",
                "title": i.title,
                "summary": f"[#{i.id}] {i.title}",
                "status": i.status,
                "urgency": i.urgency,
                "created_at": i.created_at,
                "resolved_at": i.resolved_at,
                "last_status_change_at": i.resolved_at or i.created_at,
                "html_url": f"{self.web}/incidents/{i.id}",
                "service": {
                    "id": i.service,
                    "type": "service_reference",
                    "summary": self.services[i.service].name if i.service in self.services else "",
                },
            }
            for i in found
        ]
