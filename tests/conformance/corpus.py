"""Single-document catalog descriptors for the Backstage conformance test.

`build_corpus()` returns `{id: yaml_text}`. Each descriptor is written to its own
file `<id>.yaml` (see `write_corpus`) and judged twice: by Backstage's own code
(`oracle.js`) and by Backlot's `validate` command. The ids are valid entity names,
and every descriptor that can be accepted has its own entity ref, so that no two
files of the corpus conflict with each other.

Most descriptors are built from Python values by a small block-style emitter that
quotes every string which YAML 1.1 or 1.2 could read as something else; the cases
that are about YAML itself use `Raw` scalars or literal text.
"""

from __future__ import annotations

import copy
import json
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "EMPTY_DOCUMENT_IDS",
    "Raw",
    "build_corpus",
    "write_corpus",
]


class Raw(str):
    """A scalar written verbatim, unquoted (for the YAML resolution cases)."""

    __slots__ = ()


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()
"""Merge value that removes the key."""

# Descriptors that hold no entity at all: Backstage skips them (no verdict).
EMPTY_DOCUMENT_IDS = frozenset({"doc-empty-file", "doc-comment-only", "doc-tilde", "doc-separator"})

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*")
# Plain words that YAML 1.1 or 1.2 resolve to something other than a string.
_SPECIAL = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"})

TEMPLATE_API = "scaffolder.backstage.io/v1beta3"
OPENAPI = (
    "openapi: 3.0.0\ninfo:\n  title: Example\n  version: 1.0.0\npaths:\n"
    "  /ping:\n    get:\n      responses:\n        '200':\n          description: ok\n"
)

BASE_SPECS: dict[str, dict[str, Any]] = {
    "Component": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    "API": {"type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": OPENAPI},
    "Resource": {"type": "database", "owner": "team-a"},
    "System": {"owner": "team-a"},
    "Domain": {"owner": "team-a"},
    "Group": {"type": "team", "children": []},
    "User": {"memberOf": ["team-a"]},
    "Location": {"type": "file", "target": "./no-such-folder/*.yaml", "presence": "optional"},
    "Template": {
        "owner": "team-a",
        "type": "service",
        "parameters": [
            {
                "title": "Fill in some steps",
                "required": ["name"],
                "properties": {"name": {"title": "Name", "type": "string"}},
            }
        ],
        "steps": [
            {
                "id": "fetch",
                "name": "Fetch",
                "action": "fetch:template",
                "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}},
            }
        ],
        "output": {
            "links": [{"title": "Repository", "url": "${{ steps.publish.output.remoteUrl }}"}]
        },
    },
}


# ----------------------------------------------------------------------------- emitter


