"""``backlot.yaml``: every setting, typed. Without the file, every default applies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from .errors import BacklotError

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_DESCRIPTOR_GLOBS",
    "DEFAULT_PICTURE_HOSTS",
    "DEFAULT_PLUGINS",
    "ORG_SOURCE_TYPES",
    "AnnotationLink",
    "ArgoCdContext",
    "BacklotConfig",
    "CatalogSettings",
    "ConfigError",
    "ContextSettings",
    "ContextSourceSettings",
    "DocsSettings",
    "DocsStorage",
    "EntraSource",
    "GitHubApp",
    "GitHubContext",
    "GitHubSource",
    "GitHubTeamsSource",
    "GitSource",
    "GoogleWorkspaceSource",
    "LocalSource",
    "OktaHierarchy",
    "OktaOAuth",
    "OktaSource",
    "OrgSettings",
    "OrgSource",
    "OrgSourceSettings",
    "PagerDutyContext",
    "PublishSettings",
    "SecuritySettings",
    "SiteSettings",
    "Source",
    "TopicFilter",
    "UrlSource",
    "load_config",
    "settings_problems",
]

CONFIG_FILE = "backlot.yaml"
DEFAULT_DESCRIPTOR_GLOBS: tuple[str, ...] = ("catalog-info.yaml", "catalog-info.yml")
# techdocs-core bundles search, monorepo and gh-admonitions; material's search too.
DEFAULT_PLUGINS = ("techdocs-core", "search", "material/search", "gh-admonitions")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")


def _regular_expression(value: str | None) -> str | None:
    """A setting that is a regular expression: checked when backlot.yaml is read."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return value


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalSource(_Settings):
    """A folder whose subfolders are repositories (or a single repository)."""

    type: Literal["local"] = "local"
    path: Path
    descriptors: tuple[str, ...] = Field(
        default=DEFAULT_DESCRIPTOR_GLOBS,
        description="file names or globs, relative to each repository's root",
    )
    url_template: str | None = Field(
        default=None,
        description="web address of each repository, e.g. https://github.com/acme/{name}",
    )


class TopicFilter(_Settings):
    include: tuple[str, ...] = Field(default=(), description="only repositories with one of these")
    exclude: tuple[str, ...] = Field(default=(), description="never repositories with one of these")


class GitHubApp(_Settings):
    """A GitHub App installed on the organisation: the token of an Actions run can read
    only its own repository, an installation token the whole organisation."""

    app_id: int
    private_key_env: str = Field(
        default="GITHUB_APP_PRIVATE_KEY", description="environment variable holding the PEM key"
    )
    installation_id: int | None = Field(
        default=None, description="default: the app's installation on the organisation"
    )


class GitHubSource(_Settings):
    """Every repository of a GitHub organisation, discovered through the API."""

    type: Literal["github"]
    org: str = Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
    descriptors: tuple[str, ...] = Field(
        default=("catalog-info.yaml",), description="paths or globs, relative to each repository"
    )
    topics: TopicFilter = TopicFilter()
    archived: bool = Field(default=False, description="include archived repositories")
    forks: bool = Field(default=False, description="include forks")
    visibility: tuple[Literal["public", "private", "internal"], ...] = (
        "public",
        "private",
        "internal",
    )
    repositories: str | None = Field(
        default=None, description="a regular expression repository names must match"
    )
    api_url: str | None = Field(
        default=None,
        description="default: $GITHUB_API_URL, else https://api.github.com; Enterprise Server: "
        "https://HOST/api/v3",
    )
    token_env: str = Field(default="GITHUB_TOKEN", description="environment variable of a token")
    app: GitHubApp | None = None
    page_size: int = Field(default=50, ge=1, le=100, description="repositories per listing page")
    timeout_seconds: float = Field(
        default=30, gt=0, description="a request with no answer by then is tried again"
    )

    @field_validator("repositories")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        return _regular_expression(value)


class UrlSource(_Settings):
    """Descriptors at URLs (GitHub blob URLs are read through the API, so private ones work)."""

    type: Literal["url"]
    urls: tuple[str, ...] = Field(min_length=1)
    token_env: str = "GITHUB_TOKEN"


