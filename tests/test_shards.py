"""Past one machine: `backlot build --shard I/N` on N machines, `backlot merge` after them.

Each shard runs here as a separate process with a cache of its own (as separate runners
would), from one catalog.json, and the merge must give the bytes one build gives.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.model import SHARD_FILE, Shard
from tests.argocd_fake import FakeArgoCd
from tests.conftest import EXAMPLES, run_backlot
from tests.test_context import context_org

# Reproducible builds: the pages and docs sites say when they were built.
EPOCH = {"SOURCE_DATE_EPOCH": "1764000000"}


def tree(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def differences(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def build_shards(root: Path, org: Path, catalog: Path, count: int) -> list[Path]:
    folders = []
    for index in range(1, count + 1):
        folder = root / f"site-shard-{index}-of-{count}"
        done = run_backlot(
            "build", org, "--shard", f"{index}/{count}", "--catalog", catalog,
            "-o", folder, "--cache-dir", root / f"cache-{index}", env=EPOCH,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"shard {index}/{count}: " in done.stdout
        folders.append(folder)
    return folders


def merge(root: Path, catalog: Path, folders: list[Path], out: Path) -> str:
    done = run_backlot(
        "merge", *folders, "--catalog", catalog, "-o", out, "--cache-dir", root / "cache-merge",
        env=EPOCH,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The example organisation built once whole and once in three shards, merged."""
    root = tmp_path_factory.mktemp("shards")
    org = root / "org"
    shutil.copytree(EXAMPLES, org)
    single = run_backlot(
        "build", org, "-o", root / "single", "--cache-dir", root / "cache-single", env=EPOCH
    )
    assert single.returncode == 0, single.stdout + single.stderr
    catalog = root / "catalog.json"
    made = run_backlot("catalog", org, "-o", catalog, "--cache-dir", root / "cache-cat")
    assert made.returncode == 0, made.stderr
    folders = build_shards(root, org, catalog, 3)
    merge(root, catalog, folders, root / "merged")
    yield {"root": root, "org": org, "catalog": catalog, "single": root / "single"}


def test_each_entity_is_owned_by_exactly_one_shard_of_a_set() -> None:
    keys = [f"component:default/service-{i}" for i in range(20000)]
    for count in (1, 2, 3, 8):
        owners = [[i for i in range(1, count + 1) if Shard(i, count).owns(k)] for k in keys]
        assert all(len(o) == 1 for o in owners)
        sizes = [sum(1 for o in owners if o == [i]) for i in range(1, count + 1)]
        assert max(sizes) - min(sizes) < 0.1 * len(keys) / count  # roughly even
    with pytest.raises(ValueError, match="counted from 1"):
        Shard.parse("0/4")
    with pytest.raises(ValueError, match="not I/N"):
        Shard.parse("half")


def test_three_shards_merged_are_the_bytes_of_one_build(sharded: dict[str, Path]) -> None:
    root = sharded["root"]
    single, merged = tree(sharded["single"]), tree(root / "merged")
    assert differences(single, merged) == []
    # Pagefind's index included: it is put in one order after Pagefind wrote it.
    assert any(k.startswith("pagefind/filter/") for k in merged)
    # Each shard holds only its own entities' pages and docs, and says which.
    pages = {
        shard: json.loads((root / f"site-shard-{shard}-of-3" / SHARD_FILE).read_text())["files"]
        for shard in (1, 2, 3)
    }
    owned = [p for files in pages.values() for p in files if p.endswith("/index.html")]
    assert len(owned) == len(set(owned))
    badges = [p for files in pages.values() for p in files if p.startswith("badges/")]
    assert len(badges) == len(set(badges)) == sum(1 for k in merged if k.startswith("badges/"))
    for folder in root.glob("site-shard-*-of-3"):
        assert not (folder / "index.html").exists()  # the home page is the merge's
        assert not (folder / "pagefind").exists()


