"""The portal's list pages: the catalog index, the home page, the docs index, problems."""

from __future__ import annotations

from collections import Counter
from typing import Any

from markupsafe import Markup

from ..model import CatalogFile, DocsProblem, EntityRef, docs_site_dir, entity_page
from ._activity import context_problems
from ._api_problems import api_problems
from ._catalog_index import catalog_pages, facet_counts, row_shards
from ._context import SiteContext, label
from ._docs_index import DocsSite
from ._model import SiteModel
from ._output import PageOutput
from ._urls import page_file

__all__ = ["CatalogIndex", "DocsIndex", "HomePage", "ProblemsPage"]

RECENT = 15
MAX_PROBLEMS = 2000


def _kind_page(kind: str) -> str:
    return page_file(f"catalog/_kinds/{kind.lower()}/")


class CatalogIndex:
    """Without JavaScript, static pages of rows (all entities, and each kind); with it, a
    filter over row shards loaded as scripts, and counts precomputed for every facet."""

    def render(self, context: SiteContext, output: PageOutput) -> None:
        model, keys = context.model, context.keys
        all_rows = [model.row(k) for k in keys]
        facets = facet_counts(all_rows)
        kind_links = [
            {"label": kind, "count": count, "href": _kind_page(kind)}
            for kind, count in sorted(Counter(row.kind for row in all_rows).items())
        ]
        shards = list(row_shards(all_rows))
        for name, script in shards:
            output.write(f"catalog/_data/{name}", script)
        template = context.env.get_template("filters.html")
        kind_facet = next((f for f in facets if f["name"] == "kind"), None)

        def filters_for(kind: str | None) -> Markup:
            """The form of a list page: a kind's page counts that kind's values (its Kind
            select still lists every kind, to go to another one)."""
            if kind is None:
                return Markup(
                    template.render(facets=facets, total=len(all_rows), shards=len(shards))
                )
            rows = [row for row in all_rows if row.kind == kind]
            own = [
                {**kind_facet, "total": len(all_rows)} if f["name"] == "kind" and kind_facet else f
                for f in facet_counts(rows)
            ]
            return Markup(template.render(facets=own, total=len(rows), shards=len(shards)))

        forms: dict[str | None, Markup] = {}
        for listing in catalog_pages(model, list(keys), context.settings.page_size):
            if listing.kind not in forms:
                forms[listing.kind] = filters_for(listing.kind)
            filters = forms[listing.kind]
            output.page(
                context,
                "catalog.html",
                listing.dir,
                remember=True,
                page_title=listing.heading,
                section="catalog",
                heading=listing.heading,
                filters=filters,
                total=len(all_rows),
                kinds=kind_links,
                current_kind=listing.kind,
                rows=listing.rows,
                pages=listing.pages,
                page_number=listing.number,
                showing=listing.showing,
            )


class HomePage:
    def render(self, context: SiteContext, output: PageOutput) -> None:
        model, keys, changed = context.model, context.keys, context.changed
        summary = model.catalog.summary
        # Entities whose history is not known (no git, no crawl) are not "recent".
        dated = [k for k in keys if changed[k]]
        recent = sorted(dated, key=lambda k: (changed[k], k), reverse=True)[:RECENT]
        output.page(
            context,
            "home.html",
            "",
            page_title="Home",
            section="home",
            counts=[
                {"label": kind, "count": count, "href": _kind_page(kind)}
                for kind, count in summary.by_kind.items()
            ],
            problems={"errors": summary.errors, "warnings": summary.warnings},
            recent=[
                {
                    "label": model.labels[k][1],
                    "kind": model.labels[k][0],
                    "href": entity_page(k),
                    "changed": changed[k],
                    "changed_label": label(changed[k]),
                }
                for k in recent
            ],
            quick=[
                {
                    "label": f"{model.labels[k][1]} ({model.labels[k][0]})",
                    "href": entity_page(k),
                }
                for k in keys
                if model.labels[k][0] in ("Domain", "System")
            ][:12],
        )


