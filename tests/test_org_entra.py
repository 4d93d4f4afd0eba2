"""The Microsoft Entra ID org provider against a local fake of the token endpoint and
Microsoft Graph: Backstage's names and relations, the requests a tenant costs, throttling,
failures, and an org source read by ``backlot catalog``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.config import EntraSource
from generator.org import Org, OrgSourceError, open_provider, org_entities, org_files
from generator.org.entra import EntraProvider

from .conftest import component, run_backlot, write_tree
from .msgraph_fake import FakeGraph

SECRET_ENV = "AZURE_CLIENT_SECRET"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    fake.start()
    yield fake
    fake.stop()


def acme(fake: FakeGraph) -> None:
    """A small tenant: Engineering holds Platform; a security group; a user without mail."""
    fake.user("u-jane", "Jane Doe", "jane.doe@acme.com")
    fake.user("u-john", "John Smith", "John.Smith@acme.com")
    fake.user("u-ana", "Ana López", "ana@acme.com")
    fake.user("u-bot", "Build Bot", None)  # no mail: Backstage leaves it out
    fake.user("u-ghost", None, "ghost@acme.com")  # no display name: left out too
    fake.group(
        "g-eng",
        "Engineering",
        ["g-plat", "u-john"],
        nickname="engineering",
        mail="engineering@acme.com",
        description="All engineers",
    )
    fake.group("g-plat", "Platform Team", ["u-jane", "u-ana", "u-bot"], nickname="platform")
    fake.group("g-sec", "Security Readers (EU)", ["u-john"], nickname="secreaders", security=True)


def settings(fake: FakeGraph, **options: Any) -> EntraSource:
    return EntraSource(
        type="entra",
        tenant_id=options.pop("tenant_id", fake.tenant_id),
        client_id=options.pop("client_id", fake.client_id),
        authority=fake.base,
        graph_url=f"{fake.base}/v1.0",
        **options,
    )


def provider(
    fake: FakeGraph, *, secret: str | None = None, sleeps: list[float] | None = None, **options: Any
) -> EntraProvider:
    env = {SECRET_ENV: fake.client_secret if secret is None else secret}
    record = sleeps if sleeps is not None else []
    return EntraProvider(settings(fake, **options), env, sleep=record.append)


def by_name(org: Org) -> dict[str, dict[str, Any]]:
    return {e["metadata"]["name"]: e for e in org_entities(org)}


TENANT = "0d3f5b6e-0000-4000-8000-00000000acme"
EXPECTED = [
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {
            "name": "acme_corp",
            "description": "Acme Corp",
            "annotations": {"graph.microsoft.com/tenant-id": TENANT},
        },
        "spec": {
            "type": "root",
            "profile": {"displayName": "Acme Corp"},
            "children": ["engineering", "security_readers_eu"],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {
            "name": "engineering",
            "description": "All engineers",
            "annotations": {"graph.microsoft.com/group-id": "g-eng"},
        },
        "spec": {
            "type": "team",
            "profile": {"displayName": "Engineering", "email": "engineering@acme.com"},
            "parent": "acme_corp",
            "children": ["platform"],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "platform", "annotations": {"graph.microsoft.com/group-id": "g-plat"}},
        "spec": {
            "type": "team",
            "profile": {"displayName": "Platform Team"},
            "parent": "engineering",
            "children": [],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {
            "name": "security_readers_eu",
            "annotations": {"graph.microsoft.com/group-id": "g-sec"},
        },
        "spec": {
            "type": "team",
            "profile": {"displayName": "Security Readers (EU)"},
            "parent": "acme_corp",
            "children": [],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {
            "name": "ana_acme.com",
            "annotations": {
                "graph.microsoft.com/user-id": "u-ana",
                "microsoft.com/email": "ana@acme.com",
            },
        },
        "spec": {
            "profile": {"displayName": "Ana López", "email": "ana@acme.com"},
            "memberOf": ["acme_corp", "engineering", "platform"],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {
            "name": "jane.doe_acme.com",
            "annotations": {
                "graph.microsoft.com/user-id": "u-jane",
                "microsoft.com/email": "jane.doe@acme.com",
            },
        },
        "spec": {
            "profile": {"displayName": "Jane Doe", "email": "jane.doe@acme.com"},
            "memberOf": ["acme_corp", "engineering", "platform"],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {
            "name": "john.smith_acme.com",
            "annotations": {
                "graph.microsoft.com/user-id": "u-john",
                "microsoft.com/email": "John.Smith@acme.com",
            },
        },
        "spec": {
            "profile": {"displayName": "John Smith", "email": "John.Smith@acme.com"},
            "memberOf": ["acme_corp", "engineering", "security_readers_eu"],
        },
    },
]


def test_a_small_tenant_as_backstage_names_and_relates_it(graph: FakeGraph) -> None:
    acme(graph)
    org = provider(graph).fetch()
    assert org.source == f"entra:{TENANT}"
    assert org_entities(org) == EXPECTED
    assert org.notes == []
    # token, organization, users, groups with their members expanded: nothing else
    assert org.requests == 4 == graph.http
    assert graph.counts["members"] == 0 and graph.counts["batch"] == 0
    assert graph.seen["users"] == [
        {"$select": "id,displayName,mail,userPrincipalName", "$top": "999"}
    ]
    assert graph.seen["groups"] == [
        {
            "$select": "id,displayName,description,mail,mailNickname,securityEnabled",
            "$top": "999",
            "$expand": "members($select=id)",
        }
    ]


def test_open_provider_finds_it_and_reads_the_secret_from_env(graph: FakeGraph) -> None:
    acme(graph)
    found = open_provider(settings(graph), {SECRET_ENV: graph.client_secret})
    assert isinstance(found, EntraProvider) and found.title == "Microsoft Entra ID"
    assert found.secrets() == (graph.client_secret,)
    assert len(found.fetch().groups) == 4


def test_nested_groups_several_parents_and_a_cycle(graph: FakeGraph) -> None:
    graph.user("u1", "One", "one@acme.com")
    graph.user("u2", "Two", "two@acme.com")
    graph.group("g-a", "A", ["g-b"], nickname="a")
    graph.group("g-b", "B", ["g-c"], nickname="b")
    graph.group("g-c", "C", ["u1"], nickname="c")
    graph.group("g-z", "Z", ["g-c"], nickname="z")  # C is in B and in Z
    graph.group("g-x", "X", ["g-y", "u2"], nickname="x")  # X and Y hold each other
    graph.group("g-y", "Y", ["g-x"], nickname="y")
    entities = by_name(provider(graph).fetch())
    assert entities["c"]["spec"]["parent"] == "b"  # the first by name of its two parents
    assert entities["b"]["spec"]["parent"] == "a"
    assert entities["a"]["spec"]["parent"] == "acme_corp"
    assert entities["z"]["spec"]["children"] == []
    assert entities["acme_corp"]["spec"]["children"] == ["a", "z"]
    # u1 belongs to every ancestor of C along its parent chain, as buildMemberOf walks it
    assert entities["one_acme.com"]["spec"]["memberOf"] == ["a", "acme_corp", "b", "c"]
    # a cycle has no way up to the root, and the walk ends
    assert entities["x"]["spec"]["parent"] == "y" and entities["y"]["spec"]["parent"] == "x"
    assert entities["two_acme.com"]["spec"]["memberOf"] == ["x", "y"]
    org = provider(graph).fetch()
    assert any("'c' is a member of b, z" in note for note in org.notes)


def test_naming_strategies(graph: FakeGraph) -> None:
    acme(graph)
    graph.user("u-upn", "Ex Ternal", None, upn="ex_ternal#EXT#@acme.onmicrosoft.com")
    org = provider(graph, user_naming="user-principal-name", group_naming="display-name").fetch()
    assert sorted(org.users) == [
        "ana_acme.com",
        "ex_ternal_ext_acme.onmicrosoft.com",
        "jane.doe_acme.com",
        "john.smith_acme.com",
        "u-bot_acme.onmicrosoft.com",
    ]
    assert org.users["ex_ternal_ext_acme.onmicrosoft.com"].email == ""
    assert sorted(org.groups) == [
        "acme_corp",
        "engineering",
        "platform_team",
        "security_readers_eu",
    ]
    by_id = provider(graph, user_naming="id", group_naming="id").fetch()
    assert sorted(by_id.groups) == ["acme_corp", "g-eng", "g-plat", "g-sec"]
    assert "u-jane" in by_id.users and "u-bot" in by_id.users


def test_filters_and_search_are_passed_through(graph: FakeGraph) -> None:
    acme(graph)
    org = provider(
        graph,
        group_filter="startswith(displayName,'Plat')",
        user_filter="mail eq 'jane.doe@acme.com'",
    ).fetch()
    assert graph.seen["groups"][-1]["$filter"] == "startswith(displayName,'Plat')"
    assert graph.seen["users"][-1]["$filter"] == "mail eq 'jane.doe@acme.com'"
    assert sorted(org.users) == ["jane.doe_acme.com"]
    entities = by_name(org)
    # Engineering was not read: Platform hangs from the tenant
    assert entities["platform"]["spec"]["parent"] == "acme_corp"
    assert entities["jane.doe_acme.com"]["spec"]["memberOf"] == ["acme_corp", "platform"]

    before = graph.http
    searched = provider(graph, group_search="displayName:Engineering").fetch()
    query = graph.seen["groups"][-1]
    assert query["$search"] == '"displayName:Engineering"' and query["$count"] == "true"
    assert "$expand" not in query  # an advanced query: members come through $batch
    assert sorted(searched.groups) == ["acme_corp", "engineering"]
    assert (
        searched.users["john.smith_acme.com"]
        and by_name(searched)["engineering"]["spec"]["children"] == []
    )
    assert graph.http - before == 5  # token, organization, users, groups, one batch
    assert graph.counts["members"] == 1


def test_paging_and_large_groups_cost(graph: FakeGraph) -> None:
    graph.page_size = 10
    for i in range(30):
        graph.user(f"u{i:02}", f"User {i}", f"user{i:02}@acme.com")
    graph.group("g-big", "Big", [f"u{i:02}" for i in range(30)], nickname="big")
    graph.group("g-small", "Small", ["u00", "u01"], nickname="small")
    org = provider(graph).fetch()
    assert len(org.users) == 30
    assert len(org.groups["big"].members) == 30  # past the 20 that $expand gives
    assert org.groups["small"].members == ("user00_acme.com", "user01_acme.com")
    # token 1 + organization 1 + users 3 pages + groups 1 page + big's members 3 batches
    assert org.requests == 9 == graph.http
    assert graph.counts["users"] == 3 and graph.counts["batch"] == 3


def test_a_larger_tenant_costs_a_handful_of_requests(graph: FakeGraph) -> None:
    for i in range(300):
        graph.user(f"u{i:03}", f"User {i}", f"user{i:03}@acme.com")
    for g in range(60):
        size = 25 if g < 5 else 5
        graph.group(f"g{g:02}", f"Team {g}", [f"u{(g * 5 + k) % 300:03}" for k in range(size)])
    org = provider(graph).fetch()
    assert len(org.groups) == 61 and len(org.users) == 300
    # 100 per page here (Graph gives 999): token, organization, 3 user pages, 1 group page,
    # one batch for the five groups $expand may have cut. Backstage: 60 member requests.
    assert org.requests == 7


def test_throttling_then_success(graph: FakeGraph) -> None:
    acme(graph)
    graph.fault("users", "429")
    graph.fault("groups", "503")
    sleeps: list[float] = []
    org = provider(graph, sleeps=sleeps).fetch()
    assert org_entities(org) == EXPECTED
    assert sleeps == [7.0, 3.0]  # each Retry-After, as Graph said
    assert org.requests == 6


def test_throttled_members_in_a_batch_are_asked_again(graph: FakeGraph) -> None:
    acme(graph)
    graph.fault("members", "429")
    sleeps: list[float] = []
    org = provider(graph, sleeps=sleeps, group_search="displayName:e").fetch()
    assert sleeps == [7.0]
    assert graph.counts["batch"] == 2
    assert org.groups["platform"].members == ("ana_acme.com", "jane.doe_acme.com")


def test_throttling_has_a_bound(graph: FakeGraph) -> None:
    acme(graph)
    graph.fault("groups", "429", times=50)
    sleeps: list[float] = []
    with pytest.raises(OrgSourceError, match="kept throttling reading groups") as caught:
        provider(graph, sleeps=sleeps).fetch()
    assert sum(sleeps) <= 60 and len(sleeps) == 8
    assert graph.client_secret not in str(caught.value)


def test_retry_after_zero_forever_still_ends(graph: FakeGraph) -> None:
    acme(graph)
    graph.fault("users", "429-now", times=500)
    sleeps: list[float] = []
    with pytest.raises(OrgSourceError, match="kept throttling reading users"):
        provider(graph, sleeps=sleeps).fetch()
    assert sum(sleeps) <= 60 and set(sleeps) == {0.5}


def test_throttling_does_not_spend_the_retries_of_server_errors(graph: FakeGraph) -> None:
    acme(graph)
    for fault in ("429", "429", "429", "500", "500"):
        graph.fault("groups", fault)
    assert org_entities(provider(graph).fetch()) == EXPECTED


def test_server_errors_are_retried_then_reported(graph: FakeGraph) -> None:
    acme(graph)
    graph.fault("groups", "500", times=2)
    sleeps: list[float] = []
    assert org_entities(provider(graph, sleeps=sleeps).fetch()) == EXPECTED
    assert sleeps == [1.0, 2.0]
    graph.fault("groups", "502", times=4)
    with pytest.raises(OrgSourceError, match="Microsoft Graph is failing: groups answered 502"):
        provider(graph).fetch()


def test_a_slow_answer_is_retried(graph: FakeGraph) -> None:
    acme(graph)
    graph.slow_seconds = 1.0
    graph.fault("organization", "slow")
    org = provider(graph, timeout_seconds=0.3).fetch()
    assert len(org.groups) == 4 and org.requests == 5


def test_an_expired_token_is_renewed_once(graph: FakeGraph) -> None:
    acme(graph)
    graph.fault("users", "401")
    assert len(provider(graph).fetch().users) == 3
    assert graph.counts["token"] == 2
    graph.fault("users", "401", times=2)
    with pytest.raises(OrgSourceError, match="refused the app's token reading users"):
        provider(graph).fetch()


def test_a_group_whose_members_cannot_be_read_is_a_note(graph: FakeGraph) -> None:
    acme(graph)
    graph.group("g-priv", "Private", ["u-jane"], nickname="private")
    graph.unreadable.add("g-priv")
    org = provider(graph, group_search="displayName:").fetch()
    assert org.groups["private"].members == ()
    assert org.notes == [
        "the members of group 'private' could not be read (Microsoft Graph answered 403 "
        "Authorization_RequestDenied): it is listed without them"
    ]
    assert org.groups["platform"].members == ("ana_acme.com", "jane.doe_acme.com")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": ""}, "no client secret for tenant .*: set AZURE_CLIENT_SECRET"),
        (
            {"secret": "wrong-secret-value"},
            r"credentials of app backlot-app were refused .*AADSTS7000215",
        ),
        ({"client_id": "other-app"}, r"credentials of app other-app were refused .*AADSTS700016"),
        ({"tenant_id": "contoso.example"}, r"tenant contoso.example was not found .*AADSTS90002"),
    ],
)
def test_credentials_refused(graph: FakeGraph, change: dict[str, str], message: str) -> None:
    acme(graph)
    with pytest.raises(OrgSourceError, match=message) as caught:
        provider(graph, **change).fetch()
    assert graph.client_secret not in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)


def test_permission_refused(graph: FakeGraph) -> None:
    acme(graph)
    graph.fault("users", "403")
    with pytest.raises(OrgSourceError, match=r"refused to read users \(403 Authorization_Req"):
        provider(graph).fetch()


def test_a_bad_filter_says_what_graph_said(graph: FakeGraph) -> None:
    acme(graph)
    with pytest.raises(OrgSourceError, match=r"query for groups \(400 BadRequest: Invalid filter"):
        provider(graph, group_filter="displayName has 'x'").fetch()


def test_graph_down(graph: FakeGraph) -> None:
    sleeps: list[float] = []
    down = EntraProvider(
        settings(graph).model_copy(update={"graph_url": "http://127.0.0.1:9/v1.0"}),
        {SECRET_ENV: graph.client_secret},
        sleep=sleeps.append,
    )
    with pytest.raises(OrgSourceError, match=r"did not answer the tenant \(ConnectError, 4 tries"):
        down.fetch()
    assert sleeps == [1.0, 2.0, 4.0]


def test_no_secret_or_token_in_any_output(graph: FakeGraph) -> None:
    acme(graph)
    graph.group("g-priv", "Private", ["u-jane"], nickname="private")
    graph.unreadable.add("g-priv")
    found = provider(graph, group_search="displayName:")
    org = found.fetch()
    tokens = set(graph.tokens)
    assert tokens and set(found.secrets()) == {graph.client_secret, *tokens}
    blob = b"".join(org_files(org).values()).decode() + json.dumps(org.notes) + org.source
    for secret in (graph.client_secret, *tokens):
        assert secret not in blob


def test_catalog_reads_an_entra_source(graph: FakeGraph, tmp_path: Path) -> None:
    acme(graph)
    root = write_tree(
        tmp_path / "work",
        {
            "backlot.yaml": f"""
                catalog:
                  sources:
                    - path: repos
                    - type: entra
                      tenant_id: {graph.tenant_id}
                      client_id: {graph.client_id}
                      authority: {graph.base}
                      graph_url: {graph.base}/v1.0
            """,
            "repos/svc/catalog-info.yaml": component("svc", owner="group:platform"),
        },
    )
    out = tmp_path / "catalog.json"
    result = run_backlot(
        "catalog",
        "--config",
        root / "backlot.yaml",
        "--cache-dir",
        tmp_path / "cache",
        "-o",
        out,
        env={SECRET_ENV: graph.client_secret},
    )
    assert result.returncode == 0, result.stderr
    assert graph.client_secret not in result.stdout + result.stderr
    catalog = json.loads(out.read_text())
    entities = {f"{e['kind']}:{e['metadata']['name']}".lower(): e for e in catalog["entities"]}
    assert {k for k in entities if k.startswith(("group:", "user:"))} == {
        "group:acme_corp",
        "group:engineering",
        "group:platform",
        "group:security_readers_eu",
        "user:ana_acme.com",
        "user:jane.doe_acme.com",
        "user:john.smith_acme.com",
    }

    def rel(key: str) -> set[tuple[str, str]]:
        return {(r["type"], r["targetRef"]) for r in entities[key]["relations"]}

    assert rel("group:platform") >= {
        ("childOf", "group:default/engineering"),
        ("hasMember", "user:default/jane.doe_acme.com"),
        ("hasMember", "user:default/ana_acme.com"),
        ("ownerOf", "component:default/svc"),
    }
    assert ("parentOf", "group:default/platform") in rel("group:engineering")
    assert rel("user:john.smith_acme.com") == {
        ("memberOf", "group:default/acme_corp"),
        ("memberOf", "group:default/engineering"),
        ("memberOf", "group:default/security_readers_eu"),
    }
    annotations = entities["group:acme_corp"]["metadata"]["annotations"]
    assert annotations["graph.microsoft.com/tenant-id"] == graph.tenant_id
