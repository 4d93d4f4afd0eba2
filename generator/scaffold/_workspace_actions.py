"""The actions that only read the template's files and write the workspace: fetch:*,
fs:rename, fs:delete, debug:log. Safe in a dry run, so they run in one."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from ..sources import HttpRepository, RepositoryError
from ..text import counted
from ._actions import BOOLEAN, OBJECT, STRING, STRINGS, Action, ActionContext, schema
from ._errors import OutsideWorkspace, ScaffoldError
from ._skeleton import copy_plain, inside, render_file, render_skeleton


def template_root(folder: Path) -> Path:
    """How far a relative ``url`` may reach: the repository holding the template (its
    nearest folder with ``.git``), else the template's own folder."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def fetch_source(context: ActionContext, url: str) -> Path:
    """A fetch action's ``url``: relative to the template and inside its repository, or a
    GitHub blob/tree URL, read through the crawl's URL reader (GitHub hosts only)."""
    if urlsplit(url).scheme:
        return _remote_source(context, url)
    folder = context.template.folder.resolve()
    root = template_root(folder)
    source = (folder / url).resolve()
    if source != root and root not in source.parents:
        raise OutsideWorkspace(f"url {url!r} leaves the template's repository ({root})")
    if not source.exists():
        raise ScaffoldError(f"url {url!r}: {source} does not exist")
    return source


def _remote_source(context: ActionContext, url: str) -> Path:
    reader = getattr(context.services, "urls", None)
    if reader is None:
        raise ScaffoldError(f"url {url!r}: remote skeletons are not read in this run")
    try:
        repository, path = reader.open(url)
        if isinstance(repository, HttpRepository):
            raise ScaffoldError(f"url {url!r}: only GitHub blob and tree URLs are read")
        local: Path = repository.resolve(path)
    except RepositoryError as exc:
        raise ScaffoldError(f"url {url!r}: {exc}") from None
    if not local.exists():
        raise ScaffoldError(f"url {url!r}: not found in {repository.name}")
    return local


def _target(context: ActionContext, default: str = "./") -> Path:
    target = context.input.get("targetPath", default)
    return inside(context.workspace, str(target))


def _fetch_template(context: ActionContext) -> None:
    given = context.input
    source = fetch_source(context, str(given["url"]))
    if not source.is_dir():
        raise ScaffoldError(f"url {given['url']!r} is not a folder (fetch:template:file is)")
    written = render_skeleton(
        source,
        _target(context),
        given.get("values", {}),
        copy_without_templating=given.get("copyWithoutTemplating", ()),
        template_file_extension=given.get("templateFileExtension", False),
        cookiecutter_compat=bool(given.get("cookiecutterCompat", False)),
        replace=bool(given.get("replace", False)),
        trim_blocks=bool(given.get("trimBlocks", False)),
        lstrip_blocks=bool(given.get("lstripBlocks", False)),
    )
    context.log(f"rendered {counted(len(written), 'file')} from {given['url']}")


def _fetch_template_file(context: ActionContext) -> None:
    given = context.input
    source = fetch_source(context, str(given["url"]))
    if not source.is_file():
        raise ScaffoldError(f"url {given['url']!r} is not a file")
    render_file(
        source,
        inside(context.workspace, str(given["targetPath"])),
        given.get("values", {}),
        cookiecutter_compat=bool(given.get("cookiecutterCompat", False)),
        replace=bool(given.get("replace", False)),
        trim_blocks=bool(given.get("trimBlocks", False)),
        lstrip_blocks=bool(given.get("lstripBlocks", False)),
    )


def _fetch_plain(context: ActionContext) -> None:
    source = fetch_source(context, str(context.input["url"]))
    if not source.is_dir():
        raise ScaffoldError(f"url {context.input['url']!r} is not a folder")
    copy_plain(source, _target(context), replace=True)


