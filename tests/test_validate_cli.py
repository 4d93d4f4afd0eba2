"""`backlot validate` and `backlot schema` as a pull-request check and an editor use them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from generator.catalog._yaml import load_yaml_stream

from .conftest import EXAMPLES, GROUP_A, component, run_backlot, write_tree


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "svc",
        {
            "catalog-info.yaml": component("svc", owner="team-a", system="payments")
            + "---\n"
            + component("Bad_Name-", owner="team-a").replace("  lifecycle: production\n", ""),
        },
    )


def test_text_output_names_file_line_column_and_rule(repo: Path) -> None:
    result = run_backlot("validate", "catalog-info.yaml", cwd=repo)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        "catalog-info.yaml:14:3: metadata/name: metadata.name 'Bad_Name-' is not valid: use "
        "sequences of [A-Za-z0-9] joined by any of '-', '_' or '.', at most 63 characters"
    ) in lines
    assert any(
        line.startswith("catalog-info.yaml:15:1: spec/missing-field: spec.lifecycle")
        for line in lines
    )
    assert any("catalog/unresolved-ref: warning: spec.system" in line for line in lines)
    assert "2 documents in 1 file: 1 accepted, 1 rejected" in result.stderr


def test_warnings_alone_pass_unless_strict(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "svc", {"catalog-info.yaml": component("svc", owner="team-x")})
    assert run_backlot("validate", repo).returncode == 0
    strict = run_backlot("validate", "--strict", repo)
    assert strict.returncode == 1
    assert "catalog/orphan" in strict.stdout


def test_github_format_annotates_the_pull_request(repo: Path) -> None:
    result = run_backlot("validate", "--format", "github", ".", cwd=repo)
    assert result.returncode == 1
    assert (
        "::error file=catalog-info.yaml,line=14,col=3,title=metadata/name::metadata.name "
        "'Bad_Name-' is not valid"
    ) in result.stdout
    assert "::warning file=catalog-info.yaml,line=" in result.stdout


def test_json_format_for_machines(repo: Path) -> None:
    result = run_backlot("validate", "--format", "json", repo)
    report = result.json()
    assert result.returncode == 1
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert {f["document"] for f in errors} == {1}
    assert {f["entityRef"] for f in errors} == {"component:default/bad_name-"}
    assert report["summary"]["rejected"] == 1


def test_catalog_option_resolves_references_across_the_organisation(
    repo: Path, tmp_path: Path
) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            "arch/catalog-info.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: System
                metadata: {name: payments}
                spec: {owner: team-a}
            """,
        },
    )
    assert run_backlot("catalog", org, "-o", tmp_path / "org.json").returncode == 0
    good = write_tree(tmp_path / "pr", {"catalog-info.yaml": component("svc", system="payments")})
    alone = run_backlot("validate", "--strict", good)
    assert alone.returncode == 1 and "catalog/orphan" in alone.stdout
    together = run_backlot("validate", "--strict", "--catalog", tmp_path / "org.json", good)
    assert together.returncode == 0, together.stdout
    assert together.stdout == ""
    # A repository may not claim an entity another repository already defines.
    thief = write_tree(tmp_path / "thief", {"catalog-info.yaml": GROUP_A})
    stolen = run_backlot("validate", "--catalog", tmp_path / "org.json", thief)
    assert stolen.returncode == 1
    assert "catalog/conflict" in stolen.stdout and "team/catalog-info.yaml" in stolen.stdout


def test_examples_validate_with_only_their_deliberate_mistakes() -> None:
    result = run_backlot("validate", "--format", "json", EXAMPLES)
    report = result.json()
    rules = sorted((f["file"].split("examples/")[-1], f["rule"]) for f in report["findings"])
    assert rules == [
        ("broken-widget/catalog-info.yaml", "spec/missing-field"),
        ("newsletter-mailer/catalog-info.yaml", "catalog/orphan"),
        ("recommendations-engine/catalog-info.yaml", "catalog/unresolved-ref"),
        ("warehouse-sync/catalog-info.yaml", "catalog/unresolved-ref"),
    ]
    assert result.returncode == 1


def test_schema_accepts_every_example_and_flags_a_missing_field(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert run_backlot("schema", "-o", out).returncode == 0
    schema = json.loads(out.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    checked = 0
    for path in sorted(EXAMPLES.glob("*/catalog-info.yaml")):
        if path.parent.name == "broken-widget":
            continue
        for doc in load_yaml_stream(path.read_text()):
            errors = list(validator.iter_errors(doc.value))
            assert not errors, (path, [e.message for e in errors])
            checked += 1
    assert checked >= 20
    bad = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "x"},
        "spec": {"type": "service", "owner": "team-a"},
    }
    messages = [e.message for e in validator.iter_errors(bad)]
    assert "'lifecycle' is a required property" in messages
