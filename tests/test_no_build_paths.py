"""What is published never names the build machine's folders: not the folder the build ran
in, not the folder the repositories were read from. Pages and ``catalog.json`` are served
on the company's domain, and a path such as ``/home/runner/work/...`` or
``/Users/jane/src/...`` says nothing a reader can use and something about the machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .conftest import REPO_ROOT, component, run_backlot, write_tree


def files_naming(folder: Path, *paths: Path) -> dict[str, list[str]]:
    """Every file below ``folder`` whose bytes hold one of ``paths`` (as given, and with
    symlinks resolved), with which."""
    needles = {str(p) for p in paths} | {os.path.realpath(p) for p in paths}
    found: dict[str, list[str]] = {}
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            data = file.read_bytes()
            hits = [n for n in needles if n.encode() in data]
            if hits:
                found[file.relative_to(folder).as_posix()] = hits
    return found


def test_the_bundled_example_is_published_without_build_paths(tmp_path: Path) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    done = run_backlot("build", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    site = work / "site"
    assert (site / "catalog.json").is_file() and (site / "index.html").is_file()
    assert files_naming(site, work, REPO_ROOT / "examples", REPO_ROOT) == {}
    catalog = json.loads((site / "catalog.json").read_text())
    [acme] = [e for e in catalog["entities"] if e["metadata"]["name"] == "acme"]
    annotations = acme["metadata"]["annotations"]
    # Still a Backstage location (type:target), naming the file as the portal does.
    assert annotations["backstage.io/managed-by-location"] == "file:org/groups.yaml"
    assert annotations["backstage.io/managed-by-origin-location"] == "file:org/catalog-info.yaml"


def test_a_folder_of_repositories_is_published_without_its_path(tmp_path: Path) -> None:
    """Broken files, Location targets outside the repository, docs that fail to build:
    every message names files by repository and path."""
    org = write_tree(
        tmp_path / "srv" / "repos",
        {
            "svc/catalog-info.yaml": component("svc").replace(
                "metadata:\n",
                "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:./nowhere\n",
            )
            + "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: l}\n"
            "spec: {targets: [../../outside.yaml, ./missing.yaml, ./link.yaml]}\n",
            "docs-site/catalog-info.yaml": component("docs-site").replace(
                "metadata:\n",
                "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n",
            ),
            "docs-site/mkdocs.yml": "site_name: [broken\n",
            "broken/catalog-info.yaml": "kind: [Component\n",
            "team/catalog-info.yaml": (
                "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\n"
                "spec:\n  type: team\n  children: []\n"
            ),
        },
    )
    (org / "svc" / "link.yaml").symlink_to(tmp_path / "srv" / "secret.yaml")
    work = tmp_path / "work"
    work.mkdir()
    done = run_backlot("build", org, cwd=work)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert (work / "site" / "catalog.json").is_file(), done.stdout + done.stderr
    assert files_naming(work / "site", org, work, tmp_path) == {}
