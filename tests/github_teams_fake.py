"""A fake of the GitHub GraphQL subset the GitHub teams org provider reads (an
organisation's teams, their members, the organisation's members), over real HTTP on
127.0.0.1.

It is ``github_context_fake``'s server (tokens, 401s, queued faults, a GitHub App's
installation token, ``x-ratelimit-*`` headers) answering another schema: queries are
parsed, validated and executed by graphql-core against types written to GitHub's own
(field names, arguments, enums and nullability of ``Organization``, ``Team``, ``User``
and their connections), so a field or argument GitHub does not have fails here as there.
As GitHub does, it pages with opaque cursors (``after``) and refuses ``first`` above 100;
answers an organisation or team it does not have with null and a ``NOT_FOUND`` error;
tells immediate members from child teams' (``membership: IMMEDIATE | CHILD_TEAM | ALL``,
ALL by default); shows a user's e-mail only when public, and never to an App; counts
points as GitHub does (the requests a query's connections need, assuming full pages,
/ 100, at least 1, ``@include``/``@skip`` honoured) and answers
``RESOURCE_LIMITS_EXCEEDED`` for a query whose connections could return more than
``max_nodes`` nodes.

``fake.requests`` counts the GraphQL calls served, ``fake.queries`` keeps each one's
text and variables.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.language import FragmentDefinitionNode, FragmentSpreadNode

from .github_context_fake import (
    FakeGitHubContext,
    _github_error,
    _locations,
    _PartError,
    _resource_limits,
)

SCHEMA = build_schema(
    """
    scalar DateTime
    scalar URI

    type Query {
      organization(login: String!): Organization
      rateLimit(dryRun: Boolean = false): RateLimit
    }

    type RateLimit {
      cost: Int!
      limit: Int!
      nodeCount: Int!
      remaining: Int!
      resetAt: DateTime!
      used: Int!
    }

    type PageInfo {
      endCursor: String
      hasNextPage: Boolean!
      hasPreviousPage: Boolean!
      startCursor: String
    }

    enum OrderDirection { ASC DESC }
    enum TeamOrderField { NAME }
    input TeamOrder { direction: OrderDirection!, field: TeamOrderField! }
    enum TeamPrivacy { SECRET VISIBLE }
    enum TeamRole { ADMIN MEMBER }
    enum TeamMembershipType { ALL CHILD_TEAM IMMEDIATE }
    enum TeamMemberRole { MAINTAINER MEMBER }
    enum TeamMemberOrderField { CREATED_AT LOGIN }
    input TeamMemberOrder { direction: OrderDirection!, field: TeamMemberOrderField! }
    enum OrganizationMembersOrderField { CREATED_AT LOGIN }

    type Organization {
      avatarUrl(size: Int): URI!
      description: String
      login: String!
      name: String
      url: URI!
      membersWithRole(
        after: String, before: String, first: Int, last: Int
      ): OrganizationMemberConnection!
      team(slug: String!): Team
      teams(
        after: String, before: String, first: Int, last: Int, ldapMapped: Boolean,
        orderBy: TeamOrder, privacy: TeamPrivacy, query: String, role: TeamRole,
        rootTeamsOnly: Boolean = false, userLogins: [String!]
      ): TeamConnection!
    }

    type Team {
      avatarUrl(size: Int = 400): URI
      childTeams(
        after: String, before: String, first: Int, immediateOnly: Boolean = true, last: Int,
        orderBy: TeamOrder, userLogins: [String!]
      ): TeamConnection!
      combinedSlug: String!
      description: String
      editTeamUrl: URI!
      id: ID!
      members(
        after: String, before: String, first: Int, last: Int,
        membership: TeamMembershipType = ALL, orderBy: TeamMemberOrder, query: String,
        role: TeamMemberRole
      ): TeamMemberConnection!
      name: String!
      parentTeam: Team
      privacy: TeamPrivacy!
      slug: String!
      url: URI!
    }

    type TeamConnection { nodes: [Team], pageInfo: PageInfo!, totalCount: Int! }
    type TeamMemberConnection { nodes: [User], pageInfo: PageInfo!, totalCount: Int! }
    type OrganizationMemberConnection { nodes: [User], pageInfo: PageInfo!, totalCount: Int! }

    type User {
      avatarUrl(size: Int): URI!
      bio: String
      company: String
      email: String!
      id: ID!
      login: String!
      name: String
      organizationVerifiedDomainEmails(login: String!): [String!]!
      url: URI!
    }
    """
)

_CONNECTIONS = {"teams", "members", "membersWithRole", "childTeams"}


@dataclass
class Person:
    login: str
    name: str | None = None
    email: str = ""  # public profile e-mail; "" when not public
    bio: str | None = None


@dataclass
class Team:
    slug: str
    name: str
    description: str | None = None
    parent: str | None = None
    members: list[str] = field(default_factory=list)  # immediate members
    avatar: bool = True


class FakeGitHubTeams(FakeGitHubContext):
    def __init__(self, token: str = "ghp_teams-token-0123456789abcdef") -> None:
        super().__init__(token)
        self.org = "acme"
        self.people: dict[str, Person] = {}  # organisation members, in the order listed
        self.teams: dict[str, Team] = {}
        self.hidden: set[str] = set()  # listed by teams, yet team(slug:) finds nothing
        self.max_nodes = 500_000
        self.queries: list[tuple[str, dict[str, Any]]] = []
        self._answer_lock = threading.Lock()

    # ------------------------------------------------------------------ control

    def person(self, login: str, **options: Any) -> Person:
        self.people[login] = Person(login, **options)
        return self.people[login]

    def team(self, slug: str, name: str = "", **options: Any) -> Team:
        self.teams[slug] = Team(slug, name or slug.replace("-", " ").title(), **options)
        return self.teams[slug]

    # ------------------------------------------------------------------ GraphQL

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        query = str(request.get("query", ""))
        variables = request.get("variables") or {}
        with self._answer_lock:
            self.queries.append((query, variables))
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [{"message": exc.message, "extensions": {"code": "parseError"}}]}
        problems = validate(SCHEMA, document)
        if problems:
            return {
                "errors": [{"message": p.message, "locations": _locations(p)} for p in problems]
            }
        requests, nodes = _measure(document, variables)
        if nodes > self.max_nodes:
            return _resource_limits()
        cost = max(1, round(requests / 100))
        with self._answer_lock:
            self.graphql_remaining = max(0, self.graphql_remaining - cost)
            self.points += cost
            remaining = self.graphql_remaining
        rate = {
            "cost": cost,
            "limit": 5000,
            "nodeCount": nodes,
            "remaining": remaining,
            "resetAt": "2030-01-01T00:00:00Z",
            "used": 5000 - remaining,
        }
        app = bool(self.seen_authorization) and self.seen_authorization[-1] == (
            f"Bearer {self.installation_token}"
        )
        result = execute_sync(
            SCHEMA,
            document,
            root_value={"rateLimit": rate, "organization": lambda login: self._org(login, app)},
            variable_values=variables,
            field_resolver=_resolve,
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_github_error(e) for e in result.errors]
        return answer

    def _org(self, login: str, app: bool) -> dict[str, Any]:
        if login.lower() != self.org.lower():
            raise _PartError(
                "NOT_FOUND", f"Could not resolve to an Organization with the login of '{login}'."
            )
        users = {p.login: self._user(p, app) for p in self.people.values()}
        teams: dict[str, dict[str, Any]] = {}

        def descendants(slug: str) -> list[str]:
            found: list[str] = []
            for child in self.teams.values():
                if child.parent == slug:
                    found += [child.slug, *descendants(child.slug)]
            return found

        def members(team: Team, **args: Any) -> dict[str, Any]:
            membership = args.get("membership") or "ALL"
            logins: list[str] = list(team.members) if membership != "CHILD_TEAM" else []
            if membership != "IMMEDIATE":
                for child in descendants(team.slug):
                    logins += [m for m in self.teams[child].members if m not in logins]
            if membership == "CHILD_TEAM":
                logins = [m for m in logins if m not in team.members]
            return _connection([users[m] for m in dict.fromkeys(logins) if m in users], **args)

        for team in self.teams.values():
            teams[team.slug] = {
                "slug": team.slug,
                "combinedSlug": f"{self.org}/{team.slug}",
                "name": team.name,
                "description": team.description,
                "id": base64.b64encode(f"04:Team{team.slug}".encode()).decode(),
                "avatarUrl": (
                    lambda t=team, **a: f"https://avatars.example/t/{t.slug}?s={a.get('size', 400)}"
                )
                if team.avatar
                else None,
                "editTeamUrl": f"{self.web}/orgs/{self.org}/teams/{team.slug}/edit",
                "url": f"{self.web}/orgs/{self.org}/teams/{team.slug}",
                "privacy": "VISIBLE",
                "members": lambda t=team, **a: members(t, **a),
            }
        for team in self.teams.values():
            node = teams[team.slug]
            node["parentTeam"] = teams.get(team.parent) if team.parent else None
            node["childTeams"] = lambda t=team, **a: _connection(
                [teams[c.slug] for c in self.teams.values() if c.parent == t.slug], **a
            )

        def team_by_slug(slug: str) -> dict[str, Any]:
            if slug not in teams or slug in self.hidden:
                raise _PartError(
                    "NOT_FOUND", f"Could not resolve to a Team with the slug of '{slug}'."
                )
            return teams[slug]

        return {
            "login": self.org,
            "name": self.org.title(),
            "description": None,
            "url": f"{self.web}/{self.org}",
            "avatarUrl": lambda **a: f"https://avatars.example/o/{self.org}",
            "teams": lambda **a: _connection(sorted(teams.values(), key=_by_slug), **a),
            "team": lambda slug: team_by_slug(slug),
            "membersWithRole": lambda **a: _connection(list(users.values()), **a),
        }

    def _user(self, person: Person, app: bool) -> dict[str, Any]:
        return {
            "login": person.login,
            "name": person.name,
            "email": "" if app else person.email,
            "bio": person.bio,
            "company": None,
            "id": base64.b64encode(f"04:User{person.login}".encode()).decode(),
            "avatarUrl": lambda **a: f"https://avatars.example/u/{person.login}",
            "url": f"{self.web}/{person.login}",
            "organizationVerifiedDomainEmails": lambda **a: [],
        }


def _by_slug(node: dict[str, Any]) -> str:
    return str(node["slug"])


def _resolve(source: Any, info: Any, **args: Any) -> Any:
    value = source.get(info.field_name) if isinstance(source, dict) else None
    return value(**args) if callable(value) else value


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _connection(items: list[dict[str, Any]], **args: Any) -> dict[str, Any]:
    first, after = args.get("first"), args.get("after")
    if first is None:
        raise GraphQLError("You must provide a `first` or `last` value to properly paginate.")
    if not 0 <= first <= 100:
        raise GraphQLError(
            f"Requesting {first} records on the connection exceeds the `first` limit of 100 "
            "records."
        )
    start = 0
    if after is not None:
        try:
            text = base64.b64decode(after, validate=True).decode()
            assert text.startswith("cursor:v2:")
            start = int(text.split(":")[2]) + 1
        except (ValueError, AssertionError):
            raise GraphQLError(f"`{after}` does not appear to be a valid cursor.") from None
    page = items[start : start + first]
    return {
        "nodes": page,
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": start + first < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(start) if page else None,
            "endCursor": _cursor(start + len(page) - 1) if page else None,
        },
    }


def _measure(document: Any, variables: dict[str, Any]) -> tuple[int, int]:
    """(requests the connections need, nodes they could return): GitHub's cost and node
    limit, each connection's ``first`` multiplying the connections inside it; variables
    and ``@include``/``@skip`` as the query is executed."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    requests = nodes = 0

    def value(node: Any) -> Any:
        if isinstance(node, VariableNode):
            return variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, BooleanValueNode):
            return node.value
        return None

    def included(selection: Any) -> bool:
        for directive in selection.directives or ():
            condition = next(
                (value(a.value) for a in directive.arguments if a.name.value == "if"), None
            )
            if directive.name.value == "include" and not condition:
                return False
            if directive.name.value == "skip" and condition:
                return False
        return True

    def walk(selection_set: SelectionSetNode | None, multiplier: int) -> None:
        nonlocal requests, nodes
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if not included(selection):
                continue
            if isinstance(selection, FragmentSpreadNode):
                walk(fragments[selection.name.value].selection_set, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, multiplier)
            elif isinstance(selection, FieldNode):
                size = None
                if selection.name.value in _CONNECTIONS:
                    for argument in selection.arguments or ():
                        if argument.name.value in ("first", "last"):
                            size = value(argument.value)
                if isinstance(size, int):
                    requests += multiplier
                    nodes += multiplier * size
                    walk(selection.selection_set, multiplier * size)
                else:
                    walk(selection.selection_set, multiplier)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk(definition.selection_set, 1)
    return requests, nodes
