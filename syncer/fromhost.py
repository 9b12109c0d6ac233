"""The loop of every kind that comes from the host: the host owns the object, the virtual cluster
shows a read-only copy of it.

A `Mirror` says which host objects show, under which virtual key, and what the virtual copy holds;
the loop keeps the copy so. It is keyed by the host object's (namespace, name): a host change
writes the copy, a host delete (or the object leaving the selection) removes it, and a virtual
edit or delete of a copy is put back from the host object, as a hand edit of a synced host object
is on the way out. A copy's resource version and its host object's are remembered once written, so
fields the virtual server fills in (defaults) are not taken for an edit and written for ever.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable

from vapi import errors
from vapi.api import DeleteOptions
from vapi.controllers.workqueue import Retry, WorkQueue, serve

from .host import HostResource
from .syncer import MAX_RETRY_SECONDS, RETRIED, follow

log = logging.getLogger("vapi.syncer")

FROM_HOST = "vapi.dev/from-host"      # label on a virtual object that is a copy of a host object

def copied_metadata(host: dict, labels: dict | None = None) -> dict:
    """The host object's name, labels and annotations, with `labels` added."""
    meta = host["metadata"]
    out = {"name": meta["name"]}
    merged = {**(meta.get("labels") or {}), **(labels or {})}
    if merged:
        out["labels"] = merged
    if meta.get("annotations"):
        out["annotations"] = dict(meta["annotations"])
    return out


class Mirror:
    """One kind's rules from the host. The default: a cluster-scoped object mirrored under its own
    name, every field but metadata copied, labelled FROM_HOST."""
    key = ""                                   # its key under sync.fromHost
    host: HostResource = HostResource("", "v1", "", namespaced=False)
    virtual: tuple[str, str, str] = ("", "v1", "")
    label_selector: str | None = None          # of the host informer
    status = False                             # the virtual kind has a status subresource
    mark = {FROM_HOST: "true"}                 # labels a copy carries

    def __init__(self, ctx):
        self.ctx = ctx

    def setup(self, loop: MirrorLoop) -> None:
        """Watch what else decides which host objects show (`loop.watch_host`, `loop.watch_virtual`)."""

    def selected(self, host: dict) -> bool:
        return True

    async def virtual_key(self, host_key: tuple, host: dict | None) -> tuple | None:
        """The virtual key a host object shows under (`host` None: it is gone); None: nowhere."""
        return host_key

    def ours(self, obj: dict) -> bool:
        """Whether a virtual object is a copy, that the loop may write and delete (else left alone)."""
        return (obj["metadata"].get("labels") or {}).get(FROM_HOST) == "true"

    def host_key(self, obj: dict) -> tuple | None:
        """The host object a virtual copy stands for, to put back an edit of the copy; None: none."""
        return (obj["metadata"].get("namespace") or None, obj["metadata"]["name"]) if self.ours(obj) else None

    async def build(self, host: dict, key: tuple) -> dict | None:
        """The copy `host` shows as under virtual `key`; None when it cannot show (yet)."""
        body = {k: copy.deepcopy(v) for k, v in host.items() if k != "metadata"}
        body["metadata"] = copied_metadata(host, self.mark)
        return body


