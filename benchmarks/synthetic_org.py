"""Deterministic synthetic organisation for Backlot's benchmarks.

Writes a folder of repositories, the layout Backlot's local source reads: every subfolder of
``out_dir`` is a repository with a ``catalog-info.yaml`` at its root (often several documents
separated by ``---``). The organisation's groups and users live in one ``org`` repository
whose ``catalog-info.yaml`` holds a ``Location`` entity with glob targets
(``./groups/*.yaml``, ``./users/*.yaml``) plus the top-level ``organization`` group.

Shape, as shares of ``entities`` (the Location counts as one entity and the rounding
remainder goes to components)::

    Domain 2%   System 5%   Component 55%   API 12%   Resource 10%   Group 3%   User 13%

* Groups form a tree: one ``organization`` → departments → teams (``parent``/``children``
  on both ends, ``members`` on about a quarter of the teams).
* Users are ``memberOf`` one team, some of them of two.
* Every owner is a group or user that exists, every reference points at an entity that
  exists, except for a deliberate fraction of problems (``problem_rate``, default 0.5% of
  the entities): owners naming groups that do not exist and ``dependsOn`` entries naming
  components or resources that do not exist. All documents are valid descriptors, so the
  catalog stage should accept every one of them and only warn about the problems.
* APIs carry inline definitions (a YAML block string): OpenAPI (3 to 8 KB), AsyncAPI, gRPC
  (protobuf) and GraphQL.
* About one repository per five entities (``entities_per_repo``), about 1.6 KB of YAML per
  entity on average (10,000 entities ≈ 16 MB in ≈ 2,000 repositories).
* ``backstage.io/techdocs-ref`` on about 30% of the components; with ``with_docs=True``
  each of them also gets an ``mkdocs.yml`` and a small ``docs/`` folder (for docs
  benchmarks; off by default so the catalog benchmark reads YAML only).

The output depends only on the arguments (``seed`` included), never on the Python hash seed
or the machine: the same call writes the same bytes.

Python API::

    from benchmarks.synthetic_org import generate
    stats = generate(Path("/tmp/org"), entities=10_000, seed=1)

CLI::

    python benchmarks/synthetic_org.py OUT --entities 10000 [--seed 1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Bump when the output for a given (entities, seed) changes; benchmark caches key on it.
GENERATOR_VERSION = 1

#: Share of each kind among the generated entities.
KIND_SHARES: dict[str, float] = {
    "Domain": 0.02,
    "System": 0.05,
    "Component": 0.55,
    "API": 0.12,
    "Resource": 0.10,
    "Group": 0.03,
    "User": 0.13,
}

MIN_ENTITIES = 20
ORG = "acme"
MAIL = "acme.example"
API_VERSION = "backstage.io/v1alpha1"

Doc = dict[str, Any]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

AREAS = _words(
    "payments billing checkout orders catalog search identity accounts pricing inventory "
    "shipping fulfilment returns loyalty marketing analytics reporting messaging "
    "notifications fraud risk compliance ledger treasury payroll hr recruiting support "
    "helpdesk content media storefront partners vendors procurement logistics warehouse "
    "mobile platform observability security networking storage compute data ml "
    "recommendations experimentation growth onboarding subscriptions invoicing tax audit "
    "privacy consent documents scheduling booking travel maps geo telemetry devices firmware "
    "streaming video ads auctions"
)

FUNCTIONS = _words(
    "gateway router scheduler importer exporter indexer resolver validator aggregator "
    "dispatcher processor collector publisher consumer planner estimator calculator tracker "
    "registry broker adapter connector syncer reconciler archiver renderer optimizer "
    "classifier monitor auditor notifier matcher ranker builder loader parser signer verifier "
    "allocator"
)

COMPONENT_SUFFIX = {
    "service": ("service", "api", "worker", "svc", "backend", "daemon", "job"),
    "website": ("web", "ui", "portal", "console", "frontend", "dashboard", "app"),
    "library": ("lib", "sdk", "client", "common", "utils", "core", "kit"),
}

RESOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "database": ("db", "postgres", "mysql", "replica"),
    "s3-bucket": ("bucket", "assets", "archive"),
    "kafka-topic": ("topic", "events", "stream"),
    "cache": ("cache", "redis"),
    "queue": ("queue", "sqs"),
    "cluster": ("cluster", "k8s"),
}

FIRST_NAMES = _words(
    "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Karl Liam Mia Noah Olivia Peter "
    "Quinn Rosa Sam Tara Uma Victor Wendy Xavier Yara Zoe Amara Arjun Chen Dmitri Elena "
    "Fatima Hiro Ingrid Jamal Kenji Lena Marta Nikhil Omar Priya Rafael Sofia Tomas Wei "
    "Ayesha Bjorn Chloe Diego Emeka Farah Gustav Hana Isla Jonas Kofi Lucia Mateo Nadia Oscar "
    "Paula"
)
FIRST_NAMES_ACCENTED = ("José", "Zoë", "Søren", "Björn", "Ana-María", "François", "Jürgen")

LAST_NAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips "
    "Mason Mitchell Rose Davis Rodriguez Cox Alexander Okafor Tanaka Kowalski Weber Rossi "
    "Laurent Nakamura Silva Costa Novak Jensen Larsen Moreau Fischer Schmidt Ivanova Haddad "
    "Kim Park Nguyen Singh Gupta Mendes Ortiz Reyes Bauer Keller Lindqvist Dubois"
)

LANGUAGES: dict[str, tuple[str, ...]] = {
    "java": ("spring-boot", "gradle", "jvm"),
    "kotlin": ("spring-boot", "ktor", "jvm"),
    "go": ("grpc", "cobra"),
    "python": ("fastapi", "django", "celery"),
    "typescript": ("nodejs", "nestjs", "express"),
    "rust": ("tokio", "axum"),
    "scala": ("akka", "jvm"),
    "ruby": ("rails", "sidekiq"),
}
WEB_TAGS = ("react", "nextjs", "vue", "angular", "svelte", "typescript", "tailwind")

LIFECYCLES = (("production", 0.65), ("experimental", 0.20), ("deprecated", 0.15))
COMPONENT_TYPES = (("service", 0.55), ("website", 0.15), ("library", 0.30))
API_TYPES = (("openapi", 0.62), ("asyncapi", 0.18), ("grpc", 0.15), ("graphql", 0.05))

VERBS = _words(
    "handles processes manages tracks stores serves computes validates publishes indexes "
    "reconciles aggregates exposes schedules"
)
OBJECTS = _words(
    "requests events records transactions documents profiles settlements jobs reports "
    "notifications invoices sessions metrics snapshots"
)
PHRASES = (
    "Runs in all production regions behind the shared ingress.",
    "Part of the tier-1 critical path, with an on-call rotation and a 99.9% availability SLO.",
    "Migrated from the legacy monolith, see the runbook for the remaining manual steps.",
    "Scales horizontally, with state kept in the databases it depends on.",
    "Emits structured logs and OpenTelemetry traces to the central observability stack.",
    "Deployed continuously from the main branch through the standard golden path pipeline.",
    "Access requires membership in the owning team or a break-glass approval.",
    "Reads configuration from the central config service at start-up.",
    "Batch jobs run nightly and backfill on demand.",
    "Contact the owning team in their chat channel before making breaking changes.",
    "Built from the standard service template and kept up to date by the renovate bot.",
    "Data retention follows the company policy for personal data (30 days for raw logs).",
)
FIELD_NAMES = _words(
    "id name status createdAt updatedAt amount currency reference description owner region "
    "priority quantity price email country locale version source externalId tags notes "
    "expiresAt score category"
)
FIELD_TYPES: tuple[tuple[str, str | None], ...] = (
    ("string", None),
    ("string", "uuid"),
    ("string", "date-time"),
    ("integer", "int64"),
    ("number", "double"),
    ("boolean", None),
    ("string", "email"),
)

# ---------------------------------------------------------------------------------------------
# YAML emitter: block style like hand-written descriptors, fast, and round-trips exactly
# through PyYAML (YAML 1.1) and a YAML 1.2 parser alike (no ambiguous plain scalars).
# ---------------------------------------------------------------------------------------------

_PLAIN_CHARS = r"[A-Za-z0-9 _./,()@+%&=?'-]"
# A letter first (so never a number, bool or null in YAML 1.1 or 1.2), then safe characters;
# a colon only when followed by a non-space (``dir:.``, ``url:https://…``).
_PLAIN = re.compile(rf"[A-Za-z]{_PLAIN_CHARS}*(?::[A-Za-z0-9/._-]{_PLAIN_CHARS}*)*")
_FLOW_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./@+-]*")
_RESERVED = {"yes", "no", "true", "false", "on", "off", "null", "y", "n", "nan", "inf"}


def _scalar(value: Any, flow: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    pattern = _FLOW_PLAIN if flow else _PLAIN
    if (
        pattern.fullmatch(text)
        and not text.endswith(" ")
        and text.lower() not in _RESERVED
        and " #" not in text
        and ": " not in text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _emit_block(text: str, pad: str, out: list[str]) -> str:
    body = text.rstrip("\n")
    for line in body.split("\n"):
        out.append(f"{pad}{line}" if line else "")
    return "|" if text.endswith("\n") else "|-"


def _emit_map(obj: dict[str, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key, value in obj.items():
        if isinstance(value, dict):
            if value:
                out.append(f"{pad}{key}:")
                _emit_map(value, indent + 2, out)
            else:
                out.append(f"{pad}{key}: {{}}")
        elif isinstance(value, list):
            _emit_list_field(key, value, indent, out)
        elif isinstance(value, str) and "\n" in value:
            marker_at = len(out)
            out.append("")
            style = _emit_block(value, pad + "  ", out)
            out[marker_at] = f"{pad}{key}: {style}"
        else:
            out.append(f"{pad}{key}: {_scalar(value)}")


def _emit_list_field(key: str, items: list[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    if not items:
        out.append(f"{pad}{key}: []")
        return
    if all(isinstance(i, str) for i in items):
        flow = [_scalar(i, flow=True) for i in items]
        line = f"{pad}{key}: [{', '.join(flow)}]"
        if len(items) <= 4 and len(line) <= 72 and not any(f.startswith('"') for f in flow):
            out.append(line)
            return
    out.append(f"{pad}{key}:")
    for item in items:
        if isinstance(item, dict):
            start = len(out)
            _emit_map(item, indent + 4, out)
            out[start] = f"{pad}  - {out[start][indent + 4 :]}"
        else:
            out.append(f"{pad}  - {_scalar(item)}")


def to_yaml(docs: Iterable[Doc], header: str | None = None) -> str:
    """Serialise documents as one multi-document YAML stream (``---`` between them)."""
    out: list[str] = []
    if header:
        out.extend(f"# {line}" if line else "#" for line in header.split("\n"))
    for i, doc in enumerate(docs):
        if i:
            out.append("---")
        _emit_map(doc, 0, out)
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Model of the organisation
# ---------------------------------------------------------------------------------------------


@dataclass
class Ent:
    """One generated entity, before it is laid out into repositories."""

    kind: str
    name: str
    doc: Doc
    system: str | None = None
    repo: str | None = None


@dataclass
class Unit:
    """Entities that always share a file: a component with the APIs it provides, etc."""

    system: str | None
    ents: list[Ent] = field(default_factory=list)


class Names:
    """Hands out unique names, suffixing ``-2``, ``-3``, … on collision."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}

    def take(self, base: str) -> str:
        base = base[:58].strip("-.")
        n = self.used.get(base, 0)
        self.used[base] = n + 1
        if n == 0:
            return base
        candidate = f"{base}-{n + 1}"
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n + 1}"
        self.used[candidate] = 1
        return candidate

    def __contains__(self, name: str) -> bool:
        return name in self.used


