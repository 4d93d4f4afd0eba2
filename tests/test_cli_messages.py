"""What `backlot validate` and `backlot catalog` say about a mistake: where it is (the line
that opens a broken quote or list, not the end of the file), what was probably meant (a
misspelt kind), and counts in the right number."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.text import counted

from .conftest import GROUP_A, component, run_backlot, write_tree

HEAD = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
SPEC = "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"

# file content → (line, column, what the message says): each construct opens on line 4 or 5
# and is never closed, so libyaml notices only lines later (often at the end of the file).
UNCLOSED = {
    "double-quote": (
        HEAD + '  name: "orders\n  description: the orders service\n' + SPEC,
        (4, 9),
        "the double-quoted string that starts here is never closed",
    ),
    "single-quote": (
        HEAD + "  name: orders\n  description: 'it is the orders service\n" + SPEC,
        (5, 16),
        "the single-quoted string that starts here is never closed",
    ),
    "flow-sequence": (
        HEAD + "  name: orders\n  tags: [java, payments\n" + SPEC,
        (5, 9),
        "in the [ list that starts here: did not find expected ',' or ']' at line 6, column 5 "
        "(is its ] missing?)",
    ),
    "flow-mapping": (
        HEAD + "  name: orders\n  labels: {tier: gold\n" + SPEC,
        (5, 11),
        "in the { mapping that starts here: did not find expected ',' or '}' at line 6, "
        "column 5 (is its } missing?)",
    ),
    "flow-sequence-at-end": (
        HEAD + "  name: orders\n" + SPEC + "  dependsOn: [resource:db,\n",
        (9, 14),
        "the [ list that starts here is never closed",
    ),
    "flow-mapping-at-end": (
        HEAD + "  name: orders\n" + SPEC + "  providesApis: {\n\n",
        (9, 17),
        "the { mapping that starts here is never closed",
    ),
}


@pytest.mark.parametrize("case", sorted(UNCLOSED))
def test_an_unclosed_quote_or_collection_points_where_it_opens(tmp_path: Path, case: str) -> None:
    text, (line, column), says = UNCLOSED[case]
    write_tree(tmp_path, {"svc/catalog-info.yaml": text})
    result = run_backlot("validate", "--format", "json", tmp_path / "svc")
    assert result.returncode == 1
    [finding] = result.json()["findings"]
    assert finding["rule"] == "yaml/syntax"
    assert (finding["line"], finding["column"]) == (line, column)
    assert says in finding["message"]


def test_a_problem_on_the_line_of_the_list_stays_where_libyaml_found_it(tmp_path: Path) -> None:
    # Nothing runs on here: the list is broken at column 22 of its own line.
    write_tree(tmp_path, {"svc/catalog-info.yaml": HEAD + "  name: x\n  tags: [a, b: c: d]\n"})
    [finding] = run_backlot("validate", "--format", "json", tmp_path / "svc").json()["findings"]
    assert (finding["line"], finding["column"]) == (5, 17)
    assert "starts here" not in finding["message"]


def test_a_misspelt_kind_gets_a_suggestion(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "svc/catalog-info.yaml": component("orders").replace("Component", "Componnet")
            + "---\n"
            + component("billing").replace("Component", "component"),
        },
    )
    result = run_backlot("validate", tmp_path / "svc")
    assert result.returncode == 1
    assert "unknown kind 'Componnet'; did you mean 'Component'? (known kinds:" in result.stdout
    assert "unknown kind 'component'; did you mean 'Component'? Kinds are case-sensitive" in (
        result.stdout
    )


def test_a_reference_with_a_misspelt_kind_gets_a_suggestion(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "team/catalog-info.yaml": GROUP_A,
            "db/catalog-info.yaml": """
                apiVersion: backstage.io/v1alpha1
                kind: Resource
                metadata: {name: orders-db}
                spec: {type: database, owner: team-a}
            """,
            "svc/catalog-info.yaml": component(
                "orders", owner="grup:team-a", dependsOn=["resorce:orders-db", "widget:x"]
            ),
        },
    )
    result = run_backlot("validate", "--strict", ".", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        "svc/catalog-info.yaml:8:3: catalog/orphan: warning: spec.owner: the owner "
        "grup:default/team-a does not exist, so nobody owns this entity; 'grup' is not a "
        "kind: did you mean group:default/team-a (it exists)?"
    ) in lines
    assert any(
        "spec.dependsOn[0]: resorce:default/orders-db does not exist in the catalog; 'resorce' "
        "is not a kind: did you mean resource:default/orders-db (it exists)?" in line
        for line in lines
    )
    # A kind nothing resembles is a kind of its own (Backstage allows any): no guess.
    assert any(line.endswith("widget:default/x does not exist in the catalog") for line in lines)


def test_counts_are_in_the_right_number(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "svc", {"catalog-info.yaml": component("svc", owner="nobody")})
    validated = run_backlot("validate", repo)
    assert "1 document in 1 file: 1 accepted, 0 rejected; 0 errors, 1 warning" in validated.stderr
    built = run_backlot("catalog", repo, "-o", tmp_path / "catalog.json")
    assert "1 entity (1 Component) from 1 file → " in built.stdout
    assert (
        "0 rejected documents, 0 errors, 1 warning (1 orphan, 0 unresolved references, "
        "0 conflicts, 0 disappeared)"
    ) in built.stdout


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "error", "1 error"),
        (0, "error", "0 errors"),
        (2, "entity", "2 entities"),
        (1, "rejected document", "1 rejected document"),
        (3, "unresolved reference", "3 unresolved references"),
        (2, "repository", "2 repositories"),
        (2, "day", "2 days"),
        (2, "match", "2 matches"),
        (2, "person", "2 people"),
    ],
)
def test_counted(count: int, noun: str, expected: str) -> None:
    plural = "people" if noun == "person" else None
    assert counted(count, noun, plural) == expected
