"""Backlot accepts exactly the descriptors that Backstage accepts.

Every descriptor of the corpus (`corpus.py`) is written to its own file, judged once
by Backstage's own code (`oracle.js`, see the `backstage_oracle` fixture) and once by
`backlot validate --format json`; the verdicts must agree file by file. The catalog
files under `examples/` -- the ones Backstage reads when each example repository is
registered by its `catalog-info.yaml`, following Location targets (not OpenAPI files,
mkdocs.yml or template skeletons) -- are compared document by document, on a copy.

A document is rejected by Backlot when it has a finding of severity "error" (its
`document` index counts the non-empty YAML documents of the file from 0); a finding
with `document: null` rejects every document of its file.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .backstage import BackstageOracle, FileVerdicts
from .corpus import EMPTY_DOCUMENT_IDS, build_corpus, write_corpus

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
BACKLOT_TIMEOUT = 600
MIN_DOCUMENTS = 200
MIN_EACH_VERDICT = 60


@dataclass
class BacklotResult:
    """Backlot's findings, grouped by the resolved path of their file."""

    by_file: dict[Path, list[dict[str, Any]]] = field(default_factory=dict)

    def findings(self, path: Path) -> list[dict[str, Any]]:
        return self.by_file.get(path.resolve(), [])

    def rejected_documents(self, path: Path) -> tuple[bool, set[int]]:
        """(whole file rejected, indexes of rejected documents)."""
        whole_file = False
        documents: set[int] = set()
        for finding in self.findings(path):
            if finding.get("severity") != "error":
                continue
            if finding.get("document") is None:
                whole_file = True
            else:
                documents.add(int(finding["document"]))
        return whole_file, documents

    def other_files(self, known: set[Path]) -> dict[Path, list[dict[str, Any]]]:
        return {path: found for path, found in self.by_file.items() if path not in known}


