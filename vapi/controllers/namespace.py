"""Namespace lifecycle: empty a terminating namespace, then release it; seed new namespaces.

Seeding covers what kube's service-account and root-CA-publisher controllers put into every
namespace (the `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap), so workloads and
clients find them as on any cluster.
"""
from __future__ import annotations

import asyncio
import logging

from .. import errors
from ..api import DeleteOptions
from .informer import ensure_task

log = logging.getLogger("vapi.controllers")
RETRY_SECONDS = 1.0


class NamespaceController:
    def __init__(self, api, informers, root_ca_path, seeders: dict | None = None):
        self.api = api
        # plural -> the pipeline as the controller that seeds it in kube (service accounts, root CA)
        self.seeders = seeders or {}
        self.informers = informers
        self.root_ca_path = root_ca_path
        self.root_ca = ""
        self.terminating: dict[str, asyncio.Task] = {}

    async def run(self) -> None:
        self.root_ca = self.root_ca_path.read_text()
        self.informers.get(self.api.registry.get("", "v1", "namespaces")).add_handler(self.handle)

    async def handle(self, event_type: str, ns: dict, prev) -> None:
        name = ns["metadata"]["name"]
        if event_type == "DELETED":
            return
        if ns["metadata"].get("deletionTimestamp"):
            ensure_task(self.terminating, name, lambda: self.finalize(name))
            return
        await self.seed(name)

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
        if self.root_ca:
            await self._ensure("", "configmaps", namespace, {
                "metadata": {"name": "kube-root-ca.crt",
                             "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be "
                                             "used to verify the kube-apiserver when using internal endpoints "
                                             "such as the internal service IP or kubernetes.default.svc. No "
                                             "other usage is guaranteed across distributions of Kubernetes "
                                             "clusters."}},
                "data": {"ca.crt": self.root_ca}})

    def _namespaced_resources(self):
        seen = set()
        for info in self.api.registry.all():
            if info.namespaced and "delete" in info.verbs and (info.group, info.plural) not in seen:
                seen.add((info.group, info.plural))
                yield info

    async def finalize(self, namespace: str) -> None:
        ns_info = self.api.registry.get("", "v1", "namespaces")
        while True:
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
            if remaining == 0:
                break
            await asyncio.sleep(RETRY_SECONDS)

        def release(ns: dict) -> dict:
            ns.setdefault("spec", {})["finalizers"] = [
                f for f in ns["spec"].get("finalizers", []) if f != "kubernetes"]
            return ns
        try:
            await self.api.guaranteed_update(ns_info, None, namespace, release, subresource="finalize")
        except errors.StatusError as e:
            if e.code != 404:
                raise
