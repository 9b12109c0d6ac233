"""The registry of kinds: what this server serves, built from data.

Built-in resources come from `resources.BUILTIN` filtered by the schemas of the served Kubernetes
version; CustomResourceDefinitions add and remove entries at run time. Discovery, OpenAPI and the
request router all read this one registry, so they never disagree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from admission.schemas import Schemas
from . import builtin as resources
from . import strategies

# kube-apiserver lists groups in this order (its group priorities); kubectl api-resources follows it.
GROUP_ORDER = [
    "", "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
    "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io",
    "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io",
    "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io",
    "discovery.k8s.io", "flowcontrol.apiserver.k8s.io",
]


@dataclass
class ResourceInfo:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    # subresource name -> (group, version, kind) it speaks, or None for the parent's kind
    subresources: dict = field(default_factory=dict)
    singular: str = ""
    schema_name: str | None = None
    storage_version: str = ""
    # A CustomResourceDefinition's version entry, for custom resources.
    crd: dict | None = None
    # How this resource behaves: set once by the registry that serves it.
    strategy: "strategies.Strategy | None" = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.singular = self.singular or self.kind.lower()
        self.storage_version = self.storage_version or self.version

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def stored_as(self) -> tuple[str, str]:
        """The (group, plural) whose keys hold this resource's objects: its own, unless it is
        another resource's view (events.k8s.io Events)."""
        other = self.strategy.stored_as if self.strategy is not None else None
        return other or (self.group, self.plural)

    def key(self, namespace: str | None, name: str = "") -> str:
        """The storage key; all versions of a resource share it."""
        group, plural = self.stored_as
        return f"/{group}/{plural}/{namespace or ''}/{name}"

    def prefix(self, namespace: str | None = None) -> str:
        group, plural = self.stored_as
        if namespace:
            return f"/{group}/{plural}/{namespace}/"
        return f"/{group}/{plural}/"


class Registry:
    def __init__(self, schemas: Schemas):
        self.schemas = schemas
        self._by_gvr: dict[tuple[str, str, str], ResourceInfo] = {}
        self._by_gvk: dict[tuple[str, str, str], ResourceInfo] = {}
        # Bumped on every change, so discovery and OpenAPI documents know when to rebuild.
        self.generation = 0
        for (group, versions, plural, kind, namespaced, short, cats, subs, verbs) in resources.BUILTIN:
            for version in versions:
                name = schemas.name_for(group, version, kind)
                if name is None:
                    continue
                self.add(ResourceInfo(group, version, plural, kind, namespaced, verbs, short, cats,
                                      dict(subs), schema_name=name, storage_version=versions[0]))
        for (group, versions, plural, kind, namespaced, short, cats, subs, verbs) in resources.COMPUTED:
            for version in versions:
                schema = f"{resources.COMPUTED_SCHEMA_PACKAGES[group]}.{version}.{kind}"
                self.add(ResourceInfo(group, version, plural, kind, namespaced, verbs, short, cats, dict(subs),
                                      schema_name=schema))

    def add(self, info: ResourceInfo) -> None:
        info.strategy = strategies.for_resource(info, self.schemas)
        self._by_gvr[(info.group, info.version, info.plural)] = info
        self._by_gvk[(info.group, info.version, info.kind)] = info
        self.generation += 1

    def remove(self, info: ResourceInfo) -> None:
        self._by_gvr.pop((info.group, info.version, info.plural), None)
        self._by_gvk.pop((info.group, info.version, info.kind), None)
        self.generation += 1

    def get(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        return self._by_gvr.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceInfo | None:
        return self._by_gvk.get((group, version, kind))

    def all(self) -> list[ResourceInfo]:
        return list(self._by_gvr.values())

    def groups(self) -> list[tuple[str, list[str]]]:
        """(group, versions with the preferred first), in kube-apiserver's order."""
        versions: dict[str, list[str]] = {}
        for info in self._by_gvr.values():
            vs = versions.setdefault(info.group, [])
            if info.version not in vs:
                vs.append(info.version)
        rank = {g: i for i, g in enumerate(GROUP_ORDER)}
        ordered = sorted(versions, key=lambda g: (rank.get(g, len(rank)), g))
        return [(g, sorted(versions[g], key=version_priority)) for g in ordered]

    def in_group_version(self, group: str, version: str) -> list[ResourceInfo]:
        return [i for i in self._by_gvr.values() if i.group == group and i.version == version]


class GenerationCache:
    """Values derived from the registry, kept until the registry changes (a CRD comes or goes)."""

    def __init__(self, registry: "Registry"):
        self.registry = registry
        self._generation = -1
        self._values: dict = {}

    def get(self, key, build):
        if self._generation != self.registry.generation:
            self._values.clear()
            self._generation = self.registry.generation
        if key not in self._values:
            self._values[key] = build()
        return self._values[key]


def version_priority(version: str):
    """Kubernetes' version ordering: GA before beta before alpha, higher numbers first."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (3, 0, 0, version)
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stage, -int(m.group(1)), -int(m.group(3) or 0), version)
