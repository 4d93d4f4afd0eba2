"""The one interface every context source implements, and the request budget each runs on.

A source reads entity annotations and names its *targets* (a repository slug, a PagerDuty
service, an Argo CD application): several entities may share one target, and each target is
fetched once. ``collect`` fetches all of a run's targets at once, so a source batches as its
API allows (GraphQL aliases, list endpoints that take many ids) and never makes one request
per page view as Backstage's cards do. A source never raises for one target: what it could
not learn goes into ``Collected.missing`` with the reason, and a failure of the whole source
(no token, a refused credential, the API down) into ``Collected.error``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ._facts import Facts

__all__ = ["BudgetSpent", "Collected", "ContextSource", "RequestBudget"]


class BudgetSpent(Exception):
    """The source's request budget for this run is spent: stop asking, keep what came."""


class RequestBudget:
    """At most ``limit`` requests in one run; ``spend()`` before each one."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, requests: int = 1) -> None:
        if self.used + requests > self.limit:
            raise BudgetSpent(f"its budget of {self.limit} requests per run is spent")
        self.used += requests

    @property
    def left(self) -> int:
        return self.limit - self.used


@dataclass
class Collected:
    """What one run of a source learnt."""

    facts: dict[str, Facts] = field(default_factory=dict)  # target → facts
    missing: dict[str, str] = field(default_factory=dict)  # target → why it is not known
    error: str = ""  # the source as a whole could not be read, and why
    requests: int = 0
    detail: dict[str, Any] = field(default_factory=dict)  # the source's own cost figures


class ContextSource(Protocol):
    """A context source; one module each (``github.py``, ``pagerduty.py``, ``argocd.py``),
    constructed as ``Source(settings, env, cache)``: its ``backlot.yaml`` settings, the
    environment it reads credentials from, and a folder of its own (or None) for what it
    keeps between runs."""

    name: str  # its key in backlot.yaml and in the snapshot: "github", "pagerduty", …
    title: str  # what a reader sees: "GitHub", "PagerDuty", "Argo CD"

    def targets_of(self, entity: Mapping[str, Any]) -> tuple[str, ...]:
        """The targets an entity's annotations name (none: the source has nothing to say)."""
        ...

    def narrow(self, entity: Mapping[str, Any], facts: Facts) -> Facts:
        """A target's facts as one entity shows them (the workflows it names, say)."""
        ...

    def collect(self, targets: Sequence[str], budget: RequestBudget, now: datetime) -> Collected:
        """Fetch every target; never raises for one target or for the source failing."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Credentials this source holds: never written to any output."""
        ...
