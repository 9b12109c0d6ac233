"""Built-in controllers: level-triggered loops over the in-process API.

Each controller registers handlers on the process's shared informers (`informer.py`), which list,
then watch, and list again whenever the watch is lost, so a missed event is never missed for long.
"""
from __future__ import annotations

import asyncio
import logging

from .crd import CRDController
from .csrsigning import CSRSigner
from .garbagecollector import GarbageCollector
from .namespace import NamespaceController
from .resourcequota import ResourceQuotaController
from .serviceaccount_tokens import TokensController

log = logging.getLogger("vapi.controllers")


class Controllers:
    def __init__(self, api, informers, pki, token_signer, lookups, quota_locks):
        self.informers = informers
        self.crds = CRDController(api, informers)
        self.controllers = [self.crds, NamespaceController(api, informers, pki.ca_cert),
                            GarbageCollector(api, informers),
                            ResourceQuotaController(api, informers, lookups, quota_locks),
                            TokensController(api, informers, token_signer, pki.ca_cert),
                            CSRSigner(api, informers, pki)]
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(c.run(), name=type(c).__name__) for c in self.controllers]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.informers.stop()
