"""The Health page and its figures: the example organisation's figures equal what its
descriptors say (counted here, from the YAML, not by the code under test), health.json says
the same, the history grows by one point when a figure changes and not otherwise (so the
page stays byte-identical), and the CI step summary carries a Health row."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.health import (
    HISTORY_POINTS,
    Health,
    Share,
    next_history,
    published_health,
    read_history,
)
from generator.site._health_page import line_url, sparkline

from .conftest import EXAMPLES, GROUP_A, component, run_backlot, write_tree

EPOCH = {"SOURCE_DATE_EPOCH": "1764000000"}
OWNED = {"component", "api", "resource", "system", "domain", "template"}
NOT_DESCRIPTORS = {"mkdocs.yml", "openapi.yaml", "asyncapi.yaml"}


# --------------------------------------------------------------- counted by hand


def example_documents() -> list[dict[str, Any]]:
    """Every entity document of the example organisation, read with PyYAML (skeletons of
    templates are not descriptors)."""
    documents = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        if "skeleton" in path.parts or path.name in NOT_DESCRIPTORS:
            continue
        for doc in yaml.safe_load_all(path.read_text("utf-8")):
            if isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc:
                documents.append(doc)
    return documents


def accepted(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents Backstage accepts: the example's one broken document is a Component
    without spec.lifecycle (broken-widget, on purpose)."""
    return [
        d
        for d in documents
        if not (d["kind"] == "Component" and "lifecycle" not in (d.get("spec") or {}))
    ]


def key(kind: str, name: str, namespace: str = "default") -> str:
    return f"{kind}:{namespace}/{name}".lower()


def ref_key(ref: str, default_kind: str) -> str:
    kind, colon, rest = ref.partition(":")
    if not colon:
        kind, rest = default_kind, ref
    namespace, slash, name = rest.partition("/")
    return key(kind, name, namespace) if slash else key(kind, namespace)


def of(doc: dict[str, Any]) -> str:
    meta = doc["metadata"]
    return key(doc["kind"], meta["name"], meta.get("namespace", "default"))


# spec fields that name other entities, and the kind a bare name means there.
REF_FIELDS = {
    "dependsOn": None,
    "dependencyOf": None,
    "consumesApis": "api",
    "providesApis": "api",
    "system": "system",
    "domain": "domain",
    "subcomponentOf": "component",
    "parent": "group",
    "children": "group",
    "memberOf": "group",
}


