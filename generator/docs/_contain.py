"""What one docs build may touch, enforced inside MkDocs: the files it sees, the snippets
it reads, and what a page that fails does to the rest.

The builder sets a ``Containment`` for each site (``containing(...)``) and ``install()``
patches three places of MkDocs and pymdownx, in the worker only:

- MkDocs' file collection is built from the checked docs tree (``_tree``) instead of its
  own walk, through the static-file policy: raster images, PDF, fonts and plain data are
  copied; CSS only once checked; SVG only as sanitised; HTML, XML, scripts and anything
  else are left out with a warning, as is a file that would replace one of the theme's;
- a snippet is read only if it is a regular file of the repository outside ``.git``,
  and every snippet read is recorded, so that the next build's digest covers it; a
  missing one is a warning on its page, not a failed build;
- a page whose Markdown fails becomes a warning and an error notice on that page; one
  the theme cannot render is rendered again without its front matter, and left out if
  that fails too. The builder fails the site only when every page failed.
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib
import os
import posixpath
import stat
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import DocsProblem, is_windows_reserved
from ..sources import Repository, RepositoryError
from ._css import check_css
from ._svg import SvgRefused, sanitize_svg
from ._tree import DocsTree

__all__ = ["Containment", "containing", "install", "warn"]

RASTER = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".bmp"})
DOCUMENTS = frozenset({".pdf"})
FONTS = frozenset({".woff", ".woff2", ".ttf", ".otf", ".eot"})
# Served as text/plain or application/json (with nosniff): shown, never run.
PLAIN_DATA = frozenset({".txt", ".csv", ".json", ".yaml", ".yml"})
INERT = RASTER | DOCUMENTS | FONTS | PLAIN_DATA
# Types a browser runs as a document or a script on the portal's origin.
ACTIVE = frozenset(
    {".html", ".htm", ".xhtml", ".xht", ".xml", ".xsl", ".xslt", ".js", ".mjs", ".cjs",
     ".svgz", ".swf", ".wasm", ".shtml", ".php", ".jsp"}
)  # fmt: skip
MAX_SNIPPET_BYTES = 10 * 1024 * 1024


@dataclass
class Containment:
    """One site's build: its repository, its checked tree, and what happened."""

    repository: Repository
    tree: DocsTree
    allowed_hosts: tuple[str, ...] = ()
    # theme.logo / theme.favicon as the repository set them (not the theme's defaults)
    theme_paths: dict[str, str] = field(default_factory=dict)
    warnings: list[DocsProblem] = field(default_factory=list)
    snippets: set[str] = field(default_factory=set)  # repository-relative paths read
    pages: int = 0
    failed_pages: list[DocsProblem] = field(default_factory=list)
    page: str | None = None  # the page being read, for warnings about it

    def warn(self, rule: str, message: str, file: str | None = None) -> None:
        self.warnings.append(DocsProblem(rule=rule, message=message, file=file or self.page))


_current: Containment | None = None


@contextlib.contextmanager
def containing(containment: Containment) -> Iterator[Containment]:
    global _current
    _current = containment
    try:
        yield containment
    finally:
        _current = None


def warn(rule: str, message: str, file: str | None = None) -> None:
    """A warning about the site being built (for its current page, unless ``file``)."""
    if _current is not None:
        _current.warn(rule, message, file)


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    build: Any = importlib.import_module("mkdocs.commands.build")
    build.get_files = _files_from_tree(build.get_files)
    build._populate_page = _contained_page_read(build._populate_page)
    build._build_page = _contained_page_write(build._build_page)
    snippets: Any = importlib.import_module("pymdownx.snippets")
    processor = snippets.SnippetPreprocessor
    processor.get_snippet_path = _checked_snippet(processor.get_snippet_path)


# --------------------------------------------------------------------------- files


