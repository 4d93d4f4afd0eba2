"""PagerDuty: who is on call now (and next) for a service's escalation policy, and the
incidents of the last hours, for entities annotated ``pagerduty.com/service-id`` or
``pagerduty.com/integration-key`` (resolved to its service), as Backstage's PagerDuty card
reads them.

Backstage's card asks per page view: the service, then its incidents, then the on-calls of
its policy. Here one run asks for every service at once: the list endpoints take many ids
(``service_ids[]``, ``escalation_policy_ids[]``), so N services cost a few paged requests
per kind, in chunks that keep each URL short. PagerDuty's service list takes no ids, so
services are looked up one by one when they are few and by listing every service when that
takes fewer pages. What a service maps to (its escalation policy, its name and link) and
what an integration key maps to change rarely: they are kept in the cache folder for
``_MAP_HOURS``, so a warm refresh asks only for on-calls and incidents (500 services: 18
requests cold, 12 warm; ``tests/test_context_pagerduty.py``).

Targets are ``service:<id>`` and ``integration:<key>``, so the two never meet.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import quote, urlencode

import httpx

from .. import __version__
from ..config import PagerDutyContext
from ..files import write_atomic
from ._facts import Facts, Incident, Incidents, OnCall, OnCallPerson
from ._snapshot import iso_utc, parse_utc
from ._source import BudgetSpent, Collected, RequestBudget

__all__ = ["INTEGRATION_KEY", "SERVICE_ID", "PagerDutySource"]

SERVICE_ID = "pagerduty.com/service-id"
INTEGRATION_KEY = "pagerduty.com/integration-key"

_SERVICE = "service:"
_INTEGRATION = "integration:"
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PAGE = 100  # PagerDuty's largest page
_OFFSET_CAP = 10_000  # classic pagination answers no further (offset + limit)
_URL_IDS = 4_000  # characters of ids[] in one URL: half of the 8 KB line most proxies take
_MAP_HOURS = 6.0  # a cached service → policy map is asked again after this
_FORGET_HOURS = 7 * 24.0  # cached entries not seen again in this long are dropped
_NEXT_HOURS = 7 * 24  # how far ahead "next on call" looks: a weekly rotation's hand-over
_RECENT = 20
_TRIES = 3
_MAX_WAIT = 30.0  # seconds one run may wait in all for PagerDuty's rate limit
_CACHE_VERSION = 1

_Status = Literal["triggered", "acknowledged", "resolved"]
_STATUSES: tuple[_Status, ...] = ("triggered", "acknowledged", "resolved")


class _Stop(Exception):
    """Stop asking: the rest of the run cannot be read (PagerDuty down, rate limited)."""


class _Refused(Exception):
    """The token was refused: nothing can be read."""


@dataclass
class _Service:
    id: str
    name: str
    url: str
    policy_id: str
    policy_name: str
    policy_url: str
    seen: str  # ISO time it was read from PagerDuty

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "url": self.url,
            "policy_id": self.policy_id,
            "policy_name": self.policy_name,
            "policy_url": self.policy_url,
            "seen": self.seen,
        }


@dataclass
class _Map:
    """What the cache keeps: services by id, integration keys by key (→ service id)."""

    services: dict[str, _Service] = field(default_factory=dict)
    integrations: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (id, seen)
    service_pages: int = 0  # how many pages listing every service took, last time


class PagerDutySource:
    name = "pagerduty"
    title = "PagerDuty"

    def __init__(
        self,
        settings: PagerDutyContext,
        env: Mapping[str, str],
        cache: Path | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = _MAX_WAIT,
    ) -> None:
        self.settings = settings
        self.base = settings.api_url.rstrip("/")
        self.web = (settings.web_url or "").rstrip("/")
        self.cache = cache
        self._token = env.get(settings.token_env, "").strip()
        self._sleep = sleep
        self._max_wait = max_wait

    def __repr__(self) -> str:
        return f"PagerDutySource({self.base!r})"

    def secrets(self) -> tuple[str, ...]:
        return (self._token,) if self._token else ()

    # ------------------------------------------------------------------ targets

    def targets_of(self, entity: Mapping[str, Any]) -> tuple[str, ...]:
        annotations = (entity.get("metadata") or {}).get("annotations") or {}
        # The service id wins when both are given: it needs no look-up, and it is the
        # annotation Backstage's plugin moved to (an integration key is a routing secret).
        service = annotations.get(SERVICE_ID)
        if isinstance(service, str) and service.strip():
            return (_SERVICE + service.strip(),)
        key = annotations.get(INTEGRATION_KEY)
        if isinstance(key, str) and key.strip():
            return (_INTEGRATION + key.strip(),)
        return ()

    def narrow(self, entity: Mapping[str, Any], facts: Facts) -> Facts:
        return facts

    # ------------------------------------------------------------------ collect

    def collect(self, targets: Sequence[str], budget: RequestBudget, now: datetime) -> Collected:
        if not self._token:
            return Collected(error=f"${self.settings.token_env} is not set")
        run = _Run(self, budget, now)
        try:
            return run.collect(targets)
        except Exception as exc:  # a bug of ours must not take the refresh down
            return Collected(error=f"PagerDuty source failed: {type(exc).__name__}")

    # ------------------------------------------------------------------ links

    def link(self, html_url: object, path: str) -> str:
        """``web_url`` + ``path`` when configured, else the API's own ``html_url``."""
        if self.web:
            return self.web + path
        if isinstance(html_url, str) and html_url.startswith(("https://", "http://")):
            return html_url
        return ""

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    # ------------------------------------------------------------------ cache

    def _cache_file(self) -> Path | None:
        return self.cache / "services.json" if self.cache is not None else None

    def read_map(self) -> _Map:
        path = self._cache_file()
        if path is None:
            return _Map()
        try:
            data = json.loads(path.read_bytes())
            if data.get("version") != _CACHE_VERSION:
                return _Map()
            services = {
                sid: _Service(id=sid, **{k: str(v[k]) for k in _SERVICE_FIELDS})
                for sid, v in data.get("services", {}).items()
            }
            integrations = {
                key: (str(v["service"]), str(v["seen"]))
                for key, v in data.get("integrations", {}).items()
            }
            return _Map(services, integrations, int(data.get("service_pages", 0)))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return _Map()  # a damaged cache costs one cold run, nothing more

    def write_map(self, known: _Map, now: datetime) -> None:
        path = self._cache_file()
        if path is None:
            return
        # Entries nobody asked for in a week go: deleted services, annotations removed.
        oldest = iso_utc(now - timedelta(hours=_FORGET_HOURS))
        known.services = {k: v for k, v in known.services.items() if v.seen >= oldest}
        known.integrations = {k: v for k, v in known.integrations.items() if v[1] >= oldest}
        data = {
            "version": _CACHE_VERSION,
            "service_pages": known.service_pages,
            "services": {sid: s.to_json() for sid, s in sorted(known.services.items())},
            "integrations": {
                key: {"service": sid, "seen": seen}
                for key, (sid, seen) in sorted(known.integrations.items())
            },
        }
        # The cache only saves requests; the facts are collected whether it is written or not.
        with contextlib.suppress(OSError):
            write_atomic(path, json.dumps(data, indent=1).encode())


