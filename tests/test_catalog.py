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
    location = f"file:{(org / 'svc' / 'catalog-info.yaml').resolve()}"
    assert annotations["backstage.io/managed-by-location"] == location
    assert annotations["backstage.io/managed-by-origin-location"] == location
    assert catalog["sources"]["component:default/svc"] == {
        "repository": "svc",
        "path": "catalog-info.yaml",
        "line": 1,
        "document": 0,
        "url": None,
        "commit": None,
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
    assert (
        str(installed)
        in entity(catalog, "group:default/acme")["metadata"]["annotations"][
            "backstage.io/managed-by-location"
        ]
    )
