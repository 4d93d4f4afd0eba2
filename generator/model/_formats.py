"""Field formats of entity metadata, matching Backstage's validators rule for rule."""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = [
    "SAFE_SCHEMES",
    "is_valid_api_version",
    "is_valid_dns_label",
    "is_valid_dns_subdomain",
    "is_valid_kind",
    "is_valid_label_value",
    "is_valid_name",
    "is_valid_prefixed_key",
    "is_valid_tag",
    "is_valid_url",
    "is_windows_reserved",
    "outside_origin",
    "repository_identity",
    "repository_web_address",
    "safe_url",
]

_NAME_RE = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_LABEL_RE = re.compile(r"[a-z0-9]+(?:-+[a-z0-9]+)*")
_TAG_RE = re.compile(r"[a-z0-9:+#]+(?:-[a-z0-9:+#]+)*")
_KIND_RE = re.compile(r"[a-zA-Z][a-z0-9A-Z]*")
_VERSION_RE = re.compile(r"[a-z0-9A-Z]+")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Browsers ignore ASCII whitespace and control characters inside a scheme ("java\tscript:").
_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
# WHATWG URL: code points that may never appear in a host.
_FORBIDDEN_HOST = frozenset(" \t\n\r#/:<>?@[\\]^|%\x00")


def is_valid_name(value: str) -> bool:
    """``metadata.name``: 1-63 chars, alphanumeric at both ends, ``-_.`` inside."""
    return 1 <= len(value) <= 63 and _NAME_RE.fullmatch(value) is not None


def is_valid_dns_label(value: str) -> bool:
    """``metadata.namespace``: RFC 1123 label, lowercase (``team--a`` is fine)."""
    return 1 <= len(value) <= 63 and _DNS_LABEL_RE.fullmatch(value) is not None


def is_valid_dns_subdomain(value: str) -> bool:
    return 1 <= len(value) <= 253 and all(is_valid_dns_label(p) for p in value.split("."))


def is_valid_prefixed_key(value: str) -> bool:
    """Label and annotation keys: ``[<dns subdomain>/]<name>``, one slash at most."""
    parts = value.split("/")
    if len(parts) == 1:
        return is_valid_name(parts[0])
    if len(parts) == 2:
        return is_valid_dns_subdomain(parts[0]) and is_valid_name(parts[1])
    return False


def is_valid_label_value(value: str) -> bool:
    return value == "" or is_valid_name(value)


def is_valid_tag(value: str) -> bool:
    """Tags: 1-63 chars of ``[a-z0-9:+#]`` in groups joined by single dashes."""
    return 1 <= len(value) <= 63 and _TAG_RE.fullmatch(value) is not None


def is_valid_kind(value: str) -> bool:
    return 1 <= len(value) <= 63 and _KIND_RE.fullmatch(value) is not None


def is_valid_api_version(value: str) -> bool:
    """``<group>/<version>`` or ``<version>``: the group a DNS subdomain."""
    parts = value.split("/")
    version = parts[-1]
    if len(parts) > 2 or not (1 <= len(version) <= 63 and _VERSION_RE.fullmatch(version)):
        return False
    return len(parts) == 1 or is_valid_dns_subdomain(parts[0])


def is_valid_url(value: str) -> bool:
    """Whether a WHATWG URL parser (``new URL(value)`` in Node) accepts an absolute URL.

    Backstage accepts any absolute URL, ``javascript:`` included; deciding which schemes
    are safe to link to is the portal's job, not the validator's.
    """
    text = value.strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f"
        "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "
    )
    text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    match = _SCHEME_RE.match(text)
    if match is None:
        return False
    scheme = match.group(1).lower()
    rest = text[match.end() :]
    if scheme == "file" or scheme not in _SPECIAL_SCHEMES:
        return _valid_non_special_authority(rest) if rest.startswith("//") else True
    rest = rest.lstrip("/\\")
    end = len(rest)
    for stop in "/\\?#":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    return _valid_authority(rest[:end], require_host=True)


def _valid_non_special_authority(rest: str) -> bool:
    authority = rest[2:]
    end = len(authority)
    for stop in "/?#":
        found = authority.find(stop)
        if found != -1:
            end = min(end, found)
    return _valid_authority(authority[:end], require_host=False)