def plan_counts(entities: int) -> dict[str, int]:
    """Number of entities of each kind for a total of ``entities`` (Location included)."""
    if entities < MIN_ENTITIES:
        raise ValueError(f"need at least {MIN_ENTITIES} entities, got {entities}")
    counts = {kind: max(1, int(entities * share)) for kind, share in KIND_SHARES.items()}
    counts["Group"] = max(3, counts["Group"])
    counts["Location"] = 1
    counts["Component"] += entities - sum(counts.values())
    return counts


def _weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for value, weight in table:
        x -= weight
        if x < 0:
            return value
    return table[-1][0]


def _geometric(rng: random.Random, mean: float, cap: int) -> int:
    """A count ≥ 0 with the given mean, most often small, at most ``cap``."""
    if mean <= 0:
        return 0
    p = 1.0 / (1.0 + mean)
    n = int(math.log(1.0 - rng.random()) / math.log(1.0 - p))
    return min(n, cap)


def _title(name: str) -> str:
    return " ".join(
        w.upper() if len(w) <= 3 and w in {"api", "ui", "sdk", "ml", "hr", "db"} else w.capitalize()
        for w in re.split(r"[-.]", name)
    )


def _camel(words: str) -> str:
    parts = re.split(r"[-_. ]", words)
    return parts[0].lower() + "".join(p.capitalize() for p in parts[1:])


