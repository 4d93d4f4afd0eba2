"""README badges: every badge of the example portal a valid, self-contained SVG that says
what the entity says; hostile text escaped; ``backlot badge`` printing the Markdown; the
badges public behind the edge sign-in, cached briefly, and the entity's links stable on
the CDN."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from generator.deploy import EdgeAuthConfig, edge_auth_files
from generator.publish._files import cache_control
from generator.site._badges import Badge, badge_svg, clean, text_width

from . import test_edge_auth as edge
from .conftest import EXAMPLES, GROUP_A, component, run_backlot, write_tree
from .test_deploy import viewer_request
from .test_edge_auth import FakeIdp, edge_config, forwarded, location

# The sign-in check's fixtures (node, an OpenID provider, the function run in node).
idp, node, run_edge = edge.idp, edge.node, edge.run_edge

SVG = "{http://www.w3.org/2000/svg}"
ORDERS = "badges/default/component/orders-service"


@pytest.fixture(scope="module")
def example_portal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("portal")
    result = run_backlot("build", EXAMPLES, "-o", out / "site", "--cache-dir", out / "cache")
    assert result.returncode == 0, result.stderr
    return out / "site"


def title(path: Path) -> str:
    """The badge's accessible name, read with an XML parser (as a browser would)."""
    root = ET.parse(path).getroot()
    found = root.find(f"{SVG}title")
    assert found is not None and found.text, path
    assert root.get("aria-label") == found.text
    return found.text


def entity_title(entity: dict[str, Any]) -> str:
    profile = (entity.get("spec") or {}).get("profile") or {}
    return (
        profile.get("displayName") or entity["metadata"].get("title") or entity["metadata"]["name"]
    )


def test_every_badge_is_a_valid_self_contained_svg(example_portal: Path) -> None:
    catalog = json.loads((example_portal / "catalog.json").read_text())
    badges = sorted((example_portal / "badges").rglob("*.svg"))
    folders = {p.parent.relative_to(example_portal / "badges").as_posix() for p in badges}
    # One folder per entity, at its lowercase storage path, each with at least these three.
    expected = {
        f"{e['metadata']['namespace']}/{e['kind']}/{e['metadata']['name']}".lower()
        for e in catalog["entities"]
    }
    assert folders == expected
    for folder in expected:
        for name in ("kind", "docs", "health"):
            assert (example_portal / "badges" / folder / f"{name}.svg").is_file()
    for path in badges:
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg", path
        assert root.get("height") == "20" and int(root.get("width", "0")) > 20
        assert title(path)
        text = path.read_text()
        # Nothing outside the badge: no links, images, scripts, styles or fonts to fetch.
        assert not re.search(r"href|<script|<image|<style|@import|<foreignObject", text), path
        assert re.findall(r"https?://[^\"]*", text) == ["http://www.w3.org/2000/svg"], path
        assert set(re.findall(r"url\(([^)]*)\)", text)) <= {"#r", "#s"}, path