def _files_from_tree(original: Any) -> Any:
    files_module = importlib.import_module("mkdocs.structure.files")
    utils = importlib.import_module("mkdocs.utils")
    theme_files: dict[tuple[str, ...], frozenset[str]] = {}

    @functools.wraps(original)
    def get_files(config: Any) -> Any:
        containment = _current
        if containment is None:
            return original(config)
        dirs = tuple(str(d) for d in config.theme.dirs)
        if dirs not in theme_files:
            theme_files[dirs] = _theme_listing(dirs)
        shadowed = theme_files[dirs]
        files: list[Any] = []
        conflicts: list[tuple[Any, Any]] = []
        by_dest: dict[str, Any] = {}
        for item in containment.tree.files:
            file = files_module.File(
                item.relpath, config["docs_dir"], config["site_dir"], config["use_directory_urls"]
            )
            file.abs_src_path = str(item.real)
            if is_windows_reserved(posixpath.basename(item.relpath)):
                containment.warn(
                    "docs/windows-name",
                    "Windows reserves this name: the site cannot be checked out there",
                    item.relpath,
                )
            if not utils.is_markdown_file(item.relpath):
                if item.relpath.lower() in shadowed:
                    containment.warn(
                        "docs/static-refused",
                        "left out: it would replace the theme's own file of that name",
                        item.relpath,
                    )
                    continue
                if not _allowed_static(containment, file, item.real):
                    continue
            # A README.md beside an index.md: MkDocs keeps the index (and warns).
            previous = by_dest.setdefault(file.dest_uri, file)
            if previous is not file:
                conflicts.append((previous, file))
            files.append(file)
        files_module.set_exclusions(files, config)
        for first, second in conflicts:
            loser, winner = (first, second) if second.inclusion.is_included() else (second, first)
            if loser.inclusion.is_included():
                containment.warn(
                    "docs/conflict", f"left out: {winner.src_uri} is the same page", loser.src_uri
                )
            with contextlib.suppress(ValueError):
                files.remove(loser)
        _keep_existing(config, files, containment, shadowed)
        return files_module.Files(files)

    return get_files


def _keep_existing(
    config: Any, files: list[Any], containment: Containment, theme_files: frozenset[str]
) -> None:
    """Stylesheets, the logo and the favicon that mkdocs.yml names must be files of the
    site (left out otherwise, as a refused stylesheet is): a link to nothing is a request
    that fails on every page."""
    published = {urllib.parse.unquote(f.src_uri) for f in files if f.inclusion.is_included()}
    kept = []
    for path in config.get("extra_css") or []:
        if urllib.parse.unquote(path) in published:
            kept.append(path)
        else:
            containment.warn(
                "docs/setting-refused",
                f"extra_css: {path[:80]!r} is not a file of the docs; left out",
            )
    config["extra_css"] = kept
    for key, path in containment.theme_paths.items():
        name = urllib.parse.unquote(path)
        if name not in published and name.lower() not in theme_files:
            containment.warn(
                "docs/setting-refused",
                f"theme.{key}: {path[:80]!r} is not a file of the docs; left out",
            )
            config.theme[key] = None


def _theme_listing(dirs: tuple[str, ...]) -> frozenset[str]:
    """Lowercased paths of the theme's own static files, which no docs file may replace."""
    found: set[str] = set()
    for folder in dirs:
        for parent, subdirs, names in os.walk(folder):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            rel = os.path.relpath(parent, folder)
            for name in names:
                if name.endswith((".html", ".py", ".pyc")) or name.startswith("."):
                    continue
                found.add(posixpath.normpath(posixpath.join(rel, name)).lower())
    return frozenset(found)


