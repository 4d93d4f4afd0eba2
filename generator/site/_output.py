"""What page families write into: the writer, and the tally the build reports."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._context import SiteContext
from ._urls import page_file
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
    path once, so that the manifest (and stale-file removal) knows every one.

    ``remembered``: what each page remembered last build was rendered from (a digest of
    its template, values and ``inputs``, the digest of every page's templates and
    settings); ``digests`` what this build's were, for the next."""

    def __init__(
        self, writer: SiteWriter, remembered: Mapping[str, str] | None = None, inputs: str = ""
    ) -> None:
        self.writer = writer
        self.result = SiteResult()
        self.remembered = remembered or {}
        self.inputs = inputs
        self.digests: dict[str, str] = {}

    def page(
        self,
        context: SiteContext,
        template: str,
        page_dir: str,
        *,
        remember: bool = False,
        **values: Any,
    ) -> None:
        """Render and write a page; with ``remember``, a page whose template was given the
        same values as last build, with the same inputs, is kept as it is instead (the
        list pages: hundreds, each of a hundred rows, that a build mostly leaves alone).
        Its values must say everything it shows: their ``repr`` is what is compared."""
        values.setdefault("provenance", context.provenance)
        path = page_file(page_dir)
        if remember:
            given = repr(sorted(values.items()))
            digest = hashlib.sha256(f"{self.inputs}\0{template}\0{given}".encode()).hexdigest()
            self.digests[path] = digest
            if self.remembered.get(path) == digest and (self.writer.out / path).is_file():
                self.keep_page(path)
                return
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
