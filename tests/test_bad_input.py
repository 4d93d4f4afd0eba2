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
        3,  # where the [ that is never closed opens, not the end of the file
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


def _with_spec(name: str, spec_lines: str, metadata_lines: str = "") -> str:
    text = component(name).replace("spec:\n", "spec:\n" + spec_lines)
    return text.replace("metadata:\n", "metadata:\n" + metadata_lines)


# repository → (its files, the rule of the one error its descriptor gets). Each of these
# once aborted the whole build, made catalog.json something other than JSON, or put
# git's credentials into the public catalog.
HOSTILE_CATALOG: dict[str, tuple[dict[str, str | bytes], str]] = {
    "json-deep": (
        {
            "catalog-info.yaml": _with_spec("json-deep", "  x: {$json: ./d.json}\n"),
            "d.json": "[" * 100_000 + "]" * 100_000,
        },
        "yaml/too-deep",
    ),
    "json-nan": (
        {
            "catalog-info.yaml": _with_spec("json-nan", "  x: {$json: ./d.json}\n"),
            "d.json": '{"a": NaN}',
        },
        "placeholder/parse",
    ),
    # 400 levels: under libyaml's limit, over what pydantic and PyYAML write back.
    "yaml-400-deep": (
        {"catalog-info.yaml": _with_spec("yaml-400-deep", "  x: " + "[" * 400 + "]" * 400 + "\n")},
        "yaml/too-deep",
    ),
    # 200 placeholders of one 2 MB file: a 4.5 KB descriptor, a 400 MB entity.
    "placeholder-amplification": (
        {
            "catalog-info.yaml": _with_spec(
                "placeholder-amplification",
                "".join(f"  f{i}: {{$text: ./big.txt}}\n" for i in range(200)),
            ),
            "big.txt": "x" * 2_000_000,
        },
        "entity/too-large",
    ),
    # Within the alias limit (60 uses), but each use is half a megabyte.
    "alias-amplification": (
        {
            "catalog-info.yaml": _with_spec(
                "alias-amplification",
                "  l: [" + ", ".join(["*big"] * 60) + "]\n",
                "  description: &big " + "y" * 500_000 + "\n",
            )
        },
        "entity/too-large",
    ),
    "git-config": (
        {
            "catalog-info.yaml": _with_spec("git-config", "  x: {$text: .git/config}\n"),
            ".git/config": "[http]\n\textraheader = AUTHORIZATION: basic SECRET-TOKEN\n",
        },
        "placeholder/read",
    ),
    # Python refuses to turn an integer of over 4,300 digits into text; JavaScript makes it
    # Infinity. Label values must be strings: Backstage rejects this one.
    "huge-integer": (
        {
            "catalog-info.yaml": _with_spec(
                "huge-integer", "", "  labels:\n    a: " + "9" * 5000 + "\n"
            )
        },
        "metadata/wrong-type",
    ),
    "symlink-loop": (
        {"catalog-info.yaml": _with_spec("symlink-loop", "  x: {$text: ./loop}\n")},
        "placeholder/read",
    ),
    "git-config-link": (
        {
            "catalog-info.yaml": _with_spec("git-config-link", "  x: {$text: ./config}\n"),
            ".git/config": "[http]\n\textraheader = AUTHORIZATION: basic SECRET-TOKEN\n",
        },
        "placeholder/read",
    ),
}


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in JSON")

    import json

    return json.loads(text, parse_constant=refuse)


def test_hostile_descriptors_are_contained_and_json_stays_json(tmp_path: Path) -> None:
    import os

    files: dict[str, str | bytes] = {
        "team/catalog-info.yaml": GROUP_A,
        "good/catalog-info.yaml": component("good-service"),
        # Accepted, as Backstage accepts them, and written as JSON.stringify would.
        "odd-values/catalog-info.yaml": _with_spec(
            "odd-values",
            "  x: .nan\n  y: [.inf, -.inf, 1e999]\n  z: {$json: ./d.json}\n"
            f"  w: 0x{'f' * 4000}\n",
        ),
        "odd-values/d.json": '{"lone": "\\ud800", "big": 1e999}',
        # A Location whose target and a techdocs-ref that are symlink loops.
        "loops/catalog-info.yaml": _with_spec(
            "loops", "", "  annotations:\n    backstage.io/techdocs-ref: dir:loop\n"
        )
        + "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: loops\n"
        "spec:\n  targets: [./loop/x.yaml]\n",
        "con/catalog-info.yaml": component("con"),
    }
    for repo, (repo_files, _) in HOSTILE_CATALOG.items():
        files.update({f"{repo}/{path}": text for path, text in repo_files.items()})
    org = write_tree(tmp_path / "org", files)
    os.symlink(".git/config", org / "git-config-link" / "config")
    for repo in ("symlink-loop", "loops"):
        os.symlink("loop", org / repo / "loop")
    result = run_backlot("build", org, "-o", tmp_path / "site", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    catalog_text = (tmp_path / ".backlot" / "catalog.json").read_text("utf-8")
    catalog = _strict_json(catalog_text)
    assert isinstance(catalog, dict)
    assert "SECRET-TOKEN" not in catalog_text
    for repo, (_, rule) in HOSTILE_CATALOG.items():
        errors = [
            f
            for f in catalog["findings"]
            if f["file"] == f"{repo}/catalog-info.yaml" and f["severity"] == "error"
        ]
        assert [e["rule"] for e in errors] == [rule], (repo, errors)
    odd = next(e for e in catalog["entities"] if e["metadata"]["name"] == "odd-values")
    assert odd["spec"]["x"] is None and odd["spec"]["y"] == [None, None, None]
    assert odd["spec"]["w"] is None  # past 2**1024: Infinity in JavaScript, null stored
    assert odd["spec"]["z"] == {"lone": "\ufffd", "big": None}
    [windows] = [f for f in catalog["findings"] if f["rule"] == "catalog/windows-name"]
    assert windows["severity"] == "warning" and windows["file"] == "con/catalog-info.yaml"
    site = tmp_path / "site"
    assert "loops" in {e["metadata"]["name"] for e in catalog["entities"]}
    for name in ("good-service", "odd-values", "con", "loops"):
        assert (site / "catalog/default/component" / name / "index.html").is_file(), name
    assert "SECRET-TOKEN" not in (site / "catalog.json").read_text("utf-8")
    _strict_json((site / "catalog.json").read_text("utf-8"))
