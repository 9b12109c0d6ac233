"""Namespace lifecycle: empty a terminating namespace, then release it.

Pods go first (kube's OrderedNamespaceDeletion): nothing else in the namespace is deleted while
a pod remains, so a pod never outlives the ServiceAccount, Secrets or ConfigMaps it runs with.
"""
from __future__ import annotations

import logging

from .. import errors
from ..api import DeleteOptions
from .reconciler import Reconciler

log = logging.getLogger("vapi.controllers")
RETRY_SECONDS = 1.0
PODS = ("", "pods")


class NamespaceController(Reconciler):
    user = "namespace-controller"
    primary = ("", "v1", "namespaces")
    workers = 4  # one namespace's slow emptying must not hold up another's

    async def reconcile(self, namespace: None, name: str) -> float | None:
        ns = self.cache(*self.primary).get(None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        return await self.finalize(name)

    def _namespaced_resources(self):
        seen = set()
        for info in self.api.registry.all():
            if info.namespaced and "delete" in info.verbs and (info.group, info.plural) not in seen:
                seen.add((info.group, info.plural))
                yield info

    async def _empty(self, namespace: str, infos) -> int:
        """Delete what these resources hold in the namespace; how many objects are left."""
        remaining = 0
        for info in infos:
            # Taken whole before the first delete: later pages read at an old revision could
            # meet compacted history while the deletes run.
            try:
                objects = list(self.api.each(info, namespace)[1])
            except errors.StatusError as e:  # not allowed (yet): the controller's role decides
                log.warning("namespace %s: listing %s: %s", namespace, info.plural, e.message)
                remaining += 1
                continue
            for obj in objects:
                remaining += 1
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    await self.api.delete(info, namespace, obj["metadata"]["name"],
                                          DeleteOptions(propagation_policy="Background"))
                except errors.StatusError as e:
                    if e.code != 404:
                        log.warning("namespace %s: deleting %s/%s: %s", namespace, info.plural,
                                    obj["metadata"]["name"], e.message)
        return remaining

    async def finalize(self, namespace: str) -> float | None:
        """One pass of emptying a terminating namespace; seconds until the next while anything
        is left, and the namespace released once nothing is."""
        resources = list(self._namespaced_resources())
        pods = [info for info in resources if (info.group, info.plural) == PODS]
        if await self._empty(namespace, pods):
            return RETRY_SECONDS
        if await self._empty(namespace, [info for info in resources if info not in pods]):
            return RETRY_SECONDS

        def release(ns: dict) -> dict:
            ns.setdefault("spec", {})["finalizers"] = [
                f for f in ns["spec"].get("finalizers", []) if f != "kubernetes"]
            return ns
        try:
            await self.api.guaranteed_update(self.resource(*self.primary), None, namespace, release,
                                             subresource="finalize")
        except errors.StatusError as e:
            if e.code != 404:
                raise
        return None
