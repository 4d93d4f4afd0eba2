"""What every page of one build is made from: the catalog indexed, what changed, the docs
linked, and how a page is rendered. Built once, frozen, and read by every page family
(in forked workers too, which inherit it)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from ..config import SiteSettings
from ..context import ContextSnapshot
from ..model import safe_url
from ..text import counted
from ..workspace import Workspace
from ._docs_index import DocsSite
from ._model import SiteModel
from ._urls import page_file

__all__ = ["SiteContext", "build_time", "label", "root_of", "stamp", "templates_dir"]


def templates_dir() -> Path:
    """``site_templates/``, shipped inside the package or beside it in a checkout."""
    packaged = resources.files("generator") / "site_templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "site_templates"


def environment(csp: str, *, activity_nav: bool = False) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.globals["csp"] = csp
    env.globals["activity_nav"] = activity_nav  # the Activity page is in the main nav
    env.filters["plural"] = counted  # {{ n|plural("error") }}: "1 error", "2 errors"
    env.filters["external"] = external_href  # {{ fact.url|external }}: http(s) or nothing
    return env


def external_href(url: object) -> str:
    """A link to another service (a fact's source): an absolute http(s) URL, else ""."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url if safe_url(url) else ""
    return ""


def root_of(page_dir: str) -> str:
    """``../`` once per folder level: from a page back to the portal's root."""
    return "../" * page_dir.count("/")


def stamp(moment: datetime) -> tuple[str, str]:
    """A time as ISO (for machines) and as a label (for people)."""
    moment = moment.astimezone(UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z"), moment.strftime("%Y-%m-%d %H:%M UTC")


def label(iso: str) -> str:
    """``2026-12-03 09:44 UTC``; "" for an unknown time."""
    if not iso:
        return ""
    return stamp(datetime.fromisoformat(iso.replace("Z", "+00:00")))[1]


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)


@dataclass(frozen=True)
class SiteContext:
    model: SiteModel
    settings: SiteSettings
    keys: tuple[str, ...]  # every entity, in the order lists show them
    changed: dict[str, str]  # entity → its descriptor's last commit (ISO), "" if unknown
    dirty: frozenset[str]  # entities whose pages may show something that changed
    docs_sites: dict[str, DocsSite]  # storage path → built or published docs site
    csp: str
    now: datetime
    workspace: Workspace
    scratch: Path  # where the writer's temporary files go (renamed into the output)
    catalog_file: Path | None  # the catalog.json the catalog was read from, if any
    env: jinja2.Environment
    activity: ContextSnapshot | None = None  # the context snapshot, when sources are set
    activity_keys: frozenset[str] = frozenset()  # entities with an Activity view

    @property
    def out(self) -> Path:
        return self.workspace.output

    @functools.cached_property
    def provenance(self) -> str:
        """What list pages say they show (asked by each of them: worked out once). No time
        here: list pages must stay byte-identical until their own content changes."""
        repositories = len({s.repository for s in self.model.catalog.sources.values()})
        return (
            f"Catalog of {counted(len(self.keys), 'entity')} "
            f"from {counted(repositories, 'repository')}"
        )

    def render(self, template: str, page_dir: str, **values: Any) -> tuple[str, str]:
        """A page of the portal: its file, and its HTML."""
        html = self.env.get_template(template).render(
            root=root_of(page_dir), site_title=self.settings.title, **values
        )
        return page_file(page_dir), html
