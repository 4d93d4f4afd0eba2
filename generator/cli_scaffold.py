"""``backlot scaffold …``: run a Software Template, as its generated workflow does."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import yaml

from .actions import markdown_text, write_step_summary
from .config import CONFIG_FILE, ConfigError, GitHubSource, load_config
from .github import GitHubClient, TokenAuth, api_url_from
from .scaffold import (
    ANSWERS_FILE,
    BUILTIN_ACTIONS,
    DRY_RUN,
    GENERATED,
    Drift,
    RunFailed,
    RunResult,
    ScaffoldError,
    ScaffoldTemplate,
    Services,
    apply_drift,
    find_drift,
    git_runner,
    load_template,
    open_pull_request,
    parse_github_repo_url,
    read_answers,
    render_workflow,
    run_template,
    values_from_inputs,
)
from .sources import UrlReader
from .text import counted

TEMPLATES_DIR = "scaffolder-templates"


def find_template(given: str) -> Path:
    """A template.yaml, a folder holding one, or a name under scaffolder-templates/."""
    path = Path(given)
    for candidate in (path, path / "template.yaml", Path(TEMPLATES_DIR) / given / "template.yaml"):
        if candidate.is_file():
            return candidate
    raise click.ClickException(
        f"{given}: no template here (a template.yaml, its folder, or a name in {TEMPLATES_DIR}/)"
    )


def read_values(
    template: ScaffoldTemplate, values_file: Path | None, pairs: tuple[str, ...]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if values_file is not None:
        try:
            loaded = yaml.safe_load(values_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise click.ClickException(f"{values_file}: cannot be read: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise click.ClickException(f"{values_file}: must be a mapping of parameter values")
        values.update(loaded or {})
    properties = template.properties()
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise click.ClickException(f"--input {pair!r}: expected NAME=VALUE")
        values[name] = _typed(text, properties.get(name, {}))
    return values


def _inputs_from_env(name: str) -> dict[str, Any]:
    text = os.environ.get(name)
    if not text:
        raise click.ClickException(f"--inputs-env: ${name} is not set")
    try:
        given = json.loads(text)
    except ValueError as exc:
        raise click.ClickException(f"--inputs-env: ${name} is not JSON: {exc}") from None
    if not isinstance(given, dict):
        raise click.ClickException(f"--inputs-env: ${name} is not a JSON object")
    return given


def _typed(text: str, schema: Mapping[str, Any]) -> Any:
    """``--input`` values are text; a parameter that is not a string gets YAML's reading
    (true, 3, [a, b]), as the form would have produced the typed value."""
    if schema.get("type", "string") == "string":
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def services_from_environment(portal_repository: str | None) -> Services:
    """GitHub from the environment GitHub Actions sets: GITHUB_TOKEN (in the generated
    workflows, a GitHub App token: the run's own token cannot create repositories)."""
    token = os.environ.get("GITHUB_TOKEN")
    api = api_url_from(os.environ.get("GITHUB_API_URL"))
    client = GitHubClient(api, TokenAuth(token)) if token else None
    return Services(
        github=client,
        web_url=os.environ.get("GITHUB_SERVER_URL", "https://github.com"),
        portal_repository=portal_repository or os.environ.get("GITHUB_REPOSITORY"),
        # Remote skeletons through the crawl's reader: GitHub hosts only, cached in .backlot.
        urls=UrlReader(Path(".backlot")),
        discovery=_discovery(),
    )


def _discovery() -> tuple[GitHubSource, ...]:
    """The GitHub sources of ./backlot.yaml (the portal repository's), if there is one."""
    if not Path(CONFIG_FILE).is_file():
        return ()
    try:
        config = load_config(Path(CONFIG_FILE))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return tuple(s for s in config.catalog.sources if isinstance(s, GitHubSource))


def _user() -> dict[str, Any]:
    actor = os.environ.get("GITHUB_ACTOR")
    if not actor:
        return {}
    name = actor.lower()
    return {
        "ref": f"user:default/{name}",
        "entity": {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "User",
            "metadata": {"name": name},
        },
    }


def _plain_https(url: str) -> bool:
    return url.startswith("https://") and not any(c in url for c in "<>\\ \n\r\t")


@click.group()
def scaffold() -> None:
    """Software Templates (Backstage v1beta3) without a server."""


@scaffold.command("run")
@click.argument("template_path", metavar="TEMPLATE")
@click.option(
    "--values",
    "values_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML or JSON answers",
)
@click.option("--input", "pairs", multiple=True, help="NAME=VALUE, repeatable")
@click.option(
    "--secret", "secret_names", multiple=True, help="NAME: ${{ secrets.NAME }} from $NAME"
)
@click.option("--dry-run", is_flag=True, help="render only; no repository is created")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, file_okay=False), help="the workspace (kept)"
)
@click.option("--portal-repository", help="owner/name asked to rebuild on catalog:register")
@click.option(
    "--inputs-env",
    metavar="NAME",
    help="read the answers from $NAME, the generated workflow's toJSON(inputs)",
)
def scaffold_run(
    template_path: str,
    values_file: Path | None,
    pairs: tuple[str, ...],
    inputs_env: str | None,
    secret_names: tuple[str, ...],
    dry_run: bool,
    output: Path | None,
    portal_repository: str | None,
) -> None:
    """Run TEMPLATE's steps with the given answers, checked against its form first."""
    try:
        template = load_template(find_template(template_path))
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    values = read_values(template, values_file, pairs)
    if inputs_env is not None:
        given = _inputs_from_env(inputs_env)
        dry_run = dry_run or given.get(DRY_RUN) is True
        try:
            values = {**values_from_inputs(template, given), **values}
        except ScaffoldError as exc:
            raise click.ClickException(str(exc)) from None
    secrets = {name: os.environ.get(name, "") for name in secret_names}
    missing = [name for name, value in secrets.items() if not value]
    if missing:
        raise click.ClickException(f"--secret: ${', $'.join(missing)} not set")
    if output is not None and output.exists() and any(output.iterdir()):
        raise click.ClickException(f"{output}: not empty; the workspace must start empty")
    workspace = output or Path(tempfile.mkdtemp(prefix="backlot-scaffold-"))
    click.echo(f"{'Dry run of' if dry_run else 'Running'} {template.ref.key} in {workspace}")
    services = services_from_environment(portal_repository)
    try:
        result = run_template(
            template,
            values,
            BUILTIN_ACTIONS,
            workspace=workspace,
            dry_run=dry_run,
            secrets=secrets,
            user=_user(),
            services=services,
            echo=click.echo,
        )
    except RunFailed as exc:
        _report(template, exc.result, dry_run, failed=str(exc))
        raise click.ClickException(str(exc)) from None
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.urls.close()
        if output is None and not dry_run:
            shutil.rmtree(workspace, ignore_errors=True)
    if dry_run:
        click.echo("\nFiles:")
        for path in sorted(p for p in workspace.rglob("*") if p.is_file()):
            click.echo(f"  {path.relative_to(workspace).as_posix()}")
    _report(template, result, dry_run)
    if output is None and dry_run:
        shutil.rmtree(workspace, ignore_errors=True)


