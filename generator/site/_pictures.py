"""Group and User pictures (``spec.profile.picture``), copied at build time and served by
the portal itself: a page never makes a reader's browser call another host, and an
address in a repository's descriptor never becomes a request a reader's browser makes.

**Which pictures.** A ``data:image/(png|jpeg|gif|webp);base64,…`` URI (how Backstage's
Microsoft Graph provider embeds photos) is decoded. An ``https://`` URL is fetched only
from a host in ``site.picture_hosts`` (``host`` or ``host:port``, matched exactly), with
a timeout, a size limit (``MAX_BYTES``, read as it streams) and redirects followed by
hand, each to such a host again. Whatever a server or a data URI says the type is, the
bytes must be PNG, JPEG, GIF or WebP by their signature: never SVG, which can carry
script. Anything else (``http:``, another host, ``javascript:``, an SVG data URI) is never
fetched, and the page shows the entity's initials instead.

**Names, and why pages need not change.** A picture is served at
``pictures/<digest of its URL>.image`` (``model.picture_file``): the name depends on the
URL alone, not on the bytes nor their format. Whether a page shows an ``<img>`` depends
on the URL and the settings alone too (is it a URL this build may use). So an entity page,
which the incremental build keeps while its entity's data is unchanged, stays
byte-identical while its picture's URL does; when the image behind the URL changes (a new
Gravatar, a PNG that became a JPEG), only the picture's file is rewritten. Publish types a
file under ``pictures/`` by its first bytes (``publish/_files.py``) and lets browsers keep
it a day. A picture that cannot be had (the host says 404, the bytes are an SVG, the
fetch times out) with no earlier copy is written as a transparent pixel: every picture
sits over the initials the page draws with CSS, so the initials show through, and the
page needs no change when the picture works again.

**Cache.** ``<cache>/pictures/<digest>.json`` says when the URL was last asked for, its
ETag and what went wrong last; ``<digest>.bin`` holds the last good bytes. A picture asked
for less than ``REFRESH_SECONDS`` ago (a failure: ``RETRY_SECONDS``) is not asked for
again, so an unchanged build makes no request; a refresh sends ``If-None-Match``, so an
unchanged image costs a 304; a failed refresh keeps the last good bytes. Entries of URLs
no entity names any more are removed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from ..files import write_atomic
from ..model import picture_file, raster_type
from ._context import SiteContext
from ._model import SiteModel
from ._output import PageOutput

__all__ = [
    "MAX_BYTES",
    "PLACEHOLDER",
    "Avatar",
    "PictureStore",
    "Pictures",
    "avatar",
    "picture_refusal",
]

MAX_BYTES = 1024 * 1024  # an avatar is tens of kilobytes; a group page shows hundreds
TIMEOUT_SECONDS = 10.0  # the whole fetch, redirects included
MAX_REDIRECTS = 3
REFRESH_SECONDS = 24 * 3600
RETRY_SECONDS = 3600
WORKERS = 8
# A 1x1 transparent GIF: what a picture that cannot be had is served as (the initials
# beneath it show).
PLACEHOLDER = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

_DATA_URI = re.compile(r"data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/=\s]*)", re.I)
_REDIRECTS = (301, 302, 303, 307, 308)


class PictureProblem(Exception):
    """This picture cannot be used: the message says why, for the build's problems."""


@dataclass(frozen=True)
class Avatar:
    """A picture as pages show it: ``src`` a site path (None: initials only)."""

    initials: str
    src: str | None
    tone: int  # which of the stylesheet's background colours the initials sit on


def picture_url(entity: dict[str, Any]) -> str | None:
    spec = entity.get("spec")
    profile = spec.get("profile") if isinstance(spec, dict) else None
    picture = profile.get("picture") if isinstance(profile, dict) else None
    return picture.strip() if isinstance(picture, str) and picture.strip() else None


def picture_refusal(url: str, hosts: Iterable[str]) -> str | None:
    """Why ``url`` is never fetched nor decoded; None when it may be."""
    if url[:5].lower() == "data:":
        return None if _DATA_URI.fullmatch(url) else "a data: URI that is not a base64 raster"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() != "https":
        return "not an https:// URL"
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return "not a plain https:// URL"
    host = parts.hostname.lower()
    where = host if port in (None, 443) else f"{host}:{port}"
    if where not in set(hosts):
        return f"{where} is not in site.picture_hosts"
    return None


