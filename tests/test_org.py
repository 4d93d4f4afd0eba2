"""The org's descriptors (one file per group and user, stable bytes), the folder sync with
its shrink guard, and an identity provider read as a catalog source that falls back to the
last good org."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.catalog import build_catalog
from generator.config import CatalogSettings, EntraSource
from generator.model import check_entity
from generator.org import (
    MANIFEST,
    Org,
    OrgGroup,
    OrgSourceError,
    OrgUser,
    normalize_name,
    org_files,
    sync_folder,
)
from generator.sources import SourceError
from generator.sources import org as org_source

SOURCE = "entra:contoso"


def small_org() -> Org:
    org = Org(source=SOURCE, requests=3)
    org.add_group(
        OrgGroup(
            "engineering",
            display_name="Engineering",
            email="eng@contoso.com",
            annotations={"graph.microsoft.com/group-id": "g-1"},
        )
    )
    org.add_group(OrgGroup("platform", display_name="Platform", parent="engineering",
                           members=("jane.doe_contoso.com", "ghost")))  # fmt: skip
    org.add_group(OrgGroup("payments", parent="engineering", members=("jane.doe_contoso.com",)))
    org.add_user(
        OrgUser(
            "jane.doe_contoso.com",
            display_name="Jane Doe",
            email="jane.doe@contoso.com",
            picture="https://avatars.example/jane.png",
        )
    )
    org.add_user(OrgUser("joe", picture="javascript:alert(1)"))
    org.add_user(OrgUser("ada", picture="data:image/png;base64,iVBORw0KGgo="))
    return org


EXPECTED_PLATFORM = """\
# Written by backlot org sync from entra:contoso: edit it there, not here.
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: platform
spec:
  type: team
  profile:
    displayName: Platform
  parent: engineering
  children: []
"""

EXPECTED_JANE = """\
# Written by backlot org sync from entra:contoso: edit it there, not here.
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: jane.doe_contoso.com
spec:
  profile:
    displayName: Jane Doe
    email: jane.doe@contoso.com
    picture: https://avatars.example/jane.png
  memberOf:
  - payments
  - platform
