"""A GitHub repository named by a RepoUrlPicker value (``github.com?owner=acme&repo=orders``),
read by Backstage's own ``parseRepoUrl`` rules (``_expressions.parse_repo_url``) for this
GitHub's host, and held to the names GitHub allows, because they go into API paths."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import ScaffoldError
from ._expressions import parse_repo_url

_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True)
class RepoUrl:
    host: str
    owner: str
    repo: str

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo}"


def parse_github_repo_url(value: str, host: str = "github.com") -> RepoUrl:
    """The repository ``value`` names on the GitHub at ``host`` (another host is an error)."""
    try:
        parts = parse_repo_url(value, {host: "github"})
    except ValueError as exc:
        raise ScaffoldError(f"repoUrl {value!r}: {exc}") from None
    owner, repo = parts.get("owner", ""), parts.get("repo", "")
    for what, name in (("owner", owner), ("repo", repo)):
        if not name or not set(name) <= _NAME or name in (".", ".."):
            raise ScaffoldError(f"repoUrl {value!r}: {what} {name!r} is not a GitHub name")
    return RepoUrl(parts["host"], owner, repo)
