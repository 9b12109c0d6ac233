"""Review kinds: questions posted to the server and answered in their status, never stored.

`kubectl auth can-i` posts a SelfSubjectAccessReview, `kubectl auth whoami` a SelfSubjectReview.
Access reviews ask the server's own authorizer, rules reviews its RBAC rule resolver and token
reviews its bearer-token authenticators, all handed in by the composition root as `Reviewers`
(per server, never module state), so the answers are what that server really does.
"""
from __future__ import annotations

from dataclasses import dataclass

from admission.gofmt import go_quote

from .. import errors
from .authz import ALLOW, DENY, Attributes
from .rbac import aggregate_errors
from .user import User, user_info


@dataclass
class Reviewers:
    """What answers reviews: the authorizer, the RBAC rule resolver, the bearer-token authenticators."""
    authorizer: object = None
    resolver: object = None
    tokens: object = None


def _invalid(kind: str, field: str, shown: str, detail: str) -> errors.StatusError:
    """kube's NewInvalid for a review kind: one field's cause, the kind and group in the details."""
    cause = f"Invalid value: {shown}: {detail}"
    return errors.StatusError(422, "Invalid", f'{kind}.authorization.k8s.io "" is invalid: {field}: {cause}',
                              {"group": "authorization.k8s.io", "kind": kind,
                               "causes": [{"reason": "FieldValueInvalid", "message": cause, "field": field}]})


def _access(obj: dict, user, namespace: str | None, reviewers: Reviewers) -> dict:
    spec = obj.get("spec") or {}
    kind = obj.get("kind") or ""
    attrs = spec.get("resourceAttributes") or {}
    if not attrs and not spec.get("nonResourceAttributes"):
        raise _invalid(kind, "spec.resourceAttributes", '"null"',
                       "exactly one of nonResourceAttributes or resourceAttributes must be specified")
    if namespace is not None and attrs and (attrs.get("namespace") or "") != namespace:
        raise _invalid(kind, "spec.resourceAttributes.namespace", go_quote(attrs.get("namespace") or ""),
                       "must match metadata.namespace")
    if kind != "SelfSubjectAccessReview":
        if not spec.get("user") and not spec.get("groups"):
            raise _invalid(kind, "spec.user", '""', "at least one of user or group must be specified")
        user = User(spec.get("user") or "", list(spec.get("groups") or ()), spec.get("uid") or "",
                    dict(spec.get("extra") or {}))
    if attrs:
        asked = Attributes(user, attrs.get("verb") or "", True, attrs.get("namespace") or "",
                           attrs.get("group") or "", attrs.get("version") or "*", attrs.get("resource") or "",
                           attrs.get("subresource") or "", attrs.get("name") or "", "")
    else:
        non_resource = spec["nonResourceAttributes"]
        asked = Attributes(user, non_resource.get("verb") or "", False, path=non_resource.get("path") or "")
    decision, reason = reviewers.authorizer.authorize(asked)
    status = {"allowed": decision == ALLOW}
    if decision == DENY:
        status["denied"] = True
    if reason:
        status["reason"] = reason
    return status


def _rules(obj: dict, user, namespace, reviewers: Reviewers) -> dict:
    """What the user may do in spec.namespace, rule by rule as RBAC holds them (kube's RulesFor)."""
    namespace = (obj.get("spec") or {}).get("namespace") or ""
    if not namespace:
        raise errors.bad_request("no namespace on request")
    rules, errs = reviewers.resolver.rules_for(user, namespace)
    resource_rules, non_resource_rules = [], []
    for rule in rules:
        if rule.get("resources"):
            resource_rules.append({k: list(rule[k]) for k in ("verbs", "apiGroups", "resources", "resourceNames")
                                   if rule.get(k) or k == "verbs"})
        if rule.get("nonResourceURLs"):
            non_resource_rules.append({"verbs": list(rule.get("verbs") or ()),
                                       "nonResourceURLs": list(rule["nonResourceURLs"])})
    status = {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": False}
    if errs:
        status["evaluationError"] = aggregate_errors(errs)
    return status


def _whoami(obj: dict, user, namespace, reviewers: Reviewers) -> dict:
    return {"userInfo": user_info(user)}


def _token(obj: dict, user, namespace, reviewers: Reviewers) -> dict:
    """Whom a bearer token names, for the audiences asked (the server's own when none are), as
    kube's TokenReview answers through the same authenticators requests meet."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    token = spec.get("token")
    if not token:
        raise errors.bad_request("token is required for TokenReview in authentication")
    tokens = reviewers.tokens
    if tokens is None:
        return {"user": {}}
    reviewed, audiences, why = tokens.review(str(token), list(spec.get("audiences") or tokens.audiences))
    if reviewed is None:
        return {"user": {}, "error": why}
    return {"authenticated": True, "user": user_info(reviewed), "audiences": audiences}


REVIEWS = {
    ("authorization.k8s.io", "selfsubjectaccessreviews"): _access,
    ("authorization.k8s.io", "subjectaccessreviews"): _access,
    ("authorization.k8s.io", "localsubjectaccessreviews"): _access,
    ("authorization.k8s.io", "selfsubjectrulesreviews"): _rules,
    ("authentication.k8s.io", "selfsubjectreviews"): _whoami,
    ("authentication.k8s.io", "tokenreviews"): _token,
}


def answer(info, obj: dict, user, namespace: str | None, reviewers: Reviewers) -> dict:
    """The review with its status filled in, as the server would return it from a create."""
    obj["status"] = REVIEWS[(info.group, info.plural)](obj, user, namespace if info.namespaced else None,
                                                       reviewers)
    obj.setdefault("metadata", {})
    return obj
