"""An "injection corpus": an organisation whose descriptors are valid for Backstage but carry
hostile strings wherever free text is allowed.

Every payload carries a unique marker ``BLX-<where>``; if it ran, it would call ``alert()``
(or ``confirm``) with that marker or request ``http://127.0.0.1:9/BLX-<where>``, both of which
``guarded_page`` records. ``http://127.0.0.1:1/steal?c=`` is a link target only: a page may
link to it but must never request it by itself.

``write_injection_org(root)`` writes the folder of repositories and returns the entities it
holds, so that tests can check that each one has its page. One repository, ``hostile-docs``,
also has TechDocs: a ``mkdocs.yml`` with a payload in every setting the theme prints, pages
that try to take the theme's ids (DOM clobbering) and load from other hosts, and static
files that would run on the portal's origin (HTML, XHTML, scripts, an SVG with scripts, a
file named like the theme's own bundle) or load from elsewhere (CSS with ``@import``).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

MARKER = "BLX-"
STEAL = "http://127.0.0.1:1/steal?c="
SINK = "http://127.0.0.1:9/"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def alert(where: str) -> str:
    return f"alert('{MARKER}{where}')"


def script(where: str) -> str:
    return f"<script>{alert(where)}</script>"


def img(where: str) -> str:
    """Breaks out of a quoted attribute, then an image whose error handler alerts."""
    return f'"><img src=x onerror={alert(where)}>'


def svg(where: str) -> str:
    return f"'><svg onload={alert(where)}>"


def ssti(where: str) -> str:
    """Jinja/Nunjucks: if a template engine evaluated this, the page would show the marker."""
    return "{{ '" + MARKER + "' ~ 'ssti-" + where + "' }}"


def markdown(where: str) -> str:
    """Markdown with raw HTML and every URL trick; each payload has its own marker."""
    w = where
    data_html = b64(script(f"{w}-data-b64"))
    return f"""\
# Heading {script(f"{w}-h1")}

Plain text with {ssti(w)} and </textarea></title></style></script>
<script>{alert(f"{w}-close")}</script>

<script>{alert(f"{w}-script")}</script>

<img src=x onerror={alert(f"{w}-img")}>

