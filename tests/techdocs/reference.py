"""Backstage's own TechDocs generator, as a reference for Backlot's docs stage.

Two pinned installs, both outside the repository and made once (under a file lock):

* npm ``@techdocs/cli`` into ``<cache>/node/<sha256 of the package.json we write>``;
* a Python venv with ``mkdocs-techdocs-core`` (from PyPI, with pip) into
  ``<cache>/techdocs-venv-<sha256 of the pins and the interpreter>``, byte-compiled at
  install time because this environment sets ``PYTHONDONTWRITEBYTECODE``.

``<cache>`` is ``$BACKLOT_CACHE_DIR`` or ``~/.cache/backlot``. ``techdocs-cli generate
--no-docker`` runs ``mkdocs`` from ``PATH``, so the venv's ``bin`` goes first on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# The pins. To refresh: `npm view @techdocs/cli version`, `pip index versions
# mkdocs-techdocs-core` (see README.md); a new pin installs into a new cache folder.
TECHDOCS_CLI_VERSION = "1.8.15"
TECHDOCS_CORE_VERSION = "1.7.1"
PYTHON_REQUIREMENTS: tuple[str, ...] = (
    f"mkdocs-techdocs-core=={TECHDOCS_CORE_VERSION}",
    # techdocs-core asks only mkdocs>=1.6: pin it so the reference cannot drift to MkDocs 2.
    "mkdocs==1.6.1",
)
PACKAGE_JSON: dict[str, object] = {
    "name": "backlot-techdocs-reference",
    "private": True,
    "description": "Backstage's TechDocs generator, the reference in tests/techdocs.",
    "license": "Apache-2.0",
    "dependencies": {"@techdocs/cli": TECHDOCS_CLI_VERSION},
}

NPM_INSTALL_TIMEOUT = 900
PIP_INSTALL_TIMEOUT = 900
GENERATE_TIMEOUT = 600
_DONE_MARKER = ".backlot-complete"
_TAIL = 4000


def cache_root() -> Path:
    """``$BACKLOT_CACHE_DIR`` or ``~/.cache/backlot``."""
    configured = os.environ.get("BACKLOT_CACHE_DIR")
    root = Path(configured).expanduser() if configured else Path.home() / ".cache" / "backlot"
    return root.resolve()


def _package_json_text() -> str:
    return json.dumps(PACKAGE_JSON, indent=2, sort_keys=True) + "\n"


def node_dir() -> Path:
    """Where ``@techdocs/cli`` is installed: ``<cache>/node/<sha256 of package.json>``."""
    digest = hashlib.sha256(_package_json_text().encode()).hexdigest()
    return cache_root() / "node" / digest


def _venv_key() -> str:
    return json.dumps(
        {
            "requirements": list(PYTHON_REQUIREMENTS),
            "python": sys.version,
            "base_prefix": os.path.realpath(sys.base_prefix),
        },
        sort_keys=True,
    )


def venv_dir() -> Path:
    """Where the mkdocs venv lives: ``<cache>/techdocs-venv-<hash>``."""
    digest = hashlib.sha256(_venv_key().encode()).hexdigest()[:16]
    return cache_root() / f"techdocs-venv-{digest}"


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _tail(proc: subprocess.CompletedProcess[str]) -> str:
    stdout, stderr = proc.stdout[-_TAIL:], proc.stderr[-_TAIL:]
    return f"--- stdout (tail) ---\n{stdout}\n--- stderr (tail) ---\n{stderr}"


def _run(cmd: list[str], what: str, timeout: int, cwd: Path | None = None) -> str:
    """Runs ``cmd``; fails the test with the output's tail unless it exits 0."""
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}): {cmd}\n{_tail(proc)}", pytrace=False)
    return str(proc.stdout)


def _cli_installed(folder: Path) -> bool:
    manifest = folder / "node_modules" / "@techdocs" / "cli" / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return False
    return version == TECHDOCS_CLI_VERSION and (folder / "node_modules" / ".bin").is_dir()


def install_techdocs_cli(npm: str | None) -> Path:
    """Installs the pinned ``@techdocs/cli`` unless present; returns its ``techdocs-cli`` bin."""
    folder = node_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / ".backlot-install.lock"):
        if not _cli_installed(folder):
            if npm is None:
                pytest.skip(f"npm is not installed and {folder} holds no @techdocs/cli")
            (folder / "package.json").write_text(_package_json_text(), encoding="utf-8")
            _run(
                [npm, "install", "--no-audit", "--no-fund", "--save-exact"],
                f"npm install of @techdocs/cli@{TECHDOCS_CLI_VERSION} in {folder}",
                NPM_INSTALL_TIMEOUT,
                cwd=folder,
            )
            if not _cli_installed(folder):
                pytest.fail(f"npm install left no @techdocs/cli {TECHDOCS_CLI_VERSION} in {folder}")
    return folder / "node_modules" / ".bin" / "techdocs-cli"


def _venv_ready(venv: Path) -> bool:
    marker = venv / _DONE_MARKER
    try:
        return (
            marker.read_text(encoding="utf-8") == _venv_key() and (venv / "bin" / "mkdocs").exists()
        )
    except OSError:
        return False


