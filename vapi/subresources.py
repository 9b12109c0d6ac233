"""Subresources as registered handlers, reachable from HTTP and the in-process client alike.

`API.get/update/patch` hand a request for `<resource>/<subresource>` to the handler registered
here under the subresource's name. Those that speak the parent's kind (status, finalize,
approval) are written through the generic store, whose strategy keeps the rest of the object as
it was; `scale` speaks autoscaling/v1 Scale over the replicas the kind's strategy locates.
Subresources a resource declares (`resources.BUILTIN`) but no handler serves yet answer 501.
"""
from __future__ import annotations

from admission.validation import dig

from . import errors
from .registry import selectors
from .writes import patch as patching


class Subresource:
    """A subresource that speaks its parent's kind."""

    def __init__(self, name: str):
        self.name = name

    def get(self, api, info, namespace: str | None, name: str, resource_version: str) -> dict:
        return api.get(info, namespace, name, resource_version)

    async def update(self, api, info, namespace: str | None, name: str, body, opts) -> dict:
        return await api.replace(info, namespace, name, body, subresource=self.name, opts=opts)

    async def patch(self, api, info, namespace: str | None, name: str, patch_type: str, patch, opts,
                    force: bool) -> dict:
        return await api.patch_object(info, namespace, name, patch_type, patch, subresource=self.name,
                                      opts=opts, force=force)


SCALE_KIND = ("autoscaling", "v1", "Scale")


class Scale(Subresource):
    """autoscaling/v1 Scale: replicas read from and written to where the kind keeps them."""

    def get(self, api, info, namespace, name, resource_version) -> dict:
        return to_scale(info, api.get(info, namespace, name, resource_version))

    async def update(self, api, info, namespace, name, body, opts) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("spec", {}), dict):
            raise errors.bad_request("the body must be an autoscaling/v1 Scale")
        replicas = body.get("spec", {}).get("replicas", 0)
        meta = body.get("metadata")
        rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
        obj = await api.guaranteed_update(info, namespace, name,
                                          lambda current: set_replicas(info, current, replicas),
                                          opts=opts, precondition_rv=rv or None)
        return to_scale(info, obj)

    async def patch(self, api, info, namespace, name, patch_type, patch, opts, force) -> dict:
        if patch_type == patching.APPLY:
            raise errors.unsupported_media_type(patch_type)

        def mutate(current: dict) -> dict:
            scale = api.patched(SCALE_KIND, patch_type, to_scale(info, current), patch)
            if not isinstance(scale.get("spec", {}), dict):
                raise errors.bad_request("the body must be an autoscaling/v1 Scale")
            return set_replicas(info, current, scale.get("spec", {}).get("replicas"))

        return to_scale(info, await api.guaranteed_update(info, namespace, name, mutate, opts=opts))


HANDLERS = {handler.name: handler for handler in (
    Subresource("status"), Subresource("finalize"), Subresource("approval"), Scale("scale"))}


def not_implemented(info, subresource: str) -> errors.StatusError:
    return errors.StatusError(501, "NotImplemented", f"{info.plural}/{subresource} is not implemented yet")


def handler(info, subresource: str) -> Subresource:
    if subresource not in info.subresources:
        raise errors.path_not_found()
    found = HANDLERS.get(subresource)
    if found is None:
        raise not_implemented(info, subresource)
    return found


def set_replicas(info, obj: dict, replicas) -> dict:
    *parents, last = info.strategy.scale.spec_replicas.split(".")
    target = obj
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = replicas
    return obj


def to_scale(info, obj: dict) -> dict:
    paths = info.strategy.scale
    meta = obj["metadata"]
    if paths.label_selector:
        selector = dig(obj, paths.label_selector)
    else:
        selector = obj.get("spec", {}).get("selector")
        if isinstance(selector, dict):
            selector = str(selectors.label_selector_from_object(selector))
    scale = {"kind": "Scale", "apiVersion": "autoscaling/v1",
             "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                               "creationTimestamp") if k in meta},
             "spec": {"replicas": dig(obj, paths.spec_replicas) or 0},
             "status": {"replicas": dig(obj, paths.status_replicas) or 0}}
    if selector:
        scale["status"]["selector"] = selector
    return scale
