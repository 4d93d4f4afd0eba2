"""Search over the portal's entity pages and its docs: a Pagefind index at ``pagefind/``.

The last page family: it reads the pages the others wrote. Each entity's Overview and
every page of its built docs is indexed (the pages mark what counts: ``data-pagefind-body``,
filters for section, kind, owner and lifecycle, weights for names), and nothing else, so
a page the build is about to remove is never found. Pagefind's own binary builds the index
(the PyPI package's); the browser then fetches only the fragments a query
needs. Each part of the index is cached by a fingerprint of what it indexes of its pages
(their parts marked ``data-pagefind-ignore`` left out): a build that changed none of that
reuses it, and the writer rewrites only index files whose bytes differ.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import cbor2

from ..files import write_atomic
from ..model import entity_page, slot_of
from ._context import SiteContext
from ._output import PageOutput

__all__ = ["PARTS_FILE", "SEARCH_DIR", "SearchIndex", "part_count", "part_prefix"]

SEARCH_DIR = "pagefind/"
# Bump when what is indexed, or how, changes: the cached index is then built again.
INDEX_VERSION = "6"


# The index in parts, each built by its own Pagefind run and merged in the browser
# (Pagefind's mergeIndex): a change re-indexes only its part, and a run's memory grows
# with its part, not with the organisation (one run over 14,200 pages peaked at 1.8 GB).
# An entity's pages (its Overview, its docs) are in the part its key's digest names, so a
# part keeps its pages from build to build. Not below 10,000 entities by default, though
# a change would cost less: each part costs every query a word chunk of its own (about
# 20 kB whatever the part's size). Measured at 10,200 entities: a change's Pagefind run
# takes 11.5 s in one part, 3.1 s in 4, 1.6 s in 8, while a name query fetched 212 kB
# from one index, 291 kB from 4 parts, 406 kB from 8. Readers query far more often than
# the build runs. And a part that lacks
# a compound word ("OrdersOutboxLag") answers with the pages holding its pieces, ranked
# below the pages holding the word, but shown.
PART_ENTITIES = 10_000
MAX_PARTS = 32
PARTS_FILE = "parts.json"  # in pagefind/: the other parts' folders, read by search.js
# The first part holds the scripts and the WebAssembly every part uses; the others need
# only their own index files.
_PART_FILES = ("pagefind-entry.json", "index/", "fragment/", "filter/")


def part_count(entities: int, chosen: int | None) -> int:
    """How many parts: ``chosen`` (the settings'), else one per PART_ENTITIES entities,
    rounded up to a power of two (so that the count, and each page's part, changes
    rarely as an organisation grows), at most MAX_PARTS."""
    if chosen is not None:
        return chosen
    parts = 1
    while entities > parts * PART_ENTITIES and parts < MAX_PARTS:
        parts *= 2
    return parts


def part_prefix(slot: int, first: int) -> str:
    """Where part ``slot`` goes: the first part (with the scripts) at ``pagefind/``, each
    other at ``pagefind/part-<slot>/``. A part keeps its slot's number while others come
    and go, so a shard that indexes one slot knows where its files go."""
    return SEARCH_DIR if slot == first else f"{SEARCH_DIR}part-{slot}/"


class SearchIndex:
    """``only``: a shard's slot (``backlot build --shard`` when the index has as many parts
    as there are shards): the one part whose pages are all the shard's, indexed there.
    ``provided``: in a merge, the slots the shards indexed, whose files they brought."""

    def __init__(self, only: int | None = None, provided: frozenset[int] = frozenset()) -> None:
        self.only = only
        self.provided = provided

    def render(self, context: SiteContext, output: PageOutput) -> None:
        count = part_count(len(context.model.entities), context.settings.search_parts)
        slots = {s: sorted(p) for s, p in enumerate(_pages_by_part(context, count)) if p}
        first = min(slots, default=0)
        cache = context.workspace.cache_dir / "search"
        built: dict[int, Path] = {}
        for slot, pages in slots.items():
            if (self.only is not None and slot != self.only) or slot in self.provided:
                continue
            index = _part_index(cache / f"part-{slot}", context.out, pages)
            if isinstance(index, str):
                # No search is better than a broken one, and never a failed build.
                output.result.problems.append(
                    f"search: Pagefind wrote no usable index ({index}); the portal has no "
                    "search this time"
                )
                return
            built[slot] = index
        for slot, index in built.items():
            for relative in _index_files(index, cache / f"part-{slot}" / "index-files.json"):
                path = index / relative
                if slot != first and not (
                    relative.startswith(_PART_FILES) or relative.endswith(".pf_meta")
                ):
                    continue
                # Linked: the cache's index files are never edited, only replaced.
                output.copy(part_prefix(slot, first) + relative, path, link=True)
        if self.only is None:
            others = [f"part-{slot}/" for slot in sorted(slots) if slot != first]
            output.write(SEARCH_DIR + PARTS_FILE, json.dumps({"parts": others}) + "\n")
        for stale in cache.glob("part-*"):
            if stale.name.removeprefix("part-") not in {str(slot) for slot in built}:
                shutil.rmtree(stale, ignore_errors=True)


def _part_index(cache: Path, out: Path, pages: list[str]) -> Path | str:
    """The index of ``pages``: the cached one when no page of them changed, else built
    again; or what went wrong."""
    index = cache / "index"
    found = _page_stats(out, pages)
    fingerprint = _fingerprint(out, found, cache / "indexed.json")
    stamp = cache / "fingerprint"
    known = stamp.read_text("utf-8") if stamp.is_file() else ""
    if known == fingerprint and _complete(index):
        return index
    building = cache / "building"
    shutil.rmtree(building, ignore_errors=True)
    failure = _build_index(cache, out, found, building)
    if failure or not _complete(building):
        return failure or "no entry file"
    _canonical(building)
    # From here the old index is taken apart: without the stamp, a build killed now
    # builds the index again.
    stamp.unlink(missing_ok=True)
    record = cache / "index-files.json"
    files = _keep_unchanged(index, building, record)
    shutil.rmtree(index, ignore_errors=True)
    building.rename(index)
    write_atomic(record, json.dumps(files, sort_keys=True).encode())
    write_atomic(stamp, fingerprint.encode())
    return index


def _keep_unchanged(old: Path, new: Path, record: Path) -> dict[str, str]:
    """Put the old index's file in the new index's place wherever the two have the same
    bytes: the output (and a CDN) then holds the same file, which the writer knows by its
    identity without reading it (a change re-indexes all 10,000 Overviews of a part, and
    all but a few dozen of the files Pagefind writes are the same as last time). What the
    old files hold is in ``record`` (written once they were in place, and removed before
    any is moved). The new index's files, by the digests of their bytes."""
    try:
        before = json.loads(record.read_text("utf-8")) if old.is_dir() else {}
    except (OSError, ValueError):
        before = {}
    record.unlink(missing_ok=True)
    if not isinstance(before, dict):
        before = {}
    after: dict[str, str] = {}
    for path in new.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(new).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        after[relative] = digest
        if before.get(relative) == digest:
            with contextlib.suppress(FileNotFoundError):
                os.replace(old / relative, path)
    return after