def test_a_change_reaches_the_merge_through_the_shards_that_own_it(
    sharded: dict[str, Path],
) -> None:
    root, org, catalog = sharded["root"], sharded["org"], sharded["catalog"]
    descriptor = org / "orders-service" / "catalog-info.yaml"
    text = descriptor.read_text("utf-8")
    assert "description:" in text
    descriptor.write_text(
        text.replace("description:", "description: Sharded edit.", 1), encoding="utf-8"
    )
    try:
        single = run_backlot(
            "build", org, "-o", root / "single", "--cache-dir", root / "cache-single", env=EPOCH
        )
        assert single.returncode == 0, single.stderr
        made = run_backlot("catalog", org, "-o", catalog, "--cache-dir", root / "cache-cat")
        assert made.returncode == 0, made.stderr
        before = tree(root / "merged")
        folders = build_shards(root, org, catalog, 3)
        said = merge(root, catalog, folders, root / "merged")
        after = tree(root / "merged")
        assert differences(tree(root / "single"), after) == []
        changed = differences(before, after)
        page = "catalog/default/component/orders-service/index.html"
        assert page in changed and "Sharded edit." in after[page].decode()
        assert len(changed) < len(after) / 10  # the rest is left as it was
        portal = [k for k in changed if not k.startswith("docs/")]
        counts = re.search(r"(\d+) files written, \d+ unchanged, (\d+) removed", said)
        assert counts is not None, said
        assert int(counts[1]) + int(counts[2]) == len(portal)  # it wrote exactly those
        assert "1 copied, 6 unchanged" in said  # the one docs site it changed
    finally:
        descriptor.write_text(text, encoding="utf-8")


def test_a_merge_refuses_shards_that_do_not_make_one_set(
    sharded: dict[str, Path], tmp_path: Path
) -> None:
    root, catalog = sharded["root"], sharded["catalog"]
    folders = sorted(root.glob("site-shard-*-of-3"))
    out = tmp_path / "site"

    def refused(*shards: Path, catalog: Path = catalog) -> str:
        done = run_backlot(
            "merge", *shards, "--catalog", catalog, "-o", out, "--cache-dir", tmp_path / "c"
        )
        assert done.returncode == 1
        assert not out.exists() or not any(out.rglob("*.html"))  # nothing written
        return done.stderr

    assert "shard 2/3 missing: a merge needs every shard of the set" in refused(
        folders[0], folders[2]
    )
    assert "shard 1/3 is given twice" in refused(folders[0], folders[0], *folders[1:])
    other = tmp_path / "other.json"
    other.write_bytes(catalog.read_bytes().replace(b'"entities": [', b'"entities":  [', 1))
    assert "built from another catalog.json than this merge's" in refused(*folders, catalog=other)
    assert "not a finished shard" in refused(*folders, tmp_path)

    # A shard folder is an artifact passed between jobs: its list is not trusted.
    tampered = tmp_path / "tampered"
    shutil.copytree(folders[0], tampered)
    manifest = json.loads((tampered / SHARD_FILE).read_text())
    manifest["files"].append("../../etc/passwd")
    (tampered / SHARD_FILE).write_text(json.dumps(manifest))
    said = refused(tampered, *folders[1:])
    assert "lists '../../etc/passwd', which is not a file of an entity it owns" in said
    manifest["files"].pop()
    (tampered / SHARD_FILE).write_text(json.dumps(manifest))
    site = next(
        s["storage_path"] for s in manifest["docs"]["sites"].values() if s["status"] != "failed"
    )
    (tampered / "docs" / site / "secret.html").symlink_to("/etc/passwd")
    said = refused(*sorted([tampered, *folders[1:]]))
    assert "secret.html: a symbolic link in the docs of" in said


