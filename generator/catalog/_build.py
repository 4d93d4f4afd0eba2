"""The catalog stage: read every descriptor, check it, follow Locations, then relate.

Like Pelican's run, it reads everything first and resolves cross-references after, so a
reference may point at an entity read later, and one broken file never stops the rest.
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .. import __version__
from ..config import CatalogSettings
from ..errors import BacklotError
from ..model import (
    CatalogFile,
    EntitySource,
    FieldPath,
    Finding,
    Severity,
    Summary,
    check_entity,
    dotted,
    is_windows_reserved,
    json_safe,
)
from ..sources import (
    OutsideRepository,
    Repository,
    RepositoryError,
    UrlOpener,
    changed_times_of,
)
from ._accepted import Accepted
from ._memo import DescriptorMemo, RememberedDocument
from ._placeholders import PlaceholderError, resolve_placeholders
from ._positions import locate
from ._read import ReadFile, parse_descriptor_bytes, unreadable_file
from ._relate import relate

__all__ = ["build_catalog"]

LOCATION_ANNOTATION = "backstage.io/managed-by-location"
ORIGIN_ANNOTATION = "backstage.io/managed-by-origin-location"
SOURCE_ANNOTATION = "backstage.io/source-location"
VIEW_ANNOTATION = "backstage.io/view-url"
EDIT_ANNOTATION = "backstage.io/edit-url"


class _Problem(NamedTuple):
    """A finding of one document, to be placed at its line once the file is read."""

    document: int
    path: FieldPath
    rule: str
    message: str
    ref: str | None = None
    severity: Severity = "error"


@dataclass
class _Pending:
    repository: Repository
    path: str
    origin: str


@dataclass
class _Run:
    settings: CatalogSettings
    known: dict[str, EntitySource]
    previous: dict[str, EntitySource] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    accepted: dict[str, Accepted] = field(default_factory=dict)
    seen_files: set[tuple[str, str]] = field(default_factory=set)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)
    repository_bytes: dict[str, int] = field(default_factory=dict)
    # The repository each accepted entity was read from (by ref): when its file last
    # changed is asked of it, one walk of its history for all its files.
    read_from: dict[str, Repository] = field(default_factory=dict)
    urls: UrlOpener | None = None
    memo: DescriptorMemo | None = None
    files: int = 0
    documents: int = 0
    rejected: int = 0
    conflicts: int = 0


def build_catalog(
    repositories: Sequence[Repository],
    settings: CatalogSettings | None = None,
    previous: dict[str, EntitySource] | None = None,
    progress: Callable[[str], None] | None = None,
    known: dict[str, EntitySource] | None = None,
    urls: UrlOpener | None = None,
    without_descriptors: int = 0,
    memo: DescriptorMemo | None = None,
) -> CatalogFile:
    """Read, check and relate every descriptor of ``repositories`` into a catalog.

    ``previous`` is the last build's ``sources`` (to report entities that disappeared);
    ``known`` are entities of the rest of the organisation, which references may name;
    ``urls`` opens Location targets that are URLs (without it, they are skipped);
    ``without_descriptors`` counts the repositories the sources listed and left out for
    having no descriptor (the summary's crawled repositories are those and ``repositories``);
    ``memo`` holds what earlier builds made of each file, and is given what this one made.
    """
    run = _Run(settings or CatalogSettings(), known or {}, previous or {}, urls=urls, memo=memo)
    queue: deque[_Pending] = deque(
        _Pending(repo, path, _location_ref(repo, path))
        for repo in repositories
        for path in repo.descriptors
    )
    while queue:
        pending = queue.popleft()
        key = (pending.repository.name, pending.path)
        if key in run.seen_files:
            continue
        run.seen_files.add(key)
        if progress is not None:
            progress(f"{pending.repository.name}/{pending.path}")
        queue.extend(_process_file(run, pending))

    if progress is not None:
        progress("when each file last changed")
    _fill_changed(run)
    accepted = sorted(run.accepted.values(), key=lambda a: a.ref.key)
    relations, relate_findings, orphans, unresolved = relate(accepted, run.known)
    findings = run.findings + _place(run, relate_findings)
    disappeared = _disappeared(previous, run.accepted)
    findings.extend(disappeared)
    findings.sort(key=lambda f: (f.file, f.line, f.column, f.rule))

    entities = []
    for item in accepted:
        entity = dict(item.entity)
        entity["relations"] = [
            {"type": rel_type, "targetRef": target} for rel_type, target in relations[item.ref.key]
        ]
        entities.append(entity)
    by_kind: dict[str, int] = {}
    for item in accepted:
        by_kind[item.ref.kind] = by_kind.get(item.ref.kind, 0) + 1
    # Everything here was built and checked by this module: skip re-validating (and
    # copying) thousands of entity dicts.
    return CatalogFile.model_construct(
        generator=f"backlot {__version__}",
        entities=entities,
        sources={item.ref.key: item.source for item in accepted},
        findings=findings,
        summary=Summary(
            entities=len(accepted),
            by_kind=dict(sorted(by_kind.items())),
            files=run.files,
            documents=run.documents,
            rejected=run.rejected,
            errors=sum(f.severity == "error" for f in findings),
            warnings=sum(f.severity == "warning" for f in findings),
            orphans=orphans,
            unresolved_refs=unresolved,
            conflicts=run.conflicts,
            disappeared=len(disappeared),
            repositories=len(repositories) + without_descriptors,
            repositories_with_descriptors=sum(1 for r in repositories if r.descriptors),
        ),
    )


def _location_ref(repository: Repository, path: str) -> str:
    return repository.location(path)


def _process_file(run: _Run, pending: _Pending) -> list[_Pending]:
    """Check every document of one file; return the files its Location entities point at."""
    repository, path = pending.repository, pending.path
    display = repository.display(path)
    run.files += 1
    location = _location_ref(repository, path)
    try:
        data = repository.read_bytes(path, run.settings.max_file_bytes)
    except RepositoryError as exc:
        data, read = None, unreadable_file(exc)
    stale = repository.stale(path)  # known once the file was asked for
    memo_key = None
    if data is not None and run.memo is not None and stale is None:
        memo_key = run.memo.key(data, location, pending.origin, *_web_urls(repository, path))
        remembered = run.memo.get(memo_key)
        if remembered is not None:
            return _replay(run, pending, display, data, remembered)
    if data is not None:
        read = parse_descriptor_bytes(data)
    last_good = repository.last_good(path) if read.broken else None
    if last_good is not None:
        # Last known good: the file is reported as it is, and the entities of the version
        # the source read before stay, marked stale (Backstage keeps an entity's last
        # good version too).
        earlier = parse_descriptor_bytes(last_good[0])
        if not earlier.broken:
            run.findings += _read_findings(display, read)
            stale = ("the current version cannot be read as YAML", last_good[1])
            read = earlier
    run.findings += _read_findings(display, read)
    run.texts[(repository.name, path)] = read.text
    follow: list[_Pending] = []
    problems_to_place: list[_Problem] = []
    # What the memo may keep: every document accepted as written, nothing else said.
    remember: list[RememberedDocument] | None = (
        [] if memo_key is not None and not read.problems else None
    )
    for doc in read.documents:
        run.documents += 1
        if doc.error is not None:
            run.rejected += 1  # reported with the file's problems
            continue
        value = doc.value
        if not isinstance(value, dict):
            run.rejected += 1
            run.findings.append(
                Finding(
                    file=display,
                    line=doc.line,
                    rule="yaml/not-a-mapping",
                    message="a descriptor document must be a mapping with apiVersion, kind, "
                    f"metadata and spec; this one is {_shape(value)}",
                    document=doc.index,
                )
            )
            continue
        size = doc.size
        if doc.dollar_keys:
            try:
                value, added = resolve_placeholders(
                    value,
                    repository,
                    path,
                    run.settings.max_file_bytes,
                    budget=max(run.settings.max_document_bytes - size, 0),
                )
            except PlaceholderError as exc:
                run.rejected += 1
                problems_to_place.append(_Problem(doc.index, exc.path, exc.rule, exc.message))
                continue
            size += added
        too_large = _too_large(run, repository, size)
        if too_large is not None:
            run.rejected += 1
            problems_to_place.append(_Problem(doc.index, (), *too_large))
            continue
        if doc.non_finite:
            value = json_safe(value)  # NaN and Infinity are null in JSON, as Backstage stores them
        value = _with_location_annotations(value, repository, path, location, pending.origin)
        check = check_entity(value)
        ref_key = check.ref.key if check.ref is not None else None
        if not check.accepted:
            run.rejected += 1
            problems_to_place.extend(
                _Problem(doc.index, p.path, p.rule, p.message, ref_key) for p in check.problems
            )
            continue
        assert check.ref is not None
        checked = RememberedDocument(doc.index, doc.line, size, value, check.ref, check.relations)
        if remember is not None and not doc.dollar_keys:
            remember.append(checked)
        else:
            remember = None
        _accept(run, pending, display, checked, stale, problems_to_place, follow)
    if remember is not None and len(remember) == len(read.documents) and run.memo is not None:
        assert memo_key is not None
        run.memo.put(memo_key, remember)
    _place_problems(run, display, read.text, problems_to_place)
    return follow


def _replay(
    run: _Run, pending: _Pending, display: str, data: bytes, remembered: list[RememberedDocument]
) -> list[_Pending]:
    """A file the memo holds: its documents as the last build checked them, met anew with
    the rest of the catalog (size limits, conflicts, Locations)."""
    repository = pending.repository
    # The memo holds only files that were valid UTF-8 and YAML.
    text = data.decode("utf-8").removeprefix("\ufeff")
    run.texts[(repository.name, pending.path)] = text
    follow: list[_Pending] = []
    problems_to_place: list[_Problem] = []
    for checked in remembered:
        run.documents += 1
        too_large = _too_large(run, repository, checked.size)
        if too_large is not None:
            run.rejected += 1
            problems_to_place.append(_Problem(checked.index, (), *too_large))
            continue
        _accept(run, pending, display, checked, None, problems_to_place, follow)
    _place_problems(run, display, text, problems_to_place)
    return follow


def _accept(
    run: _Run,
    pending: _Pending,
    display: str,
    checked: RememberedDocument,
    stale: tuple[str, str] | None,
    problems_to_place: list[_Problem],
    follow: list[_Pending],
) -> None:
    """Take one valid document into the catalog, unless another file defined it first."""
    repository, path = pending.repository, pending.path
    doc_index, value, ref = checked.index, checked.entity, checked.ref
    ref_key = ref.key
    conflict = _conflict(run, ref_key, repository)
    if conflict is not None:
        run.rejected += 1
        run.conflicts += 1
        problems_to_place.append(
            _Problem(doc_index, ("metadata", "name"), "catalog/conflict", conflict, ref_key)
        )
        return
    if not value["metadata"].get("namespace"):
        value["metadata"]["namespace"] = ref.namespace
    reserved = [p for p in (ref.namespace, ref.name) if is_windows_reserved(p)]
    if reserved:
        problems_to_place.append(
            _Problem(
                doc_index,
                ("metadata", "name" if ref.name in reserved else "namespace"),
                "catalog/windows-name",
                f"{reserved[0]!r} is a device name on Windows: the portal's and the docs' "
                f"folder for {ref_key} cannot be checked out or unpacked there",
                ref_key,
                "warning",
            )
        )
    run.accepted[ref_key] = Accepted(
        ref=ref,
        entity=value,
        relations=checked.relations,
        source=EntitySource(
            repository=repository.name,
            path=path,
            line=checked.line,
            document=doc_index,
            url=repository.web_url(path, "blob"),
            commit=repository.commit,
            stale_since=stale[1] if stale else None,
            stale_reason=stale[0] if stale else None,
        ),
        file=display,
        text_key=(repository.name, path),
    )
    run.read_from[ref_key] = repository
    if ref.kind == "Location":
        follow.extend(_location_targets(run, pending, value, doc_index, display, ref_key))
    if stale is not None:
        why, since = stale
        problems_to_place.append(
            _Problem(
                doc_index,
                (),
                "source/stale",
                f"the source could not read this file this time ({why}); the version "
                f"last read, at {since}, is used until it can",
                ref_key,
                "warning",
            )
        )


def _place_problems(run: _Run, display: str, text: str, problems_to_place: list[_Problem]) -> None:
    """The findings of one file's documents, at the line and column of what they name."""
    if not problems_to_place:
        return
    positions = locate(text, [(p.document, p.path) for p in problems_to_place])
    for placed in problems_to_place:
        line, column = positions[(placed.document, placed.path)]
        run.findings.append(
            Finding(
                file=display,
                line=line,
                column=column,
                rule=placed.rule,
                severity=placed.severity,
                message=placed.message,
                entity_ref=placed.ref,
                document=placed.document,
            )
        )


def _fill_changed(run: _Run) -> None:
    """Each entity's ``changed``: when its file last changed, asked of its repository
    once for all of that repository's files. An entity served as last read (stale) is the
    version an earlier build read, so it keeps the date that build gave it."""
    wanted: dict[int, tuple[Repository, set[str]]] = {}
    for key, item in run.accepted.items():
        repository = run.read_from[key]
        wanted.setdefault(id(repository), (repository, set()))[1].add(item.source.path)
    pairs = [(repository, sorted(paths)) for repository, paths in wanted.values()]
    try:
        answers = changed_times_of(pairs)
    except (BacklotError, OSError):
        answers = [{} for _ in pairs]  # a date is worth no failed build
    times = {id(repository): answer for (repository, _), answer in zip(pairs, answers, strict=True)}
    for key, item in run.accepted.items():
        source = item.source
        if source.stale_since is not None:
            earlier = run.previous.get(key)
            same_file = (
                earlier is not None
                and earlier.repository == source.repository
                and earlier.path == source.path
            )
            changed = earlier.changed if same_file and earlier is not None else None
        else:
            changed = times[id(run.read_from[key])].get(source.path)
        if changed is not None:
            item.source = source.model_copy(update={"changed": changed})


def _read_findings(display: str, read: ReadFile) -> list[Finding]:
    """What reading a file found: its own problems and the documents that are not YAML."""
    findings = [
        Finding(
            file=display,
            line=problem.line,
            column=problem.column,
            rule=problem.rule,
            severity="error" if problem.severity == "error" else "warning",
            message=problem.message,
        )
        for problem in read.problems
    ]
    findings += [
        Finding(
            file=display,
            line=doc.error.line,
            column=doc.error.column,
            rule=doc.error.rule,
            message=doc.error.message,
            document=doc.index if doc.error.rule != "yaml/syntax" else None,
        )
        for doc in read.documents
        if doc.error is not None
    ]
    return findings


def _too_large(run: _Run, repository: Repository, size: int) -> tuple[str, str] | None:
    """Rule and message when a document, with aliases and placeholders expanded, is over
    its own limit or takes its repository over the repository's; else None."""
    limit = run.settings.max_document_bytes
    if size > limit:
        return (
            "entity/too-large",
            f"this document is {size / 1e6:.1f} MB once its aliases and placeholders are "
            f"expanded, over the {limit / 1e6:.1f} MB limit (catalog.max_document_bytes)",
        )
    total = run.repository_bytes.get(repository.name, 0) + size
    limit = run.settings.max_repository_bytes
    if total > limit:
        return (
            "repository/too-large",
            f"the entities of {repository.name} add up to over {limit / 1e6:.0f} MB once "
            "expanded (catalog.max_repository_bytes); this one and those after it are left out",
        )
    run.repository_bytes[repository.name] = total
    return None


def _conflict(run: _Run, ref_key: str, repository: Repository) -> str | None:
    """Why ``ref_key`` may not be defined again, if it may not: the first definition wins,
    except against the repository that held the entity in the previous build. Repositories
    are read in name order, and Backstage keeps an entity with the location that registered
    it first: a new repository named to sort first must not take another team's entity
    (and its docs)."""
    existing = run.accepted.get(ref_key)
    incumbent = run.previous.get(ref_key)
    if (
        existing is not None
        and incumbent is not None
        and incumbent.repository == repository.name
        and existing.source.repository != repository.name
    ):
        del run.accepted[ref_key]
        run.rejected += 1
        run.conflicts += 1
        run.findings.append(
            Finding(
                file=existing.file,
                line=existing.source.line,
                rule="catalog/conflict",
                message=f"{ref_key} belongs to {repository.name}, which defined it in the "
                "previous build too; this definition is not used",
                entity_ref=ref_key,
                document=existing.source.document,
            )
        )
        return None
    if existing is not None:
        where = f"{existing.file}:{existing.source.line}"
    else:
        elsewhere = run.known.get(ref_key)
        if elsewhere is None or elsewhere.repository == repository.name:
            return None
        where = f"{elsewhere.repository}/{elsewhere.path}:{elsewhere.line}"
    return f"{ref_key} is already defined in {where}; the first definition wins"


def _shape(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _with_location_annotations(
    entity: dict[str, Any], repository: Repository, path: str, location: str, origin: str
) -> dict[str, Any]:
    """Add what Backstage's processing adds before validation: where the entity came from.

    Like Backstage, a null ``annotations`` becomes a mapping here, and a malformed one is
    left for validation to report.
    """
    metadata = entity.get("metadata")
    if not isinstance(metadata, dict):
        return entity
    annotations = metadata.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        return entity
    added: dict[str, str] = {}
    view, edit, tree = _web_urls(repository, path)
    if view is not None and edit is not None and tree is not None:
        added = {VIEW_ANNOTATION: view, EDIT_ANNOTATION: edit, SOURCE_ANNOTATION: f"url:{tree}"}
    merged = {
        **added,
        **(annotations or {}),
        LOCATION_ANNOTATION: location,
        ORIGIN_ANNOTATION: origin,
    }
    return {**entity, "metadata": {**metadata, "annotations": merged}}


def _web_urls(repository: Repository, path: str) -> tuple[str | None, str | None, str | None]:
    """A file's pages on its host: to view, to edit, and its folder's."""
    return (
        repository.web_url(path, "blob"),
        repository.web_url(path, "edit"),
        repository.web_url(posixpath.dirname(path), "tree"),
    )


def _location_targets(
    run: _Run,
    pending: _Pending,
    entity: dict[str, Any],
    doc_index: int,
    display: str,
    ref_key: str,
) -> Iterable[_Pending]:
    spec = entity.get("spec") or {}
    targets = [spec["target"]] if isinstance(spec.get("target"), str) else []
    targets += [t for t in spec.get("targets") or [] if isinstance(t, str)]
    optional = spec.get("presence") == "optional"
    base = posixpath.dirname(pending.path)
    origin = entity["metadata"]["annotations"][ORIGIN_ANNOTATION]

    def warn(rule: str, message: str) -> None:
        run.findings.append(
            Finding(
                file=display,
                line=1,
                rule=rule,
                severity="warning",
                message=message,
                entity_ref=ref_key,
                document=doc_index,
            )
        )

    for target in targets:
        repository = pending.repository
        if "://" in target:
            if run.urls is None:
                warn(
                    "location/remote-target",
                    f"target {target} is a URL; this command reads local files only, so it "
                    "was skipped",
                )
                continue
            try:
                repository, relpath = run.urls.open(target)
            except RepositoryError as exc:
                if not optional:
                    warn("location/target-missing", f"target {target}: {exc}")
                continue
        else:
            relpath = posixpath.normpath(posixpath.join(base, target))
        if relpath == ".." or relpath.startswith("../") or target.startswith("/"):
            warn("location/outside-repository", f"target {target} is outside the repository")
            continue
        if any(c in relpath for c in "*?["):
            matches = repository.glob(relpath)
            if not matches and not optional:
                warn("location/target-missing", f"target {target} matches no file")
            for match in matches:
                yield _Pending(repository, match, origin)
            continue
        if not repository.is_file(relpath):
            try:
                repository.read_bytes(relpath, 1)  # only to learn why, which a reader is told
            except OutsideRepository as exc:
                warn("location/outside-repository", str(exc))
                continue
            except RepositoryError:
                pass
            if not optional:
                warn("location/target-missing", f"target {target} does not exist")
            continue
        yield _Pending(repository, relpath, origin)


def _place(run: _Run, located: list[tuple[Accepted, FieldPath, str, str]]) -> list[Finding]:
    """Findings of the relate step, placed at the field that holds the reference."""
    by_text: dict[tuple[str, str], list[tuple[Accepted, FieldPath, str, str]]] = {}
    for item in located:
        by_text.setdefault(item[0].text_key, []).append(item)
    findings = []
    for text_key, items in by_text.items():
        positions = locate(run.texts[text_key], [(a.source.document, p) for a, p, _, _ in items])
        for accepted, path, rule, message in items:
            line, column = positions[(accepted.source.document, path)]
            findings.append(
                Finding(
                    file=accepted.file,
                    line=line,
                    column=column,
                    rule=rule,
                    severity="warning",
                    message=f"{dotted(path)}: {message}",
                    entity_ref=accepted.ref.key,
                    document=accepted.source.document,
                )
            )
    return findings


def _disappeared(
    previous: dict[str, EntitySource] | None, accepted: dict[str, Accepted]
) -> list[Finding]:
    if previous is None:
        return []
    gone = []
    for key, source in previous.items():
        if key not in accepted:
            gone.append(
                Finding(
                    file=f"{source.repository}/{source.path}",
                    line=source.line,
                    rule="catalog/disappeared",
                    severity="warning",
                    message=f"{key} was in the previous build and is gone now",
                    entity_ref=key,
                    document=source.document,
                )
            )
    return gone
