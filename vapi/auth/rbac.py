"""RBAC, evaluated as kube's RBAC authorizer does: bindings name subjects and a role, roles hold rules.

ClusterRoleBindings apply everywhere, RoleBindings in their namespace (to a Role there or to a
ClusterRole's rules in that namespace). A request is allowed when one rule of one role bound to
the user matches it; otherwise RBAC has no opinion, and its reason lists the role references it
could not resolve. Members of system:masters are always allowed, as kube's privileged-group
authorizer allows them before RBAC is asked.

Roles and bindings are read through callables the composition root hands in (the shared informers'
caches). What a user holds is worked out once per (user, groups, namespace) and kept until any
role or binding changes, so a request costs a dictionary look-up and a walk over the user's rules.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .authz import ALLOW, NO_OPINION, Attributes, Authorizer
from .user import MASTERS, User

GROUP = "rbac.authorization.k8s.io"
SA_PREFIX = "system:serviceaccount:"
MAX_CACHED_USERS = 2048


def split_sa_username(name: str) -> tuple[str, str] | None:
    """(namespace, name) of a service account's user name, as kube's serviceaccount.SplitUsername."""
    if not name.startswith(SA_PREFIX):
        return None
    namespace, sep, sa = name[len(SA_PREFIX):].partition(":")
    if not sep or not namespace or not sa or ":" in sa:
        return None
    return namespace, sa


def sa_groups(namespace: str) -> list[str]:
    return ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]


# --- rule matching, as kube's rbac.RuleAllows -------------------------------------------------------

def _has(values, wanted: str, star: str = "*") -> bool:
    return star in values or wanted in values


def resource_matches(rule_resources, combined: str, subresource: str) -> bool:
    for r in rule_resources:
        if r == "*" or r == combined:
            return True
        if subresource and r == "*/" + subresource:
            return True
    return False


def url_matches(rule_urls, path: str) -> bool:
    for u in rule_urls:
        if u == "*" or u == path or (u.endswith("*") and path.startswith(u.rstrip("*"))):
            return True
    return False


def rule_allows(attrs: Attributes, rule: dict) -> bool:
    if not _has(rule.get("verbs") or (), attrs.verb):
        return False
    if not attrs.resource_request:
        return url_matches(rule.get("nonResourceURLs") or (), attrs.path)
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    names = rule.get("resourceNames") or ()
    return (_has(rule.get("apiGroups") or (), attrs.group)
            and resource_matches(rule.get("resources") or (), combined, attrs.subresource)
            and (not names or attrs.name in names))


# --- who a binding names ------------------------------------------------------------------------

def _subject_keys(user: User) -> list[tuple]:
    keys = [("User", user.name)] + [("Group", g) for g in user.groups]
    sa = split_sa_username(user.name)
    if sa:
        keys.append(("ServiceAccount",) + sa)
    return keys


def _subject_key(subject: dict, binding_namespace: str) -> tuple | None:
    kind, name = subject.get("kind"), subject.get("name") or ""
    if kind in ("User", "Group"):
        return kind, name
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return ("ServiceAccount", namespace, name) if namespace else None
    return None


def describe_subject(subject: dict, binding_namespace: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject.get("name")}/{subject.get("namespace") or binding_namespace}"'
    return f'{subject.get("kind")} "{subject.get("name")}"'


def describe_binding(binding: dict, subject: dict) -> str:
    meta, ref = binding["metadata"], binding.get("roleRef") or {}
    namespace = meta.get("namespace") or ""
    if namespace:
        return (f'RoleBinding "{meta["name"]}/{namespace}" of {ref.get("kind")} "{ref.get("name")}" '
                f"to {describe_subject(subject, namespace)}")
    return (f'ClusterRoleBinding "{meta["name"]}" of {ref.get("kind")} "{ref.get("name")}" '
            f"to {describe_subject(subject, '')}")


@dataclass(slots=True)
class Grant:
    """The rules one binding gives the user, and which binding it was (for the allow reason)."""
    source: str
    rules: list


class RoleNotFound(Exception):
    pass


# The authorizer reads listers, whose errors name the singular resource; the registry's own rule
# resolution (escalation checks) reads storage, whose errors name the plural.
LISTER_NAMES = {"Role": "role", "ClusterRole": "clusterrole"}
STORAGE_NAMES = {"Role": "roles", "ClusterRole": "clusterroles"}


class RuleResolver:
    """What rules a user holds in a namespace: kube's DefaultRuleResolver over informer caches."""

    def __init__(self, get: Callable[[str, str | None, str], dict | None],
                 list_all: Callable[[str], list[dict]]):
        self._get = get
        self._list_all = list_all
        self._index: dict | None = None
        self._cache: dict[tuple, tuple[list[Grant], list[str]]] = {}

    def invalidate(self) -> None:
        self._index = None
        self._cache.clear()

    async def changed(self, event_type: str, obj: dict, prev: dict | None) -> None:
        """An informer handler: any change to a role or binding drops what was worked out."""
        self.invalidate()

    async def resynced(self) -> None:
        self.invalidate()

    def _build_index(self) -> dict:
        # (namespace or None) -> subject key -> [(binding, subject)], in name order.
        index: dict = {}
        for plural in ("clusterrolebindings", "rolebindings"):
            bindings = sorted(self._list_all(plural), key=lambda b: (b["metadata"].get("namespace") or "",
                                                                     b["metadata"]["name"]))
            for binding in bindings:
                namespace = binding["metadata"].get("namespace") if plural == "rolebindings" else None
                if plural == "rolebindings" and not namespace:
                    continue
                for position, subject in enumerate(binding.get("subjects") or ()):
                    key = _subject_key(subject, namespace or "")
                    if key is not None:
                        index.setdefault(namespace, {}).setdefault(key, []).append((binding, position))
        return index

    def role_rules(self, ref: dict, namespace: str, names: dict = LISTER_NAMES) -> list:
        """The rules a roleRef points at, as kube's GetRoleReferenceRules; RoleNotFound if missing."""
        kind, name = ref.get("kind"), ref.get("name") or ""
        if kind == "ClusterRole":
            role = self._get("clusterroles", None, name)
        elif kind == "Role":
            role = self._get("roles", namespace, name)
        else:
            raise RoleNotFound(f'unsupported role reference kind: "{kind}"')
        if role is None:
            raise RoleNotFound(f'{names[kind]}.{GROUP} "{name}" not found')
        return list(role.get("rules") or ())

    def _bindings_for(self, user: User, namespace: str | None) -> list[tuple[dict, dict]]:
        if self._index is None:
            self._index = self._build_index()
        by_subject = self._index.get(namespace, {})
        # binding -> the first of its subjects that names the user (kube describes that one)
        first: dict[int, tuple[dict, int]] = {}
        for key in _subject_keys(user):
            for binding, position in by_subject.get(key, ()):
                if id(binding) not in first or position < first[id(binding)][1]:
                    first[id(binding)] = (binding, position)
        found = sorted(first.values(), key=lambda pair: pair[0]["metadata"]["name"])
        return [(binding, binding["subjects"][position]) for binding, position in found]

    def grants(self, user: User, namespace: str = "", names: dict = LISTER_NAMES) -> tuple[list[Grant], list[str]]:
        """(what each of the user's bindings grants, errors resolving them): cluster-wide first,
        then the namespace's, as kube visits them."""
        key = (user.name, tuple(user.groups), namespace, names is LISTER_NAMES)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        grants, errs = [], []
        scopes = [(None, "")] + ([(namespace, namespace)] if namespace else [])
        for scope, ns in scopes:
            for binding, subject in self._bindings_for(user, scope):
                try:
                    rules = self.role_rules(binding.get("roleRef") or {}, ns, names)
                except RoleNotFound as e:
                    errs.append(str(e))
                    continue
                grants.append(Grant(describe_binding(binding, subject), rules))
        if len(self._cache) >= MAX_CACHED_USERS:
            self._cache.clear()
        self._cache[key] = (grants, errs)
        return grants, errs

    def rules_for(self, user: User, namespace: str = "", names: dict = LISTER_NAMES) -> tuple[list, list[str]]:
        grants, errs = self.grants(user, namespace, names)
        return [rule for grant in grants for rule in grant.rules], errs


def aggregate_errors(errs: list[str]) -> str:
    """utilerrors.NewAggregate's wording: one error as itself, several in brackets, repeats dropped."""
    unique = list(dict.fromkeys(errs))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


class RBACAuthorizer(Authorizer):
    def __init__(self, resolver: RuleResolver):
        self.resolver = resolver

    def authorize(self, attrs: Attributes) -> tuple[str, str]:
        if MASTERS in attrs.user.groups:
            return ALLOW, ""
        grants, errs = self.resolver.grants(attrs.user, attrs.namespace)
        for grant in grants:
            for rule in grant.rules:
                if rule_allows(attrs, rule):
                    return ALLOW, f"RBAC: allowed by {grant.source}"
        return NO_OPINION, f"RBAC: {aggregate_errors(errs)}" if errs else ""
