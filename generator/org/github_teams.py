"""GitHub teams as Groups and the organisation's members as Users, named and shaped as
Backstage's GitHub org provider (``GitHubOrgEntityProvider``) names them: a Group is the
team's slug, a User the member's login, so ``owner: platform`` and ``user:octocat``
already written in descriptors keep resolving.

- Group: ``github.com/team-slug`` (``org/slug``), ``backstage.io/edit-url`` (the team's
  settings page), the description, the team's name as display name, its avatar, the
  parent team as ``parent``, and its *immediate* members: Backstage asks for
  ``membership: IMMEDIATE``, so someone in a child team is a member of the child only,
  and reaches the parent through the hierarchy (``childOf``/``parentOf``).
- User: every member of the organisation (``membersWithRole``), in a team or not, with
  ``github.com/user-login``, the name, the public e-mail (asked only with a token: as in
  Backstage, not with a GitHub App, whose installation may not read it) and the avatar.

What it costs: one GraphQL query asks a page of 100 teams (with the first 100 immediate
members of each, logins only) and a page of 100 organisation members at once, so an org
of 500 teams and 3,000 members is 30 queries; a team with more than 100 members is
followed up in queries of ``TEAM_BATCH`` aliased ``team(slug:)`` parts. A query GitHub
finds too large or too slow is asked again with pages half as large, up to
``MAX_HALVINGS`` times.

``teams`` in the settings (a regular expression, searched in each slug) keeps only the
teams it matches; their members beyond the first page are only followed for teams kept.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ..config import GitHubTeamsSource
from ..github import (
    AppAuth,
    GitHubClient,
    GitHubError,
    NotFound,
    RateLimited,
    ResourceLimits,
    TokenAuth,
    api_url_from,
)
from ._model import Org, OrgGroup, OrgSourceError, OrgUser

__all__ = [
    "MAX_HALVINGS",
    "PAGE",
    "TEAM_ANNOTATION",
    "TEAM_BATCH",
    "USER_ANNOTATION",
    "GitHubTeamsProvider",
]

TEAM_ANNOTATION = "github.com/team-slug"
USER_ANNOTATION = "github.com/user-login"
EDIT_ANNOTATION = "backstage.io/edit-url"
PAGE = 100  # GitHub's largest page
TEAM_BATCH = 20  # teams per follow-up query: 20 x 100 members, well inside GitHub's limits
MAX_HALVINGS = 4  # 100 -> 6 per page, then the org cannot be read

# Both connections of the organisation in one query, each skipped once it is exhausted.
_ORG_QUERY = """
query(
  $org: String!, $email: Boolean!,
  $withTeams: Boolean!, $teamsFirst: Int!, $teamsAfter: String, $teamMembersFirst: Int!,
  $withMembers: Boolean!, $membersFirst: Int!, $membersAfter: String
) {
  rateLimit { cost remaining resetAt }
  organization(login: $org) {
    login
    teams(first: $teamsFirst, after: $teamsAfter) @include(if: $withTeams) {
      pageInfo { hasNextPage endCursor }
      nodes {
        slug
        combinedSlug
        name
        description
        avatarUrl
        editTeamUrl
        parentTeam { slug }
        members(first: $teamMembersFirst, membership: IMMEDIATE) {
          pageInfo { hasNextPage endCursor }
          nodes { login }
        }
      }
    }
    membersWithRole(first: $membersFirst, after: $membersAfter) @include(if: $withMembers) {
      pageInfo { hasNextPage endCursor }
      nodes { login name email @include(if: $email) avatarUrl }
    }
  }
}
"""


def members_query(size: int) -> str:
    """Further pages of immediate members for ``size`` teams: ``tN: team(slug: $sN)``.
    Slugs and cursors travel as variables, never spliced into the query text."""
    variables = "".join(f", $s{i}: String!, $c{i}: String" for i in range(size))
    parts = "\n".join(
        f"    t{i}: team(slug: $s{i}) {{\n"
        f"      members(first: $first, after: $c{i}, membership: IMMEDIATE) {{\n"
        "        pageInfo { hasNextPage endCursor }\n"
        "        nodes { login }\n"
        "      }\n"
        "    }"
        for i in range(size)
    )
    return (
        f"query($org: String!, $first: Int!{variables}) {{\n"
        "  rateLimit { cost remaining resetAt }\n"
        f"  organization(login: $org) {{\n{parts}\n  }}\n}}\n"
    )


class GitHubTeamsProvider:
    title = "GitHub teams"

    def __init__(
        self,
        settings: GitHubTeamsSource,
        env: Mapping[str, str],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        # The environment given, not the process's: $GITHUB_API_URL as the crawl reads it.
        self.api_url = api_url_from(settings.api_url or env.get("GITHUB_API_URL"))
        self._token = env.get(settings.token_env, "")
        self._app_key = env.get(settings.app.private_key_env, "") if settings.app else ""
        self._sleep = sleep
        self._auth: TokenAuth | AppAuth | None = None

    def __repr__(self) -> str:
        return f"GitHubTeamsProvider({self.settings.org!r}, {self.api_url!r})"

    def secrets(self) -> tuple[str, ...]:
        held: tuple[str, ...] = (self._token, self._app_key)
        if self._auth is not None:  # an App's installation token, once it has one
            held += self._auth.secrets()
        return tuple(dict.fromkeys(s for s in held if s))

    def fetch(self) -> Org:
        pattern = self._pattern()
        client = self._client()
        org = Org(source=f"github-teams:{self.settings.org}")
        try:
            _Fetch(self, client, org, pattern).run()
        except GitHubError as exc:
            raise OrgSourceError(self._scrub(self._say(exc, client))) from None
        finally:
            client.close()
            org.requests = client.budget.requests
        return org

    # ------------------------------------------------------------------ plumbing

    def _pattern(self) -> re.Pattern[str] | None:
        if self.settings.teams is None:
            return None
        try:
            return re.compile(self.settings.teams)
        except re.error as exc:
            raise OrgSourceError(
                f"github-teams {self.settings.org}: teams is not a regular expression: {exc}"
            ) from None

    def _client(self) -> GitHubClient:
        auth: TokenAuth | AppAuth
        app = self.settings.app
        if app is not None:
            if not self._app_key:
                raise OrgSourceError(
                    f"github-teams {self.settings.org}: the GitHub App's private key is not "
                    f"in ${app.private_key_env}"
                )
            auth = AppAuth(app.app_id, self._app_key, self.settings.org, app.installation_id)
        elif self._token:
            auth = TokenAuth(self._token)
        else:
            # GitHub's GraphQL API answers no anonymous query.
            raise OrgSourceError(
                f"github-teams {self.settings.org}: ${self.settings.token_env} is not set "
                "(a token that may read the organisation's teams, or a GitHub App)"
            )
        self._auth = auth
        return GitHubClient(
            self.api_url, auth, timeout=self.settings.timeout_seconds, sleep=self._sleep
        )

    def _say(self, exc: GitHubError, client: GitHubClient) -> str:
        where = f"github-teams {self.settings.org} ({self.api_url})"
        text = client.redact(str(exc))
        if exc.status == 401:
            whose = "the GitHub App" if self.settings.app else f"${self.settings.token_env}"
            return f"{where}: GitHub refused the credentials of {whose} (HTTP 401): {text}"
        if isinstance(exc, RateLimited):
            return f"{where}: {text}"
        if isinstance(exc, NotFound) and self.settings.app is not None:
            return f"{where}: the GitHub App is not installed on the organisation: {text}"
        if exc.status in (403, 404):
            return f"{where}: GitHub refused the request: {text}"
        if isinstance(exc, ResourceLimits):
            return f"{where}: GitHub could not answer even small pages: {text}"
        return f"{where}: GitHub did not answer: {text}"

    def _scrub(self, text: str) -> str:
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text


class _Fetch:
    """One read of the organisation: the pages asked, halved when GitHub finds them too
    large, and the members of large teams followed up."""

    def __init__(
        self,
        provider: GitHubTeamsProvider,
        client: GitHubClient,
        org: Org,
        pattern: re.Pattern[str] | None,
    ) -> None:
        self.login = provider.settings.org
        self.email = provider.settings.app is None
        self.client = client
        self.org = org
        self.pattern = pattern
        self.page = PAGE
        self.halvings = 0
        self.members: dict[str, list[str]] = {}  # team slug -> immediate member logins
        self.teams: dict[str, dict[str, Any]] = {}  # team slug -> its node
        self.more: deque[tuple[str, str]] = deque()  # (team slug, cursor) of teams with more

    def run(self) -> None:
        self._organisation()
        self._team_members()
        self._assemble()

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A query's organisation. GitHub answers an organisation it does not have, or does
        not show this token, with null there and a NOT_FOUND error."""
        data = self.client.graphql(query, {"org": self.login, **variables}, partial=True)
        organisation = data.get("organization")
        if not isinstance(organisation, dict):
            raise OrgSourceError(
                f"github-teams {self.login} ({self.client.api_url}): the organisation was "
                "not found, or this token may not read it"
            )
        return organisation

    def _halve(self, exc: ResourceLimits) -> None:
        if self.halvings >= MAX_HALVINGS:
            raise exc
        self.halvings += 1
        self.page = max(1, self.page // 2)

    def _organisation(self) -> None:
        teams_after: str | None = None
        members_after: str | None = None
        with_teams = with_members = True
        while with_teams or with_members:
            variables = {
                "email": self.email,
                "withTeams": with_teams,
                "teamsFirst": self.page,
                "teamsAfter": teams_after,
                "teamMembersFirst": PAGE,
                "withMembers": with_members,
                "membersFirst": self.page,
                "membersAfter": members_after,
            }
            try:
                organisation = self._query(_ORG_QUERY, variables)
            except ResourceLimits as exc:
                self._halve(exc)
                continue
            if with_teams:
                teams = organisation.get("teams") or {}
                for node in teams.get("nodes") or ():
                    self._team(node)
                with_teams, teams_after = _next(teams)
            if with_members:
                members = organisation.get("membersWithRole") or {}
                for node in members.get("nodes") or ():
                    self._user(node)
                with_members, members_after = _next(members)

    def _team(self, node: Any) -> None:
        slug = node.get("slug") if isinstance(node, dict) else None
        if not isinstance(slug, str) or not slug:
            self.org.notes.append("a team GitHub listed could not be read: left out")
            return
        if self.pattern is not None and not self.pattern.search(slug):
            return
        self.teams[slug] = node
        members = node.get("members") or {}
        self.members[slug] = _logins(members)
        more, cursor = _next(members)
        if more:
            self.more.append((slug, cursor or ""))

    def _user(self, node: Any) -> None:
        login = node.get("login") if isinstance(node, dict) else None
        if not isinstance(login, str) or not login:
            self.org.notes.append("a member GitHub listed could not be read: left out")
            return
        self.org.add_user(
            OrgUser(
                name=login,
                display_name=_text(node.get("name")),
                email=_text(node.get("email")),
                picture=_text(node.get("avatarUrl")),
                annotations={USER_ANNOTATION: login},
            )
        )

    def _team_members(self) -> None:
        """Immediate members beyond the first page, ``TEAM_BATCH`` teams per query."""
        size = TEAM_BATCH
        while self.more:
            batch = [self.more.popleft() for _ in range(min(size, len(self.more)))]
            variables: dict[str, Any] = {"first": PAGE}
            for i, (slug, cursor) in enumerate(batch):
                variables[f"s{i}"], variables[f"c{i}"] = slug, cursor
            try:
                organisation = self._query(members_query(len(batch)), variables)
            except ResourceLimits as exc:
                self._halve(exc)
                size = max(1, size // 2)
                self.more.extendleft(reversed(batch))
                continue
            for i, (slug, _) in enumerate(batch):
                team = organisation.get(f"t{i}")
                if not isinstance(team, dict):
                    self.org.notes.append(
                        f"team {slug!r}: its members after the first "
                        f"{len(self.members[slug])} could not be read (the team is gone, or "
                        "not visible to this token)"
                    )
                    continue
                members = team.get("members") or {}
                self.members[slug].extend(_logins(members))
                more, after = _next(members)
                if more:
                    self.more.append((slug, after or ""))

    def _assemble(self) -> None:
        for slug in sorted(self.teams):
            node = self.teams[slug]
            parent = node.get("parentTeam")
            parent_slug = _text(parent.get("slug")) if isinstance(parent, dict) else ""
            combined = _text(node.get("combinedSlug")) or f"{self.login}/{slug}"
            annotations = {TEAM_ANNOTATION: combined}
            edit = _text(node.get("editTeamUrl"))
            if edit:
                annotations[EDIT_ANNOTATION] = edit
            members = tuple(dict.fromkeys(self.members[slug]))
            unknown = [m for m in members if m not in self.org.users]
            if unknown:
                self.org.notes.append(
                    f"team {slug!r}: {len(unknown)} of its members are not among the "
                    f"organisation's members ({', '.join(unknown[:5])}): left out"
                )
            self.org.add_group(
                OrgGroup(
                    name=slug,
                    display_name=_text(node.get("name")),
                    description=_text(node.get("description")),
                    picture=_text(node.get("avatarUrl")),
                    parent=parent_slug or None,
                    members=tuple(m for m in members if m in self.org.users),
                    annotations=annotations,
                )
            )


def _next(connection: Any) -> tuple[bool, str | None]:
    info = connection.get("pageInfo") if isinstance(connection, dict) else None
    if not isinstance(info, dict) or not info.get("hasNextPage"):
        return False, None
    cursor = info.get("endCursor")
    # A next page without a cursor would be asked for again and again.
    return (True, cursor) if isinstance(cursor, str) and cursor else (False, None)


def _logins(connection: Any) -> list[str]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return [
        n["login"]
        for n in nodes or ()
        if isinstance(n, dict) and isinstance(n.get("login"), str) and n["login"]
    ]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