_SERVICE_FIELDS = ("name", "url", "policy_id", "policy_name", "policy_url", "seen")


class _Run:
    """One refresh: the HTTP client, the budget, and the request counts."""

    def __init__(self, source: PagerDutySource, budget: RequestBudget, now: datetime) -> None:
        self.source = source
        self.settings = source.settings
        self.budget = budget
        self.now = now
        self.requests = 0
        self.kinds: dict[str, int] = {}
        self.retries = 0
        self.waited = 0.0
        self.truncated: set[str] = set()
        self.http: httpx.Client | None = None

    # ------------------------------------------------------------------ the run

    def collect(self, targets: Sequence[str]) -> Collected:
        collected = Collected()
        known = self.source.read_map()
        fresh_after = iso_utc(self.now - timedelta(hours=_MAP_HOURS))
        services: dict[str, str] = {}  # target → service id
        wanted_ids: set[str] = set()
        wanted_keys: set[str] = set()
        for target in targets:
            if target.startswith(_SERVICE) and _ID.fullmatch(target[len(_SERVICE) :]):
                sid = target[len(_SERVICE) :]
                cached = known.services.get(sid)
                if cached is not None and cached.seen >= fresh_after:
                    services[target] = sid
                else:
                    wanted_ids.add(sid)
            elif target.startswith(_INTEGRATION) and _KEY.fullmatch(target[len(_INTEGRATION) :]):
                key = target[len(_INTEGRATION) :]
                hit = known.integrations.get(key)
                if hit is not None and hit[1] >= fresh_after and hit[0] in known.services:
                    services[target] = hit[0]
                    if known.services[hit[0]].seen < fresh_after:
                        wanted_ids.add(hit[0])  # the key still holds; its policy may not
                else:
                    wanted_keys.add(key)
            elif target.startswith(_INTEGRATION):
                collected.missing[target] = "not a PagerDuty integration key"
            else:
                collected.missing[target] = "not a PagerDuty service id"
        from_cache = len(services)
        # Why the run stopped early, and whether PagerDuty failed (a spent budget is the
        # run's own limit: those targets are missing, not the source broken).
        stopped = ""
        outage = False
        timeout = self.settings.timeout_seconds
        with httpx.Client(timeout=timeout, headers=self._headers()) as self.http:
            try:
                self._resolve(wanted_ids, wanted_keys, known)
            except _Refused as exc:
                return self._refused(exc, known)
            except (BudgetSpent, _Stop) as exc:
                stopped, outage = self.source.scrub(str(exc)), isinstance(exc, _Stop)
            for target in targets:
                if target in services or target in collected.missing:
                    continue
                found = self._service_of(target, known, fresh_after)
                if found is not None:
                    services[target] = found
                elif not stopped:
                    collected.missing[target] = (
                        "no such PagerDuty service (or not visible to the token)"
                        if target.startswith(_SERVICE)
                        else "no PagerDuty service has this integration key "
                        "(or it is not visible to the token)"
                    )
            if not stopped:
                try:
                    self._facts(services, known, collected)
                except _Refused as exc:
                    return self._refused(exc, known)
                except (BudgetSpent, _Stop) as exc:
                    stopped, outage = self.source.scrub(str(exc)), isinstance(exc, _Stop)
        self.http = None
        if stopped:
            for target in targets:
                if target not in collected.facts and target not in collected.missing:
                    collected.missing[target] = stopped
        self.source.write_map(known, self.now)
        collected.requests = self.requests
        collected.detail = {
            "services": len(set(services.values())),
            "from_cache": from_cache,
            "requests_by_kind": dict(sorted(self.kinds.items())),
            "retries": self.retries,
            "rate_limited_seconds": round(self.waited, 1),
        }
        if self.truncated:
            collected.detail["truncated"] = sorted(self.truncated)
        if outage and not collected.facts:
            collected.error = stopped
        return collected

    @staticmethod
    def _service_of(target: str, known: _Map, fresh_after: str) -> str | None:
        """The service a target names, as this run knows it (a map renewed in it, or one
        younger than ``_MAP_HOURS``)."""
        if target.startswith(_SERVICE):
            sid: str | None = target[len(_SERVICE) :]
            seen = known.services[sid].seen if sid in known.services else ""
        else:
            hit = known.integrations.get(target[len(_INTEGRATION) :])
            sid, seen = hit if hit is not None else (None, "")
        if sid is None or sid not in known.services:
            return None
        return sid if seen >= fresh_after else None

    def _refused(self, exc: _Refused, known: _Map) -> Collected:
        self.source.write_map(known, self.now)  # what was learnt before still holds
        return Collected(
            error=self.source.scrub(str(exc)),
            requests=self.requests,
            detail={"requests_by_kind": dict(sorted(self.kinds.items()))},
        )

    # ------------------------------------------------------------------ services

    def _resolve(self, ids: set[str], keys: set[str], known: _Map) -> None:
        """Learn the policy of each service in ``ids`` and the service of each key."""
        if not ids and not keys:
            return
        # Listing every service costs its pages; asking one by one costs one each. The
        # pages it took last time (or a guess) decide which is cheaper.
        pages = known.service_pages or 10
        if len(ids) + len(keys) > pages:
            self._list_services(keys, known)
            return
        for sid in sorted(ids):
            body = self._get(f"/services/{quote(sid, safe='')}", [], "services", missing_ok=True)
            if body is not None and isinstance(body.get("service"), dict):
                self._remember(body["service"], known, keys=set())
        for key in sorted(keys):
            params = [("query", key), ("include[]", "integrations")]
            for page in self._pages("/services", params, "services"):
                for item in page:
                    self._remember(item, known, keys={key})

    def _list_services(self, keys: set[str], known: _Map) -> None:
        params = [("include[]", "integrations")] if keys else []
        pages = 0
        for page in self._pages("/services", params, "services"):
            pages += 1
            for item in page:
                self._remember(item, known, keys)
        known.service_pages = pages

    def _remember(self, item: object, known: _Map, keys: set[str]) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return
        sid = item["id"]
        policy = item.get("escalation_policy") or {}
        policy_id = str(policy.get("id") or "") if isinstance(policy, dict) else ""
        stamp = iso_utc(self.now)
        known.services[sid] = _Service(
            id=sid,
            name=str(item.get("name") or item.get("summary") or sid),
            url=self.source.link(item.get("html_url"), f"/service-directory/{sid}"),
            policy_id=policy_id,
            policy_name=str(policy.get("summary") or policy.get("name") or "")
            if isinstance(policy, dict)
            else "",
            policy_url=self.source.link(
                policy.get("html_url") if isinstance(policy, dict) else None,
                f"/escalation_policies/{quote(policy_id, safe='')}",
            ),
            seen=stamp,
        )
        for integration in item.get("integrations") or ():
            if isinstance(integration, dict):
                key = integration.get("integration_key")
                # Only the keys asked for: the others are routing secrets nobody named.
                if isinstance(key, str) and key in keys:
                    known.integrations[key] = (sid, stamp)

    # ------------------------------------------------------------------ facts

    def _facts(self, services: dict[str, str], known: _Map, collected: Collected) -> None:
        """On-calls and incidents, a chunk of services at a time, so a run stopped half-way
        has finished the services before it (their facts complete, never half)."""
        by_service: dict[str, list[str]] = {}
        for target, sid in sorted(services.items()):
            by_service.setdefault(sid, []).append(target)
        on_call: dict[str, OnCall] = {}
        for chunk in _chunks(sorted(by_service)):
            policies = {known.services[s].policy_id for s in chunk} - set(on_call) - {""}
            for policy_chunk in _chunks(sorted(policies)):
                on_call.update(self._on_calls(policy_chunk, known))
            open_count, recent = self._incidents(chunk)
            for sid in chunk:
                service = known.services[sid]
                facts = Facts(
                    on_call=on_call.get(service.policy_id)
                    or OnCall(policy=service.policy_name, url=service.policy_url or service.url),
                    incidents=Incidents(
                        window_hours=self.settings.incident_hours,
                        open_count=open_count.get(sid, 0),
                        recent=tuple(
                            sorted(recent.get(sid, []), key=_created, reverse=True)[:_RECENT]
                        ),
                        url=service.url,
                    ),
                )
                for target in by_service[sid]:
                    collected.facts[target] = facts

    def _on_calls(self, policies: list[str], known: _Map) -> dict[str, OnCall]:
        now = self.now
        params = [("escalation_policy_ids[]", p) for p in policies] + [
            ("include[]", "users"),
            ("time_zone", "UTC"),
            ("since", iso_utc(now)),
            ("until", iso_utc(now + timedelta(hours=_NEXT_HOURS))),
            # The earliest shift of each (policy, level, user) in the window: the current
            # one says who is on call, a later one who is next.
            ("earliest", "true"),
        ]
        current: dict[str, dict[tuple[int, str], OnCallPerson]] = {p: {} for p in policies}
        coming: dict[str, list[tuple[datetime, OnCallPerson]]] = {p: [] for p in policies}
        for page in self._pages("/oncalls", params, "oncalls"):
            for entry in page:
                policy = entry.get("escalation_policy")
                pid = policy.get("id") if isinstance(policy, dict) else None
                user = entry.get("user")
                if pid not in current or not isinstance(user, dict):
                    continue
                uid = str(user.get("id") or "")
                level = _int(entry.get("escalation_level"), 1)
                start = _time(entry.get("start"))
                end = _time(entry.get("end"))
                person = OnCallPerson(
                    name=str(user.get("name") or user.get("summary") or uid),
                    email=str(user.get("email") or ""),
                    url=self.source.link(user.get("html_url"), f"/users/{quote(uid, safe='')}"),
                    level=level,
                    until=str(entry.get("end") or "") if end is not None else "",
                )
                # No start or end: a user named directly by the policy, always on call.
                if start is None or start <= now:
                    if end is None or end > now:
                        current[str(pid)].setdefault((level, uid), person)
                else:
                    coming[str(pid)].append((start, person))
        names = {s.policy_id: (s.policy_name, s.policy_url) for s in known.services.values()}
        out: dict[str, OnCall] = {}
        for pid in policies:
            name, url = names.get(pid, ("", ""))
            now_people = sorted(current[pid].values(), key=lambda p: (p.level, p.name))
            first: dict[int, datetime] = {}  # per level, the next hand-over
            for start, person in coming[pid]:
                if person.level not in first or start < first[person.level]:
                    first[person.level] = start
            next_people = sorted(
                (p for start, p in coming[pid] if start == first[p.level]),
                key=lambda p: (p.level, p.name),
            )
            out[pid] = OnCall(policy=name, now=tuple(now_people), next=tuple(next_people), url=url)
        return out

    def _incidents(self, services: list[str]) -> tuple[dict[str, int], dict[str, list[Incident]]]:
        """(open incidents per service, the window's incidents per service)."""
        since = self.now - timedelta(hours=self.settings.incident_hours)
        ids = [("service_ids[]", s) for s in services]
        common = [("time_zone", "UTC"), ("sort_by", "created_at:desc")]
        # Open incidents of any age (one open for four days is still open), then the
        # window's resolved ones: together the window's incidents and the open count,
        # nothing fetched twice.
        open_params = [
            *ids,
            ("statuses[]", "triggered"),
            ("statuses[]", "acknowledged"),
            ("date_range", "all"),
            *common,
        ]
        resolved_params = [
            *ids,
            ("statuses[]", "resolved"),
            ("since", iso_utc(since)),
            ("until", iso_utc(self.now)),
            *common,
        ]
        wanted = set(services)
        open_count: dict[str, int] = {}
        recent: dict[str, list[Incident]] = {}
        seen: set[str] = set()
        for params in (open_params, resolved_params):
            for page in self._pages("/incidents", params, "incidents"):
                for item in page:
                    service = item.get("service")
                    sid = service.get("id") if isinstance(service, dict) else None
                    status = item.get("status")
                    iid = str(item.get("id") or "")
                    if sid not in wanted or status not in _STATUSES or iid in seen:
                        continue
                    sid = str(sid)
                    seen.add(iid)
                    if status != "resolved":
                        open_count[sid] = open_count.get(sid, 0) + 1
                    created = _time(item.get("created_at"))
                    if created is None or created < since or created > self.now:
                        continue
                    resolved_at = ""
                    if status == "resolved":
                        resolved_at = str(
                            item.get("resolved_at") or item.get("last_status_change_at") or ""
                        )
                    recent.setdefault(sid, []).append(
                        Incident(
                            title=str(item.get("title") or item.get("summary") or iid),
                            url=self.source.link(
                                item.get("html_url"), f"/incidents/{quote(iid, safe='')}"
                            ),
                            status=cast(_Status, status),
                            urgency=str(item.get("urgency") or ""),
                            created_at=str(item["created_at"]),
                            resolved_at=resolved_at,
                        )
                    )
        return open_count, recent

    # ------------------------------------------------------------------ HTTP

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Token token={self.source._token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
            "User-Agent": f"backlot/{__version__}",
        }

    def _pages(
        self, path: str, params: list[tuple[str, str]], key: str
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page of a list endpoint, by offset, until PagerDuty says no ``more``."""
        offset = 0
        while True:
            body = self._get(path, [*params, ("limit", str(_PAGE)), ("offset", str(offset))], key)
            items = body.get(key) if body is not None else None
            if not isinstance(items, list):
                return
            yield [i for i in items if isinstance(i, dict)]
            offset += len(items)
            if not body or not body.get("more") or not items:
                return
            if offset + _PAGE > _OFFSET_CAP:
                self.truncated.add(key)
                return

    def _get(
        self, path: str, params: list[tuple[str, str]], kind: str, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        assert self.http is not None
        url = f"{self.source.base}{path}"
        if params:
            url += "?" + urlencode(params)
        for attempt in range(1, _TRIES + 1):
            self.budget.spend()
            self.requests += 1
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            try:
                answer = self.http.get(url)
            except httpx.HTTPError as exc:
                problem = f"{self.source.base} did not answer: {type(exc).__name__}"
                if attempt == _TRIES:
                    raise _Stop(problem) from None
                self._backoff(attempt)
                continue
            status = answer.status_code
            if status == 200:
                try:
                    body = answer.json()
                except ValueError:
                    raise _Stop(f"{self.source.base} answered something other than JSON") from None
                return body if isinstance(body, dict) else {}
            if status in (401, 403):
                raise _Refused(f"{self.source.base} refused the token (HTTP {status})")
            if status == 404 and missing_ok:
                return None
            if status == 429:
                wait = _retry_after(answer.headers)
                # The bound is the run's, not each request's: a refresh every five minutes
                # must not spend them waiting.
                if self.waited + wait > self.source._max_wait or attempt == _TRIES:
                    raise _Stop(f"PagerDuty rate-limited the token (retry in {math.ceil(wait)} s)")
                self.retries += 1
                self.waited += wait
                self.source._sleep(wait)
                continue
            if status >= 500 and attempt < _TRIES:
                self._backoff(attempt)
                continue
            raise _Stop(f"{self.source.base} answered HTTP {status}")
        raise _Stop(f"{self.source.base} did not answer")  # pragma: no cover

    def _backoff(self, attempt: int) -> None:
        self.retries += 1
        self.source._sleep(float(2 ** (attempt - 1)))


def _retry_after(headers: httpx.Headers) -> float:
    """Seconds until the limit resets: PagerDuty's ``ratelimit-reset`` (seconds left),
    else ``retry-after``, else a second."""
    for name in ("ratelimit-reset", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            continue
    return 1.0


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    """``ids`` in runs whose ``name[]=id&`` parameters stay under ``_URL_IDS`` characters."""
    chunk: list[str] = []
    size = 0
    for item in ids:
        cost = len(quote(item, safe="")) + 30  # "escalation_policy_ids%5B%5D=" and "&"
        if chunk and (size + cost > _URL_IDS or len(chunk) >= _PAGE):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += cost
    if chunk:
        yield chunk


def _time(stamp: object) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        when = parse_utc(stamp)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _created(incident: Incident) -> datetime:
    return _time(incident.created_at) or datetime.min.replace(tzinfo=UTC)


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