def test_badges_say_what_the_entity_says(example_portal: Path) -> None:
    catalog = json.loads((example_portal / "catalog.json").read_text())
    entities = {
        f"{e['kind']}:{e['metadata']['namespace']}/{e['metadata']['name']}".lower(): e
        for e in catalog["entities"]
    }
    orders = entities["component:default/orders-service"]
    owner = next(r["targetRef"] for r in orders["relations"] if r["type"] == "ownedBy")
    assert title(example_portal / ORDERS / "owner.svg") == f"owner: {entity_title(entities[owner])}"
    assert title(example_portal / ORDERS / "kind.svg") == "kind: component | service"
    lifecycle = example_portal / ORDERS / "lifecycle.svg"
    assert (
        title(lifecycle) == f"lifecycle: {orders['spec']['lifecycle']}" == "lifecycle: production"
    )
    assert 'fill="#4c1"' in lifecycle.read_text()  # production is green
    for key, entity in entities.items():
        meta = entity["metadata"]
        storage = f"{meta['namespace']}/{entity['kind']}/{meta['name']}".lower()
        folder = example_portal / "badges" / storage
        built = (example_portal / "docs" / storage / "index.html").is_file()
        assert title(folder / "docs.svg") == f"docs: {'available' if built else 'none'}", key
        assert re.fullmatch(r"catalog health: [ABCDF] \(.+\)", title(folder / "health.svg")), key
        if (entity.get("spec") or {}).get("lifecycle"):
            assert title(folder / "lifecycle.svg") == f"lifecycle: {entity['spec']['lifecycle']}"
    # An owner that is not in the catalog is said so, and costs the grade.
    mailer = example_portal / "badges/default/component/newsletter-mailer"
    assert title(mailer / "owner.svg") == "owner: group:team-ghost (not in the catalog)"
    assert title(mailer / "health.svg").startswith("catalog health: D (1 warning, owner not in")
    assert title(example_portal / ORDERS / "health.svg") == "catalog health: A (nothing missing)"


def test_lifecycles_are_coloured_by_stage() -> None:
    def colour(lifecycle: str) -> str:
        from generator.site._badges import LIFECYCLE_COLOURS

        return LIFECYCLE_COLOURS[lifecycle]

    assert colour("production") == "#4c1"
    assert colour("experimental") == "#fe7d37"
    assert colour("deprecated") == "#e05d44"


def test_a_hostile_owner_title_is_escaped_and_stripped(tmp_path: Path) -> None:
    hostile = '<script>alert(1)</script> & \\"Co\\" \\a\\u202e\\x1b[31m'
    group = GROUP_A.replace("spec:\n", f'spec:\n  profile:\n    displayName: "{hostile}"\n')
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": group, "svc/catalog-info.yaml": component("svc")},
    )
    site = tmp_path / "site"
    result = run_backlot("build", org, "-o", site, "--cache-dir", tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    badge = site / "badges/default/component/svc/owner.svg"
    raw = badge.read_text(encoding="utf-8")
    assert "<script" not in raw and "&lt;script&gt;" in raw and "&amp;" in raw
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202e]", raw)
    assert title(badge) == 'owner: <script>alert(1)</script> & "Co" [31m'
    # Text in an SVG attribute is quoted too.
    assert 'aria-label="owner: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;' in raw


def test_badge_text_is_measured_cleaned_and_cut() -> None:
    assert text_width("iii") < text_width("MMM")
    assert text_width("日本") == 22.0
    assert clean("a\x00b\u202ec\n  d") == "abc d"
    long = clean("x" * 100)
    assert len(long) == 40 and long.endswith("…")
    svg = badge_svg(Badge("owner", "A & B <c>", "#007ec6"))
    assert ET.fromstring(svg).find(f"{SVG}title").text == "owner: A & B <c>"  # type: ignore[union-attr]
    # Wider text, wider badge.
    narrow = int(ET.fromstring(badge_svg(Badge("a", "b", "#4c1"))).get("width", "0"))
    wide = int(ET.fromstring(badge_svg(Badge("a", "b" * 30, "#4c1"))).get("width", "0"))
    assert wide > narrow + 100


