"""The portal's publish: a built portal folder into its prefix of a bucket, by content hash.

Read all, plan, guard, then write in an order that keeps the published site whole at
every moment: new and changed assets, then pages and indexes, then the files that say a
site is complete (``techdocs_metadata.json``, ``build.json``), then the manifest, then the
deletion of what the new site no longer has, then the CDN invalidation. A publish killed
anywhere leaves old pages with their old assets, and the next one finishes the job (see
``_manifest.py`` for ``pending``).

The docs the portal build made (``docs/`` in local-builder mode) go to the TechDocs prefix,
in Backstage's layout, and the CDN serves them at ``/docs/``: one copy of each site. In
external mode repositories publish the docs and this publish never writes or deletes a
key there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import DOCS_PREFIX
from ._cdn import MAX_PATHS, MAX_WILDCARDS, collapse_paths, in_progress, invalidate
from ._files import IMMUTABLE, LocalFile, local_files
from ._manifest import MANIFEST_KEY, PublishedFile, PublishManifest
from ._s3 import PublishError, delete_keys, describe, put_files

__all__ = [
    "Guards",
    "PortalTarget",
    "PublishPlan",
    "PublishRefused",
    "plan_publish",
    "publish_portal",
]

BUILD_FILE = "build.json"  # written by the site stage: the catalog's size, the build's time
LAST_FILES = ("techdocs_metadata.json", BUILD_FILE)
_PAGE_EXTENSIONS = ("html", "json", "xml", "gz")
MIN_GUARDED = 10  # below this many deletions or lost entities, no guard speaks


class PublishRefused(PublishError):
    """A guard refused the publish; ``--force`` overrides it."""


@dataclass(frozen=True)
class PortalTarget:
    bucket: str
    prefix: str  # the portal's keys: "" or ending with /
    # Local builder: where the build's docs/ go (Backstage's layout below it). External:
    # None, and ``foreign_prefix`` is the TechDocs prefix that repositories write.
    docs_prefix: str | None
    foreign_prefix: str | None = None

    @property
    def manifest_key(self) -> str:
        return self.prefix + MANIFEST_KEY

    def key(self, relpath: str) -> str | None:
        """The bucket key of a file of the portal folder; None for a file not ours."""
        if relpath.startswith(DOCS_PREFIX):
            if self.docs_prefix is None:
                return None
            return self.docs_prefix + relpath[len(DOCS_PREFIX) :]
        key = self.prefix + relpath
        for other in (self.docs_prefix, self.foreign_prefix):
            if other is not None and key.startswith(other):
                raise PublishError(
                    f"the portal's {relpath} would be s3://{self.bucket}/{key}, inside the "
                    f"TechDocs prefix {other!r}: give publish.prefix and docs.storage.prefix "
                    "folders of their own (e.g. portal/ and techdocs/)"
                )
        return key

    def viewer_path(self, key: str) -> str:
        """The path the CDN serves a key at (its function maps /docs/ to the TechDocs
        prefix and everything else to the portal's)."""
        if self.docs_prefix is not None and key.startswith(self.docs_prefix):
            return "/" + DOCS_PREFIX + key[len(self.docs_prefix) :]
        return "/" + key[len(self.prefix) :]


@dataclass(frozen=True)
class Guards:
    max_delete_share: float = 0.25
    max_entity_loss_share: float = 0.1


@dataclass
class PublishPlan:
    target: PortalTarget
    previous: PublishManifest
    files: dict[str, LocalFile]  # key → file: the whole site as it is to be
    phases: list[list[str]]  # keys to upload: assets, pages and indexes, last files
    unchanged: int
    new: int
    stale: list[str]  # keys to delete
    changed: list[str]  # keys that held other content before (what the CDN may cache)
    entities: int | None
    refusals: list[str] = field(default_factory=list)

    def describe(self, every: bool = False) -> list[str]:
        """The plan as a person reads it; ``every``: each key (a dry run), else the first."""
        target = self.target
        where = f"s3://{target.bucket}/{target.prefix}"
        if target.docs_prefix is not None:
            where += f" (docs: s3://{target.bucket}/{target.docs_prefix})"
        uploads = self.uploads
        lines = [
            f"publish → {where}: {len(uploads)} to upload ({self.new} new, "
            f"{len(uploads) - self.new} changed, {_size(self.upload_bytes)}), "
            f"{len(self.stale)} to delete, {self.unchanged} unchanged"
        ]
        shown = None if every else 10
        for sign, keys in (("+", uploads), ("-", self.stale)):
            for key in keys[:shown]:
                lines.append(f"  {sign} {key}")
            if shown is not None and len(keys) > shown:
                lines.append(f"  … and {len(keys) - shown} more")
        for refusal in self.refusals:
            lines.append(f"  refused: {refusal}")
        return lines

    def check(self, force: bool) -> None:
        """Raise PublishRefused when a guard refused and the user did not --force."""
        if self.refusals and not force:
            raise PublishRefused(
                "not published: "
                + "; and ".join(self.refusals)
                + ". If this is what you meant, publish again with --force."
            )

    @property
    def uploads(self) -> list[str]:
        return [key for phase in self.phases for key in phase]

    @property
    def upload_bytes(self) -> int:
        return sum(self.files[key].size for key in self.uploads)

    def invalidation_paths(self) -> list[str]:
        """Viewer paths whose cached copies are now wrong: changed and deleted objects
        that are not content-hashed, with a page's folder beside its index.html."""
        paths: set[str] = set(self.previous.cdn_pending)
        for key in [*self.changed, *self.stale]:
            published = self.previous.files.get(key)
            if published is not None and published.cache == IMMUTABLE:
                continue
            path = self.target.viewer_path(key)
            paths.add(path)
            if path.endswith("/index.html"):
                paths.add(path[: -len("index.html")])
        return sorted(paths)


def _phase(relpath: str) -> int:
    name = relpath.rsplit("/", 1)[-1]
    if name in LAST_FILES:
        return 2
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension in _PAGE_EXTENSIONS or "/_data/" in "/" + relpath:
        return 1  # pages, and the indexes that list them
    return 0  # what pages load


def _entities(folder: Path) -> int | None:
    try:
        data = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    count = data.get("entities") if isinstance(data, dict) else None
    return count if isinstance(count, int) else None


def plan_publish(
    client: Any, folder: Path, target: PortalTarget, guards: Guards = Guards()
) -> PublishPlan:
    """What a publish of ``folder`` would do, read with one GET (the manifest)."""
    if not (folder / BUILD_FILE).is_file():
        raise PublishError(
            f"{folder} is not a portal Backlot built (it has no {BUILD_FILE}): "
            "run `backlot build` first"
        )
    try:
        previous = (
            PublishManifest.read(client, target.bucket, target.manifest_key) or PublishManifest()
        )
    except PublishError:
        raise
    except Exception as exc:
        if getattr(exc, "response", None) is None and not isinstance(exc, OSError):
            raise
        raise describe(exc, f"reading s3://{target.bucket}/{target.manifest_key}") from None
    files: dict[str, LocalFile] = {}
    for file in local_files(folder):
        key = target.key(file.relpath)
        if key is None:
            continue
        if key == target.manifest_key:
            raise PublishError(f"{folder / file.relpath}: the publish manifest's own key")
        files[key] = file
    pending = set(previous.pending)
    phases: list[list[str]] = [[], [], []]
    changed = []
    for key, file in files.items():
        published = previous.files.get(key)
        same = published is not None and published == PublishedFile(
            sha256=file.sha256, size=file.size, type=file.content_type, cache=file.cache_control
        )
        if same and key not in pending:
            continue
        phases[_phase(file.relpath)].append(key)
        if published is not None and published.sha256 != file.sha256:
            changed.append(key)
    stale = sorted(previous.owned() - set(files))
    plan = PublishPlan(
        target=target,
        previous=previous,
        files=files,
        phases=phases,
        unchanged=len(files) - sum(map(len, phases)),
        new=sum(1 for k in files if k not in previous.files),
        stale=stale,
        changed=sorted(changed),
        entities=_entities(folder),
    )
    _guard(plan, guards)
    return plan


def _guard(plan: PublishPlan, guards: Guards) -> None:
    published = len(plan.previous.files)
    deleting = len([k for k in plan.stale if k in plan.previous.files])
    if published and deleting >= MIN_GUARDED and deleting > guards.max_delete_share * published:
        plan.refusals.append(
            f"it would delete {deleting} of the {published} published objects "
            f"({deleting / published:.0%}), more than publish.max_delete_share "
            f"({guards.max_delete_share:.0%})"
        )
    before, now = plan.previous.entities, plan.entities
    lost = (before or 0) - (now or 0)
    if (
        before
        and now is not None
        and lost >= MIN_GUARDED
        and lost > before * guards.max_entity_loss_share
    ):
        plan.refusals.append(
            f"the catalog has {now} entities, {before - now} fewer than the {before} "
            f"published last time ({(before - now) / before:.0%}), more than "
            f"publish.max_entity_loss_share ({guards.max_entity_loss_share:.0%}); "
            "a source that failed to list would look like this"
        )


@dataclass
class PublishResult:
    uploaded: int = 0
    uploaded_bytes: int = 0
    deleted: int = 0
    invalidation: list[str] = field(default_factory=list)
    invalidation_id: str | None = None
    cdn_warning: str | None = None

    def summary(self, plan: PublishPlan) -> list[str]:
        target = plan.target
        lines = [
            f"published → s3://{target.bucket}/{target.prefix}: {self.uploaded} uploaded "
            f"({_size(self.uploaded_bytes)}), {plan.unchanged} unchanged, {self.deleted} deleted"
        ]
        if self.invalidation_id:
            lines.append(
                f"CloudFront: {len(self.invalidation)} paths invalidated "
                f"({self.invalidation_id}): {' '.join(self.invalidation[:10])}"
                + (" …" if len(self.invalidation) > 10 else "")
            )
        return lines


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} B"
    amount = float(count)
    for unit in ("kB", "MB", "GB"):
        amount /= 1000
        if amount < 1000 or unit == "GB":
            break
    return f"{amount:.1f} {unit}"