def install_mkdocs_venv() -> Path:
    """Creates the pinned mkdocs venv unless present; returns the venv folder.

    A half-made venv (no completion marker) is removed and made again.
    """
    venv = venv_dir()
    with _locked(venv.with_name(venv.name + ".lock")):
        if _venv_ready(venv):
            return venv
        if venv.exists():
            shutil.rmtree(venv)
        _run([sys.executable, "-m", "venv", str(venv)], f"creating {venv}", PIP_INSTALL_TIMEOUT)
        python = str(venv / "bin" / "python")
        _run(
            [python, "-m", "pip", "install", "--no-input", *PYTHON_REQUIREMENTS],
            f"pip install {' '.join(PYTHON_REQUIREMENTS)} into {venv}",
            PIP_INSTALL_TIMEOUT,
        )
        # PYTHONDONTWRITEBYTECODE is set here: compile now, or every mkdocs run recompiles.
        _run(
            [python, "-m", "compileall", "-q", "-j", "0", str(venv / "lib")],
            f"compileall in {venv}",
            PIP_INSTALL_TIMEOUT,
        )
        freeze = _run([python, "-m", "pip", "freeze"], "pip freeze", 120)
        (venv / "backlot-freeze.txt").write_text(freeze, encoding="utf-8")
        (venv / _DONE_MARKER).write_text(_venv_key(), encoding="utf-8")
    return venv


def _default_mkdocs_yml(source: Path, site_name: str) -> None:
    """Writes the default config techdocs-node writes when a source has none.

    This is ``generateMkdocsYml`` with ``siteOptions.name``. The CLI's own ``--site-name``
    cannot do it in 1.8.15: it is declared without a value (commander sets it to ``true``
    and leaves the name as a stray argument), and the CLI writes the default config
    itself before the generator sees the name, so the site is always "Documentation Site".
    """
    if (source / "mkdocs.yml").exists() or (source / "mkdocs.yaml").exists():
        return
    config = {"site_name": site_name, "docs_dir": "docs", "plugins": ["techdocs-core"]}
    (source / "mkdocs.yml").write_text(json.dumps(config) + "\n", encoding="utf-8")


@dataclass
class GenerateRun:
    """One ``techdocs-cli generate`` run: its command line and output."""

    cmd: list[str]
    stdout: str
    stderr: str
    seconds: float


@dataclass
class TechdocsReference:
    """``generate(source_dir, output_dir, site_name=None, etag=None) -> output_dir``."""

    techdocs_cli: Path
    venv: Path
    install_seconds: float
    runs: list[GenerateRun] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The environment techdocs-cli runs in: the venv's ``bin`` first on ``PATH``."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        env["PATH"] = os.pathsep.join([str(self.venv / "bin"), env.get("PATH", os.defpath)])
        env["VIRTUAL_ENV"] = str(self.venv)
        return env

    def versions(self) -> dict[str, str]:
        """The pinned and resolved versions, for reports."""
        freeze = (self.venv / "backlot-freeze.txt").read_text(encoding="utf-8").splitlines()
        pins = dict(line.split("==", 1) for line in freeze if "==" in line)
        return {
            "@techdocs/cli": TECHDOCS_CLI_VERSION,
            **{name: pins[name] for name in sorted(pins)},
        }

    def __call__(
        self,
        source_dir: Path,
        output_dir: Path,
        site_name: str | None = None,
        etag: str | None = None,
    ) -> Path:
        """Builds ``source_dir``'s TechDocs into ``output_dir`` the way Backstage does.

        ``generate`` rewrites mkdocs.yml in place, so it runs on a copy of ``source_dir``.
        ``site_name`` names the site only when the source has no mkdocs.yml, as in Backstage.
        """
        output_dir = Path(output_dir).resolve()
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="backlot-techdocs-src-") as scratch:
            copy = Path(scratch) / Path(source_dir).name
            shutil.copytree(source_dir, copy, symlinks=True)
            cmd = [
                str(self.techdocs_cli),
                "generate",
                "--no-docker",
                "--source-dir",
                str(copy),
                "--output-dir",
                str(output_dir),
                "--verbose",  # passes mkdocs' own log through, for the run record and failures
            ]
            if site_name is not None:
                _default_mkdocs_yml(copy, site_name)
            if etag is not None:
                cmd += ["--etag", etag]
            started = time.monotonic()
            proc = subprocess.run(
                cmd,
                cwd=copy,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=GENERATE_TIMEOUT,
                check=False,
            )
            self.runs.append(GenerateRun(cmd, proc.stdout, proc.stderr, time.monotonic() - started))
        if proc.returncode != 0:
            pytest.fail(
                f"techdocs-cli generate exited {proc.returncode}: {cmd}\n{_tail(proc)}",
                pytrace=False,
            )
        return output_dir


def install_techdocs_reference() -> TechdocsReference:
    """Installs (once) and returns Backstage's generator; skips when node is absent."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the TechDocs reference is npm's @techdocs/cli")
    started = time.monotonic()
    cli = install_techdocs_cli(shutil.which("npm"))
    venv = install_mkdocs_venv()
    return TechdocsReference(cli, venv, time.monotonic() - started)