def _index_files(index: Path, record: Path) -> list[str]:
    """The files of ``index``, in order: as recorded when it was built (a part unchanged
    since is not listed again: 50,000 entities, eight parts, 2 s a build), else listed."""
    try:
        files = json.loads(record.read_text("utf-8"))
    except (OSError, ValueError):
        files = None
    if isinstance(files, dict) and files:
        return sorted(files)
    return sorted(p.relative_to(index).as_posix() for p in index.rglob("*") if p.is_file())


def _canonical(index: Path) -> None:
    """Put Pagefind's index in one order: the same pages then give the same bytes (a merge
    of shards, two builds, a CDN that keeps what did not change). Pagefind lists each
    filter's values, and the filters in its metadata, in the order of a hash map that is
    seeded anew each run; everything else it writes is already in one order. Filter files
    are named by their content's digest and the metadata names them, so both are written
    again under new names, and the entry file names the new metadata. An index of a shape
    this does not know (another Pagefind) is left as Pagefind wrote it: it works, only
    its bytes may differ between runs."""
    entry_path = index / "pagefind-entry.json"
    replaced: dict[Path, tuple[Path, bytes]] = {}  # old file → its new name and bytes
    try:
        entry = json.loads(entry_path.read_text("utf-8"))
        for language, about in entry["languages"].items():
            meta_path = index / f"pagefind.{about['hash']}.pf_meta"
            meta = _decode(meta_path.read_bytes())
            filters = []
            for name, digest in meta[3]:
                old = index / "filter" / f"{digest}.pf_filter"
                content = _decode(old.read_bytes())
                content[1].sort(key=lambda value: str(value[0]))
                data = _encode(content)
                renamed = f"{language}_{hashlib.sha256(data).hexdigest()[:7]}"
                replaced[old] = (old.with_name(f"{renamed}.pf_filter"), data)
                filters.append([name, renamed])
            meta[3] = sorted(filters)
            data = _encode(meta)
            about["hash"] = f"{language}_{hashlib.sha256(data).hexdigest()[:10]}"
            replaced[meta_path] = (index / f"pagefind.{about['hash']}.pf_meta", data)
    except (OSError, ValueError, KeyError, IndexError, TypeError, cbor2.CBORError):
        return
    for old, (path, data) in replaced.items():
        old.unlink()
        path.write_bytes(data)
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), "utf-8")


