"""Subresources as registered handlers, reachable from HTTP and the in-process client alike.

`API.get/update/patch` hand a request for `<resource>/<subresource>` to the handler registered
here under the subresource's name. Those that speak the parent's kind (status, finalize,
approval) are written through the generic store, whose strategy keeps the rest of the object as
it was; `scale` speaks autoscaling/v1 Scale over the replicas the kind's strategy locates.
Subresources a resource declares (`resources.BUILTIN`) but no handler serves yet answer 501.
"""
from __future__ import annotations

import asyncio
from admission.validation import dig

from . import errors
from .registry import selectors
from .registry.strategies import rfc3339
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

    async def create(self, api, info, namespace: str | None, name: str, body, opts) -> dict:
        raise errors.method_not_allowed()


SCALE_KIND = ("autoscaling", "v1", "Scale")


def _scale_not_found(info, name: str) -> errors.StatusError:
    """kube's scale REST of a built-in kind names the subresource (`deployments/scale.apps "web" not
    found`, the words an HPA reports); a custom resource's names the resource."""
    resource = f"{info.plural}/scale"
    details = {"name": name, "group": info.group, "kind": resource} if info.group else {"name": name, "kind": resource}
    return errors.StatusError(404, "NotFound", f'{resource}{"." + info.group if info.group else ""} "{name}" not found',
                              details)


def _scale_errors(method):
    async def wrapped(self, api, info, namespace, name, *args):
        try:
            return await method(self, api, info, namespace, name, *args)
        except errors.StatusError as e:
            if e.code == 404 and info.crd is None:
                raise _scale_not_found(info, name) from None
            raise
    return wrapped


class Scale(Subresource):
    """autoscaling/v1 Scale: replicas read from and written to where the kind keeps them."""

    def get(self, api, info, namespace, name, resource_version) -> dict:
        try:
            return to_scale(info, api.get(info, namespace, name, resource_version))
        except errors.StatusError as e:
            if e.code == 404 and info.crd is None:
                raise _scale_not_found(info, name) from None
            raise

    @_scale_errors
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

    @_scale_errors
    async def patch(self, api, info, namespace, name, patch_type, patch, opts, force) -> dict:
        if patch_type == patching.APPLY:
            raise errors.unsupported_media_type(patch_type)

        def mutate(current: dict) -> dict:
            scale = api.patched(SCALE_KIND, patch_type, to_scale(info, current), patch)
            if not isinstance(scale.get("spec", {}), dict):
                raise errors.bad_request("the body must be an autoscaling/v1 Scale")
            return set_replicas(info, current, scale.get("spec", {}).get("replicas"))

        return to_scale(info, await api.guaranteed_update(info, namespace, name, mutate, opts=opts))


MIN_TOKEN_SECONDS = 600
MAX_TOKEN_SECONDS = 1 << 32
BINDABLE = {"Pod": "pods", "Secret": "secrets"}


class TokenRequests(Subresource):
    """serviceaccounts/token: a TokenRequest answered with a signed token, never stored (kube's
    serviceaccount token REST)."""

    def __init__(self, signer, audiences: list[str]):
        super().__init__("token")
        self.signer = signer
        self.audiences = audiences

    async def create(self, api, info, namespace, name, body, opts) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("spec") or {}, dict):
            raise errors.bad_request("the body must be an authentication.k8s.io/v1 TokenRequest")
        request = dict(body, apiVersion="authentication.k8s.io/v1", kind="TokenRequest")
        meta = request["metadata"] = dict(request.get("metadata") or {})
        spec = request["spec"] = dict(request.get("spec") or {})
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(f"metadata.name in body ({meta['name']}) does not match the name in the URL "
                                     f"({name})")
        seconds = spec.get("expirationSeconds")
        spec["expirationSeconds"] = seconds = 3600 if seconds is None else seconds
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise errors.bad_request(f"json: cannot unmarshal {type(seconds).__name__} into Go struct field "
                                     "TokenRequestSpec.spec.expirationSeconds of type int64")
        if not MIN_TOKEN_SECONDS <= seconds <= MAX_TOKEN_SECONDS:
            why = ("may not specify a duration less than 10 minutes" if seconds < MIN_TOKEN_SECONDS
                   else "may not specify a duration larger than 2^32 seconds")
            cause = {"reason": "FieldValueInvalid", "message": f"Invalid value: {seconds}: {why}",
                     "field": "spec.expirationSeconds"}
            raise errors.StatusError(
                422, "Invalid", f'TokenRequest.authentication.k8s.io "{name}" is invalid: '
                f"spec.expirationSeconds: Invalid value: {seconds}: {why}",
                {"name": name, "group": "authentication.k8s.io", "kind": "TokenRequest", "causes": [cause]})
        sa = api.get(info, namespace, name)
        spec["audiences"] = list(spec.get("audiences") or self.audiences)
        bound = {}
        ref = spec.get("boundObjectRef")
        if ref:
            kind = ref.get("kind")
            if kind not in BINDABLE or ref.get("apiVersion", "v1") != "v1":
                raise errors.bad_request(f"cannot bind token to object of type {ref.get('apiVersion', '')}, "
                                         f"Kind={kind}")
            target = api.get(api.registry.get("", "v1", BINDABLE[kind]), namespace, ref.get("name") or "")
            if ref.get("uid") and ref["uid"] != target["metadata"]["uid"]:
                raise errors.StatusError(
                    409, "Conflict", f'Operation cannot be fulfilled on {kind} "{ref.get("name")}": the UID in '
                    f'the bound object reference ({ref["uid"]}) does not match the UID in record. The object '
                    "might have been deleted and then recreated",
                    {"name": ref.get("name"), "kind": kind})
            bound[kind.lower()] = target
        # The first token makes the signing key (tens of milliseconds): not on the event loop.
        token, expiry = await asyncio.to_thread(self.signer.bound_token, namespace, sa, spec["audiences"], seconds,
                                                **bound)
        request["status"] = {"token": token, "expirationTimestamp": rfc3339(expiry)}
        return request


HANDLERS = {handler.name: handler for handler in (
    Subresource("status"), Subresource("finalize"), Subresource("approval"), Scale("scale"))}


def not_implemented(info, subresource: str) -> errors.StatusError:
    return errors.StatusError(501, "NotImplemented", f"{info.plural}/{subresource} is not implemented yet")


def handler(info, subresource: str, handlers: dict | None = None) -> Subresource:
    """The handler serving `subresource` of `info`'s kind; `handlers` are the server's own when it
    adds some that need its state (token signing), else the stateless ones above."""
    if subresource not in info.subresources:
        raise errors.path_not_found()
    found = (handlers if handlers is not None else HANDLERS).get(subresource)
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
