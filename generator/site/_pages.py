"""Entity pages: the view of one entity, its sections by kind, and its graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import yaml
from markupsafe import Markup

from ..config import SiteSettings
from ..model import FORWARD_RELATIONS, RELATION_TITLES, Finding, entity_dir, entity_page
from ._context import label as time_label
from ._graph_files import GraphImage
from ._links import Link, annotation_links
from ._model import EntityRow, RefView, SiteModel
from ._ownership import MAX_AGGREGATED, aggregated_owned, owners_aggregated
from ._pictures import Avatar, avatar
from ._safety import markdown_to_html, safe_url
from ._templates import TemplateView, template_view
from .apis import ApiReference, api_reference
from .graphs import Graph, GraphEdge, GraphNode

__all__ = ["VIEWS", "EntityView", "Section", "Tab", "entity_view", "system_graph", "view_dir"]

# An entity's views besides its overview, each a page in a folder of the entity's own.
VIEWS = ("dependencies", "api")


def view_dir(entity_folder: str, view: str) -> str:
    """The folder of one of an entity's views (``""`` or "overview": the entity's own)."""
    return entity_folder if view in ("", "overview") else f"{entity_folder}{view}/"


MAX_DEFINITION_CHARS = 200_000
# Member cards on a Group's page (each with a picture); past this many, the page says how
# many more and links the Dependencies view, which lists every member.
MAX_MEMBER_CARDS = 120


@dataclass
class Section:
    title: str
    rows: list[EntityRow] = field(default_factory=list)
    graph: GraphImage | None = None


@dataclass(frozen=True)
class Fact:
    """One more line of an entity's About card; ``href`` a checked link, if it has one."""

    label: str
    text: str
    href: str | None = None


@dataclass(frozen=True)
class Tab:
    """One of an entity's views, as Backstage's entity tabs: ``href`` is a site path."""

    name: str  # "overview", "dependencies", "api", "docs"
    label: str
    href: str


@dataclass
class Ownership:
    """Backstage's ownership card: what the owner owns itself, and with its child groups
    and members (a Group) or its groups (a User)."""

    direct: list[EntityRow]
    aggregated: list[EntityRow]
    aggregated_total: int


@dataclass(frozen=True)
class PersonCard:
    """A member (or a User's group) as Backstage's member cards show it: picture, display
    name linking its page, e-mail."""

    key: str
    label: str
    href: str | None
    email: str | None
    email_href: str | None
    avatar: Avatar


@dataclass
class Hierarchy:
    """Where a Group sits: its parents up to the root (root first), and its child groups."""

    chain: list[RefView]
    children: list[PersonCard]
    cycle: bool = False  # the parents lead back to a group already in the chain


@dataclass
class Members:
    cards: list[PersonCard]
    total: int


@dataclass
class RelationGroup:
    title: str
    refs: list[RefView]


@dataclass
class EntityView:
    key: str
    dir: str
    kind: str
    namespace: str
    name: str
    label: str
    type: str
    lifecycle: str
    description_html: Markup | None
    owner: RefView | None
    system: RefView | None
    domain: RefView | None
    parent: RefView | None
    tags: list[str]
    facts: list[Fact]
    links: list[Link]
    source_label: str
    source_url: str | None
    changed: str
    changed_label: str
    relation_groups: list[RelationGroup]
    sections: list[Section]
    findings: list[Finding]
    definition: str
    descriptor: str
    docs_href: str | None = None
    docs_error: str | None = None
    stale: Stale | None = None
    graph: GraphImage | None = None
    graph_kinds: list[str] = field(default_factory=list)
    graph_depth: int = 2
    problems: list[str] = field(default_factory=list)
    template: TemplateView | None = None
    tabs: list[Tab] = field(default_factory=list)
    api_sections: list[Section] = field(default_factory=list)
    ownership: Ownership | None = None
    api_reference: ApiReference | None = None  # an API's definition, pre-rendered
    card_graph: GraphImage | None = None
    legend: Markup | None = None
    # "My teams" in the catalog: the owners a reader adopts with the page's button (a
    # User's page adopts the user and its groups, as Backstage's "Owned" filter does).
    my_team_keys: list[str] = field(default_factory=list)
    avatar: Avatar | None = None  # a Group's or a User's picture (or initials)
    hierarchy: Hierarchy | None = None  # a Group's
    members: Members | None = None  # a Group's members, a User's groups