def run_backlot(directory: Path, globs: Sequence[str] = ()) -> BacklotResult:
    """`backlot validate --format json [--glob G]... <directory>`; exit 0 or 1 are both fine."""
    command = [sys.executable, "-m", "generator", "validate", "--format", "json"]
    for pattern in globs:
        command += ["--glob", pattern]
    command.append(str(directory))
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        command,
        cwd=directory.parent,
        env={**os.environ, "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        timeout=BACKLOT_TIMEOUT,
        check=False,
    )
    if proc.returncode not in (0, 1):
        pytest.fail(
            f"{' '.join(command)} exited with {proc.returncode}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    try:
        report = json.loads(proc.stdout)
        findings = report["findings"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        pytest.fail(
            f"{' '.join(command)} printed no JSON report with findings ({exc!r}):\n"
            f"{proc.stdout[:3000]}\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    result = BacklotResult()
    for finding in findings:
        path = Path(finding["file"])
        if not path.is_absolute():
            path = directory.parent / path
        result.by_file.setdefault(path.resolve(), []).append(finding)
    return result


def _describe_finding(finding: Mapping[str, Any]) -> str:
    where = f"{finding.get('line')}:{finding.get('column')}"
    return (
        f"{finding.get('severity')} [{finding.get('rule')}] doc {finding.get('document')} "
        f"at {where}: {finding.get('message')}"
    )


def _indent(text: str, prefix: str = "    | ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) or prefix + "(empty file)"


def _lines(text: str, first: int | None, last: int | None) -> str:
    """Lines `first`..`last` (1-based) of `text`, or all of it."""
    if first is None or last is None:
        return text
    return "\n".join(text.splitlines()[first - 1 : last])


def _disagreement(
    label: str,
    path: Path,
    backstage_accepts: bool,
    backstage_reason: str,
    backlot: BacklotResult,
    text: str,
) -> str:
    found = backlot.findings(path)
    lines = [
        f"--- {label}  ({path.name})",
        f"  Backstage: {'ACCEPTS' if backstage_accepts else 'REJECTS'}"
        + ("" if backstage_accepts else f" -- {backstage_reason}"),
        f"  Backlot:   {'REJECTS' if backstage_accepts else 'ACCEPTS'}"
        + ("" if found else " (no findings)"),
        *(f"    {_describe_finding(f)}" for f in found),
        "  YAML:",
        _indent(text),
    ]
    return "\n".join(lines)


def _fail_on(
    disagreements: list[str], total: int, backlot: BacklotResult, known: set[Path]
) -> None:
    if not disagreements:
        return
    elsewhere = backlot.other_files(known)
    extra = [
        f"Findings on other files: {path}\n"
        + "\n".join(f"    {_describe_finding(f)}" for f in found)
        for path, found in sorted(elsewhere.items())
    ]
    pytest.fail(
        f"Backlot and Backstage disagree on {len(disagreements)} of {total} documents:\n\n"
        + "\n\n".join(disagreements)
        + ("\n\n" + "\n".join(extra) if extra else ""),
        pytrace=False,
    )


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class CorpusRun:
    texts: dict[str, str]
    paths: dict[str, Path]
    verdicts: dict[str, FileVerdicts]
    directory: Path


@pytest.fixture(scope="module")
def corpus_run(
    tmp_path_factory: pytest.TempPathFactory, backstage_oracle: BackstageOracle
) -> CorpusRun:
    texts = build_corpus()
    directory = tmp_path_factory.mktemp("conformance") / "catalog"
    paths = write_corpus(directory, texts)
    return CorpusRun(texts, paths, backstage_oracle.judge(paths), directory)


def _yaml11_refs(text: str) -> set[str]:
    """The entity refs a YAML 1.1 reader (PyYAML) would see in `text`."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return set()
    refs = set()
    for doc in documents:
        metadata = doc.get("metadata") if isinstance(doc, dict) else None
        if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
            namespace = metadata.get("namespace")
            namespace = namespace if isinstance(namespace, str) and namespace else "default"
            refs.add(f"{doc.get('kind')}:{namespace}/{metadata['name']}".lower())
    return refs


def test_corpus_is_large_balanced_and_conflict_free(corpus_run: CorpusRun) -> None:
    problems: list[str] = []
    accepted: list[bool] = []
    for doc_id, result in corpus_run.verdicts.items():
        expected = 0 if doc_id in EMPTY_DOCUMENT_IDS else 1
        if result.file_error is not None or len(result.verdicts) != expected:
            problems.append(f"{doc_id}: {len(result.verdicts)} verdicts, {result.file_error}")
        accepted.extend(v.accepted for v in result.verdicts)
    # No two files may define the same entity, read as YAML 1.2 (Backstage) or 1.1.
    refs: dict[str, set[str]] = {}
    for doc_id, result in corpus_run.verdicts.items():
        seen = {v.entity_ref for v in result.verdicts if v.entity_ref}
        for ref in seen | _yaml11_refs(corpus_run.texts[doc_id]):
            refs.setdefault(ref, set()).add(doc_id)
    problems.extend(
        f"{ref} is defined by {sorted(ids)}" for ref, ids in refs.items() if len(ids) > 1
    )
    assert not problems, "\n".join(problems)
    assert len(accepted) >= MIN_DOCUMENTS, f"only {len(accepted)} documents"
    assert accepted.count(True) >= MIN_EACH_VERDICT, f"only {accepted.count(True)} accepted"
    assert accepted.count(False) >= MIN_EACH_VERDICT, f"only {accepted.count(False)} rejected"


def test_backlot_agrees_with_backstage_on_corpus(corpus_run: CorpusRun) -> None:
    # Every corpus file is a descriptor: the folder is one repository of them.
    backlot = run_backlot(corpus_run.directory, globs=["*.yaml"])
    disagreements: list[str] = []
    for doc_id, path in corpus_run.paths.items():
        result = corpus_run.verdicts[doc_id]
        rejections = [v.reason for v in result.verdicts if not v.accepted]
        if result.file_error is not None:
            rejections.append(result.file_error)
        backstage_accepts = not rejections
        whole_file, documents = backlot.rejected_documents(path)
        backlot_accepts = not whole_file and not documents
        if backstage_accepts != backlot_accepts:
            disagreements.append(
                _disagreement(
                    doc_id,
                    path,
                    backstage_accepts,
                    "; ".join(rejections),
                    backlot,
                    corpus_run.texts[doc_id],
                )
            )
    known = {path.resolve() for path in corpus_run.paths.values()}
    _fail_on(disagreements, len(corpus_run.paths), backlot, known)


# --------------------------------------------------------------------------- examples/


def _location_targets(path: Path) -> list[Path]:
    """Files that the Location entities of `path` point at (file targets, globs allowed)."""
    try:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    found: list[Path] = []
    for document in documents:
        if not isinstance(document, dict) or document.get("kind") != "Location":
            continue
        spec = document.get("spec")
        if not isinstance(spec, dict) or spec.get("type", "file") != "file":
            continue
        targets = [spec.get("target"), *(spec.get("targets") or [])]
        for target in targets:
            if isinstance(target, str) and target:
                pattern = str(path.parent / target)
                found.extend(Path(p) for p in sorted(glob.glob(pattern, recursive=True)))
    return [p.resolve() for p in found if p.is_file()]


def registered_descriptors(root: Path) -> list[Path]:
    """The files Backstage reads when each repository of `root` is registered by its
    `catalog-info.yaml` (or `root` itself, when it holds one), following Locations."""
    names = ("catalog-info.yaml", "catalog-info.yml")
    repositories = (
        [root]
        if any((root / n).is_file() for n in names)
        else sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    )
    todo = [(repo / n).resolve() for repo in repositories for n in names if (repo / n).is_file()]
    seen: list[Path] = []
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.append(path)
        todo.extend(_location_targets(path))
    return seen


def test_backlot_agrees_with_backstage_on_examples(
    tmp_path: Path, backstage_oracle: BackstageOracle
) -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("there is no examples/ folder")
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    files = {p.relative_to(copy.resolve()).as_posix(): p for p in registered_descriptors(copy)}
    if not files:
        pytest.skip("examples/ holds no catalog-info.yaml yet")
    verdicts = backstage_oracle.judge(files)
    backlot = run_backlot(copy)
    disagreements: list[str] = []
    total = 0
    for file_id, path in files.items():
        result = verdicts[file_id]
        text = path.read_text(encoding="utf-8", errors="replace")
        whole_file, documents = backlot.rejected_documents(path)
        if result.file_error is not None:
            total += 1
            if not (whole_file or documents):
                disagreements.append(
                    _disagreement(file_id, path, False, result.file_error, backlot, text)
                )
            continue
        for index, verdict in enumerate(result.verdicts):
            total += 1
            backlot_accepts = not whole_file and index not in documents
            if verdict.accepted != backlot_accepts:
                label = f"{file_id} document {index} ({verdict.entity_ref or 'no entity'})"
                document = _lines(text, verdict.line, verdict.end_line)
                disagreements.append(
                    _disagreement(label, path, verdict.accepted, verdict.reason, backlot, document)
                )
        beyond = sorted(i for i in documents if i >= len(result.verdicts))
        if beyond:
            total += len(beyond)
            disagreements.append(
                _disagreement(
                    f"{file_id} documents {beyond}: Backstage sees only {len(result.verdicts)}",
                    path,
                    True,
                    "",
                    backlot,
                    text,
                )
            )
    _fail_on(disagreements, total, backlot, {p.resolve() for p in files.values()})