class GitSource(_Settings):
    """Repositories on any git host, fetched shallow and sparse (just the descriptors)."""

    type: Literal["git"]
    repositories: tuple[str, ...] = Field(min_length=1, description="clone URLs")
    descriptors: tuple[str, ...] = Field(
        default=("catalog-info.yaml",),
        description="file names or globs, relative to each repository's root",
    )
    url_template: str | None = Field(
        default=None,
        description="web address of each repository, from {name} (its last two path segments) "
        "and {path} (its whole path on the host), e.g. https://gitlab.example.com/{path}",
    )
    token_env: str | None = Field(
        default=None,
        description="environment variable of a token for HTTPS hosts; sent as a header, never "
        "written to disk (without one, git's own credential helpers are used)",
    )
    token_user: str = Field(
        default="x-access-token",
        description="the user name sent with the token (GitLab: oauth2)",
    )
    timeout_seconds: float = Field(
        default=300, gt=0, description="a git command that takes longer is stopped"
    )


class _OrgSource(_Settings):
    """What every identity-provider source shares: the shrink guard, and time limits."""

    max_shrink: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="refuse a sync that finds this share fewer groups or users than the last",
    )
    force: bool = Field(default=False, description="accept a shrinking org at build time")
    timeout_seconds: float = Field(default=30.0, gt=0, description="per request")


class GitHubTeamsSource(_OrgSource):
    """Groups from an organisation's teams (hierarchy, members as Users): Backstage's
    GitHubOrgEntityProvider's names (team slug, user login)."""

    type: Literal["github-teams"]
    org: str = Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
    api_url: str | None = Field(
        default=None, description="default: $GITHUB_API_URL, else https://api.github.com"
    )
    token_env: str = Field(default="GITHUB_TOKEN", description="environment variable of a token")
    app: GitHubApp | None = None
    teams: str | None = Field(default=None, description="only team slugs matching this regex")

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: str | None) -> str | None:
        return _regular_expression(value)


class EntraSource(_OrgSource):
    """Microsoft Entra ID (Azure AD) through Microsoft Graph: Backstage's
    MicrosoftGraphOrgEntityProvider's names (mailNickname, mail)."""

    type: Literal["entra"]
    tenant_id: str
    client_id: str
    client_secret_env: str = Field(
        default="AZURE_CLIENT_SECRET", description="the app registration's client secret"
    )
    authority: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    group_filter: str | None = Field(default=None, description="OData $filter on groups")
    group_search: str | None = Field(default=None, description='$search, e.g. "displayName:team"')
    user_filter: str | None = Field(default=None, description="OData $filter on users")
    group_naming: Literal["mail-nickname", "display-name", "id"] = "mail-nickname"
    user_naming: Literal["mail", "user-principal-name", "id"] = "mail"


class OktaOAuth(_Settings):
    """An Okta OAuth service app (private key JWT) instead of an API token."""

    client_id: str
    private_key_env: str = Field(description="environment variable of the app's private key (PEM)")
    key_id: str | None = None
    scopes: tuple[str, ...] = ("okta.groups.read", "okta.users.read")


class OktaHierarchy(_Settings):
    """Okta groups are flat; a profile attribute can name each group's parent (Roadie's
    hierarchyConfig)."""

    parent_key: str = Field(description="profile attribute holding the parent's key")
    key: str | None = Field(
        default=None, description="profile attribute a parent_key refers to (default: the name)"
    )


class OktaSource(_OrgSource):
    """Okta groups, users and memberships."""

    type: Literal["okta"]
    org_url: str = Field(description="e.g. https://acme.okta.com")
    token_env: str = Field(default="OKTA_TOKEN", description="an API token (SSWS), read-only admin")
    oauth: OktaOAuth | None = None
    group_filter: str | None = Field(
        default=None, description='Okta search, e.g. type eq "OKTA_GROUP"'
    )
    group_naming: Literal["kebab-case-name", "id", "profile-name"] = "kebab-case-name"
    user_naming: Literal["strip-domain-email", "email", "id"] = "strip-domain-email"
    hierarchy: OktaHierarchy | None = None