[markdown link](javascript:{alert(f"{w}-mdlink")}) and
[mixed case](JaVaScRiPt:{alert(f"{w}-mdlink-case")}) and
[vbscript](vbscript:msgbox('{MARKER}{w}-vb')) and
[data](data:text/html;base64,{data_html}) and
<javascript:{alert(f"{w}-autolink")}> and [reference][r] and
[title attr](https://example.com/ "x\\" onmouseover=\\"{alert(f"{w}-mdtitle")}").

![image onerror](x"onerror="{alert(f"{w}-mdimg")})

<iframe src="javascript:{alert(f"{w}-iframe")}"></iframe>
<iframe srcdoc="<script>{alert(f"{w}-srcdoc")}</script>"></iframe>
<a href="data:text/html,<script>{alert(f"{w}-data")}</script>">data link</a>
<a href="&#106;avascript:{alert(f"{w}-entity")}">entity-encoded</a>
<a href="java&#9;script:{alert(f"{w}-tab")}">tab inside</a>
<a href="  javascript:{alert(f"{w}-space")}">leading spaces</a>
<svg onload={alert(f"{w}-svg")}></svg>
<svg><a><animate attributeName=href values=javascript:{alert(f"{w}-animate")} />
<text x=20 y=20>animated</text></a></svg>
<style>@import url({SINK}{MARKER}{w}-style-import); body {{ display: none }}</style>
<div style="background:url({SINK}{MARKER}{w}-inline-style)">styled</div>
<object data="javascript:{alert(f"{w}-object")}"></object>
<embed src="javascript:{alert(f"{w}-embed")}">
<form action="javascript:{alert(f"{w}-form")}"><button>go</button></form>
<meta http-equiv="refresh" content="0;url={SINK}{MARKER}{w}-meta">
<link rel="stylesheet" href="{SINK}{MARKER}{w}-link.css">
<base href="{SINK}{MARKER}{w}-base/">
<math><mtext><table><mglyph><style><img src=x onerror={alert(f"{w}-mxss")}>
<noscript><p title="</noscript><img src=x onerror={alert(f"{w}-noscript")}>"></noscript>
<details open ontoggle={alert(f"{w}-toggle")}><summary>s</summary></details>
<input autofocus onfocus={alert(f"{w}-focus")}>
<body onload={alert(f"{w}-body")}>
<img src="x" onerror="fetch('{SINK}{MARKER}{w}-fetch')">

[r]: javascript:{alert(f"{w}-refdef")}
"""


def title(where: str) -> str:
    return (
        f"</title></script>{script(f'{where}-title')}"
        f"{img(f'{where}-title-img')}{svg(f'{where}-title-svg')} {ssti(where)}"
    )


NAME63 = ("long-name-" * 7)[:62] + "z"
HOSTILE_OWNER = 'group:"><img src=x onerror=' + alert("owner") + ">"

COMPONENT_LINKS = [
    {"url": "javascript:alert(document.domain)", "title": "javascript link"},
    {
        "url": "data:text/html;base64," + base64.b64encode(script("link-data").encode()).decode(),
        "title": "data link",
    },
    {"url": "vbscript:msgbox(1)", "title": "vbscript link"},
    {"url": "JaVaScRiPt:alert(1)", "title": "mixed-case link"},
    {"url": " javascript:alert(1)", "title": "leading-space link"},
    {"url": "\tjavascript:" + alert("link-tab"), "title": "leading-tab link"},
    {"url": "java\nscript:" + alert("link-newline"), "title": "newline link"},
    {"url": "data:text/html," + script("link-data-plain"), "title": "plain data link"},
    {"url": STEAL, "title": "an injected request target (fine as a link)"},
    {
        "url": "https://example.com/" + '"><script>' + alert("link-quote") + "</script>",
        "title": "quote in URL",
    },
    {
        "url": "https://example.com/docs",
        "title": script("link-title") + img("link-title-img"),
        "icon": img("link-icon"),
        "type": svg("link-type"),
    },
]

OPENAPI = f"""\
# </script><script>{alert("definition")}</script>
openapi: 3.0.3
info:
  title: "</script><script>{alert("openapi-title")}</script>"
  version: 1.0.0
  description: |
    <img src=x onerror={alert("openapi-desc")}>
    [link](javascript:{alert("openapi-mdlink")})
externalDocs:
  url: "javascript:{alert("openapi-externaldocs")}"
servers:
  - url: "{SINK}{MARKER}openapi-server"
paths:
  /pets:
    get:
      summary: "<script>{alert("openapi-summary")}</script>"
      description: "<svg onload={alert("openapi-op-desc")}>"
      responses:
        "200":
          description: "<img src=x onerror={alert("openapi-response")}>"
"""

GRAPHQL = f'''\
# </script><script>{alert("graphql")}</script>
"""
<img src=x onerror={alert("graphql-doc")}>
"""
type Query {{
  "</script><script>{alert("graphql-field")}</script>"
  hello: String
}}
'''

GRPC = f"""\
syntax = "proto3";
// <!-- <script> </script><script>{alert("grpc")}</script> -->
service Hostile {{ rpc Do (Req) returns (Res); }}
message Req {{ string q = 1; }}
message Res {{ string a = 1; }}
"""

ASYNCAPI = f"""\
asyncapi: 2.6.0
info:
  title: "</ScRiPt ><script>{alert("asyncapi")}</script>"
  version: 1.0.0
channels: {{}}
"""


SVG_PICTURE = f"<svg xmlns='http://www.w3.org/2000/svg' onload=\"{alert('user-svg')}\"/>"


def entity(
    kind: str,
    name: str,
    spec: dict[str, Any],
    *,
    namespace: str | None = None,
    api_version: str = "backstage.io/v1alpha1",
    **metadata: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update(metadata)
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": spec}


REPOSITORIES: dict[str, list[dict[str, Any]]] = {
    "hostile-component": [
        entity(
            "Component",
            "hostile-component",
            {
                "type": img("type"),
                "lifecycle": svg("lifecycle"),
                "owner": HOSTILE_OWNER,
                "system": img("system-ref"),
                "subcomponentOf": "component:" + img("subcomponent"),
                "providesApis": ["hostile-openapi", img("provides")],
                "consumesApis": ["hostile-graphql", "api:" + img("consumes")],
                "dependsOn": ["resource:hostile-db", "resource:" + img("dependson")],
                "dependencyOf": ["component:foo.bar_baz"],
            },
            title=title("component"),
            description=markdown("component-desc"),
            annotations={
                "backstage.io/view-url": "javascript:alert(1)",
                "backstage.io/edit-url": " JaVaScRiPt:" + alert("edit-url"),
                "backstage.io/source-location": "url:javascript:" + alert("source-location"),
                "github.com/project-slug": 'x/y"><script>alert(1)</script>',
                "backstage.io/techdocs-ref": "dir:../../../etc",
                "backstage.io/techdocs-entity": "component:default/x" + img("techdocs-entity"),
                "lighthouse.com/website-url": "data:text/html," + script("lighthouse"),
                "datadoghq.com/dashboard-url": "vbscript:msgbox('BLX-datadog')",
                "pagerduty.com/service-id": svg("pagerduty"),
                "sonarqube.org/project-key": img("sonarqube"),
                "argocd/app-name": script("argocd"),
                "jenkins.io/job-full-name": "../" + img("jenkins"),
                "backstage.io/kubernetes-id": ssti("kubernetes"),
                "example.com/html": script("annotation-custom") + "</textarea>",
            },
            labels={
                "example.com/team": "Foo.Bar_Baz",
                "app.kubernetes.io/name": "hostile-component",
                "tier": "",
            },
            tags=["c++", "c#", "k8s:prod", "a-b-c", "node#20+"],
            links=COMPONENT_LINKS,
        )
    ],
    "hostile-apis": [
        entity(
            "API",
            "hostile-openapi",
            {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "hostile-team",
                "definition": OPENAPI,
                "system": "hostile-system",
            },
            title=title("openapi"),
            description=markdown("openapi-entity-desc"),
        ),
        entity(
            "API",
            "hostile-graphql",
            {
                "type": "graphql",
                "lifecycle": svg("graphql-lifecycle"),
                "owner": "hostile-team",
                "definition": GRAPHQL,
            },
            description=f"GraphQL {script('graphql-entity-desc')}",
        ),
        entity(
            "API",
            "hostile-grpc",
            {
                "type": "grpc",
                "lifecycle": "experimental",
                "owner": "hostile-team",
                "definition": GRPC,
            },
        ),
        entity(
            "API",
            "hostile-asyncapi",
            {
                "type": "asyncapi",
                "lifecycle": "experimental",
                "owner": "hostile-team",
                "definition": ASYNCAPI,
            },
        ),
        entity(
            "API",
            "hostile-api-type",
            {
                "type": img("api-type"),
                "lifecycle": "experimental",
                "owner": "hostile-team",
                "definition": f"</script><script>{alert('plain-definition')}</script>",
            },
        ),
    ],
    "hostile-org": [
        entity(
            "Group",
            "hostile-team",
            {
                "type": img("group-type"),
                "profile": {
                    "displayName": f"<img src=x onerror={alert('displayname')}>",
                    "email": f'"><script>{alert("email")}</script>@example.com',
                    "picture": "javascript:" + alert("picture"),
                },
                "parent": img("parent"),
                "children": ["hostile-subteam"],
                "members": ["hostile-user", svg("member")],
            },
            title=title("group"),
            description=markdown("group-desc"),
        ),
        entity(
            "Group",
            "hostile-subteam",
            {
                "type": "team",
                "profile": {
                    "displayName": "Sub team",
                    "picture": "data:text/html," + script("group-picture-data"),
                },
                "children": [],
            },
        ),
        entity(
            "User",
            "hostile-user",
            {
                "profile": {
                    "displayName": script("user-displayname"),
                    "email": "javascript:" + alert("user-email"),
                    "picture": "data:image/svg+xml;base64," + b64(SVG_PICTURE),
                },
                "memberOf": ["hostile-team", img("memberof")],
            },
            title=title("user"),
        ),
        entity(
            "User",
            "vbscript-user",
            {
                "profile": {"displayName": "VB", "picture": "vbscript:msgbox('BLX-vb-picture')"},
                "memberOf": ["hostile-subteam"],
            },
        ),
        entity(
            "System",
            "hostile-system",
            {"owner": "hostile-team", "domain": img("domain-ref")},
            title=title("system"),
            description=markdown("system-desc"),
        ),
        entity(
            "Domain",
            "hostile-domain",
            {"owner": "group:default/hostile-team", "subdomainOf": svg("subdomain")},
            title=title("domain"),
            description=markdown("domain-desc"),
        ),
        entity(
            "Resource",
            "hostile-db",
            {
                "type": img("resource-type"),
                "owner": "hostile-team",
                "system": "hostile-system",
                "dependencyOf": ["component:hostile-component"],
            },
            description=f"{script('resource-desc')} <img src=x onerror={alert('resource-img')}>",
        ),
    ],
    "hostile-template": [
        entity(
            "Template",
            "hostile-template",
            {
                "owner": "hostile-team",
                "type": img("template-type"),
                "parameters": [
                    {
                        "title": script("param-page"),
                        "description": markdown("param-page-desc"),
                        "required": ["name"],
                        "properties": {
                            "name": {
                                "title": f"<img src=x onerror={alert('param-title')}>",
                                "type": "string",
                                "description": f"[x](javascript:{alert('param-desc')})",
                                "default": f'"><script>{alert("param-default")}</script>',
                                "pattern": "^(?!.*</script>).*$",
                                "ui:help": svg("param-help"),
                                "ui:placeholder": img("param-placeholder"),
                            },
                            "choice": {
                                "title": "Choice",
                                "type": "string",
                                "enum": [script("enum"), "b"],
                                "enumNames": [img("enum-name"), "B"],
                            },
                        },
                    }
                ],
                "steps": [
                    {
                        "id": "fetch",
                        "name": script("step-name"),
                        "action": "fetch:template",
                        "input": {
                            "url": "./skeleton",
                            "values": {"name": "${{ parameters.name }}"},
                        },
                    }
                ],
                "output": {
                    "links": [
                        {"title": script("output-title"), "url": "javascript:" + alert("out")},
                    ],
                    "text": [{"title": img("output-text"), "content": markdown("output")}],
                },
            },
            api_version="scaffolder.backstage.io/v1beta3",
            title=title("template"),
            description=markdown("template-desc"),
            tags=["hostile"],
        )
    ],
    "hostile-docs": [
        entity(
            "Component",
            "hostile-docs",
            {"type": "documentation", "lifecycle": "production", "owner": "hostile-team"},
            title=title("docs-entity"),
            annotations={"backstage.io/techdocs-ref": "dir:."},
        )
    ],
    "hostile-names": [
        entity(
            "Component",
            "hostile-names",
            {"type": "documentation", "lifecycle": "production", "owner": "hostile-team"},
            annotations={"backstage.io/techdocs-ref": "dir:."},
        )
    ],
    # Names at the edge of the rules; two entities that differ only in their namespace.
    "edge-names": [
        entity(
            "Component",
            name,
            {"type": "library", "lifecycle": "production", "owner": "group:default/hostile-team"},
        )
        for name in (NAME63, "a..b", "my_service.v2", "Foo.Bar_Baz", "1", "yes", "0o17")
    ]
    + [
        entity(
            "Component",
            "twin",
            {"type": "service", "lifecycle": "production", "owner": "hostile-team"},
            description="the twin in the default namespace",
        ),
        entity(
            "Component",
            "twin",
            {
                "type": "service",
                "lifecycle": "production",
                "owner": "group:default/hostile-team",
                "dependsOn": ["component:default/twin"],
            },
            namespace="team--a",
            description="the twin in namespace team--a",
        ),
    ],
}


# --------------------------------------------------------------------------- writing YAML

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*$")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


class _Dumper(yaml.SafeDumper):
    """Quotes every string that YAML 1.1 (PyYAML) and 1.2 (Backstage) might read apart."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        style = "|" if value.endswith("\n") and not value[:1].isspace() else '"'
    elif _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        style = ""
    else:
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style or None)


