"""Benchmark of Backlot's catalog stage on a synthetic organisation.

Generates (or reuses from ``benchmarks/results/cache/``) a synthetic organisation of
10,000 entities in about 2,000 repositories (see ``synthetic_org.py``), then runs the
catalog stage the way a user does, in a fresh process each time::

    python -m generator catalog ORG -o catalog.json

and measures wall time and peak memory of each run (see ``measure.py``). As a floor for
comparison it also times, in-process, reading every catalog file and parsing it with
``yaml.compose_all(..., Loader=yaml.CSafeLoader)`` (libyaml, keeping line marks): the catalog
stage cannot be faster than that.

Targets: the catalog stage of 10,000 entities takes at most 10 s (median wall time) and at
most 500 MB of peak resident memory.

Usage::

    python benchmarks/catalog_bench.py              # 10,000 entities, 3 runs
    python benchmarks/catalog_bench.py --quick      # 1,000 entities
    python benchmarks/catalog_bench.py --entities 20000 --runs 5

Writes ``benchmarks/results/catalog.json``; exits 0 when every target passes, 1 when a
target fails, 2 when the catalog command fails or its output is not what was generated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from measure import measure  # noqa: E402
from synthetic_org import GENERATOR_VERSION, generate  # noqa: E402

RESULTS = HERE / "results"
CACHE = RESULTS / "cache"
TARGET_SECONDS = 10.0
TARGET_RSS_MB = 500.0
TARGET_ENTITIES = 10_000


def synthetic_org(
    entities: int, seed: int, use_cache: bool, scratch: Path
) -> tuple[Path, dict[str, Any]]:
    """The organisation's folder and its generation stats, from the cache when possible."""
    if not use_cache:
        out = scratch / "org"
        return out, generate(out, entities, seed)
    key = f"org-n{entities}-s{seed}-v{GENERATOR_VERSION}"
    out, manifest = CACHE / key, CACHE / f"{key}.json"
    if out.is_dir() and manifest.is_file():
        stats: dict[str, Any] = json.loads(manifest.read_text())
        stats["cached"] = True
        return out, stats
    stats = generate(out, entities, seed)
    manifest.write_text(json.dumps(stats, indent=2) + "\n")  # written last: marks completion
    stats["cached"] = False
    return out, stats


def catalog_files(org: Path) -> list[Path]:
    """Every catalog YAML file of the organisation (repository roots and Location targets)."""
    return sorted(p for p in org.rglob("*.yaml") if p.is_file())


def yaml_floor(files: list[Path], runs: int) -> list[float]:
    """Seconds to read and compose every file with libyaml, once per run."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for path in files:
            for _node in yaml.compose_all(path.read_bytes(), Loader=yaml.CSafeLoader):
                pass
        times.append(time.perf_counter() - started)
    return times


def git_revision() -> str | None:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "generator"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{rev}{'+dirty' if dirty else ''}"


def run_header(benchmark: str, mode: str) -> dict[str, Any]:
    """The part of every results file that says what ran where: prints the load first,
    since a busy machine is the usual reason a number is off."""
    load = os.getloadavg()
    print(f"Load average at start: {', '.join(f'{x:.2f}' for x in load)}", flush=True)
    return {
        "benchmark": benchmark,
        "mode": mode,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": git_revision(),
        "loadAverage": {"start": list(load)},
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }


def child_env() -> dict[str, str]:
    """The environment of the measured command: this checkout's ``generator`` importable."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")
    return env


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def compare_summary(summary: dict[str, Any], stats: dict[str, Any]) -> list[str]:
    """Differences between the catalog's summary and what was generated."""
    problems = []
    if summary.get("entities") != stats["entities"]:
        problems.append(
            f"summary.entities is {summary.get('entities')}, generated {stats['entities']}"
        )
    if summary.get("errors"):
        problems.append(f"{summary['errors']} errors reported on an org with no invalid document")
    by_kind = summary.get("byKind") or {}
    for kind, count in stats["byKind"].items():
        if by_kind.get(kind) != count:
            problems.append(f"summary.byKind.{kind} is {by_kind.get(kind)}, generated {count}")
    return problems


