"""`describe_site` and `compare_layouts` on small hand-made sites (no node needed)."""

from __future__ import annotations

import json
from pathlib import Path

from .layout import compare_layouts, describe_site

MATERIAL_PAGE = (
    '<header class="md-header md-header--shadow"></header>'
    "<div class='md-sidebar md-sidebar--primary'></div><div class=\"md-content\"></div>"
)


def _site(root: Path, pages: dict[str, str], metadata: dict[str, object]) -> Path:
    for page, html in pages.items():
        (root / page).parent.mkdir(parents=True, exist_ok=True)
        (root / page).write_text(html, encoding="utf-8")
    docs = [
        {"location": page.removesuffix("index.html"), "title": page, "text": ""} for page in pages
    ]
    (root / "search").mkdir(parents=True, exist_ok=True)
    (root / "search" / "search_index.json").write_text(
        json.dumps({"config": {}, "docs": docs}), encoding="utf-8"
    )
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    metadata = {**metadata, "files": [*files, "techdocs_metadata.json"]}
    (root / "techdocs_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return root


GOOD_META = {"site_name": "S", "site_description": "D", "build_timestamp": 1_700_000_000_000}


def test_identical_sites_compare_clean(tmp_path: Path) -> None:
    pages = {"index.html": MATERIAL_PAGE, "a/index.html": MATERIAL_PAGE}
    ref = describe_site(_site(tmp_path / "ref", pages, GOOD_META))
    assert ref["pages"] == ["a/index.html", "index.html"]
    assert ref["material"] == {"all_pages": True, "pages_missing": {}}
    assert ref["metadata"]["files"]["lists_metadata"]
    assert ref["metadata"]["files"]["not_listed"] == []
    # Extra pages, extra files and an etag are allowed.
    extra = {**pages, "portal/index.html": "<p>no material here</p>"}
    cand = describe_site(_site(tmp_path / "cand", extra, {**GOOD_META, "etag": "x"}))
    assert compare_layouts(ref, cand) == []


def test_every_difference_is_reported_at_once(tmp_path: Path) -> None:
    pages = {"index.html": MATERIAL_PAGE, "a/index.html": MATERIAL_PAGE}
    ref = describe_site(_site(tmp_path / "ref", pages, GOOD_META))
    bad_meta = {"site_name": "S", "build_timestamp": 1_700_000_000.5, "etag": 3}
    cand_root = _site(tmp_path / "cand", {"index.html": "<p>plain</p>"}, bad_meta)
    (cand_root / "stray.txt").write_text("not listed", encoding="utf-8")
    problems = compare_layouts(ref, describe_site(cand_root))
    text = "\n".join(problems)
    assert "pages missing (<page>/index.html): ['a/index.html']" in text
    assert "lacking ['site_description']" in text
    assert "'build_timestamp' is float" in text
    assert "'etag' is int" in text
    assert "not listed: ['stray.txt']" in text
    assert "locations differ: lacking ['a/']" in text
    assert "mkdocs-material markup" in text
    assert len(problems) >= 7
