"""Kubernetes Status errors: every failure a client sees is one of these, made here by kind."""
from __future__ import annotations

from admission.status import StatusError

__all__ = ["StatusError"]


def _details(info, name: str | None, **extra) -> dict:
    details = {"group": info.group, "kind": info.plural} if info else {}
    if name:
        details["name"] = name
    details.update(extra)
    return details


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def not_found(info, name: str) -> StatusError:
    return StatusError(404, "NotFound", f'{info.group_resource} "{name}" not found', _details(info, name))


def path_not_found() -> StatusError:
    # What kube's router answers for a path under /api or /apis that no route serves.
    return StatusError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(info, name: str) -> StatusError:
    return StatusError(409, "AlreadyExists", f'{info.group_resource} "{name}" already exists',
                       _details(info, name))


def conflict(info, name: str, why: str) -> StatusError:
    return StatusError(409, "Conflict",
                       f'Operation cannot be fulfilled on {info.group_resource} "{name}": {why}',
                       _details(info, name))


def gone(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def method_not_allowed() -> StatusError:
    # kube's router: the path has routes, none for this method.
    return StatusError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def invalid(info, kind: str, name: str, causes: list[dict], message: str) -> StatusError:
    # Unlike NotFound and friends, kube names the Kind here, not the resource.
    return StatusError(422, "Invalid", message, _details(info, name, kind=kind, causes=causes))


def unauthorized() -> StatusError:
    return StatusError(401, "Unauthorized", "Unauthorized")


def unsupported_media_type(content_type: str) -> StatusError:
    return StatusError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got "{content_type}")')


def forbidden_request(info, user, reason: str = "") -> StatusError:
    """kube's responsewriters.Forbidden: who cannot do what, where; then the authorizer's reason."""
    if not info.resource_request:
        what = f'User "{user.name}" cannot {info.verb} path "{info.path}"'
    else:
        resource = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
        where = f'in the namespace "{info.namespace}"' if info.namespace else "at the cluster scope"
        what = f'User "{user.name}" cannot {info.verb} resource "{resource}" in API group "{info.group}" {where}'
    if reason:
        what = f"{what}: {reason}"
    group_resource = f"{info.resource}.{info.group}" if info.group else info.resource
    if not group_resource:
        message = f"forbidden: {what}"
    elif info.name:
        message = f'{group_resource} "{info.name}" is forbidden: {what}'
    else:
        message = f"{group_resource} is forbidden: {what}"
    details = {"name": info.name} if info.name else {}
    if info.group:
        details["group"] = info.group
    if info.resource:
        details["kind"] = info.resource
    return StatusError(403, "Forbidden", message, details)