def print_report(result: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str, str]] = []
    org, floor, cat = result["org"], result["yamlFloor"], result.get("catalog") or {}
    rows.append(("entities", f"{org['entities']:,}", "", ""))
    rows.append(("files / repositories", f"{org['files']:,} / {org['repos']:,}", "", ""))
    rows.append(("YAML", f"{org['bytes'] / 1e6:.1f} MB", "", ""))
    rows.append(
        (
            "YAML floor (libyaml compose_all)",
            f"{floor['minSeconds']:.2f} s min, {floor['medianSeconds']:.2f} s median",
            "",
            "",
        )
    )
    if cat.get("runs"):
        targets = result["targets"]
        wall_ok = "PASS" if targets["wall"]["pass"] else "FAIL"
        rss_ok = "PASS" if targets["rss"]["pass"] else "FAIL"
        rows.append(
            (
                "catalog wall time",
                f"{cat['minSeconds']:.2f} s min, {cat['medianSeconds']:.2f} s median",
                f"≤ {TARGET_SECONDS:g} s (median)",
                wall_ok if targets["wall"]["applies"] else f"({wall_ok}, not 10k)",
            )
        )
        rows.append(
            (
                "catalog CPU (user + sys)",
                f"{cat['medianCpuSeconds']:.2f} s median",
                "",
                "",
            )
        )
        out_bytes = cat["runs"][-1].get("outputBytes") or 0
        rows.append(("catalog.json written", f"{out_bytes / 1e6:.1f} MB", "", ""))
        rows.append(("throughput", f"{cat['entitiesPerSecond']:,.0f} entities/s", "", ""))
        rows.append(("vs YAML floor", f"{cat['medianSeconds'] / floor['minSeconds']:.1f}x", "", ""))
        rows.append(
            (
                "peak RSS",
                f"{cat['peakRssMB']:.0f} MB",
                f"≤ {TARGET_RSS_MB:g} MB",
                rss_ok if targets["rss"]["applies"] else f"({rss_ok}, not 10k)",
            )
        )
    summary = cat.get("summary")
    if summary is not None:
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted((summary.get("byKind") or {}).items()))
        rows.append(("catalog summary", f"{summary.get('entities')} entities", "", ""))
        rows.append(("  by kind", kinds, "", ""))
        extra = {k: v for k, v in summary.items() if k not in ("entities", "byKind")}
        rows.append(("  other", json.dumps(extra), "", ""))
    expected = org.get("problems", {})
    rows.append(
        (
            "planted problems",
            ", ".join(f"{k} {v}" for k, v in expected.items()),
            "",
            "",
        )
    )
    if cat.get("summaryMismatch"):
        rows.append(("summary mismatch", "; ".join(cat["summaryMismatch"]), "", "FAIL"))
    if cat.get("error"):
        rows.append(("catalog command", cat["error"], "", "FAIL"))

    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        width = max(len(r[0]) for r in rows)
        print(f"\nBacklot catalog benchmark ({result['mode']})")
        for name, value, target, verdict in rows:
            print(f"  {name:<{width}}  {value}  {target}  {verdict}".rstrip())
        return
    table = Table(title=f"Backlot catalog benchmark ({result['mode']})")
    for column in ("measure", "value", "target", "verdict"):
        table.add_column(column)
    for name, value, target, verdict in rows:
        style = "green" if verdict == "PASS" else "red" if "FAIL" in verdict else None
        table.add_row(name, value, target, verdict, style=style)
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--entities", "-n", type=int, default=TARGET_ENTITIES)
    size.add_argument("--quick", action="store_true", help="1,000 entities")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="catalog runs (default 3)")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter that runs `-m generator`"
    )
    parser.add_argument("--no-cache", action="store_true", help="generate into a temp dir")
    parser.add_argument("--output", type=Path, default=RESULTS / "catalog.json")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (catalog.json, logs) and print it"
    )
    args = parser.parse_args(argv)
    entities = 1_000 if args.quick else args.entities
    mode = f"{entities:,} entities" + (", quick" if args.quick else "")

    RESULTS.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="backlot-catalog-bench-"))
    try:
        print(f"Synthetic organisation: {entities:,} entities, seed {args.seed} …", flush=True)
        org, stats = synthetic_org(entities, args.seed, not args.no_cache, scratch)
        files = catalog_files(org)
        how = "cached" if stats.get("cached") else f"generated in {stats['seconds']:.1f} s"
        print(f"  {org} ({how}): {len(files):,} files, {stats['bytes'] / 1e6:.1f} MB", flush=True)

        print("YAML floor (libyaml compose_all) …", flush=True)
        floor_times = yaml_floor(files, max(1, args.runs))

        cmd_runs: list[dict[str, Any]] = []
        catalog: dict[str, Any] = {"runs": cmd_runs}
        summary: dict[str, Any] | None = None
        for i in range(args.runs):
            run_dir = scratch / f"run{i + 1}"
            run_dir.mkdir()
            out = run_dir / "catalog.json"
            cmd = [args.python, "-m", "generator", "catalog", str(org), "-o", str(out)]
            print(f"Run {i + 1}/{args.runs}: {' '.join(cmd[1:])} …", flush=True)
            m = measure(
                cmd,
                cwd=run_dir,
                env=child_env(),
                stdout=run_dir / "stdout.txt",
                stderr=run_dir / "stderr.txt",
            )
            m["outputBytes"] = out.stat().st_size if out.is_file() else None
            cmd_runs.append(m)
            print(
                f"  exit {m['returncode']}, {m['wallSeconds']:.2f} s, "
                f"{m['peakRssMB']:.0f} MB peak RSS",
                flush=True,
            )
            if m["returncode"] not in (0, 1) or not out.is_file():
                catalog["error"] = (
                    f"exit code {m['returncode']}"
                    + ("" if out.is_file() else ", no catalog.json written")
                    + f"; stderr: {tail(run_dir / 'stderr.txt') or '(empty)'}"
                )
                catalog["failedRun"] = cmd_runs.pop()
                break
            if summary is None:
                try:
                    summary = json.loads(out.read_text())["summary"]
                except (ValueError, KeyError, TypeError) as exc:
                    catalog["error"] = f"catalog.json has no readable summary: {exc!r}"
                    break

        floor = {
            "times": floor_times,
            "minSeconds": min(floor_times),
            "medianSeconds": statistics.median(floor_times),
            "files": len(files),
        }
        result: dict[str, Any] = {
            "benchmark": "catalog",
            "mode": mode,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "revision": git_revision(),
            "machine": {
                "python": platform.python_version(),
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "pyyaml": yaml.__version__,
                "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
            },
            "command": [
                "python",
                "-m",
                "generator",
                "catalog",
                "ORG",
                "-o",
                "catalog.json",
            ],
            "org": {**stats, "path": str(org), "files": len(files)},
            "yamlFloor": floor,
            "catalog": catalog,
        }
        exit_code = 0
        if cmd_runs and "error" not in catalog:
            walls = [r["wallSeconds"] for r in cmd_runs]
            median = statistics.median(walls)
            catalog.update(
                minSeconds=min(walls),
                medianSeconds=median,
                medianCpuSeconds=statistics.median(
                    r["userSeconds"] + r["systemSeconds"] for r in cmd_runs
                ),
                entitiesPerSecond=stats["entities"] / median,
                peakRssMB=max(r["peakRssMB"] for r in cmd_runs),
                summary=summary,
            )
            mismatch = compare_summary(summary or {}, stats)
            if mismatch:
                catalog["summaryMismatch"] = mismatch
                exit_code = 2
            applies = entities >= TARGET_ENTITIES
            targets = {
                "wall": {
                    "limitSeconds": TARGET_SECONDS,
                    "value": median,
                    "pass": median <= TARGET_SECONDS,
                    "applies": applies,
                },
                "rss": {
                    "limitMB": TARGET_RSS_MB,
                    "value": catalog["peakRssMB"],
                    "pass": catalog["peakRssMB"] <= TARGET_RSS_MB,
                    "applies": applies,
                },
            }
            result["targets"] = targets
            if exit_code == 0 and not all(t["pass"] for t in targets.values()):
                exit_code = 1
        else:
            exit_code = 2

        print_report(result)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")
        print(f"Results written to {args.output}")
        if args.keep:
            print(f"Run folders kept in {scratch}")
        return exit_code
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