def test_badge_prints_the_markdown_for_a_readme(example_portal: Path, tmp_path: Path) -> None:
    result = run_backlot(
        "badge",
        "component:default/orders-service",
        "--site",
        example_portal,
        "--base-url",
        "https://portal.example",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    page = "https://portal.example/catalog/default/component/orders-service/index.html"
    badge = "https://portal.example/badges/default/component/orders-service"
    assert result.stdout.splitlines() == [
        f"[![kind]({badge}/kind.svg)]({page})",
        f"[![owner]({badge}/owner.svg)]({page})",
        f"[![lifecycle]({badge}/lifecycle.svg)]({page})",
        f"[![docs]({badge}/docs.svg)]"
        "(https://portal.example/docs/default/component/orders-service/index.html)",
        f"[![catalog health]({badge}/health.svg)]({page})",
    ]
    assert result.stderr == ""
    # Without docs, the docs badge links to the entity's page; a Group has no owner or
    # lifecycle badge. The address comes from site.base_url, and the kind may be left out.
    (tmp_path / "backlot.yaml").write_text("site:\n  base_url: https://p.example/portal\n")
    group = run_backlot("badge", "group:team-payments", "--site", example_portal, cwd=tmp_path)
    assert group.returncode == 0, group.stderr
    page = "https://p.example/portal/catalog/default/group/team-payments/index.html"
    assert group.stdout.splitlines() == [
        f"[![{name}](https://p.example/portal/badges/default/group/team-payments/{file}.svg)]"
        f"({page})"
        for name, file in (("kind", "kind"), ("docs", "docs"), ("catalog health", "health"))
    ]
    short = run_backlot("badge", "orders-service", "--site", example_portal, cwd=tmp_path)
    assert short.returncode == 0 and "https://p.example/portal/badges/" in short.stdout


def test_badge_without_an_address_prints_relative_links_and_says_so(
    example_portal: Path, tmp_path: Path
) -> None:
    result = run_backlot("badge", "api:orders-api", "--site", example_portal, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == (
        "[![kind](badges/default/api/orders-api/kind.svg)]"
        "(catalog/default/api/orders-api/index.html)"
    )
    assert "note: no --base-url and no site.base_url" in result.stderr


def test_badge_for_an_unknown_ref_says_what_was_meant(example_portal: Path, tmp_path: Path) -> None:
    result = run_backlot("badge", "component:orders-servce", "--site", example_portal, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "component:default/orders-servce is not in the portal's catalog" in lines[0]
    assert "did you mean component:default/orders-service" in lines[0]
    nothing = run_backlot("badge", "zzzz-qqqq", "--site", example_portal, cwd=tmp_path)
    assert nothing.returncode == 2 and "references look like" in nothing.stderr
    bad_url = run_backlot(
        "badge", "orders-service", "--site", example_portal, "--base-url", "ftp://x", cwd=tmp_path
    )
    assert bad_url.returncode == 2 and "not an http(s) address" in bad_url.stderr
    no_site = run_backlot("badge", "orders-service", cwd=tmp_path)
    assert no_site.returncode == 2 and "run 'backlot build' first" in no_site.stderr


def test_badges_change_only_with_their_entity(tmp_path: Path) -> None:
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            "a/catalog-info.yaml": component("a"),
            "far/catalog-info.yaml": component("far").replace("team-a", "user:nobody"),
        },
    )
    site = tmp_path / "site"

    def build() -> dict[str, int]:
        result = run_backlot("build", org, "-o", site, "--cache-dir", tmp_path / "cache")
        assert result.returncode == 0, result.stderr
        return {
            p.relative_to(site).as_posix(): p.stat().st_mtime_ns
            for p in (site / "badges").rglob("*.svg")
        }

    first = build()
    assert build() == first  # nothing changed: no badge rewritten
    group = GROUP_A.replace("spec:\n", "spec:\n  profile:\n    displayName: Team A\n")
    (org / "team" / "catalog-info.yaml").write_text(group)
    third = build()
    rewritten = {k for k in third if third[k] != first.get(k)}
    # The group's own badges did not change their bytes (its kind, docs and grade stay);
    # the owner badge of what it owns did.
    assert rewritten == {"badges/default/component/a/owner.svg"}
    assert title(site / "badges/default/component/a/owner.svg") == "owner: Team A"
    (org / "a" / "catalog-info.yaml").unlink()
    build()
    assert not (site / "badges/default/component/a").exists()


def test_badges_are_public_behind_the_edge_sign_in_by_default(run_edge: Any, idp: FakeIdp) -> None:
    assert EdgeAuthConfig(**_settings(idp.base)).public_paths == ("/badges/",)
    browser = run_edge(edge_config(idp.base))
    badge = browser.request("/badges/default/component/orders-service/owner.svg")
    assert forwarded(badge)
    assert badge["uri"] == "/portal/badges/default/component/orders-service/owner.svg"
    for uri in ("/catalog/default/component/orders-service/", "/badges/../catalog/"):
        answer = browser.request(uri)
        assert answer["status"] == "302" and location(answer).startswith(idp.base), uri
    private = run_edge(edge_config(idp.base, public_badges=False))
    assert private.request("/badges/default/component/orders-service/owner.svg")["status"] == "302"


def _settings(issuer: str) -> dict[str, Any]:
    return {"issuer": issuer, "client_id": "c", "client_secret": "s"}


def test_the_bundle_lists_badges_as_public_unless_told_not_to() -> None:
    issuer = "https://login.example.com"
    settings = json.loads(edge_auth_files(EdgeAuthConfig(**_settings(issuer)))["config.json"])
    assert settings["public_paths"] == ["/badges/"]
    assert "public_badges" not in settings  # index.js reads public_paths only
    more = EdgeAuthConfig(**_settings(issuer), public_paths=("/catalog.json", "/badges/"))
    assert more.public_paths == ("/catalog.json", "/badges/")
    none = EdgeAuthConfig(**_settings(issuer), public_badges=False)
    assert none.public_paths == ()


def test_deploy_edge_auth_private_badges(tmp_path: Path) -> None:
    import zipfile

    for flags, expected in (([], ["/badges/"]), (["--private-badges"], [])):
        result = run_backlot(
            "deploy",
            "edge-auth",
            "--issuer",
            "https://login.example.com",
            "--client-id",
            "c",
            *flags,
            "-o",
            tmp_path / "edge.zip",
            cwd=tmp_path,
            env={"BACKLOT_OIDC_CLIENT_SECRET": ""},
        )
        assert result.returncode == 0, result.stderr
        with zipfile.ZipFile(tmp_path / "edge.zip") as archive:
            assert json.loads(archive.read("config.json"))["public_paths"] == expected


def test_badges_are_cached_briefly_pages_revalidate() -> None:
    assert cache_control(f"{ORDERS}/owner.svg") == "public, max-age=300"
    assert "max-age=0" in cache_control("catalog/default/component/orders-service/index.html")
    assert "max-age=0" in cache_control("static/logo.svg")


def test_an_entitys_links_are_stable_folder_urls_on_the_cdn() -> None:
    assert viewer_request("/catalog/default/component/orders-service/")["uri"] == (
        "/portal/catalog/default/component/orders-service/index.html"
    )
    assert viewer_request("/docs/default/component/orders-service/")["uri"] == (
        "/techdocs/default/component/orders-service/index.html"
    )
    moved = viewer_request("/catalog/default/component/orders-service")
    assert moved["statusCode"] == 301
    assert moved["headers"]["location"]["value"] == "/catalog/default/component/orders-service/"
    assert viewer_request(f"/{ORDERS}/owner.svg")["uri"] == f"/portal/{ORDERS}/owner.svg"


def test_badges_written_by_workers_are_those_written_in_one_process(
    example_portal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.model import CatalogFile
    from generator.site import _badges, build_site

    catalog = CatalogFile.read(example_portal / "catalog.json")

    def badges(out: Path) -> dict[str, bytes]:
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.svg")}

    build_site(catalog, tmp_path / "one", tmp_path / "cache-one", workers=1)
    monkeypatch.setattr(_badges, "BATCH", 7)  # ten batches, across two workers
    build_site(catalog, tmp_path / "two", tmp_path / "cache-two", workers=2)
    one, two = badges(tmp_path / "one" / "badges"), badges(tmp_path / "two" / "badges")
    assert len(one) > 200 and one == two