class GoogleWorkspaceSource(_OrgSource):
    """Google Workspace through the Admin SDK Directory API, with a service account and
    domain-wide delegation."""

    type: Literal["google-workspace"]
    subject: str = Field(description="the admin user the service account acts as")
    customer: str = "my_customer"
    domain: str | None = None
    credentials_env: str = Field(
        default="GOOGLE_SERVICE_ACCOUNT_KEY", description="the service account's JSON key"
    )
    group_query: str | None = Field(default=None, description="Directory API groups query")
    group_naming: Literal["email-local-part", "email"] = "email-local-part"
    user_naming: Literal["email-local-part", "email"] = "email-local-part"
    token_url: str = "https://oauth2.googleapis.com/token"
    directory_url: str = "https://admin.googleapis.com"


ORG_SOURCE_TYPES = ("github-teams", "entra", "okta", "google-workspace")
OrgSource = GitHubTeamsSource | EntraSource | OktaSource | GoogleWorkspaceSource


def _source_type(value: Any) -> str:
    """A source's ``type``; a source without one is a local folder (as before there were
    other kinds)."""
    if isinstance(value, dict):
        return str(value.get("type", "local"))
    return str(getattr(value, "type", "local"))


# Every kind of source, told apart by ``type``; sources.open_repositories opens each.
Source = Annotated[
    Annotated[LocalSource, Tag("local")]
    | Annotated[GitHubSource, Tag("github")]
    | Annotated[UrlSource, Tag("url")]
    | Annotated[GitSource, Tag("git")]
    | Annotated[GitHubTeamsSource, Tag("github-teams")]
    | Annotated[EntraSource, Tag("entra")]
    | Annotated[OktaSource, Tag("okta")]
    | Annotated[GoogleWorkspaceSource, Tag("google-workspace")],
    Discriminator(_source_type),
]


class CatalogSettings(_Settings):
    sources: tuple[Source, ...] = ()
    max_file_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_document_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        description="largest entity, once its YAML aliases and $text/$json/$yaml are expanded",
    )
    max_repository_bytes: int = Field(
        default=100 * 1024 * 1024, gt=0, description="all of one repository's entities, expanded"
    )
    url_hosts: tuple[str, ...] = Field(
        default=(),
        description="hosts that Location targets and techdocs-ref url: values may name, "
        "besides GitHub hosts and the hosts of type: url sources (Backstage's "
        "backend.reading.allow); descriptors are untrusted, so no other host is read",
    )

    @field_validator("url_hosts")
    @classmethod
    def _url_hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for host in hosts:
            if not _HOST.fullmatch(host):
                raise ValueError(f"{host!r} is not a host name (like config.acme.com)")
        return hosts


class AnnotationLink(_Settings):
    """A link shown on entity pages that carry ``annotation``: ``{value}`` is replaced by
    the annotation's value, URL-encoded unless the template is just ``{value}``."""

    title: str
    url: str = Field(description="e.g. https://grafana.acme.com/d/{value}")


# Where the org providers' pictures live: GitHub's avatars (teams and users), Gravatar, and
# Google Workspace's profile photos. Microsoft Graph embeds photos as data: URIs.
DEFAULT_PICTURE_HOSTS: tuple[str, ...] = (
    "avatars.githubusercontent.com",
    "gravatar.com",
    "www.gravatar.com",
    "secure.gravatar.com",
    "lh3.googleusercontent.com",
    "lh4.googleusercontent.com",
    "lh5.googleusercontent.com",
    "lh6.googleusercontent.com",
)


