"""What a context source says about one target (a repository, a PagerDuty service, an
Argo CD application): typed facts, each kind optional, all of them plain data that the
snapshot stores as JSON and the site renders.

Times are ISO 8601 strings in UTC as the source gave them; ages are computed where they
are shown (in the browser, from the timestamp), never baked into a page.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AppStatus",
    "CiStatus",
    "Deployment",
    "Deployments",
    "Facts",
    "Incident",
    "Incidents",
    "OnCall",
    "OnCallPerson",
    "PullRequest",
    "PullRequests",
    "RunState",
    "WorkflowRun",
]

# One vocabulary for every CI and deployment system's states (GitHub's conclusions,
# Argo CD's health): what the page colours by.
RunState = Literal["success", "failure", "running", "cancelled", "skipped", "unknown"]


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PullRequest(_Fact):
    title: str
    url: str
    author: str = ""
    created_at: str
    draft: bool = False
    # GitHub's reviewDecision, lower-cased: "approved", "changes_requested",
    # "review_required"; "" when the repository asks for no review.
    review: str = ""


class PullRequests(_Fact):
    open_count: int = Field(ge=0)
    recent: tuple[PullRequest, ...] = ()  # newest first, at most five
    url: str  # the list of open pull requests at the source


class WorkflowRun(_Fact):
    workflow: str
    state: RunState
    url: str
    branch: str = ""
    commit: str = ""
    at: str = ""  # when the run started (or finished, when that is all the source says)


class CiStatus(_Fact):
    runs: tuple[WorkflowRun, ...] = ()  # the latest run of each workflow on the branch
    branch: str = ""
    url: str


class Deployment(_Fact):
    environment: str
    state: RunState
    commit: str = ""
    at: str = ""
    url: str = ""


class Deployments(_Fact):
    latest: tuple[Deployment, ...] = ()  # the last deployment of each environment
    url: str


class OnCallPerson(_Fact):
    name: str
    url: str = ""
    email: str = ""
    level: int = 1  # escalation level
    until: str = ""  # end of the shift, when the source says


class OnCall(_Fact):
    policy: str = ""
    now: tuple[OnCallPerson, ...] = ()
    next: tuple[OnCallPerson, ...] = ()
    url: str


class Incident(_Fact):
    title: str
    url: str
    status: Literal["triggered", "acknowledged", "resolved"]
    urgency: str = ""
    created_at: str
    resolved_at: str = ""


class Incidents(_Fact):
    window_hours: int = 72
    open_count: int = Field(ge=0)
    recent: tuple[Incident, ...] = ()  # newest first, the window's, at most twenty
    url: str


class AppStatus(_Fact):
    name: str
    sync: str  # "Synced", "OutOfSync", "Unknown"
    health: str  # "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"
    state: RunState
    revision: str = ""
    at: str = ""  # the last sync operation's end
    url: str


class Facts(_Fact):
    """Everything one source knows of one target; a source fills the kinds it has."""

    pull_requests: PullRequests | None = None
    ci: CiStatus | None = None
    deployments: Deployments | None = None
    on_call: OnCall | None = None
    incidents: Incidents | None = None
    app: AppStatus | None = None
