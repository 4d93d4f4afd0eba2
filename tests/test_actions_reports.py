"""`backlot build` in GitHub Actions: findings as annotations on the run (capped as GitHub
shows them), and a step summary with counts, health figures and problems."""

from __future__ import annotations

import os
from pathlib import Path

from .conftest import GROUP_A, component, run_backlot, write_tree


def broken(name: str) -> str:
    return component(name).replace("  lifecycle: production\n", "")


def make_org(root: Path) -> Path:
    files = {
        "team/catalog-info.yaml": GROUP_A,
        "good/catalog-info.yaml": component("good"),
        "docs/catalog-info.yaml": component("docs").replace(
            "metadata:\n", "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
        ),
        "docs/mkdocs.yml": "site_name: Docs\n",
        "docs/docs/index.md": "# Docs\n",
        "ghost/catalog-info.yaml": component("ghost", owner="team-ghost"),
        # Text from a repository that would be a link and an image on the summary page.
        "sly/catalog-info.yaml": component("sly", owner='"[click](https://evil.example/x)"'),
    }
    files |= {f"broken-{i:02d}/catalog-info.yaml": broken(f"broken-{i:02d}") for i in range(12)}
    return write_tree(root, files)


def actions_env(tmp_path: Path) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}


def test_build_annotates_the_run_and_summarises_it(tmp_path: Path) -> None:
    org = make_org(tmp_path / "org")
    done = run_backlot(
        "build",
        org,
        "-o",
        tmp_path / "site",
        "--cache-dir",
        tmp_path / "c",
        env=actions_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    commands = [line for line in done.stdout.splitlines() if line.startswith("::")]
    errors = [c for c in commands if c.startswith("::error ")]
    assert len(errors) == 10  # GitHub shows ten per step; the rest are counted
    assert any(
        "file=broken-00/catalog-info.yaml" in e and "title=spec/missing-field" in e for e in errors
    )
    assert any(c.startswith("::warning ") and "team-ghost" in c for c in commands)
    (notice,) = [c for c in commands if c.startswith("::notice ")]
    assert "3 more" in notice

    summary = (tmp_path / "summary.md").read_text()
    assert "| Entities | 4 (3 Component, 1 Group) |" in summary
    assert "| Rejected documents | 13 |" in summary
    assert "| Docs sites | 1 built, 0 unchanged, 0 failed; 0 warnings |" in summary
    assert "Components with TechDocs: 33 % (1 of 3)" in summary
    assert "Owners that exist: 67 % (2 of 3)" in summary  # team-ghost is nobody
    assert "#### Problems" in summary and "broken\\-00" in summary
    assert "](https://evil" not in summary and "[click]" not in summary


def test_outside_actions_nothing_but_the_log(tmp_path: Path) -> None:
    org = make_org(tmp_path / "org")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    os_env_less = {**env, "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    done = run_backlot(
        "build", org, "-o", tmp_path / "site", "--cache-dir", tmp_path / "c", env=os_env_less
    )
    assert done.returncode == 0, done.stderr
    assert "::error" not in done.stdout
    assert not (tmp_path / "summary.md").exists()
