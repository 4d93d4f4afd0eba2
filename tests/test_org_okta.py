"""The Okta org provider against a local fake of Okta's REST API: the entities of a small
org as Roadie's Okta provider names and shapes them, paging, rate limits, filters, naming
strategies, hierarchy, the OAuth service app, failures, and never a credential in any
output; then the whole path through ``backlot catalog``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from generator.config import OktaOAuth, OktaSource
from generator.org import OrgSourceError, open_provider, org_entities, org_files
from generator.org.okta import OktaProvider, lodash_kebab_case

from .conftest import run_backlot, write_tree
from .okta_fake import FakeOkta

TOKEN = "00okta-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def running() -> Iterator[FakeOkta]:
    server = FakeOkta(TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake(running: FakeOkta) -> FakeOkta:
    running.reset()
    running.add_user("00u1ada", "ada.lovelace@acme.test", "Ada", "Lovelace", "Ada Lovelace")
    running.add_user("00u2grace", "Grace.Hopper@acme.test", "Grace", "Hopper")
    running.add_user("00u3linus", "linus@acme.test", "Linus", "T", status="DEPROVISIONED")
    running.add_group(
        "00g1plat", "Platform Team (EU)", "Runs the platform", ("00u1ada", "00u2grace")
    )
    running.add_group("00g2sre", "SREOnCall", None, ("00u2grace", "00u3linus"))
    running.add_group("00g3apps", "Everyone", "All of Acme", ("00u1ada",), type="BUILT_IN")
    return running


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def provider(
    fake: FakeOkta, env: dict[str, str] | None = None, **settings: Any
) -> tuple[OktaProvider, Sleeps]:
    sleeps = Sleeps()
    options = {k: settings.pop(k) for k in ("max_wait", "hierarchy") if k in settings}
    source = OktaSource(type="okta", org_url=fake.base, **settings)
    env = {"OKTA_TOKEN": TOKEN} if env is None else env
    return OktaProvider(source, env, sleep=sleeps, **options), sleeps


GROUP_PLATFORM = {
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Group",
    "metadata": {
        "name": "platform-team-eu",
        "description": "Runs the platform",
        "annotations": {"okta.com/group-id": "00g1plat"},
    },
    "spec": {
        "type": "group",
        "profile": {"displayName": "Platform Team (EU)"},
        "children": [],
    },
}

EXPECTED = [
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {
            "name": "everyone",
            "description": "All of Acme",
            "annotations": {"okta.com/group-id": "00g3apps"},
        },
        "spec": {"type": "group", "profile": {"displayName": "Everyone"}, "children": []},
    },
    GROUP_PLATFORM,
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "sre-on-call", "annotations": {"okta.com/group-id": "00g2sre"}},
        "spec": {"type": "group", "profile": {"displayName": "SREOnCall"}, "children": []},
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": "ada.lovelace", "annotations": {"okta.com/user-id": "00u1ada"}},
        "spec": {
            "profile": {"displayName": "Ada Lovelace", "email": "ada.lovelace@acme.test"},
            "memberOf": ["everyone", "platform-team-eu"],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": "grace.hopper", "annotations": {"okta.com/user-id": "00u2grace"}},
        "spec": {
            "profile": {"displayName": "Grace Hopper", "email": "Grace.Hopper@acme.test"},
            "memberOf": ["platform-team-eu", "sre-on-call"],
        },
    },
]


def test_a_small_org_as_roadies_provider_shapes_it(fake: FakeOkta) -> None:
    okta, _ = provider(fake)
    org = okta.fetch()
    assert org_entities(org) == EXPECTED
    assert org.source == f"okta:{fake.base}"
    # users, groups, and one members page per group; the deprovisioned user is nobody's.
    assert org.requests == 5 == sum(fake.counts.values())
    assert org.notes == []
    files = org_files(org)
    assert sorted(files) == [
        "groups/everyone.yaml",
        "groups/platform-team-eu.yaml",
        "groups/sre-on-call.yaml",
        "users/ada.lovelace.yaml",
        "users/grace.hopper.yaml",
    ]
    assert files["groups/platform-team-eu.yaml"].decode() == (
        f"# Written by backlot org sync from okta:{fake.base}: edit it there, not here.\n"
        "apiVersion: backstage.io/v1alpha1\n"
        "kind: Group\n"
        "metadata:\n"
        "  name: platform-team-eu\n"
        "  description: Runs the platform\n"
        "  annotations:\n"
        "    okta.com/group-id: 00g1plat\n"
        "spec:\n"
        "  type: group\n"
        "  profile:\n"
        "    displayName: Platform Team (EU)\n"
        "  children: []\n"
    )


def test_open_provider_finds_it(fake: FakeOkta) -> None:
    source = OktaSource(type="okta", org_url=fake.base)
    found = open_provider(source, {"OKTA_TOKEN": TOKEN})
    assert isinstance(found, OktaProvider) and found.title == "Okta"
    assert found.secrets() == (TOKEN,)


def test_every_page_is_followed(fake: FakeOkta) -> None:
    for n in range(7):
        fake.add_user(f"00u9{n}", f"dev{n}@acme.test", "Dev", str(n))
    fake.members["00g1plat"] += [f"00u9{n}" for n in range(7)]
    fake.max_page = 2
    org = okta_fetch(fake)
    assert len(org.users) == 9
    assert len(org.groups["platform-team-eu"].members) == 9
    # users: 10 listed (one deprovisioned) → 5 pages; groups: 3 → 2 pages;
    # members: 9 → 5 pages, 2 → 1, 1 → 1.
    assert fake.counts == {"users": 5, "groups": 2, "members": 7}
    assert org.requests == 14


def okta_fetch(fake: FakeOkta, **settings: Any) -> Any:
    okta, _ = provider(fake, **settings)
    return okta.fetch()


def test_rate_limited_then_served(fake: FakeOkta) -> None:
    fake.fault("groups", "429")
    fake.fault("members", "429")
    okta, sleeps = provider(fake)
    org = okta.fetch()
    assert org_entities(org) == EXPECTED
    assert len(sleeps) == 2 and all(0 < s <= 2 for s in sleeps)
    assert org.requests == 7


def test_the_wait_is_bounded_for_the_whole_fetch(fake: FakeOkta) -> None:
    fake.reset_seconds = 30
    fake.fault("members", "429", times=5)
    okta, sleeps = provider(fake, max_wait=45)
    with pytest.raises(OrgSourceError, match="rate-limited") as caught:
        okta.fetch()
    assert "at most 45 s" in str(caught.value)
    assert sum(sleeps) <= 45


def test_server_errors_are_retried(fake: FakeOkta) -> None:
    fake.fault("users", "503", times=2)
    okta, sleeps = provider(fake)
    assert org_entities(okta.fetch()) == EXPECTED
    assert sleeps == [1.0, 2.0]


def test_an_api_that_stays_down_is_one_message(fake: FakeOkta) -> None:
    fake.fault("groups", "500", times=3)
    with pytest.raises(OrgSourceError) as caught:
        okta_fetch(fake)
    assert (
        str(caught.value)
        == f"Okta at {fake.base[7:]} answered /api/v1/groups with HTTP 500: Internal Server Error"
    )


def test_the_group_filter_is_okta_search(fake: FakeOkta) -> None:
    org = okta_fetch(fake, group_filter='type eq "OKTA_GROUP"')
    assert sorted(org.groups) == ["platform-team-eu", "sre-on-call"]
    assert fake.searches == ['type eq "OKTA_GROUP"']
    assert org.users["ada.lovelace"]  # users are every user, as Roadie's org provider


def test_a_search_okta_refuses_says_so(fake: FakeOkta) -> None:
    with pytest.raises(OrgSourceError, match="did not take the group_filter search"):
        okta_fetch(fake, group_filter="type = OKTA_GROUP")


@pytest.mark.parametrize(
    ("group_naming", "user_naming", "groups", "users"),
    [
        ("id", "id", ["00g1plat", "00g2sre", "00g3apps"], ["00u1ada", "00u2grace"]),
        (
            "profile-name",
            "email",
            ["everyone", "platform_team_eu", "sreoncall"],
            ["ada.lovelace_acme.test", "grace.hopper_acme.test"],
        ),
    ],
)
def test_naming_strategies(
    fake: FakeOkta, group_naming: str, user_naming: str, groups: list[str], users: list[str]
) -> None:
    org = okta_fetch(fake, group_naming=group_naming, user_naming=user_naming)
    assert sorted(org.groups) == groups
    assert sorted(org.users) == users
    # members follow the user naming
    assert all(m in org.users for g in org.groups.values() for m in g.members)
    assert sum(len(g.members) for g in org.groups.values()) == 4


def test_kebab_case_is_lodashs() -> None:
    assert lodash_kebab_case("Platform Team (EU)") == "platform-team-eu"
    assert lodash_kebab_case("APIGateway") == "api-gateway"
    assert lodash_kebab_case("XMLHttpRequest") == "xml-http-request"
    assert lodash_kebab_case("team2go") == "team-2-go"
    assert lodash_kebab_case("__FOO_BAR__") == "foo-bar"
    assert lodash_kebab_case("Équipe Données") == "equipe-donnees"
    assert lodash_kebab_case("sre-oncall") == "sre-oncall"


def test_hierarchy_from_profile_attributes(fake: FakeOkta) -> None:
    fake.reset()
    fake.add_user("00u1ada", "ada@acme.test", "Ada", "L")
    fake.add_group("00gA", "Engineering", None, ("00u1ada",), orgId="ENG")
    fake.add_group("00gB", "Platform", None, ("00u1ada",), orgId="PLT", parentOrgId="ENG")
    fake.add_group("00gC", "Databases", None, (), orgId=42, parentOrgId="PLT")
    fake.add_group("00gD", "Orphans", None, (), parentOrgId="NOWHERE")
    org = okta_fetch(fake, hierarchy=("profile.parentOrgId", "profile.orgId"))
    entities = {e["metadata"]["name"]: e["spec"] for e in org_entities(org) if e["kind"] == "Group"}
    assert entities["engineering"]["children"] == ["platform"]
    assert "parent" not in entities["engineering"]
    assert entities["platform"]["parent"] == "engineering"
    assert entities["platform"]["children"] == ["databases"]
    assert entities["databases"]["parent"] == "platform"
    assert "parent" not in entities["orphans"]
    # Without a key, the parent attribute names the parent's entity name.
    fake.groups[1]["profile"]["parentOrgId"] = "engineering"
    org = okta_fetch(fake, hierarchy=("profile.parentOrgId", None))
    assert org.groups["platform"].parent == "engineering"
    # As backlot.yaml sets it.
    source = OktaSource.model_validate(
        {"type": "okta", "org_url": fake.base, "hierarchy": {"parent_key": "profile.parentOrgId"}}
    )
    org = OktaProvider(source, {"OKTA_TOKEN": TOKEN}, sleep=Sleeps()).fetch()
    assert org.groups["platform"].parent == "engineering"


def test_a_group_whose_members_cannot_be_read_is_a_note(fake: FakeOkta) -> None:
    fake.fault("members", "403")
    org = okta_fetch(fake)
    assert org.groups["platform-team-eu"].members == ()
    assert org.notes == [
        "the members of Okta group 'platform-team-eu' cannot be read: "
        "HTTP 403: You do not have permission"
    ]
    assert len(org.groups) == 3


def test_no_token(fake: FakeOkta) -> None:
    okta, _ = provider(fake, env={})
    with pytest.raises(OrgSourceError) as caught:
        okta.fetch()
    assert str(caught.value) == "$OKTA_TOKEN is not set (an Okta API token)"
    assert sum(fake.counts.values()) == 0


def test_a_refused_token(fake: FakeOkta) -> None:
    okta, _ = provider(fake, env={"OKTA_TOKEN": "00wrong-token-123456"})
    with pytest.raises(OrgSourceError) as caught:
        okta.fetch()
    assert "refused the credentials (HTTP 401: Invalid token provided)" in str(caught.value)
    assert "00wrong-token-123456" not in str(caught.value)


def test_no_credential_in_any_output(fake: FakeOkta) -> None:
    fake.fault("users", "echo")
    okta, _ = provider(fake)
    with pytest.raises(OrgSourceError) as caught:
        okta.fetch()
    assert "SSWS ***" in str(caught.value)
    assert TOKEN not in str(caught.value)
    org = okta.fetch()
    for data in org_files(org).values():
        assert TOKEN.encode() not in data
    assert TOKEN not in " ".join(org.notes) and TOKEN not in repr(okta)


# ---------------------------------------------------------------------- OAuth service app


@pytest.fixture(scope="module")
def app_key() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


def oauth_provider(fake: FakeOkta, pem: str, **oauth: Any) -> OktaProvider:
    settings = OktaSource(
        type="okta",
        org_url=fake.base,
        oauth=OktaOAuth(client_id=fake.client_id, private_key_env="OKTA_KEY", **oauth),
    )
    return OktaProvider(settings, {"OKTA_KEY": pem}, sleep=Sleeps())


def test_an_oauth_service_app(fake: FakeOkta, app_key: tuple[str, Any]) -> None:
    pem, public = app_key
    fake.public_key, fake.key_id = public, "kid-1"
    okta = oauth_provider(fake, pem, key_id="kid-1")
    org = okta.fetch()
    assert org_entities(org) == EXPECTED
    assert fake.counts["token"] == 1 and org.requests == 6
    assert fake.granted_scopes == ["okta.groups.read", "okta.users.read"]
    [claims] = fake.assertions
    assert claims["aud"] == f"{fake.base}/oauth2/v1/token"
    assert okta.secrets() == (pem.strip(), fake.access_token)


def test_an_oauth_app_okta_refuses(fake: FakeOkta, app_key: tuple[str, Any]) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.public_key = other.public_key()
    okta = oauth_provider(fake, app_key[0])
    with pytest.raises(OrgSourceError) as caught:
        okta.fetch()
    message = str(caught.value)
    assert (
        "refused the service app '0oa-backlot-service-app' a token (HTTP 401, invalid_client"
        in message
    )
    assert "PRIVATE KEY" not in message


def test_an_oauth_key_that_cannot_sign(fake: FakeOkta) -> None:
    okta = oauth_provider(fake, "not a key")
    with pytest.raises(OrgSourceError, match=r"\$OKTA_KEY\) cannot sign"):
        okta.fetch()
    assert fake.counts["token"] == 0


# ---------------------------------------------------------------------- through the catalog


def test_okta_through_the_catalog(fake: FakeOkta, tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "backlot.yaml": f"""
                catalog:
                  sources:
                    - type: okta
                      org_url: {fake.base}
                    - path: repos
            """,
            "repos/svc/catalog-info.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: Component
                metadata:
                  name: svc
                spec:
                  type: service
                  lifecycle: production
                  owner: group:platform-team-eu
            """,
        },
    )
    out = tmp_path / "catalog.json"
    done = run_backlot(
        "catalog",
        "--config",
        root / "backlot.yaml",
        "-o",
        out,
        "--cache-dir",
        tmp_path / "cache",
        cwd=tmp_path,
        env={"OKTA_TOKEN": TOKEN},
    )
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    catalog = json.loads(out.read_text())
    by_ref = {
        f"{e['kind'].lower()}:default/{e['metadata']['name']}": e for e in catalog["entities"]
    }
    assert {r for r in by_ref if r.startswith(("group:", "user:"))} == {
        "group:default/everyone",
        "group:default/platform-team-eu",
        "group:default/sre-on-call",
        "user:default/ada.lovelace",
        "user:default/grace.hopper",
    }
    platform = relations(by_ref["group:default/platform-team-eu"])
    assert ("hasMember", "user:default/ada.lovelace") in platform
    assert ("hasMember", "user:default/grace.hopper") in platform
    assert ("ownerOf", "component:default/svc") in platform
    grace = relations(by_ref["user:default/grace.hopper"])
    assert ("memberOf", "group:default/sre-on-call") in grace
    assert ("ownedBy", "group:default/platform-team-eu") in relations(
        by_ref["component:default/svc"]
    )
    assert TOKEN not in out.read_text()


def relations(entity: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["type"], r["targetRef"]) for r in entity.get("relations", [])}
