"""Nodes from the host, in vcluster's modes (`sync.fromHost.nodes`).

A virtual pod is bound to a Node named as the host node its copy runs on; that Node must exist
first (`ensure`), or the pod garbage collector would take the pod for an orphan.
- `enabled: false` (the default): the Node is a stand-in made here (labelled
  `vapi.dev/fake-node`), Ready, with room for any pod, and removed once no pod of this cluster is
  bound to it. This needs no host rights beyond the namespace.
- `enabled: true`: the host's real Nodes are mirrored (labels,
  annotations, taints, status), kept current, for the nodes running this cluster's pods; with
  `selector.all` every host node; with `selector.labels` the nodes carrying those labels, and
  then pods are given that node selector on the host (`enforceNodeSelector`), so they run only
  there. This needs the right to list and watch nodes on the host. In virtual mode every virtual
  Node is the syncer's: one the mode does not select (a stand-in left by the other mode...) is
  removed.
"""
from __future__ import annotations

import asyncio

from vapi import errors
from vapi.controllers.workqueue import WorkQueue, serve

from ..fromhost import Mirror, MirrorLoop
from ..host import HostResource

FAKE = "vapi.dev/fake-node"
HOST_PODS = HostResource("", "v1", "pods")
HOST_NODES = HostResource("", "v1", "nodes", namespaced=False)


def node_used(name: str, *pod_informers) -> bool:
    """A pod of this cluster is bound to the node, or its host copy is (and it is about to be)."""
    return any((p.get("spec") or {}).get("nodeName") == name for pods in pod_informers for p in pods.list())


def pod_node(pod: dict) -> list[tuple]:
    node = (pod.get("spec") or {}).get("nodeName")
    return [(None, node)] if node else []


def imply_node_selector(config) -> None:
    """Nodes chosen by label: this cluster's pods are to run on them only."""
    labels = (config.kind("fromHost", "nodes").get("selector") or {}).get("labels") or {}
    if config.enabled("fromHost", "nodes") and labels:
        pods = config.kind("toHost", "pods")
        pods["enforceNodeSelector"] = {**labels, **(pods.get("enforceNodeSelector") or {})}


def syncer_for(ctx):
    """The node syncer the configuration asks for."""
    return RealNodes(ctx) if ctx.config.enabled("fromHost", "nodes") else FakeNodes(ctx)


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
        self.host_pods = ctx.host_cache(HOST_PODS)
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
        if node is None or (node["metadata"].get("labels") or {}).get(FAKE) != "true" or \
                node_used(key[1], self.pods, self.host_pods):
            return
        await self.ctx.api.delete(self.info, None, key[1])


class RealNodes(Mirror):
    key = "nodes"
    host = HOST_NODES
    virtual = ("", "v1", "nodes")
    status = True
    mark: dict = {}          # a mirrored node's labels are the host node's, exactly

    def __init__(self, ctx):
        super().__init__(ctx)
        selector = ctx.config.kind("fromHost", "nodes").get("selector") or {}
        self.all = bool(selector.get("all"))
        self.labels = selector.get("labels") or {}
        self.pods = ctx.cache("", "v1", "pods")
        self.host_pods = ctx.host_cache(HOST_PODS)
        self.loop = MirrorLoop(ctx, self)
        self._lock = asyncio.Lock()

    def ours(self, obj: dict) -> bool:
        return True

    def setup(self, loop: MirrorLoop) -> None:
        if not self.all and not self.labels:
            loop.watch_host(self.host_pods, pod_node)
            loop.watch_virtual("", "v1", "pods", pod_node)

    def selected(self, node: dict) -> bool:
        if self.all:
            return True
        if self.labels:
            labels = node["metadata"].get("labels") or {}
            return all(labels.get(k) == str(v) for k, v in self.labels.items())
        return node_used(node["metadata"]["name"], self.pods, self.host_pods)

    async def run(self) -> None:
        await self.loop.run()

    async def ensure(self, name: str) -> None:
        """The mirror of host node `name` exists before a pod is bound to it."""
        if self.loop.virtual.get(None, name) is not None:
            return
        async with self._lock:
            await self.loop.synced()
            host = self.loop.hosts.get(None, name)
            if host is None or not self.selected(host):
                raise errors.StatusError(503, "ServiceUnavailable", f"host node {name} is not known yet")
            await self.loop.reconcile((None, name))
