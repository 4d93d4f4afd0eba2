"""Templates in the portal: a Templates page, and on each template's page its form, the
link to its workflow in the Actions UI, the equivalent gh command, and what was made
from it (entities carrying backstage.io/source-template)."""

from __future__ import annotations

import html
from pathlib import Path

from .conftest import GROUP_A, run_backlot, write_tree
from .test_scaffold import TEMPLATE

MADE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orders
  annotations:
    backstage.io/source-template: template:default/service
spec:
  type: service
  lifecycle: experimental
  owner: team-a
"""


def build(tmp_path: Path) -> Path:
    write_tree(
        tmp_path / "org",
        {
            "portal/catalog-info.yaml": (
                "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: templates\n"
                "spec:\n  targets: [./scaffolder-templates/service/template.yaml]\n"
            ),
            "portal/scaffolder-templates/service/template.yaml": TEMPLATE,
            "orders/catalog-info.yaml": MADE,
            "team/catalog-info.yaml": GROUP_A,
        },
    )
    (tmp_path / "backlot.yaml").write_text(
        "catalog:\n  sources:\n    - path: org\n      url_template: https://github.com/acme/{name}\n"
    )
    done = run_backlot("build", "-o", str(tmp_path / "site"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "site"


def test_the_templates_page_and_a_templates_own_page(tmp_path: Path) -> None:
    site = build(tmp_path)
    listing = html.unescape((site / "templates" / "index.html").read_text())
    assert "A service" in listing and "1 repository made from it" in listing
    run = "https://github.com/acme/portal/actions/workflows/scaffold-service.yml"
    assert f'href="{run}"' in listing

    page = html.unescape(
        (site / "catalog" / "default" / "template" / "service" / "index.html").read_text()
    )
    assert "Run this template" in page and f'href="{run}"' in page
    # The form, page by page, as the workflow's inputs and Backstage's wizard show it.
    assert "1. About" in page and "2. Where" in page
    assert "one of gold, silver" in page and '"silver"' in page
    assert "RepoUrlPicker" in page
    assert (
        "gh workflow run scaffold-service.yml -R acme/portal -f name=NAME -f owner=OWNER "
        "-f repoUrl_owner=REPOURL_OWNER -f repoUrl_repo=REPOURL_REPO"
    ) in page
    # What was made from it.
    made = page.split("Made from it", 1)[1].split("</section>", 1)[0]
    assert "orders" in made
    nav = (site / "index.html").read_text()
    assert 'href="templates/index.html"' in nav