def _fetch_plain_file(context: ActionContext) -> None:
    source = fetch_source(context, str(context.input["url"]))
    if not source.is_file() or source.is_symlink():
        raise ScaffoldError(f"url {context.input['url']!r} is not a regular file")
    target = inside(context.workspace, str(context.input["targetPath"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _rename(context: ActionContext) -> None:
    for entry in context.input["files"]:
        source = inside(context.workspace, entry["from"])
        target = inside(context.workspace, entry["to"])
        if not source.exists() and not source.is_symlink():
            raise ScaffoldError(f"fs:rename: {entry['from']} does not exist")
        if target.exists() and not entry.get("overwrite", False):
            raise ScaffoldError(f"fs:rename: {entry['to']} exists (overwrite: true replaces it)")
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)


def _delete(context: ActionContext) -> None:
    workspace = context.workspace.resolve()
    for pattern in context.input["files"]:
        inside(context.workspace, pattern)  # refuses ../ and absolute patterns
        for path in sorted(_matches(workspace, pattern), reverse=True):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


def _matches(workspace: Path, pattern: str) -> list[Path]:
    found = []
    for path in workspace.rglob("*"):
        relative = path.relative_to(workspace).as_posix()
        if fnmatch.fnmatchcase(relative, pattern.removeprefix("./")):
            found.append(path)
    return found


def _debug_log(context: ActionContext) -> None:
    message = context.input.get("message")
    if message is not None:
        context.log(str(message))
    listing = context.input.get("listWorkspace")
    if listing:
        workspace = context.workspace
        for path in sorted(workspace.rglob("*")):
            if path.is_file():
                line = path.relative_to(workspace).as_posix()
                if listing == "with-contents":
                    line += ":\n" + path.read_text(encoding="utf-8", errors="replace")
                context.log(line)


_VALUES = {
    "url": STRING,
    "targetPath": STRING,
    "values": OBJECT,
    "replace": BOOLEAN,
    "trimBlocks": BOOLEAN,
    "lstripBlocks": BOOLEAN,
    "cookiecutterCompat": BOOLEAN,
    "token": STRING,
}

WORKSPACE_ACTIONS = [
    Action(
        "fetch:template",
        "Render a skeleton folder into the workspace",
        schema(
            {
                **_VALUES,
                "copyWithoutTemplating": STRINGS,
                # Removed in Backstage 2.0 and ignored by its handler, yet still declared.
                "copyWithoutRender": STRINGS,
                "templateFileExtension": {"type": ["boolean", "string"]},
            },
            ("url",),
        ),
        _fetch_template,
    ),
    Action(
        "fetch:template:file",
        "Render one file into the workspace",
        schema(_VALUES, ("url", "targetPath")),
        _fetch_template_file,
    ),
    Action(
        "fetch:plain",
        "Copy a folder into the workspace as it is",
        schema({"url": STRING, "targetPath": STRING, "token": STRING}, ("url",)),
        _fetch_plain,
    ),
    Action(
        "fetch:plain:file",
        "Copy one file into the workspace as it is",
        schema({"url": STRING, "targetPath": STRING, "token": STRING}, ("url", "targetPath")),
        _fetch_plain_file,
    ),
    Action(
        "fs:rename",
        "Rename files in the workspace",
        schema(
            {
                "files": {
                    "type": "array",
                    "items": schema(
                        {"from": STRING, "to": STRING, "overwrite": BOOLEAN}, ("from", "to")
                    ),
                }
            },
            ("files",),
        ),
        _rename,
    ),
    Action(
        "fs:delete",
        "Delete files in the workspace (globs)",
        schema({"files": STRINGS}, ("files",)),
        _delete,
    ),
    Action(
        "debug:log",
        "Write a message, and optionally the workspace's files, to the log",
        schema(
            {
                "message": STRING,
                "listWorkspace": {
                    "anyOf": [BOOLEAN, {"enum": ["with-filenames", "with-contents"]}]
                },
            }
        ),
        _debug_log,
    ),
]
