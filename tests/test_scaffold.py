"""Running Software Templates: the form checked before any step, steps with if/each and
outputs, strict action inputs, containment, and publish:github against the local GitHub
API with a real git push. Templates are written here as a repository would hold them."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.github import GitHubClient, TokenAuth
from generator.scaffold import (
    BUILTIN_ACTIONS,
    RunFailed,
    Services,
    TemplateInvalid,
    ValuesInvalid,
    load_template,
    run_template,
)
from tests.github_writes_fake import GitHubWrites

TEMPLATE = """\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: service
  title: A service
  description: Starts a service
spec:
  owner: group:default/platform
  type: service
  parameters:
    - title: About
      required: [name, owner]
      properties:
        name:
          title: Name
          type: string
          pattern: '^[a-z0-9-]+$'
          ui:field: EntityNamePicker
        owner:
          title: Owner
          type: string
          ui:field: OwnerPicker
        replicas:
          title: Replicas
          type: number
          default: 2
        tier:
          title: Tier
          type: string
          enum: [gold, silver]
          default: silver
    - title: Where
      required: [repoUrl]
      properties:
        repoUrl:
          title: Repository
          type: string
          ui:field: RepoUrlPicker
          ui:options: {allowedHosts: [github.com]}
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
          owner: ${{ parameters.owner }}
          replicas: ${{ parameters.replicas }}
    - id: log
      action: debug:log
      if: ${{ parameters.tier === 'gold' }}
      input:
        message: gold tier for ${{ parameters.name }}
    - id: many
      action: debug:log
      each: ['a', 'b']
      input:
        message: item ${{ each.value }}
    - id: write
      action: catalog:write
      input:
        filePath: extra/catalog-info.yaml
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata: {name: '${{ parameters.name }}'}
          spec: {type: service, lifecycle: experimental, owner: '${{ parameters.owner }}'}
    - id: publish
      action: publish:github
      input:
        repoUrl: ${{ parameters.repoUrl }}
        description: ${{ parameters.name }} service
        topics: [backlot, '${{ parameters.tier }}']
    - id: register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: /catalog-info.yaml
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
      - title: Never shown
        if: ${{ parameters.tier === 'bronze' }}
        url: https://example.com/
    text:
      - title: Next
        content: Replicas ${{ parameters.replicas }}
"""

SKELETON = {
    "catalog-info.yaml": textwrap.dedent(
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: ${{ values.name }}
        spec:
          type: service
          lifecycle: experimental
          owner: ${{ values.owner }}
        """
    ),
    "README.md": "# ${{ values.name }}\n\nReplicas: ${{ values.replicas }}\n",
}

VALUES = {
    "name": "orders",
    "owner": "group:default/team-a",
    "repoUrl": "github.com?owner=acme&repo=orders",
}


def write_template(
    root: Path, text: str = TEMPLATE, skeleton: dict[str, str] | None = None
) -> Path:
    folder = root / "templates" / "service"
    for name, content in (skeleton or SKELETON).items():
        (folder / "skeleton" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "skeleton" / name).write_text(content)
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


def dry_run(path: Path, values: dict[str, Any], workspace: Path) -> Any:
    return run_template(
        load_template(path),
        values,
        BUILTIN_ACTIONS,
        workspace=workspace,
        dry_run=True,
        services=Services(github=None),
    )


def test_a_dry_run_renders_the_skeleton_and_says_what_it_would_create(tmp_path: Path) -> None:
    result = dry_run(write_template(tmp_path), VALUES, tmp_path / "ws")
    assert (tmp_path / "ws" / "README.md").read_text() == "# orders\n\nReplicas: 2\n"
    written = (tmp_path / "ws" / "extra" / "catalog-info.yaml").read_text()
    assert "backstage.io/source-template: template:default/service" in written
    statuses = {step.id: step.status for step in result.steps}
    assert statuses == {
        "fetch": "done",
        "log": "skipped",  # tier is silver by default
        "many": "done",
        "write": "done",
        "publish": "planned",
        "register": "planned",
    }
    assert any(
        "would create private repository https://github.com/acme/orders" in line
        for line in result.log
    )
    assert [line for line in result.log if "item " in line] == ["[many] item a", "[many] item b"]
    # Outputs flow: register saw the publish step's repoContentsUrl.
    register = next(s for s in result.steps if s.id == "register")
    assert (
        register.output["catalogInfoUrl"]
        == "https://github.com/acme/orders/blob/main/catalog-info.yaml"
    )
    assert result.links == [{"title": "Repository", "url": "https://github.com/acme/orders.git"}]
    assert result.text == [{"title": "Next", "content": "Replicas 2"}]


