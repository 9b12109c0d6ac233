"""The AdmissionRequest a webhook is sent (and a policy's CEL sees as `request`): who asks, what
for, the object and the one it replaces, as admission/v1 names them."""
from __future__ import annotations

import uuid

from ..chain import CREATE, DELETE, UPDATE, Attributes

_OPTIONS_KIND = {CREATE: "CreateOptions", UPDATE: "UpdateOptions", DELETE: "DeleteOptions"}


def user_info(user) -> dict:
    info = {"username": getattr(user, "name", "") or ""}
    if getattr(user, "uid", ""):
        info["uid"] = user.uid
    if getattr(user, "groups", None):
        info["groups"] = list(user.groups)
    if getattr(user, "extra", None):
        info["extra"] = {k: list(v) for k, v in user.extra.items()}
    return info


def admission_request(attrs: Attributes, uid: str | None = None) -> dict:
    kind = {"group": attrs.group, "version": attrs.version, "kind": attrs.kind}
    resource = {"group": attrs.group, "version": attrs.version, "resource": attrs.resource}
    request = {"uid": uid or str(uuid.uuid4()), "kind": kind, "resource": resource}
    if attrs.subresource:
        request["subResource"] = attrs.subresource
    request.update({"requestKind": kind, "requestResource": resource})
    if attrs.subresource:
        request["requestSubResource"] = attrs.subresource
    name = attrs.name or ((attrs.object or {}).get("metadata") or {}).get("name") or ""
    if name:
        request["name"] = name
    if attrs.namespace:
        request["namespace"] = attrs.namespace
    request.update({"operation": attrs.operation, "userInfo": user_info(attrs.user),
                    "object": attrs.object, "oldObject": attrs.old_object, "dryRun": bool(attrs.dry_run)})
    options_kind = _OPTIONS_KIND.get(attrs.operation)
    if options_kind:
        options = {"kind": options_kind, "apiVersion": "meta.k8s.io/v1"}
        if attrs.dry_run:
            options["dryRun"] = ["All"]
        request["options"] = options
    return request
