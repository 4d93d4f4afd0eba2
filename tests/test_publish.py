"""`backlot publish` against moto's S3 (and CloudFront) server over real HTTP, through a
proxy that counts requests and injects throttling and kills: what is uploaded, deleted and
invalidated, the headers of every file, the guards, and a site that stays whole when a
publish is killed anywhere."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from .conftest import EXAMPLES, GROUP_A, S3Server, component, run_backlot, write_tree
from .s3_proxy import S3Proxy
from .test_docs import repo_with_docs

MANIFEST = "_backlot/publish.json"


@pytest.fixture(scope="module")
def proxy(s3_server: S3Server) -> Iterator[S3Proxy]:
    server = S3Proxy(s3_server.endpoint)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env(proxy: S3Proxy, s3_server: S3Server) -> dict[str, str]:
    proxy.reset()
    return {**s3_server.env, "AWS_ENDPOINT_URL": proxy.base}


def new_bucket(s3: S3Server) -> str:
    name = f"portal-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=name)
    return name


def objects(s3: S3Server, bucket: str) -> dict[str, str]:
    """Every key in the bucket → the sha256 of its body."""
    client = s3.client()
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"]] = hashlib.sha256(body).hexdigest()
    return found


def site_files(site: Path, prefix: str = "") -> dict[str, str]:
    return {
        prefix + p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in site.rglob("*")
        if p.is_file()
    }


def build(org: Path, out: Path, cache: Path) -> None:
    done = run_backlot("build", org, "-o", out, "--cache-dir", cache)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert (out / "build.json").is_file(), done.stdout + done.stderr


def publish(site: Path, bucket: str, env: dict[str, str], *extra: str | Path) -> Any:
    return run_backlot(
        "publish",
        site,
        "--bucket",
        bucket,
        "--prefix",
        "portal/",
        "--cache-dir",
        site.parent / "publish-cache",
        *extra,
        env=env,
    )


def small_org(root: Path, names: list[str], docs: tuple[str, ...] = (), note: str = "") -> Path:
    files: dict[str, str | bytes] = {"team/catalog-info.yaml": GROUP_A}
    for name in names:
        if name in docs:
            for path, text in repo_with_docs(name, f"site_name: {name}\n").items():
                files[path] = text
        else:
            files[f"{name}/catalog-info.yaml"] = component(name, description=f"{name}{note}")
    return write_tree(root, files)


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example, built once: portal pages, docs sites, every kind of file."""
    root = tmp_path_factory.mktemp("example")
    build(EXAMPLES, root / "site", root / "cache")
    return root / "site"


# ------------------------------------------------------------------ what is uploaded


EXPECTED_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "map": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "gz": "application/gzip",
    "png": "image/png",
    "svg": "image/svg+xml",  # README badges
    # API definitions offered for download: text, never run as a page
    "yaml": "text/plain; charset=utf-8",
    "graphql": "text/plain; charset=utf-8",
    "proto": "text/plain; charset=utf-8",
    # Pagefind's index: binary fragments its script fetches
    "pf_meta": "application/octet-stream",
    "pf_filter": "application/octet-stream",
    "pf_fragment": "application/octet-stream",
    "pf_index": "application/octet-stream",
    "pagefind": "application/octet-stream",
}


