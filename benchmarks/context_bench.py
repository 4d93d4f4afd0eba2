"""Benchmark of the context stage: what a snapshot of 2,000 annotated entities costs, beside
what Backstage's cards ask when each entity page is opened once, and which files a refresh
rewrites.

Starts the tests' three fakes over HTTP on 127.0.0.1 (``tests/github_context_fake.py``:
GitHub's GraphQL subset; ``tests/pagerduty_fake.py``: PagerDuty's REST subset;
``tests/argocd_fake.py``: Argo CD's application list) and an organisation of 2,000
Components in 20 teams: 90 % name a GitHub repository (``github.com/project-slug``), 30 % a
PagerDuty service (``pagerduty.com/service-id``, one escalation policy per team), 40 % an
Argo CD application (``argocd/app-name``). Then:

1. ``refresh_context`` in this process, cold (no cache, no previous snapshot) and warm (the
   sources' caches and the cold snapshot): requests each fake answered, wall time.
2. ``backlot build`` of the portal (context included), then ``backlot context`` end to end,
   each in a fresh process: cold (the snapshot and the sources' caches deleted) and warm.
3. Facts change in the fakes (CI goes red, pull requests open, incidents open, an Argo CD
   application degrades, someone else is on call), ``backlot context`` runs once more, and
   every file of the portal is compared (mtime and inode) with before: the files rewritten
   outside the Activity family (``generator.site._activity.is_activity_file``) must be none.

Backstage's side is counted from its plugins' sources: one request per card per page view
(the issue's rule), for the cards Backstage's plugins give these annotations —
``github.com/project-slug``: Recent Workflow Runs (github-actions), the pull requests
overview card (Roadie's github-pull-requests), GitHub Deployments (github-deployments);
``pagerduty.com/service-id``: the PagerDuty card; ``argocd/app-name``: Roadie's Argo CD
overview card. PagerDuty's card is counted once, although it asks more per view (the service,
its standards and metrics, then its incidents and on-calls in its children).

Targets: GitHub ≤ ⌈repositories / 40⌉ requests (one GraphQL query per 40), Argo CD 1,
PagerDuty tens (≤ 50), cold and warm; every target fetched; 0 files rewritten outside the
Activity family.

Usage::

    python benchmarks/context_bench.py            # 2,000 entities
    python benchmarks/context_bench.py --quick    # 200

Writes ``benchmarks/results/context.json``; exits 0 when every target passes, 1 when one
fails, 2 when a command fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
for path in (HERE, REPO_ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from catalog_bench import child_env, run_header  # noqa: E402
from measure import Row, measure, print_table  # noqa: E402

from generator.config import ContextSettings  # noqa: E402
from generator.context import ContextSnapshot, open_sources, refresh_context  # noqa: E402
from generator.context.github import BATCH  # noqa: E402
from generator.site._activity import is_activity_file  # noqa: E402
from tests.argocd_fake import FakeArgoCd  # noqa: E402
from tests.github_context_fake import Deploy, FakeGitHubContext, Pull, Suite  # noqa: E402
from tests.pagerduty_fake import FakeIncident, FakePagerDuty, FakeShift  # noqa: E402

RESULTS = HERE / "results"
TEAMS = 20
PAGERDUTY_TARGET = 50  # "tens of requests, not thousands"
# Cards per page view, by annotation (see the module's docstring for which and why).
BACKSTAGE_CARDS = {"github": 3, "pagerduty": 1, "argocd": 1}
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Fakes:
    def __init__(self) -> None:
        self.github = FakeGitHubContext()
        self.pagerduty = FakePagerDuty()
        self.argocd = FakeArgoCd()
        for fake in (self.github, self.pagerduty, self.argocd):
            fake.start()

    def stop(self) -> None:
        for fake in (self.github, self.pagerduty, self.argocd):
            fake.stop()

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_TOKEN": self.github.token,
            "PAGERDUTY_TOKEN": self.pagerduty.token,
            "ARGOCD_TOKEN": self.argocd.token,
        }

    def clear(self) -> None:
        self.github.requests = 0
        self.pagerduty.counts.clear()
        self.argocd.counts.clear()

    def requests(self) -> dict[str, int]:
        return {
            "github": self.github.requests,
            "pagerduty": sum(self.pagerduty.counts.values()),
            "argocd": self.argocd.counts["requests"],
        }

    def config(self) -> dict[str, Any]:
        return {
            "sources": [
                {"type": "github", "api_url": self.github.base},
                {"type": "pagerduty", "api_url": self.pagerduty.base},
                {"type": "argocd", "url": self.argocd.base},
            ]
        }


def organisation(fakes: Fakes, count: int, repos: Path) -> tuple[list[dict[str, Any]], Any]:
    """The entities (as the catalog holds them) and their descriptors under ``repos``; the
    facts of every target in the fakes. Shares: GitHub 90 %, PagerDuty 30 %, Argo CD 40 %."""
    gh, pd, argo = fakes.github, fakes.pagerduty, fakes.argocd
    for t in range(TEAMS):
        policy = f"EP{t:02d}"
        pd.policies[policy] = f"team-{t:02d} primary"
        for n, (start, end) in enumerate(((-2, 22), (22, 46))):
            uid = f"U{t:02d}{n}"
            pd.users[uid] = (f"Person {t}-{n}", f"p{t}-{n}@acme.test")
            pd.shifts.append(FakeShift(policy, 1, uid, iso(start), iso(end)))
    entities: list[dict[str, Any]] = []
    shares = {"github": 0, "pagerduty": 0, "argocd": 0}
    groups = "".join(
        "---\napiVersion: backstage.io/v1alpha1\nkind: Group\n"
        f"metadata:\n  name: team-{t:02d}\nspec:\n  type: team\n  children: []\n"
        for t in range(TEAMS)
    )
    (repos / "org").mkdir(parents=True, exist_ok=True)
    (repos / "org/catalog-info.yaml").write_text(groups)
    for i in range(count):
        name, team = f"svc-{i:04d}", i % TEAMS
        annotations: dict[str, str] = {}
        if i % 10 != 9:
            annotations["github.com/project-slug"] = f"acme/{name}"
            gh.add(
                "acme",
                name,
                pulls=[
                    Pull(f"Change {n} of {name}", iso(-5 - n), number=n + 1) for n in range(i % 4)
                ],
                suites=[
                    Suite("CI", iso(-3), conclusion="FAILURE" if i % 50 == 7 else "SUCCESS"),
                    Suite("Lint", iso(-3)),
                ],
                deployments=[Deploy("production", iso(-30), commit="c" * 40)],
                environments=["production"],
            )
            shares["github"] += 1
        if i % 10 in (0, 3, 6):
            sid = f"PS{i:04d}"
            annotations["pagerduty.com/service-id"] = sid
            pd.add_service(sid, name, f"EP{team:02d}")
            if i % 30 == 0:
                pd.incidents.append(
                    FakeIncident(f"Q{i}", sid, f"{name} errors", "triggered", iso(-1))
                )
            if i % 30 == 3:
                pd.incidents.append(
                    FakeIncident(
                        f"R{i}", sid, f"{name} slow", "resolved", iso(-20), "low", iso(-19)
                    )
                )
            shares["pagerduty"] += 1
        if i % 5 in (1, 4):
            app = f"{name}-prod"
            annotations["argocd/app-name"] = app
            argo.add(app, health="Degraded" if i % 100 == 1 else "Healthy", finished=iso(-4))
            shares["argocd"] += 1
        entity = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name, "namespace": "default", "annotations": annotations},
            "spec": {"type": "service", "lifecycle": "production", "owner": f"team-{team:02d}"},
        }
        entities.append(entity)
        lines = "".join(f"    {k}: {v}\n" for k, v in annotations.items())
        (repos / name).mkdir(exist_ok=True)
        (repos / name / "catalog-info.yaml").write_text(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
            f"  name: {name}\n" + (f"  annotations:\n{lines}" if lines else "") + "spec:\n"
            f"  type: service\n  lifecycle: production\n  owner: team-{team:02d}\n"
        )
    return entities, shares


def change_facts(fakes: Fakes, count: int) -> dict[str, int]:
    """What a five-minute refresh typically finds: a few repositories red or with a new
    pull request, incidents opened, an application degraded, a hand-over of on call."""
    changed = {"ci": 0, "pulls": 0, "incidents": 0, "apps": 0, "on_call": 1}
    for i in range(0, count, max(1, count // 20)):
        repo = fakes.github.repos.get(f"acme/svc-{i:04d}")
        if repo is None:
            continue
        repo.suites.append(Suite("CI", iso(-0.1), conclusion="FAILURE"))
        repo.pulls.append(Pull("A new change", iso(-0.2), number=99))
        changed["ci"] += 1
        changed["pulls"] += 1
    for sid in sorted(fakes.pagerduty.services)[::40]:
        fakes.pagerduty.incidents.append(
            FakeIncident(f"N{sid}", sid, "New alert", "triggered", iso(-0.05))
        )
        changed["incidents"] += 1
    for name in sorted(fakes.argocd.apps)[::80]:
        fakes.argocd.add(name, health="Progressing", sync="OutOfSync", finished=iso(-0.1))
        changed["apps"] += 1
    shift = fakes.pagerduty.shifts[0]
    shift.user = fakes.pagerduty.shifts[1].user
    return changed


def snapshot_in_process(
    fakes: Fakes, entities: list[dict[str, Any]], cache: Path, previous: ContextSnapshot | None
) -> tuple[ContextSnapshot, dict[str, Any]]:
    settings = ContextSettings.model_validate(fakes.config())
    fakes.clear()
    started = time.perf_counter()
    snapshot = refresh_context(
        entities, open_sources(settings, cache, env=fakes.env()), previous, keep_hours=24
    )
    wall = time.perf_counter() - started
    return snapshot, {
        "wallSeconds": wall,
        "requests": fakes.requests(),
        "runs": {
            name: {
                "targets": run.targets,
                "fetched": run.fetched,
                "missing": len(run.missing),
                "error": run.error,
                "requests": run.requests,
                "seconds": run.seconds,
            }
            for name, run in snapshot.runs.items()
        },
    }


def files_of(site: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in site.rglob("*"):
        if p.is_file():
            st = p.stat()
            out[p.relative_to(site).as_posix()] = (st.st_mtime_ns, st.st_ino)
    return out


def backlot(work: Path, fakes: Fakes, label: str, *args: str) -> dict[str, Any]:
    fakes.clear()
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    result = measure(
        [sys.executable, "-m", "generator", *args, "--config", "backlot.yaml"],
        cwd=work,
        env={**child_env(), **fakes.env()},
        stdout=logs / f"{label}.out",
        stderr=logs / f"{label}.err",
    )
    result["requests"] = fakes.requests()
    result["stdout"] = (logs / f"{label}.out").read_text(errors="replace")[-3000:]
    if result["returncode"] != 0:
        result["stderr"] = (logs / f"{label}.err").read_text(errors="replace")[-3000:]
    print(f"  {label}: exit {result['returncode']}, {result['wallSeconds']:.1f} s", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--entities", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="200 entities")
    parser.add_argument("--output", type=Path, default=RESULTS / "context.json")
    parser.add_argument("--keep", action="store_true", help="keep the portal and logs")
    args = parser.parse_args(argv)
    count = 200 if args.quick else args.entities
    result = run_header("context", f"{count:,} entities" + (", quick" if args.quick else ""))
    fakes = Fakes()
    work = Path(tempfile.mkdtemp(prefix="backlot-context-bench-"))
    failed = False
    try:
        entities, shares = organisation(fakes, count, work / "repos")
        print(f"Organisation: {count:,} entities, {shares}", flush=True)
        cold, cold_run = snapshot_in_process(fakes, entities, work / "cache-inproc", None)
        print(f"  refresh_context cold: {cold_run['wallSeconds']:.1f} s", flush=True)
        _, warm_run = snapshot_in_process(fakes, entities, work / "cache-inproc", cold)
        print(f"  refresh_context warm: {warm_run['wallSeconds']:.1f} s", flush=True)

        (work / "backlot.yaml").write_text(
            json.dumps({"catalog": {"sources": [{"path": "repos"}]}, "context": fakes.config()})
        )
        runs: dict[str, dict[str, Any]] = {}
        runs["build"] = backlot(work, fakes, "build", "build")
        # A cold refresh: no snapshot to keep facts from, no cached service maps.
        (work / ".backlot/context.json").unlink(missing_ok=True)
        shutil.rmtree(work / ".backlot/context", ignore_errors=True)
        runs["context cold"] = backlot(work, fakes, "context-cold", "context")
        runs["context warm"] = backlot(work, fakes, "context-warm", "context")
        changed = change_facts(fakes, count)
        site = work / "site"
        before = files_of(site)
        runs["context changed"] = backlot(work, fakes, "context-changed", "context")
        after = files_of(site)
        failed = any(r["returncode"] != 0 for r in runs.values())
        rewritten = sorted(p for p in after if p in before and after[p] != before[p])
        created = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        outside = [p for p in rewritten + created + removed if not is_activity_file(p)]
        pages = sum(1 for p in after if p.endswith(".html"))
        rewrite = {
            "factsChanged": changed,
            "files": len(after),
            "htmlPages": pages,
            "activityFiles": sum(1 for p in after if is_activity_file(p)),
            "rewritten": len(rewritten),
            "created": len(created),
            "removed": len(removed),
            "outsideActivity": outside[:50],
            "outsideActivityCount": len(outside),
        }
    finally:
        fakes.stop()
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    backstage = {name: BACKSTAGE_CARDS[name] * shares[name] for name in BACKSTAGE_CARDS}
    gh_limit = math.ceil(shares["github"] / BATCH)
    limits = {"github": gh_limit, "pagerduty": PAGERDUTY_TARGET, "argocd": 1}

    def within(requests: dict[str, int]) -> bool:
        return all(requests[k] <= limits[k] for k in limits)

    def complete(r: dict[str, Any]) -> bool:
        return all(run["fetched"] == run["targets"] and not run["error"] for run in r.values())

    end_to_end = [runs["context cold"], runs["context warm"]]
    targets = {
        "refreshCold": within(cold_run["requests"]) and complete(cold_run["runs"]),
        "refreshWarm": within(warm_run["requests"]) and complete(warm_run["runs"]),
        "contextCommand": all(within(r["requests"]) for r in end_to_end),
        "rewrittenOutsideActivity": rewrite["outsideActivityCount"] == 0,
    }
    result.update(
        entities=count,
        shares=shares,
        refresh={"cold": cold_run, "warm": warm_run},
        commands=runs,
        rewrite=rewrite,
        backstagePerPageView={"cards": BACKSTAGE_CARDS, "requests": backstage},
        limits=limits,
        targets=targets,
    )

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    titles = {"github": "GitHub", "pagerduty": "PagerDuty", "argocd": "Argo CD"}
    rows: list[Row] = [f"Requests per source ({count:,} entities)"]
    for name, title in titles.items():
        c, w = cold_run["requests"][name], warm_run["requests"][name]
        ok = c <= limits[name] and w <= limits[name]
        rows.append(
            (
                f"{title} ({shares[name]:,} targets)",
                f"cold {c}, warm {w}; Backstage {backstage[name]:,} per round of page views",
                f"≤ {limits[name]}",
                verdict(ok),
            )
        )
    total_c, total_w = sum(cold_run["requests"].values()), sum(warm_run["requests"].values())
    rows.append(
        (
            "all sources",
            f"cold {total_c}, warm {total_w}; Backstage {sum(backstage.values()):,}",
            "",
            "",
        )
    )
    rows.append("Wall time")
    rows.append(("refresh_context cold", f"{cold_run['wallSeconds']:.1f} s", "", ""))
    rows.append(("refresh_context warm", f"{warm_run['wallSeconds']:.1f} s", "", ""))
    for label in ("build", "context cold", "context warm", "context changed"):
        r = runs[label]
        reqs = ", ".join(f"{titles[k]} {v}" for k, v in r["requests"].items())
        rows.append(
            (
                f"backlot {label}",
                f"{r['wallSeconds']:.1f} s ({reqs})",
                "exit 0",
                verdict(r["returncode"] == 0),
            )
        )
    rows.append("Files rewritten when only the snapshot changed")
    rows.append(
        (
            "portal",
            f"{rewrite['files']:,} files, {rewrite['htmlPages']:,} pages, "
            f"{rewrite['activityFiles']:,} Activity",
            "",
            "",
        )
    )
    rows.append(("rewritten by backlot context", f"{rewrite['rewritten']:,}", "", ""))
    rows.append(
        (
            "outside the Activity family",
            str(rewrite["outsideActivityCount"]),
            "0",
            verdict(targets["rewrittenOutsideActivity"]),
        )
    )
    print_table(f"Backlot context benchmark ({result['mode']})", rows)
    result["loadAverage"]["end"] = list(os.getloadavg())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nWrote {args.output}")
    if failed:
        for label, r in runs.items():
            if r["returncode"] != 0:
                print(f"{label} failed:\n{r.get('stderr', '')}", file=sys.stderr)
        return 2
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
