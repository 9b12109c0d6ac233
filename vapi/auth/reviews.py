"""Review kinds: questions posted to the server and answered in their status, never stored.

`kubectl auth can-i` posts a SelfSubjectAccessReview, `kubectl auth whoami` a SelfSubjectReview.
Until RBAC arrives the server authorizes every authenticated request, so access reviews answer
what the server really does: allowed.
"""
from __future__ import annotations

from .. import errors

ALLOWED_REASON = "no authorizer configured: every authenticated user is allowed"


def _user_info(user) -> dict:
    info = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        info["uid"] = user.uid
    if user.extra:
        info["extra"] = user.extra
    return info


def _access(obj: dict, user, namespace: str | None) -> dict:
    spec = obj.get("spec") or {}
    attrs = spec.get("resourceAttributes") or {}
    if not attrs and not spec.get("nonResourceAttributes"):
        raise errors.StatusError(422, "Invalid", f'{obj.get("kind")}.authorization.k8s.io "" is invalid: '
                                 "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                                 "nonResourceAttributes or resourceAttributes must be specified")
    if namespace is not None and attrs.get("namespace", namespace) != namespace:
        raise errors.StatusError(422, "Invalid", f'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: '
                                 f"spec.resourceAttributes.namespace: Invalid value: {attrs.get('namespace')!r}: "
                                 "must match metadata.namespace")
    return {"allowed": True, "reason": ALLOWED_REASON}


def _rules(obj: dict, user, namespace) -> dict:
    return {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}


def _whoami(obj: dict, user, namespace) -> dict:
    return {"userInfo": _user_info(user)}


def _token(obj: dict, user, namespace, tokens=None) -> dict:
    """Whom a bearer token names, for the audiences asked (the server's own when none are), as
    kube's TokenReview answers through the same authenticators requests meet."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    token = spec.get("token")
    if not token:
        raise errors.bad_request("token is required for TokenReview in authentication")
    if tokens is None:
        return {"user": {}}
    reviewed, audiences, why = tokens.review(str(token), list(spec.get("audiences") or tokens.audiences))
    if reviewed is None:
        return {"user": {}, "error": why}
    return {"authenticated": True, "user": _user_info(reviewed), "audiences": audiences}


REVIEWS = {
    ("authorization.k8s.io", "selfsubjectaccessreviews"): _access,
    ("authorization.k8s.io", "subjectaccessreviews"): _access,
    ("authorization.k8s.io", "localsubjectaccessreviews"): _access,
    ("authorization.k8s.io", "selfsubjectrulesreviews"): _rules,
    ("authentication.k8s.io", "selfsubjectreviews"): _whoami,
    ("authentication.k8s.io", "tokenreviews"): _token,
}


def answer(info, obj: dict, user, namespace: str | None, tokens=None) -> dict:
    """The review with its status filled in, as the server would return it from a create."""
    if isinstance(obj.get("spec"), dict) and (info.group, info.plural) == ("authorization.k8s.io",
                                                                          "selfsubjectaccessreviews"):
        obj["spec"].setdefault("user", user.name)
    review = REVIEWS[(info.group, info.plural)]
    if review is _token:
        obj["status"] = _token(obj, user, None, tokens)
    else:
        obj["status"] = review(obj, user, namespace if info.namespaced else None)
    obj.setdefault("metadata", {})
    return obj
