"""Which virtual object a host object of this cluster stands for, from a reference to it (an
event's involvedObject, a volume's claimRef): the host copy's origin marks, read from the host
informer over this cluster's objects of that kind; or, when the host copy is not (or no longer)
in that cache, the virtual object whose host name is exactly the one referred to.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import names
from .host import HostResource

# The namespaced kinds the syncer puts on the host: virtual resource, host resource.
KINDS = {
    "Pod": (("", "v1", "pods"), HostResource("", "v1", "pods")),
    "Service": (("", "v1", "services"), HostResource("", "v1", "services")),
    "Endpoints": (("", "v1", "endpoints"), HostResource("", "v1", "endpoints")),
    "PersistentVolumeClaim": (("", "v1", "persistentvolumeclaims"), HostResource("", "v1", "persistentvolumeclaims")),
    "ConfigMap": (("", "v1", "configmaps"), HostResource("", "v1", "configmaps")),
    "Secret": (("", "v1", "secrets"), HostResource("", "v1", "secrets")),
    "ServiceAccount": (("", "v1", "serviceaccounts"), HostResource("", "v1", "serviceaccounts")),
    "Ingress": (("networking.k8s.io", "v1", "ingresses"), HostResource("networking.k8s.io", "v1", "ingresses")),
}


@dataclass(frozen=True)
class Origin:
    namespace: str
    name: str
    uid: str | None


def candidates(host_name: str, vc: str) -> list[tuple[str, str]]:
    """Every (namespace, name) that `NAME-x-NS-x-VC` could have been made from."""
    tail = f"-x-{vc}"
    if not host_name.endswith(tail):
        return []
    body = host_name[:-len(tail)]
    out, start = [], 0
    while (at := body.find("-x-", start)) != -1:
        out.append((body[at + 3:], body[:at]))
        start = at + 1
    return out


async def resolve(ctx, kind: str, host_name: str) -> Origin | None:
    """The virtual object the host object `kind`/`host_name` (in the host namespace) stands for."""
    if kind not in KINDS:
        return None
    virtual, host_resource = KINDS[kind]
    informer = ctx.host_cache(host_resource)
    await informer.wait_synced()
    host = informer.get(ctx.host.namespace, host_name)
    if host is not None:
        key = names.origin(host)
        if key is None or key[0] is None:
            return None
        return Origin(key[0], key[1], (host["metadata"].get("annotations") or {}).get(names.OBJECT_UID))
    cache = ctx.cache(*virtual)
    await cache.wait_synced()
    for namespace, name in candidates(host_name, ctx.vc):
        obj = cache.get(namespace, name)
        if obj is not None and ctx.host_name(name, namespace) == host_name:
            return Origin(namespace, name, obj["metadata"].get("uid"))
    return None
