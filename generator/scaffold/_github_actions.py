"""The actions with effects on GitHub: publish:github, publish:github:pull-request,
github:actions:dispatch, and catalog:register (Backlot's catalog is the crawl: registering
means asking the portal to rebuild). Through the crawl's client (generator/github.py:
retries, rate limits, redaction); pushes with git, the token only in git's environment.
Each has a plan for dry runs: what it would do, and outputs of the right shape."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config import GitHubSource
from ..github import GitHubClient, GitHubError, NotFound
from ..sources import discovers
from ._actions import BOOLEAN, OBJECT, STRING, STRINGS, Action, ActionContext, schema
from ._errors import ScaffoldError
from ._repo_url import RepoUrl, parse_github_repo_url
from ._skeleton import inside

GIT_TIMEOUT = 300


@dataclass
class Services:
    """What the GitHub actions need; ``github`` is None when no token is configured."""

    github: GitHubClient | None
    web_url: str = "https://github.com"
    portal_repository: str | None = None  # owner/name, sent repository_dispatch on register
    urls: Any = None  # sources.UrlReader: remote skeleton URLs (GitHub blob/tree URLs)
    # backlot.yaml's GitHub sources: a registered repository they would not list gets a
    # Location target in the portal repository's LOCATIONS_FILE instead.
    discovery: tuple[GitHubSource, ...] = ()
    author_name: str = "Scaffolder"
    author_email: str = "scaffolder@users.noreply.github.com"

    @property
    def host(self) -> str:
        """This GitHub's host, as RepoUrlPicker values name it."""
        return self.web_url.split("://", 1)[-1].rstrip("/")


def _services(context: ActionContext) -> Services:
    services = context.services
    if not isinstance(services, Services):
        raise ScaffoldError("no GitHub access is configured (GITHUB_TOKEN or a GitHub App)")
    return services


def _client(context: ActionContext) -> GitHubClient:
    client = _services(context).github
    if client is None:
        raise ScaffoldError("no GitHub token: set GITHUB_TOKEN (an App token in Actions)")
    return client


def _repo(context: ActionContext) -> RepoUrl:
    return parse_github_repo_url(str(context.input["repoUrl"]), _services(context).host)


def _call(client: GitHubClient, method: str, path: str, body: Any = None) -> Any:
    try:
        answer = client.request(method, path, json_body=body)
    except GitHubError as exc:
        raise ScaffoldError(str(exc)) from None
    return answer.json() if answer.content else None


# ------------------------------------------------------------------ publish:github


def _publish_github(context: ActionContext) -> None:
    given = context.input
    client = _client(context)
    repo = _repo(context)
    branch = str(given.get("defaultBranch", "main"))
    visibility = str(given.get("repoVisibility", "private"))
    body: dict[str, Any] = {
        "name": repo.repo,
        "private": visibility != "public",
        "visibility": visibility,
        "description": given.get("description"),
        "homepage": given.get("homepage"),
        "has_issues": given.get("hasIssues"),
        "has_projects": given.get("hasProjects"),
        "has_wiki": given.get("hasWiki"),
        "delete_branch_on_merge": given.get("deleteBranchOnMerge", False),
        "allow_merge_commit": given.get("allowMergeCommit", True),
        "allow_squash_merge": given.get("allowSquashMerge", True),
        "allow_rebase_merge": given.get("allowRebaseMerge", True),
        "allow_auto_merge": given.get("allowAutoMerge", False),
        "allow_update_branch": given.get("allowUpdateBranch", False),
    }
    body = {k: v for k, v in body.items() if v is not None}
    owner = _call(client, "GET", f"/users/{repo.owner}")
    if isinstance(owner, dict) and owner.get("type") == "Organization":
        created = _call(client, "POST", f"/orgs/{repo.owner}/repos", body)
    else:
        body.pop("visibility", None)  # personal repositories are public or private
        created = _call(client, "POST", "/user/repos", body)
    context.log(f"created {created['html_url']}")
    _settings(context, client, repo)
    source = inside(context.workspace, str(given.get("sourcePath", "./")))
    commit = _push(
        context,
        source,
        str(created["clone_url"]),
        branch,
        str(given.get("gitCommitMessage", "initial commit")),
    )
    if given.get("protectDefaultBranch", True):
        _protect(context, client, repo, branch)
    context.output("remoteUrl", created["clone_url"])
    context.output("repoContentsUrl", f"{created['html_url']}/blob/{branch}")
    context.output("commitHash", commit)


