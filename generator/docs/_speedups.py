"""Make many MkDocs builds in one process cheap: work MkDocs redoes for every site.

Measured on a 20-page site (see the spec), most of a build is not rendering: Jinja
compiles Material's templates again for each site, lists the theme's files again, and
pymdownx.emoji deep-copies its emoji index for every page. In a worker that builds
hundreds of sites those are the same every time, so they are done once here:

- compiled templates are kept in memory (Jinja's own bytecode cache, keyed by template
  name and source checksum, so a changed template is compiled again);
- the list of a theme folder's files, and which of them a site copies, are kept per
  folder set;
- emoji indexes are built once and shared (the extension only reads them).

(Skipping inline patterns whose first characters are absent from a text node was tried
and measured slower: Python-Markdown's misses are already cheap C regex searches.)

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