class DocsIndex:
    """Which entities have docs, coverage by kind, failed builds, docs without an entity."""

    def render(self, context: SiteContext, output: PageOutput) -> None:
        output.page(
            context,
            "documentation.html",
            "documentation/",
            page_title="Docs",
            section="docs",
            **_docs_page(context.model, context.docs_sites),
        )


class ProblemsPage:
    def render(self, context: SiteContext, output: PageOutput) -> None:
        output.page(
            context,
            "problems.html",
            "problems/",
            page_title="Problems",
            section="problems",
            apis=_api_problems(context),
            context_problems=context_problems(context),
            **_problem_groups(context.model, context.model.catalog),
        )


def _api_problems(context: SiteContext) -> list[dict[str, Any]]:
    """API definitions that could not be read, or read with warnings: what each API's
    Definition view says."""
    model = context.model
    keys = sorted(model.entities, key=lambda k: (model.labels[k][1].lower(), k))
    found = api_problems(model, keys, context.workspace)
    return [
        {"row": model.row(key), "problems": problems[:MAX_PROBLEMS]}
        for key, problems in found.items()
    ]


def _docs_page(model: SiteModel, sites: dict[str, DocsSite]) -> dict[str, Any]:
    documented = sorted(model.docs, key=lambda k: model.labels[k][1].lower())
    owned = {EntityRef.from_key(k).storage_path: k for k in model.entities}
    coverage = []
    for kind in ("Component", "API", "System", "Resource"):
        total = sum(1 for label in model.labels.values() if label[0] == kind)
        if total:
            done = sum(1 for k in documented if model.labels[k][0] == kind)
            coverage.append(
                {"kind": kind, "done": done, "total": total, "percent": round(100 * done / total)}
            )
    return {
        "rows": [
            {
                "row": model.row(k),
                "href": model.docs[k],
                "built": sites[EntityRef.from_key(k).storage_path].built,
                "built_label": label(sites[EntityRef.from_key(k).storage_path].built)
                if sites[EntityRef.from_key(k).storage_path].built
                else "unknown",
            }
            for k in documented
        ],
        "coverage": coverage,
        "failed": [
            {"row": model.row(k), "message": message}
            for k, message in sorted(model.docs_errors.items())
        ],
        "orphaned": [
            {"path": path, "site_name": site.site_name, "href": docs_site_dir(path) + "index.html"}
            for path, site in sorted(sites.items())
            if path not in owned
        ],
    }


def _problem_groups(model: SiteModel, catalog: CatalogFile) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for finding in catalog.findings[:MAX_PROBLEMS]:
        ref = finding.entity_ref
        href = entity_page(ref) if ref in model.entities else None
        groups.setdefault(finding.file, []).append({**finding.model_dump(), "href": href})
    docs = []
    for key in sorted(set(model.docs_errors) | set(model.docs_warnings)):
        problems = [
            {"severity": "warning", "where": _docs_where(p), "rule": p.rule, "message": p.message}
            for p in model.docs_warnings.get(key, ())
        ]
        if key in model.docs_errors:
            problems.insert(
                0, {"severity": "error", "where": "", "rule": "", "message": model.docs_errors[key]}
            )
        docs.append({"row": model.row(key), "problems": problems[:MAX_PROBLEMS]})
    return {
        "errors": catalog.summary.errors,
        "warnings": catalog.summary.warnings,
        "groups": [{"file": f, "findings": items} for f, items in sorted(groups.items())],
        "docs": docs,
        "docs_failed": len(model.docs_errors),
        "docs_warnings": sum(len(w) for w in model.docs_warnings.values()),
    }


def _docs_where(problem: DocsProblem) -> str:
    if problem.file and problem.line:
        return f"{problem.file}:{problem.line}"
    return problem.file or ""
