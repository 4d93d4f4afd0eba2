"""Benchmark of the portal's search: Pagefind's index of the entity pages and the docs.

The workload issue #18 names: a synthetic organisation of 10,000 entities (``synthetic_org.py``)
plus 200 docs sites of 20 pages (``docs_bench.py``'s), read from one ``backlot.yaml`` with two
local sources, built as a user builds it::

    python -m generator build --config backlot.yaml -o SITE --cache-dir CACHE

1. **The index build**: the search stage alone, cold, in a fresh process measured by
   ``measure.py`` (wall time, CPU and peak memory of the process tree, Pagefind's binary
   included). It runs the site stage's own code (``generator.site._search``): the pages it
   indexes come from the same catalog and docs, staged and indexed the same way. The time of
   Pagefind's runs inside it are printed apart. The index is in parts (one per 10,000
   entities, in powers of two: ``site/_search.py``), each built by its own run, one after
   another as the site stage does; Pagefind has no incremental mode, so a build that changed
   an indexed page indexes its part again, and the largest part's share is that cost.
2. **Total index size**: files and bytes under ``pagefind/``, and the share of the site.
3. **Bytes a browser fetches for one query**: the built site served over HTTP on 127.0.0.1,
   Debian's Chromium (Playwright) opening the home page in a fresh profile, then one query
   typed into the header's search box as a reader does; the server counts every response's
   bytes from the first keystroke until the results are shown (Pagefind's script, its WASM,
   entry and metadata files, the filters the panel shows, the index chunks the words need and
   the fragments of the first 10 results). Pagefind's own files are compressed already; the
   text files are counted as a CDN sends them (gzip level 6). Several kinds of query: an
   entity's name, a word of docs bodies, a common word, two words, and one typed slowly
   (a search per keystroke).

Targets (2-core machine): index build ≤ 40 s; bytes fetched for one query ≤ 300 KB (decimal).

Usage::

    python benchmarks/search_bench.py            # 10,000 entities + 200 docs sites (~5 min)
    python benchmarks/search_bench.py --quick    # 1,000 entities + 20 docs sites
    python benchmarks/search_bench.py --site DIR --catalog FILE   # an already built site

Writes ``benchmarks/results/search.json``; exits 0 when every target passes, 1 when one fails,
2 when a command fails.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from catalog_bench import CACHE, RESULTS, run_header, synthetic_org  # noqa: E402
from docs_bench import docs_org  # noqa: E402
from measure import Row, print_table  # noqa: E402
from site_bench import CommandFailed, Runner, snapshot_generator, target  # noqa: E402

TARGET_ENTITIES, TARGET_SITES = 10_000, 200
QUICK_ENTITIES, QUICK_SITES = 1_000, 20
TARGET_INDEX_SECONDS = 40.0
TARGET_QUERY_BYTES = 300_000  # 300 KB, decimal
GZIP_LEVEL = 6
TEXT_TYPES = (".js", ".json", ".html", ".css", ".svg")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run"]
RESULTS_PANEL = "[data-search-results]"

# The search stage alone, from the site stage's own code (see the module docstring).
SEARCH_ONLY = """\
import sys, time
from pathlib import Path
from types import SimpleNamespace

from generator.model import DOCS_PREFIX, CatalogFile, DocsReport
from generator.site import _search
from generator.site._docs_index import attach_docs, read_docs_sites
from generator.site._model import SiteModel

catalog, out, into = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
model = SiteModel.from_catalog(CatalogFile.read(catalog))
attach_docs(model, read_docs_sites(out / DOCS_PREFIX), DocsReport())
count = _search.part_count(len(model.entities), None)
by_part = _search._pages_by_part(SimpleNamespace(model=model, out=out), count)
parts = [sorted(p) for p in by_part if p]
started = time.perf_counter()
for number, pages in enumerate(parts):  # one after another, as the site stage builds them
    failure = _search._build_index(out, pages, into / f"part-{number}")
    if failure or not _search._complete(into / f"part-{number}"):
        sys.exit(f"search index failed: {failure or 'no entry file'}")
took = time.perf_counter() - started
pages = [p for part in parts for p in part]
docs = sum(1 for p in pages if p.startswith(DOCS_PREFIX))
print(f"indexed {len(pages)} pages ({len(pages) - docs} entity pages, {docs} docs pages) "
      f"in {took:.2f} s; {len(parts)} parts, the largest {max(map(len, parts))} pages")