class SiteSettings(_Settings):
    title: str = "Backlot"
    graph_depth: int = Field(default=2, ge=1, le=4)
    graph_max_nodes: int = Field(
        default=25, ge=5, le=200, description="more neighbours are collapsed into '+N more'"
    )
    graph_max_fanout: int = Field(
        default=6, ge=2, le=100, description="neighbours per relation before collapsing"
    )
    page_size: int = Field(default=100, ge=10, le=1000)
    search_parts: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="how many parts the search index is built in (a change re-indexes only "
        "its part, and Pagefind's memory grows with a part; the browser searches them "
        "all); default: one per 10,000 entities, in powers of two up to 32",
    )
    annotation_links: dict[str, AnnotationLink] = Field(
        default_factory=dict,
        description="annotation key → link; adds to or replaces the built-in ones",
    )
    base_url: str | None = Field(
        default=None,
        description="the portal's public address, e.g. https://portal.acme.com/: what "
        "backlot badge puts in front of the links it prints for READMEs",
    )
    picture_hosts: tuple[str, ...] = Field(
        default=DEFAULT_PICTURE_HOSTS,
        description="hosts (https; host or host:port) that Group and User pictures "
        "(spec.profile.picture) are fetched from at build time, to be served by the portal "
        "itself; default: GitHub's, Gravatar's and Google's avatar hosts",
    )

    @field_validator("picture_hosts")
    @classmethod
    def _picture_hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for host in hosts:
            name, _, port = host.partition(":")
            if not _HOST.fullmatch(name) or (
                port and not (port.isdigit() and 0 < int(port) < 65536)
            ):
                raise ValueError(
                    f"{host!r} is not a host name (like avatars.acme.com, or with :port)"
                )
        return hosts

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) address (like https://portal.acme.com/)")
        if parts.query or parts.fragment:
            raise ValueError(f"{url!r}: the portal's address has no query or fragment")
        return url if url.endswith("/") else url + "/"


class DocsStorage(_Settings):
    """Where TechDocs are published (Backstage's layout below ``prefix``)."""

    bucket: str | None = None
    prefix: str = Field(default="", description="e.g. techdocs/ (ends with /, or empty)")
    endpoint_url: str | None = Field(default=None, description="for S3-compatible storage")
    region: str | None = None


class DocsSettings(_Settings):
    builder: Literal["local", "external"] = Field(
        default="local",
        description="local: the portal build builds every entity's TechDocs; external: "
        "repositories publish their own (backlot docs publish) and the portal links to them",
    )
    allowed_plugins: tuple[str, ...] = Field(
        default=DEFAULT_PLUGINS,
        description="MkDocs plugins a repository's mkdocs.yml may name",
    )
    workers: int | None = Field(default=None, ge=1, description="default: one per core")
    timeout_seconds: float = Field(
        default=300, gt=0, description="a site whose build takes longer is stopped and failed"
    )
    max_memory_mb: int = Field(
        default=2048, ge=256, description="a site whose build needs more is stopped and failed"
    )
    max_files: int = Field(default=20_000, gt=0, description="files in one docs tree")
    max_tree_mb: int = Field(default=1024, gt=0, description="bytes in one docs tree")
    storage: DocsStorage = DocsStorage()


class SecuritySettings(_Settings):
    allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="hosts (https) that portal and docs pages may load images, styles and "
        "fonts from, e.g. cdn.acme.com; by default nothing outside the portal is loaded",
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for host in hosts:
            if not _HOST.fullmatch(host):
                raise ValueError(f"{host!r} is not a host name (like cdn.acme.com)")
        return hosts


def _key_prefix(prefix: str) -> str:
    if prefix.startswith("/") or "//" in prefix or ".." in prefix.split("/"):
        raise ValueError(f"{prefix!r} is not a key prefix (like portal/, or empty)")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


class PublishSettings(_Settings):
    """Where ``backlot publish`` puts the portal, and the guards that keep a broken build
    from wiping it."""

    bucket: str | None = None
    prefix: str = Field(default="", description="key prefix of the portal, e.g. portal/")
    distribution_id: str | None = Field(
        default=None, description="the CloudFront distribution to invalidate"
    )
    endpoint_url: str | None = Field(default=None, description="for S3-compatible storage")
    region: str | None = None
    max_delete_share: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="refuse (unless --force) to delete more than this share of the "
        "published objects (and more than 10) in one publish",
    )
    max_entity_loss_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="refuse (unless --force) to publish a catalog with this share fewer "
        "entities than the last published one (and 10 fewer or more)",
    )
    workers: int = Field(default=16, ge=1, le=64, description="parallel uploads")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        return _key_prefix(prefix)