def _settings(context: ActionContext, client: GitHubClient, repo: RepoUrl) -> None:
    given = context.input
    topics = given.get("topics")
    if topics:
        _call(client, "PUT", f"/repos/{repo.slug}/topics", {"names": list(topics)})
    grants = list(given.get("collaborators", []))
    if given.get("access"):
        grants.append({"access": "admin", **_who(str(given["access"]))})
    for grant in grants:
        permission = grant.get("access", "push")
        if "team" in grant:
            org, _, team = str(grant["team"]).rpartition("/")
            path = f"/orgs/{org or repo.owner}/teams/{team}/repos/{repo.slug}"
            _call(client, "PUT", path, {"permission": permission})
        elif "user" in grant:
            path = f"/repos/{repo.slug}/collaborators/{grant['user']}"
            _call(client, "PUT", path, {"permission": permission})


def _who(access: str) -> dict[str, str]:
    return {"team": access} if "/" in access else {"user": access}


def _protect(context: ActionContext, client: GitHubClient, repo: RepoUrl, branch: str) -> None:
    given = context.input
    checks = given.get("requiredStatusCheckContexts")
    reviews: dict[str, Any] = {
        "required_approving_review_count": given.get("requiredApprovingReviewCount", 1),
        "require_code_owner_reviews": given.get("requireCodeOwnerReviews", False),
        "dismiss_stale_reviews": given.get("dismissStaleReviews", False),
        "require_last_push_approval": given.get("requireLastPushApproval", False),
    }
    body = {
        "required_status_checks": (
            {"strict": given.get("requireBranchesToBeUpToDate", True), "contexts": list(checks)}
            if checks
            else None
        ),
        "enforce_admins": given.get("protectEnforceAdmins", True),
        "required_pull_request_reviews": reviews,
        "restrictions": None,
        "required_linear_history": given.get("requiredLinearHistory", False),
        "required_conversation_resolution": given.get("requiredConversationResolution", False),
    }
    _call(client, "PUT", f"/repos/{repo.slug}/branches/{branch}/protection", body)
    context.log(f"protected {branch}")


def git_runner(folder: Path, client: GitHubClient, author: tuple[str, str]) -> Callable[..., str]:
    """git in ``folder`` with the client's token in git's environment only (never in a URL,
    the repository's config or the process list), errors without it."""
    token = client.auth.header(client).removeprefix("Bearer ") if client.auth else ""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0],
        "GIT_COMMITTER_EMAIL": author[1],
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(folder), *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise ScaffoldError(f"git {args[0]} took over {GIT_TIMEOUT} s") from None
        if done.returncode != 0:
            said = " ".join(done.stderr.strip().splitlines()[-3:])
            for secret in (token, basic):
                said = said.replace(secret, "***") if secret else said
            raise ScaffoldError(f"git {args[0]} failed: {said}")
        return done.stdout.strip()

    return git


def _push(context: ActionContext, source: Path, remote: str, branch: str, message: str) -> str:
    """A first commit of ``source`` pushed to ``remote``."""
    services = _services(context)
    author = (
        str(context.input.get("gitAuthorName", services.author_name)),
        str(context.input.get("gitAuthorEmail", services.author_email)),
    )
    git = git_runner(source, _client(context), author)
    git("init", "-q", "-b", branch)
    git("add", "-A")
    git("commit", "-q", "--allow-empty", "-m", message)
    git("push", "-q", remote, f"HEAD:refs/heads/{branch}")
    commit = git("rev-parse", "HEAD")
    context.log(f"pushed {commit[:12]} to {branch}")
    return commit


def open_pull_request(
    client: GitHubClient,
    slug: str,
    head: str,
    base: str,
    title: str,
    body: str,
    draft: bool = False,
) -> dict[str, Any]:
    created: dict[str, Any] = _call(
        client,
        "POST",
        f"/repos/{slug}/pulls",
        {"title": title, "body": body, "head": head, "base": base, "draft": draft},
    )
    return created


