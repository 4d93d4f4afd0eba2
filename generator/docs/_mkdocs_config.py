"""A repository's ``mkdocs.yml``, made safe to build: nothing in it may run code.

MkDocs runs hooks, plugins and Markdown extensions named in the config, resolves
``!!python/name`` tags, reads ``!ENV`` variables and follows ``INHERIT`` to other files.
Every one of those is a way for a repository to run code or read secrets on the build
machine (CVE-2026-22804 was hooks in TechDocs). So the config is read with our own loader
and rebuilt from allow-lists; anything refused is a clear error for that entity alone.

Like Backstage (``techdocs-core`` is always added), every site gets techdocs-core's
configuration: the Material theme, its features and its Markdown extensions, minus the
two that reach outside the build (PlantUML's server, Graphviz's ``dot``).

Before PyYAML constructs anything, the file's events are read once by libyaml to hold it
to the catalog's limits (nesting, alias expansions): PyYAML's own composer recurses, and
it expands aliases without any limit. What the theme prints is cleaned by
``_theme_settings``; every path (``docs_dir``, snippet folders) goes through the
repository's boundary, so nothing outside it, nor in ``.git``, is ever read.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import DEFAULT_PLUGINS
from ..errors import BacklotError
from ..model import MAX_NESTING, DocsProblem
from ..sources import Repository, RepositoryError
from ._theme_settings import clean_theme_settings

__all__ = [
    "DocsConfigError",
    "SafeMkdocsConfig",
    "check_links",
    "read_mkdocs_config",
]

# Top-level keys Backstage's sanitizer keeps (techdocs-node's sanitizeMkdocsYml), less the
# ones we set ourselves (docs_dir, site_dir, theme, plugins, markdown_extensions).
KEPT_KEYS = frozenset(
    {
        "site_name",
        "site_url",
        "site_description",
        "site_author",
        "repo_url",
        "repo_name",
        "edit_uri",
        "edit_uri_template",
        "nav",
        "exclude_docs",
        "not_in_nav",
        "extra",
        "extra_css",
        "copyright",
        "validation",
    }
)
MAX_CONFIG_BYTES = 1024 * 1024
# npm yaml's (and the catalog's) limit on alias expansions, and a cap on the values a
# config may expand to with them.
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 100_000
SAFE_EXTENSIONS = frozenset(
    {
        "abbr", "admonition", "attr_list", "codehilite", "def_list", "extra",
        "fenced_code", "footnotes", "legacy_attrs", "legacy_em", "md_in_html", "meta",
        "nl2br", "sane_lists", "smarty", "tables", "toc", "wikilinks",
        "mdx_truly_sane_lists",
    }
)  # fmt: skip
SAFE_EXTENSION_PREFIXES = ("markdown.extensions.", "pymdownx.", "material.extensions.")
# Extensions that reach outside the build: never, whatever the allow-list says.
NETWORK_EXTENSIONS = frozenset(
    {"plantuml_markdown", "markdown_inline_graphviz", "pymdownx.arithmatex_remote"}
)
# Extensions that read files by path from wherever the build runs (pymdownx.b64 inlines
# any image a page names, relative to the working directory): never.
FILE_READING_EXTENSIONS = frozenset({"pymdownx.b64"})
# Functions mkdocs.yml files commonly name with !!python/name; importing them runs no
# code of the repository's.
SAFE_PYTHON_NAMES = frozenset(
    {
        "material.extensions.emoji.twemoji",
        "material.extensions.emoji.to_svg",
        "pymdownx.emoji.twemoji",
        "pymdownx.emoji.emojione",
        "pymdownx.emoji.gemoji",
        "pymdownx.emoji.to_svg",
        "pymdownx.emoji.to_png",
        "pymdownx.superfences.fence_code_format",
        "pymdownx.superfences.fence_div_format",
        "pymdownx.slugs.uslugify",
        "pymdownx.slugs.slugify",
    }
)


class DocsConfigError(BacklotError):
    """The docs cannot be built safely; the message says why, for the entity's page.

    ``rule``: ``docs/config-refused`` (it would run code or read the machine),
    ``docs/config-invalid`` (not a config MkDocs could use), ``docs/outside-repository``,
    ``docs/symlink-out``."""

    def __init__(self, message: str, rule: str = "docs/config-refused") -> None:
        super().__init__(message)
        self.rule = rule


@dataclass
class SafeMkdocsConfig:
    values: dict[str, Any]
    warnings: list[DocsProblem] = field(default_factory=list)


class _Refusal(yaml.YAMLError):
    pass


class _Loader(yaml.CSafeLoader):
    """SafeLoader plus the tags an mkdocs.yml may carry, each judged."""


def _python_tag(loader: _Loader, suffix: str, node: yaml.Node) -> Any:
    if suffix.startswith("name:") and suffix[5:] in SAFE_PYTHON_NAMES:
        module, _, name = suffix[5:].rpartition(".")
        return getattr(importlib.import_module(module), name)
    raise _Refusal(
        f"line {node.start_mark.line + 1}: !!python/{suffix} would run Python code; "
        "only a few well-known names are allowed (e.g. material.extensions.emoji.twemoji)"
    )


def _env_tag(loader: _Loader, node: yaml.Node) -> Any:
    raise _Refusal(
        f"line {node.start_mark.line + 1}: !ENV reads the build machine's environment; "
        "not allowed in docs built by the portal"
    )


def _relative_tag(loader: _Loader, node: yaml.Node) -> Any:
    raise _Refusal(f"line {node.start_mark.line + 1}: !relative is not supported here")


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _python_tag)
_Loader.add_constructor("!ENV", _env_tag)
_Loader.add_constructor("!relative", _relative_tag)


def _include_tag(loader: _Loader, suffix: str, node: yaml.Node) -> Any:
    # mkdocs-monorepo-plugin's nav includes merge other trees; here each tree is one site.
    raise _Refusal(
        f"line {node.start_mark.line + 1}: !include (mkdocs-monorepo-plugin) is not "
        "supported: give each docs tree its own entity and techdocs-ref"
    )


_Loader.add_multi_constructor("!include", _include_tag)


def read_mkdocs_config(
    text: str | None,
    *,
    repository: Repository,
    folder: str,
    site_name: str,
    allowed_plugins: Iterable[str] = DEFAULT_PLUGINS,
    allowed_hosts: tuple[str, ...] = (),
) -> SafeMkdocsConfig:
    """The config to build with, from ``text`` (None: no mkdocs.yml, TechDocs' default).

    ``folder`` is the repository-relative folder that holds mkdocs.yml (``""``: the root);
    every path the config names must stay inside the repository, out of ``.git``.
    """
    raw: Any = {}
    if text is not None:
        if len(text) > MAX_CONFIG_BYTES:
            raise DocsConfigError(
                f"mkdocs.yml is over {MAX_CONFIG_BYTES // 2**20} MB", "docs/config-invalid"
            )
        _check_limits(text)
        try:
            raw = yaml.load(text, Loader=_Loader) or {}
        except _Refusal as exc:
            raise DocsConfigError(f"mkdocs.yml {exc}") from None
        except yaml.YAMLError as exc:
            raise DocsConfigError(
                f"mkdocs.yml is not valid YAML: {exc}", "docs/config-invalid"
            ) from None
    if not isinstance(raw, dict):
        raise DocsConfigError("mkdocs.yml must be a mapping of settings", "docs/config-invalid")
    warnings: list[DocsProblem] = []
    if raw.get("hooks"):
        raise DocsConfigError(
            "mkdocs.yml has hooks: they run Python code from the repository, and docs built "
            "by the portal never do (Backstage drops them too)"
        )
    for key in sorted(set(raw) - KEPT_KEYS - {"docs_dir", "site_dir", "theme", "plugins"}):
        if key not in ("markdown_extensions", "mdx_configs", "use_directory_urls", "strict"):
            warnings.append(
                DocsProblem(
                    rule="docs/setting-ignored",
                    message=f"mkdocs.yml: {str(key)[:60]} is not used by the portal's builder",
                )
            )
    values: dict[str, Any] = {k: v for k, v in raw.items() if k in KEPT_KEYS}
    if not isinstance(values.get("site_name"), str) or not values["site_name"]:
        values["site_name"] = site_name

    docs_dir = raw.get("docs_dir", "docs")
    if not isinstance(docs_dir, str):
        raise DocsConfigError("mkdocs.yml: docs_dir must be a path", "docs/config-invalid")
    docs_path = _inside(repository, folder, docs_dir, "docs_dir")
    if not docs_path.is_dir():
        raise DocsConfigError(
            f"docs_dir {docs_dir!r} is not a folder of {repository.name}", "docs/no-tree"
        )
    values["docs_dir"] = str(docs_path)

    values["plugins"] = _plugins(raw.get("plugins"), set(allowed_plugins))
    values["markdown_extensions"] = _extensions(
        raw.get("markdown_extensions"), repository, folder, warnings
    )
    values["use_directory_urls"] = True
    values, theme_warnings = clean_theme_settings(values, raw.get("theme"), allowed_hosts)
    return SafeMkdocsConfig(values, warnings + theme_warnings)


def _check_limits(text: str) -> None:
    """Hold mkdocs.yml to the catalog's YAML limits before PyYAML builds anything: its
    composer recurses (a deeply nested file crashes it) and it expands aliases without
    limit (a small file can stand for billions of values)."""
    parser = yaml.CSafeLoader(text)
    depth = 0
    aliases = 0
    # Per open collection: (anchor, values inside it, counting what aliases expand to).
    stack: list[tuple[str | None, int]] = []
    weights: dict[str, int] = {}
    total = 0
    try:
        while True:
            event = parser.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                return
            weight = 0
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    raise DocsConfigError(
                        f"mkdocs.yml: nesting deeper than {MAX_NESTING} levels "
                        f"(line {_line(event)})",
                        "docs/config-invalid",
                    )
                stack.append((event.anchor, 1))
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, weight = stack.pop()
                if anchor is not None:
                    weights[anchor] = weight
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                weight = weights.get(event.anchor or "", 1)
                if aliases > MAX_ALIASES:
                    raise DocsConfigError(
                        f"mkdocs.yml: more than {MAX_ALIASES} aliases (line {_line(event)}); "
                        "this looks like an expansion attack",
                        "docs/config-invalid",
                    )
            elif isinstance(event, yaml.ScalarEvent):
                weight = 1
                if event.anchor is not None:
                    weights[event.anchor] = 1
            else:
                continue
            total += weight
            if total > MAX_EXPANDED_NODES:
                raise DocsConfigError(
                    f"mkdocs.yml expands to more than {MAX_EXPANDED_NODES:,} values through "
                    "its aliases; this looks like an expansion attack",
                    "docs/config-invalid",
                )
            if stack:
                anchor, inner = stack[-1]
                stack[-1] = (anchor, inner + weight)
    except yaml.YAMLError as exc:
        # libyaml stops at 1,000 levels while scanning, before any event of them.
        too_deep = "maximum nesting depth" in str(exc)
        raise DocsConfigError(
            f"mkdocs.yml: nesting deeper than {MAX_NESTING} levels"
            if too_deep
            else f"mkdocs.yml is not valid YAML: {exc}",
            "docs/config-invalid",
        ) from None
    finally:
        parser.dispose()


def _line(event: yaml.Event) -> int:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else 1


def _inside(repository: Repository, folder: str, path: str, what: str) -> Path:
    """The real path of ``path`` (relative to the mkdocs.yml folder ``folder``)."""
    relative = (
        os.path.normpath(os.path.join(folder or ".", path)) if not path.startswith("/") else path
    )
    try:
        return repository.resolve(relative.replace(os.sep, "/"))
    except RepositoryError as exc:
        raise DocsConfigError(f"{what} {path!r}: {exc}", "docs/outside-repository") from None


def check_links(repo_root: Path) -> None:
    """No symlink anywhere in the repository may resolve outside it.

    MkDocs follows symlinked folders of the docs tree, snippets follow links from their
    base path, and a link may point at another link: checking every link of the whole
    repository by its final real path closes all of those at once.
    """
    root = repo_root.resolve()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in (*dirs, *files):
            path = Path(folder) / name
            if not path.is_symlink():
                continue
            try:
                real = path.resolve()
            except (RuntimeError, OSError):
                continue  # a loop leads nowhere; the docs tree walk leaves it out

            if real != root and root not in real.parents:
                rel = path.relative_to(root)
                raise DocsConfigError(
                    f"{rel} is a symlink that leads outside the repository", "docs/symlink-out"
                )


def _plugins(raw: Any, allowed: set[str]) -> list[Any]:
    names: list[tuple[str, Any]] = []
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, str):
                names.append((item, None))
            elif isinstance(item, dict) and len(item) == 1:
                name, options = next(iter(item.items()))
                names.append((str(name), options))
            else:
                raise DocsConfigError(
                    f"mkdocs.yml: plugins entry {str(item)[:80]!r} is not understood",
                    "docs/config-invalid",
                )
    elif isinstance(raw, dict):
        names = [(str(k), v) for k, v in raw.items()]
    elif raw is not None:
        raise DocsConfigError("mkdocs.yml: plugins must be a list", "docs/config-invalid")
    plugins: list[Any] = []
    for name, options in names:
        if name not in allowed:
            raise DocsConfigError(
                f"mkdocs.yml: plugin {name!r} is not on the allow-list "
                f"({', '.join(sorted(allowed))}; docs.allowed_plugins in backlot.yaml)"
            )
        if name in ("techdocs-core", "search", "material/search", "gh-admonitions"):
            continue  # techdocs-core's set is added below, once
        plugins.append({name: options} if options else name)
    # MkDocs' own search plugin, as techdocs-core installs it. Under the Material theme the
    # name "search" means Material's plugin, so Backlot registers MkDocs' under its own
    # name (pyproject.toml). Its index is the one Backstage's reference build writes, and
    # it costs less than Material's; the docs' own search box goes with it (the portal
    # has search).
    return ["backlot/search", "gh-admonitions", *plugins, "backlot/sanitize"]


def inline_emoji(
    index: str,
    shortname: str,
    alias: str,
    uc: str | None,
    alt: str,
    title: str,
    category: str,
    options: Any,
    md: Any,
) -> Any:
    """Emoji as the characters themselves, and Material's icons as inline SVG.

    techdocs-core (and Material for emoji) render emoji as <img> from a public CDN: a
    request from every reader's browser to a third party. Icons have no code point (uc).
    """
    if uc:
        return importlib.import_module("pymdownx.emoji").to_alt(
            index, shortname, alias, uc, alt, title, category, options, md
        )
    return importlib.import_module("material.extensions.emoji").to_svg(
        index, shortname, alias, uc, alt, title, category, options, md
    )


def _techdocs_extensions() -> list[Any]:
    emoji = importlib.import_module("material.extensions.emoji")
    return [
        {"toc": {"permalink": True}},
        "admonition",
        "pymdownx.details",
        {"pymdownx.tabbed": {"alternate_style": True}},
        "pymdownx.caret",
        "pymdownx.critic",
        {"pymdownx.emoji": {"emoji_index": emoji.twemoji, "emoji_generator": inline_emoji}},
        "pymdownx.inlinehilite",
        "pymdownx.magiclink",
        "pymdownx.mark",
        "pymdownx.smartsymbols",
        "pymdownx.snippets",
        {"pymdownx.highlight": {"linenums": True, "pygments_lang_class": True}},
        {"pymdownx.extra": {"pymdownx.betterem": {"smart_enable": "all"}}},
        {"pymdownx.tasklist": {"custom_checkbox": True}},
        "pymdownx.tilde",
        "mdx_truly_sane_lists",
    ]


def _extension_items(raw: Any) -> list[tuple[str, Any]]:
    if raw is None:
        return []
    items: list[tuple[str, Any]] = []
    entries = raw.items() if isinstance(raw, dict) else raw
    if not isinstance(raw, dict | list):
        raise DocsConfigError(
            "mkdocs.yml: markdown_extensions must be a list", "docs/config-invalid"
        )
    for entry in entries:
        if isinstance(raw, dict):
            name, options = entry
        elif isinstance(entry, str):
            name, options = entry, None
        elif isinstance(entry, dict) and len(entry) == 1:
            name, options = next(iter(entry.items()))
        else:
            raise DocsConfigError(
                f"mkdocs.yml: markdown_extensions entry {str(entry)[:80]!r} is not understood",
                "docs/config-invalid",
            )
        items.append((str(name), options))
    return items


def _extensions(
    raw: Any, repository: Repository, folder: str, warnings: list[DocsProblem]
) -> list[Any]:
    """techdocs-core's extensions, with the repository's own settings merged over them."""
    merged: dict[str, Any] = {}
    for item in _techdocs_extensions():
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, None)
        merged[name] = options
    for name, options in _extension_items(raw):
        if name in NETWORK_EXTENSIONS or name in FILE_READING_EXTENSIONS:
            where = "the network" if name in NETWORK_EXTENSIONS else "files outside the docs"
            warnings.append(
                DocsProblem(
                    rule="docs/setting-refused",
                    message=f"mkdocs.yml: {name} reads {where}; not used",
                )
            )
            continue
        if ":" in name or not (name in SAFE_EXTENSIONS or name.startswith(SAFE_EXTENSION_PREFIXES)):
            raise DocsConfigError(
                f"mkdocs.yml: Markdown extension {name!r} is not one the portal's builder runs"
            )
        if options is not None and not isinstance(options, dict):
            raise DocsConfigError(
                f"mkdocs.yml: options of {name} must be a mapping", "docs/config-invalid"
            )
        base = merged.get(name) or {}
        merged[name] = {**base, **(options or {})} if (options or base) else None
    snippets = dict(merged.get("pymdownx.snippets") or {})
    bases = snippets.get("base_path", ["."])
    bases = [bases] if isinstance(bases, str) else bases
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise DocsConfigError(
            "mkdocs.yml: pymdownx.snippets base_path must be paths", "docs/config-invalid"
        )
    # Relative to MkDocs' working directory, which TechDocs sets to the mkdocs.yml folder.
    snippets["base_path"] = [
        str(_inside(repository, folder, b, "snippets base_path")) for b in bases
    ]
    # check_paths off: a missing snippet is a warning on its page (the builder's own), not
    # a failed build.
    snippets.update(restrict_base_path=True, url_download=False, check_paths=False)
    merged["pymdownx.snippets"] = snippets
    return [{name: options} if options else name for name, options in merged.items()]