def _manifest(
    plan: PublishPlan, files: dict[str, PublishedFile], pending: set[str], cdn: list[str]
) -> PublishManifest:
    from .. import __version__

    return PublishManifest(
        generator=f"backlot {__version__}",
        entities=plan.entities if plan.entities is not None else plan.previous.entities,
        files=files,
        pending=tuple(sorted(pending)),
        cdn_pending=tuple(sorted(cdn)),
    )


def publish_portal(
    client: Any,
    plan: PublishPlan,
    *,
    workers: int = 16,
    cloudfront: Any = None,
    distribution_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> PublishResult:
    """Carry out ``plan``. Raises PublishError (nothing published is lost) when the bucket
    fails after retries; a CDN that refuses is a warning in the result, and its paths are
    kept in the manifest for the next publish."""
    target, result = plan.target, PublishResult()
    bucket, key = target.bucket, target.manifest_key
    uploads, stale = plan.uploads, plan.stale
    cdn = plan.invalidation_paths() if distribution_id else []
    if not uploads and not stale and not cdn:
        return result
    old_files = dict(plan.previous.files)
    new_files = {
        k: PublishedFile(sha256=f.sha256, size=f.size, type=f.content_type, cache=f.cache_control)
        for k, f in plan.files.items()
    }
    touched = set(plan.previous.pending) | set(uploads) | set(stale)
    try:
        if uploads:
            # First the claim: a kill from here on leaves these keys ours to finish.
            _manifest(plan, old_files, touched, cdn).write(client, bucket, key)
        for phase in plan.phases:
            put_files(
                client, bucket, [(k, plan.files[k]) for k in phase], workers=workers, done=progress
            )
        result.uploaded, result.uploaded_bytes = len(uploads), plan.upload_bytes
        _manifest(plan, new_files, set(stale), cdn).write(client, bucket, key)
        delete_keys(client, bucket, stale)
        result.deleted = len(stale)
    except PublishError:
        raise
    except Exception as exc:
        if getattr(exc, "response", None) is None and not isinstance(exc, OSError):
            raise
        raise describe(exc, f"writing s3://{bucket}/{key}") from None
    if cdn and distribution_id:
        result.invalidation, result.invalidation_id, result.cdn_warning = _invalidate(
            cloudfront, distribution_id, cdn
        )
    left = cdn if result.cdn_warning else []
    if stale or cdn:
        _manifest(plan, new_files, set(), left).write(client, bucket, key)
    return result


def _invalidate(
    cloudfront: Any, distribution_id: str, paths: list[str]
) -> tuple[list[str], str | None, str | None]:
    try:
        files, wildcards = in_progress(cloudfront, distribution_id)
        collapsed = collapse_paths(paths, MAX_PATHS - files, MAX_WILDCARDS - wildcards)
        if collapsed is None:
            return (
                [],
                None,
                (
                    f"CloudFront has {files} paths and {wildcards} wildcards of earlier "
                    "invalidations in progress; these paths wait for the next publish"
                ),
            )
        return collapsed, invalidate(cloudfront, distribution_id, collapsed), None
    except Exception as exc:
        if getattr(exc, "response", None) is None and not isinstance(exc, OSError):
            raise
        return [], None, str(describe(exc, f"invalidating distribution {distribution_id}"))
