"""`backlot build` (and `catalog`, `validate`) never leave a user guessing: what they build
when given nothing, that nothing found is an error, that failed docs are counted and fail
a --strict build, and what "disappeared" is compared with."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import cli

from .conftest import EXAMPLES, GROUP_A, component, run_backlot, write_tree

EXAMPLE_NOTE = "using the bundled example organisation"


def with_docs(name: str, mkdocs: str) -> dict[str, str]:
    """A repository whose component has TechDocs, built with ``mkdocs``."""
    descriptor = component(name).replace(
        "metadata:\n", "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
    )
    return {
        f"{name}/catalog-info.yaml": descriptor,
        f"{name}/mkdocs.yml": mkdocs,
        f"{name}/docs/index.md": f"# {name}\n\nHello.\n",
    }


@pytest.fixture
def docs_org(tmp_path: Path) -> Path:
    """One docs site that fails (hooks are refused), one with a warning, one clean."""
    return write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **with_docs("failing", "site_name: Failing\nhooks: [hooks.py]\n"),
            **with_docs("warned", "site_name: Warned\nnot_a_setting: 1\n"),
            **with_docs("clean", "site_name: Clean\n"),
        },
    )


# ------------------------------------------------------------------ what is built by default


def test_build_without_a_path_builds_the_example_and_says_so_once(tmp_path: Path) -> None:
    result = run_backlot("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(EXAMPLE_NOTE) == 1
    note = next(line for line in result.stderr.splitlines() if EXAMPLE_NOTE in line)
    assert "no PATH given and no backlot.yaml here" in note
    assert str(EXAMPLES.resolve()) in note
    assert "backlot build PATH" in note
    assert (tmp_path / "site" / "catalog" / "default" / "component" / "orders-service").is_dir()


def test_a_backlot_yaml_with_sources_is_used_without_a_note(tmp_path: Path) -> None:
    write_tree(tmp_path, {"org/svc/catalog-info.yaml": component("mine")})
    (tmp_path / "backlot.yaml").write_text("catalog:\n  sources:\n    - path: org\n")
    result = run_backlot("catalog", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert EXAMPLE_NOTE not in result.stderr
    assert "1 entity (1 Component)" in result.stdout


def test_a_backlot_yaml_without_sources_is_named_in_the_note(tmp_path: Path) -> None:
    (tmp_path / "backlot.yaml").write_text("site:\n  title: Acme\n")
    result = run_backlot("catalog", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"backlot.yaml names no sources: {EXAMPLE_NOTE}" in result.stderr
    assert "backlot catalog PATH" in result.stderr


def test_a_path_is_built_without_a_note(tmp_path: Path) -> None:
    org = write_tree(tmp_path / "org", {"svc/catalog-info.yaml": component("svc")})
    result = run_backlot("catalog", org, cwd=tmp_path)
    assert result.returncode == 0
    assert EXAMPLE_NOTE not in result.stderr


# ------------------------------------------------------------------ nothing found


def test_validate_of_a_folder_without_descriptors_fails_naming_what_it_searched(
    tmp_path: Path,
) -> None:
    (tmp_path / "typo" / "some-repo").mkdir(parents=True)
    result = run_backlot("validate", "typo", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        "no descriptors found: searched typo and each folder in it, for catalog-info.yaml or "
        "catalog-info.yml" in result.stderr
    )
    custom = run_backlot("validate", "--glob", "backstage/*.yaml", "typo", cwd=tmp_path)
    assert custom.returncode == 2
    assert "for backstage/*.yaml" in custom.stderr


def test_build_of_a_folder_without_descriptors_fails_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty" / "repo").mkdir(parents=True)
    result = run_backlot("build", "empty", cwd=tmp_path)
    assert result.returncode == 2
    assert f"no descriptors found: searched {tmp_path.resolve() / 'empty'} and each folder" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".backlot" / "catalog.json").exists()
    assert not (tmp_path / "site" / "index.html").exists()


def test_build_of_a_missing_folder_fails_as_a_usage_error(tmp_path: Path) -> None:
    result = run_backlot("build", "no-such-folder", cwd=tmp_path)
    assert result.returncode == 2
    assert "'no-such-folder' does not exist" in result.stderr


# ------------------------------------------------------------------ docs problems, --strict


def test_failed_docs_are_counted_and_the_rest_is_published(docs_org: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = run_backlot(
        "build",
        docs_org,
        cwd=tmp_path,
        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "docs: 3 entities with docs → site/docs: 2 built, 0 unchanged, 1 failed; 1 warning" in (
        lines
    )
    assert lines[-1] == (
        "build finished with problems: 1 docs site failed, 1 docs warning; the portal shows "
        "them, and --strict fails the build on them"
    )
    # Annotations on the run: the failure as an error, the warning as a warning.
    assert any(
        line.startswith("::error ")
        and "title=docs/config-refused::component:default/failing" in line
        for line in lines
    )
    assert any(
        line.startswith("::warning ")
        and "title=docs/setting-ignored::component:default/warned" in line
        for line in lines
    )
    page = summary.read_text()
    assert "| Docs sites | 2 built, 0 unchanged, 1 failed; 1 warning |" in page
    assert "| Result | build finished with problems: 1 docs site failed, 1 docs warning;" in page
    assert "docs\\/setting\\-ignored" in page  # listed under Problems
    # The portal itself was built, with the docs that could be.
    assert (tmp_path / "site" / "docs" / "default" / "component" / "clean" / "index.html").is_file()


def test_strict_fails_on_docs_failures_and_warnings(docs_org: Path, tmp_path: Path) -> None:
    result = run_backlot("build", "--strict", docs_org, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "build failed (--strict): 1 docs site failed, 1 docs warning"
    )


def test_strict_fails_on_catalog_warnings_alone(tmp_path: Path) -> None:
    org = write_tree(tmp_path / "org", {"svc/catalog-info.yaml": component("svc", owner="ghost")})
    result = run_backlot("build", "--strict", org, cwd=tmp_path)
    assert result.returncode == 1
    assert "build failed (--strict): 1 catalog warning" in result.stderr
    relaxed = run_backlot("build", org, cwd=tmp_path)
    assert relaxed.returncode == 0
    assert "build finished with problems: 1 catalog warning;" in relaxed.stdout


def test_strict_passes_a_clean_build(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **with_docs("clean", "site_name: Clean\n"),
        },
    )
    result = run_backlot("build", "--strict", org, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "build finished: no problems"


def test_strict_still_fails_when_the_warned_site_is_unchanged(
    docs_org: Path, tmp_path: Path
) -> None:
    run_backlot("build", docs_org, cwd=tmp_path)
    again = run_backlot("build", "--strict", docs_org, cwd=tmp_path)
    assert "unchanged" in again.stdout  # the site was not built again...
    assert "1 docs warning" in again.stderr and again.returncode == 1  # ...its warning stays


# ------------------------------------------------------------------ baselines per source set


def disappeared(result_stdout: str) -> int:
    [counts] = [line for line in result_stdout.splitlines() if " disappeared)" in line]
    return int(counts.rsplit("conflicts, ", 1)[1].split()[0])


def test_another_path_in_the_same_folder_starts_its_own_baseline(tmp_path: Path) -> None:
    first = write_tree(
        tmp_path / "first",
        {"team/catalog-info.yaml": GROUP_A, "a/catalog-info.yaml": component("a")},
    )
    second = write_tree(tmp_path / "second", {"b/catalog-info.yaml": component("b")})
    assert disappeared(run_backlot("catalog", first, cwd=tmp_path).stdout) == 0
    # Nothing of the first organisation is reported gone from the second, or back again.
    assert disappeared(run_backlot("catalog", second, cwd=tmp_path).stdout) == 0
    assert disappeared(run_backlot("catalog", first, cwd=tmp_path).stdout) == 0
    # ...but what really went from an organisation still is, against its own last build.
    (first / "a" / "catalog-info.yaml").unlink()
    gone = run_backlot("catalog", "first", cwd=tmp_path)  # the same folder, spelt otherwise
    assert disappeared(gone.stdout) == 1
    assert "component:default/a was in the previous build and is gone now" in gone.stdout


def test_switching_back_builds_the_first_portal_again(tmp_path: Path) -> None:
    """The site and docs of one organisation replace the other's in the shared output, and
    switching back gives the first portal's pages and docs again (none of the second's)."""
    first = tmp_path / "first"
    shutil.copytree(EXAMPLES, first)
    second = write_tree(
        tmp_path / "second",
        {"team/catalog-info.yaml": GROUP_A, **with_docs("other", "site_name: Other\n")},
    )

    def files() -> set[str]:
        """Every file, the search index's aside: Pagefind names its files by hashes that
        differ from run to run on the same pages."""
        site = tmp_path / "site"
        found = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
        return {f for f in found if not f.startswith("pagefind/")}

    assert run_backlot("build", first, cwd=tmp_path).returncode == 0
    first_files = files()
    built = run_backlot("build", second, cwd=tmp_path)
    assert "0 disappeared" in built.stdout
    assert not any("orders-service" in f for f in files())
    again = run_backlot("build", first, cwd=tmp_path)
    assert "0 disappeared" in again.stdout
    assert files() == first_files
    assert "docs: 7 entities with docs → site/docs: 7 built" in again.stdout


def test_a_cache_from_before_keeps_its_baseline_once(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, "a/catalog-info.yaml": component("a")},
    )
    assert run_backlot("catalog", org, cwd=tmp_path).returncode == 0
    # As a cache written by a Backlot that kept one baseline: catalog.json alone.
    shutil.rmtree(tmp_path / ".backlot" / "baselines")
    (org / "a" / "catalog-info.yaml").unlink()
    assert disappeared(run_backlot("catalog", org, cwd=tmp_path).stdout) == 1
    assert disappeared(run_backlot("catalog", org, cwd=tmp_path).stdout) == 0


def test_a_catalog_written_elsewhere_does_not_move_the_baseline(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, "a/catalog-info.yaml": component("a")},
    )
    assert run_backlot("catalog", org, cwd=tmp_path).returncode == 0
    (org / "a" / "catalog-info.yaml").unlink()
    elsewhere = run_backlot("catalog", org, "-o", tmp_path / "other.json", cwd=tmp_path)
    assert disappeared(elsewhere.stdout) == 0  # nothing was at other.json before
    assert disappeared(run_backlot("catalog", org, cwd=tmp_path).stdout) == 1


# ------------------------------------------------------------------ progress in CI


def test_ci_logs_say_where_each_long_stage_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a terminal, a line every PROGRESS_SECONDS (5 s; here much less, so that the
    # example's few seconds are "long") for every stage, with its count and total.
    monkeypatch.setattr(cli, "PROGRESS_SECONDS", 0.05)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.main, ["build", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert any(line.startswith("  … docs: ") and "/7 sites, " in line for line in lines)
    assert any(line.startswith("  … site: ") and "/67 entity pages, " in line for line in lines)
    assert any("left (component:default/" in line for line in lines), lines  # time left
    # None of it goes to standard output, which stays the build's summary.
    assert "  … " not in result.stdout


def test_a_progress_line_counts_and_estimates() -> None:
    progress = cli._Progress("site", "entity page", 3000)
    progress.started -= 10  # ten seconds in
    progress.advance(1000, "component:default/orders")
    assert progress.line() == (
        "  … site: 1000/3000 entity pages, 10 s, about 20 s left (component:default/orders)"
    )
    progress.advance(2500)  # more than announced: the total follows
    assert progress.line().startswith("  … site: 3500/3500 entity pages, 10 s")


def test_catalog_json_of_a_failed_search_is_not_replaced(tmp_path: Path) -> None:
    """A mistyped path after a good build must not leave an empty catalog behind."""
    org = write_tree(tmp_path / "org", {"svc/catalog-info.yaml": component("svc")})
    assert run_backlot("catalog", org, cwd=tmp_path).returncode == 0
    before = json.loads((tmp_path / ".backlot" / "catalog.json").read_text())
    (tmp_path / "empty").mkdir()
    assert run_backlot("catalog", "empty", cwd=tmp_path).returncode == 2
    assert json.loads((tmp_path / ".backlot" / "catalog.json").read_text()) == before
