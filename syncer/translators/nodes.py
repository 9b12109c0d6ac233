"""Nodes from the host, as vcluster's default (fake nodes) shows them.

A virtual pod is bound to a Node named as the host node its copy runs on; that Node must exist
first, or the pod garbage collector would take the pod for an orphan. In the default mode the
Node is a stand-in made here (labelled `vapi.dev/fake-node`), Ready, with room for any pod, and
removed once no virtual pod is bound to it. The host's real nodes need no host rights beyond
the namespace to be named this way.
"""
from __future__ import annotations

import asyncio

from vapi import errors
from vapi.controllers.workqueue import WorkQueue, serve

from ..host import HostResource

FAKE = "vapi.dev/fake-node"


def _fake_node(name: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                              "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                                              "beta.kubernetes.io/arch": "amd64", FAKE: "true"}},
        "spec": {},
    }


def _fake_status(version: str) -> dict:
    room = {"cpu": "64", "memory": "256Gi", "pods": "1000", "ephemeral-storage": "1Ti"}
    return {"capacity": room, "allocatable": room,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "the host runs this node's pods"}],
            "nodeInfo": {"kubeletVersion": version, "kubeProxyVersion": version, "operatingSystem": "linux",
                         "architecture": "amd64", "containerRuntimeVersion": "vapi://host", "osImage": "host",
                         "kernelVersion": "", "machineID": "", "systemUUID": "", "bootID": ""},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}


class FakeNodes:
    def __init__(self, ctx):
        self.ctx = ctx
        self.nodes = ctx.cache("", "v1", "nodes")
        self.pods = ctx.cache("", "v1", "pods")
        self.host_pods = ctx.host_cache(HostResource("", "v1", "pods"))
        self.info = ctx.resource("", "v1", "nodes")
        self.version = f"v{ctx.kubernetes_version}.0"
        self.queue = WorkQueue("syncer nodes")
        self._lock = asyncio.Lock()

    async def ensure(self, name: str) -> None:
        """The Node a pod is about to be bound to exists (made here when it does not)."""
        if self.nodes.get(None, name) is not None:
            return
        async with self._lock:
            try:
                node = await self.ctx.api.create(self.info, None, _fake_node(name))
            except errors.StatusError as e:
                if e.code != 409:
                    raise
                return
            node["status"] = _fake_status(self.version)
            await self.ctx.api.update(self.info, None, name, node, subresource="status")

    def _used(self, name: str) -> bool:
        """A pod of this cluster is bound to it, or its host copy is (and it is about to be)."""
        return any((p.get("spec") or {}).get("nodeName") == name
                   for pods in (self.pods, self.host_pods) for p in pods.list())

    async def run(self) -> None:
        async def pod_changed(event_type: str, pod: dict, prev: dict | None) -> None:
            if event_type == "DELETED" and (pod.get("spec") or {}).get("nodeName"):
                self.queue.add((None, pod["spec"]["nodeName"]))
        self.host_pods.add_handler(pod_changed)

        async def node_changed(event_type: str, node: dict, prev: dict | None) -> None:
            self.queue.add((None, node["metadata"]["name"]))
        self.pods.add_handler(pod_changed)
        self.nodes.add_handler(node_changed)
        for informer in (self.pods, self.host_pods, self.nodes):
            await informer.wait_synced()
        await serve(self.queue, self.reconcile)

    async def reconcile(self, key: tuple) -> None:
        node = self.nodes.get(None, key[1])
        if node is None or (node["metadata"].get("labels") or {}).get(FAKE) != "true" or self._used(key[1]):
            return
        await self.ctx.api.delete(self.info, None, key[1])
