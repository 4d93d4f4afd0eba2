"""What page families write into: the writer, and the tally the build reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._context import SiteContext
from ._writer import SiteWriter, WriteStats

__all__ = ["PageFamily", "PageOutput", "SiteResult"]


@dataclass
class SiteResult:
    pages: int = 0
    rendered: int = 0  # entity pages rendered (not kept as they were)
    stats: WriteStats = field(default_factory=WriteStats)
    problems: list[str] = field(default_factory=list)
    needs_build: str = ""  # a partial render refused: why only a full build will do


class PageOutput:
    """The output folder as families see it: pages and files go in through here, each
    path once, so that the manifest (and stale-file removal) knows every one."""

    def __init__(self, writer: SiteWriter) -> None:
        self.writer = writer
        self.result = SiteResult()

    def page(self, context: SiteContext, template: str, page_dir: str, **values: Any) -> None:
        values.setdefault("provenance", context.provenance)
        path, html = context.render(template, page_dir, **values)
        self.writer.write(path, html)
        self.result.pages += 1

    def write(self, relpath: str, content: str | bytes) -> None:
        self.writer.write(relpath, content)

    def copy(self, relpath: str, source: Path, *, link: bool = False) -> None:
        self.writer.copy(relpath, source, link=link)

    def keep_page(self, relpath: str) -> None:
        """A page whose inputs did not change: produced, not rewritten."""
        self.writer.keep(relpath)
        self.result.pages += 1

    def rendered(self, stats: WriteStats, pages: int, problems: list[str]) -> None:
        """Pages another process wrote (entity batches)."""
        self.writer.merge(stats)
        self.result.pages += pages
        self.result.rendered += pages
        self.result.problems += problems

    def claim(self, relpaths: list[str]) -> None:
        """Files a step after the pages wrote itself (a search index): the manifest must
        list them too, or the next build could not remove them when they go."""
        for relpath in relpaths:
            self.writer.keep(relpath)


class PageFamily(Protocol):
    """One kind of page (entity pages, the catalog index, the home page…): given the
    build's context, it writes its pages and files into the output."""

    def render(self, context: SiteContext, output: PageOutput) -> None: ...
