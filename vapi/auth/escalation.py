"""Escalation prevention, as kube's RBAC registry does it: nobody grants what they do not hold.

Writing a Role or ClusterRole is refused when its rules are not covered by the writer's own,
unless the writer may `escalate` roles; writing a binding is refused unless the writer may `bind`
the role it refers to or holds every rule of that role. Members of system:masters may do both.
A refusal is a 403 naming what the writer lacks, each missing rule broken down to one group,
resource and (resource name) and then compacted per group and resource, as kube words it.
"""
from __future__ import annotations

from admission.gofmt import go_quote

from .. import errors
from .authz import ALLOW, Attributes
from .rbac import GROUP, STORAGE_NAMES, RoleNotFound, RuleResolver, aggregate_errors
from .user import MASTERS, User

ROLE_KINDS = {"roles": "Role", "clusterroles": "ClusterRole"}
BINDING_KINDS = {"rolebindings": "RoleBinding", "clusterrolebindings": "ClusterRoleBinding"}
FULL_AUTHORITY = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                  {"verbs": ["*"], "nonResourceURLs": ["*"]}]
# Writes that only move an object towards its deletion are never escalations.
GC_FIELDS = ("ownerReferences", "finalizers", "managedFields", "resourceVersion")


def go_quote_list(values) -> str:
    return "[" + " ".join(go_quote(v) for v in values) + "]"


# --- covering, as kube's rbac validation.Covers ------------------------------------------------------

def breakdown(rule: dict) -> list[dict]:
    """One rule per (group, resource, verb[, name]) and per (URL, verb)."""
    out = []
    for group in rule.get("apiGroups") or ():
        for resource in rule.get("resources") or ():
            for verb in rule.get("verbs") or ():
                for name in rule.get("resourceNames") or [None]:
                    sub = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                    if name is not None:
                        sub["resourceNames"] = [name]
                    out.append(sub)
    for url in rule.get("nonResourceURLs") or ():
        for verb in rule.get("verbs") or ():
            out.append({"nonResourceURLs": [url], "verbs": [verb]})
    return out


def _covers_all(owned, wanted) -> bool:
    return "*" in owned or all(w in owned for w in wanted)