def _valid_authority(authority: str, *, require_host: bool) -> bool:
    host_port = authority.rsplit("@", 1)[-1]
    if host_port.startswith("["):
        close = host_port.find("]")
        if close == -1:
            return False
        host, port = host_port[: close + 1], host_port[close + 1 :]
        if port and not port.startswith(":"):
            return False
        port = port[1:]
        if not re.fullmatch(r"\[[0-9A-Fa-f:.]+\]", host):
            return False
    else:
        host, _, port = host_port.partition(":")
        decoded = unquote(host)
        if require_host and not decoded:
            return False
        if any(c in _FORBIDDEN_HOST for c in decoded):
            return False
        if decoded and not _valid_ipv4_if_numeric(decoded):
            return False
    return not port or (port.isdigit() and int(port) <= 65535)


def _valid_ipv4_if_numeric(host: str) -> bool:
    """A host whose last label is a number must be a valid IPv4 address."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels = labels[:-1]
    if not _looks_numeric(labels[-1]):
        return True
    if len(labels) > 4:
        return False
    try:
        numbers = [_ipv4_number(label) for label in labels]
    except ValueError:
        return False
    if any(n > 255 for n in numbers[:-1]):
        return False
    return bool(numbers[-1] < 256 ** (5 - len(numbers)))


def _looks_numeric(label: str) -> bool:
    if label.lower().startswith("0x"):
        return all(c in "0123456789abcdefABCDEF" for c in label[2:])
    return label.isdigit()


def _ipv4_number(label: str) -> int:
    if label.lower().startswith("0x"):
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)
    return int(label)


def safe_url(url: object) -> str | None:
    """``url`` if it is http(s), mailto or relative; None for anything else."""
    if not isinstance(url, str) or not url.strip():
        return None
    match = _SCHEME_RE.match(_IGNORED.sub("", url))
    if match is not None and match.group(1).lower() not in SAFE_SCHEMES:
        return None
    return url.strip()


# Device names Windows reserves in every folder, with or without an extension.
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{device}{n}" for device in ("com", "lpt") for n in "0123456789¹²³"}
)


def is_windows_reserved(name: str) -> bool:
    """Whether ``name`` cannot be a file or folder name on Windows (``con``, ``nul.txt``,
    ``LPT1``): a portal or docs folder so named cannot be checked out there."""
    return name.split(".", 1)[0].lower() in _WINDOWS_RESERVED


_DATA_INERT = re.compile(r"data:\s*(?:image/|font/|application/(?:x-)?font)", re.IGNORECASE)


def outside_origin(url: str) -> str | None:
    """Where loading ``url`` as a resource (an image, a stylesheet, a font) would take the
    browser outside the page's own origin: the host (lowercase) for http(s) and
    protocol-relative URLs, ``"<scheme>:"`` for any other scheme, or None when it stays
    inside (a relative path, a ``#fragment``, an inline ``data:`` image or font).

    Browsers drop ASCII whitespace and control characters and read ``\\`` as ``/``, so
    ``\\\\evil.example/x`` and ``ja\\tvascript:`` are judged as a browser reads them."""
    text = _IGNORED.sub("", url).replace("\\", "/")
    if not text or text.startswith("#"):
        return None
    if _DATA_INERT.match(text):
        return None
    match = _SCHEME_RE.match(text)
    if match is not None:
        scheme = match.group(1).lower()
        if scheme not in ("http", "https"):
            return f"{scheme}:"
        text = text[match.end() :]
        if not text.startswith("//"):
            return f"{scheme}:"  # "https:x" is relative or a host, by the page's own scheme
    if not text.startswith("//"):
        return None
    authority = text[2:]
    for stop in "/?#":
        authority = authority.split(stop, 1)[0]
    host = authority.rsplit("@", 1)[-1].split(":", 1)[0].lower()
    return host or "//"


def repository_web_address(url: str) -> str:
    """A repository's web address, from the address of a file or folder in it as
    ``catalog.json`` records it (``…/blob/HEAD/catalog-info.yaml`` → the repository):
    the inverse of the sources' URL shapes, for the stages that read only the catalog."""
    return url.split("/blob/", 1)[0].split("/tree/", 1)[0]


def repository_identity(url: str | None, name: str) -> str:
    """How a repository is named when the portal checks where published docs came from: its
    web address when known (``https://github.com/acme/orders``, whatever path follows), else
    its name; lowercase, without ``.git`` or a trailing slash."""
    if url:
        return repository_web_address(url).removesuffix("/").removesuffix(".git").lower()
    return name.lower()
