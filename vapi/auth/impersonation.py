"""Impersonation: `Impersonate-*` headers make a request act as another user, as kube's filter does.

Every part asked for (the user or service account, each group, each extra value, the UID) is put
to the authorizer as the `impersonate` verb on users, serviceaccounts, groups, userextras/<key> or
uids; the first refusal is a 403 worded as kube's, and the request goes no further. Groups not
given are a service account's own; system:authenticated (system:unauthenticated for
system:anonymous) is added as kube adds it.
"""
from __future__ import annotations

from urllib.parse import unquote

from .. import errors
from .authz import ALLOW, Attributes
from .rbac import sa_groups, split_sa_username
from .user import ANONYMOUS, AUTHENTICATED, UNAUTHENTICATED, User

USER_HEADER = "Impersonate-User"
GROUP_HEADER = "Impersonate-Group"
UID_HEADER = "Impersonate-Uid"
EXTRA_PREFIX = "impersonate-extra-"
AUTHENTICATION = "authentication.k8s.io"


def _requests(headers) -> list[tuple[str, str, str, str]]:
    """(resource, api group, namespace, name or key=value) per part asked for, in kube's order."""
    asked = []
    username = headers.get(USER_HEADER, "")
    if username:
        sa = split_sa_username(username)
        asked.append(("serviceaccounts", "", sa[0], sa[1]) if sa else ("users", "", "", username))
    asked += [("groups", "", "", g) for g in headers.getall(GROUP_HEADER, [])]
    for header in dict.fromkeys(h for h in headers.keys() if h.lower().startswith(EXTRA_PREFIX)):
        key = unquote(header[len(EXTRA_PREFIX):].lower())
        asked += [("userextras/" + key, AUTHENTICATION, "", v) for v in headers.getall(header, [])]
    uid = headers.get(UID_HEADER, "")
    if uid:
        asked.append(("uids", AUTHENTICATION, "", uid))
    return asked


def _object_reference(resource: str, group: str, namespace: str, value: str) -> str:
    """How Go prints the v1.ObjectReference kube's filter builds for one part (%v of the struct)."""
    kind = {"groups": "Group", "uids": "UID"}.get(resource, "UserExtra")
    api_version = "authentication.k8s.io/v1" if group else ""
    field_path = resource.partition("/")[2]
    return "{" + " ".join((kind, namespace, value, "", api_version, "", field_path)) + "}"


class ImpersonationError(Exception):
    """Groups, extras or a UID without a user: kube answers a plain-text 500 (responsewriters.InternalError)."""


def impersonate(headers, requestor: User, authorizer) -> User:
    """The user the request acts as: `requestor` itself when it asks for nobody else."""
    asked = _requests(headers)
    if not asked:
        return requestor
    if not headers.get(USER_HEADER, ""):
        parts = " ".join(_object_reference(*a) for a in asked)
        raise ImpersonationError(f"requested [{parts}] without impersonating a user")
    name, groups, extra, uid = "", [], {}, ""
    groups_given = bool(headers.getall(GROUP_HEADER, []))
    for resource, group, namespace, value in asked:
        resource, _, subresource = resource.partition("/")
        attrs = Attributes(requestor, "impersonate", True, namespace, group, "", resource, subresource, value, "")
        decision, reason = authorizer.authorize(attrs)
        if decision != ALLOW:
            raise errors.forbidden_request(attrs, requestor, reason)
        if resource == "serviceaccounts":
            name = f"system:serviceaccount:{namespace}:{value}"
            if not groups_given:
                groups = sa_groups(namespace)
        elif resource == "users":
            name = value
        elif resource == "groups":
            groups.append(value)
        elif resource == "userextras":
            extra.setdefault(subresource, []).append(value)
        else:
            uid = value
    if name != ANONYMOUS:
        if AUTHENTICATED not in groups and UNAUTHENTICATED not in groups:
            groups.append(AUTHENTICATED)
    elif UNAUTHENTICATED not in groups:
        groups.append(UNAUTHENTICATED)
    return User(name, groups, uid, extra)