def _scalar(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _SPECIAL:
            return value
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot emit {value!r}")


def _is_block(value: Any) -> bool:
    return isinstance(value, Mapping | list) and len(value) > 0


def _emit(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if _is_block(item):
                lines.append(f"{pad}{_scalar(key)}:")
                lines.extend(_emit(item, indent + 2))
            else:
                lines.append(f"{pad}{_scalar(key)}: {_inline(item)}")
    elif isinstance(value, list):
        for item in value:
            if _is_block(item):
                nested = _emit(item, indent + 2)
                nested[0] = f"{pad}- {nested[0][indent + 2 :]}"
                lines.extend(nested)
            else:
                lines.append(f"{pad}- {_inline(item)}")
    else:
        lines.append(pad + _scalar(value))
    return lines


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def to_yaml(value: Any) -> str:
    """Block-style YAML for a descriptor built from Python values."""
    return "\n".join(_emit(value, 0)) + "\n"


# ----------------------------------------------------------------------------- builder


def base(kind: str, name: str) -> dict[str, Any]:
    """A valid descriptor of `kind` named `name`."""
    return {
        "apiVersion": TEMPLATE_API if kind == "Template" else "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": copy.deepcopy(BASE_SPECS[kind]),
    }


def _merge(target: dict[str, Any], changes: Mapping[str, Any] | None) -> None:
    for key, value in (changes or {}).items():
        if value is DELETE:
            target.pop(key, None)
        else:
            target[key] = value


class _Corpus:
    def __init__(self) -> None:
        self.docs: dict[str, str] = {}

    def text(self, doc_id: str, text: str) -> None:
        if not _ID.fullmatch(doc_id) or len(doc_id) > 63:
            raise ValueError(f"corpus id {doc_id!r} must be a short lowercase name")
        if doc_id in self.docs:
            raise ValueError(f"duplicate corpus id {doc_id!r}")
        self.docs[doc_id] = text

    def add(
        self,
        doc_id: str,
        kind: str = "Component",
        *,
        name: Any = None,
        metadata: Mapping[str, Any] | None = None,
        spec: Mapping[str, Any] | None = None,
        root: Mapping[str, Any] | None = None,
    ) -> None:
        """A descriptor of `kind` named `doc_id` (or `name`), with merged changes."""
        doc = base(kind, doc_id)
        if name is not None:
            doc["metadata"]["name"] = name
        _merge(doc["metadata"], metadata)
        _merge(doc["spec"], spec)
        _merge(doc, root)
        self.text(doc_id, to_yaml(doc))


def _dns_subdomain(length: int) -> str:
    """A lowercase DNS subdomain of exactly `length` characters."""
    labels: list[str] = []
    remaining = length
    letter = 0
    while remaining > 0:
        size = min(63, remaining if not labels else remaining - 1)
        if labels:
            remaining -= 1
        labels.append("abcdefghij"[letter % 10] * size)
        remaining -= size
        letter += 1
    subdomain = ".".join(labels)
    assert len(subdomain) == length, (length, subdomain)
    return subdomain


# ----------------------------------------------------------------------------- the cases


def _baselines(c: _Corpus) -> None:
    for kind in BASE_SPECS:
        c.add(f"{kind.lower()}-valid", kind)
    c.add("component-v1beta1", root={"apiVersion": "backstage.io/v1beta1"})
    c.add(
        "component-full",
        metadata={
            "title": "Full component",
            "description": "Every optional field.",
            "labels": {"tier": "backend", "example.com/team": "Team_A"},
            "annotations": {
                "backstage.io/techdocs-ref": "dir:.",
                "github.com/project-slug": "acme/full",
            },
            "tags": ["java", "c++", "c#", "web-app", "k8s:prod"],
            "links": [
                {"url": "https://example.com/admin", "title": "Admin", "icon": "dashboard"},
                {"url": "https://example.com/logs", "type": "logs"},
            ],
            "uid": "e01199ab-08cc-44c2-8e19-5c29ded82521",
            "etag": "lsndfkjsndfkjnsdfkjnsd==",
            "x-custom": {"anything": [1, 2, {"nested": True}]},
        },
        spec={
            "system": "payments",
            "subcomponentOf": "component:full-parent",
            "providesApis": ["full-api", "api:other/full-api-2"],
            "consumesApis": ["api:default/billing"],
            "dependsOn": ["resource:db", "component:default/cache"],
            "dependencyOf": ["component:frontend"],
        },
    )
    c.add("component-owner-user", spec={"owner": "user:jane"})
    c.add("component-owner-full-ref", spec={"owner": "group:default/team-a"})
    c.add("component-owner-exotic-ref", spec={"owner": "user:ns/Jane"})
    c.add("component-owner-namespaced", spec={"owner": "other-ns/team-b"})
    c.add("component-owner-uppercase-ref", spec={"owner": "Group:Default/Team-A"})
    c.add("component-in-namespace", metadata={"namespace": "team-ns"}, spec={"owner": "team-a"})
    c.add("component-lifecycle-custom", spec={"lifecycle": "sunset", "type": "anything goes"})
    c.add(
        "api-grpc",
        "API",
        spec={"type": "grpc", "definition": 'syntax = "proto3";\n', "system": "payments"},
    )
    c.add(
        "resource-full",
        "Resource",
        spec={
            "system": "payments",
            "dependsOn": ["resource:other-db"],
            "dependencyOf": ["component:resource-user"],
        },
    )
    c.add("system-full", "System", spec={"domain": "commerce", "type": "product"})
    c.add("domain-subdomain", "Domain", spec={"subdomainOf": "commerce", "type": "area"})
    c.add(
        "group-full",
        "Group",
        spec={
            "parent": "org",
            "children": ["team-b", "group:other/team-c"],
            "members": ["jane", "user:default/john"],
            "profile": {"displayName": "Team A", "email": "team-a@example.com", "picture": "x"},
        },
    )
    c.add("user-no-groups", "User", spec={"memberOf": []})
    c.add(
        "user-full",
        "User",
        spec={
            "memberOf": ["team-a", "group:other/team-z"],
            "profile": {"displayName": "Jane Doe", "email": "jane@example.com"},
        },
    )
    c.add(
        "location-targets",
        "Location",
        spec={
            "target": DELETE,
            "targets": ["./no-such-folder/a.yaml", "./no-such-folder/b.yaml"],
        },
    )
    c.add("location-v1beta1", "Location", root={"apiVersion": "backstage.io/v1beta1"})
    c.add("location-empty-spec", "Location", root={"spec": {}})


def _names(c: _Corpus) -> None:
    accepted_names = {
        "name-1-char": "a",
        "name-63-chars": "n" + "x" * 61 + "n",
        "name-dots": "a.b.c",
        "name-underscore": "a_b",
        "name-double-dash": "a--b",
        "name-double-dot": "a..b",
        "name-double-underscore": "a__b",
        "name-mixed-separators": "a-_.b",
        "name-uppercase": "MyService",
        "name-digits-quoted": "123",
    }
    rejected_names: dict[str, Any] = {
        "name-64-chars": "n" + "x" * 62 + "n",
        "name-leading-dash": "-leading",
        "name-trailing-dash": "trailing-",
        "name-leading-dot": ".leading",
        "name-trailing-dot": "trailing.",
        "name-leading-underscore": "_leading",
        "name-trailing-underscore": "trailing_",
        "name-unicode": "caf\u00e9",
        "name-space": "my service",
        "name-trailing-space": "trailing ",
        "name-slash": "a/b",
        "name-colon": "a:b",
        "name-empty": "",
        "name-number": 123,
        "name-list": ["a"],
        "name-object": {"a": "b"},
    }
    for doc_id, name in {**accepted_names, **rejected_names}.items():
        c.add(doc_id, name=name)
    c.add("name-missing", metadata={"name": DELETE})
    c.add("name-null", name=Raw("null"))


def _yaml_scalars(c: _Corpus) -> None:
    # Strings in YAML 1.2 (Backstage), something else in YAML 1.1.
    for word in ["yes", "no", "on", "off", "y", "n", "1_000", "0b101", "2001-12-14"]:
        c.add(f"yaml-name-{word.replace('_', '-')}", name=Raw(word))
    # Not strings in YAML 1.2.
    for doc_id, word in {
        "yaml-name-true": "true",
        "yaml-name-true-capital": "True",
        "yaml-name-null-word": "Null",
        "yaml-name-tilde": "~",
        "yaml-name-octal": "0o17",
        "yaml-name-hex": "0x1F",
        "yaml-name-exponent": "1e3",
        "yaml-name-inf": ".inf",
        "yaml-name-nan": ".nan",
        "yaml-name-leading-zero": "017",
        "yaml-name-plus": "+12",
        "yaml-name-float": "1.5",
    }.items():
        c.add(doc_id, name=Raw(word))
    c.add("yaml-str-tag", name=Raw("!!str 12345"))
    c.add("yaml-unknown-tag", name=Raw("!custom yaml-unknown-tag"))
    c.add("yaml-tags-yes-on", metadata={"tags": [Raw("yes"), Raw("on"), Raw("off")]})
    c.add("yaml-label-value-yes", metadata={"labels": {"enabled": Raw("yes")}})
    c.add("yaml-annotation-value-on", metadata={"annotations": {"example.com/flag": Raw("on")}})
    c.add("yaml-annotation-value-true", metadata={"annotations": {"example.com/flag": Raw("true")}})
    c.add("yaml-spec-type-yes", spec={"type": Raw("yes")})
    c.add("yaml-spec-type-exponent", spec={"type": Raw("1e3")})
    c.add("yaml-spec-lifecycle-octal", spec={"lifecycle": Raw("0o17")})
    c.add("yaml-spec-owner-hex", spec={"owner": Raw("0x1F")})
    c.add("yaml-spec-owner-date", spec={"owner": Raw("2020-01-01")})
    c.add("yaml-tag-date", metadata={"tags": [Raw("2001-01-01")]})


def _lit(text: str) -> str:
    """A literal YAML text written as an indented triple-quoted string."""
    return textwrap.dedent(text).lstrip("\n")


COMPONENT_TEXT = _lit(
    """
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: {name}
    spec:
      type: service
      lifecycle: production
      owner: team-a
    """
)


def _yaml_documents(c: _Corpus) -> None:
    def component(name: str) -> str:
        return COMPONENT_TEXT.format(name=name)

    c.text("doc-empty-file", "")
    c.text("doc-comment-only", "# nothing here\n")
    c.text("doc-tilde", "~\n")
    c.text("doc-separator", "---\n")
    c.text("doc-list", "- apiVersion: backstage.io/v1alpha1\n  kind: Component\n")
    c.text("doc-string", "just a string\n")
    c.text("doc-number", "42\n")
    c.text("doc-bom", "\ufeff" + component("doc-bom"))
    c.text("doc-crlf", component("doc-crlf").replace("\n", "\r\n"))
    c.text("doc-explicit-start-end", "---\n" + component("doc-explicit-start-end") + "...\n")
    c.text("doc-yaml-1-2-directive", "%YAML 1.2\n---\n" + component("doc-yaml-1-2-directive"))
    # A %YAML 1.1 directive switches npm yaml to YAML 1.1: `yes` is a boolean, `<<` merges.
    c.text(
        "doc-yaml-1-1-directive-yes",
        "%YAML 1.1\n---\n"
        + component("yes").replace("  name: yes\n", "  name: yes\n  namespace: yaml-1-1\n"),
    )
    c.text(
        "doc-yaml-1-1-directive-merge",
        _lit(
            """
            %YAML 1.1
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: doc-yaml-1-1-directive-merge
              x-shared: &shared
                type: service
                lifecycle: production
                owner: team-a
            spec:
              <<: *shared
            """
        ),
    )
    c.text(
        "doc-flow-style",
        '{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": '
        '{"name": "doc-flow-style"}, "spec": {"type": "service", "lifecycle": '
        '"production", "owner": "team-a"}}\n',
    )
    c.text(
        "doc-quoted-keys",
        _lit(
            """
            'apiVersion': backstage.io/v1alpha1
            "kind": Component
            metadata:
              "name": doc-quoted-keys
            spec: {type: service, lifecycle: production, owner: team-a}
            """
        ),
    )
    c.text(
        "doc-anchor-alias",
        _lit(
            """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: doc-anchor-alias
              x-tags: &tags [java, data]
              tags: *tags
            spec:
              type: service
              lifecycle: &life production
              owner: team-a
              x-lifecycle: *life
            """
        ),
    )
    c.text(
        "doc-block-scalars",
        _lit(
            """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: doc-block-scalars
              description: |
                Line one.
                Line two.
              title: >-
                Folded
                title
            spec:
              type: service
              lifecycle: production
              owner: team-a
            """
        ),
    )
    c.text("doc-tab-after-colon", component("doc-tab-after-colon").replace("name: ", "name:\t"))
    c.text(
        "doc-tab-indentation",
        component("doc-tab-indentation").replace("  name:", "\tname:"),
    )
    c.text(
        "doc-duplicate-root-key",
        component("doc-duplicate-root-key").replace("kind: Component\n", "kind: Component\n" * 2),
    )
    c.text(
        "doc-duplicate-name",
        component("doc-duplicate-name").replace(
            "  name: doc-duplicate-name\n", "  name: doc-duplicate-name\n" * 2
        ),
    )
    c.text("doc-duplicate-spec-key", component("doc-duplicate-spec-key") + "  owner: team-b\n")
    c.text(
        "doc-duplicate-quoted-key", component("doc-duplicate-quoted-key") + '  "type": website\n'
    )
    c.text("doc-unclosed-quote", component('"doc-unclosed-quote'))
    c.text(
        "doc-bad-indentation",
        component("doc-bad-indentation").replace("  lifecycle", "   lifecycle"),
    )
    # Merge keys are off in YAML 1.2: `<<` stays a literal key holding the aliased map.
    shared = _lit(
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
          x-shared: &shared
            type: service
            lifecycle: production
            owner: team-a
        """
    )
    c.text(
        "merge-spec-required-fields",
        shared.format(name="merge-spec-required-fields") + "spec:\n  <<: *shared\n",
    )
    c.text(
        "merge-spec-extra-fields",
        shared.format(name="merge-spec-extra-fields")
        + "spec:\n  <<: *shared\n  type: service\n  lifecycle: production\n  owner: team-a\n",
    )
    c.text(
        "merge-metadata-name",
        _lit(
            """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            x-base: &base
              name: merge-metadata-name
            metadata:
              <<: *base
            spec:
              type: service
              lifecycle: production
              owner: team-a
            """
        ),
    )
    c.text(
        "merge-metadata-labels",
        _lit(
            """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: merge-metadata-labels
              x-labels: &labels
                labels:
                  tier: backend
              <<: *labels
            spec:
              type: service
              lifecycle: production
              owner: team-a
            """
        ),
    )
    c.text(
        "merge-root",
        _lit(
            """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: merge-root
              x-spec: &spec
                spec:
                  type: service
                  lifecycle: production
                  owner: team-a
            <<: *spec
            """
        ),
    )


def _namespaces(c: _Corpus) -> None:
    accepted: dict[str, Any] = {
        "ns-valid": "team-a",
        "ns-default": "default",
        "ns-double-dash": "team--a",
        "ns-63-chars": "n" * 63,
        "ns-digits": "123",
    }
    rejected: dict[str, Any] = {
        "ns-uppercase": "Team-A",
        "ns-64-chars": "n" * 64,
        "ns-empty": "",
        "ns-null": None,
        "ns-dot": "team.a",
        "ns-underscore": "team_a",
        "ns-leading-dash": "-team",
        "ns-trailing-dash": "team-",
        "ns-number": 5,
        "ns-space": "team a",
    }
    for doc_id, namespace in {**accepted, **rejected}.items():
        c.add(doc_id, metadata={"namespace": namespace})


def _labels(c: _Corpus) -> None:
    accepted_keys = {
        "label-key-plain": "app",
        "label-key-prefixed": "example.com/app",
        "label-key-prefix-253": f"{_dns_subdomain(253)}/app",
        "label-key-uppercase-name": "example.com/App",
        "label-key-dotted-name": "app.kubernetes.io",
        "label-key-name-63": "example.com/" + "k" * 63,
    }
    rejected_keys = {
        "label-key-prefix-254": f"{_dns_subdomain(254)}/app",
        "label-key-two-slashes": "example.com/a/b",
        "label-key-uppercase-prefix": "Example.com/app",
        "label-key-underscore-prefix": "my_domain.com/app",
        "label-key-empty-prefix": "/app",
        "label-key-empty-name": "example.com/",
        "label-key-empty": "",
        "label-key-space": "my label",
        "label-key-name-64": "example.com/" + "k" * 64,
        "label-key-leading-dash": "-app",
    }
    for doc_id, key in {**accepted_keys, **rejected_keys}.items():
        c.add(doc_id, metadata={"labels": {key: "value"}})
    accepted_values: dict[str, Any] = {
        "label-value-empty": "",
        "label-value-version": "v1.2.3",
        "label-value-uppercase": "Prod_Env",
        "label-value-63": "v" * 63,
    }
    rejected_values: dict[str, Any] = {
        "label-value-space": "has space",
        "label-value-64": "v" * 64,
        "label-value-leading-dash": "-x",
        "label-value-null": None,
        "label-value-number": 1,
        "label-value-list": ["a"],
        "label-value-slash": "a/b",
    }
    for doc_id, value in {**accepted_values, **rejected_values}.items():
        c.add(doc_id, metadata={"labels": {"tier": value}})
    c.add("labels-null", metadata={"labels": None})
    c.add("labels-list", metadata={"labels": ["tier"]})
    c.add("labels-empty", metadata={"labels": {}})


def _annotations(c: _Corpus) -> None:
    c.add("annotations-null", metadata={"annotations": Raw("~")})
    c.add("annotations-empty", metadata={"annotations": {}})
    c.add("annotations-list", metadata={"annotations": ["a"]})
    c.add("annotations-string", metadata={"annotations": "a=b"})
    accepted: dict[str, Any] = {
        "annotation-techdocs-ref": {"backstage.io/techdocs-ref": "dir:."},
        "annotation-plain-key": {"owner-email": "a@example.com"},
        "annotation-value-empty": {"example.com/note": ""},
        "annotation-value-multiline": {"example.com/note": "line one\nline two\n"},
        "annotation-value-spaces": {"example.com/note": "  anything at all: {}  "},
        "annotation-key-prefix-253": {f"{_dns_subdomain(253)}/note": "x"},
    }
    rejected: dict[str, Any] = {
        "annotation-value-number": {"example.com/port": 8080},
        "annotation-value-null": {"example.com/note": None},
        "annotation-value-bool": {"example.com/flag": False},
        "annotation-value-list": {"example.com/list": ["a"]},
        "annotation-value-object": {"example.com/obj": {"a": "b"}},
        "annotation-key-space": {"my note": "x"},
        "annotation-key-two-slashes": {"example.com/a/b": "x"},
        "annotation-key-uppercase-prefix": {"Example.com/note": "x"},
        "annotation-key-prefix-254": {f"{_dns_subdomain(254)}/note": "x"},
        "annotation-key-trailing-dot": {"note.": "x"},
    }
    for doc_id, values in {**accepted, **rejected}.items():
        c.add(doc_id, metadata={"annotations": values})


def _tags(c: _Corpus) -> None:
    accepted: dict[str, Any] = {
        "tags-valid": ["java", "data", "a-b-c"],
        "tags-colon": ["k8s:prod", "a:-b"],
        "tags-plus-hash": ["c++", "c#", "f#-lang"],
        "tags-63-chars": ["t" * 63],
        "tags-empty-list": [],
        "tags-duplicates": ["java", "java"],
        "tags-digits": ["123"],
    }
    rejected: dict[str, Any] = {
        "tags-double-dash": ["web--app"],
        "tags-uppercase": ["Java"],
        "tags-dot": ["node.js"],
        "tags-underscore": ["my_tag"],
        "tags-64-chars": ["t" * 64],
        "tags-empty-string": [""],
        "tags-number": [5],
        "tags-null-item": [None],
        "tags-leading-dash": ["-java"],
        "tags-trailing-dash": ["java-"],
        "tags-space": ["two words"],
        "tags-slash": ["a/b"],
        "tags-nested-list": [["java"]],
        "tags-string": "java",
        "tags-null": None,
        "tags-object": {"java": True},
    }
    for doc_id, tags in {**accepted, **rejected}.items():
        c.add(doc_id, metadata={"tags": tags})


def _links(c: _Corpus) -> None:
    accepted: dict[str, Any] = {
        "links-valid": [{"url": "https://example.com", "title": "Home"}],
        "links-all-fields": [
            {"url": "https://example.com/d", "title": "Dash", "icon": "dashboard", "type": "admin"}
        ],
        "links-extra-field": [{"url": "https://example.com", "foo": "bar", "order": 1}],
        "links-mailto": [{"url": "mailto:team@example.com"}],
        "links-custom-scheme": [{"url": "localhost:3000"}],
        "links-path-space": [{"url": "https://example.com/a b"}],
        "links-empty-list": [],
        "links-url-only": [{"url": "http://localhost:8080/x?y=1#z"}],
    }
    rejected: dict[str, Any] = {
        "links-missing-url": [{"title": "No url"}],
        "links-invalid-url": [{"url": "not a url"}],
        "links-relative-url": [{"url": "/docs/index.html"}],
        "links-schemeless-url": [{"url": "www.example.com"}],
        "links-scheme-only": [{"url": "https://"}],
        "links-host-space": [{"url": "http://exa mple.com"}],
        "links-title-spaces": [{"url": "https://example.com", "title": "   "}],
        "links-title-empty": [{"url": "https://example.com", "title": ""}],
        "links-title-number": [{"url": "https://example.com", "title": 5}],
        "links-title-null": [{"url": "https://example.com", "title": None}],
        "links-icon-spaces": [{"url": "https://example.com", "icon": "  "}],
        "links-icon-empty": [{"url": "https://example.com", "icon": ""}],
        "links-type-empty": [{"url": "https://example.com", "type": ""}],
        "links-type-number": [{"url": "https://example.com", "type": 1}],
        "links-url-number": [{"url": 5}],
        "links-url-null": [{"url": None}],
        "links-url-empty": [{"url": ""}],
        "links-item-string": ["https://example.com"],
        "links-object": {"url": "https://example.com"},
    }
    for doc_id, links in {**accepted, **rejected}.items():
        c.add(doc_id, metadata={"links": links})


def _title_description(c: _Corpus) -> None:
    cases: dict[str, dict[str, Any]] = {
        "title-valid": {"title": "A nice title"},
        "title-spaces": {"title": "   "},
        "title-number": {"title": 42},
        "title-null": {"title": None},
        "title-empty": {"title": ""},
        "title-list": {"title": ["a"]},
        "description-valid": {"description": "Does things."},
        "description-empty": {"description": ""},
        "description-number": {"description": 3.5},
        "description-null": {"description": None},
        "description-bool": {"description": True},
        "description-object": {"description": {"text": "x"}},
        "metadata-uid-empty": {"uid": ""},
        "metadata-etag-number": {"etag": 5},
        "metadata-custom-fields": {"owner-team": "a", "x-anything": [None, 1, "b"]},
    }
    for doc_id, metadata in cases.items():
        c.add(doc_id, metadata=metadata)


def _envelope(c: _Corpus) -> None:
    c.add("env-missing-api-version", root={"apiVersion": DELETE})
    c.add("env-missing-kind", root={"kind": DELETE})
    c.add("env-missing-metadata", root={"metadata": DELETE})
    c.add("env-metadata-null", root={"metadata": None})
    c.add("env-metadata-list", root={"metadata": ["name"]})
    c.add("env-api-version-number", root={"apiVersion": 1})
    c.add("env-api-version-empty", root={"apiVersion": ""})
    c.add("env-api-version-v2", root={"apiVersion": "backstage.io/v2"})
    c.add("env-api-version-no-group", root={"apiVersion": "v1alpha1"})
    c.add("env-api-version-uppercase", root={"apiVersion": "Backstage.io/v1alpha1"})
    c.add("env-api-version-foreign", root={"apiVersion": "example.com/v1alpha1"})
    c.add("env-kind-unknown", root={"kind": "Service"})
    c.add("env-kind-lowercase", root={"kind": "component"})
    c.add("env-kind-uppercase", root={"kind": "COMPONENT"})
    c.add("env-kind-space", root={"kind": "My Kind"})
    c.add("env-kind-empty", root={"kind": ""})
    c.add("env-kind-number", root={"kind": 7})
    c.add("env-root-relations", root={"relations": []})
    c.add("env-root-status", root={"status": {}})
    c.add("env-root-foo", root={"foo": "bar"})
    c.add("env-root-spec-capital", root={"Spec": {}})
    c.add(
        "env-template-v1beta2", "Template", root={"apiVersion": "scaffolder.backstage.io/v1beta2"}
    )
    c.add("env-template-backstage-api", "Template", root={"apiVersion": "backstage.io/v1alpha1"})
    c.add("env-template-lowercase-kind", "Template", root={"kind": "template"})


def _spec_shapes(c: _Corpus) -> None:
    for kind in ["Component", "API", "Location", "Template", "Group"]:
        c.add(f"spec-null-{kind.lower()}", kind, root={"spec": None})
        c.add(f"spec-missing-{kind.lower()}", kind, root={"spec": DELETE})
    c.add("spec-list", root={"spec": ["type"]})
    c.add("spec-string", root={"spec": "service"})
    c.add("spec-empty-component", root={"spec": {}})
    c.add("spec-empty-system", "System", root={"spec": {}})


def _required_fields(c: _Corpus) -> None:
    missing = {
        "Component": ["type", "lifecycle", "owner"],
        "API": ["type", "lifecycle", "owner", "definition"],
        "Resource": ["type", "owner"],
        "System": ["owner"],
        "Domain": ["owner"],
        "Group": ["type", "children"],
        "User": ["memberOf"],
        "Template": ["type", "steps"],
    }
    for kind, fields in missing.items():
        for field in fields:
            c.add(f"missing-{kind.lower()}-{field.lower()}", kind, spec={field: DELETE})
    c.add("optional-template-owner", "Template", spec={"owner": DELETE})
    c.add("optional-location-target", "Location", spec={"target": DELETE, "type": DELETE})


def _wrong_types(c: _Corpus) -> None:
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "type-component-type-number": ("Component", {"type": 5}),
        "type-component-lifecycle-bool": ("Component", {"lifecycle": True}),
        "type-component-owner-number": ("Component", {"owner": 5}),
        "type-component-owner-empty": ("Component", {"owner": ""}),
        "type-component-owner-list": ("Component", {"owner": ["team-a"]}),
        "type-component-type-empty": ("Component", {"type": ""}),
        "type-component-system-number": ("Component", {"system": 5}),
        "type-component-system-empty": ("Component", {"system": ""}),
        "type-component-subcomponent-list": ("Component", {"subcomponentOf": ["x"]}),
        "type-component-provides-string": ("Component", {"providesApis": "api-a"}),
        "type-component-provides-numbers": ("Component", {"providesApis": [1, 2]}),
        "type-component-consumes-empty-item": ("Component", {"consumesApis": [""]}),
        "type-component-depends-string": ("Component", {"dependsOn": "resource:db"}),
        "type-component-depends-null": ("Component", {"dependsOn": None}),
        "type-api-definition-object": ("API", {"definition": {"openapi": "3.0.0"}}),
        "type-api-definition-number": ("API", {"definition": 3}),
        "type-api-definition-empty": ("API", {"definition": ""}),
        "type-api-system-list": ("API", {"system": ["a"]}),
        "type-resource-depends-numbers": ("Resource", {"dependsOn": [5]}),
        "type-resource-type-null": ("Resource", {"type": None}),
        "type-system-domain-number": ("System", {"domain": 5}),
        "type-system-type-list": ("System", {"type": ["a"]}),
        "type-domain-subdomain-list": ("Domain", {"subdomainOf": ["a"]}),
        "type-group-children-string": ("Group", {"children": "team-b"}),
        "type-group-children-numbers": ("Group", {"children": [5]}),
        "type-group-members-empty-item": ("Group", {"members": [""]}),
        "type-group-parent-list": ("Group", {"parent": ["org"]}),
        "type-group-profile-string": ("Group", {"profile": "team"}),
        "type-group-profile-email-number": ("Group", {"profile": {"email": 5}}),
        "type-user-memberof-string": ("User", {"memberOf": "team-a"}),
        "type-user-memberof-numbers": ("User", {"memberOf": [5]}),
        "type-user-memberof-null": ("User", {"memberOf": None}),
        "type-user-displayname-empty": ("User", {"profile": {"displayName": ""}}),
        "type-location-target-number": ("Location", {"target": 5}),
        "type-location-targets-string": ("Location", {"targets": "./a.yaml"}),
        "type-location-presence-maybe": ("Location", {"presence": "maybe"}),
        "type-location-type-empty": ("Location", {"type": ""}),
        "type-location-targets-empty-item": ("Location", {"targets": [""]}),
        "type-template-type-number": ("Template", {"type": 1}),
        "type-template-lifecycle-number": ("Template", {"lifecycle": 1}),
        "type-template-owner-number": ("Template", {"owner": 1}),
    }
    for doc_id, (kind, spec) in cases.items():
        c.add(doc_id, kind, spec=spec)


def _references(c: _Corpus) -> None:
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        # rejected: the backend cannot parse them into relations
        "ref-owner-kind-only": ("Component", {"owner": "group:"}),
        "ref-owner-namespace-only": ("Component", {"owner": "team-a/"}),
        "ref-owner-empty-kind": ("Component", {"owner": ":x"}),
        "ref-owner-empty-namespace": ("Component", {"owner": "/team-a"}),
        "ref-owner-empty-ns-name": ("Component", {"owner": "group:default/"}),
        "ref-depends-no-kind": ("Component", {"dependsOn": ["storage"]}),
        "ref-depends-kind-only": ("Component", {"dependsOn": ["component:"]}),
        "ref-depends-one-bad": ("Component", {"dependsOn": ["resource:db", "component:"]}),
        "ref-dependency-of-no-kind": ("Component", {"dependencyOf": ["frontend"]}),
        "ref-provides-kind-only": ("Component", {"providesApis": ["api:"]}),
        "ref-consumes-empty-ns": ("Component", {"consumesApis": ["api:/x"]}),
        "ref-system-kind-only": ("Component", {"system": "system:"}),
        "ref-subcomponent-ns-only": ("Component", {"subcomponentOf": "default/"}),
        "ref-api-owner-kind-only": ("API", {"owner": "group:"}),
        "ref-resource-depends-no-kind": ("Resource", {"dependsOn": ["storage"]}),
        "ref-resource-dependency-of-bad": ("Resource", {"dependencyOf": ["x"]}),
        "ref-system-domain-ns-only": ("System", {"domain": "x/"}),
        "ref-domain-subdomain-kind-only": ("Domain", {"subdomainOf": "domain:"}),
        "ref-domain-owner-empty-kind": ("Domain", {"owner": ":team"}),
        "ref-group-parent-kind-only": ("Group", {"parent": "group:"}),
        "ref-group-children-ns-only": ("Group", {"children": ["x/"]}),
        "ref-group-members-kind-only": ("Group", {"members": ["user:"]}),
        "ref-user-memberof-empty-name": ("User", {"memberOf": ["group:default/"]}),
        "ref-template-owner-kind-only": ("Template", {"owner": "group:"}),
        # accepted: exotic but parseable
        "ref-owner-two-colons": ("Component", {"owner": "a:b:c"}),
        "ref-owner-two-slashes": ("Component", {"owner": "a/b/c"}),
        "ref-owner-with-space": ("Component", {"owner": "team a"}),
        "ref-depends-with-kind": ("Component", {"dependsOn": ["Resource:default/db"]}),
        "ref-dependency-of-with-kind": ("Component", {"dependencyOf": ["component:frontend"]}),
        "ref-group-members-namespaced": ("Group", {"members": ["other/jane"]}),
        "ref-template-owner-user": ("Template", {"owner": "user:default/jane"}),
        "ref-location-target-unparsed": ("Location", {"target": "group:"}),
    }
    for doc_id, (kind, spec) in cases.items():
        c.add(doc_id, kind, spec=spec)
    c.add(
        "ref-relative-in-namespace",
        metadata={"namespace": "team-ns"},
        spec={"owner": "team-a", "dependsOn": ["resource:db"]},
    )


def _templates(c: _Corpus) -> None:
    steps = BASE_SPECS["Template"]["steps"]
    cases: dict[str, dict[str, Any]] = {
        # accepted
        "template-params-object": {"parameters": {"properties": {"name": {"type": "string"}}}},
        "template-no-params": {"parameters": DELETE},
        "template-no-output": {"output": DELETE},
        "template-steps-empty": {"steps": []},
        "template-output-string": {
            "output": {"repo": "${{ steps.publish.output.repoContentsUrl }}"}
        },
        "template-output-links-entity-ref": {
            "output": {"links": [{"title": "Open", "icon": "catalog", "entityRef": "x"}]}
        },
        "template-output-text": {"output": {"text": [{"title": "Done", "content": "**ok**"}]}},
        "template-step-if-bool": {"steps": [{**steps[0], "if": False}]},
        "template-step-extra": {"steps": [{**steps[0], "anything": [1, 2]}]},
        "template-lifecycle": {"lifecycle": "experimental"},
        # rejected
        "template-params-string": {"parameters": "name"},
        "template-params-number-item": {"parameters": [5]},
        "template-steps-string": {"steps": "fetch"},
        "template-steps-null": {"steps": None},
        "template-step-no-action": {"steps": [{"id": "fetch", "name": "Fetch"}]},
        "template-step-action-number": {"steps": [{"id": "x", "action": 5}]},
        "template-step-string": {"steps": ["fetch:template"]},
        "template-step-input-string": {"steps": [{**steps[0], "input": "x"}]},
        "template-step-if-number": {"steps": [{**steps[0], "if": 5}]},
        "template-output-number": {"output": {"repo": 5}},
        "template-output-object": {"output": {"repo": {"url": "x"}}},
        "template-output-null": {"output": {"repo": None}},
        "template-output-links-object": {"output": {"links": {"url": "x"}}},
        "template-output-link-empty-title": {"output": {"links": [{"title": "", "url": "x"}]}},
        "template-output-link-url-number": {"output": {"links": [{"url": 5}]}},
        "template-output-link-string": {"output": {"links": ["https://example.com"]}},
        "template-output-text-content-number": {"output": {"text": [{"content": 5}]}},
        "template-output-list": {"output": ["a"]},
    }
    for doc_id, spec in cases.items():
        c.add(doc_id, "Template", spec=spec)


def _placeholders(c: _Corpus) -> None:
    c.add("placeholder-text-definition", "API", spec={"definition": {"$text": "./api-valid.yaml"}})
    c.add("placeholder-text-description", metadata={"description": {"$text": "./doc-string.yaml"}})
    c.add("placeholder-text-missing", "API", spec={"definition": {"$text": "./no-such-file.yaml"}})
    c.add("placeholder-text-number", "API", spec={"definition": {"$text": 5}})
    c.add(
        "placeholder-yaml-as-definition",
        "API",
        spec={"definition": {"$yaml": "./component-valid.yaml"}},
    )
    c.add("placeholder-yaml-in-metadata", metadata={"x-data": {"$yaml": "./component-valid.yaml"}})
    c.add("placeholder-json-not-json", metadata={"x-data": {"$json": "./component-valid.yaml"}})
    c.add("placeholder-unknown-resolver", metadata={"x-schema": {"$ref": "#/definitions/x"}})
    c.add("placeholder-two-keys", metadata={"x-data": {"$text": "./api-valid.yaml", "other": 1}})
    c.add(
        "placeholder-two-keys-definition",
        "API",
        spec={"definition": {"$text": "./api-valid.yaml", "other": 1}},
    )


def build_corpus() -> dict[str, str]:
    """All single-document descriptors, `{id: yaml_text}`."""
    c = _Corpus()
    for part in (
        _baselines,
        _names,
        _yaml_scalars,
        _yaml_documents,
        _namespaces,
        _labels,
        _annotations,
        _tags,
        _links,
        _title_description,
        _envelope,
        _spec_shapes,
        _required_fields,
        _wrong_types,
        _references,
        _templates,
        _placeholders,
    ):
        part(c)
    return c.docs


def write_corpus(directory: Path, corpus: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Writes each descriptor to `directory/<id>.yaml`, byte for byte; returns id -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for doc_id, text in (build_corpus() if corpus is None else corpus).items():
        path = directory / f"{doc_id}.yaml"
        path.write_bytes(text.encode("utf-8"))
        paths[doc_id] = path
    return paths
