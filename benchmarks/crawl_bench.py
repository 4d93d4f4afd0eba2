"""Benchmark of the GitHub crawl: what a cold, a warm and a slightly changed run cost.

Starts the tests' fake GitHub API (``tests/github_fake.py``: GraphQL listing, REST blobs,
trees and tarballs, over HTTP on 127.0.0.1) with an organisation of 2,000 repositories:
10 % with docs (``backstage.io/techdocs-ref: dir:.``), 1 % with a descriptor over GitHub's
512 kB text limit (truncated in the listing), 5 % with none. Then runs, in a fresh
process each time, the way a user does::

    python -m generator docs build --config backlot.yaml    # crawl → catalog → docs

three times: cold (empty cache), warm (nothing changed), and after 10 repositories pushed
a new descriptor. It counts the requests the fake answered by kind, reads GraphQL points
and the crawl's own timing from the crawl artifact, and sets them beside what Backstage's
GitHub discovery needs for the same organisation on every run: one listing page of 25
repositories, plus one file read per repository with a descriptor.

Targets (from the issue): cold ≤ ⌈repos/page⌉ listing requests + one per truncated blob +
one per docs tree + one per 50 descriptors for when each last changed (GraphQL history,
remembered by blob id); warm with 10 changed fetches exactly those 10 descriptors (new
blobs in the store), dates them in one query, and no docs tree.

Usage::

    python benchmarks/crawl_bench.py            # 2,000 repositories
    python benchmarks/crawl_bench.py --quick    # 200

Writes ``benchmarks/results/crawl.json``; exits 0 when every target passes, 1 when one
fails, 2 when a command fails.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
for path in (HERE, REPO_ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from catalog_bench import child_env, run_header  # noqa: E402

from tests.github_fake import FakeGitHub  # noqa: E402

RESULTS = HERE / "results"
PAGE_SIZE = 50
BACKSTAGE_PAGE = 25
CHANGED = 10


def descriptor(name: str, docs: bool, note: str = "") -> str:
    annotations = "  annotations:\n    backstage.io/techdocs-ref: dir:.\n" if docs else ""
    return (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
        f"  name: {name}\n{annotations}spec:\n  type: service\n  lifecycle: production\n"
        f"  owner: team-a\n{note}"
    )


def organisation(fake: FakeGitHub, repos: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    fake.add(
        "team",
        {
            "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Group\n"
            "metadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n"
        },
    )
    for i in range(repos - 1):
        name = f"svc-{i:05d}"
        if i % 20 == 19:
            fake.add(name, {"README.md": "# no descriptor\n"})
            counts["without"] += 1
            continue
        docs = i % 10 == 3
        files = {"catalog-info.yaml": descriptor(name, docs), "src/main.py": "print(1)\n" * 50}
        if docs:
            files["mkdocs.yml"] = f"site_name: {name}\n"
            files["docs/index.md"] = f"# {name}\n\nHow it works.\n"
            counts["docs"] += 1
        if i % 100 == 57:
            files["catalog-info.yaml"] = descriptor(name, docs, "# " + "x" * 600_000 + "\n")
            counts["truncated"] += 1
        fake.add(name, files)
        counts["with"] += 1
    counts["with"] += 1  # the team
    return dict(counts)


def run(work: Path, label: str) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "generator", "docs", "build", "--config", "backlot.yaml"],
        cwd=work,
        env={**child_env(), "GITHUB_TOKEN": "ghp_test-token-0123456789"},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    artifact = json.loads((work / ".backlot/crawl/github-acme.json").read_text())
    print(f"  {label}: exit {done.returncode}, {wall:.1f} s", flush=True)
    return {
        "returncode": done.returncode,
        "wallSeconds": wall,
        "crawl": artifact["report"],
        "stderr": done.stderr[-2000:] if done.returncode not in (0, 1) else "",
    }


def blob_count(work: Path) -> int:
    return sum(1 for p in (work / ".backlot/crawl/blobs").rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repos", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="200 repositories")
    parser.add_argument("--output", type=Path, default=RESULTS / "crawl.json")
    args = parser.parse_args(argv)
    repos = 200 if args.quick else args.repos
    result = run_header("crawl", f"{repos:,} repositories" + (", quick" if args.quick else ""))
    fake = FakeGitHub()
    fake.start()
    work = Path(tempfile.mkdtemp(prefix="backlot-crawl-bench-"))
    try:
        org = organisation(fake, repos)
        (work / "backlot.yaml").write_text(
            "catalog:\n  sources:\n    - type: github\n      org: acme\n"
            f"      api_url: {fake.base}\n      page_size: {PAGE_SIZE}\n"
        )
        runs: dict[str, dict[str, Any]] = {}
        print(f"Organisation: {repos:,} repositories, {org} …", flush=True)
        for label in ("cold", "warm"):
            fake.counts.clear()
            runs[label] = run(work, label)
            runs[label]["requests"] = dict(fake.counts)
        # Plain descriptors (no docs, not truncated), spread over the organisation.
        plain = [
            f"svc-{i:05d}"
            for i in range(repos - 1)
            if i % 20 != 19 and i % 10 != 3 and i % 100 != 57
        ]
        changed = plain[:: max(1, len(plain) // CHANGED)][:CHANGED]
        for name in changed:
            fake.repos[name].push(
                {"catalog-info.yaml": descriptor(name, False, "  # changed\n").encode()}
            )
        before = blob_count(work)
        fake.counts.clear()
        runs["changed"] = run(work, f"{len(changed)} changed")
        runs["changed"]["requests"] = dict(fake.counts)
        runs["changed"]["newBlobs"] = blob_count(work) - before
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)

    pages = math.ceil(repos / PAGE_SIZE)
    backstage = math.ceil(repos / BACKSTAGE_PAGE) + org["with"]
    cold, warm, change = runs["cold"], runs["warm"], runs["changed"]

    def total(r: dict[str, Any]) -> int:
        """API requests: a tarball's download from codeload (where the API redirects)
        is not one, and counts against no limit."""
        return int(sum(n for kind, n in r["requests"].items() if kind != "codeload"))

    from generator.sources.github import HISTORY_BATCH

    dates = math.ceil(org["with"] / HISTORY_BATCH)  # when each descriptor last changed
    cold_limit = pages + org["truncated"] + org["docs"] + dates
    targets = {
        "cold": {"limit": cold_limit, "measured": total(cold), "pass": total(cold) <= cold_limit},
        "warm": {"limit": pages, "measured": total(warm), "pass": total(warm) <= pages},
        "changed": {
            "newBlobs": change.get("newBlobs"),
            "docsFetched": change["requests"].get("tarball", 0),
            "pass": change.get("newBlobs") == len(changed)
            and change["requests"].get("tarball", 0) == 0
            and total(change) <= pages + 1,  # + the query dating the 10 changed
        },
    }
    result.update(org=org, runs=runs, backstageRequestsPerRun=backstage, targets=targets)
    failed = any(r["returncode"] not in (0, 1) for r in runs.values())

    rows = [("", "cold", "warm", f"{len(changed)} changed", "Backstage, every run")]
    rows.append(
        (
            "API requests",
            f"{total(cold):,}",
            f"{total(warm):,}",
            f"{total(change):,}",
            f"{backstage:,} ({math.ceil(repos / BACKSTAGE_PAGE)} pages + {org['with']:,} files)",
        )
    )
    for kind in ("graphql", "blobs", "tarball", "codeload"):
        rows.append(
            (
                f"  {kind}",
                *(str(r["requests"].get(kind, 0)) for r in (cold, warm, change)),
                "",
            )
        )
    rows.append(
        (
            "GraphQL points",
            *(str(r["crawl"]["budget"].get("graphql_points", 0)) for r in (cold, warm, change)),
            "",
        )
    )
    rows.append(
        ("crawl time", *(f"{r['crawl']['seconds']:.1f} s" for r in (cold, warm, change)), "")
    )
    rows.append(
        ("command wall time", *(f"{r['wallSeconds']:.1f} s" for r in (cold, warm, change)), "")
    )
    rows.append(("new descriptor blobs", "", "", str(change.get("newBlobs")), ""))
    verdicts = {k: "PASS" if v["pass"] else "FAIL" for k, v in targets.items()}
    rows.append(
        (
            "target",
            f"≤ {cold_limit} {verdicts['cold']}",
            f"≤ {pages} {verdicts['warm']}",
            f"{len(changed)} blobs, 0 docs {verdicts['changed']}",
            "",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    print(f"\nBacklot crawl benchmark ({result['mode']}, page size {PAGE_SIZE})")
    for row in rows:
        print("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nWrote {args.output}")
    if failed:
        for label, r in runs.items():
            if r["stderr"]:
                print(f"{label} failed:\n{r['stderr']}", file=sys.stderr)
        return 2
    return 0 if all(v["pass"] for v in targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
