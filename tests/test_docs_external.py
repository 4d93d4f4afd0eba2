"""External mode: a repository's CI publishes its TechDocs; the portal links to them."""

from __future__ import annotations

import json
import posixpath
import re
import uuid
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .conftest import GROUP_A, S3Server, run_backlot, write_tree
from .test_docs import repo_with_docs


def new_bucket(s3: S3Server) -> str:
    name = f"docs-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=name)
    return name


def keys(s3: S3Server, bucket: str) -> dict[str, dict]:
    client = s3.client()
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: item for item in listed}


def test_docs_publish_uploads_backstages_layout_and_only_what_changed(
    tmp_path: Path, s3_server: S3Server
) -> None:
    bucket = new_bucket(s3_server)
    s3_server.client().put_object(
        Bucket=bucket, Key="techdocs/default/component/other/index.html", Body=b"x"
    )
    repo = (
        write_tree(tmp_path / "src", repo_with_docs("handbook", "site_name: Handbook\n"))
        / "handbook"
    )

    def publish() -> str:
        result = run_backlot(
            "docs",
            "publish",
            repo,
            "--bucket",
            bucket,
            "--prefix",
            "techdocs/",
            "--cache-dir",
            tmp_path / "cache",
            env=s3_server.env,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    first = publish()
    stored = keys(s3_server, bucket)
    site = "techdocs/default/component/handbook/"
    assert f"{site}index.html" in stored and f"{site}guide/index.html" in stored
    metadata = json.loads(
        s3_server.client()
        .get_object(Bucket=bucket, Key=f"{site}techdocs_metadata.json")["Body"]
        .read()
    )
    assert metadata["site_name"] == "Handbook"
    assert {f"{site}{f}" for f in metadata["files"]} == {k for k in stored if k.startswith(site)}
    head = s3_server.client().head_object(Bucket=bucket, Key=f"{site}index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert "uploaded" in first

    second = publish()
    assert "0 uploaded" in second and "0 deleted" in second

    (repo / "docs" / "guide.md").unlink()
    third = publish()
    stored = keys(s3_server, bucket)
    assert f"{site}guide/index.html" not in stored
    assert "techdocs/default/component/other/index.html" in stored  # not ours: untouched
    assert " 0 deleted" not in third


def test_the_portal_links_docs_published_by_repositories(
    tmp_path: Path, s3_server: S3Server
) -> None:
    bucket = new_bucket(s3_server)
    org = write_tree(
        tmp_path / "org",
        {"team/catalog-info.yaml": GROUP_A, **repo_with_docs("handbook", None)},
    )
    result = run_backlot(
        "docs",
        "publish",
        org / "handbook",
        "--bucket",
        bucket,
        "--cache-dir",
        tmp_path / "c1",
        env=s3_server.env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    s3_server.client().put_object(
        Bucket=bucket, Key="default/component/gone/techdocs_metadata.json", Body=b"{}"
    )
    # Whatever a repository's CI uploads: nested past any parser's recursion limit.
    s3_server.client().put_object(
        Bucket=bucket, Key="default/component/deep/techdocs_metadata.json", Body=b"[" * 200_000
    )
    config = (
        write_tree(
            tmp_path,
            {
                "backlot.yaml": f"""
                catalog:
                  sources: [{{path: org}}]
                docs:
                  builder: external
                  storage: {{bucket: {bucket}, endpoint_url: "{s3_server.endpoint}"}}
            """
            },
        )
        / "backlot.yaml"
    )
    build = run_backlot(
        "build",
        "--config",
        config,
        "-o",
        tmp_path / "site",
        "--cache-dir",
        tmp_path / "c2",
        env=s3_server.env,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert "docs: 3 sites published" in build.stdout
    assert not (tmp_path / "site" / "docs").exists()  # nothing built locally
    page = (tmp_path / "site/catalog/default/component/handbook/index.html").read_text()
    assert 'href="../../../../docs/default/component/handbook/index.html">Docs</a>' in page
    docs_page = (tmp_path / "site/documentation/index.html").read_text()
    assert "Docs without an entity" in docs_page and "default/component/gone" in docs_page


def test_docs_are_linked_only_when_published_from_the_entitys_own_repository(
    tmp_path: Path, s3_server: S3Server
) -> None:
    """In external mode any repository whose CI may publish could write a site under
    another entity's name; the portal links it only to an entity of the repository that
    published it (GitHub Actions names the publishing repository)."""
    bucket = new_bucket(s3_server)
    org = write_tree(
        tmp_path / "org",
        {
            "team/catalog-info.yaml": GROUP_A,
            **repo_with_docs("handbook", None),
            **repo_with_docs("guide", None),
        },
    )
    # An impostor repository declares the entity "guide" and publishes docs for it.
    impostor = write_tree(
        tmp_path / "elsewhere", repo_with_docs("guide", "site_name: Not the real guide\n")
    )

    def publish(repo: Path, slug: str, cache: str) -> None:
        env = {
            **s3_server.env,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": slug,
        }
        done = run_backlot(
            "docs", "publish", repo, "--bucket", bucket, "--cache-dir", tmp_path / cache, env=env
        )
        assert done.returncode == 0, done.stdout + done.stderr

    publish(org / "handbook", "Acme/handbook", "c1")
    publish(org / "guide", "acme/guide", "c2")
    publish(impostor / "guide", "acme/impostor", "c3")  # last: its site is the one stored
    metadata = json.loads(
        s3_server.client()
        .get_object(Bucket=bucket, Key="default/component/guide/techdocs_metadata.json")["Body"]
        .read()
    )
    assert metadata["backlot"]["repository"] == "https://github.com/acme/impostor"
    config = write_tree(
        tmp_path,
        {
            "backlot.yaml": f"""
            catalog:
              sources: [{{path: org, url_template: "https://github.com/acme/{{name}}"}}]
            docs:
              builder: external
              storage: {{bucket: {bucket}, endpoint_url: "{s3_server.endpoint}"}}
            """
        },
    )
    build = run_backlot(
        "build", "--config", config / "backlot.yaml", "-o", tmp_path / "site", env=s3_server.env
    )
    assert build.returncode == 0, build.stdout + build.stderr
    entity_pages = tmp_path / "site/catalog/default/component"
    handbook = (entity_pages / "handbook/index.html").read_text()
    assert 'href="../../../../docs/default/component/handbook/index.html">Docs</a>' in handbook
    guide = (entity_pages / "guide/index.html").read_text()
    assert "docs/default/component/guide/index.html" not in guide
    assert "published by https://github.com/acme/impostor" in guide
    assert "docs/other-repository" in guide


def backstage_fetches(page_key: str, href: str) -> str:
    """The object Backstage's TechDocs reader fetches when a reader follows ``href`` on the
    page stored at ``page_key``: the link is resolved against the page's address, which
    the reader writes with a trailing ``/`` unless it ends in ``.html`` (rewriteDocLinks'
    normalizeUrl), and the storage client then asks for ``<path>/index.html``
    (TechDocsStorageClient.getEntityDocs appends it to whatever path it is given)."""
    folder = posixpath.dirname(page_key) + "/"  # <prefix><ns>/<kind>/<name>/<page>/
    path = urlsplit(urljoin("https://backstage.example/docs/" + folder, href)).path
    path = path.removeprefix("/docs/")
    return f"{path if path.endswith('/') else path + '/'}index.html"


def test_published_docs_are_in_the_form_backstages_reader_reads(
    tmp_path: Path, s3_server: S3Server
) -> None:
    """Docs a repository publishes are for Backstage's reader too: no portal header (that
    reader removes .md-header, but the sites must not depend on it) and links that reader
    can follow. It fetches ``<link>/index.html`` for every link, so the portal's own form
    (``guide/index.html``, which works from disk) would be ``guide/index.html/index.html``
    there: published docs keep MkDocs' folder links."""
    bucket = new_bucket(s3_server)
    extra = {
        "docs/index.md": "# Home\n\n[Guide](guide.md) and [ops](ops/index.md).\n",
        "docs/ops/index.md": "# Ops\n\n[Home](../index.md), [guide](../guide.md#guide).\n",
    }
    repo = write_tree(tmp_path / "src", repo_with_docs("handbook", None, extra)) / "handbook"
    result = run_backlot(
        "docs",
        "publish",
        repo,
        "--bucket",
        bucket,
        "--cache-dir",
        tmp_path / "cache",
        env=s3_server.env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stored = keys(s3_server, bucket)
    checked = 0
    for key in (
        "default/component/handbook/index.html",
        "default/component/handbook/ops/index.html",
    ):
        page = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        assert "backlot-sections" not in page and "About this build" not in page
        assert 'data-md-component="palette"' not in page  # Backstage's own colours
        for href in re.findall(r'<a\s[^>]*?href="([^"#][^"]*)"', page):
            if urlsplit(href).scheme:
                continue
            assert not href.endswith("index.html"), (key, href)
            fetched = backstage_fetches(key, href)
            assert fetched in stored, (key, href, fetched)
            checked += 1
    assert checked >= 8
    assert backstage_fetches("default/component/handbook/index.html", "guide/index.html") == (
        "default/component/handbook/guide/index.html/index.html"
    )