"""
INDEXED_LINE = re.compile(
    r"indexed (\d+) pages \((\d+) entity pages, (\d+) docs pages\) in ([\d.]+) s"
)


def write_config(work: Path, org: Path, docs: Path) -> Path:
    config = work / "backlot.yaml"
    config.write_text(
        "catalog:\n  sources:\n"
        f"    - path: {json.dumps(str(org))}\n"
        f"    - path: {json.dumps(str(docs))}\n",
        "utf-8",
    )
    return config


def index_size(index: Path) -> dict[str, Any]:
    files = [p for p in index.rglob("*") if p.is_file()]
    by_kind: dict[str, list[int]] = {}
    for p in files:
        kind = p.parent.name if p.parent != index else p.suffix.lstrip(".") or p.name
        by_kind.setdefault(kind, []).append(p.stat().st_size)
    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "byKind": {k: {"files": len(v), "bytes": sum(v)} for k, v in sorted(by_kind.items())},
    }


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- the browser side


class _Tally:
    """Bytes the server sent, per request, since the last ``reset``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[dict[str, Any]] = []

    def reset(self) -> list[dict[str, Any]]:
        with self.lock:
            sent, self.sent = self.sent, []
        return sent


@contextmanager
def serve(site: Path) -> Iterator[tuple[str, _Tally]]:
    tally = _Tally()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "content-length":
                path = self.path.split("?", 1)[0]
                raw = int(value)
                sent = raw
                if path.endswith(TEXT_TYPES):  # as a CDN sends text: compressed
                    file = site / path.lstrip("/")
                    if file.is_file():
                        sent = len(gzip.compress(file.read_bytes(), GZIP_LEVEL, mtime=0))
                with tally.lock:
                    tally.sent.append({"path": path, "bytes": raw, "sentBytes": sent})
            super().send_header(keyword, value)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", tally
    finally:
        server.shutdown()
        server.server_close()