@dataclass(frozen=True)
class Stale:
    """The source could not read the entity's file this time: the page shows an older one."""

    reason: str
    since: str  # ISO
    since_label: str


def entity_view(
    model: SiteModel,
    key: str,
    settings: SiteSettings,
    changed: str,
    changed_label: str,
    *,
    activity: bool = False,
) -> EntityView:
    """The entity as its pages show it; ``activity``: it has an Activity view (context)."""
    entity = model.entities[key]
    meta: dict[str, Any] = entity["metadata"]
    spec: dict[str, Any] = entity.get("spec") or {}
    here = entity_dir(key)
    source = model.source(key)
    problems: list[str] = []

    links, link_problems = annotation_links(
        meta.get("annotations") or {}, settings.annotation_links
    )
    problems += link_problems
    for i, link in enumerate(meta.get("links") or []):
        url = safe_url(link.get("url"))
        if url is None:
            problems.append(
                f"metadata.links[{i}].url {link.get('url')!r} is not a safe URL; not linked"
            )
            continue
        title = link.get("title") if isinstance(link.get("title"), str) else url
        links.append(Link(title, url, link.get("icon") or ""))

    def first(relation: str, prefix: str) -> RefView | None:
        target = next((t for t in model.related(key, relation) if t.startswith(prefix)), None)
        return model.ref(target) if target else None

    groups: dict[str, list[RefView]] = {}
    for relation, target in model.relations.get(key, ()):
        groups.setdefault(relation, []).append(model.ref(target))
    relation_groups = [
        RelationGroup(RELATION_TITLES.get(relation, relation), refs)
        for relation, refs in sorted(
            groups.items(), key=lambda kv: RELATION_TITLES.get(kv[0], kv[0])
        )
    ]
    description = meta.get("description")
    definition = spec.get("definition") if entity["kind"] == "API" else None
    if isinstance(definition, str) and len(definition) > MAX_DEFINITION_CHARS:
        definition = definition[:MAX_DEFINITION_CHARS] + "\n… (truncated; see the source)"
    full = spec.get("definition") if entity["kind"] == "API" else None
    reference = api_reference(_text(spec.get("type")), full) if isinstance(full, str) else None
    problems += reference.problems if reference is not None else []
    descriptor_entity = {k: v for k, v in entity.items() if k != "relations"}
    if isinstance(definition, str):
        descriptor_entity = {
            **descriptor_entity,
            "spec": {**spec, "definition": "(shown under Definition)"},
        }
    commit = f" @ {source.commit[:12]}" if source.commit else ""
    kind = entity["kind"]
    api_sections = _api_sections(model, key)
    docs_href = model.docs.get(key)
    tabs = [Tab("overview", "Overview", entity_page(key))]
    tabs.append(Tab("dependencies", "Dependencies", view_dir(here, "dependencies") + "index.html"))
    if api_sections or isinstance(definition, str):
        label = "Definition" if kind == "API" else "API"
        tabs.append(Tab("api", label, view_dir(here, "api") + "index.html"))
    if activity:
        tabs.append(Tab("activity", "Activity", view_dir(here, "activity") + "index.html"))
    if docs_href:
        tabs.append(Tab("docs", "Docs", docs_href))
    return EntityView(
        key=key,
        dir=here,
        kind=entity["kind"],
        namespace=meta["namespace"],
        name=meta["name"],
        label=model.labels[key][1],
        type=_text(spec.get("type")),
        lifecycle=_text(spec.get("lifecycle")),
        description_html=Markup(markdown_to_html(description))
        if isinstance(description, str) and description.strip()
        else None,
        owner=first("ownedBy", ""),
        system=first("partOf", "system:"),
        parent=first("childOf", "group:"),
        domain=first("partOf", "domain:"),
        tags=[t for t in meta.get("tags") or [] if isinstance(t, str)],
        facts=_facts(entity),
        links=links,
        source_label=f"{source.repository}/{source.path}:{source.line}{commit}",
        source_url=safe_url(source.url) if source.url else None,
        changed=changed,
        changed_label=changed_label,
        relation_groups=relation_groups,
        sections=_sections(model, key),
        # A stale source has its own banner (with the version's age), not a problem line.
        findings=[f for f in model.findings.get(key, []) if f.rule != "source/stale"],
        stale=Stale(
            (source.stale_reason or "").rstrip(". "),
            source.stale_since,
            time_label(source.stale_since),
        )
        if source.stale_since
        else None,
        definition=definition if isinstance(definition, str) else "",
        descriptor=yaml.dump(
            descriptor_entity, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True
        ),
        graph_depth=settings.graph_depth,
        problems=problems,
        docs_href=model.docs.get(key),
        docs_error=model.docs_errors.get(key),
        template=template_view(model, key) if entity["kind"] == "Template" else None,
        tabs=tabs,
        api_sections=api_sections,
        api_reference=reference,
        ownership=_ownership(model, key) if kind in ("Group", "User") else None,
        my_team_keys=_my_team_keys(model, key),
        avatar=avatar(model, key, settings.picture_hosts) if kind in ("Group", "User") else None,
        hierarchy=_hierarchy(model, key, settings) if kind == "Group" else None,
        members=_members(model, key, settings) if kind in ("Group", "User") else None,
    )


