"""The GitHub teams org provider against a local fake of GitHub's GraphQL API: the
entities Backstage's GitHub org provider would make, what paging costs, the team filter,
and each failure as one message without a credential."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from generator.config import GitHubTeamsSource
from generator.org import OrgSourceError, open_provider, org_entities, org_files
from generator.org.github_teams import TEAM_BATCH, GitHubTeamsProvider

from .conftest import run_backlot
from .github_teams_fake import FakeGitHubTeams

TOKEN = "ghp_teams-token-0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeGitHubTeams]:
    server = FakeGitHubTeams(TOKEN)
    server.start()
    yield server
    server.stop()


def provider(
    fake: FakeGitHubTeams, env: dict[str, str] | None = None, **settings: Any
) -> GitHubTeamsProvider:
    source = GitHubTeamsSource.model_validate(
        {"type": "github-teams", "org": "acme", "api_url": fake.base, **settings}
    )
    return GitHubTeamsProvider(
        source, {"GITHUB_TOKEN": TOKEN} if env is None else env, sleep=lambda _: None
    )


def small_org(fake: FakeGitHubTeams) -> None:
    fake.person("octocat", name="Mona Lisa Octocat", email="mona@acme.example", bio="Hi")
    fake.person("hubot", name="Hubot")
    fake.person("jdoe")  # no name, no public e-mail
    fake.person("outsider", name="In no team")
    fake.team("engineering", "Engineering", description="Everyone who builds", members=["jdoe"])
    fake.team("platform", "Platform", parent="engineering", members=["octocat", "hubot"])
    fake.team("sre", "SRE", parent="platform", members=["hubot"], avatar=False)


# The descriptors Backstage's GitHubOrgEntityProvider makes of the small org, written by
# hand (less the location annotations, which the catalog sets from the file it reads).
EXPECTED: dict[str, str] = {
    "groups/engineering.yaml": """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata:
          name: engineering
          description: Everyone who builds
          annotations:
            backstage.io/edit-url: https://github.com/orgs/acme/teams/engineering/edit
            github.com/team-slug: acme/engineering
        spec:
          type: team
          profile:
            displayName: Engineering
            picture: https://avatars.example/t/engineering?s=400
          children:
          - platform
    """,
    "groups/platform.yaml": """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata:
          name: platform
          annotations:
            backstage.io/edit-url: https://github.com/orgs/acme/teams/platform/edit
            github.com/team-slug: acme/platform
        spec:
          type: team
          profile:
            displayName: Platform
            picture: https://avatars.example/t/platform?s=400
          parent: engineering
          children:
          - sre
    """,
    "groups/sre.yaml": """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata:
          name: sre
          annotations:
            backstage.io/edit-url: https://github.com/orgs/acme/teams/sre/edit
            github.com/team-slug: acme/sre
        spec:
          type: team
          profile:
            displayName: SRE
          parent: platform
          children: []
    """,
    "users/hubot.yaml": """
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: hubot
          annotations:
            github.com/user-login: hubot
        spec:
          profile:
            displayName: Hubot
            picture: https://avatars.example/u/hubot
          memberOf:
          - platform
          - sre
    """,
    "users/jdoe.yaml": """
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: jdoe
          annotations:
            github.com/user-login: jdoe
        spec:
          profile:
            picture: https://avatars.example/u/jdoe
          memberOf:
          - engineering
    """,
    "users/octocat.yaml": """
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: octocat
          annotations:
            github.com/user-login: octocat
        spec:
          profile:
            displayName: Mona Lisa Octocat
            email: mona@acme.example
            picture: https://avatars.example/u/octocat
          memberOf:
          - platform
    """,
    "users/outsider.yaml": """
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: outsider
          annotations:
            github.com/user-login: outsider
        spec:
          profile:
            displayName: In no team
            picture: https://avatars.example/u/outsider
          memberOf: []
    """,
}


def test_small_org_as_backstage_descriptors(fake: FakeGitHubTeams) -> None:
    small_org(fake)
    org = provider(fake).fetch()

    files = org_files(org)
    assert sorted(files) == sorted(EXPECTED)
    for path, text in EXPECTED.items():
        assert yaml.safe_load(files[path]) == yaml.safe_load(textwrap.dedent(text)), path
    assert files["users/hubot.yaml"].startswith(
        b"# Written by backlot org sync from github-teams:acme"
    )
    # Immediate members only, as Backstage asks: hubot (in sre and platform) and octocat
    # (in platform) are not members of engineering, which reaches them through its children.
    engineering = next(e for e in org_entities(org) if e["metadata"]["name"] == "engineering")
    assert org.groups["engineering"].members == ("jdoe",)
    assert engineering["spec"]["children"] == ["platform"]
    assert org.source == "github-teams:acme" and org.notes == []
    assert org.requests == fake.requests == 1


def test_opened_by_type_and_names_its_secrets(fake: FakeGitHubTeams) -> None:
    small_org(fake)
    source = GitHubTeamsSource(type="github-teams", org="acme", api_url=fake.base)
    opened = open_provider(source, {"GITHUB_TOKEN": TOKEN})
    assert isinstance(opened, GitHubTeamsProvider) and opened.title == "GitHub teams"
    assert opened.secrets() == (TOKEN,)
    assert TOKEN not in repr(opened)


def test_api_url_from_the_environment_given(fake: FakeGitHubTeams) -> None:
    small_org(fake)
    source = GitHubTeamsSource(type="github-teams", org="acme")
    got = GitHubTeamsProvider(source, {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.base})
    assert len(got.fetch().users) == 4


def big_org(fake: FakeGitHubTeams, teams: int, people: int, large: dict[int, int]) -> None:
    """``teams`` teams of five members each, except ``large``: team index -> its size."""
    for i in range(people):
        fake.person(f"user-{i:04d}", name=f"User {i}")
    for t in range(teams):
        size = large.get(t, 5)
        members = [f"user-{(t * 7 + k) % people:04d}" for k in range(size)]
        fake.team(
            f"team-{t:03d}", parent=f"team-{t // 10:03d}" if t >= 10 else None, members=members
        )


def test_teams_and_members_beyond_a_page(fake: FakeGitHubTeams) -> None:
    # 250 teams (3 pages), 420 people (5 pages), a team of 350 members (4 pages of its
    # own) and one of 101: the follow-ups go together.
    big_org(fake, 250, 420, {3: 350, 200: 101})
    org = provider(fake).fetch()

    assert len(org.groups) == 250 and len(org.users) == 420
    assert len(org.groups["team-003"].members) == 350
    assert len(org.groups["team-200"].members) == 101
    assert org.groups["team-123"].parent == "team-012"
    assert org.groups["team-123"].members == tuple(
        f"user-{(123 * 7 + k) % 420:04d}" for k in range(5)
    )
    # 5 pages of people carry the 3 pages of teams; then the second pages of team-003 and
    # team-200 in one query, and team-003's third and fourth alone.
    assert fake.requests == 5 + 1 + 2 == org.requests
    assert org.notes == []


def test_a_large_org_costs_tens_of_requests(fake: FakeGitHubTeams) -> None:
    """500 teams and 3,000 members, twenty teams of 150 and two of 1,000 members."""
    large = {t: 150 for t in range(0, 500, 25)} | {7: 1000, 8: 1000}
    big_org(fake, 500, 3000, large)
    org = provider(fake).fetch()

    assert len(org.groups) == 500 and len(org.users) == 3000
    assert len(org.groups["team-007"].members) == 1000
    # 30 pages of members carry the 5 of teams; the 22 teams with a second page take two
    # queries (TEAM_BATCH a query), the two large ones together 7 more for pages 3 to 10.
    assert TEAM_BATCH == 20
    assert org.requests == fake.requests == 30 + 2 + 7
    assert fake.points <= 2 * fake.requests


def test_the_team_filter(fake: FakeGitHubTeams) -> None:
    big_org(fake, 30, 200, {15: 150, 21: 150})
    org = provider(fake, teams=r"^team-01\d$").fetch()

    assert sorted(org.groups) == [f"team-{i:03d}" for i in range(10, 20)]
    # Users are the organisation's, as Backstage's: ownership by a user resolves whatever
    # the teams kept. Only kept teams are followed beyond their first page.
    assert len(org.users) == 200
    assert len(org.groups["team-015"].members) == 150
    entities = {e["metadata"]["name"]: e for e in org_entities(org)}
    assert "parent" not in entities["team-010"]["spec"]  # its parent team-001 filtered out
    # Two pages of people; team-015's second page, team-021's never asked.
    assert fake.requests == 2 + 1


def test_a_team_gone_since_listing_is_a_note(fake: FakeGitHubTeams) -> None:
    big_org(fake, 3, 150, {1: 120})
    fake.hidden.add("team-001")
    org = provider(fake).fetch()
    assert len(org.groups["team-001"].members) == 100
    assert org.notes == [
        "team 'team-001': its members after the first 100 could not be read (the team is "
        "gone, or not visible to this token)"
    ]


def test_too_large_a_query_is_asked_in_smaller_pages(fake: FakeGitHubTeams) -> None:
    big_org(fake, 120, 60, {})
    fake.max_nodes = 3000  # a page of 100 teams with 100 members each is 10,100 nodes
    org = provider(fake).fetch()
    assert len(org.groups) == 120 and len(org.users) == 60
    # 100 -> 50 -> 25 teams a page: two refused, then 5 pages of 25.
    assert fake.requests == 2 + 5


def test_email_is_not_asked_with_a_github_app(fake: FakeGitHubTeams) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    fake.app_public_key = key.public_key()
    small_org(fake)
    got = provider(fake, env={"GITHUB_APP_PRIVATE_KEY": pem}, app={"app_id": fake.app_id})
    org = got.fetch()

    assert org.users["octocat"].email == "" and org.users["octocat"].display_name
    assert [v["email"] for _, v in fake.queries] == [False]
    assert fake.app_calls == [
        "GET /orgs/acme/installation",
        "POST /app/installations/777/access_tokens",
    ]
    assert set(got.secrets()) == {pem, fake.installation_token}
    assert org.requests == 3  # the installation, its token, one query


# ---------------------------------------------------------------------- failures


def failure(got: GitHubTeamsProvider) -> str:
    with pytest.raises(OrgSourceError) as raised:
        got.fetch()
    return str(raised.value)


def test_no_token(fake: FakeGitHubTeams) -> None:
    message = failure(provider(fake, env={}))
    assert message == (
        "github-teams acme: $GITHUB_TOKEN is not set (a token that may read the "
        "organisation's teams, or a GitHub App)"
    )
    assert fake.requests == 0
    app = failure(provider(fake, env={}, app={"app_id": 1}))
    assert "the GitHub App's private key is not in $GITHUB_APP_PRIVATE_KEY" in app


def test_refused_token(fake: FakeGitHubTeams) -> None:
    revoked = "ghp_revoked-0123456789"
    message = failure(provider(fake, env={"GITHUB_TOKEN": revoked}))
    assert "GitHub refused the credentials of $GITHUB_TOKEN (HTTP 401)" in message
    assert "Bad credentials" in message and revoked not in message


def test_organisation_not_found(fake: FakeGitHubTeams) -> None:
    message = failure(provider(fake, org="nobody"))
    assert message == (
        f"github-teams nobody ({fake.base}): the organisation was not found, or this token "
        "may not read it"
    )


def test_github_down_after_retries(fake: FakeGitHubTeams) -> None:
    fake.fault("503", times=20)
    message = failure(provider(fake))
    assert message.startswith(f"github-teams acme ({fake.base}): GitHub did not answer: ")
    assert "failed 6 times (HTTP 503" in message
    assert fake.requests == 6


def test_github_timing_out_even_for_small_pages(fake: FakeGitHubTeams) -> None:
    fake.fault("502", times=20)
    message = failure(provider(fake))
    assert "GitHub could not answer even small pages" in message
    assert fake.requests == 5  # 100, 50, 25, 12, 6 teams a page


def test_invalid_team_filter() -> None:
    # Said when backlot.yaml is read, before anything is fetched.
    with pytest.raises(ValidationError, match="not a regular expression"):
        GitHubTeamsSource(type="github-teams", org="acme", teams="team-(", api_url="http://x")


def test_no_token_in_any_output(fake: FakeGitHubTeams, tmp_path: Path) -> None:
    small_org(fake)
    fake.fault("echo")  # an error that repeats the Authorization header
    message = failure(provider(fake))
    assert "Bearer ***" in message and TOKEN not in message
    org = provider(fake).fetch()
    files = org_files(org)
    assert all(TOKEN.encode() not in data for data in files.values())
    assert TOKEN not in repr(org) and TOKEN not in repr(provider(fake))


# ---------------------------------------------------------------------- through the catalog


def test_catalog_end_to_end(fake: FakeGitHubTeams, tmp_path: Path) -> None:
    small_org(fake)
    (tmp_path / "backlot.yaml").write_text(
        textwrap.dedent(
            f"""
            catalog:
              sources:
                - type: github-teams
                  org: acme
                  api_url: {fake.base}
                  token_env: ORG_TOKEN
            """
        )
    )
    out = tmp_path / "catalog.json"
    result = run_backlot(
        "catalog",
        "--config",
        tmp_path / "backlot.yaml",
        "-o",
        out,
        "--cache-dir",
        tmp_path / "cache",
        env={"ORG_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr + out.read_text()
    catalog = json.loads(out.read_text())

    def relations(ref: str) -> set[tuple[str, str]]:
        for item in catalog["entities"]:
            meta = item["metadata"]
            if f"{item['kind']}:{meta['namespace']}/{meta['name']}".lower() == ref:
                return {(r["type"], r["targetRef"]) for r in item["relations"]}
        raise AssertionError(f"{ref} not in catalog")

    kinds = sorted((e["kind"], e["metadata"]["name"]) for e in catalog["entities"])
    assert kinds == [
        ("Group", "engineering"),
        ("Group", "platform"),
        ("Group", "sre"),
        ("User", "hubot"),
        ("User", "jdoe"),
        ("User", "octocat"),
        ("User", "outsider"),
    ]
    assert relations("group:default/platform") == {
        ("childOf", "group:default/engineering"),
        ("parentOf", "group:default/sre"),
        ("hasMember", "user:default/hubot"),
        ("hasMember", "user:default/octocat"),
    }
    assert relations("group:default/engineering") == {
        ("parentOf", "group:default/platform"),
        ("hasMember", "user:default/jdoe"),
    }
    assert relations("user:default/hubot") == {
        ("memberOf", "group:default/platform"),
        ("memberOf", "group:default/sre"),
    }
    assert relations("user:default/outsider") == set()
    assert not [f for f in catalog["findings"] if f["severity"] == "error"]