_Dumper.add_representer(str, _represent_str)


def to_yaml(documents: list[dict[str, Any]]) -> str:
    return yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000
    )


@dataclass(frozen=True)
class EntityId:
    kind: str
    namespace: str
    name: str

    @property
    def page(self) -> str:
        """The entity page's path in a built site (lowercase, per the site contract)."""
        return f"catalog/{self.namespace}/{self.kind}/{self.name}/index.html".lower()


def attr_breakout(where: str, prefix: str = "x") -> str:
    """A value that ends the attribute it is printed in, then adds an image that alerts."""
    return f'{prefix}"><img src=x onerror={alert(where)}>'


HOSTILE_MKDOCS: dict[str, Any] = {
    "site_name": title("docs-site-name"),
    "site_description": img("docs-site-description"),
    "site_author": img("docs-author"),
    "site_url": attr_breakout("docs-site-url", "https://docs.example.com/"),
    "repo_url": attr_breakout("docs-repo-url", "https://github.com/acme/docs"),
    "repo_name": script("docs-repo-name"),
    "edit_uri": attr_breakout("docs-edit-uri", "edit/main/docs/"),
    "copyright": (
        f'<a href="javascript:{alert("docs-copyright-link")}">c</a> {img("docs-copyright")}'
    ),
    "extra_css": [
        "good.css",
        "import.css",
        f"{SINK}{MARKER}extra-css.css",
        f"//127.0.0.1:9/{MARKER}protocol-relative.css",
        attr_breakout("docs-extra-css", "x.css"),
    ],
    "theme": {
        "name": "material",
        "favicon": f"{SINK}{MARKER}favicon.ico",
        "logo": attr_breakout("docs-logo", "logo.png"),
        "direction": attr_breakout("docs-direction", "rtl"),
        "language": attr_breakout("docs-language", "en"),
        "features": [attr_breakout("docs-feature", "navigation.tabs")],
        "icon": {
            "admonition": {
                "note:1}</style>" + script("docs-admonition-key"): "material/pencil",
                "tip": "material/../../../../etc/passwd",
                "warning": "material/alert",
            },
            "repo": attr_breakout("docs-icon-repo", "fontawesome/brands/github"),
        },
    },
    "extra": {
        "analytics": {"provider": "google", "property": f"G-{MARKER}analytics"},
        "consent": {"title": script("docs-consent"), "description": img("docs-consent-desc")},
        "polyfills": [f"{SINK}{MARKER}polyfill.js"],
        "scope": '/"+alert(1)+"',
        "version": {"provider": "mike"},
        "homepage": "javascript:" + alert("docs-homepage"),
        "backlot_portal": f"{SINK}{MARKER}portal-link",
        "alternate": [
            {
                "name": script("docs-alternate"),
                "link": "javascript:" + alert("docs-alternate-link"),
                "lang": attr_breakout("docs-alternate-lang", "en"),
            }
        ],
        "social": [
            {
                "icon": "fontawesome/brands/github",
                "link": "javascript:" + alert("docs-social"),
                "name": script("docs-social-name"),
            }
        ],
        "status": {"new": img("docs-status")},
    },
    "nav": [
        {script("docs-nav-title"): "index.md"},
        {"Evil": "javascript:" + alert("docs-nav")},
        {f"</title><meta http-equiv=refresh content='0;url={SINK}{MARKER}nav'>": "other.md"},
    ],
    "markdown_extensions": [{"toc": {"permalink": img("docs-permalink")}}],
}