def _person(model: SiteModel, key: str, settings: SiteSettings) -> PersonCard:
    if key not in model.entities:
        ref = model.ref(key)
        return PersonCard(key, ref.label, None, None, None, Avatar("?", None, 0))
    email = _email(model.entities[key])
    return PersonCard(
        key,
        model.labels[key][1],
        entity_page(key),
        email,
        safe_url(f"mailto:{quote(email, safe='@.+')}") if email else None,
        avatar(model, key, settings.picture_hosts),
    )


def _email(entity: dict[str, Any]) -> str | None:
    spec = entity.get("spec") or {}
    profile = spec.get("profile") if isinstance(spec, dict) else None
    email = profile.get("email") if isinstance(profile, dict) else None
    return email if isinstance(email, str) and email.strip() else None


def _hierarchy(model: SiteModel, key: str, settings: SiteSettings) -> Hierarchy:
    chain: list[RefView] = []
    seen = {key}
    parent = next(iter(model.related(key, "childOf")), None)
    cycle = False
    while parent is not None:
        if parent in seen:
            cycle = True
            break
        seen.add(parent)
        chain.append(model.ref(parent))
        parent = next(iter(model.related(parent, "childOf")), None)
    children = [_person(model, child, settings) for child in model.related(key, "parentOf")]
    return Hierarchy(chain[::-1], sorted(children, key=_card_order), cycle)


def _members(model: SiteModel, key: str, settings: SiteSettings) -> Members:
    relation = "hasMember" if key.startswith("group:") else "memberOf"
    related = model.related(key, relation)
    cards = sorted((_person(model, k, settings) for k in related), key=_card_order)
    return Members(cards[:MAX_MEMBER_CARDS], len(cards))


def _card_order(card: PersonCard) -> tuple[str, str]:
    return (card.label.lower(), card.key)


def _my_team_keys(model: SiteModel, key: str) -> list[str]:
    """The owners "My team" adopts: a Group with its child groups all the way down (its
    members' own things stay theirs), a User with the groups it is a member of."""
    if key.startswith("group:"):
        return sorted(o for o in owners_aggregated(model, key) if o.startswith("group:"))
    if key.startswith("user:"):
        return [key, *model.related(key, "memberOf")]
    return []


