"""Backlot's templating against Backstage's own scaffolder code, run on Node.

``oracle.js`` runs the npm packages pinned in ``package.json``
(``@backstage/plugin-scaffolder-backend`` 4.3.0 and the nunjitsu it renders with):

- every skeleton case of ``cases.py`` goes through the real ``fetch:template`` handler
  and through ``render_skeleton``; the two output trees must be identical: the same
  names, the same bytes, the same executable bits (or both must refuse);
- every value case goes through the workflow runner's own ``render`` (the one that
  renders step inputs, ``if``, ``each`` and ``output``) and through ``render_value``:
  the same value, the same dropped keys; and ``is_truthy`` must decide a step's ``if``
  from it as ``helper.isTruthy`` does;
- every text case goes through nunjitsu configured as fetch:template configures it and
  through ``render_text``: the same text, or an error from both.

Deliberate differences from Backstage are listed in ``tests/test_scaffold_templating.py``;
none of them shows in these cases. Installing the packages the first time takes a minute
or two (cached outside the checkout, see ``tests/npm.py``); without node the tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator.scaffold._errors import ScaffoldError
from generator.scaffold._expressions import MISSING, is_truthy, render_text, render_value
from generator.scaffold._skeleton import render_skeleton

from ...npm import install_npm_packages
from .cases import (
    COOKIECUTTER_CONTEXT,
    COOKIECUTTER_TEXT_CASES,
    SKELETON_CASES,
    SKELETONS,
    TEXT_CASES,
    TEXT_CONTEXT,
    VALUE_CASES,
    VALUE_CONTEXT,
    SkeletonCase,
)

HERE = Path(__file__).resolve().parent
PACKAGE_JSON = HERE / "package.json"
ORACLE_JS = HERE / "oracle.js"
ORACLE_TIMEOUT = 600

TEXTS = [(f"text-{i}", t, TEXT_CONTEXT, False) for i, t in enumerate(TEXT_CASES)] + [
    (f"cookiecutter-{i}", t, COOKIECUTTER_CONTEXT, True)
    for i, t in enumerate(COOKIECUTTER_TEXT_CASES)
]


@dataclass(frozen=True)
class Answers:
    skeletons: Mapping[str, Any]
    values: Mapping[str, Any]
    texts: Mapping[str, Any]
    outputs: Path


def _python_options(options: Mapping[str, Any]) -> dict[str, Any]:
    names = {
        "copyWithoutTemplating": "copy_without_templating",
        "templateFileExtension": "template_file_extension",
        "cookiecutterCompat": "cookiecutter_compat",
        "trimBlocks": "trim_blocks",
        "lstripBlocks": "lstrip_blocks",
        "replace": "replace",
    }
    return {names[key]: value for key, value in options.items()}


def _request(outputs: Path) -> dict[str, Any]:
    return {
        "skeletons": [
            {
                "id": case.id,
                "skeleton": str(SKELETONS / case.skeleton),
                "output": str(outputs / "backstage" / case.id),
                "values": case.values,
                "options": case.options,
            }
            for case in SKELETON_CASES
        ],
        "values": [
            {"id": case_id, "input": given, "context": context or VALUE_CONTEXT}
            for case_id, given, context in VALUE_CASES
        ],
        "texts": [
            {"id": text_id, "template": text, "context": context, "cookiecutter": cookiecutter}
            for text_id, text, context, cookiecutter in TEXTS
        ],
    }


@pytest.fixture(scope="module")
def backstage(tmp_path_factory: pytest.TempPathFactory) -> Answers:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: Backstage's answers come from its npm packages")
    node_modules = install_npm_packages(PACKAGE_JSON)
    outputs = tmp_path_factory.mktemp("scaffolder-conformance")
    request = outputs / "request.json"
    request.write_text(json.dumps(_request(outputs)), encoding="utf-8")
    proc = subprocess.run(
        [node, str(ORACLE_JS), str(request)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        timeout=ORACLE_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"oracle.js failed:\n{proc.stderr[-4000:]}", pytrace=False)
    answer = json.loads(proc.stdout)
    return Answers(answer["skeletons"], answer["values"], answer["texts"], outputs)


def _tree(root: Path) -> dict[str, tuple[str, bytes, bool]]:
    """Every entry below ``root``: its kind, its bytes, whether it is executable."""
    if not root.exists():
        return {}
    tree = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            tree[relative] = ("link", os.readlink(path).encode(), False)
        elif path.is_dir():
            tree[relative] = ("dir", b"", False)
        else:
            tree[relative] = ("file", path.read_bytes(), bool(path.stat().st_mode & 0o100))
    return tree


def _tree_differences(
    theirs: Mapping[str, tuple[str, bytes, bool]], ours: Mapping[str, tuple[str, bytes, bool]]
) -> list[str]:
    problems = []
    for name in sorted(set(theirs) | set(ours)):
        if name not in ours:
            problems.append(f"only Backstage wrote {name!r}")
        elif name not in theirs:
            problems.append(f"only Backlot wrote {name!r}")
        elif theirs[name] != ours[name]:
            problems.append(
                f"{name!r} differs:\n  Backstage: {theirs[name]!r}\n  Backlot:   {ours[name]!r}"
            )
    return problems


@pytest.mark.parametrize("case", SKELETON_CASES, ids=lambda case: case.id)
def test_skeleton_renders_as_backstage_renders_it(backstage: Answers, case: SkeletonCase) -> None:
    verdict = backstage.skeletons[case.id]
    ours_root = backstage.outputs / "backlot" / case.id
    ours_root.mkdir(parents=True)
    options = _python_options(case.options)
    if "error" in verdict:
        with pytest.raises(ScaffoldError):
            render_skeleton(SKELETONS / case.skeleton, ours_root, case.values, **options)
        return
    written = render_skeleton(SKELETONS / case.skeleton, ours_root, case.values, **options)
    theirs = _tree(backstage.outputs / "backstage" / case.id)
    ours = _tree(ours_root)
    assert bool(theirs) is not case.empty, f"Backstage wrote {sorted(theirs)}"
    problems = _tree_differences(theirs, ours)
    assert not problems, "\n".join(problems)
    assert written == sorted(name for name, entry in ours.items() if entry[0] == "file")


def _comparable(value: Any) -> str:
    """A value as JSON with sorted keys: True and 1 stay different, as in JavaScript."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize(
    ("case_id", "given", "context"), VALUE_CASES, ids=[case[0] for case in VALUE_CASES]
)
def test_step_input_renders_as_the_runner_renders_it(
    backstage: Answers, case_id: str, given: Any, context: dict[str, Any] | None
) -> None:
    theirs = backstage.values[case_id]
    ours = render_value(given, context or VALUE_CONTEXT)
    if theirs.get("missing"):
        assert ours is MISSING
    else:
        assert ours is not MISSING
        assert _comparable(ours) == _comparable(theirs["value"])
    assert is_truthy(ours) is theirs["truthy"]


@pytest.mark.parametrize(
    ("text_id", "template", "context", "cookiecutter"), TEXTS, ids=[t[0] for t in TEXTS]
)
def test_text_renders_as_nunjitsu_renders_it(
    backstage: Answers, text_id: str, template: str, context: dict[str, Any], cookiecutter: bool
) -> None:
    theirs = backstage.texts[text_id]
    try:
        ours: dict[str, str] = {"ok": render_text(template, context, cookiecutter=cookiecutter)}
    except ScaffoldError as error:
        ours = {"error": str(error)}
    if "error" in theirs:
        assert "error" in ours, f"Backstage failed ({theirs['error']}), Backlot gave {ours}"
    else:
        assert ours == {"ok": theirs["ok"]}