def _plan_publish_github(context: ActionContext) -> None:
    repo = _repo(context)
    web = _services(context).web_url.rstrip("/")
    branch = str(context.input.get("defaultBranch", "main"))
    visibility = context.input.get("repoVisibility", "private")
    context.log(f"would create {visibility} repository {web}/{repo.slug} and push to {branch}")
    if context.input.get("topics"):
        context.log(f"would set topics {', '.join(context.input['topics'])}")
    if context.input.get("protectDefaultBranch", True):
        context.log(f"would protect {branch}")
    context.output("remoteUrl", f"{web}/{repo.slug}.git")
    context.output("repoContentsUrl", f"{web}/{repo.slug}/blob/{branch}")
    context.output("commitHash", "0" * 40)


# ------------------------------------------------------------------ pull requests, dispatch


def _pull_request(context: ActionContext) -> None:
    given = context.input
    client = _client(context)
    repo = _repo(context)
    meta = _call(client, "GET", f"/repos/{repo.slug}")
    target = str(given.get("targetBranchName") or meta["default_branch"])
    branch = str(given["branchName"])
    source = inside(context.workspace, str(given.get("sourcePath", "./")))
    _push(
        context,
        source,
        str(meta["clone_url"]),
        branch,
        str(given.get("commitMessage", given["title"])),
    )
    created = open_pull_request(
        client,
        repo.slug,
        branch,
        target,
        str(given["title"]),
        str(given["description"]),
        bool(given.get("draft", False)),
    )
    context.log(f"opened {created['html_url']}")
    context.output("remoteUrl", created["html_url"])
    context.output("pullRequestNumber", created["number"])
    context.output("targetBranchName", target)


def _plan_pull_request(context: ActionContext) -> None:
    repo = _repo(context)
    web = _services(context).web_url.rstrip("/")
    context.log(
        f"would open a pull request on {web}/{repo.slug} from {context.input['branchName']}"
    )
    context.output("remoteUrl", f"{web}/{repo.slug}/pull/43")
    context.output("pullRequestNumber", 43)  # Backstage's dry run answers 43 too
    context.output("targetBranchName", context.input.get("targetBranchName", "main"))


def _dispatch(context: ActionContext) -> None:
    given = context.input
    client = _client(context)
    repo = _repo(context)
    inputs = {k: str(v) for k, v in dict(given.get("workflowInputs", {})).items()}
    path = f"/repos/{repo.slug}/actions/workflows/{given['workflowId']}/dispatches"
    _call(client, "POST", path, {"ref": given["branchOrTagName"], "inputs": inputs})
    context.log(f"dispatched {given['workflowId']} on {repo.slug}@{given['branchOrTagName']}")


def _plan_dispatch(context: ActionContext) -> None:
    repo = _repo(context)
    context.log(f"would dispatch {context.input['workflowId']} on {repo.slug}")


# ------------------------------------------------------------------ catalog:register


def _register(context: ActionContext) -> None:
    url = _catalog_info_url(context)
    context.output("catalogInfoUrl", url)
    _entity_ref(context)
    services = _services(context)
    slug = _slug_of(url)
    if services.discovery and services.github is not None and slug and services.portal_repository:
        meta = _call(services.github, "GET", f"/repos/{slug}")
        owner, name = slug.split("/")
        visibility = str(meta.get("visibility") or ("private" if meta.get("private") else "public"))
        topics = [str(t) for t in meta.get("topics") or []]
        if not any(discovers(s, owner, name, visibility, topics) for s in services.discovery):
            _add_location(context, services.github, services.portal_repository, url)
    if services.portal_repository and services.github is not None:
        path = f"/repos/{services.portal_repository}/dispatches"
        try:
            services.github.request(
                "POST",
                path,
                json_body={"event_type": "catalog-changed", "client_payload": {"url": url}},
            )
        except (NotFound, GitHubError) as exc:
            if not context.input.get("optional"):
                raise ScaffoldError(f"asking the portal to rebuild: {exc}") from None
            context.log(f"could not ask the portal to rebuild: {exc}")
            return
        context.log(f"asked {services.portal_repository} to rebuild the portal")
    else:
        context.log(f"{url} is picked up by the portal's next crawl")


