"""The CloudFront Function that maps the portal's paths onto the bucket, run in node."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from .conftest import REPO_ROOT

FUNCTION = REPO_ROOT / "deploy" / "viewer-request.js"


def viewer_request(uri: str, querystring: dict | None = None) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the CloudFront Function is JavaScript")
    code = (
        FUNCTION.read_text()
        .replace("${PortalPrefix}", "portal/")
        .replace("${DocsPrefix}", "techdocs/")
    )
    event = {"request": {"uri": uri, "querystring": querystring or {}, "headers": {}}}
    script = code + f"\nprocess.stdout.write(JSON.stringify(handler({json.dumps(event)})));"
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_folders_get_their_index_page_below_the_portals_prefix() -> None:
    assert viewer_request("/")["uri"] == "/portal/index.html"
    assert viewer_request("/catalog/default/component/x/")["uri"] == (
        "/portal/catalog/default/component/x/index.html"
    )
    assert viewer_request("/static/portal.css")["uri"] == "/portal/static/portal.css"


def test_docs_are_served_from_the_techdocs_prefix() -> None:
    assert viewer_request("/docs/default/component/x/")["uri"] == (
        "/techdocs/default/component/x/index.html"
    )
    assert viewer_request("/docs/default/component/x/assets/a.css")["uri"] == (
        "/techdocs/default/component/x/assets/a.css"
    )


def test_a_folder_without_its_slash_is_redirected_with_its_query() -> None:
    answer = viewer_request("/catalog", {"kind": {"value": "api"}})
    assert answer["statusCode"] == 301
    assert answer["headers"]["location"]["value"] == "/catalog/?kind=api"


def test_the_publish_manifest_is_not_served() -> None:
    assert viewer_request("/_backlot/publish.json")["statusCode"] == 404
