"""The catalog stage as a platform engineer uses it: `backlot catalog` on repositories."""

from __future__ import annotations

import json
import os
from pathlib import Path

from generator.model import CatalogFile

from .conftest import GROUP_A, component, run_backlot, write_tree


def build(org: Path, tmp_path: Path) -> dict:
    out = tmp_path / "catalog.json"
    result = run_backlot("catalog", org, "-o", out)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def entity(catalog: dict, ref: str) -> dict:
    for item in catalog["entities"]:
        meta = item["metadata"]
        if f"{item['kind']}:{meta['namespace']}/{meta['name']}".lower() == ref:
            return item
    raise AssertionError(f"{ref} not in catalog")


def relations(catalog: dict, ref: str) -> list[tuple[str, str]]:
    return [(r["type"], r["targetRef"]) for r in entity(catalog, ref)["relations"]]


def test_relations_are_emitted_in_both_directions_once(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "org/catalog-info.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: Group
                metadata: {name: eng}
                spec: {type: department, children: [team-a]}
                ---
                apiVersion: backstage.io/v1alpha1
                kind: Group
                metadata: {name: team-a}
                spec: {type: team, parent: eng, children: [], members: [jane]}
                ---
                apiVersion: backstage.io/v1alpha1
                kind: User
                metadata: {name: jane}
                spec: {memberOf: [team-a]}
            """,
            "svc/catalog-info.yaml": component(
                "svc", owner="Team-A", providesApis=["svc-api"], dependsOn=["resource:db"]
            )
            + """---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: svc-api}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: db}
spec: {type: database, owner: group:default/team-a}
""",
        },
    )
    catalog = build(org, tmp_path)
    assert relations(catalog, "group:default/team-a") == [
        ("childOf", "group:default/eng"),
        ("hasMember", "user:default/jane"),
        ("ownerOf", "api:default/svc-api"),
        ("ownerOf", "component:default/svc"),
        ("ownerOf", "resource:default/db"),
    ]
    assert relations(catalog, "group:default/eng") == [("parentOf", "group:default/team-a")]
    assert relations(catalog, "user:default/jane") == [("memberOf", "group:default/team-a")]
    assert relations(catalog, "component:default/svc") == [
        ("dependsOn", "resource:default/db"),
        ("ownedBy", "group:default/team-a"),
        ("providesApi", "api:default/svc-api"),
    ]
    assert ("dependencyOf", "component:default/svc") in relations(catalog, "resource:default/db")
    assert ("apiProvidedBy", "component:default/svc") in relations(catalog, "api:default/svc-api")
    summary = catalog["summary"]
    assert summary["entities"] == 6 and summary["errors"] == 0 and summary["warnings"] == 0
    assert summary["byKind"] == {"API": 1, "Component": 1, "Group": 2, "Resource": 1, "User": 1}


def test_missing_namespace_means_the_referrers_namespace(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "a/catalog-info.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: Component
                metadata: {name: svc, namespace: payments}
                spec: {type: service, lifecycle: production, owner: team-a}
            """,
            "b/catalog-info.yaml": GROUP_A,
        },
    )
    catalog = build(org, tmp_path)
    assert relations(catalog, "component:payments/svc") == [("ownedBy", "group:payments/team-a")]
    [orphan] = [f for f in catalog["findings"] if f["rule"] == "catalog/orphan"]
    assert orphan["file"] == "a/catalog-info.yaml" and orphan["line"] == 4
    assert orphan["severity"] == "warning"
    assert catalog["summary"]["orphans"] == 1


def test_entities_carry_their_location_like_backstage(tmp_path: Path) -> None:
    org = write_tree(tmp_path / "org", {"svc/catalog-info.yaml": component("svc") + GROUP_A})
    org = write_tree(tmp_path / "org2", {"svc/catalog-info.yaml": component("svc")})
    catalog = build(org, tmp_path)
    annotations = entity(catalog, "component:default/svc")["metadata"]["annotations"]
    # The file as the portal names it: a folder of the build machine is never published.
    assert annotations["backstage.io/managed-by-location"] == "file:svc/catalog-info.yaml"
    assert annotations["backstage.io/managed-by-origin-location"] == "file:svc/catalog-info.yaml"
    assert catalog["sources"]["component:default/svc"] == {
        "repository": "svc",
        "path": "catalog-info.yaml",
        "line": 1,
        "document": 0,
        "url": None,
        "commit": None,
        "changed": None,  # not a git checkout: when it changed is not known
    }
    assert entity(catalog, "component:default/svc")["metadata"]["namespace"] == "default"