def _report(template: ScaffoldTemplate, result: RunResult, dry_run: bool, failed: str = "") -> None:
    lines = [f"### {'Dry run: ' if dry_run else ''}{template.title}", ""]
    click.echo("\nSteps:")
    for step in result.steps:
        click.echo(
            f"  {step.status:8} {step.id} ({step.action})"
            + (f": {step.error}" if step.error else "")
        )
        lines.append(f"- {markdown_text(step.id)}: {step.status}")
    if failed:
        lines += ["", f"**Failed**: {markdown_text(failed)}"]
    for link in result.links:
        title = link.get("title") or link.get("url") or link.get("entityRef")
        target = link.get("url") or link.get("entityRef") or ""
        click.echo(f"{title}: {target}")
        url = str(link.get("url") or "")
        shown = markdown_text(str(title))
        lines.append(f"- [{shown}](<{url}>)" if _plain_https(url) else f"- {shown}")
    for item in result.text:
        click.echo(f"\n{item.get('title', '')}\n{item.get('content', '')}")
        # Markdown by design (Backstage renders it so); the title is plain text.
        title = markdown_text(str(item.get("title", "")))
        lines += ["", f"#### {title}", "", str(item.get("content", ""))]
    write_step_summary("\n".join(lines) + "\n")


@scaffold.command("values-schema")
@click.argument("template_path", metavar="TEMPLATE")
def scaffold_values_schema(template_path: str) -> None:
    """Print the JSON Schema of TEMPLATE's answers (for editors and for --values files)."""
    try:
        template = load_template(find_template(template_path))
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"type": "object", "properties": template.properties()}, indent=2))


