"""Globs over a repository's POSIX paths, for sources that list files rather than walk
them (a crawled tree, a git tree): the same meaning as ``pathlib``'s for a checkout."""

from __future__ import annotations

import re

__all__ = ["glob_regex", "is_glob"]


def is_glob(path: str) -> bool:
    return any(c in path for c in "*?[")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over POSIX paths: ``*`` stays within a folder, ``**/`` crosses folders."""
    parts = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            parts.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts))