def test_first_publish_uploads_the_site_with_its_headers_then_one_request_is_all(
    example_site: Path, s3_server: S3Server, proxy: S3Proxy, env: dict[str, str]
) -> None:
    bucket = new_bucket(s3_server)
    first = publish(example_site, bucket, env)
    assert first.returncode == 0, first.stdout + first.stderr
    local = site_files(example_site, "portal/")
    stored = objects(s3_server, bucket)
    assert {k: v for k, v in stored.items() if not k.endswith(MANIFEST)} == local
    assert f"{len(local)} uploaded" in first.stdout

    client = s3_server.client()
    seen_types = set()
    for key in local:
        extension = key.rsplit(".", 1)[-1]
        head = client.head_object(Bucket=bucket, Key=key)
        assert head["ContentType"] == EXPECTED_TYPES[extension], key
        seen_types.add(extension)
        hashed = re.search(r"/assets/(javascripts|stylesheets)/.*\.[0-9a-f]{8}\.min\.", key) or (
            re.search(r"/pagefind/.*[._][0-9a-f]{7,}\.[a-z_]+$", key)  # Pagefind's hashed files
        )
        badge = key.startswith("portal/badges/")  # cached briefly, for READMEs
        expected = "immutable" if hashed else "max-age=300" if badge else "must-revalidate"
        assert expected in head["CacheControl"], key
    assert seen_types == set(EXPECTED_TYPES)  # the example holds every kind listed
    portal_css = client.head_object(Bucket=bucket, Key="portal/static/portal.css")
    assert "max-age=0" in portal_css["CacheControl"]  # not hashed: revalidated

    # Re-published after a rebuild that changed nothing, every file's mtime newer:
    for path in example_site.rglob("*"):
        os.utime(path)
    proxy.reset()
    again = publish(example_site, bucket, env)
    assert again.returncode == 0, again.stderr
    assert [(s.method, s.path) for s in proxy.requests()] == [
        ("GET", f"/{bucket}/portal/{MANIFEST}")
    ]
    assert "0 uploaded" in again.stdout and "0 deleted" in again.stdout


def test_a_rebuild_uploads_exactly_the_files_whose_bytes_changed_and_deletes_the_gone(
    tmp_path: Path, s3_server: S3Server, proxy: S3Proxy, env: dict[str, str]
) -> None:
    names = [f"svc-{i:02d}" for i in range(12)]
    org = small_org(tmp_path / "org", names)
    site, cache = tmp_path / "site", tmp_path / "cache"
    build(org, site, cache)
    bucket = new_bucket(s3_server)
    s3_server.client().put_object(Bucket=bucket, Key="portal/not-ours.txt", Body=b"keep me")
    s3_server.client().put_object(Bucket=bucket, Key="elsewhere/index.html", Body=b"keep")
    assert publish(site, bucket, env).returncode == 0
    before = site_files(site, "portal/")

    (org / "svc-03" / "catalog-info.yaml").write_text(
        component("svc-03", description="now with a new description")
    )
    for gone in ("svc-10", "svc-11"):
        for path in sorted((org / gone).rglob("*"), reverse=True):
            path.unlink()
        (org / gone).rmdir()
    build(org, site, cache)
    after = site_files(site, "portal/")
    changed = {k for k, v in after.items() if before.get(k) != v}
    gone_keys = set(before) - set(after)
    assert changed and gone_keys

    proxy.reset()
    done = publish(site, bucket, env)
    assert done.returncode == 0, done.stdout + done.stderr
    puts = {s.path.split("/", 2)[2] for s in proxy.requests("PUT")}
    assert puts - {f"portal/{MANIFEST}"} == {unquote(k) for k in changed}
    deletes = [s for s in proxy.requests("POST") if "delete" in s.query]
    assert len(deletes) == 1  # one batch
    stored = objects(s3_server, bucket)
    assert not (gone_keys & set(stored))
    assert stored["portal/not-ours.txt"] and stored["elsewhere/index.html"]  # untouched
    assert {k: v for k, v in stored.items() if k in after} == after


def test_dry_run_prints_the_plan_and_writes_nothing(
    tmp_path: Path, s3_server: S3Server, proxy: S3Proxy, env: dict[str, str]
) -> None:
    org = small_org(tmp_path / "org", ["alpha", "beta"])
    build(org, tmp_path / "site", tmp_path / "cache")
    bucket = new_bucket(s3_server)
    summary = tmp_path / "summary.md"
    done = publish(
        tmp_path / "site", bucket, {**env, "GITHUB_STEP_SUMMARY": str(summary)}, "--dry-run"
    )
    assert done.returncode == 0, done.stderr
    assert "+ portal/index.html" in done.stdout and "nothing was written" in done.stdout
    assert {s.method for s in proxy.requests()} == {"GET"}
    assert objects(s3_server, bucket) == {}
    assert not summary.exists()  # a dry run publishes nothing to summarise

    published = publish(tmp_path / "site", bucket, {**env, "GITHUB_STEP_SUMMARY": str(summary)})
    assert published.returncode == 0, published.stderr
    assert "### Publish" in summary.read_text() and "uploaded" in summary.read_text()


# ------------------------------------------------------------------ guards