@click.command()
@click.option("--check", is_flag=True, help="fail when a generated workflow is out of date")
@click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(TEMPLATES_DIR),
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".github/workflows"),
    show_default=True,
)
def workflows(check: bool, templates: Path, out: Path) -> None:
    """Write .github/workflows/scaffold-<name>.yml for each template in scaffolder-templates/:
    a "Run workflow" form with the template's parameters (docs/scaffolder.md)."""
    wanted: dict[Path, str] = {}
    problems = []
    for path in sorted(templates.glob("*/template.yaml")):
        name = path.parent.name
        try:
            template = load_template(path)
            text = render_workflow(template, path.parent.as_posix(), name)
        except ScaffoldError as exc:
            problems.append(str(exc))
            continue
        wanted[out / f"scaffold-{name}.yml"] = text
    if problems:
        raise click.ClickException("\n".join(problems))
    marker = GENERATED.split("{", 1)[0]
    stale = [
        path
        for path in sorted(out.glob("scaffold-*.yml"))
        if path not in wanted and path.read_text(encoding="utf-8").startswith(marker)
    ]
    changed = [
        path
        for path, text in wanted.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if check:
        if changed or stale:
            listed = ", ".join(str(p) for p in [*changed, *stale])
            raise click.ClickException(f"out of date: {listed}; run 'backlot workflows'")
        click.echo(f"{len(wanted)} scaffold workflows up to date")
        return
    out.mkdir(parents=True, exist_ok=True)
    for path in changed:
        path.write_text(wanted[path], encoding="utf-8")
        click.echo(f"wrote {path}")
    for path in stale:
        path.unlink()
        click.echo(f"removed {path} (its template is gone)")
    click.echo(f"{len(wanted)} scaffold workflows, {len(changed)} written, {len(stale)} removed")


@scaffold.command("update")
@click.argument(
    "repository",
    required=False,
    default=Path("."),
    type=click.Path(path_type=Path, file_okay=False),
)
@click.option("--template", "template_path", help="default: the path the answers record names")
@click.option("--dry-run", is_flag=True, help="print the difference; change nothing")
@click.option(
    "--pull-request",
    is_flag=True,
    help="commit the difference on a branch, push it and open a pull request (GITHUB_TOKEN)",
)
def scaffold_update(
    repository: Path, template_path: str | None, dry_run: bool, pull_request: bool
) -> None:
    """Re-render REPOSITORY (a checkout of a repository created from a template) with its
    recorded answers from the template as it is now, and apply or propose the difference."""
    try:
        answers = read_answers(repository)
        template = load_template(find_template(template_path or answers.path))
        services = services_from_environment(None)
        try:
            drift = find_drift(repository, template, BUILTIN_ACTIONS, services)
        finally:
            services.urls.close()
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    # The template's commit names the version; outside git, the new content does.
    content = hashlib.sha256(
        json.dumps(sorted((k, v.hex()) for k, v in drift.files.items())).encode()
    )
    version = (drift.commit or content.hexdigest())[:12]
    since = (answers.commit or "an unknown version")[:12]
    if not drift.files:
        click.echo(f"{repository}: up to date with {template.ref.key} ({version})")
        return
    click.echo(
        f"{template.ref.key} {since} → {version}: {len(drift.changed)} changed, "
        f"{len(drift.added)} new: {', '.join(sorted(drift.files))}"
    )
    if dry_run:
        click.echo(drift.diff(repository), nl=False)
        return
    try:
        written = apply_drift(repository, template, drift)
        if pull_request:
            url = _propose(repository, template, drift, services, version)
            click.echo(f"opened {url}")
        else:
            click.echo(f"wrote {counted(len(written), 'file')}; review them and commit")
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None


def _propose(
    repository: Path, template: ScaffoldTemplate, drift: Drift, services: Services, version: str
) -> str:
    client = services.github
    if client is None:
        raise ScaffoldError("--pull-request needs GITHUB_TOKEN")
    slug = next(
        (
            parse_github_repo_url(str(v), services.host).slug
            for v in drift.answers.values.values()
            if isinstance(v, str) and "?owner=" in v and "&repo=" in v
        ),
        None,
    )
    if slug is None:
        raise ScaffoldError("the answers hold no repository address (a RepoUrlPicker value)")
    git = git_runner(repository, client, (services.author_name, services.author_email))
    base = git("rev-parse", "--abbrev-ref", "HEAD")
    branch = f"backlot/template-update-{version}"
    git("checkout", "-q", "-B", branch)
    git("add", "--", ANSWERS_FILE, *sorted(drift.files))
    title = f"Update from {template.title} ({version})"
    git("commit", "-q", "-m", title)
    git("push", "-q", "--force", "origin", f"HEAD:refs/heads/{branch}")
    body = (
        f"Re-rendered from `{template.ref.key}` with this repository's recorded answers "
        f"(`{ANSWERS_FILE}`). Changed: {', '.join(sorted(drift.changed)) or 'none'}; "
        f"new: {', '.join(sorted(drift.added)) or 'none'}. Files this repository added are "
        "not touched."
    )
    created = open_pull_request(client, slug, branch, base, title, body)
    return str(created.get("html_url", ""))
