"""The rules of rbac.authorization.k8s.io (pkg/apis/rbac/validation): the policy rules of Roles and
ClusterRoles, ClusterRole aggregation, and bindings with their role references and subjects.
"""
from __future__ import annotations

from admission.gofmt import Go, go_quote
from admission.validation.fielderrors import Causes, child
from admission.validation.names import is_dns1123_subdomain, is_path_segment_name
from admission.validation.objects import as_dict, as_list
from admission.validation.rules.meta import validate_label_selector

RBAC = "rbac.authorization.k8s.io"


def _go_role_ref(ref: dict | None) -> Go:
    ref = ref or {}
    return Go(f"rbac.RoleRef{{APIGroup:{go_quote(ref.get('apiGroup') or '')}, Kind:{go_quote(ref.get('kind') or '')}, "
              f"Name:{go_quote(ref.get('name') or '')}}}")


def _policy_rules(c: Causes, rules, namespaced: bool) -> None:
    for i, rule in enumerate(as_list(rules)):
        rule, at = as_dict(rule), child("rules", i)
        if not rule.get("verbs"):
            c.required(child(at, "verbs"), "verbs must contain at least one value")
        if rule.get("nonResourceURLs"):
            if namespaced:
                c.invalid(child(at, "nonResourceURLs"), rule["nonResourceURLs"],
                          "namespaced rules cannot apply to non-resource URLs")
            if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
                c.invalid(child(at, "nonResourceURLs"), rule["nonResourceURLs"],
                          "rules cannot apply to both regular resources and non-resource URLs")
            continue
        if not rule.get("apiGroups"):
            c.required(child(at, "apiGroups"), "resource rules must supply at least one api group")
        if not rule.get("resources"):
            c.required(child(at, "resources"), "resource rules must supply at least one resource")


def validate_role(c: Causes, obj: dict, old: dict | None) -> None:
    _policy_rules(c, obj.get("rules"), namespaced=True)


def validate_cluster_role(c: Causes, obj: dict, old: dict | None) -> None:
    _policy_rules(c, obj.get("rules"), namespaced=False)
    aggregation = obj.get("aggregationRule")
    if isinstance(aggregation, dict):
        selectors = as_list(aggregation.get("clusterRoleSelectors"))
        if not selectors:
            c.required("aggregationRule.clusterRoleSelectors",
                       "at least one clusterRoleSelector required if aggregationRule is non-nil")
        for i, selector in enumerate(selectors):
            validate_label_selector(c, selector, child("aggregationRule.clusterRoleSelectors", i))


def _binding(c: Causes, obj: dict, old: dict | None, role_kinds: list[str], namespaced: bool) -> None:
    ref = as_dict(obj.get("roleRef"))
    if ref.get("apiGroup") != RBAC:
        c.not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [RBAC])
    if ref.get("kind") not in role_kinds:
        c.not_supported("roleRef.kind", ref.get("kind") or "", role_kinds)
    if not ref.get("name"):
        c.required("roleRef.name")
    else:
        c.check("roleRef.name", ref["name"], is_path_segment_name)
    for i, subject in enumerate(as_list(obj.get("subjects"))):
        _subject(c, as_dict(subject), namespaced, child("subjects", i))
    if old is not None and as_dict(old.get("roleRef")) != ref:
        c.invalid("roleRef", _go_role_ref(ref), "cannot change roleRef")


def _subject(c: Causes, subject: dict, namespaced: bool, path: str) -> None:
    name, kind, group = subject.get("name") or "", subject.get("kind") or "", subject.get("apiGroup") or ""
    if not name:
        c.required(child(path, "name"))
    if kind == "ServiceAccount":
        if name:
            c.check(child(path, "name"), name, is_dns1123_subdomain)
        if group:
            c.not_supported(child(path, "apiGroup"), group, [""])
        if not namespaced and not subject.get("namespace"):
            c.required(child(path, "namespace"))
    elif kind in ("User", "Group"):
        if group != RBAC:
            c.not_supported(child(path, "apiGroup"), group, [RBAC])
    else:
        c.not_supported(child(path, "kind"), kind, ["ServiceAccount", "User", "Group"])


def validate_role_binding(c: Causes, obj: dict, old: dict | None) -> None:
    _binding(c, obj, old, ["Role", "ClusterRole"], namespaced=True)


def validate_cluster_role_binding(c: Causes, obj: dict, old: dict | None) -> None:
    _binding(c, obj, old, ["ClusterRole"], namespaced=False)
