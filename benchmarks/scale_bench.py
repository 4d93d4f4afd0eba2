"""Benchmark of issue 21's targets: how a build grows from 1,000 to 50,000 entities.

For each size, on a private copy of the synthetic organisation (``synthetic_org.py``) and
with a snapshot of ``generator`` (so that commits during the run change nothing), each
command in a fresh process measured by ``measure.py`` (wall, CPU, peak memory of the whole
process tree):

1. the catalog stage alone, cold;
2. ``backlot build``, cold (fresh output and cache);
3. ``backlot build`` again, nothing changed;
4. ``backlot build`` after one component's description changed.

It prints each figure beside its target, the per-entity cost at every size and the
exponent of a power law fitted to the cold builds (1.0 is linear), and writes
``benchmarks/results/scale.json``. Average entity page size (Overviews and other views)
and graph-cache bytes per cached graph are read from the cold build.

Usage::

    python benchmarks/scale_bench.py            # 1,000 and 10,000 entities (~5 min)
    python benchmarks/scale_bench.py --with-50k # and 50,000 (~15 min more)

Exits 0 when every target that applies passes, 1 when one fails, 2 when a command fails.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from catalog_bench import RESULTS, run_header, synthetic_org  # noqa: E402
from measure import print_table  # noqa: E402
from site_bench import CommandFailed, Runner, edit_description, snapshot_generator  # noqa: E402

# Issue 21's targets, by entities (None: no target at that size).
TARGETS: dict[str, dict[int, float]] = {
    "catalogSeconds": {10_000: 2.0, 50_000: 10.0},
    "catalogPeakMB": {50_000: 400.0},
    "coldSeconds": {10_000: 30.0, 50_000: 150.0},
    "coldPeakMB": {50_000: 1024.0},
    "changeSeconds": {10_000: 2.0, 50_000: 8.0},
}
PAGE_KB = 15.0  # average output per entity page
GRAPH_KB = 5.0  # graph cache per graph
EXPONENT = 1.1  # "linear": a power law no steeper than this


def dir_bytes(root: Path) -> tuple[int, int]:
    """(files, bytes) below ``root``."""
    files = size = 0
    for path in root.rglob("*"):
        if path.is_file():
            files += 1
            size += path.stat().st_size
    return files, size


def entity_page_kb(site: Path) -> float:
    """The average size of an entity page (an Overview or another view, with its inline
    graphs), in KB."""
    pages = size = 0
    for page in (site / "catalog").glob("*/*/*/**/index.html"):
        if not page.relative_to(site / "catalog").parts[0].startswith("_"):
            pages += 1
            size += page.stat().st_size
    return size / 1000 / max(pages, 1)


def fitted_exponent(points: list[tuple[int, float]]) -> float | None:
    """b of seconds = a * entities**b, least squares in log-log space."""
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(s, 1e-9)) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def measure_size(entities: int, work: Path, runner: Runner) -> dict[str, Any]:
    source, _ = synthetic_org(entities, 1, True, work)
    org = work / f"org-{entities}"
    shutil.copytree(source, org)
    site, cache = work / f"site-{entities}", work / f"cache-{entities}"
    label = f"{entities // 1000}k"
    catalog = runner.run(
        f"{label}-catalog", ["catalog", org, "-o", work / "c.json", "--cache-dir", work / "cc"]
    )
    shutil.rmtree(work / "cc")
    cold = runner.run(f"{label}-cold", ["build", org, "-o", site, "--cache-dir", cache])
    graphs, graph_bytes = dir_bytes(cache / "graphs")
    output_files, output_bytes = dir_bytes(site)
    same = runner.run(f"{label}-unchanged", ["build", org, "-o", site, "--cache-dir", cache])
    edit_description(org, "Edited by the scale benchmark.")
    change = runner.run(f"{label}-change", ["build", org, "-o", site, "--cache-dir", cache])
    result = {
        "entities": entities,
        "catalogSeconds": catalog["wallSeconds"],
        "catalogPeakMB": catalog["peakRssMB"],
        "coldSeconds": cold["wallSeconds"],
        "coldCpuSeconds": cold["cpuSeconds"],
        "coldPeakMB": cold["peakRssMB"],
        "unchangedSeconds": same["wallSeconds"],
        "changeSeconds": change["wallSeconds"],
        "changeWritten": change.get("site", {}).get("written"),
        "outputFiles": output_files,
        "outputMB": output_bytes / 2**20,
        "entityPageKB": entity_page_kb(site),
        "graphs": graphs,
        "graphKB": graph_bytes / 1000 / max(graphs, 1),
    }
    shutil.rmtree(site)
    shutil.rmtree(cache)
    shutil.rmtree(org)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--with-50k", action="store_true", help="also 50,000 entities")
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000] + ([50_000] if args.with_50k else [])
    results: dict[str, Any] = run_header("scale", "with-50k" if args.with_50k else "1k-10k")
    runs = []
    with tempfile.TemporaryDirectory(prefix="backlot-scale-") as name:
        work = Path(name)
        runner = Runner(sys.executable, work / "logs", snapshot_generator(work / "src"))
        try:
            for entities in sizes:
                runs.append(measure_size(entities, work, runner))
        except CommandFailed as exc:
            print(exc, file=sys.stderr)
            return 2
    exponent = fitted_exponent([(r["entities"], r["coldSeconds"]) for r in runs])
    results["sizes"] = runs
    results["coldExponent"] = exponent
    rows: list[Any] = []
    ok = True

    def check(label: str, value: float, limit: float | None, unit: str) -> None:
        nonlocal ok
        verdict = ""
        if limit is not None:
            verdict = "PASS" if value <= limit else "FAIL"
            ok &= verdict == "PASS"
        shown = f"{value:,.1f} {unit}"
        rows.append((label, shown, f"≤ {limit:,.0f} {unit}" if limit else "", verdict))

    for r in runs:
        n = r["entities"]
        rows.append(f"{n:,} entities")
        check("catalog, cold", r["catalogSeconds"], TARGETS["catalogSeconds"].get(n), "s")
        check("catalog, peak", r["catalogPeakMB"], TARGETS["catalogPeakMB"].get(n), "MB")
        check("build, cold", r["coldSeconds"], TARGETS["coldSeconds"].get(n), "s")
        check(
            "build, cold, peak (process tree)", r["coldPeakMB"], TARGETS["coldPeakMB"].get(n), "MB"
        )
        rows.append(("  per entity", f"{1000 * r['coldSeconds'] / n:.2f} ms", "", ""))
        check("build, nothing changed", r["unchangedSeconds"], None, "s")
        check(
            "build, one description changed",
            r["changeSeconds"],
            TARGETS["changeSeconds"].get(n),
            "s",
        )
        check("entity page, average", r["entityPageKB"], PAGE_KB, "KB")
        check("graph cache per graph", r["graphKB"], GRAPH_KB, "KB")
        rows.append(("output", f"{r['outputFiles']:,} files, {r['outputMB']:,.0f} MB", "", ""))
    if exponent is not None:
        rows.append("growth")
        verdict = "PASS" if exponent <= EXPONENT else "FAIL"
        ok &= verdict == "PASS"
        rows.append(("cold build ∝ entities^b", f"b = {exponent:.2f}", f"≤ {EXPONENT}", verdict))
    print_table("Scale", rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'scale.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
