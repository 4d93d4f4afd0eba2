"""Entity names from an identity provider's names, as Backstage's providers make them."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_NAME", "email_local_part", "kebab_case", "normalize_name"]

MAX_NAME = 63  # Backstage's limit for metadata.name
_INVALID = re.compile(r"[^a-z0-9_.-]+")


def normalize_name(value: str) -> str:
    """Backstage's ``normalizeEntityName`` (Microsoft Graph provider): lowercase, anything
    but ``[a-z0-9_.-]`` becomes ``_``, trimmed to start and end with a letter or digit,
    at most 63 characters. "" when nothing is left."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    text = _INVALID.sub("_", text.strip().lower())
    text = text.strip("_.-")[:MAX_NAME].rstrip("_.-")
    return text


def kebab_case(value: str) -> str:
    """ "Platform Team (EU)" → "platform-team-eu": Okta providers' ``kebab-case-name``."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:MAX_NAME].rstrip("-")


def email_local_part(email: str) -> str:
    """ "jane.doe@acme.com" → "jane.doe": ``strip-domain-email``."""
    return normalize_name(email.split("@", 1)[0])
