"""``backlot.yaml``: every setting, typed. Without the file, every default applies."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .sources import DEFAULT_DESCRIPTOR_GLOBS

__all__ = [
    "CONFIG_FILE",
    "BacklotConfig",
    "CatalogSettings",
    "ConfigError",
    "LocalSource",
    "load_config",
]

CONFIG_FILE = "backlot.yaml"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalSource(_Settings):
    """A folder whose subfolders are repositories (or a single repository)."""

    type: Literal["local"] = "local"
    path: Path
    descriptors: tuple[str, ...] = Field(
        default=DEFAULT_DESCRIPTOR_GLOBS,
        description="file names or globs, relative to each repository's root",
    )
    url_template: str | None = Field(
        default=None,
        description="web address of each repository, e.g. https://github.com/acme/{name}",
    )


class CatalogSettings(_Settings):
    sources: tuple[LocalSource, ...] = ()
    max_file_bytes: int = Field(default=10 * 1024 * 1024, gt=0)


class BacklotConfig(_Settings):
    catalog: CatalogSettings = CatalogSettings()
    cache_dir: Path = Path(".backlot")
    output: Path = Path("site")


class ConfigError(Exception):
    """backlot.yaml cannot be used; the message names the file and the setting."""


def load_config(path: Path) -> BacklotConfig:
    """Read ``path``; relative paths inside it are relative to its folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a mapping of settings")
    try:
        config = BacklotConfig.model_validate(raw)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"{path}: {details}") from None
    base = path.parent
    return config.model_copy(
        update={
            "cache_dir": base / config.cache_dir,
            "output": base / config.output,
            "catalog": config.catalog.model_copy(
                update={
                    "sources": tuple(
                        s.model_copy(update={"path": base / s.path}) for s in config.catalog.sources
                    )
                }
            ),
        }
    )
