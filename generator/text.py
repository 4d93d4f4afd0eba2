"""Counts as a person reads them: ``1 error``, ``2 errors``, ``0 entities``.

One helper for every summary line the command line prints, so that none says
"1 errors". A leaf, like ``files.py``: any stage's summary may use it too.
"""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` and the noun in the number it takes: ``counted(1, "orphan")`` is
    ``1 orphan``, ``counted(3, "entity")`` is ``3 entities``. ``plural`` for a noun the
    rule does not know (``counted(2, "person", "people")``)."""
    if count == 1:
        return f"{count} {singular}"
    return f"{count} {plural or _plural(singular)}"


def _plural(singular: str) -> str:
    # Only the last word of "rejected document" or "docs warning" takes the plural.
    head, _, last = singular.rpartition(" ")
    if last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last
