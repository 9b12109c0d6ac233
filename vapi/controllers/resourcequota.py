"""ResourceQuota controller: keeps each quota's `status.hard` equal to its spec and `status.used`
equal to what its namespace holds.

Admission charges creates as they happen; this controller counts from scratch when a quota is new
or changed, when something a quota counts goes away or stops counting (a pod that finished), and
every RESYNC_SECONDS, so that usage charged for a write that then failed is given back. Recounts
take the same per-namespace lock as admission's charges.
"""
from __future__ import annotations

import asyncio
import logging

from admission import quota as q
from admission.quantity import ZERO, render_list, resource_list

from .informer import ensure_task

log = logging.getLogger("vapi.controllers")
RESYNC_SECONDS = 30.0
# The kinds whose objects quotas count under legacy names; others are watched once a quota names
# their count/<resource>.<group>.
ALWAYS_WATCHED = (("", "pods"), ("", "services"), ("", "persistentvolumeclaims"), ("", "configmaps"),
                  ("", "secrets"), ("", "replicationcontrollers"))


class ResourceQuotaController:
    def __init__(self, api, informers, lookups, locks: q.NamespaceLocks):
        self.api = api
        self.informers = informers
        self.lookups = lookups
        self.locks = locks
        self.watched: set[tuple[str, str]] = set()
        self.pending: dict[str, asyncio.Task] = {}
        self.dirty: set[str] = set()

    async def run(self) -> None:
        self.informers.get(self.api.registry.get("", "v1", "resourcequotas")).add_handler(self.on_quota)
        for group, plural in ALWAYS_WATCHED:
            self._watch(group, plural)
        while True:
            await asyncio.sleep(RESYNC_SECONDS)
            quotas = self.lookups.list("", "resourcequotas", None)
            for quota in quotas:
                self._watch_counted(quota)
            for namespace in {o["metadata"]["namespace"] for o in quotas}:
                self.recount(namespace)

    def _watch(self, group: str, plural: str) -> None:
        if (group, plural) in self.watched:
            return
        info = next((i for i in self.api.registry.all() if (i.group, i.plural) == (group, plural) and i.namespaced),
                    None)
        if info is None:
            return  # not served (yet): a custom resource's CRD may come later; the resync counts it then
        self.watched.add((group, plural))

        async def on_object(event_type: str, obj: dict, prev: dict | None) -> None:
            namespace = obj["metadata"].get("namespace")
            if not namespace or not self.lookups.list("", "resourcequotas", namespace):
                return
            # Creates are charged by admission; only what gives usage back needs a recount.
            if event_type == "DELETED" or (prev is not None and self._usage(group, plural, prev) !=
                                           self._usage(group, plural, obj)):
                self.recount(namespace)
        self.informers.get(info).add_handler(on_object)

    def _watch_counted(self, quota: dict) -> None:
        for name in (quota.get("spec") or {}).get("hard") or {}:
            if name.startswith("count/"):
                resource, _, group = name[len("count/"):].partition(".")
                self._watch(group, resource)

    @staticmethod
    def _usage(group, plural, obj):
        return {n: v.value for n, v in q.usage(group, plural, obj).items()}

    async def on_quota(self, event_type: str, quota: dict, prev: dict | None) -> None:
        if event_type == "DELETED":
            self.recount(quota["metadata"]["namespace"])  # the others count one quota less
            return
        self._watch_counted(quota)
        status = quota.get("status") or {}
        hard = (quota.get("spec") or {}).get("hard") or {}
        if render_list(resource_list(status.get("hard"))) != render_list(resource_list(hard)) or \
                set(hard) - set(status.get("used") or {}) or prev is None or prev.get("spec") != quota.get("spec"):
            self.recount(quota["metadata"]["namespace"])

    def recount(self, namespace: str) -> None:
        self.dirty.add(namespace)
        ensure_task(self.pending, namespace, lambda: self._recount(namespace))

    async def _recount(self, namespace: str) -> None:
        while namespace in self.dirty:
            await asyncio.sleep(0)  # let a burst of events ask once
            self.dirty.discard(namespace)
            async with self.locks(namespace):
                for quota in self.lookups.live_list("", "resourcequotas", namespace):
                    await self._sync(namespace, quota)

    async def _sync(self, namespace: str, quota: dict) -> None:
        hard = resource_list((quota.get("spec") or {}).get("hard"))
        used = {name: ZERO for name in hard}
        for group, plural in self.watched | {("", "resourcequotas")}:
            names = [n for n in hard if q.tracked(group, plural, n)]
            if not names:
                continue
            for obj in self.lookups.live_list(group, plural, namespace):
                if not q.quota_matches(quota, group, plural, obj):
                    continue
                cost = q.usage(group, plural, obj)
                for name in names:
                    if name in cost:
                        used[name] = used[name] + cost[name]
        status = {"hard": render_list(hard), "used": render_list(used)}
        if quota.get("status") == status:
            return
        written = await self.lookups.write_status("", "resourcequotas", dict(quota, status=status))
        if written is None:
            log.info("resource quota %s/%s changed while recounted; counting again", namespace,
                     quota["metadata"]["name"])
            asyncio.get_running_loop().call_later(0.1, self.recount, namespace)
