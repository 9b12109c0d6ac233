"""NamespaceLifecycle: nothing is created in a namespace that does not exist or is being
deleted, and the namespaces the cluster needs are never deleted.

Namespaces are looked up in a cache kept by an informer, as kube's plugin does, so a write costs
no storage read; a namespace the cache has not seen yet (created a moment ago), or one deleted a
moment ago that the cache may still show active, is looked up live.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from ..chain import CREATE, DELETE, UPDATE, Attributes, MutatingPlugin
from ..status import StatusError

IMMORTAL = frozenset(("default", "kube-system", "kube-public"))
# Asking about access leaks nothing about a namespace, so reviews are never refused here.
ACCESS_REVIEWS = frozenset(("localsubjectaccessreviews",))
# How long after its deletion a namespace is looked up live (kube's forceLiveLookupTTL).
FORCE_LIVE_SECONDS = 30.0


class NamespaceLifecycle(MutatingPlugin):
    name = "NamespaceLifecycle"
    operations = frozenset((CREATE, UPDATE, DELETE))

    def __init__(self, cached: Callable[[str], dict | None], live: Callable[[str], Awaitable[dict | None]]):
        self.cached = cached
        self.live = live
        # namespace -> until when to trust only the live state
        self._force_live: dict[str, float] = {}

    async def admit(self, attrs: Attributes) -> None:
        is_namespace = attrs.group == "" and attrs.kind == "Namespace"
        if is_namespace:
            if attrs.operation == DELETE:
                if attrs.name in IMMORTAL:
                    raise attrs.forbidden("this namespace may not be deleted")
                now = time.monotonic()
                self._force_live = {n: t for n, t in self._force_live.items() if t > now}
                self._force_live[attrs.name] = now + FORCE_LIVE_SECONDS
            return
        if not attrs.namespace or attrs.operation == DELETE:
            return
        if attrs.group == "authorization.k8s.io" and attrs.resource in ACCESS_REVIEWS:
            return
        namespace = self.cached(attrs.namespace)
        if namespace is None or self._recently_deleted(attrs.namespace):
            namespace = await self.live(attrs.namespace)
        if namespace is None:
            raise StatusError(404, "NotFound", f'namespaces "{attrs.namespace}" not found',
                                 {"name": attrs.namespace, "kind": "namespaces"})
        if attrs.operation == CREATE and (namespace["metadata"].get("deletionTimestamp")
                                          or namespace.get("status", {}).get("phase") == "Terminating"):
            raise attrs.forbidden(f"unable to create new content in namespace {attrs.namespace} "
                                  "because it is being terminated")

    def _recently_deleted(self, name: str) -> bool:
        until = self._force_live.get(name)
        if until is None:
            return False
        if until < time.monotonic():
            del self._force_live[name]
            return False
        return True