def test_the_values_are_checked_against_the_form_before_any_step(tmp_path: Path) -> None:
    path = write_template(tmp_path)
    with pytest.raises(ValuesInvalid) as caught:
        dry_run(
            path, {**VALUES, "name": "Not Valid", "tier": "bronze", "owner": None}, tmp_path / "ws"
        )
    message = str(caught.value)
    assert "name: does not match the form's pattern" in message
    assert "tier: does not match the form's enum" in message
    assert "owner" in message
    assert not (tmp_path / "ws" / "README.md").exists()
    with pytest.raises(ValuesInvalid, match="repoUrl"):
        dry_run(path, {k: v for k, v in VALUES.items() if k != "repoUrl"}, tmp_path / "ws2")


def test_an_unknown_action_is_refused_naming_the_step(tmp_path: Path) -> None:
    path = write_template(
        tmp_path, TEMPLATE.replace("action: debug:log\n      if", "action: debug:nope\n      if")
    )
    with pytest.raises(TemplateInvalid, match="step log uses the action 'debug:nope'"):
        dry_run(path, VALUES, tmp_path / "ws")


def test_an_input_the_action_does_not_take_fails_that_step_as_in_backstage(tmp_path: Path) -> None:
    # backstage/software-templates still passes allowedHosts to publish:github; Backstage
    # rejects it ("is not allowed to have the additional property").
    text = TEMPLATE.replace(
        "        topics:", "        allowedHosts: [github.com]\n        topics:"
    )
    with pytest.raises(RunFailed) as caught:
        dry_run(write_template(tmp_path, text), VALUES, tmp_path / "ws")
    assert "step publish (publish:github)" in str(caught.value)
    assert "allowedHosts" in str(caught.value)
    # Steps after a failure are skipped; the ones before ran.
    statuses = {s.id: s.status for s in caught.value.result.steps}
    assert statuses["fetch"] == "done" and statuses["publish"] == "failed"
    assert statuses["register"] == "skipped"


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "action: fs:rename\n      input:\n        files: [{from: x, to: ../../escaped.md}]",
            "leaves the workspace",
        ),
        ("action: fetch:plain\n      input:\n        url: ../../../../etc", "leaves the template"),
        (
            "action: fetch:template\n      input:\n        url: ./skeleton\n"
            "        targetPath: ../out",
            "leaves the workspace",
        ),
        (
            "action: catalog:write\n      input:\n        filePath: /tmp/x.yaml\n"
            "        entity: {}",
            "workspace",
        ),
    ],
)
def test_no_step_writes_or_reads_outside_its_place(tmp_path: Path, step: str, message: str) -> None:
    text = TEMPLATE.replace(
        "    - id: log\n      action: debug:log",
        f"    - id: evil\n      {step}\n    - id: log\n      action: debug:log",
    )
    with pytest.raises(RunFailed) as caught:
        dry_run(write_template(tmp_path, text), VALUES, tmp_path / "ws")
    assert "step evil" in str(caught.value)
    assert message in str(caught.value).lower()
    assert not (tmp_path / "escaped.md").exists() and not (tmp_path / "out").exists()


def test_a_template_the_catalog_rejects_is_not_run(tmp_path: Path) -> None:
    path = write_template(
        tmp_path, TEMPLATE.replace("  type: service\n  parameters", "  parameters")
    )
    with pytest.raises(TemplateInvalid, match=r"template.yaml:1: spec.*type"):
        load_template(path)


