"""What `vapi create` and `vapi delete` do on a virtual cluster's host, through the syncer's host client.

Every namespaced host object of a virtual cluster is owned by its anchor ConfigMap, so deleting
the anchor lets the host's garbage collector remove them; cluster-scoped ones carry only the
managed-by label and are deleted here. `vapi delete` returns once nothing labelled is left.
"""
from __future__ import annotations

import asyncio
import time

from syncer.host import Host, HostResource
from syncer.names import MANAGED_BY, anchor_name

from . import errors
from .clusters import POLL_SECONDS, Cluster, ClusterError, progress

GONE_TIMEOUT = 60.0
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
        anchor = anchor_name(cluster.name)
        progress("info", f"Deleting ConfigMap {anchor} in host namespace {host.namespace} and what it owns")
        await host.delete(CONFIGMAPS, anchor, propagation="Background")
        selector = f"{MANAGED_BY}={cluster.name}"
        for resource in CLUSTER_SCOPED:
            for item in (await host.list(resource, label_selector=selector)).get("items", []):
                await host.delete(resource, item["metadata"]["name"])
        left = await _left_after(host, selector, GONE_TIMEOUT)
        if left:
            # What the garbage collector did not take (an object without the anchor as owner).
            progress("warn", f"{len(left)} host objects outlived the anchor; deleting them: {', '.join(left)}")
            for resource, name in left.values():
                await host.delete(resource, name)
            left = await _left_after(host, selector, GONE_TIMEOUT)
            if left:
                raise ClusterError(f"host objects of virtual cluster {cluster.name} are still there after "
                                   f"{GONE_TIMEOUT:.0f}s: {', '.join(left)}")
        if cluster.host_namespace_created:
            progress("info", f"Deleting namespace {host.namespace} on the host")
            await host.delete(NAMESPACES, host.namespace)
    _run(cluster, work)


async def _left_after(host: Host, selector: str, timeout: float) -> dict[str, tuple[HostResource, str]]:
    """The labelled host objects still there once they are all gone or `timeout` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        left = {}
        for resource in NAMESPACED + CLUSTER_SCOPED:
            for item in (await host.list(resource, label_selector=selector)).get("items", []):
                left[f"{resource.group_resource}/{item['metadata']['name']}"] = (resource, item["metadata"]["name"])
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(POLL_SECONDS * 10)
