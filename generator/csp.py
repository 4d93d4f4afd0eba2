"""The Content-Security-Policy of every page Backlot writes, portal and docs alike.

Escaping and sanitising keep a repository's text from becoming markup; the policy is the
second line, for the day one of them fails: a script runs only if it is a file of the
portal itself (no inline script, no ``eval``, no other origin), nothing is framed,
submitted or embedded elsewhere, and images, styles and fonts come from the portal
unless ``backlot.yaml`` allows a host (``security.allowed_hosts``). Pages carry it in a
``<meta>`` tag, so it holds from ``file://`` and from any bucket or CDN, and ``backlot
serve`` sends it as a header too; ``frame-ancestors`` can only be a header.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["content_security_policy"]


def content_security_policy(allowed_hosts: Iterable[str] = (), *, header: bool = False) -> str:
    """The policy; ``header``: as an HTTP header, which may also forbid framing."""
    hosts = "".join(f" https://{host}" for host in sorted(set(allowed_hosts)))
    directives = [
        "default-src 'none'",
        # Pagefind's search runs WebAssembly: compiling it needs 'wasm-unsafe-eval', which
        # lets no JavaScript string run (that would be 'unsafe-eval', never allowed).
        "script-src 'self' 'wasm-unsafe-eval'",
        f"style-src 'self'{hosts}",
        f"img-src 'self' data:{hosts}",
        f"font-src 'self' data:{hosts}",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "frame-src 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    if header:
        directives.append("frame-ancestors 'self'")
    return "; ".join(directives)