"""


def test_one_file_per_group_and_user_as_backstage_shapes_them() -> None:
    files = org_files(small_org())
    assert sorted(files) == [
        "groups/engineering.yaml",
        "groups/payments.yaml",
        "groups/platform.yaml",
        "users/ada.yaml",
        "users/jane.doe_contoso.com.yaml",
        "users/joe.yaml",
    ]
    assert files["groups/platform.yaml"].decode() == EXPECTED_PLATFORM
    assert files["users/jane.doe_contoso.com.yaml"].decode() == EXPECTED_JANE
    engineering = yaml.safe_load(files["groups/engineering.yaml"])
    assert engineering["spec"]["children"] == ["payments", "platform"]
    assert engineering["metadata"]["annotations"] == {"graph.microsoft.com/group-id": "g-1"}
    joe = yaml.safe_load(files["users/joe.yaml"])
    assert joe["spec"] == {"memberOf": []}  # an unsafe picture URL is left out
    ada = yaml.safe_load(files["users/ada.yaml"])  # a small embedded photo is kept
    assert ada["spec"]["profile"]["picture"] == "data:image/png;base64,iVBORw0KGgo="
    for data in files.values():
        assert check_entity(yaml.safe_load(data)).problems == []  # Backstage would accept it
    assert org_files(small_org()) == files  # the same org, the same bytes


def test_clashing_names_keep_the_first_and_say_so() -> None:
    org = Org(source=SOURCE)
    org.add_group(OrgGroup(normalize_name("Team A")))
    org.add_group(OrgGroup(normalize_name("team a")))
    assert list(org.groups) == ["team_a"]
    assert org.notes == ["two groups are named 'team_a': the second is left out"]


def test_a_second_sync_changes_nothing_and_a_removed_group_goes(tmp_path: Path) -> None:
    folder = tmp_path / "org"
    first = sync_folder(folder, org_files(small_org()), SOURCE, max_shrink=0.5)
    assert len(first.written) == 6 and first.removed == []
    (folder / "README.md").write_text("the org repository's own file\n")
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*.yaml")}
    again = sync_folder(folder, org_files(small_org()), SOURCE, max_shrink=0.5)
    assert (again.written, again.unchanged, again.removed) == ([], 6, [])
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*.yaml")} == before

    smaller = small_org()
    del smaller.groups["payments"]
    third = sync_folder(folder, org_files(smaller), SOURCE, max_shrink=0.5)
    assert third.removed == ["groups/payments.yaml"]
    # Its parent loses a child and its member a group: exactly those files change.
    assert third.written == ["groups/engineering.yaml", "users/jane.doe_contoso.com.yaml"]
    assert (folder / "README.md").is_file()  # not the sync's: never deleted
    assert (folder / MANIFEST).is_file()


def test_the_guard_refuses_an_org_that_shrank_too_much(tmp_path: Path) -> None:
    folder = tmp_path / "org"
    sync_folder(folder, org_files(small_org()), SOURCE, max_shrink=0.5)
    broken = Org(source=SOURCE)
    broken.add_group(OrgGroup("engineering"))
    broken.add_user(OrgUser("joe"))
    refused = sync_folder(folder, org_files(broken), SOURCE, max_shrink=0.5)
    assert refused.refused and refused.written == []
    assert refused.refused.startswith("entra:contoso gave 1 groups, the last sync 3")
    assert (folder / "groups/platform.yaml").is_file()  # nothing deleted
    forced = sync_folder(folder, org_files(broken), SOURCE, max_shrink=0.5, force=True)
    assert not forced.refused and len(forced.removed) == 4


class FakeProvider:
    title = "Microsoft Entra ID"

    def __init__(self, org: Org | Exception) -> None:
        self.org = org

    def fetch(self) -> Org:
        if isinstance(self.org, Exception):
            raise self.org
        return self.org

    def secrets(self) -> tuple[str, ...]:
        return ("client-secret-123",)


def entra_settings() -> EntraSource:
    return EntraSource(type="entra", tenant_id="contoso", client_id="app")


def open_with(monkeypatch: pytest.MonkeyPatch, cache: Path, result: Org | Exception) -> Any:
    monkeypatch.setattr(org_source, "open_provider", lambda settings, env: FakeProvider(result))
    return org_source.open_org_source(entra_settings(), cache, env={})


def test_an_org_source_feeds_the_catalog_and_keeps_the_last_good_org(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(SourceError, match="no earlier org to fall back on"):
        open_with(monkeypatch, cache, OrgSourceError("refused client-secret-123"))

    repository, report = open_with(monkeypatch, cache, small_org())
    assert report.summary() == (
        "Microsoft Entra ID entra:contoso: 3 groups, 3 users: 6 files written, 0 unchanged, "
        "0 removed (3 requests)"
    )
    catalog = build_catalog([repository], CatalogSettings())
    keys = {f"{e['kind']}:{e['metadata']['name']}".lower() for e in catalog.entities}
    assert {"group:platform", "user:jane.doe_contoso.com"} <= keys
    platform = next(e for e in catalog.entities if e["metadata"]["name"] == "platform")
    relations = {(r["type"], r["targetRef"]) for r in platform["relations"]}
    assert ("childOf", "group:default/engineering") in relations
    assert ("hasMember", "user:default/jane.doe_contoso.com") in relations
    assert catalog.sources["group:default/platform"].repository == "entra:contoso"

    stale, failed = open_with(monkeypatch, cache, OrgSourceError("refused client-secret-123"))
    assert failed.error == "refused ***"  # the provider's own message, scrubbed
    assert stale.stale("groups/platform.yaml")[0] == "refused ***"
    assert len(build_catalog([stale], CatalogSettings()).entities) == 6  # the last good org


# --------------------------------------------------------------------------- backlot org sync


def test_org_sync_writes_an_org_repository_idempotently_behind_the_guard(
    tmp_path: Path,
) -> None:
    from tests.conftest import run_backlot
    from tests.github_teams_fake import FakeGitHubTeams

    token = "ghp_org-sync-token-0123456789"
    fake = FakeGitHubTeams(token)
    fake.start()
    try:
        fake.person("octocat", name="Mona Lisa Octocat")
        fake.person("hubot", name="Hubot")
        fake.team("engineering", "Engineering", members=[])
        fake.team("platform", "Platform", parent="engineering", members=["octocat", "hubot"])
        fake.team("sre", "SRE", parent="platform", members=["hubot"])
        config = tmp_path / "backlot.yaml"
        config.write_text(
            "org:\n  sources:\n    - type: github-teams\n      org: acme\n"
            f"      api_url: {fake.base}\n      token_env: ORG_TOKEN\n"
        )
        env = {"ORG_TOKEN": token}
        repo = tmp_path / "org-repo"

        first = run_backlot("org", "sync", repo, "--config", config, env=env)
        assert first.returncode == 0, first.stderr
        assert "github-teams:acme → " in first.stdout and "3 groups, 2 users" in first.stdout
        assert "written: groups/platform.yaml" in first.stdout
        platform = yaml.safe_load((repo / "groups/platform.yaml").read_text())
        assert platform["spec"]["parent"] == "engineering"
        assert platform["spec"]["children"] == ["sre"]
        assert token not in first.stdout + first.stderr

        before = {p: p.stat().st_mtime_ns for p in repo.rglob("*.yaml")}
        second = run_backlot("org", "sync", repo, "--config", config, env=env)
        assert second.returncode == 0 and "0 files written, 6 unchanged, 0 removed" in second.stdout
        assert {p: p.stat().st_mtime_ns for p in repo.rglob("*.yaml")} == before

        fake.teams.clear()  # a broken filter, a revoked permission: every team gone
        refused = run_backlot("org", "sync", repo, "--config", config, env=env)
        assert refused.returncode == 1
        assert "gave 0 groups, the last sync 3" in refused.stderr
        assert (repo / "groups/platform.yaml").is_file()
        forced = run_backlot("org", "sync", repo, "--config", config, "--force", env=env)
        assert forced.returncode == 0 and "removed: groups/platform.yaml" in forced.stdout

        # What the sync wrote is an org repository the catalog reads like any other.
        # Its catalog-info.yaml is a Location of the group and user files.
        catalog = run_backlot("catalog", repo, "-o", tmp_path / "c.json")
        assert catalog.returncode == 0, catalog.stderr
        entities = json.loads((tmp_path / "c.json").read_text())["entities"]
        names = {e["metadata"]["name"] for e in entities}
        assert names == {"org-github-teams_acme", "octocat", "hubot"}  # the teams went
    finally:
        fake.stop()