def _pascal(words: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"[-_. ]", words))


def _envelope(kind: str, metadata: Doc, spec: Doc) -> Doc:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


class _Generator:
    def __init__(self, entities: int, seed: int, problem_rate: float, per_repo: float) -> None:
        self.total = entities
        self.rng = random.Random(seed)
        self.counts = plan_counts(entities)
        self.problem_rate = problem_rate
        self.per_repo = per_repo
        self.names: dict[str, Names] = {}
        self.groups: list[Ent] = []
        self.departments: list[Ent] = []
        self.teams: list[Ent] = []
        self.users: list[Ent] = []
        self.domains: list[Ent] = []
        self.systems: list[Ent] = []
        self.components: list[Ent] = []
        self.apis: list[Ent] = []
        self.resources: list[Ent] = []
        self.system_area: dict[str, str] = {}
        self.system_owner: dict[str, str] = {}
        self.problems: dict[str, int] = {"orphanOwners": 0, "unknownDependsOn": 0}

    def name(self, kind: str, base: str) -> str:
        return self.names.setdefault(kind, Names()).take(base)

    # -- references -----------------------------------------------------------------------

    def ref(self, kind: str, name: str, default_kind: str | None) -> str:
        """A reference in one of the spellings people use, all meaning the same entity."""
        x = self.rng.random()
        lower = kind.lower()
        if default_kind == kind and x < 0.55:
            return name
        if x < 0.85 or (default_kind is None and x < 0.9):
            return f"{lower}:{name}"
        return f"{lower}:default/{name}"

    def owner_ref(self, owner: Ent) -> str:
        return self.ref(owner.kind, owner.name, "Group")

    def description(self, subject: str, area: str, sentences: int) -> str:
        rng = self.rng
        first = (
            f"{subject} {rng.choice(VERBS)} {rng.choice(OBJECTS)} for the {area} area, "
            f"and {rng.choice(VERBS)} {rng.choice(OBJECTS)} on behalf of "
            f"{rng.choice(AREAS)} and {rng.choice(AREAS)}."
        )
        rest = rng.sample(PHRASES, k=min(len(PHRASES), max(0, sentences - 1)))
        return " ".join([first, *rest])

    # -- organisation -----------------------------------------------------------------------

    def build_org(self) -> None:
        rng = self.rng
        n_groups = self.counts["Group"]
        n_depts = max(1, min(n_groups - 2, round(math.sqrt(n_groups) * 0.9)))
        n_teams = n_groups - 1 - n_depts
        org = self._group(ORG, "organization", None, "The whole company.")
        self.groups.append(org)
        dept_areas = rng.sample(AREAS, k=min(len(AREAS), n_depts))
        for i in range(n_depts):
            area = dept_areas[i % len(dept_areas)]
            dept = self._group(f"{area}-department", "department", org, f"The {area} department.")
            self.departments.append(dept)
        for i in range(n_teams):
            dept = self.departments[i % n_depts]
            area, func = rng.choice(AREAS), rng.choice(FUNCTIONS)
            team = self._group(
                f"team-{area}-{func}s", "team", dept, f"Builds and runs the {area} {func}s."
            )
            self.teams.append(team)
        self.groups.extend(self.departments)
        self.groups.extend(self.teams)

        people = Names()
        members: dict[str, list[str]] = {t.name: [] for t in self.teams}
        for i in range(self.counts["User"]):
            first = (
                rng.choice(FIRST_NAMES_ACCENTED) if rng.random() < 0.04 else rng.choice(FIRST_NAMES)
            )
            last = rng.choice(LAST_NAMES)
            base = re.sub(r"[^a-z.-]", "", f"{first}.{last}".lower().translate(_ASCII))
            uname = people.take(base)
            team = (
                self.teams[i % len(self.teams)] if i < len(self.teams) else rng.choice(self.teams)
            )
            member_of = [self.ref("Group", team.name, "Group")]
            members[team.name].append(uname)
            if rng.random() < 0.1:
                other = rng.choice(self.teams + self.departments)
                if other is not team:
                    member_of.append(self.ref("Group", other.name, "Group"))
            display = f"{first} {last}"
            login = (first[0] + last).lower().translate(_ASCII)
            metadata: Doc = {
                "name": uname,
                "title": display,
                "description": f"{rng.choice(ROLES)}, {_title(team.name.removeprefix('team-'))}.",
                "annotations": {"github.com/user-login": re.sub(r"[^a-z0-9-]", "", login)},
            }
            spec: Doc = {
                "profile": {
                    "displayName": display,
                    "email": f"{uname}@{MAIL}",
                    "picture": f"https://avatars.{MAIL}/{uname}.png",
                },
                "memberOf": member_of,
            }
            user = Ent("User", uname, _envelope("User", metadata, spec))
            user.repo = team.repo  # the department file of the team
            self.users.append(user)
        for team in self.teams:
            if rng.random() < 0.25 and members[team.name]:
                team.doc["spec"]["members"] = list(members[team.name])

    def _group(self, base: str, gtype: str, parent: Ent | None, about: str) -> Ent:
        name = self.name("Group", base)
        title = _title(name.removeprefix("team-").removesuffix("-department"))
        metadata: Doc = {"name": name, "title": title, "description": about}
        slug = name.removeprefix("team-")
        if gtype == "team":
            metadata["annotations"] = {"github.com/team-slug": f"{ORG}/{slug}"}
            metadata["links"] = [
                {
                    "url": f"https://chat.{MAIL}/channels/{name}",
                    "title": f"#{name}",
                    "icon": "chat",
                }
            ]
        spec: Doc = {
            "type": gtype,
            "profile": {"displayName": title, "email": f"{slug}@{MAIL}"},
        }
        if parent is not None:
            spec["parent"] = self.ref("Group", parent.name, "Group")
            parent.doc["spec"]["children"].append(name)
        spec["children"] = []
        ent = Ent("Group", name, _envelope("Group", metadata, spec))
        # Groups are written per department: the organisation itself in catalog-info.yaml.
        ent.repo = name if gtype == "department" else (parent.repo if parent else None)
        return ent

    def random_owner(self, prefer: Ent | None = None) -> Ent:
        x = self.rng.random()
        if x < 0.03:
            return self.rng.choice(self.users)
        if prefer is not None and x < 0.75:
            return prefer
        if x < 0.8:
            return self.rng.choice(self.departments)
        return self.rng.choice(self.teams)

    # -- architecture -----------------------------------------------------------------------

    def build_domains_and_systems(self) -> None:
        rng = self.rng
        for i in range(self.counts["Domain"]):
            area = AREAS[i % len(AREAS)] if i < len(AREAS) else rng.choice(AREAS)
            name = self.name(
                "Domain", area if i < len(AREAS) else f"{area}-{rng.choice(FUNCTIONS)}"
            )
            owner = rng.choice(self.departments)
            metadata: Doc = {
                "name": name,
                "title": _title(name),
                "description": self.description(f"The {_title(name)} domain", area, 2),
                "tags": [area],
                "annotations": {"github.com/project-slug": f"{ORG}/{name}-architecture"},
                "links": [
                    {
                        "url": f"https://wiki.{MAIL}/domains/{name}",
                        "title": "Domain overview",
                        "icon": "docs",
                    }
                ],
            }
            spec: Doc = {"owner": self.owner_ref(owner)}
            if i >= 4 and rng.random() < 0.15:
                spec["subdomainOf"] = self.ref("Domain", rng.choice(self.domains).name, "Domain")
            ent = Ent("Domain", name, _envelope("Domain", metadata, spec))
            ent.repo = f"{name}-architecture"
            self.system_area[name] = area
            self.domains.append(ent)
        for i in range(self.counts["System"]):
            domain = (
                self.domains[i % len(self.domains)]
                if i < len(self.domains)
                else rng.choice(self.domains)
            )
            area = self.system_area[domain.name]
            name = self.name("System", f"{area}-{rng.choice(FUNCTIONS)}")
            owner = self.random_owner(rng.choice(self.teams))
            metadata = {
                "name": name,
                "title": _title(name),
                "description": self.description(f"The {_title(name)} system", area, 2),
                "tags": [area],
            }
            spec = {
                "owner": self.owner_ref(owner),
                "domain": self.ref("Domain", domain.name, "Domain"),
            }
            ent = Ent("System", name, _envelope("System", metadata, spec), system=name)
            ent.repo = domain.repo
            self.system_area[name] = area
            self.system_owner[name] = owner.name
            self.systems.append(ent)

    def build_components(self) -> None:
        rng = self.rng
        # Skewed system sizes: some systems are large, most are small.
        weights = [rng.paretovariate(1.6) for _ in self.systems]
        team_by_name = {t.name: t for t in self.teams + self.departments + self.users}
        for i in range(self.counts["Component"]):
            system = (
                self.systems[i] if i < len(self.systems) else rng.choices(self.systems, weights)[0]
            )
            area = self.system_area[system.name]
            ctype = _weighted(rng, COMPONENT_TYPES)
            suffix = rng.choice(COMPONENT_SUFFIX[ctype])
            name = self.name("Component", f"{area}-{rng.choice(FUNCTIONS)}-{suffix}")
            lifecycle = _weighted(rng, LIFECYCLES)
            owner = self.random_owner(team_by_name.get(self.system_owner[system.name]))
            if ctype == "website":
                lang, tags = "typescript", rng.sample(WEB_TAGS, k=rng.randint(1, 3))
            else:
                lang = rng.choice(list(LANGUAGES))
                tags = [lang, *rng.sample(LANGUAGES[lang], k=rng.randint(0, 2))]
            tags.append(area)
            if rng.random() < 0.2:
                tags.append(rng.choice(("pci", "gdpr", "tier-1", "internal", "public", "beta")))
            tags = list(dict.fromkeys(tags))
            metadata: Doc = {
                "name": name,
                "title": _title(name),
                "description": self.description(_title(name), area, rng.randint(1, 4)),
                "tags": tags,
                "labels": {"tier": f"tier-{rng.randint(1, 3)}"},
                "annotations": {},
                "links": [],
            }
            spec: Doc = {
                "type": ctype,
                "lifecycle": lifecycle,
                "owner": self.owner_ref(owner),
                "system": self.ref("System", system.name, "System"),
            }
            ent = Ent("Component", name, _envelope("Component", metadata, spec), system.name)
            self.components.append(ent)

    def build_apis(self) -> None:
        rng = self.rng
        for _ in range(self.counts["API"]):
            provider = rng.choice(self.components)
            tries = 0
            while provider.doc["spec"]["type"] != "service" and tries < 8:
                provider = rng.choice(self.components)
                tries += 1
            external = rng.random() < 0.08
            area = self.system_area[provider.system or ""]
            api_type = _weighted(rng, API_TYPES)
            base = provider.name
            for suffix in ("-service", "-svc", "-api", "-backend", "-worker", "-daemon", "-job"):
                base = base.removesuffix(suffix)
            name = self.name("API", f"{base}-{'events' if api_type == 'asyncapi' else 'api'}")
            definition = DEFINITIONS[api_type](rng, name, area)
            metadata: Doc = {
                "name": name,
                "title": _title(name),
                "description": self.description(f"The {_title(name)}", area, rng.randint(1, 2)),
                "tags": [api_type if api_type != "openapi" else "rest", area],
            }
            spec: Doc = {
                "type": api_type,
                "lifecycle": provider.doc["spec"]["lifecycle"],
                "owner": provider.doc["spec"]["owner"],
                "system": provider.doc["spec"]["system"],
                "definition": definition,
            }
            ent = Ent("API", name, _envelope("API", metadata, spec), provider.system)
            if external:
                # A partner's API we only consume: its own spec repository, no provider.
                spec["owner"] = self.owner_ref(rng.choice(self.teams))
                ent.doc["metadata"]["tags"].append("external")
                ent.repo = "standalone"
            else:
                provider.doc["spec"].setdefault("providesApis", []).append(
                    self.ref("API", name, "API")
                )
                ent.repo = provider.name  # placed with its provider
            self.apis.append(ent)
        for api in self.apis:
            for _ in range(_geometric(rng, 1.8, 8)):
                consumer = rng.choice(self.components)
                refs = consumer.doc["spec"].setdefault("consumesApis", [])
                ref = self.ref("API", api.name, "API")
                if ref not in refs:
                    refs.append(ref)

    def build_resources(self) -> None:
        rng = self.rng
        services = [c for c in self.components if c.doc["spec"]["type"] == "service"]
        rtypes = list(RESOURCE_TYPES)
        for _ in range(self.counts["Resource"]):
            user = rng.choice(services or self.components)
            rtype = rng.choice(rtypes)
            area = self.system_area[user.system or ""]
            base = user.name
            for suffix in COMPONENT_SUFFIX["service"]:
                base = base.removesuffix(f"-{suffix}")
            name = self.name("Resource", f"{base}-{rng.choice(RESOURCE_TYPES[rtype])}")
            metadata: Doc = {
                "name": name,
                "title": _title(name),
                "description": self.description(_title(name), area, rng.randint(1, 2)),
                "tags": [rtype, area],
                "annotations": {
                    "github.com/project-slug": "",  # filled in by layout()
                },
            }
            spec: Doc = {"type": rtype, "owner": user.doc["spec"]["owner"]}
            in_system = rng.random() < 0.8
            if in_system:
                spec["system"] = user.doc["spec"]["system"]
            if self.resources and rng.random() < 0.12:
                other = rng.choice(self.resources)
                spec["dependsOn"] = [self.ref("Resource", other.name, None)]
            ent = Ent("Resource", name, _envelope("Resource", metadata, spec), user.system)
            user.doc["spec"].setdefault("dependsOn", []).append(self.ref("Resource", name, None))
            ent.repo = user.name if rng.random() < 0.6 else "standalone"
            self.resources.append(ent)

    def build_component_links(self) -> None:
        rng = self.rng
        libraries = [c for c in self.components if c.doc["spec"]["type"] == "library"]
        by_system: dict[str, list[Ent]] = {}
        for comp in self.components:
            by_system.setdefault(comp.system or "", []).append(comp)
        for comp in self.components:
            spec = comp.doc["spec"]
            deps = spec.setdefault("dependsOn", [])
            for _ in range(_geometric(rng, 1.2, 5)):
                target = rng.choice(libraries or self.components)
                if target is comp:
                    continue
                ref = self.ref("Component", target.name, None)
                if ref not in deps:
                    deps.append(ref)
            if spec["type"] != "library" and rng.random() < 0.3:
                peer = rng.choice(by_system[comp.system or ""])
                if peer is not comp and peer.doc["spec"]["type"] == "service":
                    ref = self.ref("Component", peer.name, None)
                    if ref not in deps:
                        deps.append(ref)
            if not deps:
                del spec["dependsOn"]
            siblings = by_system[comp.system or ""]
            if len(siblings) > 3 and rng.random() < 0.05:
                parent = rng.choice(siblings)
                if parent is not comp and "subcomponentOf" not in parent.doc["spec"]:
                    spec["subcomponentOf"] = self.ref("Component", parent.name, "Component")

    def add_problems(self) -> None:
        rng = self.rng
        count = round(self.total * self.problem_rate)
        candidates = self.components + self.resources
        victims = rng.sample(candidates, k=min(count, len(candidates)))
        group_names = {g.name for g in self.groups}
        comp_names = {c.name for c in self.components}
        res_names = {r.name for r in self.resources}
        for i, victim in enumerate(victims):
            spec = victim.doc["spec"]
            if i % 2 == 0:
                ghost = f"team-{rng.choice(AREAS)}-legacy"
                while ghost in group_names:
                    ghost += "-old"
                spec["owner"] = self.ref("Group", ghost, "Group")
                self.problems["orphanOwners"] += 1
            else:
                kind = rng.choice(("Component", "Resource"))
                ghost = f"{rng.choice(AREAS)}-{rng.choice(FUNCTIONS)}-retired"
                while ghost in comp_names or ghost in res_names:
                    ghost += "-old"
                spec.setdefault("dependsOn", []).append(self.ref(kind, ghost, None))
                self.problems["unknownDependsOn"] += 1

    # -- layout -----------------------------------------------------------------------------

    def layout(self) -> dict[str, list[tuple[str, list[Ent]]]]:
        """Repository name → [(relative file path, entities in it)]."""
        rng = self.rng
        repos: dict[str, list[tuple[str, list[Ent]]]] = {}

        # The org repository: Location + organisation, a file of groups and one of users
        # per department.
        location = Ent(
            "Location",
            "org",
            _envelope(
                "Location",
                {
                    "name": f"{ORG}-org",
                    "title": "Acme organisation",
                    "description": "Groups and people of Acme, synced nightly from the HR system.",
                    "annotations": {"github.com/project-slug": f"{ORG}/org"},
                },
                {"type": "file", "targets": ["./groups/*.yaml", "./users/*.yaml"]},
            ),
        )
        org_files: list[tuple[str, list[Ent]]] = [("catalog-info.yaml", [location, self.groups[0]])]
        dept_of: dict[str, str] = {}
        for dept in self.departments:
            dept_of[dept.name] = dept.name
        for team in self.teams:
            dept_of[team.name] = team.repo or self.departments[0].name
        for dept in self.departments:
            teams = [t for t in self.teams if t.repo == dept.name]
            org_files.append((f"groups/{dept.name}.yaml", [dept, *teams]))
        users_by_dept: dict[str, list[Ent]] = {d.name: [] for d in self.departments}
        for user in self.users:
            users_by_dept[user.repo or self.departments[0].name].append(user)
        for dept_name, users in users_by_dept.items():
            if users:
                org_files.append((f"users/{dept_name}.yaml", users))
        repos["org"] = org_files
        repo_names = Names()
        repo_names.take("org")

        # Architecture repositories: one per domain with the domain and its systems.
        for domain in self.domains:
            systems = [s for s in self.systems if s.repo == domain.repo]
            repos[repo_names.take(domain.repo or domain.name)] = [
                ("catalog-info.yaml", [domain, *systems])
            ]

        # Units: a component with the APIs it provides and the resources kept beside it;
        # standalone resources and external APIs on their own.
        units: dict[str, Unit] = {}
        order: list[Unit] = []
        for comp in self.components:
            unit = Unit(comp.system, [comp])
            units[comp.name] = unit
            order.append(unit)
        for ent in self.apis + self.resources:
            if ent.repo == "standalone":
                order.append(Unit(ent.system, [ent]))
            else:
                units[ent.repo or ""].ents.append(ent)
        order.sort(key=lambda u: u.system or "")
        target_repos = max(1, round(self.total / self.per_repo) - 1 - len(self.domains))
        target_repos = min(target_repos, len(order))
        cuts = sorted(rng.sample(range(1, len(order)), k=target_repos - 1))
        bounds = [0, *cuts, len(order)]
        for start, stop in itertools.pairwise(bounds):
            chunk = order[start:stop]
            lead = chunk[0].ents[0]
            if len(chunk) >= 4 and chunk[0].system:
                base = f"{chunk[0].system}-monorepo"
            else:
                base = lead.name
            repo = repo_names.take(base)
            ents = [e for u in chunk for e in u.ents]
            for i, ent in enumerate(ents):
                ent.repo = repo
                self._finish(ent, repo, first=i == 0)
            repos[repo] = [("catalog-info.yaml", ents)]
        return repos

    def _finish(self, ent: Ent, repo: str, first: bool) -> None:
        """Repository-dependent annotations and links."""
        rng = self.rng
        meta = ent.doc["metadata"]
        url = f"https://github.com/{ORG}/{repo}"
        if ent.kind == "Resource":
            meta["annotations"]["github.com/project-slug"] = f"{ORG}/{repo}"
            rtype = ent.doc["spec"]["type"]
            meta["links"] = [
                {
                    "url": f"https://console.cloud.{MAIL}/{rtype}/{ent.name}",
                    "title": "Cloud console",
                    "icon": "cloud",
                }
            ]
            return
        if ent.kind != "Component":
            return
        spec = ent.doc["spec"]
        ann: Doc = meta["annotations"]
        ann["github.com/project-slug"] = f"{ORG}/{repo}"
        ann["backstage.io/source-location"] = f"url:{url}/tree/main/"
        if rng.random() < 0.5:
            ann["backstage.io/view-url"] = f"{url}/blob/main/catalog-info.yaml"
            ann["backstage.io/edit-url"] = f"{url}/edit/main/catalog-info.yaml"
        if rng.random() < 0.3:
            ann["backstage.io/techdocs-ref"] = "dir:." if first else f"dir:./{ent.name}"
        ctype = spec["type"]
        if ctype == "service":
            if rng.random() < 0.6:
                ann["backstage.io/kubernetes-id"] = ent.name
            if rng.random() < 0.5:
                ann["pagerduty.com/service-id"] = "P" + "".join(
                    rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(6)
                )
            if rng.random() < 0.3:
                ann["argocd/app-name"] = ent.name
            if rng.random() < 0.25:
                ann["datadoghq.com/dashboard-url"] = (
                    f"https://app.datadoghq.example/dashboard/{rng.randint(100, 999)}-{ent.name}"
                )
        if ctype == "website":
            ann["lighthouse.com/website-url"] = f"https://{ent.name}.{MAIL}"
        if rng.random() < 0.4:
            ann["sonarqube.org/project-key"] = f"{ORG}_{ent.name}"
        if rng.random() < 0.2:
            ann["jenkins.io/job-full-name"] = f"{ORG}/{repo}/main"
        links = meta["links"]
        links.append({"url": url, "title": "Source", "icon": "github"})
        if ctype == "service" and rng.random() < 0.7:
            links.append(
                {
                    "url": f"https://grafana.{MAIL}/d/{ent.name}",
                    "title": "Grafana dashboard",
                    "icon": "dashboard",
                }
            )
        if rng.random() < 0.4:
            links.append(
                {
                    "url": f"https://wiki.{MAIL}/runbooks/{ent.name}",
                    "title": "Runbook",
                    "icon": "help",
                }
            )
        if not links:
            del meta["links"]


