"""Benchmark of a sharded build: `backlot build --shard I/N` on N machines, then `merge`.

GitHub Actions would run the N shards side by side on N runners; here they run one after
another on this machine, each in a fresh process with a cache of its own (as a fresh
runner has), measured by ``measure.py``. From those times:

* **critical path** = catalog + the slowest shard + merge: the wall time with N runners;
* **speed-up** = one whole ``backlot build`` (cold, same organisation, same run) over
  the critical path;
* **machine time** = catalog + every shard + merge: what the N runners cost together.

Every merged portal is compared byte for byte with the single build's (SOURCE_DATE_EPOCH
fixed): a merge must give the same files.

Usage::

    python benchmarks/shard_bench.py             # 10,000 entities; 2, 4 and 8 shards (~10 min)
    python benchmarks/shard_bench.py --quick     # 1,000 entities; 2 and 4 shards

Writes ``benchmarks/results/shards.json``; exits 0 when every merge gave the single
build's bytes, 1 when one did not, 2 when a command fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from catalog_bench import RESULTS, run_header, synthetic_org, tail  # noqa: E402
from measure import measure, print_table  # noqa: E402

ENV = {"SOURCE_DATE_EPOCH": "1764000000"}
# What a GitHub-hosted job spends before and after the build: start a runner, check out,
# install the locked dependencies, move the artifact. Not measurable here; an estimate
# from the portal workflow's own runs, used only for the break-even line.
JOB_OVERHEAD_SECONDS = 90.0


def backlot(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "generator", *map(str, args)]


def run(name: str, cmd: list[str], logs: Path) -> dict[str, Any]:
    slug = name.replace(" ", "-").replace("/", "-of-")
    out, err = logs / f"{slug}.out", logs / f"{slug}.err"
    result = measure(cmd, cwd=REPO_ROOT, env={**os.environ, **ENV}, stdout=out, stderr=err)
    if result["returncode"] != 0:
        print(f"{name} failed (exit {result['returncode']}):\n{tail(err)}", file=sys.stderr)
        sys.exit(2)
    print(f"  {name}: {result['wallSeconds']:.1f} s, {result['peakRssMB']:.0f} MB", flush=True)
    return result


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 entities; 2 and 4 shards")
    parser.add_argument("--entities", type=int, help="default: 10,000 (1,000 with --quick)")
    parser.add_argument("--no-cache", action="store_true", help="regenerate the organisation")
    parser.add_argument(
        "--search-parts",
        action="store_true",
        help="site.search_parts = N for N shards: each shard indexes its part, the merge none "
        "(the single build keeps one index, so bytes are not compared: tests/test_shards.py does)",
    )
    args = parser.parse_args(argv)
    entities = args.entities or (1_000 if args.quick else 10_000)
    counts = (2, 4) if args.quick else (2, 4, 8)
    results: dict[str, Any] = run_header("shards", "quick" if args.quick else "full")
    results["entities"] = entities
    results["searchPartsPerShard"] = args.search_parts
    with tempfile.TemporaryDirectory(prefix="backlot-shards-") as scratch_name:
        scratch = Path(scratch_name)
        org, _ = synthetic_org(entities, 1, not args.no_cache, scratch)
        logs = scratch / "logs"
        logs.mkdir()
        print(f"{entities} entities in {org}", flush=True)
        single = run(
            "single",
            backlot("build", org, "-o", scratch / "single", "--cache-dir", scratch / "c"),
            logs,
        )
        expected = tree(scratch / "single")
        shutil.rmtree(scratch / "c")
        catalog_file = scratch / "catalog.json"
        catalog = run(
            "catalog",
            backlot("catalog", org, "-o", catalog_file, "--cache-dir", scratch / "cc"),
            logs,
        )
        runs: dict[str, Any] = {}
        for count in counts:
            base = scratch / f"n{count}"
            base.mkdir()
            settings: list[str | Path] = []
            if args.search_parts:
                (base / "backlot.yaml").write_text(
                    f"catalog:\n  sources:\n    - path: {json.dumps(str(org))}\n"
                    f"site:\n  search_parts: {count}\n",
                    "utf-8",
                )
                settings = ["--config", base / "backlot.yaml"]
            shards = []
            for index in range(1, count + 1):
                folder = base / f"site-shard-{index}-of-{count}"
                shards.append(
                    run(
                        f"shard {index}/{count}",
                        backlot(
                            "build",
                            org,
                            "--shard",
                            f"{index}/{count}",
                            "--catalog",
                            catalog_file,
                            "-o",
                            folder,
                            "--cache-dir",
                            base / f"c{index}",
                            *settings,
                        ),
                        logs,
                    )
                )
            artifact = max(
                size_mb(base / f"site-shard-{i}-of-{count}") for i in range(1, count + 1)
            )
            merge = run(
                f"merge of {count}",
                backlot(
                    "merge",
                    *sorted(base.glob("site-shard-*")),
                    "--catalog",
                    catalog_file,
                    "-o",
                    base / "site",
                    "--cache-dir",
                    base / "cm",
                    *settings,
                ),
                logs,
            )
            merged = tree(base / "site")
            differ = (
                []
                if args.search_parts  # another index layout than the single build's
                else sorted(
                    k for k in expected.keys() | merged.keys() if expected.get(k) != merged.get(k)
                )
            )
            slowest = max(s["wallSeconds"] for s in shards)
            critical = catalog["wallSeconds"] + slowest + merge["wallSeconds"]
            runs[str(count)] = {
                "shardSeconds": [round(s["wallSeconds"], 2) for s in shards],
                "shardPeakMB": round(max(s["peakRssMB"] for s in shards), 1),
                "mergeSeconds": round(merge["wallSeconds"], 2),
                "mergePeakMB": round(merge["peakRssMB"], 1),
                "criticalPathSeconds": round(critical, 2),
                "speedUp": round(single["wallSeconds"] / critical, 2),
                "machineSeconds": round(
                    catalog["wallSeconds"]
                    + sum(s["wallSeconds"] for s in shards)
                    + merge["wallSeconds"],
                    2,
                ),
                "largestShardMB": round(artifact, 1),
                "filesDiffering": len(differ),
                "firstDiffering": differ[:5],
            }
            shutil.rmtree(base)
    results["single"] = {
        "wallSeconds": round(single["wallSeconds"], 2),
        "peakRssMB": round(single["peakRssMB"], 1),
    }
    results["catalogSeconds"] = round(catalog["wallSeconds"], 2)
    results["shards"] = runs
    results["jobOverheadSecondsAssumed"] = JOB_OVERHEAD_SECONDS
    rows: list[Any] = [
        f"{entities} entities, one machine",
        ("whole build, cold", f"{single['wallSeconds']:.1f} s", "", ""),
        ("catalog job", f"{catalog['wallSeconds']:.1f} s", "", ""),
    ]
    ok = True
    for count, r in runs.items():
        same = r["filesDiffering"] == 0
        ok &= same
        with_overhead = r["criticalPathSeconds"] + 3 * JOB_OVERHEAD_SECONDS
        alone = single["wallSeconds"] + JOB_OVERHEAD_SECONDS
        verdict = "PASS" if same else "FAIL"
        rows += [
            f"{count} shards",
            ("slowest shard", f"{max(r['shardSeconds']):.1f} s", "", ""),
            ("merge", f"{r['mergeSeconds']:.1f} s", "", ""),
            ("critical path", f"{r['criticalPathSeconds']:.1f} s", "", ""),
            ("speed-up over one build", f"{r['speedUp']:.2f}x", "", ""),
            ("machine time", f"{r['machineSeconds']:.1f} s", "", ""),
            (
                f"with {JOB_OVERHEAD_SECONDS:.0f} s per job (3 jobs deep)",
                f"{with_overhead:.0f} s vs {alone:.0f} s",
                "",
                "faster" if with_overhead < alone else "slower",
            ),
            (
                ("merged = one build's bytes", f"{r['filesDiffering']} files differ", "0", verdict)
                if not args.search_parts
                else ("merged = one build's bytes", "not compared (search in N parts)", "", "")
            ),
        ]
    print_table("Sharded build", rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "shards-search-parts.json" if args.search_parts else "shards.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS / name}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
