"""Benchmark of ``backlot publish``: a rebuilt portal re-published, beside ``aws s3 sync``.

Generates a synthetic portal folder shaped like a Backlot build (20,000 files: entity pages
``catalog/<namespace>/<kind>/<name>/index.html`` of 10-40 kB, the catalog's list pages and
row shards, ``catalog.json``, ``build.json``, ``static/``, and TechDocs sites under
``docs/`` with their Material assets), starts moto's S3 server (``moto_server``, real HTTP
on 127.0.0.1) behind the tests' counting proxy (``tests/s3_proxy.py``), and runs, each in a
fresh process measured by ``measure.py``::

    python -m generator publish SITE --bucket bench-backlot --prefix portal/ \\
        --endpoint-url PROXY --cache-dir CACHE
    aws s3 sync SITE s3://bench-awscli/portal/ --endpoint-url PROXY --no-progress

**Round 1** publishes the folder into two empty buckets of the same server, one with each
tool. Then a **full rebuild**: every file is written again (identical bytes, new mtimes, a
new inode, as a build into a fresh CI checkout does) and 10 of them get new content (what
one component's new description rewrites: its page, four pages that show its summary, the
first catalog list pages, row shard 0, ``catalog.json``, and ``build.json`` whose time
moves). **Round 2** publishes again with each tool. Afterwards both buckets are listed
directly (not through the proxy) and compared with the folder, ETag by ETag.

Target (from the issue): round 2 of Backlot uploads exactly the 10 changed files; its
publish manifest (``portal/_backlot/publish.json``, written before the uploads as a claim
and after them) is counted apart. ``aws s3 sync`` compares sizes and mtimes, so it uploads
every file again; the table shows time, requests and bytes side by side, and the ratio.

awscli pins its own botocore, so it lives in a virtualenv of its own outside the repository
(``~/.cache/backlot/awscli-venv``, created on first use with ``python3 -m venv`` and
``pip install awscli==AWSCLI_VERSION``, then byte-compiled). If it cannot be installed the
reason is printed and only the Backlot half runs.

Usage::

    python benchmarks/publish_bench.py            # 20,000 files (~5 min)
    python benchmarks/publish_bench.py --quick    # 2,000 files (~40 s)

Writes ``benchmarks/results/publish.json``; exits 0 when the target passes, 1 when it fails
(Backlot's round 2 uploaded other than exactly the changed files), 2 when a command fails
or a bucket does not hold the folder afterwards.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
for path in (HERE, REPO_ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from catalog_bench import run_header, tail  # noqa: E402
from measure import measure  # noqa: E402
from site_bench import generator_env, snapshot_generator  # noqa: E402

from tests.s3_proxy import S3Proxy, Seen  # noqa: E402

RESULTS = HERE / "results"
FILES = 20_000
QUICK_FILES = 2_000
CHANGED = 10
PREFIX = "portal/"
MANIFEST = PREFIX + "_backlot/publish.json"
BACKLOT_BUCKET = "bench-backlot"
AWSCLI_BUCKET = "bench-awscli"
AWSCLI_VERSION = "1.46.3"  # its botocore (1.43.x) is not the project's
AWSCLI_VENV = Path.home() / ".cache" / "backlot" / "awscli-venv"
SITE_VERSION = 1  # bump when the synthetic site's shape changes
PAGE_SIZE = 100  # SiteSettings.page_size: rows per catalog list page
SHARD_ROWS = 2000  # generator.site._catalog_index.SHARD_ROWS
FILES_PER_DOCS_SITE = 250  # one TechDocs site per this many files of the portal
KINDS = (  # share of the entities (synthetic_org.py's mix), the name's stem
    ("component", 0.55, "svc"),
    ("api", 0.12, "api"),
    ("resource", 0.10, "res"),
    ("user", 0.13, "user"),
    ("system", 0.05, "sys"),
    ("group", 0.03, "team"),
    ("domain", 0.02, "domain"),
)
BUILD_TIME = ("2026-12-02T09:41:00Z", "2026-12-02 09:41 UTC")
REBUILD_TIME = ("2026-12-02T10:07:00Z", "2026-12-02 10:07 UTC")
OLD_SUMMARY = "Takes orders from the storefront and hands them to payments."
NEW_SUMMARY = "Takes orders from the storefront, reserves stock, and hands them to payments."
WORDS = [
    "service",
    "api",
    "order",
    "payment",
    "stock",
    "team",
    "owner",
    "system",
    "domain",
    "resource",
    "database",
    "queue",
    "topic",
    "cluster",
    "deploy",
    "release",
    "pipeline",
    "runbook",
    "alert",
    "dashboard",
    "latency",
    "request",
    "response",
    "schema",
    "version",
    "lifecycle",
    "production",
    "experimental",
    "library",
    "website",
    "backend",
    "frontend",
    "contract",
    "consumer",
    "provider",
    "event",
    "message",
    "retry",
    "timeout",
    "cache",
    "index",
    "search",
    "shipping",
    "inventory",
    "catalog",
    "customer",
    "account",
    "invoice",
    "refund",
    "ledger",
    "report",
    "metric",
]
LUNR = [
    "ar",
    "da",
    "de",
    "du",
    "el",
    "es",
    "fi",
    "fr",
    "he",
    "hi",
    "hu",
    "hy",
    "it",
    "ja",
    "jp",
    "kn",
    "ko",
    "multi",
    "nl",
    "no",
    "pt",
    "ro",
    "ru",
    "sa",
    "stemmer.support",
    "sv",
    "ta",
    "te",
    "th",
    "tr",
    "vi",
    "zh",
]


class CommandFailed(Exception):
    """A command the benchmark needs failed, or a bucket does not hold what it should."""


# ------------------------------------------------------------------ the synthetic site


@dataclass
class Site:
    root: Path
    files: dict[str, bytes] = field(default_factory=dict)  # relpath → content, as built
    entities: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    docs_sites: int = 0
    edited: list[str] = field(default_factory=list)  # the files the rebuild changes

    def stats(self) -> dict[str, Any]:
        groups: Counter[str] = Counter()
        sizes: Counter[str] = Counter()
        for relpath, data in self.files.items():
            group = _group(relpath)
            groups[group] += 1
            sizes[group] += len(data)
        pages = [len(d) for r, d in self.files.items() if _group(r) == "entity pages"]
        pages.sort()
        return {
            "files": len(self.files),
            "bytes": sum(sizes.values()),
            "entities": self.entities,
            "byKind": self.by_kind,
            "docsSites": self.docs_sites,
            "groups": {g: {"files": groups[g], "bytes": sizes[g]} for g in sorted(groups)},
            "entityPageBytes": {
                "min": pages[0],
                "median": pages[len(pages) // 2],
                "max": pages[-1],
            },
            "edited": self.edited,
            "version": SITE_VERSION,
        }


def _group(relpath: str) -> str:
    if relpath.startswith("docs/"):
        return "docs sites"
    if relpath.startswith("catalog/_data/"):
        return "row shards"
    if relpath.startswith(("catalog/_kinds/", "catalog/_pages/")) or relpath == (
        "catalog/index.html"
    ):
        return "catalog list pages"
    if relpath.startswith("catalog/"):
        return "entity pages"
    return "top level"


class Text:
    """Deterministic filler: paragraphs of the portal's vocabulary."""

    def __init__(self, rng: random.Random) -> None:
        self.paragraphs = [
            "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 120))) + ".</p>\n"
            for _ in range(1500)
        ]
        self.rng = rng

    def fill(self, size: int) -> str:
        out: list[str] = []
        start, total = self.rng.randrange(len(self.paragraphs)), 0
        while total < size:
            paragraph = self.paragraphs[start % len(self.paragraphs)]
            out.append(paragraph)
            total += len(paragraph)
            start += 1
        return "".join(out)[:size]


