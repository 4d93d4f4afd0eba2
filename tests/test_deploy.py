"""deploy/: the CloudFormation template (cfn-lint, and what it must say), and the CloudFront
Function that maps the portal's paths onto the bucket, run in node."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.csp import content_security_policy

from .conftest import REPO_ROOT, run_backlot

FUNCTION = REPO_ROOT / "deploy" / "viewer-request.js"
TEMPLATE = REPO_ROOT / "deploy" / "portal.yaml"
EDGE_TEMPLATE = REPO_ROOT / "deploy" / "edge-auth.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Sub, !Ref, …) read as {"Fn::Sub": …}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CloudFormationLoader)


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("cfn-lint")
    return subprocess.run([str(tool), str(path)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("path", [TEMPLATE, EDGE_TEMPLATE], ids=lambda p: p.name)
def test_the_templates_pass_cfn_lint(path: Path) -> None:
    done = cfn_lint(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "portal.yaml"
    broken.write_text(
        TEMPLATE.read_text().replace("OriginAccessControlId:", "OriginAccessControlIdd:")
    )
    done = cfn_lint(broken)
    assert done.returncode != 0 and "OriginAccessControlIdd" in done.stdout


def test_the_distribution_runs_the_function_as_it_is_in_deploy() -> None:
    code = template()["Resources"]["ViewerRequestFunction"]["Properties"]["FunctionCode"]
    assert code["Fn::Sub"] == FUNCTION.read_text()


def test_the_header_policy_is_the_one_the_pages_carry() -> None:
    parameters = template()["Parameters"]
    assert parameters["ContentSecurityPolicy"]["Default"] == content_security_policy(header=True)
    headers = template()["Resources"]["SecurityHeaders"]["Properties"]
    security = headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["ContentSecurityPolicy"]["ContentSecurityPolicy"] == {
        "Ref": "ContentSecurityPolicy"
    }
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"]["Override"] is True


def test_the_bucket_is_private_and_read_only_by_this_distribution() -> None:
    resources = template()["Resources"]
    bucket = resources["PortalBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert resources["PortalBucket"]["DeletionPolicy"] == "Retain"
    statements = resources["PortalBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    for statement in statements:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
            source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
            assert source.endswith(":distribution/${Distribution}")
            assert statement["Action"] in ("s3:GetObject", "s3:ListBucket")


def test_the_publish_role_reaches_only_this_bucket_and_distribution_from_one_ref() -> None:
    role = template()["Resources"]["PublishRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    condition = trust["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert condition["token.actions.githubusercontent.com:sub"] == {
        "Fn::Sub": "repo:${GitHubRepository}:ref:${GitHubRef}"
    }
    (policy,) = role["Policies"]
    for statement in policy["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions)
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        for resource in resources:
            text = json.dumps(resource)
            assert "PortalBucket" in text or ":distribution/${Distribution}" in text, text


def test_the_sign_in_function_is_a_lambda_at_edge_viewer_function() -> None:
    edge = template(EDGE_TEMPLATE)
    function = edge["Resources"]["EdgeAuthFunction"]["Properties"]
    # Lambda@Edge's viewer-request limits, the bundle's entry point, no environment.
    assert function["MemorySize"] <= 128 and function["Timeout"] <= 5
    assert function["Handler"] == "index.handler"
    assert "exports.handler = " in (REPO_ROOT / "deploy" / "edge-auth" / "index.js").read_text()
    assert "Environment" not in function
    principals = edge["Resources"]["EdgeAuthRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert principals["Statement"][0]["Principal"]["Service"] == [
        "lambda.amazonaws.com",
        "edgelambda.amazonaws.com",
    ]
    # Its only permission: its own logs.
    (policy,) = edge["Resources"]["EdgeAuthRole"]["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert all(action.startswith("logs:") for action in statement["Action"])
    # A version, as the portal stack's EdgeAuthFunctionArn requires (never $LATEST).
    assert edge["Outputs"]["FunctionVersionArn"]["Value"] == {"Ref": "EdgeAuthVersion"}
    distribution = template()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    association = distribution["DefaultCacheBehavior"]["LambdaFunctionAssociations"]["Fn::If"]
    assert association[1] == [
        {"EventType": "viewer-request", "LambdaFunctionARN": {"Ref": "EdgeAuthFunctionArn"}}
    ]


def test_missing_pages_get_the_portals_own_not_found_page() -> None:
    distribution = template()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    pages = {e["ErrorCode"]: e for e in distribution["CustomErrorResponses"]}
    assert pages[404]["ResponseCode"] == pages[403]["ResponseCode"] == 404
    # Fetched without the viewer function, so the path is the object's own key.
    assert pages[404]["ResponsePagePath"] == {"Fn::Sub": "/${PortalPrefix}404.html"}


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


def test_deploy_csp_prints_the_header_for_this_portals_settings(tmp_path: Path) -> None:
    plain = run_backlot("deploy", "csp", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == template()["Parameters"]["ContentSecurityPolicy"]["Default"]
    (tmp_path / "backlot.yaml").write_text("security:\n  allowed_hosts: [img.shields.io]\n")
    widened = run_backlot("deploy", "csp", cwd=tmp_path)
    assert widened.returncode == 0, widened.stderr
    assert "img-src 'self' data: https://img.shields.io;" in widened.stdout
