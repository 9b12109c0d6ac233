"""Garbage collection by ownerReferences, with kube's three propagation policies.

Background: the owner is gone at once; its dependents are deleted here when its DELETED event
arrives. Foreground: the owner waits, with deletionTimestamp and the `foregroundDeletion`
finalizer, until every dependent is gone. Orphan: dependents lose their reference to the owner,
then the owner's `orphan` finalizer is removed.
"""
from __future__ import annotations

import asyncio
import logging

from .. import errors
from ..api import DeleteOptions

log = logging.getLogger("vapi.controllers")
# How soon a newly served resource (a new CRD's) is garbage-collected too.
REGISTRY_POLL_SECONDS = 0.5


def _owner_uids(obj: dict | None) -> set[str]:
    if not obj:
        return set()
    return {ref.get("uid") for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("uid")}


class GarbageCollector:
    def __init__(self, api, informers):
        self.api = api
        self.informers = informers
        # owner uid -> {(group, plural, namespace, name)} of objects that name it as owner
        self.dependents: dict[str, set[tuple]] = {}

    async def run(self) -> None:
        """One informer per deletable resource, following the registry as CRDs come and go."""
        watched: set[tuple[str, str]] = set()
        generation, generation_seen = None, False
        while True:
            if generation != self.api.registry.generation:
                generation = self.api.registry.generation
                served = {}
                for info in self.api.registry.all():
                    if "delete" in info.verbs:
                        served.setdefault((info.group, info.plural), info)
                for gone in watched - served.keys():
                    watched.discard(gone)
                    await self.informers.remove(*gone)
                new = served.keys() - watched
                for key in new:
                    watched.add(key)
                    self.informers.get(served[key]).add_handler(self._handler(served[key]))
                if new and generation_seen:
                    # Owners of a newly served kind may have come and gone before its informer
                    # started: check their dependents against the store, as kube's GC checks
                    # owners it has not observed yet ("virtual" nodes).
                    await self._verify_owners({served[key].kind for key in new})
                generation_seen = True
            await asyncio.sleep(REGISTRY_POLL_SECONDS)

    async def _verify_owners(self, kinds: set[str]) -> None:
        for deps in list(self.dependents.values()):
            for dep in list(deps):
                info = self._info(dep[0], dep[1])
                obj = info and self.api.lookup(info, dep[2], dep[3])
                refs = (obj or {}).get("metadata", {}).get("ownerReferences") or []
                if any(r.get("kind") in kinds and not self._owner_alive(obj, r) for r in refs):
                    try:
                        await self._collect(dep)
                    except errors.StatusError as e:
                        if e.code not in (404, 409):
                            raise

    def _handler(self, info):
        async def handle(event_type, obj, prev):
            ref = (info.group, info.plural, obj["metadata"].get("namespace"), obj["metadata"]["name"])
            for uid in _owner_uids(prev) - _owner_uids(obj if event_type != "DELETED" else None):
                self.dependents.get(uid, set()).discard(ref)
            if event_type != "DELETED":
                for uid in _owner_uids(obj):
                    self.dependents.setdefault(uid, set()).add(ref)
            try:
                await self._reconcile(info, event_type, obj)
            except errors.StatusError as e:
                if e.code not in (404, 409):
                    log.warning("garbage collector: %s %s: %s", info.plural, obj["metadata"]["name"], e.message)
        return handle

    def _info(self, group, plural):
        for info in self.api.registry.all():
            if info.group == group and info.plural == plural:
                return info
        return None

    def _owner(self, dependent: dict, ref: dict) -> tuple:
        """(info, owner object) for an ownerReference; the object is None when that owner is gone."""
        group, _, version = ref.get("apiVersion", "").rpartition("/")
        info = self.api.registry.by_kind(group, version, ref.get("kind", ""))
        if info is None:
            return None, None
        ns = dependent["metadata"].get("namespace") if info.namespaced else None
        owner = self.api.lookup(info, ns, ref.get("name", ""))
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return info, None
        return info, owner

    def _owner_alive(self, dependent: dict, ref: dict) -> bool:
        return self._owner(dependent, ref)[1] is not None

    def _owner_solid(self, dependent: dict, ref: dict) -> bool:
        """Present and not itself waiting, in foreground deletion, for its dependents to go."""
        owner = self._owner(dependent, ref)[1]
        return owner is not None and "foregroundDeletion" not in (owner["metadata"].get("finalizers") or [])

    async def _reconcile(self, info, event_type: str, obj: dict) -> None:
        meta = obj["metadata"]
        uid = meta.get("uid")
        if event_type == "DELETED":
            for dep in list(self.dependents.pop(uid, ())):
                await self._collect(dep)
            for owner_uid in _owner_uids(obj):
                await self._wake_foreground_owner(obj, owner_uid)
            return
        if event_type == "ADDED" and meta.get("ownerReferences"):
            # Found at (re)list time: its owners may have gone while nobody was watching.
            if not any(self._owner_alive(obj, ref) for ref in meta["ownerReferences"]):
                await self._delete(info, obj, "Background")
        if meta.get("deletionTimestamp"):
            finalizers = meta.get("finalizers") or []
            if "orphan" in finalizers:
                for dep in list(self.dependents.get(uid, ())):
                    await self._drop_reference(dep, uid)
                await self._remove_finalizer(info, obj, "orphan")
            elif "foregroundDeletion" in finalizers:
                pending = self.dependents.get(uid, set())
                for dep in list(pending):
                    await self._collect(dep, policy="Foreground")
                if not pending:
                    await self._remove_finalizer(info, obj, "foregroundDeletion")
        for owner_uid in _owner_uids(obj):
            await self._wake_foreground_owner(obj, owner_uid)

    async def _wake_foreground_owner(self, dependent: dict, owner_uid: str) -> None:
        """A foreground-deleting owner finishes when its last dependent is gone."""
        for ref in dependent["metadata"].get("ownerReferences") or []:
            if ref.get("uid") != owner_uid:
                continue
            info, owner = self._owner(dependent, ref)
            if owner and "foregroundDeletion" in (owner["metadata"].get("finalizers") or []) \
                    and not self.dependents.get(owner_uid):
                await self._remove_finalizer(info, owner, "foregroundDeletion")

    async def _collect(self, dep: tuple, policy: str = "Background") -> None:
        group, plural, namespace, name = dep
        info = self._info(group, plural)
        obj = info and self.api.lookup(info, namespace, name)
        if obj is None:
            return
        refs = obj["metadata"].get("ownerReferences") or []
        if any(self._owner_solid(obj, r) for r in refs):
            # Another owner still wants it: only the references to vanished owners go.
            await self._set_references(info, obj, [r for r in refs if self._owner_alive(obj, r)])
        elif not obj["metadata"].get("deletionTimestamp"):
            await self._delete(info, obj, policy)

    async def _delete(self, info, obj: dict, policy: str) -> None:
        meta = obj["metadata"]
        await self.api.delete(info, meta.get("namespace"), meta["name"],
                              DeleteOptions(propagation_policy=policy, preconditions={"uid": meta["uid"]}))

    async def _drop_reference(self, dep: tuple, owner_uid: str) -> None:
        group, plural, namespace, name = dep
        info = self._info(group, plural)
        obj = info and self.api.lookup(info, namespace, name)
        if obj is not None:
            await self._set_references(info, obj, [r for r in obj["metadata"].get("ownerReferences") or []
                                                   if r.get("uid") != owner_uid])

    async def _set_references(self, info, obj: dict, refs: list[dict]) -> None:
        def mutate(current):
            if refs:
                current["metadata"]["ownerReferences"] = refs
            else:
                current["metadata"].pop("ownerReferences", None)
            return current
        meta = obj["metadata"]
        await self.api.guaranteed_update(info, meta.get("namespace"), meta["name"], mutate)

    async def _remove_finalizer(self, info, obj: dict, finalizer: str) -> None:
        def mutate(current):
            current["metadata"]["finalizers"] = [f for f in current["metadata"].get("finalizers") or []
                                                 if f != finalizer]
            return current
        meta = obj["metadata"]
        await self.api.guaranteed_update(info, meta.get("namespace"), meta["name"], mutate)