class _ContextSource(_Settings):
    max_requests: int = Field(
        default=200, ge=1, description="requests one refresh may make; past it, last good facts"
    )
    timeout_seconds: float = Field(default=20.0, gt=0, description="per request")


class GitHubContext(_ContextSource):
    """Open pull requests, CI on the default branch, deployments: ``github.com/project-slug``."""

    type: Literal["github"]
    api_url: str | None = Field(
        default=None, description="default: $GITHUB_API_URL, else https://api.github.com"
    )
    token_env: str = Field(default="GITHUB_TOKEN", description="environment variable of a token")
    app: GitHubApp | None = None
    workflows: tuple[str, ...] = Field(
        default=(), description="workflows shown when an entity names none (default: all)"
    )


class PagerDutyContext(_ContextSource):
    """On call now and next, incidents of the last hours: ``pagerduty.com/service-id`` or
    ``pagerduty.com/integration-key``."""

    type: Literal["pagerduty"]
    api_url: str = "https://api.pagerduty.com"
    web_url: str | None = Field(
        default=None, description="e.g. https://acme.pagerduty.com, for links (default: the API's)"
    )
    token_env: str = Field(default="PAGERDUTY_TOKEN", description="a REST API key (read-only)")
    incident_hours: int = Field(default=72, ge=1, le=720)


class ArgoCdContext(_ContextSource):
    """Sync and health of Argo CD applications: ``argocd/app-name``."""

    type: Literal["argocd"]
    url: str = Field(description="the Argo CD server, e.g. https://argocd.acme.com")
    token_env: str = Field(default="ARGOCD_TOKEN", description="an API token (read-only role)")


ContextSourceSettings = Annotated[
    Annotated[GitHubContext, Tag("github")]
    | Annotated[PagerDutyContext, Tag("pagerduty")]
    | Annotated[ArgoCdContext, Tag("argocd")],
    Discriminator(_source_type),
]


class ContextSettings(_Settings):
    """Build-time snapshots of what lives outside the catalog (issue: the full-context view)."""

    sources: tuple[ContextSourceSettings, ...] = ()
    keep_hours: float = Field(
        default=24.0, gt=0, description="how long last good facts are shown when a refresh fails"
    )


OrgSourceSettings = Annotated[
    Annotated[GitHubTeamsSource, Tag("github-teams")]
    | Annotated[EntraSource, Tag("entra")]
    | Annotated[OktaSource, Tag("okta")]
    | Annotated[GoogleWorkspaceSource, Tag("google-workspace")],
    Discriminator(_source_type),
]


class OrgSettings(_Settings):
    """Identity providers for ``backlot org sync DIR``, which writes their Groups and Users
    into an org repository (read by the catalog as any other). The same source types may
    instead be listed in ``catalog.sources``, to be read at build time."""

    sources: tuple[OrgSourceSettings, ...] = ()


class BacklotConfig(_Settings):
    catalog: CatalogSettings = CatalogSettings()
    docs: DocsSettings = DocsSettings()
    site: SiteSettings = SiteSettings()
    security: SecuritySettings = SecuritySettings()
    publish: PublishSettings = PublishSettings()
    context: ContextSettings = ContextSettings()
    org: OrgSettings = OrgSettings()
    cache_dir: Path = Path(".backlot")
    output: Path = Path("site")


class ConfigError(BacklotError):
    """backlot.yaml cannot be used; the message names the file and the setting."""


def settings_problems(exc: ValidationError) -> str:
    """Each problem as ``where.in.settings: what is wrong``, on one line."""
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
        for error in exc.errors()
    )


def load_config(path: Path) -> BacklotConfig:
    """Read ``path``; relative paths inside it are relative to its folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a mapping of settings")
    try:
        config = BacklotConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {settings_problems(exc)}") from None
    base = path.parent
    return config.model_copy(
        update={
            "cache_dir": base / config.cache_dir,
            "output": base / config.output,
            "catalog": config.catalog.model_copy(
                update={
                    "sources": tuple(
                        s.model_copy(update={"path": base / s.path})
                        if isinstance(s, LocalSource)
                        else s
                        for s in config.catalog.sources
                    )
                }
            ),
        }
    )