def queries_for(catalog: Path, docs: Path) -> list[dict[str, Any]]:
    """The queries measured, drawn from the data so that each finds something."""
    data = json.loads(catalog.read_text("utf-8"))
    names = sorted(
        e["metadata"]["name"]
        for e in data.get("entities", [])
        if e.get("kind") == "Component" and "-" in e["metadata"]["name"]
    )
    name = names[len(names) // 2] if names else "service"
    # A word of the docs bodies, not of the entities: the longest of the first page's words.
    first = min(docs.glob("*/docs/guides/*.md"))
    words = re.findall(r"\b[a-z]{7,}\b", first.read_text("utf-8"))
    word = max(sorted(set(words)), key=len) if words else "configuration"
    return [
        {"kind": "entity name", "query": name, "typed": False},
        {"kind": "docs word", "query": word, "typed": False},
        {"kind": "common word", "query": "service", "typed": False},
        {"kind": "two words", "query": f"{name.split('-')[0]} api", "typed": False},
        {"kind": "typed slowly", "query": name, "typed": True},
    ]


def browser_stage(site: Path, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    measured = []
    with serve(site) as (base, tally), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for q in queries:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(base + "index.html", wait_until="networkidle")
                loaded = tally.reset()
                page.click("#site-q")
                if q["typed"]:
                    # Slower than the box's 120 ms pause: a search for every prefix.
                    page.keyboard.type(q["query"], delay=180)
                else:
                    page.keyboard.insert_text(q["query"])
                page.wait_for_selector(
                    f'{RESULTS_PANEL}[data-query="{q["query"]}"]', timeout=60_000
                )
                page.wait_for_load_state("networkidle")
                status = page.locator(f"{RESULTS_PANEL} [role=status]")
                found = status.first.text_content() if status.count() else "no results"
                sent = tally.reset()
                context.close()
                measured.append(
                    {
                        **q,
                        "found": (found or "").strip(),
                        "pageLoadSentBytes": sum(r["sentBytes"] for r in loaded),
                        "requests": len(sent),
                        "bytes": sum(r["bytes"] for r in sent),
                        "sentBytes": sum(r["sentBytes"] for r in sent),
                        "byKind": _by_kind(sent),
                    }
                )
                m = measured[-1]
                print(
                    f"  {q['kind']} {q['query']!r}: {m['found']}; {m['requests']} requests, "
                    f"{m['sentBytes'] / 1000:.0f} kB sent",
                    flush=True,
                )
        finally:
            browser.close()
    return measured


def _by_kind(sent: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in sent:
        parts = r["path"].strip("/").split("/")
        kind = parts[1] if len(parts) > 2 and parts[0] == "pagefind" else parts[-1]
        if kind.startswith("pagefind.") and kind.endswith(".pf_meta"):
            kind = "pf_meta"
        slot = out.setdefault(kind, {"requests": 0, "sentBytes": 0})
        slot["requests"] += 1
        slot["sentBytes"] += r["sentBytes"]
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["sentBytes"]))


# --------------------------------------------------------------------------- report


def report_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    t = result["targets"]
    b = result.get("build")
    if b:
        rows.append("The portal (catalog, docs, site, search)")
        rows.append(
            (
                "cold `build`",
                f"{b['wallSeconds']:.1f} s wall, {b['cpuSeconds']:.0f} s CPU, "
                f"{b['peakRssMB']:.0f} MB peak",
                "",
                "",
            )
        )
    s = result.get("search")
    if s:
        rows.append("The search index, cold (Pagefind)")
        rows.append(("pages indexed", f"{s['pages']:,} ({s['docsPages']:,} docs pages)", "", ""))
        verdict = "PASS" if t["indexSeconds"]["pass"] else "FAIL"
        rows.append(
            (
                "index build (search stage alone)",
                f"{s['wallSeconds']:.1f} s wall ({s['pagefindSeconds']:.1f} s Pagefind), "
                f"{s['cpuSeconds']:.0f} s CPU, {s['peakRssMB']:.0f} MB peak",
                f"≤ {TARGET_INDEX_SECONDS:.0f} s",
                verdict,
            )
        )
        size = result["index"]
        rows.append(
            (
                "total index size",
                f"{size['bytes'] / 1e6:.1f} MB in {size['files']:,} files "
                f"({size['bytes'] / max(result['siteBytes'], 1):.0%} of the site)",
                "",
                "",
            )
        )
    q = result.get("queries")
    if q:
        rows.append("One query in Chromium, fresh profile (bytes sent after the page loaded)")
        for m in q:
            rows.append(
                (
                    f"{m['kind']}: {m['query']}",
                    f"{m['sentBytes'] / 1000:.0f} kB in {m['requests']} requests ({m['found']})",
                    "",
                    "",
                )
            )
        worst = t["queryBytes"]
        rows.append(
            (
                "largest of them",
                f"{worst['value'] / 1000:.0f} kB",
                f"≤ {TARGET_QUERY_BYTES / 1000:.0f} kB",
                "PASS" if worst["pass"] else "FAIL",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1,000 entities + 20 docs sites")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--site", type=Path, help="an already built site (skips the build)")
    parser.add_argument("--catalog", type=Path, help="its catalog.json (with --site)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--output", type=Path, default=RESULTS / "search.json")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and print it")
    args = parser.parse_args(argv)
    if bool(args.site) != bool(args.catalog):
        parser.error("--site and --catalog go together")
    entities, sites = (
        (QUICK_ENTITIES, QUICK_SITES) if args.quick else (TARGET_ENTITIES, TARGET_SITES)
    )
    mode = f"{entities:,} entities + {sites} docs sites" + (", quick" if args.quick else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="backlot-search-bench-"))
    result: dict[str, Any] = {**run_header("search", mode), "targets": {}}
    exit_code = 0
    try:
        org, stats = synthetic_org(entities, args.seed, True, scratch)
        docs, docs_stats = docs_org(sites, args.seed)
        result["org"] = {"entities": stats["entities"], "path": str(org)}
        result["docsOrg"] = {"sites": sites, "pagesPerSite": docs_stats["pagesPerSite"]}
        runner = Runner(args.python, scratch / "logs", snapshot_generator(scratch / "src"))
        if args.site:
            site, catalog = args.site.resolve(), args.catalog.resolve()
        else:
            site, cache = scratch / "site", scratch / "cache"
            config = write_config(scratch, org, docs)
            m = runner.run(
                "build",
                ["build", "--config", config, "-o", site, "--cache-dir", cache],
                ok=(0, 1),
            )
            result["build"] = m
            catalog = cache / "catalog.json"
        m = runner.run_cmd(
            "search",
            [args.python, "-c", SEARCH_ONLY, str(catalog), str(site), str(scratch / "index")],
        )
        found = INDEXED_LINE.search((runner.logs / "search.out").read_text("utf-8"))
        if not found:
            raise CommandFailed("search: no 'indexed … pages' line in its output")
        pages, _, docs_pages, took = found.groups()
        result["search"] = {
            **m,
            "pages": int(pages),
            "docsPages": int(docs_pages),
            "pagefindSeconds": float(took),
        }
        result["targets"]["indexSeconds"] = target(
            m["wallSeconds"], TARGET_INDEX_SECONDS, applies=not args.quick
        )
        result["index"] = index_size(site / "pagefind")
        result["siteBytes"] = folder_bytes(site)
        if not CHROMIUM.exists():
            raise CommandFailed(f"{CHROMIUM} is absent: apt-get install -y chromium")
        print("Queries in Chromium …", flush=True)
        result["queries"] = browser_stage(site, queries_for(catalog, docs))
        worst = max(q["sentBytes"] for q in result["queries"])
        result["targets"]["queryBytes"] = target(worst, TARGET_QUERY_BYTES, applies=True)
    except CommandFailed as exc:
        result["error"] = str(exc)
        print(f"error: {exc}", file=sys.stderr)
        exit_code = 2
    finally:
        result["loadAverage"]["end"] = list(os.getloadavg())
        if exit_code == 0 and not all(t["pass"] for t in result["targets"].values()):
            exit_code = 1
        result["exitCode"] = exit_code
        print_table(f"Search benchmark: {mode}", report_rows(result))
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
