"""The git source (``type: git``), against real git: bare repositories read over
``file://`` and over git's own HTTP backend on 127.0.0.1, with a token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import component
from .git_http import GitHttpServer, bare_repository, push

GROUP = (
    "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\n"
    "spec:\n  type: team\n  children: []\n"
)
HANDBOOK = component("handbook").replace(
    "metadata:\n",
    "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:./handbook\n",
)
LOCATION = (
    "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\n"
    "spec:\n  targets: [./services/*.yaml]\n"
)
TOKEN = "glpat-test-0123456789abcdef"


def configure(work: Path, *urls: str, **extra: object) -> None:
    lines = ["catalog:", "  sources:", "    - type: git", "      repositories:"]
    lines += [f"        - {json.dumps(url)}" for url in urls]
    lines += [f"      {key}: {json.dumps(value)}" for key, value in extra.items()]
    work.mkdir(parents=True, exist_ok=True)
    (work / "backlot.yaml").write_text("\n".join(lines) + "\n")


def backlot(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args, "--config", str(work / "backlot.yaml")],
        cwd=work,
        env={**os.environ, "GIT_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=300,
    )


def catalog(work: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((work / ".backlot" / "catalog.json").read_text())
    return data


def names(work: Path) -> set[str]:
    return {e["metadata"]["name"] for e in catalog(work)["entities"]}  # type: ignore[attr-defined]


def findings(work: Path, rule: str) -> list[dict[str, object]]:
    return [f for f in catalog(work)["findings"] if f["rule"] == rule]  # type: ignore[attr-defined]


def worktree(work: Path, name: str) -> Path:
    [found] = [p for p in (work / ".backlot" / "git").iterdir() if p.name.startswith(name)]
    return found


def missing_objects(checkout: Path) -> set[str]:
    """Objects the partial clone knows of but never fetched (git's ``?oid`` lines)."""
    listing = subprocess.run(
        ["git", "-C", str(checkout), "rev-list", "--objects", "--missing=print", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line[1:] for line in listing.splitlines() if line.startswith("?")}


def blob_id(bare: Path, path: str) -> str:
    return subprocess.run(
        ["git", "-C", str(bare), "rev-parse", f"main:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def repositories(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    root.mkdir()
    bare_repository(root / "team.git", {"catalog-info.yaml": GROUP})
    bare_repository(
        root / "platform" / "handbook.git",
        {
            "catalog-info.yaml": HANDBOOK + LOCATION,
            "services/a.yaml": component("svc-a", description={"$text": "./a.md"}),
            "services/a.md": "Service A, from its own file.",
            "services/b.yaml": component("svc-b"),
            "handbook/mkdocs.yml": "site_name: Handbook\n",
            "handbook/docs/index.md": "# Handbook\n\nHow we work.\n",
            "assets/video.bin": os.urandom(200_000),
        },
    )
    return root


@pytest.fixture
def server(repositories: Path) -> Iterator[GitHttpServer]:
    serving = GitHttpServer(repositories, user="oauth2", password=TOKEN)
    serving.start()
    yield serving
    serving.stop()


def test_only_descriptors_and_what_stages_read_are_fetched(
    repositories: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    configure(
        work,
        f"file://{repositories}/team.git",
        f"file://{repositories}/platform/handbook.git",
        url_template="https://git.example.com/{name}",
    )
    done = backlot(work, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    assert names(work) == {"team-a", "handbook", "more", "svc-a", "svc-b"}
    assert "git: 2 repositories (2 with descriptors, 0 without), 2 cloned" in done.stdout
    entities = {e["metadata"]["name"]: e for e in catalog(work)["entities"]}  # type: ignore[attr-defined]
    assert entities["svc-a"]["spec"]["description"] == "Service A, from its own file."
    annotations = entities["svc-b"]["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"] == (
        "url:https://git.example.com/platform/handbook/blob/HEAD/services/b.yaml"
    )
    page = work / "site/docs/default/component/handbook/index.html"
    assert "How we work." in page.read_text()
    # Blob-less and sparse: what no stage read was never fetched.
    checkout = worktree(work, "platform-handbook")
    assert blob_id(repositories / "platform/handbook.git", "assets/video.bin") in missing_objects(
        checkout
    )
    assert not (checkout / "assets").exists()


def test_a_warm_run_asks_once_per_repository_and_fetches_only_what_changed(
    server: GitHttpServer, repositories: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    configure(
        work,
        f"{server.base}/team.git",
        f"{server.base}/platform/handbook.git",
        token_env="GIT_TOKEN",
        token_user="oauth2",
    )
    done = backlot(work, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    assert names(work) == {"team-a", "handbook", "more", "svc-a", "svc-b"}
    server.counts.clear()
    done = backlot(work, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    # Nothing changed: one ref listing per repository, no pack fetched.
    assert server.counts == {"refs": 2, "ls-refs": 2}, server.counts
    assert "0 changed, 2 unchanged" in done.stdout and "0 built, 1 unchanged" in done.stdout
    push(
        repositories / "platform/handbook.git", {"services/b.yaml": component("svc-b", system="x")}
    )
    server.counts.clear()
    done = backlot(work, "catalog")
    assert done.returncode == 0, done.stdout + done.stderr
    # The unchanged one is asked once; the changed one is asked, fetched (its commit and
    # trees, no blobs), then sends the one blob that changed: two packs, one want each.
    assert server.counts == {"refs": 4, "ls-refs": 3, "fetch": 2, "wants": 2}, server.counts
    [svc_b] = [e for e in catalog(work)["entities"] if e["metadata"]["name"] == "svc-b"]  # type: ignore[attr-defined]
    assert svc_b["spec"]["system"] == "x"
    # The token went only into the request header: in no output, file or argument.
    written = "\n".join(
        p.read_text(errors="replace")
        for p in work.rglob("*")
        if p.is_file() and p.stat().st_size < 5e6
    )
    assert TOKEN not in done.stdout + done.stderr + written
    assert server.authorizations and all(a.startswith("Basic ") for a in server.authorizations)


def test_a_repository_that_cannot_be_fetched_keeps_its_entities_and_the_rest_go_on(
    repositories: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    team, handbook = (
        f"file://{repositories}/team.git",
        f"file://{repositories}/platform/handbook.git",
    )
    configure(work, team, handbook)
    assert backlot(work, "build").returncode == 0
    (repositories / "platform/handbook.git").rename(repositories / "gone.git")
    configure(work, team, handbook, "https://user:hunter2@127.0.0.1:9/never/cloned.git")
    done = backlot(work, "build")
    output = done.stdout + done.stderr
    # Last known good: the unreachable repository's entities stay, marked stale.
    assert names(work) == {"team-a", "handbook", "more", "svc-a", "svc-b"}, output
    stale = findings(work, "source/stale")
    assert {f["entityRef"] for f in stale} >= {
        "component:default/handbook",
        "component:default/svc-b",
    }
    assert "git fetch failed" in str(stale[0]["message"]) or "git ls-remote failed" in str(
        stale[0]["message"]
    )
    page = (work / "site/catalog/default/component/svc-b/index.html").read_text()
    assert "Out of date" in page
    # The one never fetched is an error of its own, named, its password not shown.
    [unreadable] = findings(work, "file/unreadable")
    assert unreadable["file"] == "never/cloned/catalog-info.yaml"
    assert "could not be cloned" in str(unreadable["message"])
    assert "hunter2" not in output and "hunter2" not in str(catalog(work))
    assert "1 stale, 1 unreachable" in done.stdout


def test_a_descriptor_pushed_broken_keeps_its_last_good_entities(
    repositories: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    configure(
        work, f"file://{repositories}/team.git", f"file://{repositories}/platform/handbook.git"
    )
    assert backlot(work, "catalog").returncode == 0
    push(repositories / "platform/handbook.git", {"services/b.yaml": "kind: [Component\n"})
    backlot(work, "catalog")
    assert "svc-b" in names(work)
    [stale] = findings(work, "source/stale")
    assert stale["entityRef"] == "component:default/svc-b"
    assert [f["file"] for f in findings(work, "yaml/syntax")] == [
        "platform/handbook/services/b.yaml"
    ]


def test_settings_that_cannot_work_are_refused_before_anything_runs(
    repositories: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    configure(work, f"file://{repositories}/a/team.git", f"file://{repositories}/b/a/team.git")
    done = backlot(work, "catalog")
    assert done.returncode != 0 and "would both be named 'a/team'" in done.stderr, done.stderr
    configure(work, f"file://{repositories}/team.git", token_env="NOT_SET_ANYWHERE")
    done = backlot(work, "catalog")
    assert done.returncode != 0 and "$NOT_SET_ANYWHERE" in done.stderr, done.stderr


# ---------------------------------------------------------------- when files last changed

MORE = (
    "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\n"
    "spec:\n  targets: [./more/a.yaml, ./more/b.yaml]\n"
)


def changed(work: Path) -> dict[str, str | None]:
    sources = catalog(work)["sources"]
    return {ref.split("/")[-1]: s["changed"] for ref, s in sources.items()}  # type: ignore[attr-defined]


def test_changed_is_read_from_a_shallow_clone_deepened_once_then_remembered(
    tmp_path: Path,
) -> None:
    from .git_http import import_commits

    host = tmp_path / "host"
    host.mkdir()
    bare = host / "svc.git"
    import_commits(
        bare,
        [
            (
                "2026-01-10T08:00:00+01:00",
                {
                    "catalog-info.yaml": component("svc") + MORE,
                    "more/a.yaml": component("a"),
                    "more/b.yaml": component("b"),
                },
            ),
            # 150 commits that touch none of them: deeper than the first deepening.
            *(
                (f"2026-02-01T{i // 60:02d}:{i % 60:02d}:00Z", {"README.md": f"{i}\n"})
                for i in range(150)
            ),
            ("2026-03-03T12:00:00Z", {"more/b.yaml": component("b", system="x")}),
        ],
    )
    serving = GitHttpServer(host)
    serving.start()
    try:
        work = tmp_path / "work"
        configure(work, f"{serving.base}/svc.git")
        done = backlot(work, "catalog")
        assert done.returncode == 0, done.stdout + done.stderr
        assert changed(work) == {
            "svc": "2026-01-10T07:00:00Z",  # 151 commits below the head
            "more": "2026-01-10T07:00:00Z",
            "a": "2026-01-10T07:00:00Z",
            "b": "2026-03-03T12:00:00Z",  # the head
        }
        # Nothing changed: one ref listing, no fetch (the dates are remembered by blob).
        serving.counts.clear()
        done = backlot(work, "catalog")
        assert done.returncode == 0, done.stdout + done.stderr
        assert serving.counts == {"refs": 1, "ls-refs": 1}, serving.counts
        assert changed(work)["svc"] == "2026-01-10T07:00:00Z"
        # One push between two builds: its commit's parent is the commit read before,
        # so what it changed is dated without deepening (one pack, one blob, as before).
        import_commits(
            bare, [("2026-04-04T04:04:04Z", {"more/a.yaml": component("a", system="y")})]
        )
        serving.counts.clear()
        done = backlot(work, "catalog")
        assert done.returncode == 0, done.stdout + done.stderr
        assert serving.counts["fetch"] == 2, serving.counts
        assert changed(work) == {
            "svc": "2026-01-10T07:00:00Z",
            "more": "2026-01-10T07:00:00Z",
            "a": "2026-04-04T04:04:04Z",
            "b": "2026-03-03T12:00:00Z",
        }
        # Two pushes: the descriptor changed in the first, which the clone does not have.
        import_commits(
            bare,
            [
                (
                    "2026-05-05T05:05:05Z",
                    {"catalog-info.yaml": component("svc", system="z") + MORE},
                ),
                ("2026-05-06T06:06:06Z", {"README.md": "later\n"}),
            ],
        )
        done = backlot(work, "catalog")
        assert done.returncode == 0, done.stdout + done.stderr
        assert changed(work)["svc"] == "2026-05-05T05:05:05Z"
        assert changed(work)["a"] == "2026-04-04T04:04:04Z"
    finally:
        serving.stop()


def test_a_file_older_than_the_deepest_history_fetched_has_no_date(tmp_path: Path) -> None:
    """A clone is deepened to 1,000 commits at most: below that, all it could say is "at
    or before", which is no date."""
    from .git_http import import_commits

    host = tmp_path / "host"
    host.mkdir()
    import_commits(
        host / "old.git",
        [
            ("2025-01-01T00:00:00Z", {"catalog-info.yaml": component("old")}),
            *(("2026-01-01T00:00:00Z", {"log.txt": f"{i}\n"}) for i in range(1_100)),
        ],
    )
    serving = GitHttpServer(host)
    serving.start()
    try:
        work = tmp_path / "work"
        configure(work, f"{serving.base}/old.git")
        done = backlot(work, "catalog")
        assert done.returncode == 0, done.stdout + done.stderr
        assert changed(work) == {"old": None}
        fetches = serving.counts["fetch"]
        assert fetches <= 2 + 2, serving.counts  # the clone, its blobs, two deepenings
    finally:
        serving.stop()


def test_local_git_repositories_are_published_without_their_paths(
    repositories: Path, tmp_path: Path
) -> None:
    from .test_no_build_paths import files_naming

    work = tmp_path / "work"
    team, handbook = (
        f"file://{repositories}/team.git",
        f"file://{repositories}/platform/handbook.git",
    )
    configure(work, team, handbook)
    assert backlot(work, "build").returncode == 0
    [svc_b] = [e for e in catalog(work)["entities"] if e["metadata"]["name"] == "svc-b"]  # type: ignore[attr-defined]
    annotations = svc_b["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"] == (
        "file:platform/handbook/services/b.yaml"
    )
    # One repository moves away, one was never there: their messages are published too.
    (repositories / "platform/handbook.git").rename(repositories / "gone.git")
    configure(work, team, handbook, f"{repositories}/never/cloned.git")
    done = backlot(work, "build")
    assert (work / "site" / "catalog.json").is_file(), done.stdout + done.stderr
    assert findings(work, "source/stale") and findings(work, "file/unreadable")
    assert files_naming(work / "site", repositories, work, tmp_path) == {}
