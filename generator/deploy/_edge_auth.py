"""The Lambda@Edge sign-in bundle: deploy/edge-auth/index.js, the portal's path mapping
(deploy/viewer-request.js with this portal's prefixes) and config.json, in one zip.

Lambda@Edge has no environment variables, so the settings travel inside the code; the
bundle is deterministic (same settings, same bytes) so a redeploy of unchanged settings is
recognisably a no-op, and written atomically so a half-written zip is never uploaded.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import zipfile
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..files import write_atomic
from ..model import BADGES_PREFIX

_FILES = resources.files("generator.deploy") / "files"
# Zip entries carry a date; a fixed one keeps the bundle's bytes a function of its content.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_PREFIX = re.compile(r"(?:[A-Za-z0-9!_.*'()-]+/)*")
_PUBLIC_PATH = re.compile(r"/[A-Za-z0-9._~/-]+")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


class EdgeAuthConfig(BaseModel):
    """The sign-in check's settings, as config.json holds them (index.js reads these names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(description="the OpenID Connect issuer, exactly as its tokens name it")
    client_id: str = Field(min_length=1, max_length=256)
    client_secret: str = Field(default="", max_length=1024)
    token_endpoint_auth: Literal["none", "client_secret_basic", "client_secret_post"] = Field(
        default="client_secret_basic",
        description="how the function authenticates at the token endpoint; 'none' for a "
        "public client with PKCE only, so no secret is packaged",
    )
    scope: str = "openid email profile"
    cookie_name: str = Field(
        default="backlot-session", pattern=r"^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*$"
    )
    allowed_email_domains: tuple[str, ...] = ()
    allowed_groups: tuple[str, ...] = ()
    groups_claim: str = Field(default="groups", min_length=1, max_length=100)
    public_paths: tuple[str, ...] = Field(
        default=(),
        description="paths served without a session: a folder ends with / (/catalog.json)",
    )
    public_badges: bool = Field(
        default=True,
        description="serve /badges/ without a session (README badges: GitHub's image proxy "
        "sends no cookie); adds it to public_paths",
    )
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    fetch_timeout_seconds: float = Field(default=2.0, gt=0, le=4.5)
    hmac_key: str = Field(default_factory=_new_key, description="signs the sign-in state")
    portal_prefix: str = Field(default="", description="the stack's PortalPrefix")
    docs_prefix: str = Field(default="docs/", description="the stack's DocsPrefix")

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, issuer: str) -> str:
        parts = urlsplit(issuer)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and loopback)
        ):
            raise ValueError(f"{issuer!r} is not an https URL (the issuer of your IdP's tokens)")
        if parts.query or parts.fragment:
            raise ValueError(f"{issuer!r}: an issuer has no query or fragment")
        return issuer

    @field_validator("scope")
    @classmethod
    def _scope(cls, scope: str) -> str:
        if "openid" not in scope.split():
            raise ValueError(f"scope {scope!r} must include openid, or there is no ID token")
        return scope

    @field_validator("allowed_email_domains")
    @classmethod
    def _domains(cls, domains: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(domain.strip().lower().lstrip("@") for domain in domains)
        for domain in cleaned:
            if not _DOMAIN.match(domain):
                raise ValueError(f"{domain!r} is not an e-mail domain (like example.com)")
        return cleaned

    @field_validator("public_paths")
    @classmethod
    def _public(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            segments = path.split("/")[1:]
            if (
                not _PUBLIC_PATH.fullmatch(path)
                or "//" in path
                or any(s in (".", "..") for s in segments)
                or path == "/"
                or path.startswith("/_auth")
            ):
                raise ValueError(
                    f"{path!r} is not a public path (like /badges/ or /catalog.json; "
                    "never / or /_auth)"
                )
        return paths

    @field_validator("hmac_key")
    @classmethod
    def _key(cls, key: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        except ValueError:
            raw = b""
        if len(raw) < 32:
            raise ValueError("hmac_key must be at least 32 random bytes, base64url-encoded")
        return key

    @field_validator("portal_prefix", "docs_prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        # Pasted into a JavaScript string: only the characters S3 keys need plainly.
        if not _PREFIX.fullmatch(prefix) or ".." in prefix.split("/"):
            raise ValueError(f"{prefix!r} is not a key prefix (like portal/, or empty)")
        return prefix

    @model_validator(mode="after")
    def _badges(self) -> EdgeAuthConfig:
        badges = "/" + BADGES_PREFIX
        if self.public_badges and badges not in self.public_paths:
            object.__setattr__(self, "public_paths", (badges, *self.public_paths))
        return self

    @model_validator(mode="after")
    def _secret(self) -> EdgeAuthConfig:
        if self.token_endpoint_auth != "none" and not self.client_secret:
            raise ValueError(
                f"token_endpoint_auth {self.token_endpoint_auth} needs the client secret "
                "(or use 'none' if your IdP allows a public client with PKCE)"
            )
        if self.token_endpoint_auth == "none" and self.client_secret:
            raise ValueError("a client secret was given but token_endpoint_auth is 'none'")
        return self


def edge_auth_files(config: EdgeAuthConfig) -> dict[str, bytes]:
    """The bundle's files by name: what Lambda@Edge runs."""
    rewrite = (
        (_FILES / "viewer-request.js")
        .read_text(encoding="utf-8")
        .replace("${PortalPrefix}", config.portal_prefix)
        .replace("${DocsPrefix}", config.docs_prefix)
    )
    settings = config.model_dump(
        exclude={"portal_prefix", "docs_prefix", "public_badges"}, mode="json"
    )
    return {
        "config.json": (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode(),
        "index.js": (_FILES / "edge-auth" / "index.js").read_bytes(),
        "viewer-request.js": rewrite.encode(),
    }


def write_edge_auth_bundle(config: EdgeAuthConfig, dest: Path) -> Path:
    """The zip for ``aws lambda create-function --zip-file``, at ``dest``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in sorted(edge_auth_files(config).items()):
            entry = zipfile.ZipInfo(name, _ZIP_DATE)
            entry.external_attr = 0o100644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(entry, data)
    write_atomic(dest, buffer.getvalue())
    return dest
