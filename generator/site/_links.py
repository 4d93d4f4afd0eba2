"""Links an entity page derives from well-known annotations (and backlot.yaml's table)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from ..config import AnnotationLink
from ._safety import safe_url

__all__ = ["Link", "annotation_links"]

_SLUG = re.compile(r"[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    icon: str = ""


BUILT_IN: dict[str, tuple[AnnotationLink, ...]] = {
    "backstage.io/view-url": (AnnotationLink(title="View source", url="{value}"),),
    "backstage.io/edit-url": (AnnotationLink(title="Edit descriptor", url="{value}"),),
    "pagerduty.com/service-id": (
        AnnotationLink(
            title="PagerDuty", url="https://app.pagerduty.com/service-directory/{value}"
        ),
    ),
    "sonarqube.org/project-key": (
        AnnotationLink(title="SonarQube", url="https://sonarcloud.io/project/overview?id={value}"),
    ),
    "datadoghq.com/dashboard-url": (AnnotationLink(title="Datadog dashboard", url="{value}"),),
    "lighthouse.com/website-url": (AnnotationLink(title="Website", url="{value}"),),
}


def annotation_links(
    annotations: dict[str, str], table: dict[str, AnnotationLink]
) -> tuple[list[Link], list[str]]:
    """Links from ``annotations``; also the problems (unsafe or malformed values) found."""
    links: list[Link] = []
    problems: list[str] = []
    slug = annotations.get("github.com/project-slug")
    if slug is not None and "github.com/project-slug" not in table:
        if _SLUG.fullmatch(slug):
            base = f"https://github.com/{slug}"
            links += [
                Link("GitHub repository", base, "github"),
                Link("Pull requests", f"{base}/pulls", "github"),
                Link("GitHub Actions", f"{base}/actions", "github"),
            ]
        else:
            problems.append(f"github.com/project-slug {slug!r} is not of the form owner/repo")
    for key, templates in {**BUILT_IN, **{k: (v,) for k, v in table.items()}}.items():
        value = annotations.get(key)
        if value is None:
            continue
        for template in templates:
            whole = template.url == "{value}"
            url = template.url.replace("{value}", value if whole else quote(value, safe=""))
            safe = safe_url(url)
            if safe is None or (whole and not safe.startswith(("http://", "https://"))):
                problems.append(f"annotation {key}: {value!r} is not an http(s) URL; not linked")
                continue
            links.append(Link(template.title, safe))
    return links, problems
