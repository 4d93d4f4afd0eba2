"""Argo CD: sync and health of the applications entities name (``argocd/app-name``).

One request lists every application the token may see (Argo CD's list endpoint, trimmed to
the fields shown), however many entities name one: Backstage's Argo CD card asks once per
card per page view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from .. import __version__
from ..config import ArgoCdContext
from ._facts import AppStatus, Facts, RunState
from ._source import BudgetSpent, Collected, RequestBudget

__all__ = ["ANNOTATION", "ArgoCdSource"]

ANNOTATION = "argocd/app-name"
_FIELDS = ",".join(
    f"items.{f}"
    for f in (
        "metadata.name",
        "status.sync.status",
        "status.sync.revision",
        "status.health.status",
        "status.operationState.finishedAt",
        "status.reconciledAt",
    )
)
_HEALTH: dict[str, RunState] = {
    "Healthy": "success",
    "Progressing": "running",
    "Degraded": "failure",
    "Missing": "failure",
    "Suspended": "skipped",
}


class ArgoCdSource:
    name = "argocd"
    title = "Argo CD"

    def __init__(
        self, settings: ArgoCdContext, env: Mapping[str, str], cache: Path | None = None
    ) -> None:
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self._token = env.get(settings.token_env, "")

    def __repr__(self) -> str:
        return f"ArgoCdSource({self.base!r})"

    def secrets(self) -> tuple[str, ...]:
        return (self._token,) if self._token else ()

    def targets_of(self, entity: Mapping[str, Any]) -> tuple[str, ...]:
        value = (entity.get("metadata", {}).get("annotations") or {}).get(ANNOTATION)
        if not isinstance(value, str):
            return ()
        return tuple(sorted({v.strip() for v in value.split(",") if v.strip()}))

    def narrow(self, entity: Mapping[str, Any], facts: Facts) -> Facts:
        return facts

    def collect(self, targets: Sequence[str], budget: RequestBudget, now: datetime) -> Collected:
        if not self._token:
            return Collected(error=f"${self.settings.token_env} is not set")
        try:
            budget.spend()
        except BudgetSpent as exc:
            return Collected(error=str(exc))
        try:
            with httpx.Client(timeout=self.settings.timeout_seconds) as http:
                answer = http.get(
                    f"{self.base}/api/v1/applications",
                    params={"fields": _FIELDS},
                    headers={
                        "Authorization": f"Bearer {self._token}",
                        "Accept": "application/json",
                        "User-Agent": f"backlot/{__version__}",
                    },
                )
        except httpx.HTTPError as exc:
            return Collected(error=f"{self.base} did not answer: {type(exc).__name__}")
        if answer.status_code in (401, 403):
            return Collected(error=f"{self.base} refused the token (HTTP {answer.status_code})")
        if answer.status_code != 200:
            return Collected(error=f"{self.base} answered HTTP {answer.status_code}")
        try:
            items = answer.json().get("items") or []
        except ValueError:
            return Collected(error=f"{self.base} answered something other than JSON")
        apps = {
            item["metadata"]["name"]: item
            for item in items
            if isinstance(item, dict) and isinstance(item.get("metadata"), dict)
        }
        collected = Collected(requests=1, detail={"applications": len(apps)})
        for target in targets:
            item = apps.get(target)
            if item is None:
                collected.missing[target] = "no such application (or not visible to the token)"
                continue
            collected.facts[target] = Facts(app=self._status(target, item.get("status") or {}))
        return collected

    def _status(self, name: str, status: dict[str, Any]) -> AppStatus:
        sync = status.get("sync") or {}
        health = str((status.get("health") or {}).get("status") or "Unknown")
        operation = status.get("operationState") or {}
        return AppStatus(
            name=name,
            sync=str(sync.get("status") or "Unknown"),
            health=health,
            state=_HEALTH.get(health, "unknown"),
            revision=str(sync.get("revision") or "")[:40],
            at=str(operation.get("finishedAt") or status.get("reconciledAt") or ""),
            url=f"{self.base}/applications/{quote(name, safe='')}",
        )