def test_guards_refuse_a_publish_that_would_wipe_the_portal_unless_forced(
    tmp_path: Path, s3_server: S3Server, env: dict[str, str]
) -> None:
    names = [f"svc-{i:02d}" for i in range(30)]
    org = small_org(tmp_path / "org", names)
    site, cache = tmp_path / "site", tmp_path / "cache"
    build(org, site, cache)
    bucket = new_bucket(s3_server)
    assert publish(site, bucket, env).returncode == 0
    published = objects(s3_server, bucket)

    # A crawl that found only a handful of repositories.
    shrunk = small_org(tmp_path / "shrunk", names[:4])
    build(shrunk, site, cache)
    refused = publish(site, bucket, env)
    assert refused.returncode == 1
    assert "max_delete_share" in refused.stderr and "max_entity_loss_share" in refused.stderr
    assert "--force" in refused.stderr
    assert objects(s3_server, bucket) == published  # not one object changed

    forced = publish(site, bucket, env, "--force")
    assert forced.returncode == 0, forced.stderr
    assert set(objects(s3_server, bucket)) - {f"portal/{MANIFEST}"} == set(
        site_files(site, "portal/")
    )


def test_publish_refuses_a_folder_that_is_not_a_built_portal(
    tmp_path: Path, s3_server: S3Server, env: dict[str, str]
) -> None:
    folder = write_tree(tmp_path / "site", {"index.html": "<p>hi</p>"})
    bucket = new_bucket(s3_server)
    done = publish(folder, bucket, env)
    assert done.returncode == 1 and "backlot build" in done.stderr
    assert objects(s3_server, bucket) == {}


# ------------------------------------------------------------------ faults


