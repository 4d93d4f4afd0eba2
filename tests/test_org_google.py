"""The Google Workspace org provider against local fakes of Google's token endpoint and
the Directory API: the entities of a small org (nested groups as the hierarchy), paging,
rate limits (429 and 403 rateLimitExceeded), the query and naming options, the service
account's JWT, failures, and never a credential in any output; then the whole path
through ``backlot catalog``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from generator.config import GoogleWorkspaceSource
from generator.org import OrgSourceError, open_provider, org_entities, org_files
from generator.org.google_workspace import SCOPES, GoogleWorkspaceProvider

from .conftest import run_backlot, write_tree
from .google_directory_fake import FakeGoogleDirectory

PHOTO = "https://lh3.googleusercontent.com/a/ada-photo"


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[FakeGoogleDirectory, str]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    server = FakeGoogleDirectory()
    server.public_key = key.public_key()
    server.start()
    service_account = json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-project",
            "private_key_id": server.key_id,
            "private_key": pem,
            "client_email": server.client_email,
            "client_id": "1234567890",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )
    yield server, service_account
    server.stop()


@pytest.fixture
def fake(running: tuple[FakeGoogleDirectory, str]) -> FakeGoogleDirectory:
    server = running[0]
    server.reset()
    server.add_user("u1", "ada.lovelace@acme.test", "Ada Lovelace", PHOTO)
    server.add_user("u2", "Grace@acme.test", "Grace Hopper")
    server.add_user("u3", "bob@acme.test", "Bob Gone", suspended=True)
    server.add_group("g1", "engineering@acme.test", "Engineering", "All engineers", ("g2", "u1"))
    server.add_group("g2", "platform-team@acme.test", "Platform Team", "", ("u1", "u2", "u3"))
    server.add_group("g3", "announce@acme.test", "Announcements", "Company news", ())
    return server


@pytest.fixture
def key(running: tuple[FakeGoogleDirectory, str]) -> str:
    return running[1]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def provider(
    fake: FakeGoogleDirectory, key: str, env: dict[str, str] | None = None, **settings: Any
) -> tuple[GoogleWorkspaceProvider, Sleeps]:
    sleeps = Sleeps()
    options = {k: settings.pop(k) for k in ("max_wait",) if k in settings}
    source = GoogleWorkspaceSource(
        type="google-workspace",
        subject=settings.pop("subject", fake.subject),
        token_url=fake.token_url,
        directory_url=fake.base,
        **settings,
    )
    env = {"GOOGLE_SERVICE_ACCOUNT_KEY": key} if env is None else env
    return GoogleWorkspaceProvider(source, env, sleep=sleeps, **options), sleeps


EXPECTED = [
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {
            "name": "announce",
            "description": "Company news",
            "annotations": {"google.com/group-id": "g3"},
        },
        "spec": {
            "type": "team",
            "profile": {"displayName": "Announcements", "email": "announce@acme.test"},
            "children": [],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {
            "name": "engineering",
            "description": "All engineers",
            "annotations": {"google.com/group-id": "g1"},
        },
        "spec": {
            "type": "team",
            "profile": {"displayName": "Engineering", "email": "engineering@acme.test"},
            "children": ["platform-team"],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "platform-team", "annotations": {"google.com/group-id": "g2"}},
        "spec": {
            "type": "team",
            "profile": {"displayName": "Platform Team", "email": "platform-team@acme.test"},
            "parent": "engineering",
            "children": [],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": "ada.lovelace", "annotations": {"google.com/user-id": "u1"}},
        "spec": {
            "profile": {
                "displayName": "Ada Lovelace",
                "email": "ada.lovelace@acme.test",
                "picture": PHOTO,
            },
            "memberOf": ["engineering", "platform-team"],
        },
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": "grace", "annotations": {"google.com/user-id": "u2"}},
        "spec": {
            "profile": {"displayName": "Grace Hopper", "email": "Grace@acme.test"},
            "memberOf": ["platform-team"],
        },
    },
]


def test_a_small_org_with_nested_groups(fake: FakeGoogleDirectory, key: str) -> None:
    google, _ = provider(fake, key)
    org = google.fetch()
    assert org_entities(org) == EXPECTED
    assert org.source == "google-workspace:my_customer"
    assert org.notes == []
    # a token, users, groups, and one members page per group
    assert org.requests == 6 == sum(fake.counts.values())
    [claims] = fake.assertions
    assert claims["sub"] == fake.subject and claims["iss"] == fake.client_email
    assert claims["scope"].split() == list(SCOPES)
    assert claims["aud"] == fake.token_url
    assert [q.get("customer") for q in fake.queries if q["kind"] != "members"] == [
        "my_customer",
        "my_customer",
    ]
    text = org_files(org)["users/ada.lovelace.yaml"].decode()
    assert text.endswith(
        "spec:\n"
        "  profile:\n"
        "    displayName: Ada Lovelace\n"
        "    email: ada.lovelace@acme.test\n"
        f"    picture: {PHOTO}\n"
        "  memberOf:\n"
        "  - engineering\n"
        "  - platform-team\n"
    )


def test_open_provider_finds_it(fake: FakeGoogleDirectory, key: str) -> None:
    source = GoogleWorkspaceSource(type="google-workspace", subject=fake.subject)
    found = open_provider(source, {"GOOGLE_SERVICE_ACCOUNT_KEY": key})
    assert isinstance(found, GoogleWorkspaceProvider) and found.title == "Google Workspace"
    assert key in found.secrets()


def test_every_page_is_followed(fake: FakeGoogleDirectory, key: str) -> None:
    for n in range(6):
        fake.add_user(f"u9{n}", f"dev{n}@acme.test", f"Dev {n}")
        fake.members["g2"].append({"id": f"u9{n}"})
    fake.max_page = 2
    google, _ = provider(fake, key)
    org = google.fetch()
    assert len(org.users) == 8 and len(org.groups["platform-team"].members) == 8
    # users: 9 → 5 pages; groups: 3 → 2; members: 2 → 1, 9 → 5, 0 → 1
    assert fake.counts == {"token": 1, "users": 5, "groups": 2, "members": 7}
    assert org.requests == 15


@pytest.mark.parametrize("fault", ["429", "403-rate"])
def test_rate_limited_then_served(fake: FakeGoogleDirectory, key: str, fault: str) -> None:
    fake.fault("members", fault, times=2)
    google, sleeps = provider(fake, key)
    org = google.fetch()
    assert org_entities(org) == EXPECTED
    assert sleeps == [1.0, 2.0]  # exponential backoff, as Google asks
    assert org.requests == 8


def test_the_wait_is_bounded(fake: FakeGoogleDirectory, key: str) -> None:
    fake.fault("groups", "403-rate", times=10)
    google, sleeps = provider(fake, key, max_wait=10)
    with pytest.raises(OrgSourceError, match="rate-limited"):
        google.fetch()
    assert sum(sleeps) <= 10 and sleeps == [1.0, 2.0, 4.0]


def test_server_errors_are_retried_then_reported(fake: FakeGoogleDirectory, key: str) -> None:
    fake.fault("users", "500", times=2)
    google, sleeps = provider(fake, key)
    assert org_entities(google.fetch()) == EXPECTED
    assert sleeps == [1.0, 2.0]
    fake.fault("users", "500", times=3)
    with pytest.raises(OrgSourceError) as caught:
        google.fetch()
    assert (
        str(caught.value) == "Google Workspace answered the users list with HTTP 500: Backend Error"
    )


def test_domain_and_query(fake: FakeGoogleDirectory, key: str) -> None:
    google, _ = provider(fake, key, domain="acme.test", group_query="email:eng*")
    org = google.fetch()
    assert sorted(org.groups) == ["engineering"]
    assert org.source == "google-workspace:acme.test"
    listed = [q for q in fake.queries if q["kind"] == "groups"]
    assert listed[0]["domain"] == "acme.test" and "customer" not in listed[0]
    assert listed[0]["query"] == "email:eng*"
    # Platform Team is left out by the query: Engineering keeps only its user.
    assert org.groups["engineering"].members == ("ada.lovelace",)
    assert org.groups["engineering"].parent is None


def test_a_query_google_refuses(fake: FakeGoogleDirectory, key: str) -> None:
    google, _ = provider(fake, key, group_query="nonsense query")
    with pytest.raises(OrgSourceError, match="did not take the group_query"):
        google.fetch()


def test_email_naming(fake: FakeGoogleDirectory, key: str) -> None:
    google, _ = provider(fake, key, group_naming="email", user_naming="email")
    org = google.fetch()
    assert sorted(org.groups) == [
        "announce_acme.test",
        "engineering_acme.test",
        "platform-team_acme.test",
    ]
    assert sorted(org.users) == ["ada.lovelace_acme.test", "grace_acme.test"]
    assert org.groups["platform-team_acme.test"].parent == "engineering_acme.test"


def test_a_group_nested_twice_keeps_one_parent(fake: FakeGoogleDirectory, key: str) -> None:
    fake.members["g3"].append({"id": "g2"})
    google, _ = provider(fake, key)
    org = google.fetch()
    assert org.groups["platform-team"].parent == "engineering"
    assert org.notes == [
        "Google group 'platform-team' is nested in 'announce' too: its parent is "
        "'engineering' (Backstage gives a group one parent)"
    ]


def test_a_group_whose_members_cannot_be_read_is_a_note(
    fake: FakeGoogleDirectory, key: str
) -> None:
    fake.fault("members", "404")
    google, _ = provider(fake, key)
    org = google.fetch()
    assert org.groups["engineering"].members == ()
    assert org.notes == [
        "the members of Google group 'engineering' cannot be read: "
        "HTTP 404: Resource Not Found: groupKey"
    ]


def test_no_key(fake: FakeGoogleDirectory, key: str) -> None:
    google, _ = provider(fake, key, env={})
    with pytest.raises(OrgSourceError) as caught:
        google.fetch()
    assert str(caught.value) == (
        "$GOOGLE_SERVICE_ACCOUNT_KEY is not set (the service account's JSON key)"
    )
    google, _ = provider(fake, key, env={"GOOGLE_SERVICE_ACCOUNT_KEY": '{"type": "x"}'})
    with pytest.raises(OrgSourceError, match="is not a service account's JSON key"):
        google.fetch()
    assert sum(fake.counts.values()) == 0


def test_a_subject_without_delegation(fake: FakeGoogleDirectory, key: str) -> None:
    google, _ = provider(fake, key, subject="someone@acme.test")
    with pytest.raises(OrgSourceError) as caught:
        google.fetch()
    message = str(caught.value)
    assert "refused the service account" in message and "as someone@acme.test" in message
    assert "unauthorized_client" in message and "PRIVATE KEY" not in message


def test_a_refused_directory_request(fake: FakeGoogleDirectory, key: str) -> None:
    fake.fault("users", "403")
    google, _ = provider(fake, key)
    with pytest.raises(OrgSourceError, match="needs domain-wide delegation"):
        google.fetch()


def test_no_credential_in_any_output(fake: FakeGoogleDirectory, key: str) -> None:
    fake.fault("groups", "echo")
    google, _ = provider(fake, key)
    with pytest.raises(OrgSourceError) as caught:
        google.fetch()
    assert "Bearer ***" in str(caught.value)
    assert fake.access_token not in str(caught.value)
    org = google.fetch()
    private = json.loads(key)["private_key"]
    for data in org_files(org).values():
        assert fake.access_token.encode() not in data and b"PRIVATE KEY" not in data
    assert fake.access_token in google.secrets() and private.strip() in google.secrets()
    assert "PRIVATE" not in repr(google)


# ---------------------------------------------------------------------- through the catalog


def test_google_workspace_through_the_catalog(
    fake: FakeGoogleDirectory, key: str, tmp_path: Path
) -> None:
    root = write_tree(
        tmp_path,
        {
            "backlot.yaml": f"""
                catalog:
                  sources:
                    - type: google-workspace
                      subject: {fake.subject}
                      domain: acme.test
                      token_url: {fake.token_url}
                      directory_url: {fake.base}
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
                  owner: platform-team
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
        env={"GOOGLE_SERVICE_ACCOUNT_KEY": key},
    )
    assert done.returncode == 0, done.stderr
    for secret in (fake.access_token, "PRIVATE KEY"):
        assert secret not in done.stdout + done.stderr + out.read_text()
    catalog = json.loads(out.read_text())
    by_ref = {
        f"{e['kind'].lower()}:default/{e['metadata']['name']}": e for e in catalog["entities"]
    }
    assert {r for r in by_ref if r.startswith(("group:", "user:"))} == {
        "group:default/announce",
        "group:default/engineering",
        "group:default/platform-team",
        "user:default/ada.lovelace",
        "user:default/grace",
    }
    platform = relations(by_ref["group:default/platform-team"])
    assert ("childOf", "group:default/engineering") in platform
    assert ("hasMember", "user:default/grace") in platform
    assert ("ownerOf", "component:default/svc") in platform
    assert ("parentOf", "group:default/platform-team") in relations(
        by_ref["group:default/engineering"]
    )
    assert ("memberOf", "group:default/engineering") in relations(
        by_ref["user:default/ada.lovelace"]
    )


def relations(entity: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["type"], r["targetRef"]) for r in entity.get("relations", [])}