def _plan_register(context: ActionContext) -> None:
    url = _catalog_info_url(context)
    context.output("catalogInfoUrl", url)
    _entity_ref(context)
    services = context.services if isinstance(context.services, Services) else None
    slug = _slug_of(url)
    if services and services.discovery and slug:
        owner = slug.split("/")[0].lower()
        if all(s.org.lower() != owner for s in services.discovery):
            context.log(f"would add {url} to {LOCATIONS_FILE}: the crawl does not list {owner}")
    portal = (
        _services(context).portal_repository if isinstance(context.services, Services) else None
    )
    context.log(f"would register {url}" + (f" and ask {portal} to rebuild" if portal else ""))


def _entity_ref(context: ActionContext) -> None:
    """``entityRef``, as Backstage outputs it, when the workspace holds the descriptor it
    registers (it does after fetch:template or catalog:write), picked as Backstage picks."""
    path = str(context.input.get("catalogInfoPath", "/catalog-info.yaml")).lstrip("/")
    try:
        documents = list(yaml.safe_load_all(inside(context.workspace, path).read_text("utf-8")))
    except (OSError, yaml.YAMLError, ScaffoldError):
        return
    refs: list[tuple[str, str]] = []  # (kind, ref)
    for entity in documents:
        metadata = entity.get("metadata") if isinstance(entity, dict) else None
        if isinstance(metadata, dict) and isinstance(entity.get("kind"), str):
            namespace = metadata.get("namespace") or "default"
            name = str(metadata.get("name"))
            refs.append((entity["kind"], f"{entity['kind']}:{namespace}/{name}".lower()))
    # Backstage's choice: the first Component not named generated-*, else the first entity
    # not so named, else the first.
    plain = [(kind, ref) for kind, ref in refs if not ref.split("/", 1)[1].startswith("generated-")]
    chosen = next((ref for kind, ref in plain if kind == "Component"), None) or next(
        (ref for _, ref in [*plain, *refs]), None
    )
    if chosen is not None:
        context.output("entityRef", chosen)


LOCATIONS_FILE = "catalog-locations.yaml"
_LOCATIONS_HEADER = (
    "# Repositories created from templates that the crawl does not list (another owner, or\n"
    "# filtered out): catalog:register adds them here. List this file in the portal\n"
    "# repository's catalog-info.yaml Location so the crawl reads it.\n"
)


