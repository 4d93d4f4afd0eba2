"""URLs: the ``type: url`` source, Location targets that are URLs, and techdocs-ref
``url:`` values. GitHub URLs go through the fake API (private repositories, ETags); other
URLs to a plain web server on 127.0.0.1 that answers with ETags and 304s."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import component
from .github_fake import FakeGitHub
from .local_http import LocalServer

GROUP = (
    "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\n"
    "spec:\n  type: team\n  children: []\n"
)


class WebServer(LocalServer):
    """Files by path, each with an ETag; counts requests and what they carried."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.counts: Counter[str] = Counter()
        self.authorizations: list[str] = []
        self.down = False

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        self.authorizations += [handler.headers.get("Authorization") or ""]
        content = self.files.get(handler.path)
        if self.down:  # behind a proxy that now refuses us
            status, body, etag = 403, b"forbidden", ""
        elif content is None:
            status, body, etag = 404, b"not here", ""
        else:
            etag = '"' + hashlib.sha256(content).hexdigest()[:16] + '"'
            fresh = handler.headers.get("If-None-Match") == etag
            status, body = (304, b"") if fresh else (200, content)
        self.counts[str(status)] += 1
        handler.send_response(status)
        if etag:
            handler.send_header("ETag", etag)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    github = FakeGitHub()
    github.start()
    yield github
    github.stop()


@pytest.fixture
def web() -> Iterator[WebServer]:
    server = WebServer()
    server.start()
    yield server
    server.stop()


def organisation(fake: FakeGitHub, web: WebServer) -> None:
    """A private GitHub repository with docs, one with a shared descriptor and one with a
    handbook; and on a plain web server, teams with a Location that points at both."""
    orders = component("orders").replace(
        "metadata:\n", "metadata:\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
    )
    fake.add(
        "orders",
        {
            "catalog-info.yaml": orders,
            "mkdocs.yml": "site_name: Orders\n",
            "docs/index.md": "# Orders\n\nHow orders flow.\n",
        },
    )
    fake.add("shared", {"services/billing.yaml": component("billing")})
    fake.add(
        "handbook",
        {
            "README.md": "# not docs\n",
            "site/mkdocs.yml": "site_name: Handbook\n",
            "site/docs/index.md": "# Handbook\n\nHow we work.\n",
        },
    )
    guide = component("guide").replace(
        "metadata:\n",
        "metadata:\n  annotations:\n    backstage.io/techdocs-ref: "
        f"url:{fake.base}/acme/handbook/tree/main/site\n",
    )
    location = (
        "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\n"
        "spec:\n  targets:\n    - ./more/guide.yaml\n"
        f"    - {fake.base}/acme/shared/blob/main/services/billing.yaml\n"
        # Same server, another name: a host nobody allowed (think 169.254.169.254).
        f"    - {web.base.replace('127.0.0.1', 'localhost')}/catalog/secret.yaml\n"
    )
    web.files["/catalog/secret.yaml"] = component("secret").encode()
    web.files["/catalog/teams.yaml"] = (GROUP + location).encode()
    web.files["/catalog/more/guide.yaml"] = guide.encode()


def configure(work: Path, *urls: str) -> None:
    lines = ["catalog:", "  sources:", "    - type: url", "      urls:"]
    lines += [f"        - {json.dumps(url)}" for url in urls]
    work.mkdir(parents=True, exist_ok=True)
    (work / "backlot.yaml").write_text("\n".join(lines) + "\n")


def backlot(work: Path, fake: FakeGitHub, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_TOKEN": fake.token, "GITHUB_API_URL": fake.base}
    return subprocess.run(
        [sys.executable, "-m", "generator", *args, "--config", str(work / "backlot.yaml")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def catalog(work: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((work / ".backlot" / "catalog.json").read_text())
    return data


def names(work: Path) -> set[str]:
    return {e["metadata"]["name"] for e in catalog(work)["entities"]}


def test_urls_are_read_through_the_api_or_fetched_and_warm_runs_cost_only_304s(
    fake: FakeGitHub, web: WebServer, tmp_path: Path
) -> None:
    organisation(fake, web)
    work = tmp_path / "work"
    configure(
        work,
        f"{fake.base}/acme/orders/blob/main/catalog-info.yaml",
        f"{web.base}/catalog/teams.yaml",
    )
    done = backlot(work, fake, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    assert names(work) == {"orders", "team-a", "more", "guide", "billing"}
    # Per GitHub repository its commit; for descriptors the tree and a blob each; for
    # docs a tarball (and, for a folder below the root, a query for its tree id); one
    # query for when the descriptors of both repositories last changed.
    assert fake.counts == {
        "commits": 3,
        "trees": 2,
        "blobs": 2,
        "graphql": 2,
        "tarball": 2,
        "codeload": 2,
    }, fake.counts
    assert web.counts == {"200": 2}, web.counts  # the secret was never asked for
    [refused] = [f for f in catalog(work)["findings"] if "secret.yaml" in f["message"]]
    assert "localhost is not a host this build reads" in refused["message"]
    assert (
        "How orders flow." in (work / "site/docs/default/component/orders/index.html").read_text()
    )
    assert "How we work." in (work / "site/docs/default/component/guide/index.html").read_text()
    billing = next(e for e in catalog(work)["entities"] if e["metadata"]["name"] == "billing")
    assert billing["metadata"]["annotations"]["backstage.io/managed-by-origin-location"] == (
        f"url:{web.base}/catalog/teams.yaml"
    )
    fake.counts.clear()
    web.counts.clear()
    done = backlot(work, fake, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    # Nothing changed: one conditional request per repository and per URL, all 304.
    assert fake.counts == {"commits": 3}, fake.counts
    assert web.counts == {"304": 2}, web.counts
    assert "0 built, 2 unchanged" in done.stdout
    # The token went to GitHub only.
    assert fake.token not in "".join(web.authorizations)
    assert fake.token in "".join(fake.seen_authorization)


def test_an_unreadable_url_keeps_what_was_read_and_names_what_never_was(
    fake: FakeGitHub, web: WebServer, tmp_path: Path
) -> None:
    organisation(fake, web)
    work = tmp_path / "work"
    urls = (
        f"{fake.base}/acme/orders/blob/main/catalog-info.yaml",
        f"{web.base}/catalog/teams.yaml",
    )
    configure(work, *urls)
    assert backlot(work, fake, "catalog").returncode == 0
    web.down = True
    fake.fault("commits", "401", times=100)  # the token expired
    configure(
        work,
        *urls,
        f"{fake.base}/acme/orders/blob/no-such-branch/catalog-info.yaml",
        f"{web.base}/catalog/never.yaml",
    )
    done = backlot(work, fake, "catalog")
    output = done.stdout + done.stderr
    assert names(work) == {"orders", "team-a", "more", "guide", "billing"}, output
    stale = {f["entityRef"] for f in catalog(work)["findings"] if f["rule"] == "source/stale"}
    assert stale == {
        "component:default/orders",
        "group:default/team-a",
        "location:default/more",
        "component:default/guide",
        "component:default/billing",
    }, output
    unreadable = [f for f in catalog(work)["findings"] if f["rule"] == "file/unreadable"]
    messages = " ".join(str(f["message"]) for f in unreadable)
    assert len(unreadable) == 2 and "never.yaml" in messages, unreadable
