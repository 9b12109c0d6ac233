"""The Store interface every backend implements, and the errors it raises.

Keys look like `/<group>/<resource>/<namespace>/<name>` (cluster-scoped objects leave the namespace
segment empty: `/rbac.authorization.k8s.io/clusterroles//admin`). A prefix ending in `/` ranges
over a resource or one namespace of it. Values are JSON-ready dicts; the store owns
`metadata.resourceVersion`, which it sets to the object's modification revision as a string.

Kept deliberately narrow, so that an etcd backend fits behind it too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Protocol


class StoreError(Exception):
    """Base of the storage errors; handlers turn them into Kubernetes Status answers."""


class KeyExists(StoreError):
    pass


class KeyNotFound(StoreError):
    pass


class Conflict(StoreError):
    """The caller's expected revision is not the object's current one."""


class Compacted(StoreError):
    """The revision asked for is older than the oldest one history still holds."""

    def __init__(self, requested: int, compacted: int):
        super().__init__(f"too old resource version: {requested} ({compacted})")
        self.requested = requested
        self.compacted = compacted


class FutureRevision(StoreError):
    """A read asked for a revision the store has not reached yet."""


@dataclass(frozen=True)
class Event:
    type: str          # "ADDED" | "MODIFIED" | "DELETED"
    key: str
    revision: int
    object: dict       # for DELETED: the object as it was deleted, resourceVersion = revision
    prev_object: dict | None = None  # the value before this event; None for ADDED


class Watch(Protocol):
    def __aiter__(self) -> AsyncIterator[Event]: ...
    async def close(self) -> None: ...
    # Set when the hub dropped a watcher that fell too far behind; iteration then ends.
    dropped: bool


class Store(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...

    @property
    def revision(self) -> int: ...            # newest committed revision
    @property
    def compacted_revision(self) -> int: ...  # events at or below it are gone

    async def create(self, key: str, obj: dict) -> dict: ...
    async def update(self, key: str, obj: dict, expected_revision: int | None = None) -> dict: ...
    async def delete(self, key: str, expected_revision: int | None = None) -> dict: ...

    def get(self, key: str) -> dict | None: ...
    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None,
             revision: int | None = None) -> tuple[list[dict], int, bool]: ...

    def watch(self, prefix: str, after_revision: int) -> Watch: ...