ROLES = (
    "Software engineer",
    "Senior software engineer",
    "Staff engineer",
    "Engineering manager",
    "Site reliability engineer",
    "Product manager",
    "Data engineer",
    "QA engineer",
    "Designer",
    "Security engineer",
)
_ASCII = str.maketrans(
    {"é": "e", "ë": "e", "ø": "o", "ö": "o", "ç": "c", "ü": "u", "í": "i", "á": "a"}
)


# ---------------------------------------------------------------------------------------------
# Inline API definitions
# ---------------------------------------------------------------------------------------------


def _openapi(rng: random.Random, name: str, area: str) -> str:
    title = _title(name)
    resources = [obj.rstrip("s") for obj in rng.sample(OBJECTS, k=rng.choice((2, 2, 3, 3, 4)))]
    lines = [
        "openapi: 3.0.3",
        "info:",
        f"  title: {title}",
        f"  version: {rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        "  description: |",
        f"    {title} of the {area} area. All timestamps are RFC 3339 in UTC.",
        "    Mutating calls accept an Idempotency-Key header.",
        "servers:",
        f"  - url: https://{name}.internal.{MAIL}/v1",
        "paths:",
    ]
    schemas: list[str] = []
    for res in resources:
        model = _pascal(res)
        plural = f"{res}s"
        lines += [
            f"  /{plural}:",
            "    get:",
            f"      summary: List {plural}",
            f"      operationId: list{model}s",
            f"      tags: [{plural}]",
            "      parameters:",
            "        - name: limit",
            "          in: query",
            "          schema:",
            "            type: integer",
            "            minimum: 1",
            "            maximum: 200",
            "        - name: cursor",
            "          in: query",
            "          schema:",
            "            type: string",
            "      responses:",
            "        '200':",
            f"          description: A page of {plural}.",
            "          content:",
            "            application/json:",
            "              schema:",
            "                type: object",
            "                properties:",
            "                  items:",
            "                    type: array",
            "                    items:",
            f"                      $ref: '#/components/schemas/{model}'",
            "                  nextCursor:",
            "                    type: string",
            "    post:",
            f"      summary: Create a {res}",
            f"      operationId: create{model}",
            f"      tags: [{plural}]",
            "      requestBody:",
            "        required: true",
            "        content:",
            "          application/json:",
            "            schema:",
            f"              $ref: '#/components/schemas/{model}'",
            "      responses:",
            "        '201':",
            "          description: Created.",
            "        '409':",
            "          description: Conflict with an existing resource.",
            f"  /{plural}/{{{res}Id}}:",
            "    parameters:",
            f"      - name: {res}Id",
            "        in: path",
            "        required: true",
            "        schema:",
            "          type: string",
            "          format: uuid",
            "    get:",
            f"      summary: Get one {res}",
            f"      operationId: get{model}",
            "      responses:",
            "        '200':",
            "          description: Found.",
            "          content:",
            "            application/json:",
            "              schema:",
            f"                $ref: '#/components/schemas/{model}'",
            "        '404':",
            "          description: Not found.",
        ]
        if rng.random() < 0.6:
            lines += [
                "    delete:",
                f"      summary: Delete a {res}",
                f"      operationId: delete{model}",
                "      responses:",
                "        '204':",
                "          description: Deleted.",
            ]
        fields = rng.sample(FIELD_NAMES, k=rng.randint(5, 10))
        if "id" not in fields:
            fields.insert(0, "id")
        schemas += [
            f"    {model}:",
            "      type: object",
            f"      required: [{', '.join(fields[:2])}]",
            "      properties:",
        ]
        for fname in fields:
            ftype, fmt = rng.choice(FIELD_TYPES)
            schemas += [f"        {fname}:", f"          type: {ftype}"]
            if fmt:
                schemas.append(f"          format: {fmt}")
            if rng.random() < 0.3:
                schemas.append(f"          description: The {fname} of the {res}.")
    lines += ["components:", "  schemas:", *schemas]
    return "\n".join(lines) + "\n"


