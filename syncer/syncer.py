"""The one loop every synced kind goes through, as vcluster's `pkg/syncer` is built.

Per translator: the virtual side's shared informer and a host informer over this cluster's
objects (its managed-by label) put the virtual object's key, (namespace, name), on one work
queue; a reconcile compares the virtual object with its host copy and makes the host copy what
the translator says it should be. The virtual side owns spec, labels and annotations (by the
rule in `metadata.py`); the host owns status, which translators copy back. Every decision is
taken from both sides' current state, never from the event that woke it, so a restart of either
side, a lost event or a hand edit on the host all end in the same place: after a restart the
first lists enqueue every key on both sides, a host copy whose virtual object is gone is deleted,
a missing one is created, and names are deterministic, so nothing is made twice.
"""
from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from vapi import errors
from vapi.controllers.workqueue import Retry, WorkQueue, serve

from . import metadata, names
from .config import SyncConfig
from .host import Host, HostResource
from .hostinformer import HostInformers

log = logging.getLogger("vapi.syncer")

# While the host is down a key waits at most this long before it is tried again.
MAX_RETRY_SECONDS = 5.0
WORKERS = 4
# What a write may meet that passes by itself: a cache behind a write (409), a host away or busy.
# The key comes back after its backoff, with no log line.
RETRIED = (409, 429, 500, 503, 504)


@dataclass
class Context:
    """What every translator reads: the two sides and the settings."""
    vc: str
    host: Host
    api: object                      # the virtual pipeline, acting as the syncer
    informers: object                # the virtual side's shared informers
    host_informers: HostInformers
    config: SyncConfig
    advertise: tuple[str, int]       # where host pods reach this server
    kubernetes_version: str = "1.33"
    anchor: dict | None = None       # the host ConfigMap every host object is owned by
    recorder: object = None          # events on virtual objects, as the syncer
    extras: dict = field(default_factory=dict)   # what translators share (the node syncer...)

    def resource(self, group: str, version: str, plural: str):
        return self.api.registry.get(group, version, plural)

    def cache(self, group: str, version: str, plural: str):
        return self.informers.get(self.resource(group, version, plural))

    def host_cache(self, resource: HostResource):
        return self.host_informers.get(resource, f"{names.MANAGED_BY}={self.vc}")

    def host_name(self, name: str, namespace: str | None) -> str:
        return names.host_name(name, namespace, self.vc)


def follow(informer, queue: WorkQueue, mapper: Callable[[dict], Iterable[tuple]]) -> None:
    """Queue the keys `mapper` finds in every object `informer` hears of, as it was and as it is
    (so a key that stops being named hears of it too)."""
    async def handle(event_type: str, obj: dict, prev: dict | None) -> None:
        for source in (obj, prev) if prev is not None else (obj,):
            for key in mapper(source):
                queue.add(key)
    informer.add_handler(handle)


class Translator:
    """One kind's rules. Subclasses set the class attributes and write `fields`."""
    kind = ""                                   # the virtual kind (recorded on the host copy)
    key = ""                                    # its key under sync.toHost in the configuration
    virtual: tuple[str, str, str] = ("", "v1", "")
    host: HostResource = HostResource("", "v1", "")

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def setup(self, loop: Loop) -> None:
        """Watch what else decides this kind's objects (`loop.watch_virtual`)."""

    def selected(self, obj: dict) -> bool:
        """Whether this virtual object belongs on the host at all."""
        return True

    async def fields(self, obj: dict, host: dict | None) -> dict:
        """The host copy's top-level fields other than metadata (spec, data...); `host` is the
        copy as it is, None when it is to be created."""
        raise NotImplementedError

    async def back(self, obj: dict, host: dict) -> float | None:
        """Copy what the host owns (status) to the virtual object; seconds until another look."""
        return None

    async def deleting(self, obj: dict, host: dict | None) -> None:
        """The virtual object is being deleted (it has a deletionTimestamp)."""
        if host is not None:
            await self.remove(host)

    async def remove(self, host: dict) -> None:
        """Delete a host copy whose virtual object is gone."""
        meta = host["metadata"]
        await self.ctx.host.delete(self.host, meta["name"], meta.get("namespace"), uid=meta["uid"])

    async def gone(self, namespace: str | None, name: str) -> None:
        """Neither side has the object any more: forget what was kept about it."""


