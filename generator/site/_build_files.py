"""What the portal says about the build itself, and the files beside its pages: "About
this build" and ``build.json`` (the only files that carry the build's time), the
``catalog.json`` machines read, and the portal's own static assets."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

from .. import __version__
from ..model import CatalogFile, repository_web_address
from ._context import SiteContext, stamp, templates_dir
from ._output import PageOutput
from ._safety import safe_url

__all__ = ["AboutPage", "CatalogJson", "NotFoundPage", "StaticAssets"]


class AboutPage:
    def render(self, context: SiteContext, output: PageOutput) -> None:
        build = _build_info(context.model.catalog, context.now)
        output.write("build.json", json.dumps(build, indent=1, sort_keys=True) + "\n")
        output.page(
            context,
            "about.html",
            "about/",
            page_title="About this build",
            section="about",
            build=build,
            provenance=f"Built {build['time_label']}",
        )


class NotFoundPage:
    """``404.html``, which the CDN (and ``backlot serve``) answers for any missing path: it
    is served at every depth, so its links start at the site's root, not at its own place."""

    def render(self, context: SiteContext, output: PageOutput) -> None:
        html = context.env.get_template("not_found.html").render(
            root="/",
            site_title=context.settings.title,
            page_title="Page not found",
            section="",
            provenance=context.provenance,
        )
        output.write("404.html", html)


class CatalogJson:
    """The catalog as Backstage-shaped JSON, for machines: copied from the catalog stage's
    file when there is one, not serialised again in memory."""

    def render(self, context: SiteContext, output: PageOutput) -> None:
        if context.catalog_file is not None:
            output.copy("catalog.json", context.catalog_file)
        else:
            buffer = io.StringIO()
            context.model.catalog.dump(buffer)
            output.write("catalog.json", buffer.getvalue())


class StaticAssets:
    def render(self, context: SiteContext, output: PageOutput) -> None:
        static = templates_dir() / "static"
        for asset in sorted(static.rglob("*")):
            if asset.is_file():
                output.write(f"static/{asset.relative_to(static).as_posix()}", asset.read_bytes())


def _build_info(catalog: CatalogFile, now: datetime) -> dict[str, Any]:
    repos: dict[str, dict[str, Any]] = {}
    for source in catalog.sources.values():
        repo = repos.setdefault(
            source.repository,
            {"name": source.repository, "entities": 0, "commit": source.commit, "url": None},
        )
        repo["entities"] += 1
        if source.url:
            repo["url"] = safe_url(repository_web_address(source.url))
    time, label = stamp(now)
    return {
        "time": time,
        "time_label": label,
        "generator": f"backlot {__version__}",
        "entities": catalog.summary.entities,
        "errors": catalog.summary.errors,
        "warnings": catalog.summary.warnings,
        "repositories": sorted(repos.values(), key=lambda r: r["name"]),
    }
