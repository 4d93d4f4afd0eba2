"""What the theme prints from ``mkdocs.yml``, made safe to print.

MkDocs renders Material's templates without autoescaping, so every setting a template
prints reaches the page as HTML: a ``repo_url`` of ``"><img onerror=…>`` runs on the
portal's origin. Here every such setting is rebuilt before the build sees it:

- texts are HTML-escaped (``copyright`` keeps the few tags people put there, sanitised);
- URLs are parsed and written again, percent-encoded, with http(s) the only schemes for
  links, and only paths inside the docs for stylesheets, the logo and the favicon;
- enumerations (``theme.direction``, ``theme.language``, features) are checked against
  their values, and icon names against the icons Material ships (they become template
  includes); keys that become CSS or HTML (``theme.icon.admonition``) must be plain names;
- settings that make every reader's browser call a third party or run the repository's
  scripts (``extra.analytics``, ``extra.consent``, ``extra.polyfills``, ``extra.scope``,
  ``extra.version``) are dropped, and so is anything a repository sets under Backlot's
  own names.

Each value left out is a warning naming the setting; nothing here fails a build.
"""

from __future__ import annotations

import functools
import html
import importlib.resources
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import nh3

from ..model import DocsProblem, safe_url

__all__ = ["ThemeSettings", "clean_theme_settings", "icon_exists", "icon_file"]

_ICON_NAME = re.compile(r"[a-z0-9_-]+(?:/[a-z0-9_.-]+)+")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FEATURE = re.compile(r"[a-z0-9_.]{1,64}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z]{2,4})?")
_EDIT_TEMPLATE = re.compile(r"[^{}]*(?:\{path(?:_noext)?(?:!q)?\}[^{}]*)*")
# What a URL path, query and fragment may hold unencoded: nothing that ends an attribute
# or a tag, nor a space.
_SAFE_PATH = "/:@!$&()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"
_DROPPED_EXTRA = {
    "analytics": "it loads a third party's tag manager in every reader's browser",
    "consent": "the cookie consent dialog belongs to analytics, which is not used",
    "polyfills": "it adds scripts from the repository to every page",
    "scope": "it changes where the theme keeps the reader's settings",
    "version": "versioned docs (mike) are not supported by the portal's builder",
}
_COPYRIGHT_TAGS = {"a", "em", "strong", "b", "i", "span", "br", "small"}
_TEXT_KEYS = ("site_name", "site_description", "site_author", "repo_name")


def _templates() -> Path:
    return Path(str(importlib.resources.files("material") / "templates"))


@functools.cache
def _languages() -> frozenset[str]:
    return frozenset(p.stem for p in (_templates() / "partials" / "languages").glob("*.html"))


def icon_file(name: str) -> Path:
    return _templates() / ".icons" / f"{name}.svg"


@functools.cache
def icon_exists(name: str) -> bool:
    """Whether Material ships the icon ``name`` (``material/library``)."""
    if _ICON_NAME.fullmatch(name) is None or ".." in name:
        return False
    return icon_file(name).is_file()


class ThemeSettings:
    """Collects the warnings of one config's cleaning."""

    def __init__(self, allowed_hosts: tuple[str, ...]) -> None:
        self.allowed_hosts = allowed_hosts
        self.warnings: list[DocsProblem] = []

    def drop(self, setting: str, why: str) -> None:
        self.warnings.append(
            DocsProblem(
                rule="docs/setting-refused", message=f"mkdocs.yml: {setting}: {why}; left out"
            )
        )


