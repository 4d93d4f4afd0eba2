"""Shared helpers: write repositories to disk and run the real ``backlot`` command."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_backlot(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Run:
    """Run the CLI as a user would, in a fresh process. A run in the checkout without a
    cache of its own uses the checkout's ``.backlot``, which the command locks: such runs
    wait for each other, as one person's commands would, rather than fail as busy when
    the suite runs on several workers."""
    shared = cwd is None and "--cache-dir" not in map(str, args)
    with contextlib.ExitStack() as stack:
        if shared:
            handle = stack.enter_context((REPO_ROOT / ".backlot-tests.lock").open("a"))
            fcntl.flock(handle, fcntl.LOCK_EX)
        done = subprocess.run(
            [sys.executable, "-m", "generator", *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=300,
            env={**os.environ, **(env or {})},
        )
    return Run(done.returncode, done.stdout, done.stderr)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path → text, dedented, or raw bytes) below ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def org(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """A folder of repositories built from a dict of files."""

    def make(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path / "org", files)

    return make


def component(name: str, owner: str = "team-a", **spec: Any) -> str:
    lines = [
        "apiVersion: backstage.io/v1alpha1",
        "kind: Component",
        "metadata:",
        f"  name: {name}",
        "spec:",
        "  type: service",
        "  lifecycle: production",
        f"  owner: {owner}",
    ]
    lines += [f"  {key}: {json.dumps(value)}" for key, value in spec.items()]
    return "\n".join(lines) + "\n"


GROUP_A = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
"""


@dataclass
class S3Server:
    endpoint: str
    env: dict[str, str]

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="session")
def s3_server() -> Any:
    """moto's S3 server over real HTTP on 127.0.0.1 (not an in-process mock)."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.2)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    yield S3Server(endpoint, env)
    server.terminate()
    server.wait(timeout=10)