HOSTILE_SVG = f"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     onload="{alert("docs-svg-onload")}" width="40" height="40">
  <script>{alert("docs-svg-script")}</script>
  <style>@import url({SINK}{MARKER}svg-import.css); rect {{ fill: green }}</style>
  <rect width="40" height="40" fill="url({SINK}{MARKER}svg-fill#g)"/>
  <image href="{SINK}{MARKER}svg-image.png" width="1" height="1"/>
  <use xlink:href="{SINK}{MARKER}svg-use.svg#x"/>
  <a href="javascript:{alert("docs-svg-link")}"><text x="2" y="20">link</text></a>
  <foreignObject width="40" height="40"><body xmlns="http://www.w3.org/1999/xhtml">
    <img src="x" onerror="{alert("docs-svg-foreign")}"/></body></foreignObject>
  <circle cx="20" cy="20" r="5" fill="blue"/>
</svg>
"""

# The smallest valid PNG (1 by 1, transparent).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)

HOSTILE_PAGE = f"""---
title: {json.dumps(title("docs-front-title"))}
description: {json.dumps(attr_breakout("docs-front-description"))}
template: ../../../../evil.html
icon: ../../../etc/passwd
hide: navigation
---

{markdown("docs-page")}

Taking the theme's ids:

<div id="__config">{{"base": "{SINK}{MARKER}clobber-config", "features": []}}</div>
<input id="__drawer" name="__search"><a id="__md_scope" name="__md_get">clobber</a>
<span id="__palette_0"></span><span id="__nav_1"></span>

