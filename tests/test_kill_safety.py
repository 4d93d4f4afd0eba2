"""A build can be killed at any moment, run twice at once, or run out of disk: the next build
still produces exactly what the killed one would have, and the user is told what happened.

A CI job is cancelled, a runner is lost, two scheduled runs overlap: each of these once left
pages stale for good (the state was saved before the pages were written), temporary files
inside the published site, or two builds crashing on each other's temporary names.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import EXAMPLES, component, write_tree

EPOCH = {"SOURCE_DATE_EPOCH": "1764000000"}


def backlot(*args: str | Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "generator", *map(str, args)],
        cwd=cwd,
        env={**os.environ, **EPOCH},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def build(org: Path, work: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "build",
            org,
            "-o",
            work / "site",
            "--cache-dir",
            work / "cache",
        ],
        cwd=work,
        env={**os.environ, **EPOCH},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def tree(folder: Path) -> dict[str, bytes]:
    """Every file's bytes; the search index as how many files each of its folders holds.

    Pagefind's index is not byte-deterministic (its file names are hashes that differ
    from run to run on the same pages), so a completed build and a clean one are compared
    by the shape of the index: one fragment per indexed page, its entry file present."""
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    search = [path for path in files if path.startswith("pagefind/")]
    if search:
        assert "pagefind/pagefind-entry.json" in files, "the search index has no entry file"
    shape: dict[str, int] = {}
    for path in search:
        del files[path]
        shape[path.rpartition("/")[0]] = shape.get(path.rpartition("/")[0], 0) + 1
    for where, count in shape.items():
        files[f"{where}/ (search index files)"] = str(count).encode()
    return files


def change(org: Path) -> None:
    """What happens between two scheduled runs: a description and a docs page edited, a
    repository gone, a new one with docs."""
    descriptor = org / "orders-service" / "catalog-info.yaml"
    descriptor.write_text(descriptor.read_text().replace("description:", "description: Edited.", 1))
    page = org / "orders-service" / "docs" / "index.md"
    page.write_text(page.read_text() + "\n\nA new paragraph.\n")
    shutil.rmtree(org / "warehouse-sync")
    write_tree(
        org,
        {
            "new-service/catalog-info.yaml": component("new-service", "platform").replace(
                "metadata:\n", "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
            ),
            "new-service/docs/index.md": "# New\n\nHello.\n",
        },
    )


@pytest.fixture(scope="module")
def states(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, Path, dict[str, bytes], float]:
    """The example built once into ``work`` (the published state, kept as a snapshot: the
    manifest names the output by its path), the changed organisation, what the next build
    writes when nothing stops it, and how long that build takes."""
    root = tmp_path_factory.mktemp("kill")
    org = root / "org"
    shutil.copytree(EXAMPLES, org, symlinks=True)
    work = root / "work"
    work.mkdir()
    build(org, work)
    snapshot = root / "snapshot"
    shutil.copytree(work, snapshot, symlinks=True)
    change(org)
    started = time.monotonic()
    build(org, work)
    duration = time.monotonic() - started
    expected = tree(work / "site")
    # Entities that went are reported against the last build that finished; else the
    # same pages as a build from nothing.
    assert b"catalog/disappeared" in expected["problems/index.html"]
    return org, work, snapshot, expected, duration


def test_a_killed_build_is_completed_by_the_next_one(
    states: tuple[Path, Path, Path, dict[str, bytes], float],
) -> None:
    org, work, snapshot, expected, duration = states
    seed = random.randrange(1 << 30)
    # Two moments in the catalog stage (before and around the new catalog.json), and four
    # anywhere.
    chosen = [random.Random(seed).uniform(0.05, duration) for _ in range(4)]
    moments = sorted([0.1, 0.3, *chosen])
    for moment in moments:
        shutil.rmtree(work)
        shutil.copytree(snapshot, work, symlinks=True)
        killed = backlot("build", org, "-o", work / "site", "--cache-dir", work / "cache", cwd=work)
        time.sleep(moment)
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=60)
        where = f"(seed {seed}, killed after {moment:.2f} s of a {duration:.2f} s build)"
        catalog = work / "cache" / "catalog.json"
        started = (work / "cache" / "build.pending").exists() or (
            catalog.read_bytes() != (snapshot / "cache" / "catalog.json").read_bytes()
        )
        if started and not (work / "cache" / "build.pending").exists():
            # The kill came after the build finished (a moment near its end on a fast
            # run): its own output must be the whole new site, and it is now the last
            # build that finished, which the next one rightly reports against.
            done = tree(work / "site")
            assert done == expected, f"a finished build left another site {where}"
            continue
        build(org, work)
        after = tree(work / "site")
        assert sorted(after) == sorted(expected), f"different files {where}: " + str(
            sorted(set(after) ^ set(expected))[:10]
        )
        differing = [path for path, data in expected.items() if after[path] != data]
        assert differing == [], f"different content {where}: {differing[:10]}"


def test_a_second_build_on_the_same_cache_or_output_stops_at_once(tmp_path: Path) -> None:
    first = backlot(
        "build", EXAMPLES, "-o", tmp_path / "site", "--cache-dir", tmp_path / "cache", cwd=tmp_path
    )
    lock = tmp_path / "cache" / "lock"
    deadline = time.monotonic() + 30
    while not (lock.is_file() and "backlot build" in lock.read_text()):
        assert time.monotonic() < deadline and first.poll() is None, "the first build did not start"
        time.sleep(0.01)
    # Held still while the others try, so that it cannot finish first (a fast build did):
    # stopped once it holds both the cache and the output folder.
    while True:
        os.kill(first.pid, signal.SIGSTOP)
        if _output_held(tmp_path / "site"):
            break
        os.kill(first.pid, signal.SIGCONT)
        assert time.monotonic() < deadline and first.poll() is None, "no output lock taken"
        time.sleep(0.005)
    same_cache = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "build",
            EXAMPLES,
            "-o",
            tmp_path / "other",
            "--cache-dir",
            tmp_path / "cache",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    same_output = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "build",
            EXAMPLES,
            "-o",
            tmp_path / "site",
            "--cache-dir",
            tmp_path / "cache2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err
    assert same_cache.returncode == 1
    assert f"is in use by backlot build (pid {first.pid}" in same_cache.stderr
    assert "Traceback" not in same_cache.stderr
    assert same_output.returncode == 1
    assert "is being written by another backlot build" in same_output.stderr
    assert not (tmp_path / "other").exists() or not any((tmp_path / "other").iterdir())


def _output_held(folder: Path) -> bool:
    """Whether a build holds ``folder`` (its lock is taken); never holds it itself for
    longer than the check."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
    finally:
        os.close(handle)


def test_a_full_disk_is_one_clear_error(tmp_path: Path) -> None:
    """On a 2 MB file system of its own (a tmpfs in a private mount namespace)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a small file system")
    small = tmp_path / "small"
    small.mkdir()
    script = (
        f"mount -t tmpfs -o size=2m tmpfs {small} && cd {small} && "
        f"exec {sys.executable} -m generator build {EXAMPLES} "
        f"-o {small}/site --cache-dir {small}/cache"
    )
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {small}"]
    )
    if probe.returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here")
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the disk is full" in done.stderr and "free some space" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
