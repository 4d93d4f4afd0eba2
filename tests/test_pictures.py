"""Group and User pictures: copied at build time from allowed https hosts or data URIs,
served by the portal, cached by URL; Group pages show the hierarchy and member cards."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.model import picture_file
from generator.publish._files import PICTURE, local_files
from generator.site._pictures import PLACEHOLDER, picture_refusal
from tests.conftest import run_backlot, write_tree
from tests.picture_host import GIF, SVG, Answer, PictureHost, png

RED = png((200, 30, 30))
BLUE = png((30, 30, 200))
HUGE = b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024 + 10)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[PictureHost]:
    server = PictureHost()
    server.start_tls(tmp_path / "tls")
    yield server
    server.stop()


def user(name: str, picture: str | None, group: str = "leaf") -> str:
    profile = {"displayName": name.title(), "email": f"{name}@acme.example"}
    if picture is not None:
        profile["picture"] = picture
    return json.dumps(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "User",
            "metadata": {"name": name},
            "spec": {"profile": profile, "memberOf": [group]},
        }
    )


def group(name: str, parent: str | None, display: str | None = None) -> str:
    spec: dict[str, object] = {"type": "team", "children": []}
    if parent:
        spec["parent"] = parent
    if display:
        spec["profile"] = {"displayName": display}
    return json.dumps(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


def data_uri(kind: str, data: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


class Portal:
    def __init__(self, tmp_path: Path, host: PictureHost) -> None:
        self.root, self.host = tmp_path, host
        self.site, self.cache = tmp_path / "site", tmp_path / "cache"
        (tmp_path / "backlot.yaml").write_text(
            f"site:\n  picture_hosts: [{host.netloc}]\n", encoding="utf-8"
        )

    def write(self, documents: list[str]) -> None:
        write_tree(self.root / "org", {"people/catalog-info.yaml": "\n---\n".join(documents)})

    def build(self) -> str:
        assert self.host.cert_file is not None
        result = run_backlot(
            "build",
            self.root / "org",
            "-o",
            self.site,
            "--cache-dir",
            self.cache,
            "--config",
            self.root / "backlot.yaml",
            env={"SSL_CERT_FILE": str(self.host.cert_file), "SOURCE_DATE_EPOCH": "1800000000"},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    def page(self, kind: str, name: str) -> str:
        return (self.site / f"catalog/default/{kind}/{name}/index.html").read_text()

    def picture(self, url: str) -> bytes:
        return (self.site / picture_file(url)).read_bytes()


def test_refused_addresses_are_never_fetched() -> None:
    hosts = ["avatars.githubusercontent.com", "127.0.0.1:8443"]
    assert picture_refusal("https://avatars.githubusercontent.com/u/1?v=4", hosts) is None
    assert picture_refusal("https://127.0.0.1:8443/a.png", hosts) is None
    assert picture_refusal(data_uri("image/jpeg", b"\xff\xd8\xff"), hosts) is None
    for refused in (
        "http://avatars.githubusercontent.com/u/1",  # not https
        "https://evil.example/a.png",  # another host
        "https://avatars.githubusercontent.com.evil.example/a.png",
        "https://127.0.0.1/a.png",  # the allowed host, another port
        "https://user:pw@avatars.githubusercontent.com/u/1",
        "javascript:alert(1)",
        data_uri("image/svg+xml", SVG),
        "data:text/html,<script>alert(1)</script>",
        "data:image/png,notbase64",
        "//avatars.githubusercontent.com/u/1",
    ):
        assert picture_refusal(refused, hosts) is not None, refused


def test_pictures_are_copied_checked_and_served_by_the_portal(
    tmp_path: Path, host: PictureHost
) -> None:
    base = host.base
    host.routes.update(
        {
            "/alice.png": Answer(body=RED, headers={"Content-Type": "image/png", "ETag": '"r"'}),
            "/svg.png": Answer(body=SVG, headers={"Content-Type": "image/png"}),
            "/big.png": Answer(body=HUGE, chunked=True),
            "/big-declared.png": Answer(body=HUGE),
            "/hop": Answer(302, headers={"Location": "/blue.png"}),
            "/blue.png": Answer(body=BLUE),
            "/off-host": Answer(302, headers={"Location": "https://evil.example/x.png"}),
            "/off-scheme": Answer(302, headers={"Location": base.replace("https", "http") + "/x"}),
        }
    )
    portal = Portal(tmp_path, host)
    pictures = {
        "alice": f"{base}/alice.png",
        "bob": data_uri("image/png", BLUE),
        "carol": f"{base}/missing.png",
        "dave": base.replace("https", "http") + "/alice.png",
        "erin": "https://evil.example/e.png",
        "frank": data_uri("image/svg+xml", SVG),
        "gina": f"{base}/svg.png",
        "hank": f"{base}/big.png",
        "ivan": f"{base}/off-host",
        "judy": f"{base}/hop",
        "kim": f"{base}/off-scheme",
        "lee": data_uri("image/png", SVG),  # says PNG, is SVG
        "max": f"{base}/big-declared.png",
    }
    portal.write([group("leaf", None)] + [user(name, url) for name, url in pictures.items()])
    output = portal.build()

    assert portal.picture(pictures["alice"]) == RED
    assert portal.picture(pictures["bob"]) == BLUE  # decoded, never fetched
    assert portal.picture(pictures["judy"]) == BLUE  # a redirect on an allowed host
    for failed in ("carol", "gina", "hank", "ivan", "kim", "lee", "max"):
        # Served as a blank the initials show through; the build says why.
        assert portal.picture(pictures[failed]) == PLACEHOLDER, failed
        assert f"user:default/{failed}: picture" in output, failed
    assert "not a PNG, JPEG, GIF or WebP image" in output
    assert "larger than 1024 KiB" in output
    assert "redirected to https://evil.example/x.png: refused" in output
    # Refused addresses: no request, no file, initials only on the page.
    for refused in ("dave", "erin", "frank"):
        assert not (portal.site / picture_file(pictures[refused])).exists()
        assert "<img" not in portal.page("user", refused).split('class="title-row"')[1][:400]
    asked = ["/alice.png", "/missing.png", "/svg.png", "/big.png", "/big-declared.png"]
    asked += ["/hop", "/blue.png", "/off-host", "/off-scheme"]
    assert sorted(set(host.requests)) == sorted(asked)
    # Pages name the portal's own copy, never the address.
    alice = portal.page("user", "alice")
    assert f'src="../../../../{picture_file(pictures["alice"])}"' in alice
    # (the descriptor's YAML shows the address as text, never as an attribute)
    assert f'="{base}' not in alice and '="https://evil' not in portal.page("user", "erin")
    leaf = portal.page("group", "leaf")
    assert leaf.count('class="person-card"') == len(pictures)
    assert 'class="initials">AL<' in leaf

    # Publish: typed by their bytes, cached a day.
    files = {f.relpath: f for f in local_files(portal.site)}
    assert files[picture_file(pictures["alice"])].content_type == "image/png"
    assert files[picture_file(pictures["carol"])].content_type == "image/gif"
    assert files[picture_file(pictures["alice"])].cache_control == PICTURE


def test_the_cache_makes_an_unchanged_build_fetch_nothing_and_keeps_the_last_good(
    tmp_path: Path, host: PictureHost
) -> None:
    host.routes["/a.png"] = Answer(body=RED, headers={"ETag": '"red"'})
    portal = Portal(tmp_path, host)
    url = f"{host.base}/a.png"
    portal.write([group("leaf", None), user("alice", url)])
    portal.build()
    assert host.requests == ["/a.png"] and portal.picture(url) == RED
    page = portal.site / "catalog/default/user/alice/index.html"
    stamp = page.stat().st_mtime_ns

    portal.build()
    assert host.requests == ["/a.png"], "a second build asks for nothing"

    def expire() -> None:
        for meta in (portal.cache / "pictures").glob("*.json"):
            record = json.loads(meta.read_text())
            meta.write_text(json.dumps({**record, "checked": 1.0}))

    # Due again, unchanged: a conditional request, a 304, the same bytes.
    expire()
    portal.build()
    assert host.requests == ["/a.png"] * 2 and portal.picture(url) == RED

    # The host fails: the last good copy stays, and the build says so.
    host.routes["/a.png"] = Answer(500, b"down")
    expire()
    output = portal.build()
    assert portal.picture(url) == RED
    assert "HTTP 500; the last good copy is shown" in output

    # Another image, another format, the same URL: only the picture's file changes.
    host.routes["/a.png"] = Answer(body=GIF)
    expire()
    portal.build()
    assert portal.picture(url) == GIF
    assert page.stat().st_mtime_ns == stamp, "the page did not need rendering again"
    files = {f.relpath: f for f in local_files(portal.site)}
    assert files[picture_file(url)].content_type == "image/gif"

    # A URL no entity names any more leaves the cache and the portal.
    portal.write([group("leaf", None), user("alice", None)])
    portal.build()
    assert not list((portal.cache / "pictures").glob("*"))
    assert not (portal.site / picture_file(url)).exists()


def test_group_pages_show_the_chain_children_and_members_capped(
    tmp_path: Path, host: PictureHost
) -> None:
    portal = Portal(tmp_path, host)
    people = [user(f"person{i:03}", None, "leaf") for i in range(150)]
    portal.write(
        [
            group("root", None, "Acme"),
            group("mid", "root", "Engineering"),
            group("leaf", "mid", "Payments"),
            group("sibling", "mid"),
            *people,
        ]
    )
    portal.build()
    leaf = portal.page("group", "leaf")
    chain = leaf[leaf.index('<ol class="chain"') : leaf.index("</ol>")]
    assert chain.index(">Acme</a>") < chain.index(">Engineering</a>")
    assert '<li aria-current="page">Payments</li>' in chain
    assert leaf.count('class="person-card"') == 120
    assert "and 30 more" in leaf and "all 150 on the Dependencies view" in leaf
    assert "person000@acme.example" in leaf
    mid = portal.page("group", "mid")
    children = mid[mid.index("Child groups") : mid.index("</section>", mid.index("Child groups"))]
    assert ">Payments</a>" in children and ">sibling</a>" in children
    assert "None: a top-level group." in portal.page("group", "root")
    person = portal.page("user", "person007")
    assert ">Groups</h2>" in person and ">Payments</a>" in person

    # The root renamed: the leaf two levels below shows it (beyond the two relations
    # the incremental build re-renders for other reasons).
    before = (portal.site / "catalog/default/group/leaf/index.html").stat().st_mtime_ns
    portal.write(
        [
            group("root", None, "Acme Corp"),
            group("mid", "root", "Engineering"),
            group("leaf", "mid", "Payments"),
            group("sibling", "mid"),
            *people,
        ]
    )
    portal.build()
    leaf = portal.page("group", "leaf")
    assert ">Acme Corp</a>" in leaf
    assert (portal.site / "catalog/default/group/leaf/index.html").stat().st_mtime_ns != before
