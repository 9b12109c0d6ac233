"""What a request asks for, read off its method, path and query as kube's RequestInfoFactory does.

Authorization, audit and the resource handlers all read the same `RequestInfo`: a resource
request names verb, group, version, namespace, resource, name and subresource; anything else is a
non-resource request, authorized by its path and lower-cased method.
"""
from __future__ import annotations

from dataclasses import dataclass

API_PREFIXES = ("api", "apis")
# Subresources of a namespace object, not resources inside the namespace.
NAMESPACE_SUBRESOURCES = ("status", "finalize")
_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
          "DELETE": "delete"}


@dataclass(slots=True)
class RequestInfo:
    resource_request: bool
    path: str
    verb: str
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    # The path segments after the namespace (resource, name, subresource); more than three is a 404.
    parts: tuple[str, ...] = ()


def request_info(method: str, path: str, query) -> RequestInfo:
    segments = [s for s in path.split("/") if s]
    non_resource = RequestInfo(False, path, method.lower())
    if not segments or segments[0] not in API_PREFIXES:
        return non_resource
    rest = segments[1:]
    group = ""
    if segments[0] == "apis":
        if not rest:
            return non_resource
        group, rest = rest[0], rest[1:]
    if not rest:
        return non_resource
    version, rest = rest[0], rest[1:]
    if not rest:
        return non_resource  # discovery of one group version
    verb = _VERBS.get(method.upper(), method.lower())
    if rest[0] == "watch":  # the deprecated /api/v1/watch/... form
        verb, rest = "watch", rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    info = RequestInfo(True, path, verb, group, version, namespace, parts=tuple(rest))
    if rest:
        info.resource = rest[0]
    if len(rest) > 1:
        info.name = rest[1]
    if len(rest) > 2:
        info.subresource = rest[2]
    if info.verb == "get" and not info.name:
        info.verb = "watch" if query.get("watch") in ("1", "true") else "list"
    elif info.verb == "delete" and not info.name:
        info.verb = "deletecollection"
    if info.verb in ("list", "watch") and not info.name:
        # RBAC's resourceNames reach lists and watches of one object through its field selector.
        for term in query.get("fieldSelector", "").split(","):
            key, _, value = term.partition("=")
            value = value[1:] if value.startswith("=") else value  # `==` means `=`
            if key.strip() == "metadata.name" and value.strip():
                info.name = value.strip()
    return info