def clean_theme_settings(
    values: dict[str, Any], raw_theme: Any, allowed_hosts: tuple[str, ...]
) -> tuple[dict[str, Any], list[DocsProblem]]:
    """``values`` (the kept top-level settings) and the theme, safe for the templates."""
    settings = ThemeSettings(allowed_hosts)
    for key in _TEXT_KEYS:
        if key in values:
            if isinstance(values[key], str):
                values[key] = html.escape(values[key])
            else:
                settings.drop(key, "not a text")
                values.pop(key)
    if "copyright" in values:
        if isinstance(values["copyright"], str):
            values["copyright"] = nh3.clean(
                values["copyright"],
                tags=_COPYRIGHT_TAGS,
                attributes={"a": {"href", "title"}},
                url_schemes={"http", "https", "mailto"},
                link_rel="noopener noreferrer",
            )
        else:
            settings.drop("copyright", "not a text")
            values.pop("copyright")
    for key in ("repo_url", "site_url"):
        _url_setting(values, key, settings, absolute=True)
    _url_setting(values, "edit_uri", settings, absolute=False)
    template = values.get("edit_uri_template")
    if template is not None:
        # str.format placeholders other than these could read attributes of the path.
        cleaned = None
        if isinstance(template, str) and _EDIT_TEMPLATE.fullmatch(template):
            cleaned = _reserialise(
                template, settings, "edit_uri_template", absolute=False, braces=True
            )
        else:
            settings.drop("edit_uri_template", "only {path} and {path_noext} may be used in it")
        if cleaned is None:
            values.pop("edit_uri_template")
        else:
            values["edit_uri_template"] = cleaned
    if "extra_css" in values:
        values["extra_css"] = _local_paths(values["extra_css"], "extra_css", settings)
    if "nav" in values:
        values["nav"] = _nav(values["nav"], settings)
    if "extra" in values:
        values["extra"] = _extra(values["extra"], settings)
    return {**values, "theme": _theme(raw_theme, settings)}, settings.warnings


# --------------------------------------------------------------------------- URLs


def _url_setting(values: dict[str, Any], key: str, settings: ThemeSettings, absolute: bool) -> None:
    if key not in values:
        return
    value = values[key]
    cleaned = (
        _reserialise(value, settings, key, absolute=absolute) if isinstance(value, str) else None
    )
    if cleaned is None:
        if not isinstance(value, str):
            settings.drop(key, "not a URL")
        values.pop(key)
    else:
        values[key] = cleaned


def _reserialise(
    value: str, settings: ThemeSettings, what: str, *, absolute: bool, braces: bool = False
) -> str | None:
    """``value`` parsed and written again with everything that could end an attribute
    percent-encoded; None (with a warning) when it is not a link the portal may print."""
    text = value.strip()
    if safe_url(text) is None and text:
        settings.drop(what, f"{value[:80]!r} is not an http(s) link")
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        settings.drop(what, f"{value[:80]!r} is not a URL")
        return None
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        settings.drop(what, f"{value[:80]!r} is not an http(s) link")
        return None
    if absolute and not (parts.scheme and parts.netloc):
        settings.drop(what, f"{value[:80]!r} must be an absolute http(s) URL")
        return None
    host = parts.netloc
    if host and not re.fullmatch(r"[A-Za-z0-9.\-:\[\]@%_~]+", host):
        settings.drop(what, f"{value[:80]!r} has a host no browser would resolve")
        return None
    extra = "{}" if braces else ""
    return urlunsplit(
        (
            parts.scheme.lower(),
            host,
            quote(parts.path, safe=_SAFE_PATH + extra),
            quote(parts.query, safe=_SAFE_QUERY + extra),
            quote(parts.fragment, safe=_SAFE_QUERY + extra),
        )
    )


def _local_path(value: Any, what: str, settings: ThemeSettings) -> str | None:
    """A path of a file inside the docs (a stylesheet, the logo), encoded; None if it is
    anything else: a URL, protocol-relative, absolute, or up out of the docs."""
    if not isinstance(value, str) or not value.strip():
        settings.drop(what, "not a path")
        return None
    text = value.strip().replace("\\", "/")
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or text.startswith("/") or ".." in text.split("/"):
        settings.drop(what, f"{value[:80]!r} must be a file inside the docs, not a URL")
        return None
    return quote(parts.path, safe="/-._~!$&()*+,;=@")


def _local_paths(value: Any, what: str, settings: ThemeSettings) -> list[str]:
    if not isinstance(value, list):
        settings.drop(what, "must be a list of paths")
        return []
    return [p for p in (_local_path(v, what, settings) for v in value) if p is not None]


# --------------------------------------------------------------------------- theme


