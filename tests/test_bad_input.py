"""Bad input: one clear error naming the file and line; everything else still lands."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import GROUP_A, component, run_backlot, write_tree

BAD_FILES: dict[str, tuple[bytes, str, int]] = {
    # repository → (catalog-info.yaml content, expected rule, expected line)
    "malformed": (
        b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: [\n",
        "yaml/syntax",
        4,
    ),
    "tabs": (b"apiVersion: v1\nmetadata:\n\tname: x\n", "yaml/syntax", 3),
    "duplicate-key": (
        b"apiVersion: backstage.io/v1alpha1\nkind: Group\nkind: User\nmetadata: {name: x}\n",
        "yaml/duplicate-key",
        3,
    ),
    "utf16": ("kind: Component\n".encode("utf-16"), "file/encoding", 1),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4, "file/binary", 1),
    "alias-bomb": (
        b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        b"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        b"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
        "yaml/alias-limit",
        4,
    ),
    "deep": (b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", "yaml/too-deep", 1),
    "list": (b"- apiVersion: backstage.io/v1alpha1\n  kind: Component\n", "yaml/not-a-mapping", 1),
    "string": (b"# a comment\njust a sentence\n", "yaml/not-a-mapping", 2),
    "no-kind": (
        b"apiVersion: backstage.io/v1alpha1\nmetadata:\n  name: x\nspec: {}\n",
        "entity/missing-field",
        1,
    ),
}


@pytest.fixture(scope="module")
def bad_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad") / "org"
    files: dict[str, str | bytes] = {
        "good/catalog-info.yaml": component("good-service") + "---\n" + GROUP_A,
    }
    for repo, (content, _, _) in BAD_FILES.items():
        files[f"{repo}/catalog-info.yaml"] = content
    # 50 MB: over the 10 MB default limit, refused before it is read into memory.
    big = root / "huge" / "catalog-info.yaml"
    big.parent.mkdir(parents=True)
    with big.open("wb") as handle:
        handle.write(b"description: '")
        handle.write(b"x" * (50 * 1024 * 1024))
        handle.write(b"'\n")
    return write_tree(root, files)


@pytest.fixture(scope="module")
def bad_catalog(bad_org: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("out") / "catalog.json"
    result = run_backlot("catalog", bad_org, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    import json

    return json.loads(out.read_text())


def test_good_entities_still_land(bad_catalog: dict) -> None:
    names = {e["metadata"]["name"] for e in bad_catalog["entities"]}
    assert names == {"good-service", "team-a"}
    assert bad_catalog["summary"]["entities"] == 2


@pytest.mark.parametrize("repo", sorted(BAD_FILES))
def test_each_bad_file_gets_one_clear_error(bad_catalog: dict, repo: str) -> None:
    _, rule, line = BAD_FILES[repo]
    errors = [
        f
        for f in bad_catalog["findings"]
        if f["file"] == f"{repo}/catalog-info.yaml" and f["severity"] == "error"
    ]
    assert len(errors) == 1, errors
    assert errors[0]["rule"] == rule
    assert errors[0]["line"] == line
    assert errors[0]["message"]


def test_huge_file_is_refused_with_its_size(bad_catalog: dict) -> None:
    [error] = [f for f in bad_catalog["findings"] if f["file"] == "huge/catalog-info.yaml"]
    assert error["rule"] == "file/too-large"
    assert "52.4 MB" in error["message"] and "limit" in error["message"]


def test_invalid_utf8_is_read_like_backstage_with_a_warning(tmp_path: Path) -> None:
    org = write_tree(tmp_path / "org", {"team/catalog-info.yaml": GROUP_A})
    latin1 = component("café-menu").replace("café-menu", "menu") + '  description: "caf\xe9"\n'
    (org / "menu" / "catalog-info.yaml").parent.mkdir()
    (org / "menu" / "catalog-info.yaml").write_bytes(latin1.encode("latin-1"))
    result = run_backlot("validate", org)
    assert result.returncode == 0, result.stdout
    assert "menu/catalog-info.yaml:9:" in result.stdout
    assert "file/encoding: warning: the file is not valid UTF-8 (byte 0xe9)" in result.stdout
