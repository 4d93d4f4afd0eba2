"""Make many MkDocs builds in one process cheap: work MkDocs redoes for every site.

Measured on a 20-page site (see the spec), most of a build is not rendering: Jinja
compiles Material's templates again for each site, lists the theme's files again, and
pymdownx.emoji deep-copies its emoji index for every page. In a worker that builds
hundreds of sites those are the same every time, so they are done once here:

- compiled templates are kept in memory (Jinja's own bytecode cache, keyed by template
  name and source checksum, so a changed template is compiled again);
- the list of a theme folder's files, and which of them a site copies, are kept per
  folder set;
- emoji indexes are built once and shared (the extension only reads them);
- Python-Markdown tries each of the ~40 inline patterns techdocs-core's extensions
  register on every text node, through two Python calls and a registry lookup each; most
  find nothing. Here one C-level regex search decides first, and only a pattern that
  finds something goes through Python-Markdown's own code (a third of a build before).

Each patch replaces a function MkDocs or pymdownx calls, keeps its signature and falls
back to the original's result, so a build with or without them is byte-identical.
"""

from __future__ import annotations

import functools
import importlib
import json
from typing import Any

import jinja2

__all__ = ["install"]

_installed = False


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    _share_templates()
    _share_theme_files()
    _share_emoji_indexes()
    _search_before_applying_inline_patterns()


def _share_templates() -> None:
    theme_module: Any = importlib.import_module("mkdocs.theme")
    original = theme_module.Theme.get_env
    bytecode = _MemoryBytecodeCache()
    listings: dict[tuple[str, ...], list[str]] = {}

    @functools.wraps(original)
    def get_env(self: Any) -> jinja2.Environment:
        env: jinja2.Environment = original(self)
        env.bytecode_cache = bytecode
        loader = env.loader
        if isinstance(loader, jinja2.FileSystemLoader):
            key = tuple(str(d) for d in loader.searchpath)
            if key not in listings:
                listings[key] = loader.list_templates()
            names = listings[key]
            loader.list_templates = lambda: list(names)  # type: ignore[method-assign]
        return env

    theme_module.Theme.get_env = get_env


def _share_theme_files() -> None:
    """Which theme files a site copies depends on the theme's folders and its static
    templates only; MkDocs matches ~15 patterns against each of Material's ~1,400 files and
    stats them, for every site."""
    files_module: Any = importlib.import_module("mkdocs.structure.files")
    files_class = files_module.Files
    original = files_class.add_files_from_theme
    found: dict[tuple[tuple[str, ...], tuple[str, ...]], list[tuple[str, str]]] = {}

    @functools.wraps(original)
    def add_files_from_theme(self: Any, env: jinja2.Environment, config: Any) -> None:
        key = (tuple(config.theme.dirs), tuple(config.theme.static_templates))
        if key not in found:
            probe = files_class([])
            original(probe, env, config)
            found[key] = [(f.src_uri, f.src_dir) for f in probe]
        for path, folder in found[key]:
            # Files of the docs tree win over the theme's, as in MkDocs.
            if self.get_file_from_path(path) is None:
                self.append(
                    files_module.File(path, folder, config.site_dir, config.use_directory_urls)
                )

    files_class.add_files_from_theme = add_files_from_theme


def _share_emoji_indexes() -> None:
    emoji: Any = importlib.import_module("pymdownx.emoji")
    for name in ("emojione", "gemoji", "twemoji"):
        setattr(emoji, name, _shared_index(getattr(emoji, name)))
    try:
        material: Any = importlib.import_module("material.extensions.emoji")
    except ImportError:
        return
    material.twemoji = _shared_index(material.twemoji)


def _shared_index(original: Any) -> Any:
    indexes: dict[str, Any] = {}

    @functools.wraps(original)
    def index(options: Any, md: Any) -> Any:
        # The index depends on the options only (e.g. material's custom icon folders).
        key = json.dumps(options, sort_keys=True, default=str)
        if key not in indexes:
            indexes[key] = original(options, md)
        return indexes[key]

    return index


def _search_before_applying_inline_patterns() -> None:
    treeprocessors: Any = importlib.import_module("markdown.treeprocessors")
    inlinepatterns: Any = importlib.import_module("markdown.inlinepatterns")
    util: Any = importlib.import_module("markdown.util")
    processor = treeprocessors.InlineProcessor
    apply_pattern = processor._InlineProcessor__applyPattern
    new_style = inlinepatterns.InlineProcessor
    atomic = util.AtomicString

    def handle_inline(self: Any, data: Any, pattern_index: int = 0) -> Any:
        # The original loop, with the registry read once and a miss decided in C: a
        # new-style pattern whose regex finds nothing from start_index is exactly the
        # case where __applyPattern returns (data, False, 0).
        if isinstance(data, atomic):
            return data
        patterns = list(self.inlinePatterns)
        start_index = 0
        count = len(patterns)
        while pattern_index < count:
            pattern = patterns[pattern_index]
            if (
                isinstance(pattern, new_style)
                and pattern.compiled_re.search(data, start_index) is None
            ):
                pattern_index += 1
                start_index = 0
                continue
            data, matched, start_index = apply_pattern(
                self, pattern, data, pattern_index, start_index
            )
            if not matched:
                pattern_index += 1
        return data

    processor._InlineProcessor__handleInline = handle_inline