def _theme(raw: Any, settings: ThemeSettings) -> dict[str, Any]:
    """Material, as techdocs-core forces it, with the repository's own settings checked."""
    theme: dict[str, Any] = {}
    if raw is not None and not isinstance(raw, dict):
        settings.drop("theme", "must be a mapping")
        raw = None
    raw = raw or {}
    if raw.get("name") not in (None, "material"):
        settings.drop("theme.name", f"{str(raw.get('name'))[:40]!r} replaced by material")
    if raw.get("custom_dir"):
        settings.drop("theme.custom_dir", "templates from the repository can run code")
    if "language" in raw:
        language = raw["language"]
        if isinstance(language, str) and _LANGUAGE.fullmatch(language) and language in _languages():
            theme["language"] = language
        else:
            settings.drop(
                "theme.language", f"{str(language)[:40]!r} is not a language Material has"
            )
    if "direction" in raw:
        if raw["direction"] in ("ltr", "rtl"):
            theme["direction"] = raw["direction"]
        else:
            settings.drop("theme.direction", "must be ltr or rtl")
    for key in ("logo", "favicon"):
        if key in raw:
            path = _local_path(raw[key], f"theme.{key}", settings)
            if path is not None:
                theme[key] = path
    if "icon" in raw:
        theme["icon"] = _icons(raw["icon"], settings)
    features = raw.get("features") or []
    if not isinstance(features, list):
        settings.drop("theme.features", "must be a list")
        features = []
    kept = []
    for feature in features:
        if isinstance(feature, str) and _FEATURE.fullmatch(feature):
            kept.append(feature)
        else:
            settings.drop("theme.features", f"{str(feature)[:40]!r} is not a feature name")
    for feature in ("navigation.footer", "content.action.edit"):
        if feature not in kept:
            kept.append(feature)
    # font: false keeps Material from loading Google Fonts: no request leaves the company's
    # domain when someone reads the docs (Backstage offers the same switch).
    # search_index_only: MkDocs' search plugin then writes the index without adding its
    # own search/main.js, which expects globals only MkDocs' built-in themes define.
    theme.update(name="material", features=kept, palette={}, font=False, search_index_only=True)
    return theme


def _icons(raw: Any, settings: ThemeSettings) -> dict[str, Any]:
    """``theme.icon``: names become template includes and CSS, so each must be an icon
    Material ships, and the keys of ``admonition`` and ``tag`` plain names."""
    if not isinstance(raw, dict):
        settings.drop("theme.icon", "must be a mapping of icon names")
        return {}
    icons: dict[str, Any] = {}
    for key, value in raw.items():
        what = f"theme.icon.{str(key)[:40]}"
        if not (isinstance(key, str) and _PLAIN_KEY.fullmatch(key)):
            settings.drop("theme.icon", f"{str(key)[:40]!r} is not a setting name")
        elif key in ("admonition", "tag"):
            if not isinstance(value, dict):
                settings.drop(what, "must be a mapping of names to icons")
                continue
            icons[key] = {
                name: icon
                for name, icon in value.items()
                if _icon_entry(name, icon, f"{what}.{str(name)[:40]}", settings)
            }
        elif isinstance(value, str) and icon_exists(value):
            icons[key] = value
        else:
            settings.drop(what, f"{str(value)[:60]!r} is not an icon Material has")
    return icons


def _icon_entry(name: Any, icon: Any, what: str, settings: ThemeSettings) -> bool:
    if not (isinstance(name, str) and _PLAIN_KEY.fullmatch(name)):
        settings.drop(what, "the name must be letters, digits, - and _ only")
        return False
    if not (isinstance(icon, str) and icon_exists(icon)):
        settings.drop(what, f"{str(icon)[:60]!r} is not an icon Material has")
        return False
    return True


# --------------------------------------------------------------------------- nav and extra


def _nav(value: Any, settings: ThemeSettings) -> Any:
    """Each target a page of the docs or an http(s) link; an entry whose target is not is
    left out whole (an empty one would be a broken link). Titles are escaped once the
    navigation is built, with those MkDocs takes from file and folder names
    (``SanitizePlugin.on_nav``)."""
    if not isinstance(value, list):
        settings.drop("nav", "must be a list")
        return []
    entries: list[Any] = []
    for item in value:
        if isinstance(item, str):
            target = _nav_target(item, settings, "nav")
            if target is not None:
                entries.append(target)
        elif isinstance(item, dict) and len(item) == 1:
            title, target = next(iter(item.items()))
            if isinstance(target, list):
                entries.append({str(title): _nav(target, settings)})
            elif isinstance(target, str):
                cleaned = _nav_target(target, settings, "nav")
                if cleaned is not None:
                    entries.append({str(title): cleaned})
            else:
                settings.drop("nav", f"entry {str(title)[:60]!r} has no page or link")
        else:
            settings.drop("nav", f"entry {str(item)[:60]!r} is not understood")
    return entries