def test_repository_url_gives_source_view_and_edit_links(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "backlot.yaml": """
                catalog:
                  sources:
                    - path: repos
                      url_template: https://github.com/acme/{name}
            """,
            "repos/svc/catalog-info.yaml": component("svc"),
        },
    )
    result = run_backlot("catalog", "--config", org / "backlot.yaml", "-o", tmp_path / "c.json")
    assert result.returncode == 0, result.stderr
    annotations = json.loads((tmp_path / "c.json").read_text())["entities"][0]["metadata"][
        "annotations"
    ]
    assert (
        annotations["backstage.io/source-location"] == "url:https://github.com/acme/svc/tree/HEAD/"
    )
    assert annotations["backstage.io/view-url"] == (
        "https://github.com/acme/svc/blob/HEAD/catalog-info.yaml"
    )
    assert annotations["backstage.io/managed-by-location"] == (
        "url:https://github.com/acme/svc/blob/HEAD/catalog-info.yaml"
    )


def test_same_entity_in_two_repositories_first_wins(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "a-repo/catalog-info.yaml": component("svc"),
            "b-repo/catalog-info.yaml": component("SVC").replace("production", "experimental"),
            "team/catalog-info.yaml": GROUP_A,
        },
    )
    catalog = build(org, tmp_path)
    assert entity(catalog, "component:default/svc")["spec"]["lifecycle"] == "production"
    [conflict] = [f for f in catalog["findings"] if f["rule"] == "catalog/conflict"]
    assert conflict["file"] == "b-repo/catalog-info.yaml" and conflict["line"] == 4
    assert "a-repo/catalog-info.yaml:1" in conflict["message"]
    assert conflict["severity"] == "error"


def test_an_entity_stays_with_the_repository_that_held_it(tmp_path: Path) -> None:
    """First definition wins, but not against last build's owner: a new repository whose
    name sorts first cannot take another team's entity (and with it the entity's docs).
    Backstage likewise keeps an entity with the location that registered it first."""
    org = write_tree(
        tmp_path / "org",
        {"payments/catalog-info.yaml": component("payments"), "team/catalog-info.yaml": GROUP_A},
    )
    build(org, tmp_path)
    write_tree(
        org,
        {
            "0-impostor/catalog-info.yaml": component("payments").replace(
                "production", "experimental"
            )
        },
    )
    catalog = build(org, tmp_path)
    assert entity(catalog, "component:default/payments")["spec"]["lifecycle"] == "production"
    assert catalog["sources"]["component:default/payments"]["repository"] == "payments"
    [conflict] = [f for f in catalog["findings"] if f["rule"] == "catalog/conflict"]
    assert conflict["file"] == "0-impostor/catalog-info.yaml"
    assert "belongs to payments" in conflict["message"]


