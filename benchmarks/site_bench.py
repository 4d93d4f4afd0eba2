"""Benchmark of Backlot's site stage on a synthetic organisation.

Builds the portal of a synthetic organisation (see ``synthetic_org.py``; reused from
``benchmarks/results/cache/``) the way a user does, each command in a fresh process measured
by ``measure.py`` (wall time, CPU, peak memory of the whole process tree: the site stage
renders in worker processes)::

    python -m generator build ORG -o SITE --cache-dir CACHE
    python -m generator site --catalog CACHE/catalog.json -o SITE --cache-dir CACHE

1. **Cold build**: ``build`` (catalog stage, then site stage) into fresh SITE and CACHE; then
   the site stage alone, cold (fresh folders), and with a warm graph-layout cache (a fresh
   CACHE holding only a copy of the cold build's ``graphs/``). Pages per second and graph
   layouts per second.
2. **Rebuilds**, into the same SITE and CACHE: nothing changed; then one component's
   description edited (in a private copy of the organisation): ``build`` as a whole, and the
   site stage alone after a separate catalog run. Files rewritten are counted by comparing
   (mtime, inode) of every file of SITE before and after.
3. **Peak memory** of the cold build.
4. **The catalog index at 50,000 entities**: the 50,000-entity organisation's catalog, then
   the site stage without entity pages (in-process, ``_entity_batches`` replaced by a no-op,
   so the index, home, problems and about pages come from the real code) or, with
   ``--full50k``, the whole site. Bytes transferred for the first catalog page: its HTML and
   the resources it links (gzip level 6); the largest HTML page; the row shards.

Targets (2-core machine, 10,000 entities): cold ``build`` ≤ 60 s wall and ≤ 1 GB peak memory;
the site stage after one changed entity ≤ 5 s and rewriting a few hundred files at most
(≤ 500); the first catalog page ≤ 200 kB transferred at 50,000 entities; no HTML page ≥ 1 MB.

Usage::

    python benchmarks/site_bench.py             # 10,000 entities + the 50,000 index (~5 min)
    python benchmarks/site_bench.py --quick     # 1,000 entities, no 50,000 index
    python benchmarks/site_bench.py --full50k   # also the whole 50,000-entity site (long)

Writes ``benchmarks/results/site.json``; exits 0 when every measured target passes, 1 when
one fails, 2 when a command fails.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from catalog_bench import CACHE, RESULTS, run_header, synthetic_org, tail  # noqa: E402
from measure import measure, print_table  # noqa: E402

TARGET_ENTITIES = 10_000
BIG_ENTITIES = 50_000
QUICK_ENTITIES = 1_000
TARGET_BUILD_SECONDS = 60.0
TARGET_REBUILD_SECONDS = 5.0
TARGET_REWRITTEN_FILES = 500
TARGET_RSS_MB = 1024.0  # 1 GB, in MiB as the kernel counts
TARGET_FIRST_PAGE_BYTES = 200_000  # 200 kB, decimal
TARGET_HTML_BYTES = 1_000_000  # 1 MB, decimal
GZIP_LEVEL = 6

SITE_LINE = re.compile(
    r"(\d+) pages \((\d+) entity pages rendered\).*?: (\d+) files written, "
    r"(\d+) unchanged, (\d+) removed"
)

# The site stage without entity pages: everything else build_site writes, from its own code.
INDEX_ONLY = """\
import sys
from pathlib import Path

from generator.config import SiteSettings
from generator.model import CatalogFile
from generator.site import _build, _entity_pages

assert callable(getattr(_entity_pages.EntityPages, "render", None)), "site stage changed"
_entity_pages.EntityPages.render = lambda self, context, output: None
catalog = CatalogFile.read(Path(sys.argv[1]))
r = _build.build_site(catalog, Path(sys.argv[2]), Path(sys.argv[3]), SiteSettings())
s = r.stats
print(f"{r.pages} pages ({r.rendered} entity pages rendered) -> {sys.argv[2]}: "
      f"{s.written} files written, {s.unchanged} unchanged, {s.removed} removed")