def avatar(model: SiteModel, key: str, hosts: Iterable[str]) -> Avatar:
    """``key``'s picture, or its initials when its URL is not one the portal may copy."""
    label = model.labels[key][1]
    url = picture_url(model.entities[key])
    src = picture_file(url) if url is not None and picture_refusal(url, hosts) is None else None
    tone = hashlib.sha256(key.encode()).digest()[0] % 6
    return Avatar(_initials(label), src, tone)


def _initials(label: str) -> str:
    words = [w for w in re.split(r"[\s._@-]+", label) if w]
    letters = "".join(w[0] for w in words[:2]) if len(words) > 1 else label[:2]
    return letters.upper() or "?"


@dataclass
class _Entry:
    """What the cache knows of one URL."""

    checked: float = 0.0  # when it was last asked for (0: never)
    etag: str | None = None
    problem: str | None = None  # what went wrong the last time, if it did
    good: bytes | None = None  # the last good bytes


class PictureStore:
    """The pictures of one build, fetched or decoded once per URL, cached by URL."""

    def __init__(
        self,
        folder: Path,
        hosts: Iterable[str],
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = folder
        self.hosts = frozenset(hosts)
        self.clock = clock
        self._client = client
        self.requests = 0  # what this build asked the network for (tests, summaries)

    def resolve(self, urls: Iterable[str]) -> dict[str, tuple[bytes | None, str | None]]:
        """Each usable URL's bytes (None when there are none) and its problem, if any."""
        wanted = sorted({u for u in urls if picture_refusal(u, self.hosts) is None})
        found: dict[str, tuple[bytes | None, str | None]] = {}
        fetch: list[tuple[str, _Entry]] = []
        now = self.clock()
        for url in wanted:
            if url[:5].lower() == "data:":
                found[url] = _decoded(url)
                continue
            entry = self._load(url)
            wait = RETRY_SECONDS if entry.problem else REFRESH_SECONDS
            if entry.checked and 0 <= now - entry.checked < wait:
                found[url] = (entry.good, entry.problem)
            else:
                fetch.append((url, entry))
        self.requests += len(fetch)
        if fetch:
            client = self._client or httpx.Client(
                timeout=TIMEOUT_SECONDS,
                follow_redirects=False,
                headers={"User-Agent": "backlot (portal pictures)"},
            )
            try:
                with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                    done = list(pool.map(lambda job: self._refresh(client, *job), fetch))
            finally:
                if self._client is None:
                    client.close()
            for (url, _), answer in zip(fetch, done, strict=True):
                found[url] = answer
        self._forget(set(wanted))
        return found

    def _refresh(
        self, client: httpx.Client, url: str, entry: _Entry
    ) -> tuple[bytes | None, str | None]:
        try:
            fetched = _fetch(client, url, self.hosts, entry.etag if entry.good else None)
        except PictureProblem as problem:
            entry.problem = str(problem)
        else:
            if fetched is not None:  # None: 304, the last good bytes still hold
                entry.good, entry.etag = fetched
            entry.problem = None
        entry.checked = self.clock()
        self._save(url, entry)
        return entry.good, entry.problem

    def _paths(self, url: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.folder / f"{digest}.json", self.folder / f"{digest}.bin"

    def _load(self, url: str) -> _Entry:
        meta, data = self._paths(url)
        try:
            known = json.loads(meta.read_text(encoding="utf-8"))
            good = data.read_bytes() if data.is_file() else None
        except (OSError, ValueError):
            return _Entry()
        if not isinstance(known, dict) or known.get("url") != url:
            return _Entry()
        if good is not None and raster_type(good) is None:
            good = None  # a damaged cache file is no picture
        return _Entry(
            float(known.get("checked") or 0),
            known.get("etag") if isinstance(known.get("etag"), str) else None,
            known.get("problem") if isinstance(known.get("problem"), str) else None,
            good,
        )

    def _save(self, url: str, entry: _Entry) -> None:
        meta, data = self._paths(url)
        self.folder.mkdir(parents=True, exist_ok=True)
        # The bytes first: a build killed between the two finds the old record, and asks
        # again.
        if entry.good is not None:
            write_atomic(data, entry.good)
        record = {"url": url, "checked": entry.checked, "etag": entry.etag}
        record["problem"] = entry.problem
        write_atomic(meta, json.dumps(record, sort_keys=True).encode())

    def _forget(self, kept: set[str]) -> None:
        """Remove the entries of URLs this build did not name."""
        if not self.folder.is_dir():
            return
        keep = {p.name for url in kept for p in self._paths(url)}
        for path in self.folder.iterdir():
            if path.suffix in (".json", ".bin") and path.name not in keep:
                path.unlink(missing_ok=True)


def _decoded(url: str) -> tuple[bytes | None, str | None]:
    match = _DATA_URI.fullmatch(url)
    assert match is not None, "picture_refusal lets only base64 raster data URIs through"
    encoded = "".join(match.group(2).split())
    if len(encoded) > MAX_BYTES * 4 // 3 + 4:
        return None, f"the data: URI holds more than {MAX_BYTES // 1024} KiB"
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None, "the data: URI is not valid base64"
    if raster_type(data) is None:
        return None, "the data: URI is not a PNG, JPEG, GIF or WebP image"
    return data, None


def _fetch(
    client: httpx.Client, url: str, hosts: frozenset[str], etag: str | None
) -> tuple[bytes, str | None] | None:
    """The bytes at ``url`` and their ETag; None when the server says they did not change
    since ``etag``. Raises PictureProblem with the reason otherwise."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    current = url
    headers = {"If-None-Match": etag} if etag else {}
    for _ in range(MAX_REDIRECTS + 1):
        try:
            with client.stream("GET", current, headers=headers) as answer:
                if answer.status_code in _REDIRECTS:
                    target = urljoin(current, answer.headers.get("location", ""))
                    refusal = picture_refusal(target, hosts)
                    if refusal is not None or target[:5].lower() == "data:":
                        raise PictureProblem(f"redirected to {target[:200]}: refused")
                    current = target
                    continue
                if answer.status_code == 304 and etag:
                    return None
                if answer.status_code != 200:
                    raise PictureProblem(f"HTTP {answer.status_code}")
                declared = answer.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_BYTES:
                    raise PictureProblem(f"larger than {MAX_BYTES // 1024} KiB")
                data = bytearray()
                for chunk in answer.iter_bytes():
                    data += chunk
                    if len(data) > MAX_BYTES:
                        raise PictureProblem(f"larger than {MAX_BYTES // 1024} KiB")
                    if time.monotonic() > deadline:
                        raise PictureProblem(f"took longer than {TIMEOUT_SECONDS:g} s")
                if raster_type(bytes(data)) is None:
                    raise PictureProblem("not a PNG, JPEG, GIF or WebP image")
                return bytes(data), answer.headers.get("etag")
        except httpx.HTTPError as error:
            raise PictureProblem(f"{type(error).__name__}: {error}"[:300]) from None
    raise PictureProblem(f"more than {MAX_REDIRECTS} redirects")


class Pictures:
    """The page family: every usable picture of a User or Group, into ``pictures/``."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client

    def render(self, context: SiteContext, output: PageOutput) -> None:
        model = context.model
        hosts = context.settings.picture_hosts
        named: dict[str, list[str]] = {}
        for key, entity in model.entities.items():
            url = picture_url(entity) if entity["kind"] in ("User", "Group") else None
            if url is not None and picture_refusal(url, hosts) is None:
                named.setdefault(url, []).append(key)
        store = PictureStore(context.workspace.cache_dir / "pictures", hosts, client=self.client)
        for url, (data, problem) in sorted(store.resolve(named).items()):
            output.write(picture_file(url), data if data is not None else PLACEHOLDER)
            if problem is not None:
                shown = url if len(url) <= 120 else url[:117] + "…"
                kept = "the last good copy is shown" if data else "shown as initials"
                output.result.problems += [
                    f"{key}: picture {shown}: {problem}; {kept}" for key in sorted(named[url])
                ]