def _api_sections(model: SiteModel, key: str) -> list[Section]:
    """The API view: what a component provides and consumes, who provides and consumes an
    API, a system's APIs. Empty sections are left out: no tab for an entity without APIs."""

    def rows(relation: str, prefix: str = "") -> list[EntityRow]:
        return [
            model.row(t)
            for t in model.related(key, relation)
            if t in model.entities and t.startswith(prefix)
        ]

    kind = model.entities[key]["kind"]
    if kind == "API":
        wanted = [("Provided by", rows("apiProvidedBy")), ("Consumed by", rows("apiConsumedBy"))]
    elif kind == "System":
        wanted = [("APIs", rows("hasPart", "api:"))]
    else:
        wanted = [("Provided APIs", rows("providesApi")), ("Consumed APIs", rows("consumesApi"))]
    if kind != "API" and not any(found for _, found in wanted):
        return []
    return [Section(title, found) for title, found in wanted]


def _ownership(model: SiteModel, key: str) -> Ownership:
    direct = [model.row(t) for t in model.related(key, "ownerOf") if t in model.entities]
    everything = aggregated_owned(model, key)
    return Ownership(
        direct=sorted(direct, key=_row_order),
        aggregated=sorted((model.row(t) for t in everything), key=_row_order)[:MAX_AGGREGATED],
        aggregated_total=len(everything),
    )


def _row_order(row: EntityRow) -> tuple[str, str, str]:
    return (row.kind, row.label.lower(), row.key)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _facts(entity: dict[str, Any]) -> list[Fact]:
    spec = entity.get("spec") or {}
    facts: list[Fact] = []
    profile: dict[str, Any] = spec["profile"] if isinstance(spec.get("profile"), dict) else {}
    # The display name is the page's title already (as in Backstage): only the e-mail here.
    if isinstance(profile.get("email"), str):
        email = profile["email"]
        facts.append(Fact("E-mail", email, safe_url(f"mailto:{quote(email, safe='@.+')}")))
    if entity["kind"] == "Location":
        targets = [spec["target"]] if isinstance(spec.get("target"), str) else []
        targets += [t for t in spec.get("targets") or [] if isinstance(t, str)]
        facts += [Fact("Target", t) for t in targets]
    if entity["kind"] == "Template" and isinstance(spec.get("steps"), list):
        actions = [s.get("action") for s in spec["steps"] if isinstance(s, dict)]
        facts.append(Fact("Steps", ", ".join(a for a in actions if isinstance(a, str))))
    return facts


def _sections(model: SiteModel, key: str) -> list[Section]:
    kind = model.entities[key]["kind"]

    def rows(relation: str, kind_prefix: str = "") -> list[EntityRow]:
        return [
            model.row(t)
            for t in model.related(key, relation)
            if t in model.entities and t.startswith(kind_prefix)
        ]

    sections: list[Section] = []
    # A Group's members and child groups, a User's groups: cards of their own (members).
    if kind == "System":
        for title, prefix in (
            ("Components", "component:"),
            ("APIs", "api:"),
            ("Resources", "resource:"),
        ):
            sections.append(Section(title, rows("hasPart", prefix)))
    elif kind == "Domain":
        sections.append(Section("Systems", rows("hasPart", "system:")))
        sections.append(Section("Subdomains", rows("hasPart", "domain:")))
    return sections


def system_graph(model: SiteModel, key: str, root: str) -> Graph:
    """A system's diagram: the system, its parts, and the relations among them."""
    members = [key, *(t for t in model.related(key, "hasPart") if t in model.entities)]
    inside = set(members)
    nodes = []
    for member in members:
        kind, label = model.labels[member]
        href = None if member == key else root + entity_page(member)
        nodes.append(GraphNode(member, kind, label, href, focus=member == key))
    edges = [
        GraphEdge(member, target, relation)
        for member in members
        for relation, target in model.relations.get(member, ())
        if relation in FORWARD_RELATIONS and target in inside
    ]
    return Graph(
        tuple(nodes), tuple(sorted(set(edges), key=lambda e: (e.source, e.target, e.label)))
    )
