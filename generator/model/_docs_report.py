"""``docs-report.json``: what the docs stage built, and every reason a site or page was not.

Like ``catalog.json``, a versioned artifact that one stage writes and later ones read
(the site stage's Docs page and entity pages, the CLI's summary and exit code): typed
here, written atomically, read in one place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["DOCS_REPORT_VERSION", "DocsProblem", "DocsReport", "SiteReport", "SiteStatus"]

DOCS_REPORT_VERSION = 1

SiteStatus = Literal["built", "unchanged", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DocsProblem(_Model):
    """One finding with a stable rule id (``docs/config-refused``, ``docs/static-refused``…);
    ``file`` is the path within the docs folder or repository it is about, when there is one;
    ``line`` its line (1-based) when known; ``target`` what a link named (docs/broken-link)."""

    rule: str
    message: str
    file: str | None = None
    line: int | None = None
    target: str | None = None

    def format_text(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        return f"{where}: {self.rule}: {self.message}" if where else f"{self.rule}: {self.message}"


class SiteReport(_Model):
    storage_path: str  # <namespace>/<kind>/<name>, Backstage's layout
    status: SiteStatus
    failure: DocsProblem | None = None  # set exactly when status is "failed"
    warnings: tuple[DocsProblem, ...] = ()


class DocsReport(_Model):
    schema_version: Literal[1] = Field(default=1, alias="schemaVersion")
    builder: Literal["local", "external"] = "local"
    sites: dict[str, SiteReport] = Field(default_factory=dict)  # entity ref → its site
    # Entities whose techdocs-ref could not be resolved to a docs tree at all.
    unresolved: dict[str, DocsProblem] = Field(default_factory=dict)

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    def failed(self) -> dict[str, DocsProblem]:
        """Every entity whose docs could not be built, with why."""
        failures = {ref: s.failure for ref, s in self.sites.items() if s.failure is not None}
        return {**failures, **self.unresolved}

    @classmethod
    def merged(cls, reports: list[DocsReport]) -> DocsReport:
        """One report of the sites of several (shards' reports: no entity is in two)."""
        sites = {ref: site for report in reports for ref, site in report.sites.items()}
        unresolved = {ref: p for report in reports for ref, p in report.unresolved.items()}
        builder = reports[0].builder if reports else "local"
        return cls(builder=builder, sites=dict(sorted(sites.items())), unresolved=unresolved)

    def count(self, status: SiteStatus) -> int:
        return sum(1 for site in self.sites.values() if site.status == status)

    def write(self, path: Path) -> None:
        """Atomically: a reader never sees half a report."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.model_dump_json(by_alias=True, indent=1))
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, path: Path) -> DocsReport:
        """The report at ``path``; an empty one when there is none or it is not one this
        version reads (the next build writes it anew)."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except (OSError, ValidationError, ValueError):
            return cls()