class MirrorLoop:
    def __init__(self, ctx, mirror: Mirror):
        self.ctx, self.m = ctx, mirror
        self.queue = WorkQueue(f"syncer from host {mirror.key}", max_delay=MAX_RETRY_SECONDS)
        self.info = ctx.resource(*mirror.virtual)
        self.virtual = ctx.cache(*mirror.virtual)
        self.hosts = ctx.host_informers.get(mirror.host, mirror.label_selector)
        self._read = [self.virtual, self.hosts]
        # host key -> (its resourceVersion, the copy's) as last written; dropped when it goes
        self._written: dict[tuple, tuple[str, str]] = {}

    def _watch(self, informer, mapper: Callable[[dict], Iterable[tuple]]) -> None:
        self._read.append(informer)
        follow(informer, self.queue, mapper)

    def watch_host(self, informer, mapper: Callable[[dict], Iterable[tuple]]) -> None:
        self._watch(informer, mapper)

    def watch_virtual(self, group: str, version: str, plural: str,
                      mapper: Callable[[dict], Iterable[tuple]]) -> None:
        self._watch(self.ctx.cache(group, version, plural), mapper)

    async def run(self) -> None:
        async def host_changed(event_type: str, obj: dict, prev: dict | None) -> None:
            self.queue.add((obj["metadata"].get("namespace") or None, obj["metadata"]["name"]))

        async def virtual_changed(event_type: str, obj: dict, prev: dict | None) -> None:
            key = self.m.host_key(obj)
            if key is not None:
                self.queue.add(key)
        self.hosts.add_handler(host_changed)
        self.virtual.add_handler(virtual_changed)
        self.m.setup(self)
        await self.synced()
        try:
            await serve(self.queue, self.reconcile)
        finally:
            self.queue.shut_down()

    async def synced(self) -> None:
        for informer in self._read:
            await informer.wait_synced()

    async def reconcile(self, key: tuple) -> float | None:
        host = self.hosts.get(*key)
        if host is not None and not self.m.selected(host):
            host = None
        if host is None:
            self._written.pop(key, None)
        vkey = await self.m.virtual_key(key, host)
        if vkey is None:
            return None
        current = self.virtual.get(*vkey)
        if current is not None and not self.m.ours(current):
            log.warning("virtual %s %s is not a copy of the host's; left alone", self.info.group_resource, vkey[1])
            return None
        try:
            if host is None:
                if current is not None:
                    await self._delete(vkey, current)
                return None
            want = await self.m.build(host, vkey)
            if want is None:
                return None
            await self._write(key, vkey, current, host, want)
        except errors.StatusError as e:
            if e.code in RETRIED:
                raise Retry from None
            if e.code in (403, 404):
                # its namespace is gone or going: nothing to show it in
                log.debug("%s %s not shown: %s", self.info.group_resource, vkey, e.message)
                return None
            raise
        return None

    async def _delete(self, vkey: tuple, current: dict) -> None:
        try:
            await self.ctx.api.delete(self.info, vkey[0], vkey[1],
                                      DeleteOptions(preconditions={"uid": current["metadata"]["uid"]}))
        except errors.StatusError as e:
            if e.code != 404:
                raise

    async def _write(self, key: tuple, vkey: tuple, current: dict | None, host: dict, want: dict) -> None:
        host_rv = host["metadata"].get("resourceVersion", "")
        if current is not None and self._written.get(key) == (host_rv, current["metadata"]["resourceVersion"]):
            return
        status = want.pop("status", None) if self.m.status else None
        if current is None:
            written = await self.ctx.api.create(self.info, vkey[0], want)
        else:
            merged = copy.deepcopy(want)
            merged["metadata"] = {**copy.deepcopy(current["metadata"]), **want["metadata"]}
            for part in ("labels", "annotations"):
                if part not in want["metadata"]:
                    merged["metadata"].pop(part, None)
            if self.m.status:
                merged["status"] = current.get("status")
            written = current if _same(merged, current) else \
                await self.ctx.api.update(self.info, vkey[0], vkey[1], merged)
        if status is not None and status != written.get("status"):
            written = await self.ctx.api.update(self.info, vkey[0], vkey[1], {**written, "status": status},
                                                subresource="status")
        self._written[key] = (host_rv, written["metadata"]["resourceVersion"])


def _same(want: dict, current: dict) -> bool:
    return {k: v for k, v in want.items() if k != "metadata"} == \
        {k: v for k, v in current.items() if k != "metadata"} and \
        all(want["metadata"].get(p) == current["metadata"].get(p) for p in ("labels", "annotations"))
