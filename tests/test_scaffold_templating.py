"""The scaffolder's templating engine: ``generator.scaffold._expressions`` (Backstage's
``${{ }}`` on Jinja2's sandbox) and ``generator.scaffold._skeleton`` (fetch:template).

Expected values come from the spec (docs: /work/shared/spec/scaffolder.md, section 2,
"Templating") and from Backstage's own code (plugin-scaffolder-backend 4.3.0 with nunjitsu
0.7.0); ``tests/conformance/scaffolder`` runs that code and compares with it directly.

Deliberate differences from Backstage
-------------------------------------

- Symbolic links in a skeleton are refused (OutsideWorkspace), the whole render before
  anything is written; Backstage copies them as links. A target folder that is itself a
  link is refused too, and no file is written through a link.
- Skeleton files over 10 MB (``MAX_FILE_BYTES``) are refused. A template does at most
  1,000,000 loop iterations and prints at most 16 M characters (nunjitsu's own limits are
  of the same size but counted differently).
- ``fetch:plain`` (``copy_plain``) keeps files that exist unless ``replace=True``; the
  Backstage action always overwrites (the action passes ``replace=True``).
- Entries are walked in sorted order; Backstage walks in file-system order. This only
  matters when two entries render to the same name.
- ``copyWithoutTemplating: []`` counts as not given, so it combines with
  ``templateFileExtension``; Backstage refuses the empty list there too.
- Regular-expression literals (``r/…/g``) are refused as a syntax error; Backstage
  supports them (``replace(r/x/g, "y")``).
- ``{% verbatim %}`` is not supported (``{% raw %}`` is), nor are ``\\u`` escapes read
  differently from Python (``"\\u00e9"`` is ``é`` here, ``u00e9`` in nunjitsu).
- Strings are measured and indexed by code point, not UTF-16 code unit (an emoji has
  ``length`` 1 here, 2 in Backstage). ``{% set %}`` inside a loop follows Jinja's scoping.
- ``fill``/``copyWithin``/``toExponential``/``toPrecision`` and Map/Set methods are not
  provided; ``urlize`` and the ``sort``/``dictsort``/``batch``/``slice``/``select`` family
  are Jinja's implementations, which agree with nunjitsu on ordinary input.
- An array item of a step input that renders to nothing becomes None (JSON's view of the
  hole Backstage leaves).
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from generator.scaffold._errors import OutsideWorkspace, RenderError, ScaffoldError
from generator.scaffold._expressions import (
    MISSING,
    Secret,
    is_truthy,
    mask,
    parse_entity_ref,
    parse_repo_url,
    render_text,
    render_value,
    secrets_in,
)
from generator.scaffold._skeleton import (
    MAX_FILE_BYTES,
    copy_plain,
    inside,
    is_binary,
    render_file,
    render_skeleton,
)

# ---------------------------------------------------------------------------------------
# render_value: the spec's verified table, one test per row

TABLE_PARAMETERS: dict[str, Any] = {
    "n": 42,
    "one": 1,
    "list": ["x", "y"],
    "numstr": "123",
    "nul": None,
    "flag": False,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${{ parameters.n }}", 42),
        ("x-${{ parameters.n }}", "x-42"),
        ("  ${{ parameters.n }}  ", "  42  "),
        ("${{ parameters.one }}${{ parameters.one }}", "11"),
        ("${{ parameters.list }}", ["x", "y"]),
        ("${{ parameters.numstr }}", "123"),
        ('${{ "" }}', ""),
        ("${{ parameters.nul }}", None),
        ("{% if parameters.flag %}true{% else %}false{% endif %}", False),
    ],
    ids=[
        "number",
        "prefixed",
        "surrounding-space",
        "two-expressions",
        "list",
        "numeric-string",
        "empty-literal",
        "null",
        "if-false",
    ],
)
def test_verified_table_row(template: str, expected: Any) -> None:
    result = render_value(template, {"parameters": TABLE_PARAMETERS})
    assert result == expected
    assert type(result) is type(expected)


def test_verified_table_row_missing_key_is_dropped() -> None:
    given = {"kept": "${{ parameters.n }}", "gone": "${{ parameters.missing }}"}
    assert render_value(given, {"parameters": TABLE_PARAMETERS}) == {"kept": 42}
    assert render_value("${{ parameters.missing }}", {"parameters": {}}) is MISSING


def test_verified_table_row_render_error_keeps_the_raw_string() -> None:
    raw = '${{ "team-a" | parseEntityRef | pick("name") }}'
    assert render_value(raw, {}) == raw


def test_render_value_walks_dicts_and_lists_and_leaves_other_leaves() -> None:
    given = {
        "a": "${{ parameters.n }}",
        "b": ["${{ parameters.missing }}", 1, True, "${{ parameters.flag }}"],
        "c": {"d": None, "e": 2.5, "f": "${{ parameters.list | length }}"},
    }
    context = {"parameters": TABLE_PARAMETERS}
    assert render_value(given, context) == {
        "a": 42,
        "b": [None, 1, True, False],
        "c": {"d": None, "e": 2.5, "f": 2},
    }
    assert given["a"] == "${{ parameters.n }}"  # the input is not changed


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${{ parameters.obj }}", {"a": 1}),
        ("{% if true %}7{% endif %}", 7),
        ("{% if parameters.flag %}x{% endif %}", MISSING),
        ("{% for x in parameters.list %}${{ x }}{% endfor %}", "xy"),
        ("{% for n in [1, 2] %}${{ n }}{% endfor %}", 12),
        ('${{ parameters.unset === "Yes" }}', False),
        ("${{ parameters.n / 0 }}", None),
        ("${{ 1 if parameters.flag }}", ""),
        ("{{ parameters.n }}", "{{ parameters.n }}"),
        ("", MISSING),
        ("${{ parameters.n | }}", "${{ parameters.n | }}"),
        ("${{ parameters.n | nope }}", "${{ parameters.n | nope }}"),
    ],
)
def test_render_value_follows_the_runner(template: str, expected: Any) -> None:
    context = {"parameters": {**TABLE_PARAMETERS, "obj": {"a": 1}}}
    assert render_value(template, context) == expected


def test_render_value_does_not_let_templates_change_the_context() -> None:
    context = {"parameters": {"list": [3, 1]}}
    render_value("{% set _ = parameters.list.push(9) %}${{ parameters.list.sort() }}", context)
    assert context == {"parameters": {"list": [3, 1]}}


# ---------------------------------------------------------------------------------------
# Printing as JavaScript prints


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${{ v.t }}|${{ v.f }}", "true|false"),
        ("[${{ v.none }}][${{ v.missing }}][${{ v.none.x.y }}]", "[][][]"),
        ("${{ v.list }}", "a,b"),
        ("${{ v.nested }}", "1,2,3,,true"),
        ("${{ v.obj }}", "[object Object]"),
        ("${{ v.float }} ${{ v.whole }} ${{ v.big }} ${{ v.tiny }}", "1.5 3 1e+21 1e-7"),
        ("${{ 0.1 + 0.2 }}", "0.30000000000000004"),
        ("${{ 7 / 2 }} ${{ -7 % 3 }} ${{ 1 / 0 }}", "3.5 -1 Infinity"),
        ('${{ "a" + 1 }} ${{ "5" * 2 }} ${{ "a" ~ v.t }}', "a1 10 atrue"),
        ('${{ "a" ~ v.missing ~ v.none }}', "aundefinednull"),
    ],
)
def test_values_print_as_javascript_prints_them(template: str, expected: str) -> None:
    values = {
        "t": True,
        "f": False,
        "none": None,
        "list": ["a", "b"],
        "nested": [1, [2, 3], None, True],
        "obj": {"a": 1},
        "float": 1.5,
        "whole": 3.0,
        "big": 1e21,
        "tiny": 1e-7,
    }
    assert render_text(template, {"v": values}) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('${{ {"b": [1, null], "é": "ü"} | dump }}', '{"b":[1,null],"é":"ü"}'),
        ("${{ [1, 2] | dump(2) }}", "[\n  1,\n  2\n]"),
        ("${{ v.mixed | dump }}", '{"1":"one","2":"two","b":1}'),
        ("${{ v.whole | dump }}", "3"),
        ("[${{ v.missing | dump }}]", "[]"),
        ('${{ "</script>\\n" | dump }}', '"</script>\\n"'),
        ("${{ v.t | dump }}${{ v.none | dump }}", "truenull"),
    ],
)
def test_dump_is_json_stringify(template: str, expected: str) -> None:
    values = {"mixed": {"b": 1, "2": "two", "1": "one"}, "whole": 3.0, "t": True, "none": None}
    assert render_text(template, {"v": values}) == expected


def test_plain_braces_are_text_and_trailing_newlines_are_kept() -> None:
    assert render_text("{{ x }} ${{ x }}\n\n", {"x": 1}) == "{{ x }} 1\n\n"
    assert render_text("a\r\nb ${{ x }}\r\n", {"x": 1}) == "a\r\nb 1\r\n"


def test_cookiecutter_mode() -> None:
    context = {"cookiecutter": {"name": "svc", "tags": ["a"]}}
    text = "{{ cookiecutter.name }} ${{ cookiecutter.name }} {{ cookiecutter.tags | jsonify }}"
    assert render_text(text, context, cookiecutter=True) == 'svc $svc ["a"]'
    assert render_text("{{ True }}", {}, cookiecutter=True) == "true"
    with pytest.raises(RenderError):
        render_text('${{ ["a"] | jsonify }}', {})


def test_trim_and_lstrip_blocks() -> None:
    text = "a:\n  {% if true %}\n  x\n  {% endif %}\nb\n"
    assert render_text(text, {}) == "a:\n  \n  x\n  \nb\n"
    assert render_text(text, {}, trim_blocks=True) == "a:\n    x\n  b\n"
    assert render_text(text, {}, trim_blocks=True, lstrip_blocks=True) == "a:\n  x\nb\n"


# ---------------------------------------------------------------------------------------
# Nunjucks syntax Jinja reads differently


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('${{ {a: 1, "b": 2} | dump }}', '{"a":1,"b":2}'),
        (
            '${{ v.n === 42 }}${{ v.n === "42" }}${{ v.n == "42" }}${{ v.n !== 42 }}',
            "truefalsetruefalse",
        ),
        ("{% if v.flag %}x{% elseif v.n %}y{% endif %}", "y"),
        (
            "{% if v.empty %}yes{% endif %}{% if 'false' %}S{% endif %}{% if 0 %}Z{% endif %}",
            "yesS",
        ),
        ("${{ v.empty and 'y' }}${{ v.none or 'd' }}${{ not v.empty }}", "ydfalse"),
        ("{% for k, v2 in v.obj %}${{ k }}=${{ v2 }};{% endfor %}", "a=1;b=2;"),
        ("{% for k in v.obj %}x{% else %}empty{% endfor %}", "empty"),
        ("{% for x in v.missing %}x{% else %}none{% endfor %}", "none"),
        ("${{ v.name.toUpperCase() }} ${{ v.name.length }} ${{ v.list.length }}", "MY-SVC 6 2"),
        ('${{ v.name.split("-") | join("+") }} ${{ v.name.replace("-", "_") }}', "my+svc my_svc"),
        ("${{ v.list[-1] }}|${{ v.list[1:] }}|${{ v.name[1:3] }}", "|y|y,-"),
        ("${{ 1 < 2 < 3 }}${{ 3 > 2 > 1 }}${{ '10' < '9' }}", "truefalsetrue"),
        ("${{ True }}${{ None | dump }}", ""),
        ("${{ range(3) }}", "0,1,2"),
    ],
)
def test_nunjucks_syntax(template: str, expected: str) -> None:
    values = {
        "n": 42,
        "flag": False,
        "empty": [],
        "none": None,
        "obj": {"a": 1, "b": 2},
        "name": "my-svc",
        "list": ["x", "y"],
    }
    assert render_text(template, {"v": values}) == expected


@pytest.mark.parametrize(
    "template",
    ["${{ 1e3 }}", "${{ 0x10 }}", "${{ 1_000 }}", "${{ r/b/g }}", '{% include "x" %}'],
)
def test_syntax_nunjitsu_does_not_have_fails(template: str) -> None:
    with pytest.raises(RenderError):
        render_text(template, {})


def test_render_error_names_where_and_the_line() -> None:
    with pytest.raises(RenderError) as raised:
        render_text("a\nb\n${{ x | nope }}\n", {}, where="skeleton file 'README.md'")
    assert "skeleton file 'README.md'" in str(raised.value)
    assert "line 3" in str(raised.value)
    with pytest.raises(RenderError) as raised:
        render_text("ok\n\n{% for %}\n", {}, where="step fetch")
    assert "step fetch" in str(raised.value) and "line 3" in str(raised.value)
    with pytest.raises(RenderError) as raised:
        render_text("1\n2\n${{ v.n | lower }}", {"v": {"n": 1}}, where="f")
    assert "line 3" in str(raised.value)


# ---------------------------------------------------------------------------------------
# Filters


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "github.com?owner=acme&repo=svc",
            {"host": "github.com", "owner": "acme", "repo": "svc"},
        ),
        ("gitlab.com?project=p&repo=r", {"host": "gitlab.com", "repo": "r", "project": "p"}),
        (
            "bitbucket.org?workspace=w&project=p&repo=r",
            {"host": "bitbucket.org", "repo": "r", "workspace": "w", "project": "p"},
        ),
        (
            "GitHub.com?owner=a&repo=%2Fb%2F",
            {"host": "github.com", "owner": "a", "repo": "b"},
        ),
        (
            "dev.azure.com?organization=o&project=p&repo=r",
            {"host": "dev.azure.com", "repo": "r", "organization": "o", "project": "p"},
        ),
    ],
)
def test_parse_repo_url(url: str, expected: dict[str, str]) -> None:
    assert parse_repo_url(url) == expected


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("example.com?owner=a&repo=b", "No matching integration"),
        ("github.com?owner=a", "missing repo"),
        ("gitlab.com?owner=a", "missing repo"),
        ("bitbucket.org?project=p&repo=r", "missing workspace"),
        ("dev.azure.com?repo=r", "missing project"),
        ("github.com?owner=&repo=r", "missing owner"),
    ],
)
def test_parse_repo_url_refuses(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_repo_url(url)


def test_parse_repo_url_and_project_slug_filters() -> None:
    context = {"v": {"repo": "github.com?owner=acme&repo=svc"}}
    assert render_text("${{ v.repo | parseRepoUrl | pick('owner') }}", context) == "acme"
    assert render_text("${{ v.repo | projectSlug }}", context) == "acme/svc"
    assert render_text("${{ (v.repo | parseRepoUrl).host }}", context) == "github.com"
    with pytest.raises(RenderError, match="No matching integration"):
        render_text("${{ 'gitea.io?repo=x' | parseRepoUrl }}", {})


@pytest.mark.parametrize(
    ("ref", "context", "expected"),
    [
        ("group:default/team-a", None, ("group", "default", "team-a")),
        ("Group:ns/Team-A", None, ("Group", "ns", "Team-A")),
        ("component:svc", None, ("component", "default", "svc")),
        ("team-a", {"defaultKind": "group"}, ("group", "default", "team-a")),
        ("ns/team-a", {"defaultKind": "group"}, ("group", "ns", "team-a")),
        ("team-a", {"defaultKind": "group", "defaultNamespace": "x"}, ("group", "x", "team-a")),
        ({"kind": "K", "name": "n"}, None, ("K", "default", "n")),
        ("x/y:z", {"defaultKind": "k"}, ("k", "x", "y:z")),
    ],
)
def test_parse_entity_ref(ref: Any, context: Any, expected: tuple[str, str, str]) -> None:
    parsed = parse_entity_ref(ref, context)
    assert (parsed["kind"], parsed["namespace"], parsed["name"]) == expected


@pytest.mark.parametrize("ref", ["team-a", "ns/team-a", "", "component:", ":x", "a:/b"])
def test_parse_entity_ref_refuses(ref: str) -> None:
    with pytest.raises(ValueError):
        parse_entity_ref(ref)


def test_parse_entity_ref_filter_takes_nunjucks_object_arguments() -> None:
    text = (
        '${{ "team-a" | parseEntityRef({ defaultKind: "group", defaultNamespace: "x" }) | dump }}'
    )
    assert render_text(text, {}) == '{"kind":"group","namespace":"x","name":"team-a"}'


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("'name'", "n"),
        ("'obj.b[1]'", "2"),
        ("'list.length'", "2"),
        ("'obj.zz'", ""),
        ("'obj.zz', 'dflt'", "dflt"),
        ("'dotted.key'", "direct"),
        ("'nested[0].x'", "deep"),
    ],
)
def test_pick_is_lodash_get(path: str, expected: str) -> None:
    values = {
        "name": "n",
        "obj": {"b": [1, 2]},
        "list": ["a", "b"],
        "dotted.key": "direct",
        "nested": [{"x": "deep"}],
    }
    assert render_text(f"${{{{ v | pick({path}) }}}}", {"v": values}) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('${{ "a-b-c" | replace("-", "_") }}', "a_b_c"),
        ('${{ "aaa" | replace("a", "b", 2) }}', "bba"),
        ('${{ "abc" | replace("", "-") }}', "-a-b-c-"),
        ('${{ 42 | replace(4, "z") }}', "z2"),
        ('${{ "MiXeD" | lower }}${{ "MiXeD" | upper }}', "mixedMIXED"),
        ("${{ v.missing | upper }}|${{ v.f | lower }}", "|"),
        ('${{ "hello woRLD-foo" | title }}', "Hello World-foo"),
        ('[${{ "  x  " | trim }}]', "[x]"),
        (
            '${{ v.list | join }}|${{ v.list | join(", ") }}|${{ [1, null, 2] | join("-") }}',
            "ab|a, b|1--2",
        ),
        (
            '${{ v.missing | default("d") }}|${{ v.none | default("d") }}|'
            '${{ "" | default("d", true) }}',
            "d||d",
        ),
        (
            "${{ v.list | length }}${{ v.obj | length }}"
            "${{ v.missing | length }}${{ 'abc' | length }}",
            "2103",
        ),
        ("${{ v.list | first }}${{ v.list | last }}${{ 'xyz' | first }}", "abx"),
        ('${{ "Hello World" | truncate(5) }}', "Hello..."),
        (
            '${{ "The quick brown fox" | truncate(12) }}|'
            '${{ "The quick brown fox" | truncate(12, true, "~") }}',
            "The quick...|The quick br~",
        ),
        ('${{ "a\nb" | indent(2) }}', "a\n  b"),
    ],
)
def test_builtin_filters_follow_nunjucks(template: str, expected: str) -> None:
    values = {"list": ["a", "b"], "obj": {"a": 1}, "f": False, "none": None}
    assert render_text(template, {"v": values}) == expected


@pytest.mark.parametrize(
    "template",
    [
        "${{ 1 | lower }}",
        "${{ v.missing | trim }}",
        '${{ "x" | format(1) }}',
        "${{ [1] | map('x') }}",
    ],
)
def test_filters_refuse_what_nunjitsu_refuses(template: str) -> None:
    with pytest.raises(RenderError):
        render_text(template, {"v": {}})


# ---------------------------------------------------------------------------------------
# Truthiness


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("false", True),
        ("0", True),
        (" ", True),
        (0, False),
        (0.0, False),
        (float("nan"), False),
        ("", False),
        (None, False),
        (False, False),
        (MISSING, False),
        ([], False),
        ([0], True),
        ({}, True),
        (True, True),
        (-1, True),
    ],
)
def test_is_truthy_is_backstages_is_truthy(value: Any, expected: bool) -> None:
    assert is_truthy(value) is expected


# ---------------------------------------------------------------------------------------
# The sandbox: nothing reaches Python


@pytest.mark.parametrize(
    "template",
    [
        "${{ ''.__class__ }}",
        "${{ parameters.__init__ }}",
        "${{ parameters.name.__class__.__mro__ }}",
        "${{ ''.__class__.__mro__[1].__subclasses__() }}",
        "${{ parameters.__class__.__base__.__subclasses__() }}",
        "${{ (1).__class__ }}",
        "${{ parameters.items }}",
        "${{ parameters.keys() }}",
        "${{ cycler.__init__.__globals__ }}",
        "${{ cycler(1).__init__.__globals__ }}",
        "${{ joiner.__init__.__globals__.os }}",
        "${{ range.__self__ }}",
        "${{ lipsum.__globals__ }}",
        "${{ self.__init__.__globals__ }}",
        "${{ config }}${{ request }}${{ namespace }}${{ dict }}",
        "{% for x in [1] %}${{ loop.__class__ }}${{ loop._iterator }}{% endfor %}",
        "${{ parameters.name.toUpperCase.func.__globals__ }}",
        "${{ parameters.name.toUpperCase.func.__code__ }}",
        "${{ parameters.__proto__ }}",
        "${{ parameters.constructor }}",
        '${{ parameters | attr("__class__") }}',
        "{% macro m() %}{% endmacro %}${{ m.__globals__ }}",
        "${{ parameters.obj.__dict__ }}",
        '${{ "{0.__class__}".format(parameters) }}',
    ],
)
def test_expressions_cannot_reach_python(template: str) -> None:
    context = {"parameters": {"name": "svc", "obj": Canary()}}
    try:
        rendered = render_text(template, context)
    except RenderError:
        return
    assert rendered == "", rendered


class Canary:
    secret = "canary-secret"

    def __str__(self) -> str:
        return "canary"


def test_python_objects_in_the_context_are_only_text() -> None:
    context = {"v": {"obj": Canary()}}
    assert render_text("${{ v.obj }}|${{ v.obj.secret }}", context) == "canary|"


def test_runaway_templates_stop() -> None:
    started = time.monotonic()
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
    with pytest.raises(RenderError, match="work"):
        render_text(loop, {})
    assert time.monotonic() - started < 30


# ---------------------------------------------------------------------------------------
# Secrets


def test_secrets_render_and_are_masked_in_logs() -> None:
    token = Secret("s3cr3t-token")
    context = {"secrets": {"token": token, "nested": [Secret("other")]}, "n": "plain"}
    rendered = render_text("Bearer ${{ secrets.token }}", context)
    assert rendered == "Bearer s3cr3t-token"
    assert "s3cr3t" not in repr(token)
    assert secrets_in(context) == {"s3cr3t-token", "other"}
    assert mask(rendered + " and other", secrets_in(context)) == "Bearer *** and ***"
    assert mask("abcd abc", ["abc", "abcd", ""]) == "*** ***"


# ---------------------------------------------------------------------------------------
# inside()


def test_inside_keeps_paths_in_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "a").mkdir(parents=True)
    root = workspace.resolve()
    assert inside(workspace, "a/b.txt") == root / "a" / "b.txt"
    assert inside(workspace, "./a/../c") == root / "c"
    assert inside(workspace, ".") == root
    assert inside(workspace, "") == root


@pytest.mark.parametrize("relative", ["..", "../x", "a/../../x", "/etc/passwd", "a\0b"])
def test_inside_refuses_escapes(tmp_path: Path, relative: str) -> None:
    with pytest.raises(OutsideWorkspace):
        inside(tmp_path, relative)


def test_inside_refuses_a_link_out_and_names_a_link_in(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "outside").mkdir()
    (workspace / "out").symlink_to(tmp_path / "outside")
    (workspace / "real").mkdir()
    (workspace / "in").symlink_to(workspace / "real")
    with pytest.raises(OutsideWorkspace):
        inside(workspace, "out/file")
    assert inside(workspace, "in") == workspace.resolve() / "in"


# ---------------------------------------------------------------------------------------
# render_skeleton


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


VALUES: dict[str, Any] = {"name": "svc", "on": True, "off": False, "empty": "", "tags": ["a", "b"]}


def test_renders_names_and_contents_dotfiles_included(tmp_path: Path) -> None:
    source = write(
        tmp_path / "skeleton",
        {
            "README.md": "# ${{ values.name }}\n{% for t in values.tags %}- ${{ t }}\n{% endfor %}",
            ".gitignore": "${{ values.name }}.log\n",
            ".config/${{ values.name }}.json": '{"tags": ${{ values.tags | dump }}}',
            "${{ values.name }}/main.py": "print('${{ values.name | upper }}')\n",
        },
    )
    target = tmp_path / "out"
    written = render_skeleton(source, target, VALUES)
    assert written == [".config/svc.json", ".gitignore", "README.md", "svc/main.py"]
    assert tree(target) == {
        ".config/svc.json": b'{"tags": ["a","b"]}',
        ".gitignore": b"svc.log\n",
        "README.md": b"# svc\n- a\n- b\n",
        "svc/main.py": b"print('SVC')\n",
    }


def test_the_context_is_only_values(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"f.txt": "[${{ parameters.name }}][${{ values.name }}]"})
    render_skeleton(source, tmp_path / "out", VALUES)
    assert (tmp_path / "out/f.txt").read_text() == "[][svc]"


def test_names_that_render_empty_absolute_or_with_double_slashes_are_left_out(
    tmp_path: Path,
) -> None:
    source = write(
        tmp_path / "s",
        {
            "{% if values.on %}kept.txt{% endif %}": "k",
            "{% if values.off %}dropped.txt{% endif %}": "d",
            "{% if values.off %}folder{% endif %}/inner.txt": "i",
            "a/${{ values.empty }}/b.txt": "double slash",
            "${{ values.absolute }}.txt": "absolute",
        },
    )
    target = tmp_path / "out"
    absolute = tmp_path / "absolute"
    written = render_skeleton(source, target, {**VALUES, "absolute": str(absolute)})
    assert written == ["kept.txt"]
    assert tree(target) == {"kept.txt": b"k"}
    assert not absolute.with_suffix(".txt").exists()


def test_existing_files_are_kept_unless_replace(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"a.txt": "new ${{ values.name }}", "b.txt": "b"})
    target = write(tmp_path / "out", {"a.txt": "old"})
    assert render_skeleton(source, target, VALUES) == ["b.txt"]
    assert (target / "a.txt").read_text() == "old"
    assert render_skeleton(source, target, VALUES, replace=True) == ["a.txt", "b.txt"]
    assert (target / "a.txt").read_text() == "new svc"


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR${{ values.name }}\x00\x01\xff\xfe"


def test_binary_files_are_copied_byte_for_byte_and_modes_kept(tmp_path: Path) -> None:
    source = write(
        tmp_path / "s",
        {"logo.png": PNG, "run.sh": "#!/bin/sh\necho ${{ values.name }}\n", "plain.txt": "x"},
    )
    (source / "run.sh").chmod(0o755)
    (source / "logo.png").chmod(0o600)
    target = tmp_path / "out"
    render_skeleton(source, target, VALUES)
    assert (target / "logo.png").read_bytes() == PNG
    assert stat.S_IMODE((target / "logo.png").stat().st_mode) == 0o600
    assert (target / "run.sh").read_text() == "#!/bin/sh\necho svc\n"
    assert (target / "run.sh").stat().st_mode & 0o111
    assert not (target / "plain.txt").stat().st_mode & 0o111


@pytest.mark.parametrize(
    ("head", "binary"),
    [
        (b"", False),
        (b"plain text\n", False),
        ("accents: é ✓ ü\n".encode(), False),
        (b"\xef\xbb\xbfBOM then \x00", False),
        (b"text\x00with a NUL", True),
        (b"%PDF-1.7 ...", True),
        (b"caf\xe9\n", True),
        (b"latin-1 text \xe9t\xe9 and a much longer line of ascii text\n", False),
        (bytes(range(1, 6)) * 20, True),
    ],
)
def test_binary_detection_is_isbinaryfiles(tmp_path: Path, head: bytes, binary: bool) -> None:
    path = tmp_path / "f"
    path.write_bytes(head)
    assert is_binary(path) is binary


def test_github_expressions_are_emptied_unless_copied_without_templating(tmp_path: Path) -> None:
    workflow = (
        "ref: ${{ github.head_ref }}\ntoken: ${{ secrets.TOKEN }}\nname: ${{ values.name }}\n"
    )
    source = write(
        tmp_path / "s", {".github/workflows/ci.yml": workflow, "${{ values.name }}.txt": "x"}
    )
    render_skeleton(source, tmp_path / "plain", VALUES)
    assert (
        tmp_path / "plain/.github/workflows/ci.yml"
    ).read_text() == "ref: \ntoken: \nname: svc\n"
    written = render_skeleton(
        source, tmp_path / "kept", VALUES, copy_without_templating=[".github/workflows/*"]
    )
    assert written == [".github/workflows/ci.yml", "svc.txt"]
    assert (tmp_path / "kept/.github/workflows/ci.yml").read_text() == workflow


def test_copy_without_templating_globs(tmp_path: Path) -> None:
    source = write(
        tmp_path / "s",
        {
            "docs/a.md": "${{ values.name }}",
            "docs/deep/b.md": "${{ values.name }}",
            ".github/x.yml": "${{ values.name }}",
            ".github/keep/y.yml": "${{ values.name }}",
            "${{ values.name }}/raw.txt": "${{ values.name }}",
            "z.txt": "${{ values.name }}",
        },
    )
    target = tmp_path / "out"
    patterns = ["docs", ".github/**", "!.github/keep", "*/raw.txt", "{q,z}.txt"]
    render_skeleton(source, target, VALUES, copy_without_templating=patterns)
    raw = b"${{ values.name }}"
    assert tree(target) == {
        "docs/a.md": raw,
        "docs/deep/b.md": raw,
        ".github/x.yml": raw,
        ".github/keep/y.yml": b"svc",
        "svc/raw.txt": b"${{ values.name }}",
        "z.txt": raw,
    }


def test_copy_without_templating_must_be_a_list(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"a": "a"})
    with pytest.raises(RenderError, match="array"):
        render_skeleton(source, tmp_path / "out", VALUES, copy_without_templating="a")


@pytest.mark.parametrize(
    ("setting", "extension"), [(True, ".njk"), ("tmpl", ".tmpl"), (".j2", ".j2")]
)
def test_template_file_extension(tmp_path: Path, setting: bool | str, extension: str) -> None:
    source = write(
        tmp_path / "s",
        {
            f"README.md{extension}": "# ${{ values.name }}",
            "plain.txt": "${{ values.name }}",
            f"${{{{ values.name }}}}.cfg{extension}": "port=${{ 1 + 1 }}",
        },
    )
    target = tmp_path / "out"
    written = render_skeleton(source, target, VALUES, template_file_extension=setting)
    assert written == ["README.md", "plain.txt", "svc.cfg"]
    assert tree(target) == {
        "README.md": b"# svc",
        "plain.txt": b"${{ values.name }}",
        "svc.cfg": b"port=2",
    }


@pytest.mark.parametrize(
    "options",
    [
        {"template_file_extension": True, "copy_without_templating": ["x"]},
        {"template_file_extension": "njk", "cookiecutter_compat": True},
    ],
)
def test_template_file_extension_does_not_combine(tmp_path: Path, options: dict[str, Any]) -> None:
    source = write(tmp_path / "s", {"a.njk": "a"})
    with pytest.raises(RenderError, match="templateFileExtension"):
        render_skeleton(source, tmp_path / "out", VALUES, **options)
    assert not (tmp_path / "out").exists()


def test_cookiecutter_compat_skeleton(tmp_path: Path) -> None:
    source = write(
        tmp_path / "s",
        {"{{ cookiecutter.name }}/setup.cfg": "name = {{ cookiecutter.name }}\n${{ values.name }}"},
    )
    render_skeleton(source, tmp_path / "out", VALUES, cookiecutter_compat=True)
    assert tree(tmp_path / "out") == {"svc/setup.cfg": b"name = svc\n$"}


def test_render_errors_name_the_skeleton_file_and_line(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"docs/index.md": "ok\n${{ values.name | nope }}\n"})
    with pytest.raises(RenderError) as raised:
        render_skeleton(source, tmp_path / "out", VALUES)
    assert "docs/index.md" in str(raised.value) and "line 2" in str(raised.value)


def test_trailing_newlines_and_crlf_are_kept(tmp_path: Path) -> None:
    files = {
        "two.txt": "${{ values.name }}\n\n",
        "none.txt": "${{ values.name }}",
        "crlf.txt": "a\r\nb\r\n",
    }
    render_skeleton(write(tmp_path / "s", files), tmp_path / "out", VALUES)
    assert tree(tmp_path / "out") == {
        "two.txt": b"svc\n\n",
        "none.txt": b"svc",
        "crlf.txt": b"a\r\nb\r\n",
    }


# Safety


@pytest.mark.parametrize("value", ["../escaped", "a/../../escaped", "x/../../../escaped"])
def test_a_name_that_renders_outside_is_refused(tmp_path: Path, value: str) -> None:
    source = write(tmp_path / "s", {"${{ values.where }}.txt": "x"})
    target = tmp_path / "deep" / "out"
    with pytest.raises(OutsideWorkspace, match="outside"):
        render_skeleton(source, target, {"where": value})
    assert not list(tmp_path.rglob("escaped*"))


def test_a_symlink_in_the_skeleton_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    source = write(tmp_path / "s", {"a.txt": "a"})
    (source / "link.txt").symlink_to(secret)
    target = tmp_path / "out"
    with pytest.raises(OutsideWorkspace, match=r"link\.txt"):
        render_skeleton(source, target, VALUES)
    assert not target.exists() or not any(target.iterdir())


def test_a_symlinked_folder_in_the_skeleton_is_refused(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"x.txt": "x"})
    source = write(tmp_path / "s", {"a.txt": "a"})
    (source / "folder").symlink_to(outside)
    with pytest.raises(OutsideWorkspace, match="folder"):
        render_skeleton(source, tmp_path / "out", VALUES)


def test_a_target_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"a.txt": "a"})
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutsideWorkspace):
        render_skeleton(source, tmp_path / "out", VALUES)
    assert not any((tmp_path / "elsewhere").iterdir())


def test_nothing_is_written_through_a_link_in_the_target(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"docs/x.txt": "x", "f.txt": "f"})
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "out"
    target.mkdir()
    (target / "docs").symlink_to(outside)
    (target / "f.txt").symlink_to(outside / "f.txt")
    with pytest.raises(OutsideWorkspace):
        render_skeleton(source, target, VALUES, replace=True)
    assert not any(outside.iterdir())


def test_large_files_are_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"small.txt": "s"})
    with (source / "big.bin").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(RenderError, match=r"big\.bin"):
        render_skeleton(source, tmp_path / "out", VALUES)


def test_target_inside_the_skeleton_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"a.txt": "a"})
    with pytest.raises(RenderError, match="within"):
        render_skeleton(source, source / "out", VALUES)


def test_a_source_that_is_not_a_real_folder_is_refused(tmp_path: Path) -> None:
    real = write(tmp_path / "real", {"a.txt": "a"})
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(ScaffoldError):
        render_skeleton(tmp_path / "link", tmp_path / "out", VALUES)
    with pytest.raises(ScaffoldError):
        render_skeleton(real / "a.txt", tmp_path / "out", VALUES)


# ---------------------------------------------------------------------------------------
# render_file and copy_plain


def test_render_file(tmp_path: Path) -> None:
    template = tmp_path / "t.txt"
    template.write_bytes(b"hello ${{ values.name }}\r\n")
    target = tmp_path / "ws" / "sub" / "out.txt"
    assert render_file(template, target, VALUES) is True
    assert target.read_bytes() == b"hello svc\r\n"
    template.write_text("second ${{ values.name }}")
    assert render_file(template, target, VALUES) is False
    assert target.read_bytes() == b"hello svc\r\n"
    assert render_file(template, target, VALUES, replace=True) is True
    assert target.read_text() == "second svc"
    cookie = tmp_path / "c.txt"
    cookie.write_text("{{ cookiecutter.name }}")
    assert render_file(cookie, tmp_path / "ws" / "c.txt", VALUES, cookiecutter_compat=True)
    assert (tmp_path / "ws" / "c.txt").read_text() == "svc"


def test_render_file_refuses_links(tmp_path: Path) -> None:
    template = tmp_path / "t.txt"
    template.write_text("x")
    (tmp_path / "link.txt").symlink_to(template)
    with pytest.raises(OutsideWorkspace):
        render_file(tmp_path / "link.txt", tmp_path / "out.txt", VALUES)
    (tmp_path / "out-link.txt").symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(OutsideWorkspace):
        render_file(template, tmp_path / "out-link.txt", VALUES, replace=True)
    assert not (tmp_path / "elsewhere.txt").exists()


def test_copy_plain(tmp_path: Path) -> None:
    source = write(
        tmp_path / "s", {"a/${{ x }}.txt": "${{ values.name }}", "logo.png": PNG, ".env": "E"}
    )
    (source / "logo.png").chmod(0o751)
    target = write(tmp_path / "out", {".env": "kept"})
    assert copy_plain(source, target) == ["a/${{ x }}.txt", "logo.png"]
    assert tree(target) == {
        "a/${{ x }}.txt": b"${{ values.name }}",
        "logo.png": PNG,
        ".env": b"kept",
    }
    assert stat.S_IMODE((target / "logo.png").stat().st_mode) == 0o751
    assert copy_plain(source, target, replace=True) == [".env", "a/${{ x }}.txt", "logo.png"]
    assert (target / ".env").read_text() == "E"


def test_copy_plain_refuses_links(tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"a.txt": "a"})
    os.symlink("/etc/passwd", source / "passwd")
    with pytest.raises(OutsideWorkspace):
        copy_plain(source, tmp_path / "out")
    assert not (tmp_path / "out" / "passwd").exists()