"""


class CommandFailed(Exception):
    """A measured command exited with an error or did not write what it should."""


Snapshot = dict[str, tuple[int, int]]


def snapshot_generator(dest: Path) -> Path:
    """Copy this checkout's ``generator`` package (templates resolved, examples left out)
    into ``dest``, so that commits landing during the run (the templates are part of every
    page's inputs) neither mix versions nor invalidate the rebuild measurements."""
    shutil.copytree(
        REPO_ROOT / "generator",
        dest / "generator",
        ignore=shutil.ignore_patterns("__pycache__", "examples"),
    )
    return dest


def generator_env(src: Path) -> dict[str, str]:
    """The measured commands' environment: the snapshot of ``generator`` first on the path."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(src) + (os.pathsep + path if path else "")
    return env


class Runner:
    """Runs the measured commands, logging their output under ``logs``."""

    def __init__(self, python: str, logs: Path, src: Path) -> None:
        self.python = python
        self.logs = logs
        self.env = generator_env(src)
        logs.mkdir(parents=True, exist_ok=True)
        where = subprocess.run(
            [python, "-c", "import generator; print(generator.__file__)"],
            env=self.env,
            cwd=logs,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if not where.startswith(str(src)):
            raise CommandFailed(f"`{python}` imports generator from {where!r}, not {src}")
        self.generator = where

    def run(self, label: str, args: list[str | Path], ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
        cmd = [self.python, "-m", "generator", *map(str, args)]
        return self.run_cmd(label, cmd, ok)

    def run_cmd(self, label: str, cmd: list[str], ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
        shown = cmd[1:] if cmd[1] != "-c" else ["-c", "<script>", *cmd[3:]]
        print(f"{label}: {' '.join(shown)} …", flush=True)
        out, err = self.logs / f"{label}.out", self.logs / f"{label}.err"
        m = measure(cmd, cwd=self.logs, env=self.env, stdout=out, stderr=err)
        m["label"] = label
        m["cpuSeconds"] = m["userSeconds"] + m["systemSeconds"]
        text = out.read_text(errors="replace") if out.is_file() else ""
        found = SITE_LINE.search(text)
        if found:
            pages, rendered, written, unchanged, removed = map(int, found.groups())
            m["site"] = {
                "pages": pages,
                "rendered": rendered,
                "written": written,
                "unchanged": unchanged,
                "removed": removed,
            }
        print(
            f"  exit {m['returncode']}, {m['wallSeconds']:.2f} s wall, "
            f"{m['cpuSeconds']:.1f} s CPU, {m['peakRssMB']:.0f} MB peak"
            + (f"; {found.group(0)}" if found else ""),
            flush=True,
        )
        if m["returncode"] not in ok:
            raise CommandFailed(
                f"{label}: exit code {m['returncode']}; stderr: {tail(err) or '(empty)'}"
            )
        return m


def snapshot(root: Path) -> Snapshot:
    """(mtime_ns, inode) of every file under ``root``, by relative path."""
    files: Snapshot = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            st = os.stat(path)
            files[os.path.relpath(path, root).replace(os.sep, "/")] = (st.st_mtime_ns, st.st_ino)
    return files


def area(relpath: str) -> str:
    parts = relpath.split("/")
    if parts[0] == "catalog" and len(parts) == 5 and not parts[1].startswith("_"):
        return "entity pages"
    if relpath.startswith("catalog/_data/"):
        return "row shards"
    if parts[0] == "catalog" and parts[-1] == "index.html":
        return "catalog index pages"
    return relpath


def compare(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """Files rewritten (mtime or inode changed), added and removed between two snapshots."""
    rewritten = [p for p in after if p in before and after[p] != before[p]]
    added = [p for p in after if p not in before]
    removed = [p for p in before if p not in after]
    areas = Counter(area(p) for p in rewritten + added)
    return {
        "rewritten": len(rewritten),
        "added": len(added),
        "removed": len(removed),
        "touched": len(rewritten) + len(added),
        "byArea": dict(sorted(areas.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def count_pages(files: Snapshot) -> int:
    return sum(1 for p in files if p.endswith("index.html"))


def count_files(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0


def gz_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def largest_html(site: Path) -> dict[str, Any]:
    best, size, count = "", -1, 0
    for folder, _, names in os.walk(site):
        for name in names:
            if name.endswith(".html"):
                count += 1
                path = os.path.join(folder, name)
                n = os.path.getsize(path)
                if n > size:
                    best, size = os.path.relpath(path, site), n
    return {"path": best, "bytes": size, "htmlFiles": count}


class _Resources(HTMLParser):
    """What a page loads by itself: stylesheets, scripts, images, icons, preloads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        rel = set((a.get("rel") or "").lower().split())
        if tag == "link" and rel & {"stylesheet", "icon", "preload", "modulepreload"}:
            self.urls.append(a.get("href") or "")
        elif tag in ("script", "img", "iframe") and a.get("src"):
            self.urls.append(a["src"] or "")


def first_page(site: Path) -> dict[str, Any]:
    """Raw and gzip sizes of catalog/index.html and every resource it loads by itself."""
    page = site / "catalog" / "index.html"
    html = page.read_bytes()
    parser = _Resources()
    parser.feed(html.decode("utf-8", errors="replace"))
    files = [{"path": "catalog/index.html", "bytes": len(html), "gzipBytes": gz_size(html)}]
    external = []
    for url in parser.urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            external.append(url)
            continue
        target = (page.parent / unquote(parts.path)).resolve()
        rel = os.path.relpath(target, site.resolve())
        if target.is_file():
            data = target.read_bytes()
            files.append({"path": rel, "bytes": len(data), "gzipBytes": gz_size(data)})
        else:
            files.append({"path": rel, "bytes": None, "gzipBytes": None, "missing": True})
    shards = sorted((site / "catalog" / "_data").glob("rows-*.js"))
    shard_sizes = [s.stat().st_size for s in shards]
    largest_shard = max(shards, key=lambda s: s.stat().st_size) if shards else None
    return {
        "files": files,
        "external": external,
        "bytes": sum(f["bytes"] or 0 for f in files),
        "gzipBytes": sum(f["gzipBytes"] or 0 for f in files),
        "shards": {
            "count": len(shards),
            "maxBytes": max(shard_sizes, default=0),
            "maxGzipBytes": gz_size(largest_shard.read_bytes()) if largest_shard else 0,
            "totalBytes": sum(shard_sizes),
        },
    }


def edit_description(org: Path, note: str) -> dict[str, Any]:
    """Put ``note`` in front of the one-line description of the first component of the first
    component repository (sorted), in place, so that its summary in the catalog rows changes
    too; line numbers of every entity stay the same."""
    for repo in sorted(p for p in org.iterdir() if p.is_dir()):
        if repo.name == "org" or repo.name.endswith("-architecture"):
            continue
        path = repo / "catalog-info.yaml"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kind = name = None
        for i, line in enumerate(lines):
            if line.startswith("kind: "):
                kind, name = line[6:].strip(), None
            elif line.startswith("  name: ") and name is None:
                name = line[8:].strip()
            elif kind == "Component" and line.startswith("  description: "):
                value = line[len("  description: ") :].rstrip("\n")
                if value[:1] in ("|", ">", "'", '"') or not value:
                    continue
                lines[i] = f"  description: {note} {value}\n"
                path.write_text("".join(lines), encoding="utf-8")
                return {
                    "file": str(path.relative_to(org)),
                    "line": i + 1,
                    "entity": f"component:default/{name}",
                }
    raise RuntimeError(f"{org}: no component with a one-line description")


def target(value: float, limit: float, applies: bool, strict: bool = False) -> dict[str, Any]:
    ok = value < limit if strict else value <= limit
    return {"value": value, "limit": limit, "pass": ok, "applies": applies}


def org_stage(
    runner: Runner, org: Path, work: Path, stats: dict[str, Any], result: dict[str, Any]
) -> None:
    """Items 1 to 3: cold build, site stage alone, rebuilds, memory."""
    site, cache = work / "site", work / "cache"
    build_args: list[str | Path] = ["build", org, "-o", site, "--cache-dir", cache]
    site_args: list[str | Path] = [
        "site",
        "--catalog",
        cache / "catalog.json",
        "-o",
        site,
        "--cache-dir",
        cache,
    ]

    cold = runner.run("cold-build", build_args)
    files = snapshot(site)
    if "index.html" not in files:
        raise CommandFailed("cold-build: no index.html written")
    cold["pages"] = count_pages(files)
    cold["files"] = len(files)
    cold["siteBytes"] = sum(os.path.getsize(site / p) for p in files)
    cold["graphLayouts"] = count_files(cache / "graphs")
    result["cold"] = {"build": cold}

    result["cold"]["catalog"] = runner.run(
        "cold-catalog", ["catalog", org, "-o", work / "catalog-cold.json"], ok=(0, 1)
    )
    site2, cache2 = work / "site-cold", work / "cache-cold"
    alone = runner.run(
        "cold-site",
        ["site", "--catalog", cache / "catalog.json", "-o", site2, "--cache-dir", cache2],
    )
    alone["pages"] = count_pages(snapshot(site2))
    alone["graphLayouts"] = count_files(cache2 / "graphs")
    alone["pagesPerSecond"] = alone["pages"] / alone["wallSeconds"]
    alone["graphLayoutsPerSecond"] = alone["graphLayouts"] / alone["wallSeconds"]
    result["cold"]["site"] = alone
    shutil.rmtree(site2, ignore_errors=True)

    site3, cache3 = work / "site-warm-graphs", work / "cache-warm-graphs"
    shutil.copytree(cache / "graphs", cache3 / "graphs")
    warm = runner.run(
        "warm-graphs-site",
        ["site", "--catalog", cache / "catalog.json", "-o", site3, "--cache-dir", cache3],
    )
    warm["pages"] = count_pages(snapshot(site3))
    warm["pagesPerSecond"] = warm["pages"] / warm["wallSeconds"]
    warm["newGraphLayouts"] = count_files(cache3 / "graphs") - cold["graphLayouts"]
    result["cold"]["siteWarmGraphs"] = warm
    shutil.rmtree(site3, ignore_errors=True)

    rebuilds: dict[str, Any] = {}
    result["rebuild"] = rebuilds

    def measured(label: str, args: list[str | Path]) -> dict[str, Any]:
        before = snapshot(site)
        m = runner.run(label, args)
        m["files"] = compare(before, snapshot(site))
        rebuilds[label] = m
        return m

    measured("unchanged-build", build_args)
    rebuilds["unchanged-catalog"] = runner.run(
        "unchanged-catalog", ["catalog", org, "-o", cache / "catalog.json"], ok=(0, 1)
    )
    measured("unchanged-site", site_args)

    rebuilds["edit1"] = edit_description(org, "Edited by the site benchmark.")
    measured("changed-build", build_args)
    rebuilds["edit2"] = edit_description(org, "Edited twice.")
    rebuilds["changed-catalog"] = runner.run(
        "changed-catalog", ["catalog", org, "-o", cache / "catalog.json"], ok=(0, 1)
    )
    measured("changed-site", site_args)

    result["largestHtml"] = {"site": largest_html(site), "entities": stats["entities"]}
    applies = stats["entities"] >= TARGET_ENTITIES
    changed_site = rebuilds["changed-site"]
    touched = max(rebuilds["changed-build"]["files"]["touched"], changed_site["files"]["touched"])
    result["targets"].update(
        coldBuildWall=target(cold["wallSeconds"], TARGET_BUILD_SECONDS, applies),
        coldBuildMemory=target(cold["peakRssMB"], TARGET_RSS_MB, applies),
        changedSiteWall=target(changed_site["wallSeconds"], TARGET_REBUILD_SECONDS, applies),
        changedFilesTouched=target(touched, TARGET_REWRITTEN_FILES, applies),
        largestHtml=target(
            result["largestHtml"]["site"]["bytes"], TARGET_HTML_BYTES, applies, strict=True
        ),
    )


def big_stage(runner: Runner, seed: int, scratch: Path, full: bool, result: dict[str, Any]) -> None:
    """Item 4: the catalog index of the 50,000-entity organisation."""
    print(f"Synthetic organisation: {BIG_ENTITIES:,} entities, seed {seed} …", flush=True)
    org, stats = synthetic_org(BIG_ENTITIES, seed, True, scratch)
    how = "cached" if stats.get("cached") else f"generated in {stats['seconds']:.1f} s"
    print(f"  {org} ({how}): {stats['bytes'] / 1e6:.1f} MB", flush=True)
    work = scratch / "big"
    catalog, site, cache = work / "catalog.json", work / "site", work / "cache"
    big: dict[str, Any] = {"org": {**stats, "path": str(org)}, "full": full}
    result["big"] = big
    big["catalog"] = runner.run("big-catalog", ["catalog", org, "-o", catalog], ok=(0, 1))
    big["catalog"]["outputBytes"] = catalog.stat().st_size if catalog.is_file() else None
    if full:
        args: list[str | Path] = ["site", "--catalog", catalog, "-o", site, "--cache-dir", cache]
        big["site"] = runner.run("big-site-full", args)
    else:
        cmd = [runner.python, "-c", INDEX_ONLY, str(catalog), str(site), str(cache)]
        big["site"] = runner.run_cmd("big-site-index-only", cmd)
    if not (site / "catalog" / "index.html").is_file():
        raise CommandFailed("big site: no catalog/index.html written")
    big["site"]["pages"] = count_pages(snapshot(site))
    big["firstPage"] = first_page(site)
    big["largestHtml"] = largest_html(site)
    result["targets"].update(
        firstPageTransferred=target(
            big["firstPage"]["gzipBytes"], TARGET_FIRST_PAGE_BYTES, applies=True
        ),
        largestHtml50k=target(
            big["largestHtml"]["bytes"], TARGET_HTML_BYTES, applies=True, strict=True
        ),
    )


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

Row = tuple[str, str, str, str]


def _verdict(t: dict[str, Any] | None) -> str:
    if t is None:
        return ""
    word = "PASS" if t["pass"] else "FAIL"
    return word if t["applies"] else f"({word}, not 10k)"


def _kb(n: int | None) -> str:
    return "—" if n is None else f"{n / 1000:,.1f} kB"


def _run_cell(m: dict[str, Any]) -> str:
    return f"{m['wallSeconds']:.2f} s wall, {m['cpuSeconds']:.1f} s CPU, {m['peakRssMB']:.0f} MB"


def _files_cell(m: dict[str, Any]) -> str:
    f = m["files"]
    areas = ", ".join(f"{k} {v}" for k, v in list(f["byArea"].items())[:6])
    more = "" if len(f["byArea"]) <= 6 else ", …"
    rendered = m.get("site", {}).get("rendered")
    head = f"{f['touched']:,} files written ({f['added']} new, {f['removed']} removed)"
    tail_ = f"; {rendered:,} entity pages rendered" if rendered is not None else ""
    return head + tail_ + (f": {areas}{more}" if areas else "")


def report_rows(result: dict[str, Any]) -> list[Row | str]:
    rows: list[Row | str] = []
    t = result["targets"]
    org = result["org"]
    load = result["loadAverage"]
    rows.append(
        ("load average (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in load["start"]), "", "")
    )
    if load.get("end"):
        rows.append(("  at the end", ", ".join(f"{x:.2f}" for x in load["end"]), "", ""))
    rows.append(("CPUs", str(result["machine"]["cpus"]), "", ""))
    rows.append(("entities / repositories", f"{org['entities']:,} / {org['repos']:,}", "", ""))

    cold = result.get("cold", {})
    if cold:
        rows.append("Cold build")
        b = cold["build"]
        rows.append(
            (
                "build (catalog + site), wall",
                _run_cell(b),
                f"≤ {TARGET_BUILD_SECONDS:g} s",
                _verdict(t.get("coldBuildWall")),
            )
        )
        rows.append(
            (
                "build peak memory (process tree)",
                f"{b['peakRssMB']:.0f} MB (largest process {b['maxRssMB']:.0f} MB)",
                f"≤ {TARGET_RSS_MB:g} MB",
                _verdict(t.get("coldBuildMemory")),
            )
        )
        rows.append(
            (
                "site written",
                f"{b['pages']:,} pages, {b['files']:,} files, {b['siteBytes'] / 1e6:,.0f} MB",
                "",
                "",
            )
        )
        c = cold.get("catalog")
        if c:
            rows.append(("catalog stage alone, cold", _run_cell(c), "", ""))
        s = cold.get("site")
        if s:
            rows.append(("site stage alone, cold", _run_cell(s), "", ""))
            rows.append(
                (
                    "  pages/s; graph layouts/s (proxy)",
                    f"{s['pagesPerSecond']:,.0f} pages/s; {s['graphLayoutsPerSecond']:,.0f} "
                    f"layouts/s ({s['graphLayouts']:,} SVGs in graphs/ ÷ site wall)",
                    "",
                    "",
                )
            )
        w = cold.get("siteWarmGraphs")
        if w:
            rows.append(("site stage alone, warm graph cache", _run_cell(w), "", ""))
            rows.append(
                (
                    "  pages/s",
                    f"{w['pagesPerSecond']:,.0f} pages/s, {w['newGraphLayouts']} new layouts",
                    "",
                    "",
                )
            )

    rb = result.get("rebuild", {})
    if rb:
        rows.append("Rebuilds (same SITE and CACHE)")
        for label, name in (
            ("unchanged-build", "nothing changed: build"),
            ("unchanged-site", "nothing changed: site stage alone"),
            ("changed-build", "one entity changed: build"),
            ("changed-site", "one entity changed: site stage alone"),
        ):
            m = rb.get(label)
            if m is None:
                continue
            wall_t = t.get("changedSiteWall") if label == "changed-site" else None
            rows.append(
                (
                    name,
                    _run_cell(m),
                    f"≤ {TARGET_REBUILD_SECONDS:g} s" if wall_t else "",
                    _verdict(wall_t),
                )
            )
            files_t = t.get("changedFilesTouched") if label == "changed-site" else None
            rows.append(
                (
                    "  files",
                    _files_cell(m),
                    f"≤ {TARGET_REWRITTEN_FILES} (either run)" if files_t else "",
                    _verdict(files_t),
                )
            )
        for label in ("unchanged-catalog", "changed-catalog"):
            if label in rb:
                rows.append((f"  ({label} before it)", _run_cell(rb[label]), "", ""))
        if "edit1" in rb:
            e = rb["edit1"]
            rows.append(("  entity edited", f"{e['entity']} ({e['file']}:{e['line']})", "", ""))
        if "largestHtml" in result:
            h = result["largestHtml"]["site"]
            rows.append(
                (
                    "largest HTML page",
                    f"{_kb(h['bytes'])}: {h['path']}",
                    "< 1 MB",
                    _verdict(t.get("largestHtml")),
                )
            )

    big = result.get("big")
    if big:
        rows.append(f"Catalog index at {BIG_ENTITIES:,} entities")
        rows.append(("catalog stage", _run_cell(big["catalog"]), "", ""))
        s = big.get("site")
        if s:
            what = "whole site" if big["full"] else "site stage without entity pages"
            rows.append((what, _run_cell(s) + f"; {s.get('pages', 0):,} pages", "", ""))
        fp = big.get("firstPage")
        if fp:
            for f in fp["files"]:
                rows.append(
                    (
                        f"  {f['path']}",
                        f"{_kb(f['bytes'])} raw, {_kb(f['gzipBytes'])} gzip"
                        + (" (missing!)" if f.get("missing") else ""),
                        "",
                        "",
                    )
                )
            if fp["external"]:
                rows.append(("  external resources", ", ".join(fp["external"]), "", "FAIL?"))
            rows.append(
                (
                    "first catalog page transferred",
                    f"{_kb(fp['gzipBytes'])} gzip ({_kb(fp['bytes'])} raw)",
                    "≤ 200 kB",
                    _verdict(t.get("firstPageTransferred")),
                )
            )
            sh = fp["shards"]
            rows.append(
                (
                    "row shards (loaded on filtering)",
                    f"{sh['count']} files, largest {_kb(sh['maxBytes'])} raw / "
                    f"{_kb(sh['maxGzipBytes'])} gzip, {_kb(sh['totalBytes'])} in all",
                    "",
                    "",
                )
            )
        h = big.get("largestHtml")
        if h:
            rows.append(
                (
                    "largest HTML page" + ("" if big["full"] else " (no entity pages)"),
                    f"{_kb(h['bytes'])}: {h['path']}",
                    "< 1 MB",
                    _verdict(t.get("largestHtml50k")),
                )
            )
    elif result.get("bigSkipped"):
        rows.append(f"Catalog index at {BIG_ENTITIES:,} entities")
        rows.append(("skipped", result["bigSkipped"], "", ""))
    if result.get("error"):
        rows.append(("command failed", result["error"], "", "FAIL"))
    return rows


def print_report(result: dict[str, Any]) -> None:
    print_table(f"Backlot site benchmark ({result['mode']})", report_rows(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--entities", "-n", type=int, default=TARGET_ENTITIES)
    size.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ENTITIES:,} entities, no 50k index"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--full50k",
        action="store_true",
        help="build the whole 50,000-entity site (default: only its non-entity pages)",
    )
    parser.add_argument("--no-50k", action="store_true", help="skip the 50,000-entity index")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter that runs `-m generator`"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "site.json")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (sites, caches, logs) and print it"
    )
    args = parser.parse_args(argv)
    entities = QUICK_ENTITIES if args.quick else args.entities
    mode = f"{entities:,} entities" + (", quick" if args.quick else "")
    if args.full50k:
        mode += ", full 50k site"

    RESULTS.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="backlot-site-bench-"))
    result: dict[str, Any] = {
        **run_header("site", mode),
        "commands": {
            "build": "python -m generator build ORG -o SITE --cache-dir CACHE",
            "site": (
                "python -m generator site --catalog CACHE/catalog.json -o SITE --cache-dir CACHE"
            ),
        },
        "targets": {},
    }
    exit_code = 0
    try:
        print(f"Synthetic organisation: {entities:,} entities, seed {args.seed} …", flush=True)
        cached, stats = synthetic_org(entities, args.seed, True, scratch)
        how = "cached" if stats.get("cached") else f"generated in {stats['seconds']:.1f} s"
        print(f"  {cached} ({how}): {stats['bytes'] / 1e6:.1f} MB", flush=True)
        # Entities are edited below: work on a private copy, never on the shared cache.
        org = scratch / "org"
        shutil.copytree(cached, org)
        result["org"] = {**stats, "path": str(cached), "copy": str(org)}
        src = snapshot_generator(scratch / "src")
        runner = Runner(args.python, scratch / "logs", src)
        result["generator"] = runner.generator
        org_stage(runner, org, scratch, stats, result)
        if args.quick or args.no_50k:
            result["bigSkipped"] = "--quick" if args.quick else "--no-50k"
        else:
            big_stage(runner, args.seed, scratch, args.full50k, result)
    except CommandFailed as exc:
        result["error"] = str(exc)
        exit_code = 2
    finally:
        result["loadAverage"]["end"] = list(os.getloadavg())
        if exit_code == 0 and not all(t["pass"] for t in result["targets"].values()):
            exit_code = 1
        result["exitCode"] = exit_code
        if "org" in result:
            print_report(result)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")
        print(f"Results written to {args.output}")
        if args.keep:
            print(f"Sites, caches and logs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