def test_locations_are_followed_with_globs_and_stay_in_their_repository(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "secret", {"catalog-info.yaml": component("stolen")})
    org = write_tree(
        tmp_path / "org",
        {
            "org/catalog-info.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: Location
                metadata: {name: org}
                spec:
                  targets: [./teams.yaml, ./people/*.yaml, ../../secret/catalog-info.yaml,
                            ./missing.yaml, ./link.yaml]
            """,
            "org/teams.yaml": GROUP_A,
            "org/people/jane.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: User
                metadata: {name: jane}
                spec: {memberOf: [team-a]}
            """,
            "org/people/joe.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: User
                metadata: {name: joe}
                spec: {memberOf: [team-a]}
            """,
        },
    )
    os.symlink(outside / "catalog-info.yaml", org / "org" / "link.yaml")
    catalog = build(org, tmp_path)
    refs = sorted(catalog["sources"])
    assert refs == [
        "group:default/team-a",
        "location:default/org",
        "user:default/jane",
        "user:default/joe",
    ]
    annotations = entity(catalog, "user:default/joe")["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-origin-location"].endswith("org/catalog-info.yaml")
    assert annotations["backstage.io/managed-by-location"].endswith("org/people/joe.yaml")
    rules = sorted(f["rule"] for f in catalog["findings"])
    assert rules == [
        "location/outside-repository",
        "location/outside-repository",
        "location/target-missing",
    ]


def test_placeholders_are_substituted_and_contained(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            "api/catalog-info.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: API
                metadata:
                  name: orders-api
                  labels: {$json: ./labels.json}
                spec:
                  type: openapi
                  lifecycle: production
                  owner: team-a
                  definition: {$text: ./specs/openapi.yaml}
                ---
                apiVersion: backstage.io/v1alpha1
                kind: API
                metadata: {name: sneaky-api}
                spec:
                  type: openapi
                  lifecycle: production
                  owner: team-a
                  definition: {$text: ../../../../etc/passwd}
                ---
                apiVersion: backstage.io/v1alpha1
                kind: API
                metadata: {name: yaml-api, annotations: {$yaml: ./annotations.yaml}}
                spec: {type: grpc, lifecycle: production, owner: team-a, definition: x}
            """,
            "api/specs/openapi.yaml": "openapi: 3.0.0\ninfo: {title: Orders}\n",
            "api/labels.json": '{"tier": "gold"}',
            "api/annotations.yaml": "acme.com/on: yes\n",
        },
    )
    catalog = build(org, tmp_path)
    orders = entity(catalog, "api:default/orders-api")
    assert orders["spec"]["definition"] == "openapi: 3.0.0\ninfo: {title: Orders}\n"
    assert orders["metadata"]["labels"] == {"tier": "gold"}
    assert (
        entity(catalog, "api:default/yaml-api")["metadata"]["annotations"]["acme.com/on"] == "yes"
    )
    [refused] = [f for f in catalog["findings"] if f["severity"] == "error"]
    assert refused["rule"] == "placeholder/read"
    assert "outside the repository" in refused["message"]
    assert refused["line"] == 19
    assert "api:default/sneaky-api" not in catalog["sources"]


def test_yaml_follows_backstage_not_pyyaml(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            # YAML 1.1 would make these booleans and reject them as names.
            "yes/catalog-info.yaml": component("yes") + "---\n" + component("off"),
            # No merge keys in YAML 1.2: the spec gets a literal '<<' key and lacks fields.
            "merge/catalog-info.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: Component
                metadata: {name: merged}
                spec:
                  <<: {type: service, lifecycle: production, owner: team-a}
            """,
        },
    )
    catalog = build(org, tmp_path)
    assert {"component:default/yes", "component:default/off"} <= set(catalog["sources"])
    assert "component:default/merged" not in catalog["sources"]
    messages = [f["message"] for f in catalog["findings"] if f["file"] == "merge/catalog-info.yaml"]
    assert "spec.type is missing; a Component needs it (e.g. service, website, library)" in messages


def test_disappeared_entities_are_reported_on_the_next_build(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, "svc/catalog-info.yaml": component("svc")},
    )
    build(org, tmp_path)
    (org / "svc" / "catalog-info.yaml").unlink()
    catalog = build(org, tmp_path)
    [gone] = [f for f in catalog["findings"] if f["rule"] == "catalog/disappeared"]
    assert gone["entityRef"] == "component:default/svc"
    assert gone["file"] == "svc/catalog-info.yaml"
    assert catalog["summary"]["disappeared"] == 1


def test_catalog_json_is_a_versioned_contract(tmp_path: Path) -> None:
    from .conftest import EXAMPLES

    out = tmp_path / "catalog.json"
    assert run_backlot("catalog", EXAMPLES, "-o", out).returncode == 0
    raw = json.loads(out.read_text())
    assert raw["schemaVersion"] == 1
    parsed = CatalogFile.read(out)
    assert parsed.summary.entities == len(parsed.entities) == len(parsed.sources)
    # Stable output: the same input gives the same bytes (incremental publishing relies on it).
    first = out.read_bytes()
    assert run_backlot("catalog", EXAMPLES, "-o", out).returncode == 0
    assert out.read_bytes() == first


def test_an_installed_backlot_carries_the_example_organisation(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    from .conftest import REPO_ROOT

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            tmp_path / "dist",
            REPO_ROOT,
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("backlot_portal-*.whl")
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    empty = tmp_path / "anywhere"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "generator", "catalog", "-o", "catalog.json"],
        cwd=empty,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    catalog = json.loads((empty / "catalog.json").read_text())
    assert catalog["summary"]["entities"] >= 60
    acme = entity(catalog, "group:default/acme")
    assert acme["metadata"]["annotations"]["backstage.io/managed-by-location"] == (
        "file:org/groups.yaml"
    )
    # Installed from a wheel, the examples are in no git checkout: no date is made up.
    assert {s["changed"] for s in catalog["sources"].values()} == {None}
    assert str(installed).encode() not in (empty / "catalog.json").read_bytes()


# ---------------------------------------------------------------- when files last changed

LOCATION_OF_MORE = """apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: more}
spec: {targets: [./more/a.yaml, ./more/b.yaml, ./more/c.yaml, ./more/d.yaml]}
"""


def changed(catalog: dict) -> dict[str, str | None]:
    return {ref.split("/")[-1]: source["changed"] for ref, source in catalog["sources"].items()}


def test_changed_is_the_last_commit_that_touched_each_file(tmp_path: Path) -> None:
    from .git_http import commit_at

    org = tmp_path / "org"
    svc = org / "svc"
    commit_at(
        svc,
        {
            "catalog-info.yaml": component("svc") + "---\n" + LOCATION_OF_MORE,
            "more/a.yaml": component("a"),
            "more/b.yaml": component("b"),
            "more/d.yaml": component("d"),
            "README.md": "# svc\n",
        },
        "2026-03-01T10:00:00+02:00",
    )
    commit_at(svc, {"more/b.yaml": component("b", system="x")}, "2026-05-02T09:30:00-04:00")
    commit_at(svc, {"README.md": "# svc, later\n"}, "2026-06-01T00:00:00Z")
    write_tree(svc, {"more/c.yaml": component("c"), "more/d.yaml": component("d", system="y")})
    write_tree(org, {"plain/catalog-info.yaml": component("plain"), "team/x.yaml": GROUP_A})
    catalog = build(org, tmp_path)
    assert changed(catalog) == {
        "svc": "2026-03-01T08:00:00Z",  # the README's later commits did not touch it
        "more": "2026-03-01T08:00:00Z",
        "a": "2026-03-01T08:00:00Z",
        "b": "2026-05-02T13:30:00Z",  # the committer date, in UTC
        "c": None,  # not committed yet
        "d": None,  # edited since its commit: when is not known, and its mtime is no answer
        "plain": None,  # not in a git checkout
    }
    # The same on every build: no cache decides it.
    assert changed(build(org, tmp_path)) == changed(catalog)


def test_a_shallow_checkout_gives_no_date_it_cannot_know(tmp_path: Path) -> None:
    """actions/checkout fetches one commit by default, and git shows that commit adding
    every file: its date would become every entity's. No date is better than that one."""
    import shutil
    import subprocess

    from .git_http import commit_at

    source = tmp_path / "source"
    location = LOCATION_OF_MORE.replace("name: more", "name: loc")
    commit_at(
        source, {"catalog-info.yaml": component("svc") + "---\n" + location}, "2026-03-01T10:00Z"
    )
    commit_at(source, {"more/a.yaml": component("a")}, "2026-04-01T10:00:00Z")
    commit_at(source, {"README.md": "later\n"}, "2026-05-01T10:00:00Z")
    org = tmp_path / "org"
    expected = {
        1: {"svc": None, "loc": None, "a": None},
        2: {"svc": None, "loc": None, "a": None},  # at or before 1 April: not a date
        3: {
            "svc": "2026-03-01T10:00:00Z",
            "loc": "2026-03-01T10:00:00Z",
            "a": "2026-04-01T10:00:00Z",
        },
    }
    for depth, dates in expected.items():
        shutil.rmtree(org, ignore_errors=True)
        subprocess.run(
            ["git", "clone", "-q", f"--depth={depth}", f"file://{source}", str(org / "svc")],
            check=True,
        )
        assert changed(build(org, tmp_path)) == dates, depth


def test_a_folder_of_repositories_in_one_checkout_is_walked_once(tmp_path: Path) -> None:
    """A monorepo (or Backlot's own checkout and its examples): one git log for the whole
    folder, stopped once every descriptor is seen, however many repositories it holds."""
    import shutil

    from .git_http import commit_at

    top = tmp_path / "mono"
    commit_at(top, {"src/app.py": "print(1)\n"}, "2026-01-01T00:00:00Z")
    for i in range(30):
        commit_at(
            top,
            {f"catalog/svc-{i}/catalog-info.yaml": component(f"svc-{i}")},
            f"2026-02-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
        )
    commit_at(
        top,
        {"catalog/svc-3/catalog-info.yaml": component("svc-3", system="s")},
        "2026-09-09T09:09:09Z",
    )
    commit_at(top, {"src/app.py": "print(2)\n"}, "2026-10-01T00:00:00Z")
    # Count the git commands a build runs: a git on PATH that notes its arguments.
    shim = tmp_path / "bin"
    shim.mkdir()
    calls = tmp_path / "git-calls.txt"
    (shim / "git").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {calls}\nexec {shutil.which("git")} "$@"\n'
    )
    (shim / "git").chmod(0o755)
    out = tmp_path / "catalog.json"
    done = run_backlot(
        "catalog", top / "catalog", "-o", out, env={"PATH": f"{shim}:{os.environ['PATH']}"}
    )
    assert done.returncode == 0, done.stderr
    found = changed(json.loads(out.read_text()))
    assert found["svc-3"] == "2026-09-09T09:09:09Z"
    assert found["svc-29"] == "2026-02-02T05:00:00Z"
    assert all(
        found[f"svc-{i}"] == f"2026-02-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
        for i in range(30)
        if i != 3
    )
    logs = [line for line in calls.read_text().splitlines() if " log " in f" {line} "]
    assert len(logs) == 1, logs


def test_files_that_did_not_change_are_not_read_again(tmp_path: Path) -> None:
    """The second build takes unchanged files from the cache's memo and gives the same
    catalog byte for byte; a file that changed, a file with problems and a file with
    placeholders are read again, and a memo that cannot be read is no memo."""
    org = write_tree(
        tmp_path / "org",
        {
            "payments/catalog-info.yaml": component("payments")
            + "---\n"
            + component("payments-worker", dependsOn=["component:ghost"]),
            "notes/catalog-info.yaml": component("notes").replace(
                "  name: notes\n", "  name: notes\n  description:\n    $text: ./about.txt\n"
            ),
            "notes/about.txt": "About the notes service.\n",
            "broken/catalog-info.yaml": component("broken").replace("production", "[3]"),
            "team/catalog-info.yaml": GROUP_A,
        },
    )
    cache = tmp_path / "cache"

    def catalog_run(cache: Path = cache) -> tuple[bytes, str]:
        out = tmp_path / "catalog.json"
        result = run_backlot("catalog", org, "-o", out, "--cache-dir", cache)
        assert result.returncode == 0, result.stderr
        return out.read_bytes(), result.stdout

    first, said = catalog_run()
    assert "unchanged since the last build" not in said
    again, said = catalog_run()
    assert again == first
    # payments and team, not notes (a placeholder) nor broken (rejected)
    assert "from 4 files (2 unchanged since the last build)" in said
    catalog = json.loads(again)
    assert entity(catalog, "component:default/notes")["metadata"]["description"] == (
        "About the notes service.\n"
    )
    assert {f["rule"] for f in catalog["findings"]} == {"spec/wrong-type", "catalog/unresolved-ref"}

    write_tree(
        org, {"payments/catalog-info.yaml": component("payments").replace("production", "retired")}
    )
    write_tree(org, {"notes/about.txt": "Rewritten.\n"})
    changed, said = catalog_run()
    catalog = json.loads(changed)
    assert entity(catalog, "component:default/payments")["spec"]["lifecycle"] == "retired"
    assert "component:default/payments-worker" not in catalog["sources"]
    assert entity(catalog, "component:default/notes")["metadata"]["description"] == "Rewritten.\n"
    assert "(1 unchanged since the last build)" in said

    (cache / "descriptors.jsonl").write_text('{"memo": 1}\n[not json\n')
    rebuilt, said = catalog_run()
    assert "unchanged since the last build" not in said
    assert rebuilt == catalog_run(tmp_path / "fresh")[0]