Loading from elsewhere:

![remote]({SINK}{MARKER}docs-remote-img.png)
<img src="//127.0.0.1:9/{MARKER}docs-protocol-relative.png">
<svg width="4" height="4"><rect width="4" height="4" fill="url({SINK}{MARKER}docs-fill#x)"/></svg>

A local image and diagram, which stay: ![ok](ok.png) ![diagram](diagram.svg)

--8<-- "README.md"
"""

# Pages without a heading are named after their file (and the edit link ends with the
# file's path); with no nav in mkdocs.yml those names are the navigation. No "/" can be in
# a file name: HTML entities spell it, and MkDocs decodes nothing, but the theme's
# striptags does.
NAMED_BY_FILES = {
    "mkdocs.yml": "site_name: Names\nrepo_url: https://github.com/acme/names\n"
    "edit_uri: edit/main/docs/\n",
    "docs/index.md": "# Names\n",
    f"docs/{attr_breakout('docs-file')}.md": "No heading here.\n",
    "docs/&lt;&#x2f;title&gt;&lt;meta http&#45;equiv=refresh "
    f"content=0;url=http:&#x2f;&#x2f;127.0.0.1:9&#x2f;{MARKER}file&gt;.md": "Nor here.\n",
}

DOCS_FILES: dict[str, dict[str, str | bytes]] = {
    "hostile-names": NAMED_BY_FILES,
    "hostile-docs": {
        "mkdocs.yml": yaml.safe_dump(HOSTILE_MKDOCS, sort_keys=False, allow_unicode=True),
        "docs/index.md": HOSTILE_PAGE,
        "docs/other.md": f"# Other\n\n{script('docs-other')}\n",
        "docs/evil.html": f"<!doctype html><script>{alert('docs-static-html')}</script>",
        "docs/evil.xhtml": (
            '<html xmlns="http://www.w3.org/1999/xhtml"><body><script>'
            f"{alert('docs-static-xhtml')}</script></body></html>"
        ),
        "docs/evil.js": f"{alert('docs-static-js')}\n",
        "docs/data.xml": f"<?xml-stylesheet href='{SINK}{MARKER}xsl'?><x/>",
        "docs/diagram.svg": HOSTILE_SVG,
        "docs/good.css": ".md-typeset .backlot-ok { background: url(ok.png) }\n",
        "docs/import.css": f"@import url({SINK}{MARKER}css-import.css);\n",
        "docs/escaped.css": f"a {{ background: u\\72l(//127.0.0.1:9/{MARKER}css-escape) }}\n",
        "docs/ok.png": PNG,
        "docs/assets/javascripts/bundle.d7400e89.min.js": f"{alert('docs-shadow-bundle')}\n",
    },
}


def write_injection_org(root: Path) -> list[EntityId]:
    """Write the corpus as ``root/<repo>/catalog-info.yaml``; return its entities."""
    entities: list[EntityId] = []
    for repo, documents in REPOSITORIES.items():
        folder = root / repo
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "catalog-info.yaml").write_text(to_yaml(documents), encoding="utf-8")
        (folder / "README.md").write_text(f"# {repo}\n\n{script(f'readme-{repo}')}\n")
        for relpath, content in DOCS_FILES.get(repo, {}).items():
            path = folder / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        for document in documents:
            metadata = document["metadata"]
            entities.append(
                EntityId(document["kind"], metadata.get("namespace", "default"), metadata["name"])
            )
    return entities


# --------------------------------------------------------------------------- static scan

URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "poster", "xlink:href", "background"}
)
FRAMING_TAGS = frozenset({"iframe", "frame", "frameset", "object", "embed", "applet", "base"})
EXECUTABLE_SCRIPT_TYPES = frozenset(
    {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}
)
_FETCHED_LINKS = frozenset(
    {"stylesheet", "icon", "preload", "prefetch", "modulepreload", "import", "manifest"}
)
_PAYLOAD_SCRIPT = re.compile(r"^\s*(?:alert|confirm|prompt|fetch)\s*\(", re.IGNORECASE)
_STRIPPED = re.compile(r"[\t\n\r]")


def dangerous_url(value: str, *, image_context: bool = False) -> str | None:
    """The scheme that makes ``value`` dangerous as a URL, or None.

    Browsers drop tabs and newlines anywhere in a URL and leading/trailing spaces and
    control characters, and schemes are case-insensitive; the attribute value here is
    already entity-decoded. ``data:`` URLs are fine only for images in an image context.
    """
    url = (
        _STRIPPED.sub("", value)
        .strip(
            "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c"
            "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
            "\x1a\x1b\x1c\x1d\x1e\x1f "
        )
        .lower()
    )
    for scheme in ("javascript:", "vbscript:"):
        if url.startswith(scheme):
            return scheme
    if url.startswith("data:") and not (image_context and url.startswith("data:image/")):
        return "data:" + url[5:].split(",")[0].split(";")[0]
    return None


@dataclass(frozen=True)
class Finding:
    page: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.what}"


class _Scanner(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.findings: list[Finding] = []
        self._raw: tuple[str, int, str] | None = None  # (tag, line, script type)
        self._text: list[str] = []

    def _find(self, what: str) -> None:
        self.findings.append(Finding(self.page, self.getpos()[0], what))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = [(name.lower(), value or "") for name, value in attrs]
        for name, value in values:
            marked = MARKER.lower() in value.lower()
            if name in URL_ATTRIBUTES or name in ("srcset", "imagesrcset"):
                image = name in ("src", "srcset", "imagesrcset") and tag in (
                    "img",
                    "source",
                    "input",
                    "picture",
                )
                urls = [value]
                if name.endswith("srcset"):
                    urls = [c.strip().split(" ")[0] for c in value.split(",")]
                for url in urls:
                    scheme = dangerous_url(url, image_context=image)
                    if scheme:
                        self._find(f"<{tag} {name}={value[:120]!r}>: a {scheme} URL")
            elif name.startswith("on") and marked:
                self._find(f"<{tag} {name}={value[:120]!r}>: an injected event handler")
            elif name in ("style", "srcdoc") and marked:
                self._find(f"<{tag} {name}={value[:120]!r}>: injected {name}")
            elif tag in ("animate", "set") and "javascript:" in value.lower():
                self._find(f"<{tag} {name}={value[:120]!r}>: an animated javascript: URL")
            if tag in FRAMING_TAGS and marked:
                self._find(f"<{tag} {name}={value[:120]!r}>: an injected <{tag}>")
        attributes = dict(values)
        if tag == "meta" and attributes.get("http-equiv", "").lower() == "refresh":
            content = attributes.get("content", "")
            if MARKER.lower() in content.lower() or "script:" in content.lower():
                self._find(f"<meta http-equiv=refresh content={content[:120]!r}>: injected")
        # A <link> the browser fetches (a stylesheet, an icon, a preload); rel=canonical
        # and friends only name a URL.
        fetched = set(attributes.get("rel", "").lower().split()) & _FETCHED_LINKS
        if tag == "link" and fetched and MARKER.lower() in attributes.get("href", "").lower():
            self._find(f"<link href={attributes['href'][:120]!r}>: an injected stylesheet")
        if tag in ("script", "style"):
            kind = attributes.get("type", "").strip().lower() if tag == "script" else ""
            self._raw = (tag, self.getpos()[0], kind)
            self._text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        if self._raw is not None:  # an unclosed <script>/<style> swallowed the rest
            self.handle_endtag(self._raw[0])

    def handle_endtag(self, tag: str) -> None:
        if self._raw is None or tag != self._raw[0]:
            return
        raw_tag, line, kind = self._raw
        text = "".join(self._text)
        self._raw = None
        if raw_tag == "style" and MARKER.lower() in text.lower():
            self.findings.append(Finding(self.page, line, f"an injected <style>: {text[:120]!r}"))
        if (
            raw_tag == "script"
            and kind in EXECUTABLE_SCRIPT_TYPES
            and _PAYLOAD_SCRIPT.match(text)
            and MARKER.lower() in text.lower()
        ):
            self.findings.append(Finding(self.page, line, f"an injected <script>: {text[:120]!r}"))


def scan_html(page: str, text: str) -> list[Finding]:
    """Markup in one built page that would let an injected string act."""
    scanner = _Scanner(page)
    scanner.feed(text)
    scanner.close()
    findings = scanner.findings
    if f"{MARKER}ssti-" in text:
        findings.append(Finding(page, 0, "a template engine evaluated descriptor text"))
    return findings


def scan_site(site: Path) -> list[Finding]:
    """``scan_html`` over every ``*.html`` file of a built site; other text files (search
    indexes, scripts) are checked for evaluated templates only."""
    findings: list[Finding] = []
    for file in sorted(p for p in site.rglob("*") if p.is_file()):
        relative = file.relative_to(site).as_posix()
        if file.suffix.lower() in (".html", ".htm"):
            text = file.read_text(encoding="utf-8", errors="replace")
            findings += scan_html(relative, text)
        elif file.suffix.lower() in (".json", ".js", ".xml", ".txt", ".svg", ".css"):
            text = file.read_text(encoding="utf-8", errors="replace")
            if f"{MARKER}ssti-" in text:
                findings.append(Finding(relative, 0, "a template engine evaluated descriptor text"))
    return findings
