"""Entity values as JSON can carry them, and the limits every stage can serialise.

Backstage stores what JavaScript's ``JSON.stringify`` writes: ``NaN`` and ``Infinity``
become ``null``, and strings stay strings. Python's ``json`` would write ``NaN`` (not JSON
for any other parser), and a lone surrogate from a ``$json`` file cannot be encoded as
UTF-8 at all; both are made JSON here, once, where such values enter the catalog.

Nesting is capped at one depth for descriptors, placeholders and ``mkdocs.yml``: pydantic
reads ``catalog.json`` with a recursion limit of 200 and PyYAML writes a descriptor back
with one of about 300, so 100 levels leaves every later stage room to serialise it.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["MAX_NESTING", "json_safe", "json_size", "nesting_depth"]

MAX_NESTING = 100

_SURROGATE = re.compile("[\ud800-\udfff]")


def nesting_depth(value: Any) -> int:
    """How many containers deep ``value`` goes (a scalar is 0, ``[[]]`` is 2); iterative,
    so a value nested far deeper than the recursion limit is measured without a crash."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def json_size(value: Any, limit: int) -> int:
    """About how many characters ``value`` takes as JSON; stops counting past ``limit``
    (aliases and placeholders can make a small document expand into a huge one)."""
    total = 0
    stack: list[Any] = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 3
        elif isinstance(item, dict):
            total += 2
            for key, child in item.items():
                total += len(key) + 4
                stack.append(child)
        elif isinstance(item, list):
            total += 2 + len(item)
            stack.extend(item)
        else:
            total += 6
    return total


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` and lone surrogates as U+FFFD, as
    ``JSON.stringify`` and a UTF-8 file would have them; the same object when nothing
    needed changing."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if not value.isascii() else value
    if isinstance(value, list):
        items = [json_safe(item) for item in value]
        same = all(a is b for a, b in zip(items, value, strict=True))
        return value if same else items
    if isinstance(value, dict):
        entries = {json_safe(k): json_safe(v) for k, v in value.items()}
        same = all(
            a is b and entries[a] is v for a, (b, v) in zip(entries, value.items(), strict=True)
        )
        return value if same and len(entries) == len(value) else entries
    return value
