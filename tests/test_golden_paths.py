"""The golden paths in scaffolder-templates/: each one, filled in as an engineer would, renders
in dry run into a repository whose descriptor passes ``backlot validate``, whose docs build
with Backlot's TechDocs builder, and whose CI workflow kept GitHub's own expressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.scaffold import BUILTIN_ACTIONS, Services, load_template, run_template

from .conftest import REPO_ROOT, run_backlot

TEMPLATES = REPO_ROOT / "scaffolder-templates"
NAMES = sorted(p.parent.name for p in TEMPLATES.glob("*/template.yaml"))
VALUES = {
    "name": "orders",
    "description": "Takes orders",
    "owner": "group:default/team-a",
    "system": "system:default/shop",
    "repoUrl": "github.com?owner=acme&repo=orders",
}


def test_there_are_three_golden_paths() -> None:
    assert {"python-service", "python-library", "docs-site"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_a_golden_path_renders_a_repository_that_validates_and_builds(
    name: str, tmp_path: Path
) -> None:
    template = load_template(TEMPLATES / name / "template.yaml")
    workspace = tmp_path / "ws"
    values = {k: v for k, v in VALUES.items() if k in template.properties()}
    result = run_template(
        template,
        values,
        BUILTIN_ACTIONS,
        workspace=workspace,
        dry_run=True,
        services=Services(github=None),
    )
    statuses = {step.action: step.status for step in result.steps}
    assert statuses.get("publish:github") == "planned"
    assert any(
        "would create private repository https://github.com/acme/orders" in line
        for line in result.log
    )

    descriptor = (workspace / "catalog-info.yaml").read_text()
    assert "name: orders" in descriptor.replace('"', "")
    assert "group:default/team-a" in descriptor and "system:default/shop" in descriptor
    assert "backstage.io/techdocs-ref: dir:." in descriptor
    assert "github.com/project-slug: acme/orders" in descriptor
    checked = run_backlot("validate", str(workspace / "catalog-info.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    ci = (workspace / ".github" / "workflows" / "ci.yml").read_text()
    assert "${{" in ci  # excluded from templating: GitHub's expressions survive

    built = run_backlot("docs", "build", str(workspace), "--out", str(tmp_path / "docs"))
    assert built.returncode == 0, built.stdout + built.stderr
    assert list((tmp_path / "docs").glob("*/*/orders/index.html"))


def test_a_golden_path_without_a_system_leaves_it_out(tmp_path: Path) -> None:
    template = load_template(TEMPLATES / "python-service" / "template.yaml")
    values = {k: v for k, v in VALUES.items() if k != "system"}
    run_template(
        template,
        values,
        BUILTIN_ACTIONS,
        workspace=tmp_path,
        dry_run=True,
        services=Services(github=None),
    )
    descriptor = (tmp_path / "catalog-info.yaml").read_text()
    assert "system:" not in descriptor
    assert run_backlot("validate", str(tmp_path / "catalog-info.yaml")).returncode == 0