def _asyncapi(rng: random.Random, name: str, area: str) -> str:
    title = _title(name)
    lines = [
        "asyncapi: 2.6.0",
        "info:",
        f"  title: {title}",
        f"  version: {rng.randint(1, 3)}.{rng.randint(0, 12)}.0",
        f"  description: Events published by the {area} area.",
        "servers:",
        "  production:",
        f"    url: kafka.{MAIL}:9092",
        "    protocol: kafka",
        "channels:",
    ]
    messages: list[str] = []
    for obj in rng.sample(OBJECTS, k=rng.randint(2, 4)):
        event = f"{obj.rstrip('s')}-{rng.choice(('created', 'updated', 'deleted', 'settled'))}"
        model = _pascal(event)
        lines += [
            f"  {area}.{event}:",
            "    subscribe:",
            f"      operationId: on{model}",
            "      message:",
            f"        $ref: '#/components/messages/{model}'",
        ]
        messages += [
            f"    {model}:",
            f"      name: {model}",
            "      contentType: application/json",
            "      payload:",
            "        type: object",
            "        properties:",
        ]
        for fname in rng.sample(FIELD_NAMES, k=rng.randint(3, 7)):
            ftype, fmt = rng.choice(FIELD_TYPES)
            messages += [f"          {fname}:", f"            type: {ftype}"]
            if fmt:
                messages.append(f"            format: {fmt}")
    lines += ["components:", "  messages:", *messages]
    return "\n".join(lines) + "\n"