def test_shard_pages_with_context_sources_are_those_of_one_build(tmp_path: Path) -> None:
    """A shard asks no context source: whether a page has an Activity view depends on
    its annotations alone, so its pages are those of a build that asked."""
    fake = FakeArgoCd()
    fake.start()
    try:
        fake.add("orders-prod", health="Degraded")
        fake.add("billing-prod")
        config = context_org(tmp_path, fake)
        env = {"ARGOCD_TOKEN": fake.token, **EPOCH}
        whole = run_backlot("build", "--config", config, cwd=tmp_path, env=env)
        assert whole.returncode == 0, whole.stdout + whole.stderr
        made = run_backlot("catalog", "--config", config, "-o", "cat.json", cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        requests = fake.counts["requests"]
        for index in (1, 2):
            done = run_backlot(
                "build", "--config", config, "--shard", f"{index}/2", "--catalog", "cat.json",
                "--cache-dir", f"cache-{index}", cwd=tmp_path, env=env,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
        assert fake.counts["requests"] == requests  # no source was asked
        single = tree(tmp_path / "site")
        pages = {}
        for index in (1, 2):
            pages.update(tree(tmp_path / f"site-shard-{index}-of-2"))
        overview = "catalog/default/component/orders/index.html"
        assert b'data-activity-src="activity/summary.js"' in pages[overview]
        for path, data in pages.items():
            if path.startswith("catalog/"):
                assert data == single[path], path
    finally:
        fake.stop()


def test_shards_index_their_own_search_parts_when_there_are_as_many(tmp_path: Path) -> None:
    """With as many search parts as shards, each shard indexes its part (its pages are all
    there) and the merge runs no Pagefind: still the bytes of one build."""
    config = tmp_path / "backlot.yaml"
    config.write_text(
        f"catalog:\n  sources:\n    - path: {EXAMPLES}\nsite:\n  search_parts: 2\n", "utf-8"
    )
    single = run_backlot(
        "build", "--config", config, "-o", tmp_path / "single", "--cache-dir", tmp_path / "c0",
        env=EPOCH,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr
    catalog = tmp_path / "catalog.json"
    made = run_backlot("catalog", "--config", config, "-o", catalog, "--cache-dir", tmp_path / "cc")
    assert made.returncode == 0, made.stderr
    folders = []
    for index in (1, 2):
        folder = tmp_path / f"site-shard-{index}-of-2"
        done = run_backlot(
            "build", "--config", config, "--shard", f"{index}/2", "--catalog", catalog,
            "-o", folder, "--cache-dir", tmp_path / f"c{index}", env=EPOCH,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        manifest = json.loads((folder / SHARD_FILE).read_text())
        assert manifest["search_part"] == index - 1
        assert any(f.startswith("pagefind/") for f in manifest["files"])
        folders.append(folder)
    merged = run_backlot(
        "merge", *folders, "--config", config, "--catalog", catalog, "-o", tmp_path / "merged",
        "--cache-dir", tmp_path / "cm", env=EPOCH,
    )  # fmt: skip
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert not list((tmp_path / "cm").glob("search/part-*"))  # no part indexed here
    assert differences(tree(tmp_path / "single"), tree(tmp_path / "merged")) == []
    assert json.loads((tmp_path / "merged/pagefind/parts.json").read_text())["parts"] == ["part-1/"]


def test_a_merge_killed_at_any_moment_is_finished_by_the_next(
    sharded: dict[str, Path], tmp_path: Path
) -> None:
    root, catalog = sharded["root"], sharded["catalog"]
    folders = sorted(root.glob("site-shard-*-of-3"))
    out, cache = tmp_path / "site", tmp_path / "cache"
    args = ["merge", *folders, "--catalog", catalog, "-o", out, "--cache-dir", cache]
    for delay in (0.6, 1.2, 1.8):
        running = subprocess.Popen(
            [sys.executable, "-m", "generator", *map(str, args)],
            env={**os.environ, **EPOCH},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its workers and Pagefind die with it
        )
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running.pid, signal.SIGKILL)
        running.wait()
    done = run_backlot(*args, env=EPOCH)
    assert done.returncode == 0, done.stdout + done.stderr
    assert differences(tree(sharded["single"]), tree(out)) == []