def _slug_of(url: str) -> str | None:
    match = re.match(r"^https://[^/]+/([^/]+)/([^/]+)/", url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def _add_location(context: ActionContext, client: GitHubClient, portal: str, url: str) -> None:
    """``url`` as a target of the Location in the portal repository's LOCATIONS_FILE,
    committed through the contents API (created on first use)."""
    path = f"/repos/{portal}/contents/{LOCATIONS_FILE}"
    try:
        current = client.request("GET", path).json()
        sha: str | None = str(current["sha"])
        text = base64.b64decode(str(current["content"])).decode("utf-8")
        entity = yaml.safe_load(text)
    except NotFound:
        sha, entity = None, None
    except GitHubError as exc:
        raise ScaffoldError(str(exc)) from None
    except (KeyError, ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScaffoldError(f"{portal}/{LOCATIONS_FILE} cannot be read: {exc}") from None
    if not isinstance(entity, dict):
        entity = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": {"name": "scaffolded-repositories"},
            "spec": {"type": "url", "targets": []},
        }
    targets = entity.setdefault("spec", {}).setdefault("targets", [])
    if url in targets:
        return
    targets.append(url)
    body = _LOCATIONS_HEADER + yaml.safe_dump(entity, sort_keys=False)
    change: dict[str, Any] = {
        "message": f"Register {url} (created from a template)",
        "content": base64.b64encode(body.encode()).decode(),
    }
    if sha is not None:
        change["sha"] = sha
    _call(client, "PUT", path, change)
    context.log(f"added {url} to {portal}/{LOCATIONS_FILE}: the crawl does not list it")


def _catalog_info_url(context: ActionContext) -> str:
    given = context.input
    if "catalogInfoUrl" in given:
        return str(given["catalogInfoUrl"])
    if "repoContentsUrl" not in given:
        raise ScaffoldError("catalog:register needs catalogInfoUrl or repoContentsUrl")
    path = str(given.get("catalogInfoPath", "/catalog-info.yaml"))
    return str(given["repoContentsUrl"]).rstrip("/") + "/" + path.lstrip("/")


_REPO = {"repoUrl": STRING, "token": STRING}
_PROTECTION = {
    "protectDefaultBranch": BOOLEAN,
    "protectEnforceAdmins": BOOLEAN,
    "requiredApprovingReviewCount": {"type": "number"},
    "requireCodeOwnerReviews": BOOLEAN,
    "dismissStaleReviews": BOOLEAN,
    "requiredStatusCheckContexts": STRINGS,
    "requireBranchesToBeUpToDate": BOOLEAN,
    "requiredConversationResolution": BOOLEAN,
    "requireLastPushApproval": BOOLEAN,
    "requiredLinearHistory": BOOLEAN,
    "requiredCommitSigning": BOOLEAN,
    "bypassPullRequestAllowances": OBJECT,
    "restrictions": OBJECT,
}
_PUBLISH = {
    **_REPO,
    **_PROTECTION,
    "description": STRING,
    "homepage": STRING,
    "access": STRING,
    "defaultBranch": STRING,
    "sourcePath": STRING,
    "gitCommitMessage": STRING,
    "gitAuthorName": STRING,
    "gitAuthorEmail": STRING,
    "repoVisibility": {"enum": ["private", "internal", "public"]},
    "deleteBranchOnMerge": BOOLEAN,
    "allowMergeCommit": BOOLEAN,
    "allowSquashMerge": BOOLEAN,
    "squashMergeCommitTitle": STRING,
    "squashMergeCommitMessage": STRING,
    "allowRebaseMerge": BOOLEAN,
    "allowAutoMerge": BOOLEAN,
    "allowUpdateBranch": BOOLEAN,
    "collaborators": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"user": STRING, "team": STRING, "access": STRING},
            "required": ["access"],
        },
    },
    "hasProjects": BOOLEAN,
    "hasWiki": BOOLEAN,
    "hasIssues": BOOLEAN,
    "topics": STRINGS,
    "repoVariables": OBJECT,
    "secrets": OBJECT,
    "oidcCustomization": OBJECT,
    "customProperties": OBJECT,
    "subscribe": BOOLEAN,
}

GITHUB_ACTIONS = [
    Action(
        "publish:github",
        "Create a GitHub repository and push the workspace to it",
        schema(_PUBLISH, ("repoUrl",)),
        _publish_github,
        _plan_publish_github,
    ),
    Action(
        "publish:github:pull-request",
        "Push the workspace to a branch and open a pull request",
        schema(
            {
                **_REPO,
                "branchName": STRING,
                "title": STRING,
                "description": STRING,
                "targetBranchName": STRING,
                "draft": BOOLEAN,
                "sourcePath": STRING,
                "targetPath": STRING,
                "commitMessage": STRING,
                "reviewers": STRINGS,
                "teamReviewers": STRINGS,
                "assignees": STRINGS,
                "update": BOOLEAN,
                "forceFork": BOOLEAN,
                "gitAuthorName": STRING,
                "gitAuthorEmail": STRING,
                "forceEmptyGitAuthor": BOOLEAN,
                "createWhenEmpty": BOOLEAN,
                "filesToDelete": STRINGS,
            },
            ("repoUrl", "branchName", "title", "description"),
        ),
        _pull_request,
        _plan_pull_request,
    ),
    Action(
        "github:actions:dispatch",
        "Start a workflow_dispatch workflow",
        schema(
            {
                **_REPO,
                "workflowId": STRING,
                "branchOrTagName": STRING,
                "workflowInputs": {"type": "object", "maxProperties": 25},
                "returnWorkflowRunDetails": BOOLEAN,
            },
            ("repoUrl", "workflowId", "branchOrTagName"),
        ),
        _dispatch,
        _plan_dispatch,
    ),
    Action(
        "catalog:register",
        "Register a descriptor: the portal's next crawl reads it; the rebuild is requested",
        {
            "type": "object",
            "properties": {
                "catalogInfoUrl": STRING,
                "repoContentsUrl": STRING,
                "catalogInfoPath": STRING,
                "optional": BOOLEAN,
            },
            "additionalProperties": False,
            "anyOf": [{"required": ["catalogInfoUrl"]}, {"required": ["repoContentsUrl"]}],
        },
        _register,
        _plan_register,
    ),
]