def _grpc(rng: random.Random, name: str, area: str) -> str:
    service = _pascal(name.removesuffix("-api"))
    package = re.sub(r"[^a-z0-9]", "", area)
    lines = [
        'syntax = "proto3";',
        "",
        f"package {ORG}.{package}.v{rng.randint(1, 3)};",
        "",
        'import "google/protobuf/timestamp.proto";',
        "",
        f"service {service} {{",
    ]
    messages: list[str] = []
    for obj in rng.sample(OBJECTS, k=rng.randint(2, 4)):
        model = _pascal(obj.rstrip("s"))
        for verb in ("Get", "List", "Create"):
            lines.append(f"  rpc {verb}{model}({verb}{model}Request) returns ({model});")
            messages += [f"message {verb}{model}Request {{", f"  string {obj}_id = 1;", "}", ""]
        messages.append(f"message {model} {{")
        for n, fname in enumerate(rng.sample(FIELD_NAMES, k=rng.randint(3, 7)), start=1):
            ftype = rng.choice(("string", "int64", "double", "bool"))
            snake = re.sub(r"([A-Z])", r"_\1", fname).lower()
            messages.append(f"  {ftype} {snake} = {n};")
        messages += ["  google.protobuf.Timestamp updated_at = 20;", "}", ""]
    lines += ["}", "", *messages]
    return "\n".join(lines).rstrip("\n") + "\n"


