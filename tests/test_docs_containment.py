"""One repository's docs cannot stop the others: every way a docs tree or a mkdocs.yml can go
wrong becomes that site's failure, or a warning on it, with a rule id, and the build goes on.

Each of these once aborted the whole build with a traceback (and on a first build left no
portal at all), hung it for ever, or read the build machine's files.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import GROUP_A, component, run_backlot, write_tree

SECRET = "AUTHORIZATION: basic SECRET-TOKEN"


def docs_repo(name: str, mkdocs: str | None, files: dict[str, str] | None = None) -> dict:
    entity = component(name).replace(
        "metadata:\n", "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
    )
    tree: dict[str, str] = {"catalog-info.yaml": entity, "docs/index.md": f"# {name}\n\nHello.\n"}
    if mkdocs is not None:
        tree["mkdocs.yml"] = mkdocs
    tree.update(files or {})
    return {f"{name}/{path}": text for path, text in tree.items()}


BILLION_LAUGHS = "site_name: x\nextra:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)

# repository → (mkdocs.yml, more files, what its site must end as: the status and the rule
# of its failure, or "built" and the rule of one of its warnings).
CLASSES: dict[str, tuple[str | None, dict[str, str], str, str]] = {
    "snippet-missing": (
        "site_name: s\n",
        {"docs/index.md": '# x\n\n--8<-- "missing.md"\n'},
        "built",
        "docs/snippet-missing",
    ),
    "hide-not-a-list": (
        None,
        {"docs/index.md": "---\nhide: 5\n---\n# x\n"},
        "built",
        "docs/front-matter",
    ),
    "title-not-text": (
        None,
        {"docs/index.md": "---\ntitle: [1, 2]\n---\n# x\n"},
        "built",
        "docs/front-matter",
    ),
    "social-not-a-list": (
        "site_name: s\nextra:\n  social: 5\n",
        {},
        "built",
        "docs/setting-refused",
    ),
    "admonition-icons-not-a-mapping": (
        "site_name: s\ntheme:\n  name: material\n  icon:\n    admonition: 5\n",
        {},
        "built",
        "docs/setting-refused",
    ),
    "slugify-not-callable": (
        "site_name: s\nmarkdown_extensions:\n  - toc:\n      slugify: 5\n",
        {},
        "failed",
        "docs/build-failed",
    ),
    "deep-config": (
        "site_name: s\nextra:\n  a: " + "[" * 400 + "]" * 400 + "\n",
        {},
        "failed",
        "docs/config-invalid",
    ),
    "very-deep-config": (
        "site_name: s\nextra:\n  a: " + "[" * 5000 + "]" * 5000 + "\n",
        {},
        "failed",
        "docs/config-invalid",
    ),
    "alias-bomb-config": (BILLION_LAUGHS, {}, "failed", "docs/config-invalid"),
    "absolute-docs-dir": (
        "site_name: s\ndocs_dir: /etc\n",
        {},
        "failed",
        "docs/outside-repository",
    ),
    # The folder above holds a FIFO named index.md: reading it would hang the build.
    "docs-dir-up": (
        "site_name: s\ndocs_dir: ../canary\n",
        {},
        "failed",
        "docs/outside-repository",
    ),
    "git-docs-dir": ("site_name: s\ndocs_dir: .git\n", {}, "failed", "docs/outside-repository"),
    "git-snippet": (
        None,
        {"docs/index.md": '# x\n\n--8<-- ".git/config"\n'},
        "built",
        "docs/snippet-refused",
    ),
    "symlink-loop": (None, {}, "built", "docs/unreadable"),
    "fifo-in-docs": (None, {}, "built", "docs/unreadable"),
    "readme-to-kmsg": ("site_name: s\n", {}, "failed", "docs/symlink-out"),
}


def _special_files(org: Path) -> None:
    """What a dict of texts cannot hold: links, a FIFO, a git checkout's config."""
    for name in CLASSES:
        (org / name / ".git").mkdir(exist_ok=True)
        (org / name / ".git" / "config").write_text(f"[http]\n\textraheader = {SECRET}\n")
    (org / "canary").mkdir()
    os.mkfifo(org / "canary" / "index.md")
    os.symlink(".", org / "symlink-loop" / "docs" / "again")
    os.mkfifo(org / "fifo-in-docs" / "docs" / "pipe.md")
    os.symlink("/proc/kmsg", org / "readme-to-kmsg" / "README.md")


@pytest.fixture(scope="module")
def contained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict]]:
    work = tmp_path_factory.mktemp("contained")
    files: dict[str, str] = {
        "team/catalog-info.yaml": GROUP_A,
        **docs_repo("good", "site_name: Good\n"),
    }
    for name, (mkdocs, extra, _, _) in CLASSES.items():
        files.update(docs_repo(name, mkdocs, extra))
    org = write_tree(work / "org", files)
    _special_files(org)
    result = run_backlot("build", org, "-o", work / "site", cwd=work)
    report = json.loads((work / ".backlot" / "docs-report.json").read_text())
    yield work, result.stdout + result.stderr, {"code": result.returncode, **report}


