"""What `vapi create` and `vapi delete` do on a virtual cluster's host, through the syncer's host client.

Every namespaced host object of a virtual cluster is owned by its anchor ConfigMap, so deleting
the anchor lets the host's garbage collector remove them; cluster-scoped ones carry only the
managed-by label and are deleted here. `vapi delete` returns once nothing labelled is left.
"""
from __future__ import annotations

import asyncio
import time

from syncer.host import Host, HostResource
from syncer.names import ANCHOR, MANAGED_BY, anchor_name

from . import errors
from .clusters import Cluster, ClusterError, progress

GONE_TIMEOUT = 60.0
POLL_SECONDS = 0.2
CONFIGMAPS = HostResource("", "v1", "configmaps")
NAMESPACES = HostResource("", "v1", "namespaces", namespaced=False)
# What the syncer may put on a host (issue 9's kinds to the host), namespaced and cluster-scoped.
NAMESPACED = (HostResource("", "v1", "pods"), HostResource("", "v1", "services"),
              HostResource("", "v1", "endpoints"), CONFIGMAPS, HostResource("", "v1", "secrets"),
              HostResource("", "v1", "persistentvolumeclaims"), HostResource("", "v1", "serviceaccounts"),
              HostResource("networking.k8s.io", "v1", "ingresses"),
              HostResource("networking.k8s.io", "v1", "networkpolicies"),
              HostResource("policy", "v1", "poddisruptionbudgets"))
CLUSTER_SCOPED = (HostResource("scheduling.k8s.io", "v1", "priorityclasses", namespaced=False),)


def _run(cluster: Cluster, work):
    """Run `work(host)` against the cluster's host; the host's refusals become one-line errors."""
    async def run():
        host = Host(cluster.host_kubeconfig, cluster.host_namespace)
        try:
            return await work(host)
        finally:
            host.close()
    try:
        return asyncio.run(run())
    except errors.StatusError as err:
        raise ClusterError(f"host cluster: {err.message}") from None


def prepare(cluster: Cluster) -> None:
    """Settle the host namespace (the kubeconfig's when none was given) and make it if missing, as
    `vcluster create` does; `vapi delete` removes a namespace made here."""
    async def work(host: Host) -> None:
        cluster.host_namespace = host.namespace
        if await host.get(NAMESPACES, host.namespace) is None:
            progress("info", f"Creating namespace {host.namespace} on the host")
            await host.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": host.namespace}})
            cluster.host_namespace_created = True
    _run(cluster, work)


def remove_host_objects(cluster: Cluster) -> None:
    async def work(host: Host) -> None:
        anchor_object = await host.get(CONFIGMAPS, anchor_name(cluster.name))
        anchor_uid = anchor_object["metadata"]["uid"] if anchor_object else None
        if anchor_object:
            progress("info", f"Deleting ConfigMap {anchor_name(cluster.name)} in host namespace {host.namespace} "
                             "and what it owns")
            await host.delete(CONFIGMAPS, anchor_name(cluster.name), uid=anchor_uid, propagation="Background")
        selector = f"{MANAGED_BY}={cluster.name}"
        # What the host's garbage collector will not take (cluster-scoped, or not owned by the
        # anchor) is deleted here; then wait until nothing labelled is left.
        for resource, item in await _labelled(host, selector):
            owners = item["metadata"].get("ownerReferences") or []
            if not any(ref.get("uid") == anchor_uid for ref in owners):
                await host.delete(resource, item["metadata"]["name"])
        deadline = time.monotonic() + GONE_TIMEOUT
        while left := await _labelled(host, selector):
            if time.monotonic() > deadline:
                names = ", ".join(f"{r.group_resource}/{item['metadata']['name']}" for r, item in left)
                raise ClusterError(f"host objects of virtual cluster {cluster.name} are still there after "
                                   f"{GONE_TIMEOUT:.0f}s: {names}")
            await asyncio.sleep(POLL_SECONDS)
        if cluster.host_namespace_created:
            others = (await host.list(CONFIGMAPS, label_selector=ANCHOR)).get("items", [])
            if others:
                progress("info", f"Keeping namespace {host.namespace} on the host: virtual clusters "
                                 f"{', '.join(o['metadata']['labels'][ANCHOR] for o in others)} use it too")
            else:
                progress("info", f"Deleting namespace {host.namespace} on the host")
                await host.delete(NAMESPACES, host.namespace)
    _run(cluster, work)


async def _labelled(host: Host, selector: str) -> list[tuple[HostResource, dict]]:
    found = []
    for resource in NAMESPACED + CLUSTER_SCOPED:
        found += [(resource, item) for item in (await host.list(resource, label_selector=selector)).get("items", [])]
    return found
