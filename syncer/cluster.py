"""A virtual cluster's syncer: the anchor on the host, then one loop per synced kind.

The anchor is a ConfigMap in the host namespace (`vapi-VC`) that every namespaced host object is
owned by, so that deleting it (as `vapi delete` does) lets the host's garbage collector remove
everything this cluster put there. It is made when missing, also while running: if someone
deletes it, the host removes the copies and the loops make them again under the new anchor.
"""
from __future__ import annotations

import asyncio
import logging

from vapi import errors
from vapi.controllers.events import EventRecorder

from . import names
from .config import SyncConfig
from .fromhost import MirrorLoop
from .host import Host, HostResource
from .hostinformer import HostInformers
from .syncer import Context, Loop
from .translators import nodes
from .translators.clusterwide import IngressClasses, PersistentVolumes, StorageClasses
from .translators.configmaps import ConfigMaps
from .translators.endpoints import Endpoints
from .translators.events import Events
from .translators.ingresses import Ingresses
from .translators.networkpolicies import NetworkPolicies
from .translators.persistentvolumeclaims import PersistentVolumeClaims
from .translators.poddisruptionbudgets import PodDisruptionBudgets
from .translators.pods import Pods
from .translators.priorityclasses import PriorityClasses
from .translators.secrets import Secrets
from .translators.serviceaccounts import ServiceAccounts
from .translators.services import Services

log = logging.getLogger("vapi.syncer")

CONFIGMAPS = HostResource("", "v1", "configmaps")
RETRY_SECONDS = 1.0

# Translators of the kinds synced to the host, each with its key under sync.toHost.
TO_HOST = [
    Pods,
    ConfigMaps,
    Secrets,
    Services,
    Endpoints,
    PersistentVolumeClaims,
    Ingresses,
    NetworkPolicies,
    PodDisruptionBudgets,
    ServiceAccounts,
    PriorityClasses,
]
# Mirrors of the kinds shown from the host, each with its key under sync.fromHost (nodes apart).
FROM_HOST = [Events, StorageClasses, IngressClasses, PersistentVolumes]


class Syncer:
    def __init__(self, api, informers, host: Host, vc: str, config: SyncConfig, advertise: tuple[str, int],
                 kubernetes_version: str):
        """`host` is made apart (`Host(kubeconfig, namespace)`: loading the client takes a while,
        and the server makes it on a thread while it already answers)."""
        self.host = host
        self.ctx = Context(vc=vc, host=self.host, api=api, informers=informers,
                           host_informers=HostInformers(self.host), config=config, advertise=advertise,
                           kubernetes_version=kubernetes_version, recorder=EventRecorder(api, "vapi-syncer"))
        nodes.imply_node_selector(config)
        self.ctx.extras["nodes"] = nodes.syncer_for(self.ctx)
        self.loops = [Loop(self.ctx, cls(self.ctx)) for cls in TO_HOST if config.enabled("toHost", cls.key)]
        self.mirrors = [MirrorLoop(self.ctx, cls(self.ctx)) for cls in FROM_HOST
                        if config.enabled("fromHost", cls.key)]
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        runs = [self._anchor(), self.ctx.extras["nodes"].run(), *(loop.run() for loop in self.loops),
                *(mirror.run() for mirror in self.mirrors)]
        self.tasks = [asyncio.create_task(run, name="syncer") for run in runs]

    async def _anchor(self) -> None:
        """Keep the anchor: find or make it, and make it again whenever it goes."""
        informer = self.ctx.host_informers.get(CONFIGMAPS, f"{names.ANCHOR}={self.ctx.vc}")
        changed = asyncio.Event()

        async def seen(event_type: str, obj: dict, prev: dict | None) -> None:
            if event_type == "DELETED":
                self.ctx.anchor = None   # copies made now would be owned by what is gone
            changed.set()
        informer.add_handler(seen)
        while True:
            await informer.wait_synced()
            anchor = informer.get(self.host.namespace, names.anchor_name(self.ctx.vc))
            if anchor is None:
                try:
                    anchor = await self.host.create(CONFIGMAPS, {
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": names.anchor_name(self.ctx.vc), "labels": {names.ANCHOR: self.ctx.vc}},
                        "data": {"server": f"https://{self.ctx.advertise[0]}:{self.ctx.advertise[1]}"}})
                except errors.StatusError as e:
                    if e.code != 409:
                        log.warning("virtual cluster %s: cannot make its anchor on the host: %s", self.ctx.vc,
                                    e.message)
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
            if anchor["metadata"].get("deletionTimestamp"):
                await asyncio.sleep(RETRY_SECONDS)
                continue
            renewed = (self.ctx.anchor or {}).get("metadata", {}).get("uid") != anchor["metadata"]["uid"]
            self.ctx.anchor = anchor
            if renewed:
                for loop in self.loops:
                    loop.resync()
            changed.clear()
            await changed.wait()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.ctx.host_informers.stop()
        await self.ctx.recorder.close()
        self.host.close()
