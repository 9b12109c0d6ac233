"""Namespace lifecycle: empty a terminating namespace, then release it; seed new namespaces.

Seeding covers what kube's service-account and root-CA-publisher controllers put into every
namespace (the `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap), so workloads and
clients find them as on any cluster.
"""
from __future__ import annotations

import logging

from .. import errors
from ..api import DeleteOptions
from .reconciler import Reconciler

log = logging.getLogger("vapi.controllers")
RETRY_SECONDS = 1.0


class NamespaceController(Reconciler):
    user = "namespace-controller"
    primary = ("", "v1", "namespaces")
    workers = 4  # one namespace's slow emptying must not hold up the seeding of new ones

    def __init__(self, api, informers, recorder, clock, root_ca_path, seeders: dict | None = None):
        super().__init__(api, informers, recorder, clock)
        # plural -> the pipeline as the controller that seeds it in kube (service accounts, root CA)
        self.seeders = seeders or {}
        self.root_ca_path = root_ca_path  # written when the server starts, after this is made

    async def reconcile(self, namespace: None, name: str) -> float | None:
        ns = self.cache(*self.primary).get(None, name)
        if ns is None:
            return None
        if ns["metadata"].get("deletionTimestamp"):
            return await self.finalize(name)
        await self.seed(name)
        return None

    async def _ensure(self, group, plural, namespace, obj) -> None:
        info = self.api.registry.get(group, "v1", plural)
        if self.api.lookup(info, namespace, obj["metadata"]["name"]) is not None:
            return
        api = self.seeders.get(plural, self.api)
        try:
            await api.create(info, namespace, obj)
        except errors.StatusError as e:
            # Raced with the namespace's deletion or with a user creating the same object.
            if e.code not in (403, 404, 409):
                raise

    async def seed(self, namespace: str) -> None:
        await self._ensure("", "serviceaccounts", namespace, {"metadata": {"name": "default"}})
        root_ca = self.root_ca_path.read_text()
        if root_ca:
            await self._ensure("", "configmaps", namespace, {
                "metadata": {"name": "kube-root-ca.crt",
                             "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be "
                                             "used to verify the kube-apiserver when using internal endpoints "
                                             "such as the internal service IP or kubernetes.default.svc. No "
                                             "other usage is guaranteed across distributions of Kubernetes "
                                             "clusters."}},
                "data": {"ca.crt": root_ca}})

    def _namespaced_resources(self):
        seen = set()
        for info in self.api.registry.all():
            if info.namespaced and "delete" in info.verbs and (info.group, info.plural) not in seen:
                seen.add((info.group, info.plural))
                yield info

    async def finalize(self, namespace: str) -> float | None:
        """One pass of emptying a terminating namespace; seconds until the next while anything
        is left, and the namespace released once nothing is."""
        remaining = 0
        for info in list(self._namespaced_resources()):
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
        if remaining:
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