def hand_counts() -> dict[str, Any]:
    docs = accepted(example_documents())
    keys = {of(d) for d in docs}
    kinds = Counter(d["kind"] for d in docs)
    owned = [d for d in docs if d["kind"].lower() in OWNED]
    owner_of = {of(d): ref_key(d["spec"]["owner"], "group") for d in owned}
    components = [d for d in docs if d["kind"] == "Component"]
    documentable = [d for d in docs if d["kind"] in ("Component", "API")]

    def annotated(d: dict[str, Any], name: str) -> bool:
        return bool((d["metadata"].get("annotations") or {}).get(name))

    unresolved: Counter[str] = Counter()
    for d in docs:
        for name, default in REF_FIELDS.items():
            value = (d.get("spec") or {}).get(name)
            for ref in value if isinstance(value, list) else [value] if value else []:
                if ref_key(ref, default or "") not in keys:
                    unresolved[of(d)] += 1
    orphans = Counter(k for k, owner in owner_of.items() if owner not in keys)
    owners: dict[str, dict[str, int]] = {}
    for d in owned:
        row = owners.setdefault(
            owner_of[of(d)], {"entities": 0, "docs": 0, "description": 0, "findings": 0}
        )
        row["entities"] += 1
        row["docs"] += d in documentable and not annotated(d, "backstage.io/techdocs-ref")
        row["description"] += not d["metadata"].get("description")
        row["findings"] += unresolved[of(d)] + orphans[of(d)]
    folders = [p for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return {
        "entities": len(docs),
        "kinds": kinds,
        "repositories": len(folders),
        "with_descriptors": sum(1 for p in folders if (p / "catalog-info.yaml").is_file()),
        "components": len(components),
        "from_templates": sum(annotated(d, "backstage.io/source-template") for d in components),
        "documentable": len(documentable),
        "documented": sum(annotated(d, "backstage.io/techdocs-ref") for d in documentable),
        "owned": len(owned),
        "owned_exist": sum(1 for owner in owner_of.values() if owner in keys),
        "orphans": sum(orphans.values()),
        "unresolved": sum(unresolved.values()),
        "owners": owners,
        "templates": sorted(of(d) for d in docs if d["kind"] == "Template"),
    }


# --------------------------------------------------------------- the example's portal


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``backlot build`` in an empty folder: the bundled example, built into ./site."""
    folder = tmp_path_factory.mktemp("health-example")
    done = run_backlot("build", cwd=folder, env=EPOCH)
    assert done.returncode == 0, done.stderr
    return folder / "site"


def test_the_example_figures_are_what_its_descriptors_say(example: Path) -> None:
    hand = hand_counts()
    data = json.loads((example / "health" / "health.json").read_text("utf-8"))
    assert data["entities"] == hand["entities"]
    share = {k: (v["part"], v["whole"]) for k, v in data.items() if isinstance(v, dict)}
    assert share["repositories"] == (hand["with_descriptors"], hand["repositories"])
    assert share["fromTemplates"] == (hand["from_templates"], hand["components"])
    # Built docs: every component and API with a techdocs-ref builds in the example.
    assert share["docs"] == (hand["documented"], hand["documentable"])
    assert share["owned"] == (hand["owned_exist"], hand["owned"])
    assert data["orphans"] == hand["orphans"] and hand["orphans"] > 0
    assert data["unresolvedRefs"] == hand["unresolved"] and hand["unresolved"] > 0
    assert data["errors"] == 1  # the broken widget, the one document left out above
    assert data["warnings"] == hand["orphans"] + hand["unresolved"]
    owners = {o["owner"]: o for o in data["owners"]}
    assert set(owners) == set(hand["owners"])
    for owner, row in hand["owners"].items():
        got = owners[owner]
        assert (
            got["entities"],
            got["withoutDocs"],
            got["withoutDescription"],
            got["findings"],
        ) == (row["entities"], row["docs"], row["description"], row["findings"]), owner
    gaps = [o["withoutDocs"] + o["withoutDescription"] + o["findings"] for o in data["owners"]]
    assert gaps == sorted(gaps, reverse=True)  # worst first
    assert [t["template"] for t in data["templates"]] == hand["templates"]
    assert all(t["exists"] for t in data["templates"])
    files = {loc["file"]: (loc["errors"], loc["warnings"]) for loc in data["locations"]}
    assert files["broken-widget/catalog-info.yaml"] == (1, 0)
    assert sum(w for _, w in files.values()) == data["warnings"]


def test_the_health_page_links_and_is_linked(example: Path) -> None:
    page = (example / "health" / "index.html").read_text("utf-8")
    hand = hand_counts()
    assert '<a href="../health/index.html" aria-current="page">Health</a>' in page
    for template in hand["templates"]:
        kind, _, rest = template.partition(":")
        namespace, _, name = rest.partition("/")
        assert f'href="../catalog/{namespace}/{kind}/{name}/index.html"' in page
    assert page.count('<svg class="spark"') >= 8
    assert "style=" not in page  # the CSP allows no inline style
    assert 'href="../health/health.json"' in page and 'href="../health/history.json"' in page
    assert "team-ghost" in page and "does not exist" in page
    home = (example / "index.html").read_text("utf-8")
    assert 'href="health/index.html"' in home
    # The docs' header lists the same sections as the portal's.
    docs_page = next((example / "docs").rglob("index.html")).read_text("utf-8")
    assert "health/index.html" in docs_page and ">Health</a>" in docs_page
    history = json.loads((example / "health" / "history.json").read_text("utf-8"))
    assert len(history["points"]) == 1
    assert history["points"][0]["time"] == "2025-11-24T16:00:00Z"  # SOURCE_DATE_EPOCH


# --------------------------------------------------------------- history, links, CI


def small_org(root: Path) -> Path:
    return write_tree(
        root,
        {
            "team/catalog-info.yaml": GROUP_A,
            "good/catalog-info.yaml": component("good"),
            "ghost/catalog-info.yaml": component("ghost", owner="team-ghost"),
            "no-descriptor/README.md": "# Nothing to see\n",
            "golden/template.yaml": (
                EXAMPLES / "golden-paths/templates/python-service/template.yaml"
            )
            .read_text("utf-8")
            .replace("group:team-platform", "group:team-a"),
            "golden/catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\n"
            "metadata:\n  name: golden\nspec:\n  type: file\n  target: ./template.yaml\n",
        },
    )


def build(work: Path, org: Path, env: dict[str, str] | None = None) -> None:
    (work / "backlot.yaml").write_text(
        f"catalog:\n  sources:\n    - type: local\n      path: {org}\n"
        "      url_template: https://github.com/acme/{name}\n",
        "utf-8",
    )
    done = run_backlot("build", "-o", work / "site", "--cache-dir", work / "c", cwd=work, env=env)
    assert done.returncode == 0, done.stderr


def test_history_grows_only_when_a_figure_changes(tmp_path: Path) -> None:
    org = small_org(tmp_path / "org")
    site = tmp_path / "site"
    build(tmp_path, org, {"SOURCE_DATE_EPOCH": "1764000000"})
    first = json.loads((site / "health/history.json").read_text())["points"]
    page = (site / "health/index.html").read_bytes()
    figures = first[-1]["figures"]
    assert len(first) == 1
    # Four folders, three with a descriptor; one owner of two exists.
    assert (figures["repositories_part"], figures["repositories_whole"]) == (4, 5)
    assert (figures["templates_part"], figures["templates_whole"]) == (0, 2)

    build(tmp_path, org, {"SOURCE_DATE_EPOCH": "1764086400"})  # a day later, nothing changed
    assert json.loads((site / "health/history.json").read_text())["points"] == first
    assert (site / "health/index.html").read_bytes() == page

    # A component now says it came from the template: one figure changes, one point more.
    good = org / "good/catalog-info.yaml"
    good.write_text(
        good.read_text().replace(
            "metadata:\n",
            "metadata:\n  annotations:\n"
            "    backstage.io/source-template: template:default/python-service\n",
        )
    )
    build(tmp_path, org, {"SOURCE_DATE_EPOCH": "1764172800"})
    points = json.loads((site / "health/history.json").read_text())["points"]
    assert len(points) == 2 and points[0] == first[0]
    assert (points[1]["figures"]["templates_part"], points[1]["time"]) == (
        1,
        "2025-11-26T16:00:00Z",
    )
    data = json.loads((site / "health/health.json").read_text())
    assert data["templates"] == [
        {"template": "template:default/python-service", "components": 1, "exists": True}
    ]
    html = (site / "health/index.html").read_text()
    assert 'up 50 points since <time datetime="2025-11-24T16:00:00Z">2025-11-24</time>' in html
    # Findings link to their line on GitHub; files to their page.
    assert re.search(
        r'href="https://github\.com/acme/ghost/blob/[^"#]+/catalog-info\.yaml#L\d+"', html
    ), html

    build(tmp_path, org, {"SOURCE_DATE_EPOCH": "1764259200"})
    assert len(json.loads((site / "health/history.json").read_text())["points"]) == 2


def test_the_step_summary_has_a_health_row(tmp_path: Path) -> None:
    org = small_org(tmp_path / "org")
    summary = tmp_path / "summary.md"
    build(tmp_path, org, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    (row,) = [line for line in text.splitlines() if line.startswith("| Health |")]
    assert "repositories with a descriptor 80 %" in row
    assert "components from a template 0 %" in row
    assert "components and APIs with docs 0 %" in row
    assert "1 orphan" in row
    assert "Repositories with a descriptor: 80 % (4 of 5)" in text
    # The same figures as the page's health.json (read back from the site).
    published = published_health(tmp_path / "site")
    assert published is not None and published.row() in row
    assert "Owners with the most gaps" in text and "team\\-ghost" in text


# --------------------------------------------------------------- pieces


def health(**figures: Any) -> Health:
    return Health(
        owned=Share(1, 2),
        techdocs=Share(0, 1),
        from_templates=Share(0, 1),
        stale_repositories=0,
        **figures,
    )


def test_next_history_adds_a_point_only_for_new_figures_and_is_bounded() -> None:
    history = next_history([], health(errors=1), "t1")
    assert next_history(history, health(errors=1), "t2") == history
    grown = next_history(history, health(errors=2), "t2")
    assert [p["time"] for p in grown] == ["t1", "t2"]
    long: list[dict[str, Any]] = []
    for n in range(HISTORY_POINTS + 5):
        long = next_history(long, health(errors=n), f"t{n}")
    assert len(long) == HISTORY_POINTS and long[-1]["figures"]["errors"] == HISTORY_POINTS + 4


def test_a_published_history_is_read_defensively() -> None:
    good = {"time": "2026-01-01T00:00:00Z", "figures": {"errors": 1}}
    bad = [
        {"time": 3},
        {"time": "2026-01-02T00:00:00Z", "figures": {"a": "b"}},
        {"time": "not a time", "figures": {"a": 1}},  # would stop the page's date labels
        {"time": "2026-01-03T00:00:00Z", "figures": {"a": True}},
    ]
    assert read_history({"points": [good, *bad]}) == [good]
    assert read_history([1, 2]) == [] and read_history({"points": "no"}) == []


def test_health_json_round_trips() -> None:
    value = health(repositories=Share(3, 4), docs=None, errors=2)
    assert Health.from_dict(json.loads(json.dumps(value.as_dict()))) == value


def test_sparkline_is_plain_svg() -> None:
    svg = sparkline([10.0, None, 40.0, 50.0], percent=True, title="Docs <b>")
    assert svg.startswith('<svg class="spark"') and "style" not in svg
    assert svg.count("<polyline") == 1  # the unknown value breaks the line
    assert "Docs &lt;b&gt;" in svg and "<circle" in svg
    assert "<polyline" not in sparkline([5.0], percent=False, title="one point")


def test_line_links() -> None:
    blob = "https://github.com/acme/a/blob/main/catalog-info.yaml"
    assert line_url(blob, 7) == blob + "#L7"
    assert (
        line_url("https://gitlab.example/a/-/raw/x.yaml", 7)
        == "https://gitlab.example/a/-/raw/x.yaml"
    )
    assert line_url("javascript:alert(1)", 1) is None and line_url(None, 1) is None


def test_old_catalogs_say_coverage_is_not_known() -> None:
    assert "not known" in health().row()


def test_a_history_restored_into_a_fresh_output_folder_is_continued(tmp_path: Path) -> None:
    """CI without the last output: the published history.json, put back into the output
    folder before the build (downloaded from the portal), is continued, not restarted."""
    earlier = {"time": "2025-01-01T00:00:00Z", "figures": {"entities": 1}}
    site = tmp_path / "site"
    (site / "health").mkdir(parents=True)
    (site / "health/history.json").write_text(json.dumps({"points": [earlier]}))
    build(tmp_path, small_org(tmp_path / "org"), EPOCH)
    points = json.loads((site / "health/history.json").read_text())["points"]
    assert len(points) == 2 and points[0] == earlier
