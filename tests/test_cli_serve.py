"""`backlot serve`: a port in use or an address not of this machine is explained, with exit
code 2 and no traceback; --host chooses the interface."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .conftest import run_backlot


@pytest.fixture
def portal(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>Portal</title>")
    (folder / "pictures").mkdir()
    (folder / "pictures/0123abcd.image").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    return folder


def test_a_busy_port_is_explained(portal: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_backlot("serve", portal, "--port", str(port))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        f"port {port} is in use on 127.0.0.1: pick another with --port, or --port 0 for a free one"
    ) in result.stderr


def test_an_address_of_another_machine_is_explained(portal: Path) -> None:
    result = run_backlot("serve", portal, "--host", "192.0.2.1", "--port", "0")  # TEST-NET-1
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--host 192.0.2.1: not an address of this machine" in result.stderr


def test_host_and_a_free_port(portal: Path) -> None:
    command = ["serve", str(portal), "--host", "127.0.0.1", "--port", "0"]
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith(f"Serving {portal} at http://127.0.0.1:")
        url = first.split(" at ", 1)[1].split(" ", 1)[0]
        with urllib.request.urlopen(url, timeout=10) as response:
            assert b"<title>Portal</title>" in response.read()
            assert "frame-ancestors" in response.headers["Content-Security-Policy"]
        # A picture is named by its URL: its bytes say its type, as publish says it.
        with urllib.request.urlopen(url + "pictures/0123abcd.image", timeout=10) as response:
            assert response.headers["Content-Type"] == "image/png"
    finally:
        server.terminate()
        server.wait(timeout=10)