def test_the_build_goes_on_and_the_good_site_is_built(contained: tuple[Path, str, dict]) -> None:
    work, output, report = contained
    assert report["code"] == 0, output
    assert "Traceback" not in output
    assert report["sites"]["component:default/good"]["status"] == "built"
    good = work / "site/docs/default/component/good"
    assert (good / "index.html").is_file() and (good / "techdocs_metadata.json").is_file()
    assert (work / "site/catalog/default/component/good/index.html").is_file()


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_failure_is_that_sites_own_with_a_rule(
    contained: tuple[Path, str, dict], name: str
) -> None:
    work, output, report = contained
    _, _, status, rule = CLASSES[name]
    site = report["sites"][f"component:default/{name}"]
    assert site["status"] == status, (name, site)
    if status == "failed":
        assert site["failure"]["rule"] == rule, site
        assert site["failure"]["message"]
        # Said once, on one line naming the entity and the rule.
        assert f"error: component:default/{name}: {rule}: " in output
        # The entity's page says why its docs are missing.
        page = (work / f"site/catalog/default/component/{name}/index.html").read_text()
        assert rule in page
    else:
        assert rule in [w["rule"] for w in site["warnings"]], site
        assert (work / f"site/docs/default/component/{name}/index.html").is_file()


def test_nothing_of_git_or_the_machine_is_published(contained: tuple[Path, str, dict]) -> None:
    work, output, _ = contained
    assert SECRET not in output
    leaked = [
        p
        for folder in ("site", ".backlot")
        for p in (work / folder).rglob("*")
        if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    assert leaked == []
    assert not (work / "site/docs/default/component/absolute-docs-dir").exists()


def test_a_site_over_its_time_limit_is_stopped_and_the_others_built(tmp_path: Path) -> None:
    pages = {
        f"docs/page-{i:03}.md": f"# Page {i}\n\n" + "Some *text*.\n\n" * 50 for i in range(300)
    }
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **docs_repo("slow", None, pages),
            **docs_repo("quick", None),
        },
    )
    (tmp_path / "backlot.yaml").write_text("docs:\n  timeout_seconds: 3\n  workers: 2\n")
    result = run_backlot("docs", "build", org, "--config", tmp_path / "backlot.yaml", cwd=tmp_path)
    report = json.loads((tmp_path / ".backlot" / "docs-report.json").read_text())
    assert result.returncode == 1
    slow = report["sites"]["component:default/slow"]
    assert slow["status"] == "failed" and slow["failure"]["rule"] == "docs/timeout", slow
    assert "3 s" in slow["failure"]["message"]
    assert report["sites"]["component:default/quick"]["status"] == "built"
    assert "error: component:default/slow: docs/timeout:" in result.stdout


def test_workers_that_crash_hang_or_run_out_of_memory_fail_only_their_job() -> None:
    """The worker pool itself, with real processes and a real address-space limit."""
    script = """
import os, signal, time
from generator.workers import Failure, JobLimits, run_isolated

def job(name):
    if name == "hang":
        time.sleep(60)
    if name == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if name == "memory":
        bytearray(1024 ** 3)
    return name

results = run_isolated(
    job, ["a", "hang", "segfault", "b", "memory", "c"], workers=2,
    limits=JobLimits(seconds=2, memory_bytes=256 * 1024 ** 2),
)
for item in results:
    print(f"{item.job}:{item.kind}" if isinstance(item, Failure) else f"{item}:ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert sorted(done.stdout.split()) == sorted(
        ["a:ok", "b:ok", "c:ok", "hang:timeout", "segfault:crashed", "memory:memory"]
    ), done.stdout + done.stderr


def _nobody_can_run_backlot() -> str | None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return "needs root and setpriv to build as another user (root reads every file)"
    probe = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            sys.executable,
            "-c",
            "import generator",
        ],
        capture_output=True,
    )
    return None if probe.returncode == 0 else "the user nobody cannot run this Python"


def test_unreadable_files_and_folders_are_warnings_not_a_crash() -> None:
    """As a user who cannot read them (root reads everything): an unreadable page, an
    unreadable folder of the docs, and a docs_dir nobody may list."""
    reason = _nobody_can_run_backlot()
    if reason:
        pytest.skip(reason)
    work = Path(tempfile.mkdtemp(prefix="backlot-unreadable-"))
    try:
        org = write_tree(
            work / "org",
            {
                "team/catalog-info.yaml": GROUP_A,
                **docs_repo("good", None),
                **docs_repo("locked-page", None, {"docs/secret.md": "# secret\n"}),
                **docs_repo("locked-folder", None, {"docs/private/page.md": "# private\n"}),
                **docs_repo(
                    "locked-docs-dir",
                    "site_name: s\ndocs_dir: sealed\n",
                    {"sealed/index.md": "# x\n"},
                ),
            },
        )
        for path in (work, *work.rglob("*")):
            os.chown(path, 65534, 65534, follow_symlinks=False)
        (org / "locked-page/docs/secret.md").chmod(0)
        (org / "locked-folder/docs/private").chmod(0)
        (org / "locked-docs-dir/sealed").chmod(0)
        done = subprocess.run(
            [
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                sys.executable,
                "-m",
                "generator",
                "build",
                str(org),
                "-o",
                str(work / "site"),
            ],
            capture_output=True,
            text=True,
            cwd=work,
            timeout=300,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        assert "Traceback" not in output
        report = json.loads((work / ".backlot" / "docs-report.json").read_text())
        sites = report["sites"]
        assert sites["component:default/good"]["status"] == "built"
        for name, path in (("locked-page", "secret.md"), ("locked-folder", "private")):
            site = sites[f"component:default/{name}"]
            assert site["status"] == "built", site
            assert {"rule": "docs/unreadable", "file": path} in [
                {"rule": w["rule"], "file": w["file"]} for w in site["warnings"]
            ], site
        sealed = sites["component:default/locked-docs-dir"]
        assert sealed["status"] == "failed", sealed
        assert sealed["failure"]["rule"] == "docs/unreadable", sealed
    finally:
        for path in (work, *work.rglob("*")):
            if not path.is_symlink():
                path.chmod(stat.S_IRWXU)
        shutil.rmtree(work, ignore_errors=True)