# Each of Pagefind's index files: gzip over a signature and a CBOR value.
_SIGNATURE = b"pagefind_dcd"


def _decode(data: bytes) -> Any:
    plain = gzip.decompress(data)
    if not plain.startswith(_SIGNATURE):
        raise ValueError("not a Pagefind index file")
    return cbor2.loads(plain[len(_SIGNATURE) :])


def _encode(value: Any) -> bytes:
    return gzip.compress(_SIGNATURE + cbor2.dumps(value), mtime=0)


def _complete(index: Path) -> bool:
    """An index the browser can load: its entry file names its metadata file."""
    try:
        entry = json.loads((index / "pagefind-entry.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(entry, dict) and bool(entry.get("languages"))


def _pages_by_part(context: SiteContext, count: int) -> list[list[str]]:
    """Site paths of the pages searched, in ``count`` parts: entity Overviews, and their
    docs sites' pages, each in its entity's part."""
    parts: list[list[str]] = [[] for _ in range(count)]
    docs = context.model.docs
    for key in context.model.entities:
        part = parts[slot_of(key, count)]
        part.append(entity_page(key))
        if key in docs:
            folder = context.out / docs[key].rpartition("/")[0]
            for page in folder.rglob("*.html"):
                relative = page.relative_to(context.out).as_posix()
                if not relative.endswith("/404.html"):
                    part.append(relative)
    return parts


def _page_stats(out: Path, pages: list[str]) -> dict[str, os.stat_result]:
    """Each page of ``pages`` that is on disk, with what ``stat`` says of it: read once,
    for the fingerprint and for staging."""
    found: dict[str, os.stat_result] = {}
    for relative in pages:
        try:
            found[relative] = os.stat(out / relative)
        except FileNotFoundError:
            continue
    return found


def _fingerprint(out: Path, pages: dict[str, os.stat_result], record: Path) -> str:
    """Changes when what Pagefind would index of any page does: its pages' paths and the
    digest of each without the parts marked ``data-pagefind-ignore``. A change's pages
    mostly differ only there (a team's Overview lists its components' descriptions, in a
    table the index leaves out): at 50,000 entities, one description changed the pages of
    seven of the eight parts, and seven Pagefind runs took 50 s. ``record`` keeps each
    page's digest by the file it was read from: a page the writer kept is not read again."""
    try:
        known = json.loads(record.read_text("utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    now: dict[str, list[Any]] = {}
    digest = hashlib.sha256(f"{INDEX_VERSION}\0{metadata.version('pagefind')}\n".encode())
    for relative, info in pages.items():
        identity = [info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns]
        entry = known.get(relative)
        if isinstance(entry, list) and entry[:4] == identity:
            indexed = entry[4]
        else:
            try:
                indexed = indexed_digest((out / relative).read_bytes())
            except FileNotFoundError:
                continue
        now[relative] = [*identity, indexed]
        digest.update(f"{relative}\0{indexed}\n".encode())
    if now != known:
        write_atomic(record, json.dumps(now).encode())
    return digest.hexdigest()


# A start tag, its attributes read as a browser reads them (a value may hold any text,
# so the name is only trusted as an attribute of a tag parsed whole).
_START_TAG = re.compile(
    rb"""<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*>"""
)
_ATTRIBUTE = re.compile(rb"""\s+([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_IGNORE = b"data-pagefind-ignore"
_VOID = frozenset({b"area", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link"})
# Inside an ignored element, what keeps it in the digest: what Pagefind may still read
# there (filters and metadata, unless ignored with "all"), and what could hide or fake a
# tag from the count of elements opened and closed.
_KEPT_INSIDE = (b"data-pagefind-", b"<script", b"<style", b"<!--", b"<![CDATA[")
_TAGS: dict[bytes, re.Pattern[bytes]] = {}


def indexed_digest(page: bytes) -> str:
    """The digest of ``page`` without its ignored elements. Never less than Pagefind
    reads: an element is left out only when its start tag parses whole with the attribute
    itself, it has an end (found by counting the elements of its name opened and closed
    after it), and it holds nothing Pagefind might read or anything that could upset the
    count. Else it stays in, and the digest may change for a change Pagefind would not
    index: that costs a run, never a stale index."""
    digest = hashlib.sha256()
    done = search = 0
    while (at := page.find(_IGNORE, search)) >= 0:
        search = at + len(_IGNORE)
        opening = page.rfind(b"<", done, at)
        start = _START_TAG.match(page, opening) if opening >= 0 else None
        if start is None or start.end() <= at:
            continue
        names = {m.group(1).lower() for m in _ATTRIBUTE.finditer(start.group(2))}
        tag = start.group(1).lower()
        if _IGNORE not in names or tag in _VOID:
            continue
        end = _element_end(page, start.end(), tag)
        if end is None or any(page.find(k, start.end(), end) >= 0 for k in _KEPT_INSIDE):
            continue
        digest.update(page[done:opening])
        digest.update(b"\0")
        done = search = end
    digest.update(page[done:])
    return digest.hexdigest()


def _element_end(page: bytes, after: int, tag: bytes) -> int | None:
    """Where the element whose start tag ends at ``after`` ends, or None if it does not."""
    pattern = _TAGS.get(tag)
    if pattern is None:
        pattern = _TAGS[tag] = re.compile(rb"<(/?)" + re.escape(tag) + rb"[\s/>]", re.IGNORECASE)
    depth = 1
    for found in pattern.finditer(page, after):
        if not found.group(1):
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            close = page.find(b">", found.start())
            return None if close < 0 else close + 1
    return None


def _build_index(cache: Path, out: Path, pages: dict[str, os.stat_result], into: Path) -> str:
    """Pagefind's binary over a folder of links to exactly the pages searched (so that a
    page this build is about to remove is not found); "" or what went wrong. The binary,
    not the package's service: the service answers before its files are on disk and is
    then stopped, which has left empty index files."""
    staging = cache / "pages"
    _stage(out, pages, staging, cache / "staged.json")
    command = [
        sys.executable,
        "-m",
        "pagefind",
        "--site",
        str(staging),
        "--output-path",
        str(into),
        "--force-language",
        "en",
        # Labels, controls, "No description." notes, MkDocs' heading anchors ("¶"): not
        # what anyone searches, and at scale every repeated word costs each query bytes.
        "--exclude-selectors",
        ".headerlink, button, .head-facts .k, .card > h2, dt, .empty",
        # No --include-characters: Pagefind then drops punctuation from a word when it
        # indexes and when it queries ("orders-service" is "ordersservice", and "orders"
        # and "service" besides), so a name is found typed whole, in part or inside its ref.
        # Keeping "-" or ":" made names that appear only inside a ref unfindable. The
        # Overview shows the name as a word of its own for that (its About card).
        # Result URLs name index.html, as every portal link does (the CDN maps either).
        "--keep-index-url",
        "--silent",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if done.returncode == 0 else (done.stderr or done.stdout).strip()[-500:]


def _stage(out: Path, pages: dict[str, os.stat_result], staging: Path, record: Path) -> None:
    """Make ``staging`` hold exactly ``pages``: hard links to the output's files (copies
    where links cannot be made). It is kept from build to build: the writer replaces a
    page it changes by renaming a new file into place, so a page still linked to the same
    file is the page as it is, and only new and rewritten pages are linked again.
    ``record`` says what is staged, each page by the file it was staged from, so that
    neither the folder is listed nor its files are looked at (at 10,200 pages that took
    2.6 s each build). It is removed while the folder changes: without it, the folder is
    checked file by file."""
    try:
        staged = json.loads(record.read_text("utf-8")) if staging.is_dir() else None
    except (OSError, ValueError):
        staged = None
    record.unlink(missing_ok=True)
    if not isinstance(staged, dict):
        staged = _staged_files(staging)
    for relative in staged.keys() - pages.keys():
        (staging / relative).unlink(missing_ok=True)
    now: dict[str, list[int]] = {}
    for relative, page in pages.items():
        identity = now[relative] = [page.st_ino, page.st_dev]
        if staged.get(relative) == identity:
            continue
        source, target = out / relative, staging / relative
        try:
            target.unlink()
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except FileNotFoundError:
            del now[relative]
        except OSError:  # another file system, or no hard links: a copy then
            shutil.copyfile(source, target)
    write_atomic(record, json.dumps(now).encode())


def _staged_files(staging: Path) -> dict[str, list[int]]:
    """What ``staging`` holds, each file by its identity (what a link shares with the page
    it links)."""
    found: dict[str, list[int]] = {}
    for folder, _, names in os.walk(staging):
        for name in names:
            path = os.path.join(folder, name)
            info = os.stat(path)
            found[os.path.relpath(path, staging).replace(os.sep, "/")] = [info.st_ino, info.st_dev]
    return found
