"""A deterministic summary of a built TechDocs site, and a comparison of two summaries.

``describe_site(root)`` keeps only what Backstage relies on (techdocs.md §3-§5): which pages
exist at ``<page>/index.html``, the shape of ``techdocs_metadata.json`` and of
``search/search_index.json``, and whether pages carry mkdocs-material markup. Nothing that
changes from one build to the next (timestamps, hashed asset names) is in it, so two builds
of the same docs describe the same, and the summary is JSON-serialisable with sorted lists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

METADATA = "techdocs_metadata.json"
SEARCH_INDEX = "search/search_index.json"
# The classes the Backstage reader's transformers look for (techdocs.md §5).
MATERIAL_CLASSES = ("md-header", "md-sidebar", "md-content")
# build_timestamp is Date.now(): milliseconds, so 13 digits for any date after 2001-09-09.
_MS_FLOOR = 10**12
_CLASS_ATTR = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def _json_type(value: Any) -> str:
    """JSON type names, with int and float apart (build_timestamp must be an integer)."""
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(
        type(value), type(value).__name__
    )


def _load_json(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _pages(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("index.html"))


def _classes(html: str) -> set[str]:
    found: set[str] = set()
    for match in _CLASS_ATTR.finditer(html):
        found.update((match.group(1) or match.group(2) or "").split())
    return found


def _material(root: Path, pages: list[str]) -> dict[str, Any]:
    missing: dict[str, list[str]] = {name: [] for name in MATERIAL_CLASSES}
    for page in pages:
        classes = _classes((root / page).read_text(encoding="utf-8", errors="replace"))
        for name in MATERIAL_CLASSES:
            if name not in classes:
                missing[name].append(page)
    return {
        "all_pages": bool(pages) and not any(missing.values()),
        "pages_missing": {name: pages for name, pages in missing.items() if pages},
    }


def _metadata(root: Path) -> dict[str, Any]:
    path = root / METADATA
    if not path.is_file():
        return {"present": False}
    data, error = _load_json(path)
    if error is not None or not isinstance(data, dict):
        return {"present": True, "error": error or f"not a JSON object: {_json_type(data)}"}
    summary: dict[str, Any] = {
        "present": True,
        "keys": sorted(data),
        "types": {key: _json_type(data[key]) for key in sorted(data)},
    }
    for key in ("site_name", "site_description", "etag"):
        if isinstance(data.get(key), str):
            summary[key] = data[key]
    stamp = data.get("build_timestamp")
    summary["build_timestamp_is_ms"] = (
        isinstance(stamp, int) and not isinstance(stamp, bool) and stamp >= _MS_FLOOR
    )
    files = data.get("files")
    if isinstance(files, list):
        names = [name for name in files if isinstance(name, str)]
        on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        summary["files"] = {
            "count": len(files),
            "all_strings": len(names) == len(files),
            "duplicates": sorted({name for name in names if names.count(name) > 1}),
            "not_relative": sorted(
                name for name in names if name.startswith("/") or ".." in name.split("/")
            ),
            "missing_on_disk": sorted(set(names) - on_disk),
            "not_listed": sorted(on_disk - set(names)),
            "lists_metadata": METADATA in names,
        }
    return summary


def _search(root: Path) -> dict[str, Any]:
    path = root / SEARCH_INDEX
    if not path.is_file():
        return {"present": False}
    data, error = _load_json(path)
    if error is not None or not isinstance(data, dict):
        return {"present": True, "error": error or f"not a JSON object: {_json_type(data)}"}
    docs = data.get("docs")
    entries = [doc for doc in docs if isinstance(doc, dict)] if isinstance(docs, list) else []
    config = data.get("config")
    return {
        "present": True,
        "keys": sorted(data),
        "config_keys": sorted(config) if isinstance(config, dict) else None,
        "doc_count": len(entries),
        "doc_keys": sorted({key for doc in entries for key in doc}),
        "doc_value_types": sorted(
            {f"{key}:{_json_type(value)}" for doc in entries for key, value in doc.items()}
        ),
        "locations": sorted({str(doc.get("location")) for doc in entries if "location" in doc}),
    }


def describe_site(root: Path) -> dict[str, Any]:
    """Summarises the TechDocs site in ``root`` (one entity's folder) for comparison."""
    root = Path(root)
    pages = _pages(root)
    return {
        "pages": pages,
        "has_404": (root / "404.html").is_file(),
        "has_sitemap": (root / "sitemap.xml").is_file(),
        "metadata": _metadata(root),
        "search": _search(root),
        "material": _material(root, pages),
    }


def compare_layouts(reference: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """Every way ``candidate`` falls short of ``reference`` (both from ``describe_site``).

    The candidate may have extra pages and files, and an ``etag`` in its metadata (Backstage
    writes one when it has one); it must not lack a page, a metadata key or a search
    location, and its metadata and pages must be well-formed on their own.
    """
    problems: list[str] = []
    missing_pages = sorted(set(reference["pages"]) - set(candidate["pages"]))
    if missing_pages:
        problems.append(f"pages missing (<page>/index.html): {missing_pages}")

    ref_meta, meta = reference["metadata"], candidate["metadata"]
    if not meta.get("present"):
        problems.append(f"{METADATA} is missing")
    elif "error" in meta:
        problems.append(f"{METADATA} is unreadable: {meta['error']}")
    else:
        # etag is optional on either side: Backstage writes it only when it is given one.
        # "backlot" (who built the site, from which repository) is Backlot's own entry:
        # Backstage's reader reads the keys it knows and ignores any other.
        lacking = sorted(set(ref_meta["keys"]) - set(meta["keys"]) - {"etag"})
        extra = sorted(set(meta["keys"]) - set(ref_meta["keys"]) - {"etag", "backlot"})
        if lacking or extra:
            problems.append(f"{METADATA} keys: lacking {lacking}, unexpected {extra}")
        for key, ref_type in ref_meta["types"].items():
            got = meta["types"].get(key)
            if got is not None and got != ref_type:
                problems.append(f"{METADATA} {key!r} is {got}, Backstage writes {ref_type}")
        if meta["types"].get("etag", "str") != "str":
            problems.append(f"{METADATA} 'etag' is {meta['types']['etag']}, not str")
        if not meta["build_timestamp_is_ms"]:
            problems.append(f"{METADATA} build_timestamp is not an integer in milliseconds")
        files = meta.get("files")
        if files is not None:
            # Backstage lists the whole output tree (createOrUpdateMetadata in techdocs-node).
            for check in ("duplicates", "not_relative", "missing_on_disk", "not_listed"):
                if files[check]:
                    problems.append(f"{METADATA} files: {check.replace('_', ' ')}: {files[check]}")
            if not files["all_strings"]:
                problems.append(f"{METADATA} files: not every entry is a string")
            if not files["lists_metadata"]:
                problems.append(f"{METADATA} files does not list {METADATA} itself")

    ref_search, search = reference["search"], candidate["search"]
    if not search.get("present"):
        problems.append(f"{SEARCH_INDEX} is missing")
    elif "error" in search:
        problems.append(f"{SEARCH_INDEX} is unreadable: {search['error']}")
    else:
        for field in ("keys", "doc_keys", "doc_value_types"):
            lacking = sorted(set(ref_search[field]) - set(search[field]))
            if lacking:
                problems.append(f"{SEARCH_INDEX} {field}: lacking {lacking}")
        # Same locations on Backstage's pages; Backlot's extra pages may add their own.
        ref_urls = {page.removesuffix("index.html") for page in reference["pages"]}
        lacking = sorted(set(ref_search["locations"]) - set(search["locations"]))
        extra = sorted(
            location
            for location in set(search["locations"]) - set(ref_search["locations"])
            if location.partition("#")[0] in ref_urls
        )
        if lacking or extra:
            problems.append(f"{SEARCH_INDEX} locations differ: lacking {lacking}, extra {extra}")

    # Material markup on every page Backstage has; extra pages of Backlot's own are free.
    shared = set(reference["pages"])
    unmarked = {
        name: sorted(shared.intersection(pages))
        for name, pages in candidate["material"]["pages_missing"].items()
        if shared.intersection(pages)
    }
    if unmarked:
        problems.append(f"pages without mkdocs-material markup (class -> pages): {unmarked}")
    return problems
