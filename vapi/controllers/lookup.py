"""The reads and writes admission plugins need from the cluster, handed to them by the composition
root (the admission layer imports nothing from the server).

Reads come from the shared informers' caches, as kube's plugins read listers; what a cache has not
seen yet (an informer still syncing, an object created a moment ago) is read from the store.
"""
from __future__ import annotations

from .. import errors
from ..api import WriteOptions


class Lookups:
    def __init__(self, api, informers):
        self.api = api
        self.informers = informers

    def _info(self, group: str, plural: str):
        info = self.api.registry.get(group, "v1", plural)
        if info is None:  # a group without v1 (or a custom resource): any version reads the same objects
            info = next(i for i in self.api.registry.all() if (i.group, i.plural) == (group, plural))
        return info

    def get(self, group: str, plural: str, namespace: str | None, name: str) -> dict | None:
        info = self._info(group, plural)
        informer = self.informers.get(info)
        found = informer.get(namespace, name) if informer.synced.is_set() else None
        return found if found is not None else self.api.lookup(info, namespace, name)

    def live_get(self, group: str, plural: str, namespace: str | None, name: str) -> dict | None:
        return self.api.lookup(self._info(group, plural), namespace, name)

    def list(self, group: str, plural: str, namespace: str | None) -> list[dict]:
        info = self._info(group, plural)
        informer = self.informers.get(info)
        if informer.synced.is_set():
            return informer.list(namespace)
        return self.live_list(group, plural, namespace)

    def live_list(self, group: str, plural: str, namespace: str | None) -> list[dict]:
        return list(self.api.each(self._info(group, plural), namespace)[1])

    async def write_status(self, group: str, plural: str, obj: dict) -> dict | None:
        """Write the object's status if it is still at the resourceVersion it carries; None when
        it changed (or went) meanwhile, for the caller to read again."""
        meta = obj["metadata"]
        try:
            return await self.api.update(self._info(group, plural), meta.get("namespace"), meta["name"], obj,
                                         subresource="status", opts=WriteOptions(field_manager="vapi"))
        except errors.StatusError as e:
            if e.code in (404, 409):
                return None
            raise
