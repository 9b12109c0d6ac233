"""Informers over the host: the shared informer's cache and handlers, fed by the host client.

Only the objects of one virtual cluster are listed and watched (by its managed-by label, in its
host namespace), so two virtual clusters on one host never see each other's objects.
"""
from __future__ import annotations

import logging

from vapi import errors
from vapi.controllers.informer import Informer

from .host import Host, HostResource


log = logging.getLogger("vapi.syncer")


class HostInformer(Informer):
    def __init__(self, host: Host, resource: HostResource, label_selector: str | None = None):
        super().__init__(None, resource)
        self.host = host
        self.label_selector = label_selector
        self._away: str | None = None   # what the host last answered instead of a list

    def _failed(self, error: Exception) -> None:
        """What the host answers (away, or refusing: no right to list nodes...) is said once
        until it changes, not with a trace each second."""
        if isinstance(error, errors.StatusError):
            if self._away != error.message:
                log.warning("host %s: %s; trying again each second", self.info.group_resource, error.message)
            self._away = error.message
            return
        super()._failed(error)

    async def _fetch(self) -> tuple[str, list[dict]]:
        listed = await self.host.list(self.info, self._namespace(), self.label_selector)
        if self._away:
            log.warning("host %s: listed again", self.info.group_resource)
            self._away = None
        return listed["metadata"].get("resourceVersion", ""), listed.get("items") or []

    def _namespace(self) -> str | None:
        return self.host.namespace if self.info.namespaced else None

    def _events(self, revision: str):
        return self.host.watch(self.info, revision, self._namespace(), self.label_selector)


class HostInformers:
    """One informer per host resource and selector, started on first request."""

    def __init__(self, host: Host):
        self.host = host
        self._informers: dict[tuple, HostInformer] = {}

    def get(self, resource: HostResource, label_selector: str | None = None) -> HostInformer:
        key = (resource, label_selector)
        informer = self._informers.get(key)
        if informer is None:
            informer = self._informers[key] = HostInformer(self.host, resource, label_selector)
            informer.start()
        return informer

    async def stop(self) -> None:
        for informer in self._informers.values():
            await informer.stop()
        self._informers.clear()