def test_throttling_is_retried_and_the_publish_completes(
    tmp_path: Path, s3_server: S3Server, proxy: S3Proxy, env: dict[str, str]
) -> None:
    org = small_org(tmp_path / "org", [f"svc-{i}" for i in range(6)])
    build(org, tmp_path / "site", tmp_path / "cache")
    bucket = new_bucket(s3_server)
    refused: set[str] = set()

    def slow_down(method: str, path: str, query: str) -> bool:
        # Every other object is refused once with 503 SlowDown, the manifest included.
        if method != "PUT" or path in refused or hash(path) % 2:
            return False
        refused.add(path)
        return True

    proxy.throttle = slow_down
    done = publish(tmp_path / "site", bucket, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert proxy.throttled >= 3
    stored = objects(s3_server, bucket)
    assert {k: v for k, v in stored.items() if k != f"portal/{MANIFEST}"} == site_files(
        tmp_path / "site", "portal/"
    )


_ASSET = re.compile(
    r'<(?:link(?=[^>]*rel="(?:stylesheet|icon)")[^>]+href|script[^>]+src|img[^>]+src)="([^"#?]+)'
)


def broken_assets(s3: S3Server, bucket: str) -> list[str]:
    """Every stylesheet, script and image a published page names that is not in the
    bucket: what a reader of the site at this moment would miss."""
    client = s3.client()
    stored = set(objects(s3, bucket))
    missing = []
    for key in sorted(k for k in stored if k.endswith(".html")):
        page = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        folder = key.rsplit("/", 1)[0].split("/")
        for ref in _ASSET.findall(page):
            if re.match(r"[a-z]+:", ref) or ref.startswith("/"):
                continue
            parts = list(folder)
            for part in ref.split("/"):
                if part == "..":
                    parts.pop()
                elif part not in ("", "."):
                    parts.append(part)
            if "/".join(parts) not in stored:
                missing.append(f"{key} → {ref}")
    return missing


KILL_POINTS = {
    "during the assets": lambda n: lambda m, p, q: m == "PUT" and ".js" in p and next(n) == 2,
    "during the pages": lambda n: lambda m, p, q: m == "PUT" and ".html" in p and next(n) == 3,
    "before the deletes": lambda n: lambda m, p, q: m == "POST" and "delete" in q,
}


@pytest.mark.parametrize("moment", sorted(KILL_POINTS))
def test_a_publish_killed_anywhere_leaves_a_whole_site_and_the_next_completes_it(
    moment: str, tmp_path: Path, s3_server: S3Server, proxy: S3Proxy, env: dict[str, str]
) -> None:
    names = ["alpha", "beta", "gamma", "delta"]
    org = small_org(tmp_path / "org", names, docs=("alpha",))
    site, cache = tmp_path / "site", tmp_path / "cache"
    build(org, site, cache)
    bucket = new_bucket(s3_server)
    assert publish(site, bucket, env).returncode == 0

    # The next build: a new docs site (new assets), a change, a repository gone.
    org = small_org(tmp_path / "org2", ["alpha", "beta", "gamma", "omega"], docs=("alpha", "omega"))
    build(org, site, cache)

    proxy.reset()
    proxy.kill_when = KILL_POINTS[moment](itertools.count())
    killed = subprocess.Popen(
        [
            *(sys.executable, "-m", "generator", "publish", site, "--bucket", bucket),
            *("--prefix", "portal/", "--cache-dir", str(tmp_path / "publish-cache")),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy.victim = killed.pid
    assert killed.wait(timeout=120) == -9, "the publish was not killed"
    assert broken_assets(s3_server, bucket) == []

    proxy.reset()
    resumed = publish(site, bucket, env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    stored = objects(s3_server, bucket)
    assert {k: v for k, v in stored.items() if k != f"portal/{MANIFEST}"} == site_files(
        site, "portal/"
    )  # everything there, nothing left over
    assert broken_assets(s3_server, bucket) == []


# ------------------------------------------------------------------ CloudFront


def covers(path: str, items: list[str]) -> bool:
    return any(i == path or (i.endswith("*") and path.startswith(i[:-1])) for i in items)


def test_invalidation_paths_stay_within_cloudfronts_limits_and_cover_every_change() -> None:
    from generator.publish import collapse_paths

    rng = __import__("random").Random(7)
    for _ in range(200):
        paths = {
            "/" + "/".join(f"d{rng.randrange(4)}" for _ in range(rng.randrange(1, 4))) + "/p.html"
            for _ in range(rng.randrange(1, 60))
        }
        max_paths, max_wildcards = rng.randrange(1, 20), rng.randrange(0, 6)
        got = collapse_paths(paths, max_paths, max_wildcards)
        if got is None:
            assert max_wildcards == 0 and len(paths) > max_paths
            continue
        assert all(covers(p, got) for p in paths)
        assert len(got) <= max_paths
        assert sum(1 for p in got if p.endswith("*")) <= max_wildcards
    # A page and its folder: one wildcard; the root never wildcarded when not needed.
    assert collapse_paths(["/c/x/", "/c/x/index.html", "/index.html", "/"]) == [
        "/",
        "/c/x/*",
        "/index.html",
    ]


def test_a_change_invalidates_only_the_changed_pages_in_cloudfront(
    tmp_path: Path, s3_server: S3Server, env: dict[str, str]
) -> None:
    import boto3

    cloudfront = boto3.client(
        "cloudfront",
        endpoint_url=s3_server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = new_bucket(s3_server)
    origin = f"{bucket}.s3.amazonaws.com"
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": uuid.uuid4().hex,
            "Comment": "portal",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "s3",
                        "DomainName": origin,
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "s3",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )["Distribution"]["Id"]
    org = small_org(tmp_path / "org", [f"svc-{i}" for i in range(5)])
    site, cache = tmp_path / "site", tmp_path / "cache"
    build(org, site, cache)
    assert publish(site, bucket, env, "--distribution-id", distribution).returncode == 0
    listed = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    assert listed.get("Quantity", 0) == 0  # a first publish: nothing was cached

    before = site_files(site)
    (org / "svc-2" / "catalog-info.yaml").write_text(component("svc-2", description="new"))
    build(org, site, cache)
    # Files that existed and changed: a new file (a search index fragment) was never cached.
    changed = sorted(k for k, v in site_files(site).items() if k in before and before[k] != v)
    done = publish(site, bucket, env, "--distribution-id", distribution)
    assert done.returncode == 0, done.stdout + done.stderr
    items = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    assert items["Quantity"] == 1
    paths = cloudfront.get_invalidation(DistributionId=distribution, Id=items["Items"][0]["Id"])[
        "Invalidation"
    ]["InvalidationBatch"]["Paths"]["Items"]
    assert all(covers("/" + k, paths) for k in changed)
    assert "/*" not in paths and len(paths) <= len(changed) + 1
    assert "/catalog/default/component/svc-2/*" in paths or "/catalog/default/component/*" in paths
