"""A repository's ``mkdocs.yml``, made safe to build: nothing in it may run code.

MkDocs runs hooks, plugins and Markdown extensions named in the config, resolves
``!!python/name`` tags, reads ``!ENV`` variables and follows ``INHERIT`` to other files.
Every one of those is a way for a repository to run code or read secrets on the build
machine (CVE-2026-22804 was hooks in TechDocs). So the config is read with our own loader
and rebuilt from allow-lists; anything refused is a clear error for that entity alone.

Like Backstage (``techdocs-core`` is always added), every site gets techdocs-core's
configuration: the Material theme, its features and its Markdown extensions, minus the
two that reach outside the build (PlantUML's server, Graphviz's ``dot``).
"""

from __future__ import annotations

import html
import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..model import safe_url

__all__ = [
    "DEFAULT_PLUGINS",
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
THEME_KEYS = frozenset(
    {"name", "font", "icon", "logo", "favicon", "language", "direction", "features"}
)
# techdocs-core bundles search, monorepo and gh-admonitions; material's search too.
DEFAULT_PLUGINS = ("techdocs-core", "search", "material/search", "gh-admonitions")
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


class DocsConfigError(Exception):
    """The docs cannot be built safely; the message says why, for the entity's page."""


@dataclass
class SafeMkdocsConfig:
    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class _Refusal(yaml.YAMLError):
    pass


class _Loader(yaml.SafeLoader):
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
    repo_root: Path,
    docs_folder: Path,
    site_name: str,
    allowed_plugins: Iterable[str] = DEFAULT_PLUGINS,
) -> SafeMkdocsConfig:
    """The config to build with, from ``text`` (None: no mkdocs.yml, TechDocs' default).

    ``docs_folder`` is the folder that holds mkdocs.yml; every path must stay in the repo.
    """
    raw: Any = {}
    if text is not None:
        try:
            raw = yaml.load(text, Loader=_Loader) or {}
        except _Refusal as exc:
            raise DocsConfigError(f"mkdocs.yml {exc}") from None
        except yaml.YAMLError as exc:
            raise DocsConfigError(f"mkdocs.yml is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise DocsConfigError("mkdocs.yml must be a mapping of settings")
    warnings: list[str] = []
    if raw.get("hooks"):
        raise DocsConfigError(
            "mkdocs.yml has hooks: they run Python code from the repository, and docs built "
            "by the portal never do (Backstage drops them too)"
        )
    for key in sorted(set(raw) - KEPT_KEYS - {"docs_dir", "site_dir", "theme", "plugins"}):
        if key not in ("markdown_extensions", "mdx_configs", "use_directory_urls", "strict"):
            warnings.append(f"mkdocs.yml: {key} is not used by the portal's builder; ignored")
    values: dict[str, Any] = {k: v for k, v in raw.items() if k in KEPT_KEYS}
    values.setdefault("site_name", site_name)
    if not isinstance(values["site_name"], str) or not values["site_name"]:
        values["site_name"] = site_name

    docs_dir = raw.get("docs_dir", "docs")
    if not isinstance(docs_dir, str):
        raise DocsConfigError("mkdocs.yml: docs_dir must be a path")
    docs_path = _inside(repo_root, docs_folder / docs_dir, "docs_dir")
    if not docs_path.is_dir():
        raise DocsConfigError(f"docs_dir {docs_dir!r} is not a folder")
    values["docs_dir"] = str(docs_path)

    values["theme"] = _theme(raw.get("theme"), warnings)
    values["plugins"] = _plugins(raw.get("plugins"), set(allowed_plugins))
    values["markdown_extensions"] = _extensions(
        raw.get("markdown_extensions"), repo_root, docs_folder, warnings
    )
    extra_css = values.get("extra_css")
    if extra_css is not None and not (
        isinstance(extra_css, list)
        and all(isinstance(c, str) and "://" not in c for c in extra_css)
    ):
        warnings.append("mkdocs.yml: extra_css must list stylesheets in the docs; ignored")
        values.pop("extra_css")
    values["use_directory_urls"] = True
    _escape_for_templates(values, warnings)
    return SafeMkdocsConfig(values, warnings)


# MkDocs renders its theme without autoescaping: what mkdocs.yml says reaches the HTML as is.
_TEXT_KEYS = ("site_name", "site_description", "site_author", "copyright", "repo_name")
_URL_KEYS = ("repo_url", "edit_uri", "edit_uri_template", "site_url")


def _escape_for_templates(values: dict[str, Any], warnings: list[str]) -> None:
    """HTML-escape every text the theme prints and drop URLs with unsafe schemes."""
    for key in _TEXT_KEYS:
        if isinstance(values.get(key), str):
            values[key] = html.escape(values[key])
        elif key in values and key != "site_name":
            values.pop(key)
    for key in _URL_KEYS:
        url = values.get(key)
        if url is not None and (not isinstance(url, str) or safe_url(url) is None):
            warnings.append(f"mkdocs.yml: {key} {url!r} is not a safe URL; ignored")
            values.pop(key)
    if "nav" in values:
        values["nav"] = _clean_tree(values["nav"], warnings)
    if "extra" in values:
        values["extra"] = _clean_tree(values["extra"], warnings)


def _clean_tree(value: Any, warnings: list[str]) -> Any:
    """Keys and strings of nav/extra escaped; a string with an unsafe scheme dropped."""
    if isinstance(value, dict):
        return {html.escape(str(k)): _clean_tree(v, warnings) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_tree(v, warnings) for v in value]
    if isinstance(value, str):
        if safe_url(value) is None and value.strip():
            warnings.append(f"mkdocs.yml: {value!r} is not a safe URL; left out")
            return ""
        return html.escape(value, quote=True)
    return value


def _inside(repo_root: Path, path: Path, what: str) -> Path:
    real = path.resolve()
    root = repo_root.resolve()
    if real != root and root not in real.parents:
        raise DocsConfigError(f"{what} {path} resolves outside the repository")
    return real


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
            real = path.resolve()
            if real != root and root not in real.parents:
                rel = path.relative_to(root)
                raise DocsConfigError(f"{rel} is a symlink that leads outside the repository")


def _theme(raw: Any, warnings: list[str]) -> dict[str, Any]:
    """techdocs-core forces Material, adds its features and resets the palette."""
    theme: dict[str, Any] = {}
    if isinstance(raw, dict):
        theme = {k: v for k, v in raw.items() if k in THEME_KEYS}
        if raw.get("custom_dir"):
            warnings.append("mkdocs.yml: theme.custom_dir is not used (templates can run code)")
        if raw.get("name") not in (None, "material"):
            warnings.append(f"mkdocs.yml: theme {raw.get('name')!r} replaced by material")
    features = [f for f in theme.get("features") or [] if isinstance(f, str)]
    for feature in ("navigation.footer", "content.action.edit"):
        if feature not in features:
            features.append(feature)
    # font: false keeps Material from loading Google Fonts: no request leaves the company's
    # domain when someone reads the docs (Backstage offers the same switch).
    # search_index_only: MkDocs' search plugin then writes the index without adding its
    # own search/main.js, which expects globals only MkDocs' built-in themes define.
    theme.update(name="material", features=features, palette={}, font=False, search_index_only=True)
    return theme


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
                raise DocsConfigError(f"mkdocs.yml: plugins entry {item!r} is not understood")
    elif isinstance(raw, dict):
        names = [(str(k), v) for k, v in raw.items()]
    elif raw is not None:
        raise DocsConfigError("mkdocs.yml: plugins must be a list")
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
        raise DocsConfigError("mkdocs.yml: markdown_extensions must be a list")
    for entry in entries:
        if isinstance(raw, dict):
            name, options = entry
        elif isinstance(entry, str):
            name, options = entry, None
        elif isinstance(entry, dict) and len(entry) == 1:
            name, options = next(iter(entry.items()))
        else:
            raise DocsConfigError(
                f"mkdocs.yml: markdown_extensions entry {entry!r} is not understood"
            )
        items.append((str(name), options))
    return items


def _extensions(raw: Any, repo_root: Path, docs_folder: Path, warnings: list[str]) -> list[Any]:
    """techdocs-core's extensions, with the repository's own settings merged over them."""
    merged: dict[str, Any] = {}
    for item in _techdocs_extensions():
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, None)
        merged[name] = options
    for name, options in _extension_items(raw):
        if name in NETWORK_EXTENSIONS:
            warnings.append(f"mkdocs.yml: {name} reaches outside the build; not used")
            continue
        if ":" in name or not (name in SAFE_EXTENSIONS or name.startswith(SAFE_EXTENSION_PREFIXES)):
            raise DocsConfigError(
                f"mkdocs.yml: Markdown extension {name!r} is not one the portal's builder runs"
            )
        if options is not None and not isinstance(options, dict):
            raise DocsConfigError(f"mkdocs.yml: options of {name} must be a mapping")
        base = merged.get(name) or {}
        merged[name] = {**base, **(options or {})} if (options or base) else None
    snippets = dict(merged.get("pymdownx.snippets") or {})
    bases = snippets.get("base_path", ["."])
    bases = [bases] if isinstance(bases, str) else bases
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise DocsConfigError("mkdocs.yml: pymdownx.snippets base_path must be paths")
    # Relative to MkDocs' working directory, which TechDocs sets to the mkdocs.yml folder.
    snippets["base_path"] = [
        str(_inside(repo_root, docs_folder / b, "snippets base_path")) for b in bases
    ]
    snippets.update(restrict_base_path=True, url_download=False, check_paths=True)
    merged["pymdownx.snippets"] = snippets
    return [{name: options} if options else name for name, options in merged.items()]
