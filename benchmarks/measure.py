"""Measure one command as a user would run it: wall time, CPU time and peak memory.

Each measurement goes through a fresh wrapper process (this file run as a script), so that
``resource.getrusage(RUSAGE_CHILDREN)`` sees only the measured command and its descendants,
never the benchmark driver itself or an earlier run.

Two memory figures come back:

* ``maxRssMB``: ``ru_maxrss`` of ``RUSAGE_CHILDREN``, the peak resident set of the *largest
  single* process among the command and its descendants (exact, from the kernel);
* ``treePssMB``: the peak of the *sum* of the proportional set sizes (``Pss`` of
  ``/proc/<pid>/smaps_rollup``) of the command and all its live descendants, sampled from
  ``/proc`` every five ``interval`` (Linux only; ``None`` elsewhere): what a multi-process
  command holds in all. A page shared by N processes counts 1/N in each: forked workers
  share their parent's memory until they write to it, and summing resident sets counts it
  once per worker. It can miss a peak shorter than the sampling interval.
* ``treeRssMB``: the peak of the sum of the resident sets, sampled every ``interval``
  seconds, for comparison: with forked workers it counts shared memory over and over.

``peakRssMB`` is the larger of ``maxRssMB`` and ``treePssMB`` and is what targets are
checked against.

Python API::

    from benchmarks.measure import measure
    m = measure([sys.executable, "-m", "generator", "catalog", "org", "-o", "c.json"])
    m["wallSeconds"], m["peakRssMB"], m["returncode"]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _tree_pids(root: int) -> set[int]:
    """``root`` and its live descendants, from /proc."""
    parents: dict[int, int] = {}
    try:
        entries = os.scandir("/proc")
    except OSError:
        return {root}
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rfind(b")") + 2 :].split()[1])
    wanted = {root}
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    return wanted


def _tree_pss_bytes(root: int) -> int:
    """Sum of the proportional set sizes of ``root`` and its descendants."""
    total = 0
    for pid in _tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total


def _tree_rss_bytes(root: int) -> int:
    """Sum of the resident sets of ``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    try:
        entries = os.scandir("/proc")
    except OSError:
        return 0
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            # Fields after the command name (which may contain spaces) in parentheses.
            fields = stat[stat.rfind(b")") + 2 :].split()
            parents[pid] = int(fields[1])
            rss[pid] = int(fields[21]) * _PAGE
    total = 0
    wanted = {root}
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted:
        total += rss.get(pid, 0)
    return total


def _run_wrapped(spec: dict[str, Any]) -> dict[str, Any]:
    """Inside the wrapper process: run the command, sample memory, report rusage."""
    import resource

    interval = float(spec.get("interval", 0.05))
    linux = sys.platform.startswith("linux")
    with open(spec["stdout"], "wb") as out, open(spec["stderr"], "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            spec["cmd"], cwd=spec.get("cwd"), stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        tree_peak = pss_peak = 0
        ticks = 0
        while True:
            if linux:
                tree_peak = max(tree_peak, _tree_rss_bytes(proc.pid))
                if ticks % 5 == 0:  # the kernel walks every page table for it
                    pss_peak = max(pss_peak, _tree_pss_bytes(proc.pid))
                ticks += 1
            try:
                returncode = proc.wait(timeout=interval)
                break
            except subprocess.TimeoutExpired:
                continue
        wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    max_rss = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return {
        "returncode": returncode,
        "wallSeconds": wall,
        "userSeconds": usage.ru_utime,
        "systemSeconds": usage.ru_stime,
        "maxRssMB": max_rss / 1024,
        "treeRssMB": tree_peak / 2**20 if linux else None,
        "treePssMB": pss_peak / 2**20 if linux else None,
    }


def measure(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout: Path | None = None,
    stderr: Path | None = None,
    interval: float = 0.05,
) -> dict[str, Any]:
    """Run ``cmd`` once in a fresh wrapper process and return its measurements.

    The command's output goes to ``stdout``/``stderr`` (files; discarded when ``None``).
    Returns ``returncode``, ``wallSeconds``, ``userSeconds``, ``systemSeconds``,
    ``maxRssMB``, ``treeRssMB``, ``treePssMB`` and ``peakRssMB`` (the larger of
    ``maxRssMB`` and ``treePssMB``).
    """
    spec = {
        "cmd": [str(c) for c in cmd],
        "cwd": str(cwd) if cwd else None,
        "stdout": str(stdout) if stdout else os.devnull,
        "stderr": str(stderr) if stderr else os.devnull,
        "interval": interval,
    }
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"measurement wrapper failed: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    result["peakRssMB"] = max(result["maxRssMB"], result["treePssMB"] or 0.0)
    return result


if __name__ == "__main__":
    json.dump(_run_wrapped(json.loads(sys.argv[1])), sys.stdout)


Row = tuple[str, str, str, str] | str


def print_table(title: str, rows: list[Row]) -> None:
    """A benchmark's results: (measure, value, target, verdict) rows, strings as sections."""
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:
        print(f"\n{title}")
        for row in rows:
            if isinstance(row, str):
                print(f"\n {row}")
            else:
                print(f"  {row[0]:<36}  {row[1]}  {row[2]}  {row[3]}".rstrip())
        return
    table = Table(title=title)
    for column in ("measure", "value", "target", "verdict"):
        table.add_column(column)
    for row in rows:
        if isinstance(row, str):
            table.add_section()
            table.add_row(escape(row), "", "", "", style="bold")
            continue
        name, value, tgt, verdict = row
        style = "green" if verdict == "PASS" else "red" if "FAIL" in verdict else None
        table.add_row(escape(name), escape(value), escape(tgt), escape(verdict), style=style)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(table)