def _nav_target(value: str, settings: ThemeSettings, what: str) -> str | None:
    parts = urlsplit(value.strip()) if safe_url(value) is not None else None
    if parts is None or parts.scheme or parts.netloc:
        return _link(value, settings, what)
    return html.escape(value, quote=True)  # a page of the docs (or a title)


def _extra(value: Any, settings: ThemeSettings) -> dict[str, Any]:
    if not isinstance(value, dict):
        settings.drop("extra", "must be a mapping")
        return {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        name = str(key)
        if name in _DROPPED_EXTRA:
            settings.drop(f"extra.{name}", _DROPPED_EXTRA[name])
        elif name.startswith("backlot"):
            settings.drop(f"extra.{name}", "names starting with backlot are the builder's own")
        elif name == "social":
            extra["social"] = _entries(item, settings, "extra.social", _social)
        elif name == "alternate":
            extra["alternate"] = _entries(item, settings, "extra.alternate", _alternate)
        elif name == "homepage":
            if isinstance(item, str) and (link := _link(item, settings, "extra.homepage")):
                extra["homepage"] = link
        elif name == "generator":
            extra["generator"] = item is True
        else:
            extra[html.escape(name)] = _clean_tree(item, settings, f"extra.{name}", _text_or_link)
    return extra


def _entries(
    value: Any,
    settings: ThemeSettings,
    what: str,
    clean: Callable[[dict[str, Any], ThemeSettings, str], dict[str, Any] | None],
) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        settings.drop(what, "must be a list")
        return []
    entries = []
    for item in value:
        if not isinstance(item, dict):
            settings.drop(what, f"entry {str(item)[:60]!r} is not a mapping")
            continue
        cleaned = clean(item, settings, what)
        if cleaned is not None:
            entries.append(cleaned)
    return entries


def _social(item: dict[str, Any], settings: ThemeSettings, what: str) -> dict[str, Any] | None:
    icon, link = item.get("icon"), item.get("link")
    if not (isinstance(icon, str) and icon_exists(icon)):
        settings.drop(f"{what}.icon", f"{str(icon)[:60]!r} is not an icon Material has")
        return None
    if not isinstance(link, str):
        settings.drop(f"{what}.link", "missing")
        return None
    href = _link(link, settings, f"{what}.link")
    if href is None:
        return None
    entry = {"icon": icon, "link": href}
    if isinstance(item.get("name"), str):
        entry["name"] = html.escape(item["name"])
    return entry


def _alternate(item: dict[str, Any], settings: ThemeSettings, what: str) -> dict[str, Any] | None:
    name, link, lang = item.get("name"), item.get("link"), item.get("lang")
    if not (isinstance(name, str) and isinstance(link, str)):
        settings.drop(what, "an entry needs a name and a link")
        return None
    href = _link(link, settings, f"{what}.link")
    if href is None:
        return None
    entry = {"name": html.escape(name), "link": href}
    if isinstance(lang, str) and _LANGUAGE.fullmatch(lang):
        entry["lang"] = lang
    elif lang is not None:
        settings.drop(f"{what}.lang", f"{str(lang)[:40]!r} is not a language code")
    return entry


def _link(value: str, settings: ThemeSettings, what: str) -> str | None:
    """A link a template prints as ``href``: http(s), mailto or relative, re-serialised."""
    if value.strip().lower().startswith("mailto:"):
        return html.escape(value.strip(), quote=True)
    return _reserialise(value, settings, what, absolute=False)


def _text_or_link(value: str, settings: ThemeSettings, what: str) -> str | None:
    if safe_url(value) is None and value.strip():
        settings.drop(what, f"{value[:60]!r} is not a safe link")
        return None
    return html.escape(value, quote=True)


def _clean_tree(
    value: Any,
    settings: ThemeSettings,
    what: str,
    leaf: Callable[[str, ThemeSettings, str], str | None],
) -> Any:
    """Keys escaped, strings through ``leaf`` (no deeper than the YAML limits allow)."""
    if isinstance(value, dict):
        return {html.escape(str(k)): _clean_tree(v, settings, what, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_tree(v, settings, what, leaf) for v in value]
    if isinstance(value, str):
        cleaned = leaf(value, settings, what)
        return "" if cleaned is None else cleaned
    return value