def test_publish_github_creates_pushes_protects_and_registers(tmp_path: Path) -> None:
    github = GitHubWrites(tmp_path / "git")
    github.start()
    try:
        client = GitHubClient(github.base, TokenAuth(github.token), max_retries=0)
        services = Services(github=client, portal_repository="acme/orders")
        result = run_template(
            load_template(write_template(tmp_path)),
            {**VALUES, "tier": "gold"},
            BUILTIN_ACTIONS,
            workspace=tmp_path / "ws",
            services=services,
        )
    finally:
        github.stop()
    repo = github.repos["acme/orders"]
    assert repo["created"]["private"] is True and repo["created"]["description"] == "orders service"
    assert repo["topics"] == ["backlot", "gold"]
    assert (
        repo["protected"]["main"]["required_pull_request_reviews"][
            "required_approving_review_count"
        ]
        == 1
    )
    # The push is real: the bare repository holds the rendered files on main.
    listed = subprocess.run(
        ["git", "-C", str(github.bare("acme/orders")), "ls-tree", "-r", "--name-only", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(listed) == [
        ".backlot-answers.yml",
        "README.md",
        "catalog-info.yaml",
        "extra/catalog-info.yaml",
    ]
    # The token went in a header only: nothing of it in the new repository's git config.
    assert github.token not in (tmp_path / "ws" / ".git" / "config").read_text()
    publish = next(s for s in result.steps if s.id == "publish")
    assert publish.output["repoContentsUrl"] == "https://github.com/acme/orders/blob/main"
    assert len(publish.output["commitHash"]) == 40
    dispatch = [c for c in github.calls if c[1] == "/repos/acme/orders/dispatches"]
    assert dispatch[0][2]["event_type"] == "catalog-changed"


def test_scaffold_run_from_the_command_line_in_dry_run(tmp_path: Path) -> None:
    path = write_template(tmp_path)
    values = tmp_path / "values.yaml"
    values.write_text(json.dumps({"name": "orders", "owner": "group:default/team-a"}))
    summary = tmp_path / "summary.md"
    result = CliRunner().invoke(
        main,
        [
            "scaffold",
            "run",
            str(path),
            "--values",
            str(values),
            "--input",
            "repoUrl=github.com?owner=acme&repo=orders",
            "--input",
            "replicas=3",
            "--dry-run",
            "-o",
            str(tmp_path / "out"),
        ],
        env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_TOKEN": ""},
    )
    assert result.exit_code == 0, result.output
    assert "README.md" in result.output and "planned  publish (publish:github)" in result.output
    assert "Repository: https://github.com/acme/orders.git" in result.output
    assert (tmp_path / "out" / "README.md").read_text().endswith("Replicas: 3\n")
    assert "Repository" in summary.read_text()
    refused = CliRunner().invoke(
        main, ["scaffold", "run", str(path), "--dry-run", "--input", "name=x"]
    )
    assert refused.exit_code == 1
    assert "owner" in refused.output and "Traceback" not in refused.output


def test_update_proposes_what_the_template_changed_and_keeps_the_repositorys_own_files(
    tmp_path: Path,
) -> None:
    github = GitHubWrites(tmp_path / "git")
    github.start()
    try:
        client = GitHubClient(github.base, TokenAuth(github.token), max_retries=0)
        path = write_template(tmp_path)
        run_template(
            load_template(path),
            VALUES,
            BUILTIN_ACTIONS,
            workspace=tmp_path / "ws",
            services=Services(github=client),
        )
        clone = tmp_path / "clone"
        git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"]
        subprocess.run(
            ["git", "clone", "-q", str(github.bare("acme/orders")), str(clone)], check=True
        )
        answers = (clone / ".backlot-answers.yml").read_text()
        assert "template: template:default/service" in answers and "name: orders" in answers
        # The repository's own work, and the template's next version.
        (clone / "NOTES.md").write_text("ours\n")
        skeleton = path.parent / "skeleton"
        (skeleton / "README.md").write_text("# ${{ values.name }}\n\nNow with a changelog.\n")
        (skeleton / "CHANGELOG.md").write_text("# ${{ values.name }} changes\n")
        env = {"GITHUB_TOKEN": github.token, "GITHUB_API_URL": github.base}

        shown = CliRunner().invoke(
            main, ["scaffold", "update", str(clone), "--template", str(path), "--dry-run"], env=env
        )
        assert shown.exit_code == 0, shown.output
        assert "1 changed, 1 new" in shown.output
        assert "+Now with a changelog." in shown.output and "+# orders changes" in shown.output
        assert "Replicas" in (clone / "README.md").read_text()  # nothing written

        opened = CliRunner().invoke(
            main,
            ["scaffold", "update", str(clone), "--template", str(path), "--pull-request"],
            env=env,
        )
        assert opened.exit_code == 0, opened.output
    finally:
        github.stop()
    (pull,) = [c for c in github.calls if c[1] == "/repos/acme/orders/pulls"]
    branch = pull[2]["head"]
    assert branch.startswith("backlot/template-update-") and pull[2]["base"] == "main"
    pushed = subprocess.run(
        [*git, "-C", str(github.bare("acme/orders")), "ls-tree", "-r", "--name-only", branch],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "CHANGELOG.md" in pushed and "NOTES.md" not in pushed
    readme = subprocess.run(
        ["git", "-C", str(github.bare("acme/orders")), "show", f"{branch}:README.md"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Now with a changelog." in readme
    assert (clone / "NOTES.md").read_text() == "ours\n"


def test_a_skeleton_named_by_a_github_url_is_read_through_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.sources import UrlReader
    from tests.github_fake import FakeGitHub

    fake = FakeGitHub()
    fake.start()
    try:
        fake.add("skeletons", {"service/README.md": "# ${{ values.name }} from afar\n"})
        monkeypatch.setenv("GITHUB_API_URL", fake.base)
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        remote = f"{fake.base}/acme/skeletons/tree/main/service"
        text = TEMPLATE.replace("        url: ./skeleton\n", f"        url: {remote}\n")
        reader = UrlReader(tmp_path / "cache")
        run_template(
            load_template(write_template(tmp_path, text)),
            VALUES,
            BUILTIN_ACTIONS,
            workspace=tmp_path / "ws",
            dry_run=True,
            services=Services(github=None, urls=reader),
        )
        reader.close()
        # Another host is refused, naming it, and nothing is fetched from it.
        other = TEMPLATE.replace(
            "        url: ./skeleton\n", "        url: http://169.254.169.254/x\n"
        )
        with pytest.raises(RunFailed, match="not a host this build reads"):
            run_template(
                load_template(write_template(tmp_path / "b", other)),
                VALUES,
                BUILTIN_ACTIONS,
                workspace=tmp_path / "ws2",
                dry_run=True,
                services=Services(github=None, urls=UrlReader(tmp_path / "cache2")),
            )
    finally:
        fake.stop()
    assert (tmp_path / "ws" / "README.md").read_text() == "# orders from afar\n"


def test_register_names_the_entity_backstage_would_name(tmp_path: Path) -> None:
    skeleton = {
        **SKELETON,
        "catalog-info.yaml": (
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: orders-api}\n---\n"
            "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
            "metadata: {name: generated-stub}\n---\n"
            "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
            "metadata: {name: ${{ values.name }}}\n"
        ),
    }
    result = run_template(
        load_template(write_template(tmp_path, skeleton=skeleton)),
        VALUES,
        BUILTIN_ACTIONS,
        workspace=tmp_path / "ws",
        dry_run=True,
        services=Services(github=None),
    )
    register = next(s for s in result.steps if s.id == "register")
    assert register.output["entityRef"] == "component:default/orders"


def test_a_notification_is_an_annotation_on_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    notify = (
        "    - id: notify\n      action: notification:send\n      input:\n"
        "        recipients: entity\n        entityRefs: ['user:default/ada']\n"
        "        title: 'Created ${{ parameters.name }}'\n        severity: high\n"
        "        info: 'token ${{ secrets.TOKEN }}, done: 100%'\n"
    )
    text = TEMPLATE.replace("  output:\n", notify + "  output:\n")
    text = text.replace(
        "    - id: publish\n      action: publish:github",
        "    - id: publish\n      if: false\n      action: publish:github",
    )
    text = text.replace(
        "    - id: register\n      action: catalog:register",
        "    - id: register\n      if: false\n      action: catalog:register",
    )
    run_template(
        load_template(write_template(tmp_path, text)),
        VALUES,
        BUILTIN_ACTIONS,
        workspace=tmp_path / "ws",
        secrets={"TOKEN": "s3cr3t-value"},
        services=Services(github=None),
    )
    printed = capsys.readouterr().out
    assert "::warning title=Created orders::token ***, done: 100%25" in printed
    assert "s3cr3t-value" not in printed and "s3cr3t-value" not in summary.read_text()
    assert "Created orders" in summary.read_text()


@pytest.mark.parametrize(
    ("discovery", "added"),
    [
        ({"type": "github", "org": "acme"}, False),
        ({"type": "github", "org": "acme", "topics": {"exclude": ["gold"]}}, True),
        ({"type": "github", "org": "other"}, True),
    ],
)
def test_register_adds_a_location_only_for_what_the_crawl_would_not_list(
    tmp_path: Path, discovery: dict[str, Any], added: bool
) -> None:
    import base64

    import yaml

    from generator.config import GitHubSource

    github = GitHubWrites(tmp_path / "git")
    github.add_repo("acme/portal")
    github.start()
    try:
        client = GitHubClient(github.base, TokenAuth(github.token), max_retries=0)
        services = Services(
            github=client,
            portal_repository="acme/portal",
            discovery=(GitHubSource.model_validate(discovery),),
        )
        run_template(
            load_template(write_template(tmp_path)),
            {**VALUES, "tier": "gold"},
            BUILTIN_ACTIONS,
            workspace=tmp_path / "ws",
            services=services,
        )
    finally:
        github.stop()
    files = github.repos["acme/portal"].get("files", {})
    if not added:
        assert "catalog-locations.yaml" not in files
        return
    content, _ = files["catalog-locations.yaml"]
    location = yaml.safe_load(base64.b64decode(content))
    assert location["kind"] == "Location"
    assert location["spec"]["targets"] == [
        "https://github.com/acme/orders/blob/main/catalog-info.yaml"
    ]


def test_parse_repo_url_knows_the_enterprise_server_the_job_runs_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from generator.scaffold._expressions import render_value

    value = "${{ 'ghe.acme.com?owner=acme&repo=orders' | parseRepoUrl | pick('repo') }}"
    # Unknown host: Backstage fails the filter, and the raw text stays.
    assert render_value(value, {}) == value
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://ghe.acme.com")
    assert render_value(value, {}) == "orders"
    slug = "${{ 'ghe.acme.com?owner=acme&repo=orders' | projectSlug }}"
    assert render_value(slug, {}) == "acme/orders"
