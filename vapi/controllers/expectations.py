"""Controller expectations, as kube's ReplicaSet and Job controllers keep them.

A controller that has just created or deleted pods must not act again on a cache that has not
seen those writes yet, or it would create them twice. It records how many creations and
deletions it expects per owner; the informer's events count them off; until they are all seen
(or EXPECTATIONS_TIMEOUT passes, in case a watch event was lost) the owner only updates status.
"""
from __future__ import annotations

import time
from collections.abc import Hashable

EXPECTATIONS_TIMEOUT = 300.0


class Expectations:
    def __init__(self, timeout: float = EXPECTATIONS_TIMEOUT):
        self.timeout = timeout
        # owner key -> [creations pending, deletions pending, set at (monotonic seconds)]
        self._pending: dict[Hashable, list] = {}

    def expect(self, key: Hashable, creations: int = 0, deletions: int = 0) -> None:
        self._pending[key] = [creations, deletions, time.monotonic()]

    def raise_expectations(self, key: Hashable, creations: int = 0, deletions: int = 0) -> None:
        pending = self._pending.setdefault(key, [0, 0, time.monotonic()])
        pending[0] += creations
        pending[1] += deletions

    def creation_observed(self, key: Hashable) -> None:
        pending = self._pending.get(key)
        if pending is not None:
            pending[0] -= 1

    def deletion_observed(self, key: Hashable) -> None:
        pending = self._pending.get(key)
        if pending is not None:
            pending[1] -= 1

    def satisfied(self, key: Hashable) -> bool:
        pending = self._pending.get(key)
        if pending is None:
            return True
        if (pending[0] <= 0 and pending[1] <= 0) or time.monotonic() - pending[2] > self.timeout:
            return True
        return False

    def forget(self, key: Hashable) -> None:
        self._pending.pop(key, None)