def _graphql(rng: random.Random, name: str, area: str) -> str:
    lines = [f"# {_title(name)} of the {area} area", "type Query {"]
    types: list[str] = []
    for obj in rng.sample(OBJECTS, k=rng.randint(2, 4)):
        model = _pascal(obj.rstrip("s"))
        lines.append(f"  {_camel(obj)}(first: Int, after: String): [{model}!]!")
        lines.append(f"  {_camel(obj.rstrip('s'))}(id: ID!): {model}")
        types.append(f"type {model} {{")
        types.append("  id: ID!")
        for fname in rng.sample(FIELD_NAMES, k=rng.randint(3, 6)):
            if fname != "id":
                types.append(f"  {fname}: {rng.choice(('String', 'Int', 'Float', 'Boolean'))}")
        types += ["}", ""]
    lines += ["}", "", *types]
    return "\n".join(lines).rstrip("\n") + "\n"


DEFINITIONS = {"openapi": _openapi, "asyncapi": _asyncapi, "grpc": _grpc, "graphql": _graphql}


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _docs_files(ent: Ent) -> dict[str, str]:
    """mkdocs.yml and docs/index.md for a component with a techdocs-ref (``with_docs``)."""
    ref = ent.doc["metadata"]["annotations"].get("backstage.io/techdocs-ref", "")
    base = ref.removeprefix("dir:.").strip("/")
    prefix = f"{base}/" if base else ""
    title = ent.doc["metadata"]["title"]
    desc = ent.doc["metadata"]["description"]
    return {
        f"{prefix}mkdocs.yml": (
            f"site_name: {title}\nnav:\n  - Home: index.md\n  - Runbook: runbook.md\n"
            "plugins:\n  - techdocs-core\n"
        ),
        f"{prefix}docs/index.md": f"# {title}\n\n{desc}\n\n## Getting started\n\n"
        "Clone the repository, then run `make dev`.\n",
        f"{prefix}docs/runbook.md": f"# Runbook\n\nOn-call notes for {title}.\n\n"
        "## Alerts\n\n- High error rate: check the dashboard, then roll back.\n",
    }