def _allowed_static(containment: Containment, file: Any, real: Path) -> bool:
    """Whether a static file may be published; an SVG is replaced by its sanitised copy."""
    relpath = file.src_uri
    suffix = posixpath.splitext(relpath.lower())[1]
    if suffix in INERT:
        return True
    if suffix == ".css":
        try:
            text = real.read_text("utf-8", errors="replace")
        except OSError as exc:
            containment.warn("docs/static-refused", f"cannot be read ({exc.strerror})", relpath)
            return False
        problems = check_css(text, containment.allowed_hosts)
        for problem in problems[:5]:
            containment.warn(
                "docs/css-refused", f"left out: line {problem.line}: {problem.message}", relpath
            )
        return not problems
    if suffix == ".svg":
        try:
            clean, dropped = sanitize_svg(real.read_bytes(), containment.allowed_hosts)
        except (SvgRefused, OSError) as exc:
            containment.warn("docs/static-refused", f"left out: {exc}", relpath)
            return False
        if dropped:
            containment.warn(
                "docs/svg-sanitised",
                f"published without what could run or load from outside: {', '.join(dropped)}",
                relpath,
            )
        file.content_bytes = clean
        return True
    if suffix in ACTIVE:
        why = "a browser runs it as a page or a script on the portal's origin"
    else:
        why = "not a type the portal publishes (images, PDF, fonts, CSS, SVG, plain text)"
    containment.warn("docs/static-refused", f"left out: {why}", relpath)
    return False


# --------------------------------------------------------------------------- snippets


def _checked_snippet(original: Any) -> Any:
    @functools.wraps(original)
    def get_snippet_path(self: Any, path: str) -> str | None:
        found: str | None = original(self, path)
        containment = _current
        if containment is None:
            return found
        if found is None:
            containment.warn("docs/snippet-missing", f"snippet {path!r} was not found; left out")
            return None
        repository = containment.repository
        inside = repository.relative(Path(found).resolve())
        try:
            if inside is None:
                raise RepositoryError("it is outside the repository")
            real = repository.resolve(inside)
            info = real.stat()
            if not stat.S_ISREG(info.st_mode):
                raise RepositoryError("it is not a regular file")
            if info.st_size > MAX_SNIPPET_BYTES:
                raise RepositoryError(f"it is over {MAX_SNIPPET_BYTES // 2**20} MB")
        except (RepositoryError, OSError) as exc:
            containment.warn("docs/snippet-refused", f"snippet {path!r} not read: {exc}")
            return None
        containment.snippets.add(inside)
        return str(real)

    return get_snippet_path


# --------------------------------------------------------------------------- pages


def _contained_page_read(original: Any) -> Any:
    @functools.wraps(original)
    def populate_page(page: Any, config: Any, files: Any, dirty: bool = False) -> None:
        containment = _current
        if containment is None:
            original(page, config, files, dirty)
            return
        containment.pages += 1
        containment.page = page.file.src_uri
        try:
            original(page, config, files, dirty)
        except MemoryError:
            raise
        except Exception as exc:
            _page_failed(containment, page, "could not be read", exc)
        finally:
            containment.page = None

    return populate_page


def _contained_page_write(original: Any) -> Any:
    @functools.wraps(original)
    def build_page(page: Any, config: Any, *args: Any, **kwargs: Any) -> None:
        containment = _current
        if containment is None:
            original(page, config, *args, **kwargs)
            return
        containment.page = page.file.src_uri
        try:
            original(page, config, *args, **kwargs)
        except MemoryError:
            raise
        except Exception as exc:
            # Most often front matter the theme cannot print: try once without it.
            containment.warn(
                "docs/front-matter",
                f"the theme could not print this page's front matter ({type(exc).__name__}: "
                f"{str(exc)[:200]}); the page is built without it",
            )
            page.meta = {}
            try:
                original(page, config, *args, **kwargs)
            except MemoryError:
                raise
            except Exception as again:
                _page_failed(containment, page, "could not be rendered", again)
        finally:
            containment.page = None

    return build_page


def _page_failed(containment: Containment, page: Any, what: str, exc: Exception) -> None:
    message = f"the page {what}: {type(exc).__name__}: {str(exc)[:300]}"
    problem = DocsProblem(rule="docs/page-failed", message=message, file=page.file.src_uri)
    containment.failed_pages.append(problem)
    containment.warnings.append(problem)
    page.content = (
        '<div class="admonition failure"><p class="admonition-title">'
        "This page could not be built</p>"
        f"<p>{html.escape(message)}</p></div>"
    )
    toc = importlib.import_module("mkdocs.structure.toc")
    page.toc = toc.get_toc([])