class Loop:
    """The reconcile loop of one translator."""

    def __init__(self, ctx: Context, translator: Translator):
        self.ctx, self.t = ctx, translator
        self.queue = WorkQueue(f"syncer {translator.kind}", max_delay=MAX_RETRY_SECONDS)
        self.virtual = ctx.cache(*translator.virtual)
        self.hosts = ctx.host_cache(translator.host)
        self._read = [self.virtual, self.hosts]

    def watch_virtual(self, group: str, version: str, plural: str,
                      mapper: Callable[[dict], Iterable[tuple]]) -> None:
        """Look again at the keys `mapper` names for each change of this virtual resource (the
        object before the change too, so a key that stops being named hears of it)."""
        self._watch(self.ctx.cache(group, version, plural), mapper)

    def watch_host(self, resource: HostResource, mapper: Callable[[dict], Iterable[tuple]]) -> None:
        """The same for a host resource (this cluster's objects there)."""
        self._watch(self.ctx.host_cache(resource), mapper)

    def _watch(self, informer, mapper: Callable[[dict], Iterable[tuple]]) -> None:
        self._read.append(informer)
        follow(informer, self.queue, mapper)

    async def run(self) -> None:
        async def virtual_changed(event_type: str, obj: dict, prev: dict | None) -> None:
            meta = obj["metadata"]
            self.queue.add((meta.get("namespace") or None, meta["name"]))

        async def host_changed(event_type: str, obj: dict, prev: dict | None) -> None:
            key = names.origin(obj)
            if key is not None:
                self.queue.add(key)
        self.virtual.add_handler(virtual_changed)
        self.hosts.add_handler(host_changed)
        self.t.setup(self)
        for informer in self._read:
            await informer.wait_synced()
        try:
            await asyncio.gather(*(serve(self.queue, self.reconcile) for _ in range(WORKERS)))
        finally:
            self.queue.shut_down()

    def resync(self) -> None:
        """Look at every object again (the anchor they are owned by changed)."""
        for obj in self.virtual.list():
            self.queue.add((obj["metadata"].get("namespace") or None, obj["metadata"]["name"]))

    def host_copy(self, namespace: str | None, name: str) -> dict | None:
        host_namespace = self.ctx.host.namespace if self.t.host.namespaced else None
        return self.hosts.get(host_namespace, self.ctx.host_name(name, namespace))

    async def reconcile(self, key: tuple) -> float | None:
        namespace, name = key
        obj = self.virtual.get(namespace, name)
        host = self.host_copy(namespace, name)
        if host is not None and names.origin(host) != key:
            if obj is not None and self.t.selected(obj):   # e.g. host Endpoints of a selector Service: not ours
                log.warning("host %s %s is not %s/%s's copy; left alone", self.t.host.group_resource,
                            host["metadata"]["name"], namespace, name)
            return None
        try:
            return await self._reconcile(namespace, name, obj, host)
        except errors.StatusError as e:
            if e.code in RETRIED:
                raise Retry from None
            if e.code in (400, 403, 422) and obj is not None:
                # The host refuses the copy (its quota, its admission, its policies): the user
                # sees why on their object, as vcluster reports it, and the key is tried again.
                self.ctx.recorder.event(obj, "Warning", "SyncError", f"Error syncing to host: {e.message}")
                raise Retry from None
            raise

    async def _reconcile(self, namespace, name, obj, host) -> float | None:
        t = self.t
        if obj is None or not t.selected(obj):
            if host is not None:
                await t.remove(host)
            else:
                await t.gone(namespace, name)
            return None
        if obj["metadata"].get("deletionTimestamp"):
            await t.deleting(obj, host)
            return None
        if self.ctx.anchor is None and t.host.namespaced:
            raise Retry   # the host has not been reached yet
        want, gained = await self.host_object(obj, host)
        if host is None:
            await self.ctx.host.create(t.host, want)
            return None   # the host copy's own event brings the key back
        if want != host:
            host = await self.ctx.host.update(t.host, want)
        if gained:   # labels and annotations added on the host reach the virtual object
            meta = obj["metadata"]
            await self.ctx.api.patch(self.ctx.resource(*t.virtual), meta.get("namespace"), meta["name"],
                                     "application/merge-patch+json", {"metadata": gained})
        return await t.back(obj, host)

    async def host_object(self, obj: dict, host: dict | None) -> tuple[dict, dict]:
        """The host copy `obj` should have (`host` with the virtual side's parts made right), and
        the labels and annotations the virtual object gains from `host`."""
        t = self.t
        anchor = self.ctx.anchor if t.host.namespaced else None
        meta, gained = metadata.host_metadata(self.ctx.vc, obj, t.kind, host, anchor)
        want = copy.deepcopy(host) if host is not None else {
            "apiVersion": f"{t.host.group}/{t.host.version}" if t.host.group else t.host.version,
            "kind": t.kind, "metadata": {"name": self.ctx.host_name(obj["metadata"]["name"],
                                                                    obj["metadata"].get("namespace"))}}
        if t.host.namespaced:
            want["metadata"]["namespace"] = self.ctx.host.namespace
        want["metadata"].update(meta)
        want.update(await t.fields(obj, host))
        return want, gained