def generate(
    out_dir: Path,
    entities: int,
    seed: int = 1,
    *,
    problem_rate: float = 0.005,
    entities_per_repo: float = 5.0,
    with_docs: bool = False,
    clean: bool = True,
) -> dict[str, Any]:
    """Write a synthetic organisation of ``entities`` entities into ``out_dir``.

    ``out_dir`` is emptied first unless ``clean`` is false; it must then be empty or hold an
    earlier synthetic org (any other non-empty folder raises ``ValueError``).

    ``problem_rate`` is the share of entities given a deliberate problem: an owner that does
    not exist, or a ``dependsOn`` target that does not exist (half each). ``with_docs`` also
    writes ``mkdocs.yml`` and ``docs/*.md`` for every component with a techdocs-ref.

    Returns statistics: ``entities``, ``byKind``, ``repos``, ``files`` (catalog YAML files),
    ``bytes`` (of catalog YAML), ``problems``, ``seed``, ``version``, ``seconds`` (generation
    time), and ``docFiles`` when ``with_docs``.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    gen = _Generator(entities, seed, problem_rate, entities_per_repo)
    gen.build_org()
    gen.build_domains_and_systems()
    gen.build_components()
    gen.build_apis()
    gen.build_resources()
    gen.build_component_links()
    gen.add_problems()
    repos = gen.layout()

    if clean and out_dir.exists() and any(out_dir.iterdir()):
        marker = out_dir / "org" / "catalog-info.yaml"
        if not (marker.is_file() and f"name: {ORG}-org" in marker.read_text(errors="replace")):
            raise ValueError(f"{out_dir} is not empty and is not a synthetic org: not removing it")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    by_kind: dict[str, int] = {}
    files = total_bytes = doc_files = 0
    for repo, repo_files in repos.items():
        for rel, ents in repo_files:
            for ent in ents:
                by_kind[ent.kind] = by_kind.get(ent.kind, 0) + 1
            header = None
            if rel == "catalog-info.yaml" and len(ents) > 1:
                header = f"Catalog descriptors of {ORG}/{repo} ({len(ents)} entities)."
            data = to_yaml((e.doc for e in ents), header).encode()
            path = out_dir / repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files += 1
            total_bytes += len(data)
            if with_docs:
                for ent in ents:
                    if ent.kind == "Component" and "backstage.io/techdocs-ref" in ent.doc[
                        "metadata"
                    ].get("annotations", {}):
                        for doc_rel, text in _docs_files(ent).items():
                            doc_path = out_dir / repo / doc_rel
                            doc_path.parent.mkdir(parents=True, exist_ok=True)
                            doc_path.write_text(text, encoding="utf-8")
                            doc_files += 1
    stats: dict[str, Any] = {
        "entities": sum(by_kind.values()),
        "byKind": dict(sorted(by_kind.items())),
        "repos": len(repos),
        "files": files,
        "bytes": total_bytes,
        "problems": dict(gen.problems),
        "seed": seed,
        "version": GENERATOR_VERSION,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if with_docs:
        stats["docFiles"] = doc_files
    return stats


# Reference fields: (kind, field) → default kind of the target (None: the kind is required).
REF_FIELDS: dict[tuple[str, str], str | None] = {
    ("*", "owner"): "Group",
    ("Component", "system"): "System",
    ("API", "system"): "System",
    ("Resource", "system"): "System",
    ("Component", "subcomponentOf"): "Component",
    ("Component", "providesApis"): "API",
    ("Component", "consumesApis"): "API",
    ("Component", "dependsOn"): None,
    ("Resource", "dependsOn"): None,
    ("System", "domain"): "Domain",
    ("Domain", "subdomainOf"): "Domain",
    ("Group", "parent"): "Group",
    ("Group", "children"): "Group",
    ("Group", "members"): "User",
    ("User", "memberOf"): "Group",
}


def _parse_ref(ref: str, default_kind: str | None) -> tuple[str, str, str]:
    kind, _, rest = ref.rpartition(":") if ":" in ref else ("", "", ref)
    namespace, _, name = rest.rpartition("/") if "/" in rest else ("default", "", rest)
    kind = kind or default_kind or "?"
    return kind.lower(), namespace.lower(), name.lower()


def verify(out_dir: Path) -> dict[str, Any]:
    """Parse every catalog file under ``out_dir`` the way Backlot will and check the org.

    Reads each repository's ``catalog-info.yaml`` and the files matched by Location targets,
    parses them with ``yaml.CSafeLoader`` and checks that every scalar is a string (nothing
    that YAML 1.1 and 1.2 would read differently), that entity refs are unique and how many
    references resolve. Returns counts; raises ``AssertionError`` on a malformed org.
    """
    import yaml  # a Backlot dependency; imported here so generate() needs nothing else

    out_dir = Path(out_dir)
    files: list[Path] = []
    queue = sorted(p / "catalog-info.yaml" for p in out_dir.iterdir() if p.is_dir())
    entities: dict[tuple[str, str, str], Doc] = {}
    by_kind: dict[str, int] = {}
    total_bytes = 0

    def check_leaves(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                assert isinstance(key, str), f"{where}: non-string key {key!r}"
                check_leaves(value, where)
        elif isinstance(node, list):
            for item in node:
                check_leaves(item, where)
        else:
            assert isinstance(node, str), f"{where}: non-string scalar {node!r}"

    while queue:
        path = queue.pop(0)
        files.append(path)
        data = path.read_bytes()
        total_bytes += len(data)
        for doc in yaml.load_all(data, Loader=yaml.CSafeLoader):
            if doc is None:
                continue
            check_leaves(doc, str(path))
            kind, name = doc["kind"], doc["metadata"]["name"]
            key = (kind.lower(), "default", name.lower())
            assert key not in entities, f"{path}: duplicate entity {key}"
            entities[key] = doc
            by_kind[kind] = by_kind.get(kind, 0) + 1
            if kind == "Location":
                for target in [*doc["spec"].get("targets", []), doc["spec"].get("target")]:
                    if target:
                        matched = sorted(path.parent.glob(target))
                        assert matched, f"{path}: Location target {target} matches nothing"
                        queue.extend(matched)

    refs = resolved = 0
    unresolved: dict[str, int] = {}
    for doc in entities.values():
        for (kind, fld), default_kind in REF_FIELDS.items():
            if kind not in ("*", doc["kind"]) or fld not in doc["spec"]:
                continue
            value = doc["spec"][fld]
            for ref in value if isinstance(value, list) else [value]:
                refs += 1
                if _parse_ref(ref, default_kind) in entities:
                    resolved += 1
                else:
                    label = f"{doc['kind']}.spec.{fld}"
                    unresolved[label] = unresolved.get(label, 0) + 1
    return {
        "entities": len(entities),
        "byKind": dict(sorted(by_kind.items())),
        "files": len(files),
        "bytes": total_bytes,
        "refs": refs,
        "resolvedRefs": resolved,
        "unresolved": dict(sorted(unresolved.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="folder to write the repositories into (emptied)")
    parser.add_argument("--entities", "-n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--problem-rate", type=float, default=0.005)
    parser.add_argument("--entities-per-repo", type=float, default=5.0)
    parser.add_argument("--with-docs", action="store_true", help="also write TechDocs folders")
    parser.add_argument(
        "--verify", action="store_true", help="parse the result back and check references"
    )
    args = parser.parse_args(argv)
    stats = generate(
        args.out,
        args.entities,
        args.seed,
        problem_rate=args.problem_rate,
        entities_per_repo=args.entities_per_repo,
        with_docs=args.with_docs,
    )
    if args.verify:
        stats["verify"] = verify(args.out)
    json.dump(stats, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
