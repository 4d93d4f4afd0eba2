"""Context: build-time snapshots of what lives beside the catalog — open pull requests,
CI on the default branch, deployments (GitHub), who is on call and the last hours'
incidents (PagerDuty), application sync and health (Argo CD) — for every entity whose
annotations name them.

It runs after the catalog stage and before the site stage, and can run on its own, more
often (``backlot context``). Its artifact is ``context.json`` (``ContextSnapshot``). Each
source is one module implementing ``ContextSource`` (``_source.py``); ``open_sources``
opens the configured ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..config import ContextSettings, GitHubContext, PagerDutyContext
from ._facts import (
    AppStatus,
    CiStatus,
    Deployment,
    Deployments,
    Facts,
    Incident,
    Incidents,
    OnCall,
    OnCallPerson,
    PullRequest,
    PullRequests,
    RunState,
    WorkflowRun,
)
from ._refresh import describe_run, outline_context, refresh_context
from ._snapshot import ContextSnapshot, SourceRun, TargetFacts, iso_utc, parse_utc
from ._source import BudgetSpent, Collected, ContextSource, RequestBudget

__all__ = [
    "SOURCE_KINDS",
    "AppStatus",
    "BudgetSpent",
    "CiStatus",
    "Collected",
    "ContextSnapshot",
    "ContextSource",
    "Deployment",
    "Deployments",
    "Facts",
    "Incident",
    "Incidents",
    "OnCall",
    "OnCallPerson",
    "PullRequest",
    "PullRequests",
    "RequestBudget",
    "RunState",
    "SourceRun",
    "TargetFacts",
    "WorkflowRun",
    "describe_run",
    "iso_utc",
    "open_sources",
    "outline_context",
    "parse_utc",
    "refresh_context",
]

# The kinds of facts each source gives (``Facts`` fields): where a page says that a
# source's facts are missing.
SOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "github": ("pull_requests", "ci", "deployments"),
    "pagerduty": ("on_call", "incidents"),
    "argocd": ("app",),
}


def open_sources(
    settings: ContextSettings, cache_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> list[tuple[ContextSource, int]]:
    """Each configured source with its request budget. Opening reads no network and never
    fails for a missing token: the source reports that when it runs. A source may keep
    what it learnt between runs in ``<cache_dir>/context/<its name>/`` (its own folder)."""
    env = os.environ if env is None else env

    def cache(name: str) -> Path | None:
        return cache_dir / "context" / name if cache_dir is not None else None

    opened: list[tuple[ContextSource, int]] = []
    for config in settings.sources:
        source: ContextSource
        if isinstance(config, GitHubContext):
            from .github import GitHubContextSource

            source = GitHubContextSource(config, env, cache(GitHubContextSource.name))
        elif isinstance(config, PagerDutyContext):
            from .pagerduty import PagerDutySource

            source = PagerDutySource(config, env, cache(PagerDutySource.name))
        else:
            from .argocd import ArgoCdSource

            source = ArgoCdSource(config, env, cache(ArgoCdSource.name))
        opened.append((source, config.max_requests))
    return opened
