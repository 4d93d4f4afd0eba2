"""RepoUrlPicker's value, ``github.com?owner=acme&repo=orders``, as Backstage's
``parseRepoUrl`` reads it: the host, then each query parameter trimmed of ``/``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from ._errors import ScaffoldError

_NAME = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."


@dataclass(frozen=True)
class RepoUrl:
    host: str
    owner: str
    repo: str

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo}"


def parse_github_repo_url(value: str) -> RepoUrl:
    """A GitHub repository's address from a RepoUrlPicker value; owner and repo are
    required, and must be names GitHub allows (they go into API paths)."""
    parts = urlsplit("https://" + value)
    query = {k: v[0].strip("/") for k, v in parse_qs(parts.query).items() if v}
    owner, repo = query.get("owner", ""), query.get("repo", "")
    if not parts.hostname or not owner or not repo:
        raise ScaffoldError(
            f"repoUrl {value!r}: expected host?owner=OWNER&repo=NAME (RepoUrlPicker's form)"
        )
    for what, name in (("owner", owner), ("repo", repo)):
        if any(c not in _NAME for c in name) or name in (".", ".."):
            raise ScaffoldError(f"repoUrl {value!r}: {what} {name!r} is not a GitHub name")
    return RepoUrl(parts.hostname, owner, repo)