def _resources_covered(owned, wanted) -> bool:
    if _covers_all(owned, wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path or "*/" + path.split("/", 1)[1] not in owned:
            return False
    return True


def _url_covered(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def rule_covers(owner: dict, sub: dict) -> bool:
    owner_names, sub_names = owner.get("resourceNames") or [], sub.get("resourceNames") or []
    names = not owner_names or (bool(sub_names) and all(n in owner_names for n in sub_names))
    return (_covers_all(owner.get("verbs") or [], sub.get("verbs") or [])
            and _covers_all(owner.get("apiGroups") or [], sub.get("apiGroups") or [])
            and _resources_covered(owner.get("resources") or [], sub.get("resources") or [])
            and all(any(_url_covered(o, u) for o in owner.get("nonResourceURLs") or ())
                    for u in sub.get("nonResourceURLs") or ())
            and names)


def uncovered(owner_rules: list, wanted_rules: list) -> list[dict]:
    return [sub for rule in wanted_rules for sub in breakdown(rule)
            if not any(rule_covers(owner, sub) for owner in owner_rules)]


def compact(rules: list[dict]) -> list[dict]:
    """Simple rules (one group, one resource, at most one name) merged by their verbs."""
    merged: dict[tuple, dict] = {}
    out = []
    for rule in rules:
        simple = (not rule.get("nonResourceURLs") and len(rule.get("apiGroups") or []) == 1
                  and len(rule.get("resources") or []) == 1 and len(rule.get("resourceNames") or []) <= 1)
        if not simple:
            out.append(rule)
            continue
        key = (rule["apiGroups"][0], rule["resources"][0], tuple(rule.get("resourceNames") or ()))
        if key in merged:
            merged[key]["verbs"] += [v for v in rule["verbs"] if v not in merged[key]["verbs"]]
        else:
            merged[key] = {k: list(v) for k, v in rule.items()}
    return out + list(merged.values())


def compact_string(rule: dict) -> str:
    parts = [f"{label}:{go_quote_list(rule[key])}" for label, key in (
        ("APIGroups", "apiGroups"), ("Resources", "resources"), ("NonResourceURLs", "nonResourceURLs"),
        ("ResourceNames", "resourceNames"), ("Verbs", "verbs")) if rule.get(key)]
    return "{" + ", ".join(parts) + "}"


class EscalationCheck:
    """The check the pipeline runs on writes of RBAC objects (`check`), given the rule resolver and
    the authorizer the server uses."""

    def __init__(self, resolver: RuleResolver, authorizer):
        self.resolver = resolver
        self.authorizer = authorizer

    def _allowed(self, user: User, verb: str, resource: str, namespace: str, name: str) -> bool:
        attrs = Attributes(user, verb, True, namespace, GROUP, "*", resource, "", name, "")
        return self.authorizer.authorize(attrs)[0] == ALLOW

    def _not_held(self, user: User, namespace: str, rules: list) -> str | None:
        """kube's ConfirmNoEscalation: None when the user holds every rule, else why not."""
        owned, errs = self.resolver.rules_for(user, namespace, STORAGE_NAMES)
        missing = uncovered(owned, rules)
        if not missing:
            return None
        described = sorted({compact_string(r) for r in compact(missing)})
        msg = (f"user {go_quote(user.name)} (groups={go_quote_list(user.groups)}) is attempting to grant RBAC "
               "permissions not currently held:\n" + "\n".join(described))
        if errs:
            msg += f"; resolution errors: [{aggregate_errors(errs)}]"
        return msg

    def check(self, plural: str, namespace: str | None, obj: dict, old: dict | None, user: User | None,
              subresource: str | None = None) -> None:
        if subresource or user is None or MASTERS in user.groups:
            return  # the server's own writes, and the privileged group, as kube's EscalationAllowed
        if old is not None and _only_gc_fields(obj, old):
            return
        namespace = namespace or ""
        name = obj.get("metadata", {}).get("name") or ""
        resource = f"{plural}.{GROUP}"
        if plural in ROLE_KINDS:
            if self._allowed(user, "escalate", plural, namespace, name):
                return
            why = self._not_held(user, namespace, obj.get("rules") or [])
            if why is None and obj.get("aggregationRule") is not None \
                    and self._not_held(user, namespace, FULL_AUTHORITY) is not None:
                why = "must have cluster-admin privileges to use the aggregationRule"
        else:
            ref = obj.get("roleRef") or {}
            bound = ROLE_KINDS_BY_KIND.get(ref.get("kind"))
            if bound and self._allowed(user, "bind", bound, namespace, ref.get("name") or ""):
                return
            try:
                rules = self.resolver.role_rules(ref, namespace, STORAGE_NAMES)
            except RoleNotFound as e:
                raise _forbidden(resource, name, str(e)) from None
            why = self._not_held(user, namespace, rules)
        if why is not None:
            raise _forbidden(resource, name, why)


ROLE_KINDS_BY_KIND = {kind: plural for plural, kind in ROLE_KINDS.items()}


def _forbidden(resource: str, name: str, why: str) -> errors.StatusError:
    plural = resource.split(".", 1)[0]
    details = {"group": GROUP, "kind": plural}
    if name:
        details = {"name": name, **details}
    message = f'{resource} "{name}" is forbidden: {why}' if name else f"{resource} is forbidden: {why}"
    return errors.StatusError(403, "Forbidden", message, details)


def _only_gc_fields(obj: dict, old: dict) -> bool:
    def without(o: dict) -> dict:
        meta = {k: v for k, v in (o.get("metadata") or {}).items() if k not in GC_FIELDS}
        return {**o, "metadata": meta}
    return without(obj) == without(old)
