"""Which requests a webhook or an admission policy is for: rules (operations, groups, versions,
resources with subresources, scope), namespace and object selectors, as kube's
admission/plugin/webhook/predicates judge them. Shared by webhooks and policies.

matchPolicy Equivalent: a rule naming another version of the same group and resource matches too.
Every resource is served here in one version only, so the object is sent in that version (kube
would convert it to the version the rule names).
"""
from __future__ import annotations

from ..chain import Attributes
from ..validation.rules.meta import selector_matches

# The configurations no webhook and no policy is ever called for, so that none can lock itself in.
REGISTRATION = "admissionregistration.k8s.io"
CONFIG_RESOURCES = frozenset(("mutatingwebhookconfigurations", "validatingwebhookconfigurations",
                              "validatingadmissionpolicies", "validatingadmissionpolicybindings",
                              "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"))


def is_configuration(attrs: Attributes) -> bool:
    return attrs.group == REGISTRATION and attrs.resource in CONFIG_RESOURCES


def _listed(values, value: str) -> bool:
    values = values or []
    return "*" in values or value in values


def _resource_listed(resources, resource: str, subresource: str) -> bool:
    """`pods` matches only pods, `pods/status` one subresource, `*/status` it for every resource,
    `pods/*` pods and each of its subresources, `*` every resource but no subresource, `*/*` all."""
    for entry in resources or []:
        name, _, sub = str(entry).partition("/")
        if name not in ("*", resource):
            continue
        if (not subresource and not sub) or sub == "*" or (subresource and sub == subresource):
            return True
    return False


def rule_matches(rule: dict, attrs: Attributes, equivalent: bool = False) -> bool:
    operations = rule.get("operations") or []
    if "*" not in operations and attrs.operation not in operations:
        return False
    if not _listed(rule.get("apiGroups"), attrs.group):
        return False
    if not equivalent and not _listed(rule.get("apiVersions"), attrs.version):
        return False
    if not _resource_listed(rule.get("resources"), attrs.resource, attrs.subresource):
        return False
    scope = rule.get("scope") or "*"
    # Namespaces themselves are cluster-scoped (kube's rule for scope matching).
    namespaced = bool(attrs.namespace) and not (attrs.group == "" and attrs.resource == "namespaces")
    return scope == "*" or (scope == "Namespaced") == namespaced


def rules_match(rules, attrs: Attributes, match_policy: str | None) -> bool:
    rules = rules or []
    if any(rule_matches(r, attrs) for r in rules):
        return True
    return match_policy != "Exact" and any(rule_matches(r, attrs, equivalent=True) for r in rules)


def _labels(obj) -> dict:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return (meta or {}).get("labels") or {} if isinstance(meta, dict) else {}


def object_selected(selector, attrs: Attributes) -> bool:
    """The object, or the one it replaces, carries the labels the selector asks for (an empty
    selector takes everything)."""
    if not selector:
        return True
    return any(selector_matches(selector, _labels(obj)) for obj in (attrs.object, attrs.old_object)
               if obj is not None)


def namespace_selected(selector, attrs: Attributes, namespace: dict | None) -> bool:
    """Cluster-scoped objects are not in a namespace, so every selector takes them; a namespace is
    judged by its own labels; a namespaced object by its namespace's."""
    if not selector:
        return True
    if attrs.group == "" and attrs.resource == "namespaces":
        return any(selector_matches(selector, _labels(obj)) for obj in (attrs.object, attrs.old_object)
                   if obj is not None)
    if not attrs.namespace:
        return True
    return selector_matches(selector, _labels(namespace))


def _named_rules_match(rules, attrs: Attributes, match_policy: str | None) -> bool:
    """NamedRuleWithOperations: a rule with resourceNames is for those names only."""
    name = attrs.name or ((attrs.object or {}).get("metadata") or {}).get("name") or ""
    named = [r for r in rules or [] if isinstance(r, dict) and (not r.get("resourceNames") or name in r["resourceNames"])]
    return rules_match(named, attrs, match_policy)


def resources_match(match: dict | None, attrs: Attributes, namespace: dict | None) -> bool:
    """A policy's matchConstraints or a binding's matchResources (None: everything the policy
    takes). Exclusions win over rules."""
    if match is None:
        return True
    policy = match.get("matchPolicy")
    if match.get("resourceRules") is not None and not _named_rules_match(match["resourceRules"], attrs, policy):
        return False
    if _named_rules_match(match.get("excludeResourceRules"), attrs, policy):
        return False
    return object_selected(match.get("objectSelector"), attrs) and \
        namespace_selected(match.get("namespaceSelector"), attrs, namespace)