def _html(title: str, depth: int, body: str, as_of: str = BUILD_TIME[1]) -> str:
    up = "../" * depth
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} · Backlot</title>\n"
        f'<link rel="stylesheet" href="{up}static/portal.css">\n'
        f'<script src="{up}static/portal.js" defer></script>\n</head>\n<body>\n'
        f'<header class="top"><a href="{up}index.html">Backlot</a> '
        f'<nav><a href="{up}catalog/index.html">Catalog</a> '
        f'<a href="{up}documentation/index.html">Docs</a></nav></header>\n'
        f"<main>\n{body}</main>\n<footer>Catalog data as of {as_of}</footer>\n</body>\n</html>\n"
    )


def _graph(rng: random.Random, names: list[str]) -> str:
    nodes = []
    for i, name in enumerate(names):
        x, y = 40 + (i % 4) * 180, 40 + (i // 4) * 90
        nodes.append(
            f'<g class="node" id="node{i}"><title>{name}</title>'
            f'<rect x="{x}" y="{y}" width="160" height="44" rx="6"/>'
            f'<text x="{x + 80}" y="{y + 27}" text-anchor="middle">{name}</text></g>\n'
        )
        if i:
            nodes.append(
                f'<path class="edge" d="M{x},{y + 22} C{x - 40},{y + rng.randint(0, 60)} '
                f'{x - 60},{y - 30} {x - 20},{y}"/>\n'
            )
    height = 100 + 90 * math.ceil(len(names) / 4)
    return f'<svg class="graph" viewBox="0 0 760 {height}" role="img">\n{"".join(nodes)}</svg>\n'


def layout(files: int) -> tuple[int, int]:
    """(entities, docs sites) that make a site of ``files`` files."""
    docs_sites = max(1, files // FILES_PER_DOCS_SITE)
    per_docs_site = len(_theme_files(random.Random(0))) + len(DOCS_PAGES) + 5
    top = 10  # index, 404, about, problems, documentation, build.json, catalog.json, static x2
    entities = files - top - docs_sites * per_docs_site
    while entities > 0:
        counts = _kind_counts(entities)
        lists = -(-entities // PAGE_SIZE) + sum(-(-n // PAGE_SIZE) for n in counts.values() if n)
        shards = -(-entities // SHARD_ROWS)
        total = top + docs_sites * per_docs_site + entities + lists + shards
        if total <= files:
            return entities, docs_sites
        entities -= total - files
    raise ValueError(f"{files} files are too few for a portal")


def _kind_counts(entities: int) -> dict[str, int]:
    counts = {kind: max(1, int(entities * share)) for kind, share, _ in KINDS[1:]}
    counts = {"component": entities - sum(counts.values()), **counts}
    return counts


DOCS_PAGES = [
    "",
    *(f"guides/{s}/" for s in ("getting-started", "deploying", "on-call", "testing", "faq")),
    *(f"reference/{s}/" for s in ("api", "config", "events", "metrics", "errors", "glossary")),
]


def _theme_files(rng: random.Random) -> dict[str, bytes]:
    """Material's assets as a TechDocs build copies them into every docs site: the same
    bytes in each, fingerprinted names for the bundles (what Backlot marks immutable)."""
    blobs: dict[str, bytes] = {}

    def blob(size: int, seed: str) -> bytes:
        local = random.Random(seed)
        words = [local.choice(WORDS) for _ in range(size // 6 + 1)]
        return ("/*" + seed + "*/" + ";".join(words))[:size].encode()

    for stem, folder, size, map_size in (
        ("bundle", "javascripts", 114_286, 1_026_914),
        ("search", "javascripts/workers", 39_481, 216_029),
        ("main", "stylesheets", 139_846, 47_587),
        ("palette", "stylesheets", 12_641, 3_896),
    ):
        data = blob(size, stem)
        digest = hashlib.sha256(data).hexdigest()[:8]
        ext = "js" if "javascripts" in folder else "css"
        name = f"assets/{folder}/{stem}.{digest}.min.{ext}"
        blobs[name] = data
        blobs[name + ".map"] = blob(map_size, stem + ".map")
    blobs["assets/javascripts/lunr/wordcut.js"] = blob(677_463, "wordcut")
    blobs["assets/javascripts/lunr/tinyseg.js"] = blob(22_878, "tinyseg")
    for lang in LUNR:
        blobs[f"assets/javascripts/lunr/min/lunr.{lang}.min.js"] = blob(
            random.Random(lang).randint(2_500, 17_000), lang
        )
    blobs["assets/images/favicon.png"] = b"\x89PNG\r\n\x1a\n" + rng.randbytes(1_862)
    blobs["assets/backlot/backlot.css"] = blob(3_900, "backlot.css")
    blobs["assets/backlot/scope.js"] = blob(1_200, "scope.js")
    blobs["assets/backlot/content.js"] = blob(2_600, "content.js")
    return blobs


def generate_site(root: Path, files: int, seed: int = 1) -> Site:
    """Write a portal folder of ``files`` files below ``root`` (deterministic per seed)."""
    rng = random.Random(seed)
    text = Text(rng)
    entities, docs_sites = layout(files)
    counts = _kind_counts(entities)
    site = Site(root, entities=entities, by_kind=counts, docs_sites=docs_sites)
    names = {kind: [f"{stem}-{i:05d}" for i in range(counts[kind])] for kind, _, stem in KINDS}
    keys = [(kind, name) for kind, _, _ in KINDS for name in names[kind]]
    # The component whose description the rebuild changes, and the pages that show it.
    star = names["component"][0]
    shows_star = {
        ("component", star),
        ("system", names["system"][0]),
        ("group", names["group"][0]),
        ("api", names["api"][0]),
        ("component", names["component"][1]),
    }
    summary = {
        key: OLD_SUMMARY if key == ("component", star) else text.fill(rng.randint(40, 110))
        for key in keys
    }
    summary = {k: v.replace("<p>", "").replace("</p>", "").strip() for k, v in summary.items()}
    out = site.files

    for kind, name in keys:
        related = [rng.choice(keys)[1] for _ in range(rng.randint(3, 14))]
        body = (
            f'<h1>{name}</h1>\n<p class="kind">{kind.title()} · default</p>\n'
            f'<p class="description">{summary[(kind, name)]}</p>\n'
            f'<dl class="facts"><dt>Owner</dt><dd><a href="../../group/{names["group"][0]}/'
            f'index.html">{names["group"][0]}</a></dd><dt>Lifecycle</dt><dd>production</dd>'
            "</dl>\n"
        )
        if (kind, name) in shows_star and name != star:
            body += (
                f'<ul class="related"><li><a href="../../component/{star}/index.html">'
                f"{star}</a>: {OLD_SUMMARY}</li></ul>\n"
            )
        body += _graph(rng, [name, *related])
        page = _html(f"{name} · {kind.title()}", 4, body)
        size = int(rng.triangular(10_000, 40_000, 18_000))
        filler = text.fill(max(0, size - len(page)))
        page = page.replace("</main>", f'<section class="about">\n{filler}</section>\n</main>')
        out[f"catalog/default/{kind}/{name}/index.html"] = page.encode()

    def row(kind: str, name: str) -> str:
        return (
            f'<tr><td><a href="default/{kind}/{name}/index.html">{name}</a></td>'
            f"<td>{kind}</td><td>{names['group'][0]}</td><td>{summary[(kind, name)]}</td></tr>\n"
        )

    for kind in (None, *counts):
        selected = keys if kind is None else [(k, n) for k, n in keys if k == kind]
        base = "catalog/" if kind is None else f"catalog/_kinds/{kind}/"
        pages = max(1, -(-len(selected) // PAGE_SIZE))
        for number in range(1, pages + 1):
            here = base if number == 1 else f"{base}_pages/{number}/"
            chunk = selected[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
            rows = "".join(row(k, n) for k, n in chunk)
            body = f"<h1>Catalog</h1>\n<table>\n{rows}</table>\n"
            out[here + "index.html"] = _html("Catalog", here.count("/"), body).encode()
    for start in range(0, entities, SHARD_ROWS):
        index = start // SHARD_ROWS
        data = [
            [
                *(f"catalog/default/{k}/{n}/", k, "default", n, "service", names["group"][0]),
                *("production", "", [], summary[(k, n)], n),
            ]
            for k, n in keys[start : start + SHARD_ROWS]
        ]
        payload = json.dumps(data, separators=(",", ":"))
        out[f"catalog/_data/rows-{index}.js"] = f"window.backlotRows({index},{payload});\n".encode()

    catalog = {
        "summary": {"entities": entities, "byKind": counts},
        "entities": [
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": k.title(),
                "metadata": {
                    "name": n,
                    "namespace": "default",
                    "description": summary[(k, n)],
                    "annotations": {"backstage.io/source-location": f"url:./{n}/"},
                },
                "spec": {"owner": f"group:default/{names['group'][0]}", "lifecycle": "production"},
                "relations": [
                    {"type": "ownedBy", "targetRef": f"group:default/{names['group'][0]}"}
                ],
            }
            for k, n in keys
        ],
    }
    out["catalog.json"] = json.dumps(catalog, indent=1, sort_keys=True).encode()
    build = {
        "entities": entities,
        "errors": 0,
        "generator": "backlot 0.1.0",
        "repositories": [
            {"commit": None, "entities": 5, "name": f"repo-{i:05d}", "url": None}
            for i in range(max(1, entities // 5))
        ],
        "time": BUILD_TIME[0],
        "time_label": BUILD_TIME[1],
        "warnings": 0,
    }
    out["build.json"] = json.dumps(build, indent=1, sort_keys=True).encode()
    for relpath, title in (
        ("index.html", "Home"),
        ("404.html", "Not found"),
        ("about/index.html", "About"),
        ("problems/index.html", "Problems"),
        ("documentation/index.html", "Documentation"),
    ):
        depth = relpath.count("/")
        out[relpath] = _html(title, depth, text.fill(rng.randint(6_000, 20_000))).encode()
    out["static/portal.css"] = text.fill(7_183).encode()
    out["static/portal.js"] = text.fill(7_986).encode()

    theme = _theme_files(random.Random(0))
    for name in names["component"][:docs_sites]:
        base = f"docs/default/component/{name}/"
        for relpath, data in theme.items():
            out[base + relpath] = data
        for page in DOCS_PAGES:
            body = (
                f"<article>\n<h1>{name}: {page or 'overview'}</h1>\n{text.fill(9_000)}</article>\n"
            )
            out[base + page + "index.html"] = _html(name, 0, body).encode()
        out[base + "404.html"] = _html("404", 0, "<h1>404</h1>\n").encode()
        index = [{"location": p, "title": p or name, "text": text.fill(2_500)} for p in DOCS_PAGES]
        out[base + "search/search_index.json"] = json.dumps({"docs": index}).encode()
        sitemap = "".join(f"<url><loc>{p}</loc></url>\n" for p in DOCS_PAGES)
        sitemap = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset>\n{sitemap}</urlset>\n'
        out[base + "sitemap.xml"] = sitemap.encode()
        out[base + "sitemap.xml.gz"] = gzip.compress(sitemap.encode(), mtime=0)
        metadata = {"site_name": name, "site_description": "", "etag": name, "files": []}
        out[base + "techdocs_metadata.json"] = json.dumps(metadata).encode()

    # The layout's rounding (list pages come in whole pages) can leave a few files short:
    # icons make up the count, as a real portal's static/ holds some.
    for number in range(files - len(out)):
        out[f"static/icons/icon-{number}.svg"] = _graph(rng, [f"icon-{number}"]).encode()
    if len(out) != files:
        raise AssertionError(f"generated {len(out)} files, not {files}")
    site.edited = [*sorted(r for r, d in out.items() if OLD_SUMMARY.encode() in d), "build.json"]
    if len(site.edited) != CHANGED:
        raise AssertionError(f"{len(site.edited)} files would change, not {CHANGED}")
    for relpath, data in out.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return site


def rebuild(site: Site) -> list[str]:
    """Write every file again as a build does (a new file renamed over the old: new mtime,
    new inode), the 10 edited ones with new content. Returns the files whose bytes changed."""
    changed = []
    for relpath, data in sorted(site.files.items()):
        if relpath in site.edited:
            new = (
                data.replace(BUILD_TIME[0].encode(), REBUILD_TIME[0].encode()).replace(
                    BUILD_TIME[1].encode(), REBUILD_TIME[1].encode()
                )
                if relpath == "build.json"
                else data.replace(OLD_SUMMARY.encode(), NEW_SUMMARY.encode())
            )
            if new != data:
                changed.append(relpath)
            data = site.files[relpath] = new
        path = site.root / relpath
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    return changed


# ------------------------------------------------------------------ the S3 server


class MotoServer:
    """moto's S3 server in a process of its own, as the tests start it."""

    def __init__(self) -> None:
        command = Path(sys.executable).with_name("moto_server")
        if not command.is_file():
            raise CommandFailed(
                f"no moto_server beside {sys.executable} (pip install moto[server])"
            )
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [str(command), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.endpoint, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise CommandFailed("moto_server did not start") from None
                time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """User + system CPU the server has used so far."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return float("nan")
        fields = stat[stat.rfind(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def s3_env(base: dict[str, str], work: Path) -> dict[str, str]:
    """Dummy credentials, us-east-1, and no AWS settings of this machine's user."""
    env = {k: v for k, v in base.items() if not k.startswith("AWS_")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(work / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


# ------------------------------------------------------------------ awscli


def install_awscli(venv: Path, version: str) -> tuple[Path | None, str]:
    """``venv/bin/aws`` of awscli ``version``, installed on first use; or None and why."""
    aws, stamp = venv / "bin" / "aws", venv / ".backlot-awscli-version"
    if aws.is_file() and stamp.is_file() and stamp.read_text().strip() == version:
        return aws, "cached"
    python = shutil.which("python3") or sys.executable
    print(f"Installing awscli=={version} into {venv} (first run) …", flush=True)
    started = time.perf_counter()
    try:
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        for command in (
            [python, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"awscli=={version}"],
            # pip leaves no bytecode where PYTHONDONTWRITEBYTECODE is set (this machine):
            # compile as a normal install would, or every aws start-up pays for it.
            [str(venv / "bin" / "python"), "-m", "compileall", "-q", str(venv / "lib")],
        ):
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)
            if done.returncode != 0 and "compileall" not in command:
                lines = (done.stderr or done.stdout).strip().splitlines()
                why = "\n".join(line for line in lines if "is ignored" not in line)[-800:]
                return None, f"`{' '.join(command[-3:])}` failed: {why}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot install awscli: {exc}"
    if not aws.is_file():
        return None, f"pip installed awscli but {aws} is missing"
    stamp.write_text(version + "\n")
    return aws, f"installed in {time.perf_counter() - started:.0f} s"


# ------------------------------------------------------------------ the runs


@dataclass
class Bench:
    site: Site
    server: MotoServer
    proxy: S3Proxy
    work: Path
    env: dict[str, str]
    aws: Path | None

    def backlot(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "generator",
            "publish",
            str(self.site.root),
            "--bucket",
            BACKLOT_BUCKET,
            "--prefix",
            PREFIX,
            "--endpoint-url",
            self.proxy.base,
            "--cache-dir",
            str(self.work / "publish-cache"),
        ]

    def awscli(self) -> list[str]:
        assert self.aws is not None
        return [
            str(self.aws),
            "s3",
            "sync",
            str(self.site.root),
            f"s3://{AWSCLI_BUCKET}/{PREFIX}",
            "--endpoint-url",
            self.proxy.base,
            "--no-progress",
        ]

    def run(self, tool: str, label: str) -> dict[str, Any]:
        command = self.backlot() if tool == "backlot" else self.awscli()
        bucket = BACKLOT_BUCKET if tool == "backlot" else AWSCLI_BUCKET
        out, err = self.work / "logs" / f"{label}.out", self.work / "logs" / f"{label}.err"
        out.parent.mkdir(parents=True, exist_ok=True)
        self.proxy.reset()
        cpu = self.server.cpu_seconds()
        measured = measure(command, cwd=self.work, env=self.env, stdout=out, stderr=err)
        measured["serverCpuSeconds"] = self.server.cpu_seconds() - cpu
        measured.update(traffic(self.proxy.requests(), bucket))
        stdout = out.read_text(errors="replace")
        if tool == "backlot":
            measured["summary"] = [line for line in stdout.splitlines() if "published" in line]
        else:
            measured["uploadLines"] = sum(1 for x in stdout.splitlines() if x.startswith("upload:"))
        print(
            f"  {label}: exit {measured['returncode']}, {measured['wallSeconds']:.1f} s, "
            f"{measured['requests']:,} requests, {measured['objectsWritten']:,} objects",
            flush=True,
        )
        if measured["returncode"] != 0:
            measured["stderr"] = tail(err, 20)
            raise CommandFailed(f"{label} exited {measured['returncode']}:\n{measured['stderr']}")
        return measured


def traffic(seen: list[Seen], bucket: str) -> dict[str, Any]:
    """What the proxy saw: requests by method, request body bytes, and the objects written
    (a PUT of a whole object, or the POST that completes a multipart upload)."""
    manifest = f"/{bucket}/{MANIFEST}"
    written = [
        s
        for s in seen
        if (s.method == "PUT" and "partNumber=" not in s.query)
        or (s.method == "POST" and "uploadId=" in s.query)
    ]
    site_keys = sorted(unquote(s.path.split("/", 2)[2]) for s in written if s.path != manifest)
    return {
        "requests": len(seen),
        "byMethod": dict(sorted(Counter(s.method for s in seen).items())),
        "bytesSent": sum(s.sent for s in seen),
        "objectsWritten": len(site_keys),
        "keysWritten": site_keys if len(site_keys) <= 100 else [*site_keys[:100], "…"],
        "manifestWrites": sum(1 for s in written if s.path == manifest),
        "manifestBytesSent": sum(s.sent for s in seen if s.path == manifest),
        "multipartUploads": sum(1 for s in seen if s.method == "POST" and s.query == "uploads"),
    }


def verify(server: MotoServer, bucket: str, site: Site, extra: set[str]) -> dict[str, Any]:
    """List the bucket directly and compare with the folder: every key there, nothing
    else (but ``extra``), each single-part ETag the file's MD5, each size the file's."""
    client = server.client()
    stored: dict[str, tuple[str, int]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for item in page.get("Contents", ()):
            stored[item["Key"]] = (item["ETag"].strip('"'), item["Size"])
    wanted = {PREFIX + r: d for r, d in site.files.items()}
    missing = sorted(set(wanted) - set(stored))
    unexpected = sorted(set(stored) - set(wanted) - extra)
    wrong = []
    for key, data in wanted.items():
        if key not in stored:
            continue
        etag, size = stored[key]
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if size != len(data) or ("-" not in etag and etag != md5):
            wrong.append(key)
    return {
        "objects": len(stored),
        "missing": missing[:10],
        "unexpected": unexpected[:10],
        "wrong": wrong[:10],
        "ok": not (missing or unexpected or wrong),
    }


# ------------------------------------------------------------------ the report


def _mb(count: float) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 100_000 else f"{count / 1e3:,.1f} kB"


def _ratio(aws: float | None, backlot: float | None) -> str:
    if aws is None or not backlot:
        return ""
    return f"{aws / backlot:,.1f}x" if aws / backlot < 100 else f"{aws / backlot:,.0f}x"


def report_rows(result: dict[str, Any]) -> list[tuple[str, ...]]:
    runs = result["runs"]
    b1, b2 = runs["backlot-1"], runs["backlot-2"]
    a1, a2 = runs.get("awscli-1"), runs.get("awscli-2")
    head = ("", "Backlot r1", "aws r1", "aws/Backlot", "Backlot r2", "aws r2", "aws/Backlot")
    rows: list[tuple[str, ...]] = [head]

    def line(label: str, key: Any, fmt: Any, ratio: bool = True) -> None:
        cells = [label]
        for b, a in ((b1, a1), (b2, a2)):
            bv, av = key(b), key(a) if a else None
            cells += [fmt(bv), fmt(av) if av is not None else "-"]
            cells.append(_ratio(av, bv) if ratio else "")
        rows.append(tuple(cells))

    line("site objects uploaded", lambda r: r["objectsWritten"], lambda v: f"{v:,}")
    line(
        "  + manifest writes",
        lambda r: r["manifestWrites"],
        lambda v: f"{v:,}",
        ratio=False,
    )
    line("requests", lambda r: r["requests"], lambda v: f"{v:,}")
    methods = sorted({m for r in runs.values() for m in r["byMethod"]})
    for method in methods:
        line(f"  {method}", lambda r, m=method: r["byMethod"].get(m, 0), lambda v: f"{v:,}", False)
    line("bytes uploaded (bodies)", lambda r: r["bytesSent"], _mb)
    line("  of which manifest", lambda r: r["manifestBytesSent"], _mb, ratio=False)
    line("wall time", lambda r: r["wallSeconds"], lambda v: f"{v:,.1f} s")
    line(
        "CPU (user + sys)",
        lambda r: r["userSeconds"] + r["systemSeconds"],
        lambda v: f"{v:,.1f} s",
    )
    line("peak RSS", lambda r: r["peakRssMB"], lambda v: f"{v:,.0f} MB", ratio=False)
    line("moto CPU", lambda r: r["serverCpuSeconds"], lambda v: f"{v:,.1f} s", ratio=False)
    target = result["target"]
    rows.append(
        (
            "target",
            "",
            "",
            "",
            f"{CHANGED} objects {'PASS' if target['pass'] else 'FAIL'}",
            "",
            "",
        )
    )
    return rows


def print_report(result: dict[str, Any]) -> None:
    rows = report_rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    site = result["site"]
    print(
        f"\nBacklot publish benchmark ({result['mode']}): {site['files']:,} files, "
        f"{site['bytes'] / 1e6:,.0f} MB; round 2 after a full rebuild, "
        f"{len(site['edited'])} files changed"
    )
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(widths[i]) for i, c in enumerate(row) if i]
        print("  " + "  ".join(cells).rstrip())
    if result.get("awscli", {}).get("skipped"):
        print(f"\n  aws s3 sync skipped: {result['awscli']['skipped']}")


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=FILES)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FILES:,} files")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-awscli", action="store_true", help="only the Backlot half")
    parser.add_argument("--awscli-venv", type=Path, default=AWSCLI_VENV)
    parser.add_argument("--output", type=Path, default=RESULTS / "publish.json")
    parser.add_argument("--keep", action="store_true", help="keep the site and the logs")
    args = parser.parse_args(argv)
    files = QUICK_FILES if args.quick else args.files
    result = run_header("publish", f"{files:,} files" + (", quick" if args.quick else ""))

    aws: Path | None = None
    if args.no_awscli:
        result["awscli"] = {"skipped": "--no-awscli"}
    else:
        aws, how = install_awscli(args.awscli_venv, AWSCLI_VERSION)
        if aws is None:
            print(f"aws s3 sync will not run: {how}", flush=True)
            result["awscli"] = {"skipped": how}
        else:
            version = subprocess.run([str(aws), "--version"], capture_output=True, text=True)
            result["awscli"] = {"path": str(aws), "version": version.stdout.strip(), "how": how}
            print(f"awscli: {version.stdout.strip()} ({how})", flush=True)

    scratch = Path(tempfile.mkdtemp(prefix="backlot-publish-bench-"))
    server: MotoServer | None = None
    proxy: S3Proxy | None = None
    status = 0
    try:
        started = time.perf_counter()
        site = generate_site(scratch / "site", files, args.seed)
        result["site"] = site.stats() | {"seconds": time.perf_counter() - started}
        print(
            f"Site: {len(site.files):,} files, {result['site']['bytes'] / 1e6:,.0f} MB "
            f"({site.entities:,} entity pages, {site.docs_sites} docs sites), generated in "
            f"{result['site']['seconds']:.1f} s",
            flush=True,
        )
        # A private copy of `generator`, byte-compiled as pip would: commits landing during
        # the run do not change the code under test.
        src = snapshot_generator(scratch / "src")
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(src / "generator")])
        server = MotoServer()
        proxy = S3Proxy(server.endpoint)
        proxy.start()
        direct = server.client()
        for bucket in (BACKLOT_BUCKET, AWSCLI_BUCKET):
            direct.create_bucket(Bucket=bucket)
        bench = Bench(site, server, proxy, scratch, s3_env(generator_env(src), scratch), aws)

        runs: dict[str, dict[str, Any]] = {}
        print("Round 1: first publish into empty buckets", flush=True)
        runs["backlot-1"] = bench.run("backlot", "backlot-1")
        if aws is not None:
            runs["awscli-1"] = bench.run("awscli", "awscli-1")
        # S3's LastModified is the upload's time: make the rebuild's mtimes clearly later.
        time.sleep(1.1)
        started = time.perf_counter()
        changed = rebuild(site)
        result["rebuild"] = {"changed": changed, "seconds": time.perf_counter() - started}
        print(
            f"Full rebuild: {len(site.files):,} files written again, {len(changed)} changed "
            f"({result['rebuild']['seconds']:.1f} s)",
            flush=True,
        )
        print("Round 2: publish after the rebuild", flush=True)
        runs["backlot-2"] = bench.run("backlot", "backlot-2")
        if aws is not None:
            runs["awscli-2"] = bench.run("awscli", "awscli-2")
        result["runs"] = runs

        backlot_keys = set(runs["backlot-2"]["keysWritten"])
        expected = {PREFIX + r for r in changed}
        result["target"] = {
            "expected": CHANGED,
            "measured": runs["backlot-2"]["objectsWritten"],
            "sameKeys": backlot_keys == expected,
            "pass": runs["backlot-2"]["objectsWritten"] == CHANGED and backlot_keys == expected,
        }
        result["verify"] = {"backlot": verify(server, BACKLOT_BUCKET, site, {MANIFEST})}
        if aws is not None:
            result["verify"]["awscli"] = verify(server, AWSCLI_BUCKET, site, set())
            result["ratios"] = {
                label: {
                    "wallSeconds": runs[f"awscli-{n}"]["wallSeconds"]
                    / runs[f"backlot-{n}"]["wallSeconds"],
                    "requests": runs[f"awscli-{n}"]["requests"] / runs[f"backlot-{n}"]["requests"],
                    "bytesSent": runs[f"awscli-{n}"]["bytesSent"]
                    / max(1, runs[f"backlot-{n}"]["bytesSent"]),
                }
                for n, label in ((1, "round1"), (2, "round2"))
            }
        print_report(result)
        bad = {tool: v for tool, v in result["verify"].items() if not v["ok"]}
        if bad:
            print(f"\nBuckets that do not hold the folder: {json.dumps(bad)}", file=sys.stderr)
            status = 2
        elif not result["target"]["pass"]:
            print(
                f"\nFAIL: Backlot's round 2 uploaded {result['target']['measured']} site "
                f"objects, not the {CHANGED} changed files: "
                f"{sorted(backlot_keys ^ expected)[:20]}",
                file=sys.stderr,
            )
            status = 1
    except CommandFailed as exc:
        print(f"\n{exc}", file=sys.stderr)
        result["error"] = str(exc)
        status = 2
    finally:
        if proxy is not None:
            proxy.stop()
        if server is not None:
            server.stop()
        result["loadAverage"]["end"] = list(os.getloadavg())
        print(f"Load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.keep:
            print(f"Kept {scratch}")
            result["scratch"] = str(scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {args.output}")
    return status


if __name__ == "__main__":
    sys.exit(main())
