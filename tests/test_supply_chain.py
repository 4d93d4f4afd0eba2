"""Only Backlot's own code is installed: the distribution has a name of its own, and nothing
this repository tells people (or CI) to run installs Backlot by a bare name from an index.

"backlot" on the public package index is an unrelated project: `pip install backlot` in a
repository's docs job would run its code with the bucket role's credentials.
"""

from __future__ import annotations

import re
import tomllib

from .conftest import REPO_ROOT

INSTALL = re.compile(r"\bpipx?\s+install\b(?P<rest>[^\n;&|]*)")
# A requirement that names exactly one build of Backlot: a git URL at a full commit, a
# wheel by its hash, the lock file, or this very checkout.
PINNED = re.compile(
    r"""["']?backlot-portal\s*@\s*git\+https://\S+@[0-9a-f]{40}["']?"""
    r"""|["']?backlot-portal\s*@\s*https://\S+\.whl#sha256=\S+["']?"""
)


def test_the_distribution_is_not_named_like_someone_elses() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "backlot-portal"
    assert project["scripts"] == {"backlot": "generator.cli:main"}


def _instructions() -> list[tuple[str, str]]:
    files = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
    files += sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
    files += sorted((REPO_ROOT / ".ci").glob("*"))
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8").replace(">-\n", " ").replace("\\\n", " ")
        for match in INSTALL.finditer(text):
            found.append((path.relative_to(REPO_ROOT).as_posix(), match.group("rest").strip()))
    return found


def test_every_install_of_backlot_is_pinned() -> None:
    installs = _instructions()
    assert installs, "no install instruction found: is the scan looking in the right files?"
    bare = []
    for where, rest in installs:
        names_backlot = re.search(r"(?<![\w/.-])backlot(?:-portal)?(?![\w-])", rest) is not None
        if names_backlot and PINNED.search(rest) is None:
            bare.append(f"{where}: pip install {rest}")
    assert bare == []


def test_the_scan_finds_a_bare_install() -> None:
    for text in (
        "pipx install backlot",
        "pip install -U backlot==0.1",
        "pip install backlot-portal",
    ):
        rest = INSTALL.search(text)
        assert rest is not None and PINNED.search(rest.group("rest")) is None
    assert PINNED.search(
        '"backlot-portal @ git+https://github.com/acme/portal@0123456789abcdef0123456789abcdef01234567"'
    )


def test_the_techdocs_workflow_installs_its_own_commit_by_default() -> None:
    text = (REPO_ROOT / ".github/workflows/techdocs.yml").read_text()
    assert "job_workflow_sha" in text and "requirements.lock" in text
    assert re.search(r"backlot:\n(?:\s+\S.*\n)*?\s+default: \"\"", text)
