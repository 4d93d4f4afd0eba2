"""The package's exceptions share one base, so a caller can catch "anything Backlot says
went wrong" and let real bugs through. Each is raised with a message for a user.

    BacklotError
    ├── ConfigError            config.py: backlot.yaml cannot be used
    ├── WorkspaceBusy          workspace.py: another build holds the cache or the output
    ├── GitHubError            github.py: the API answered with an error (after retries)
    │   ├── NotFound, RateLimited, ResourceLimits
    ├── SourceError            sources/: a configured source cannot be read at all
    │   └── CrawlError             an organisation cannot be listed
    ├── RepositoryError        sources/: a file of a repository cannot be read
    │   ├── OutsideRepository      the path leaves the repository (or is a symlink loop)
    │   │   └── GitFolder          the path is inside .git
    │   ├── FileTooLarge
    │   └── GitError               a git command failed (its own words, credentials removed)
    ├── RefError               model/: not an entity reference (also a ValueError)
    ├── YamlError              catalog/: a document cannot be read as YAML
    ├── PlaceholderError       catalog/: $text/$json/$yaml failed
    ├── DocsConfigError        docs/: a site's mkdocs.yml or tree cannot be built
    ├── DocsTreeError          docs/: a docs tree over its limits, or unreadable
    ├── SvgRefused             docs/: a static SVG that cannot be published (also a ValueError)
    └── ShardMismatch          site/: a merge's shards are not one set built from its inputs

Failures of one repository's input never escape their stage as exceptions: each becomes a
finding with a rule id (``catalog.json``'s findings, ``docs-report.json``), and the build
goes on. Only what stops a whole command (bad settings, a busy workspace, a full disk)
reaches the command line, as one message.
"""

from __future__ import annotations

__all__ = ["BacklotError"]


class BacklotError(Exception):
    """Something went wrong that the message explains to a user."""
