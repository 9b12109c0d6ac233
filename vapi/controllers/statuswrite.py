"""A controller's status write: only when something changed, keeping what others own there."""
from __future__ import annotations

import copy

from .. import errors


async def write_status(api, info, obj: dict, status: dict, kept: tuple[str, ...] = ("conditions",)) -> None:
    """Set `obj`'s status to `status`, keeping the `kept` fields the stored status has (conditions
    users and other controllers write); nothing is written when that changes nothing, and an
    object deleted meanwhile is left alone."""
    old = obj.get("status") or {}
    if {**{k: old[k] for k in kept if k in old}, **status} == old:
        return

    def mutate(current):
        stored = current.get("status") or {}
        current["status"] = {**{k: stored[k] for k in kept if k in stored}, **copy.deepcopy(status)}
        return current
    meta = obj["metadata"]
    try:
        await api.guaranteed_update(info, meta.get("namespace"), meta["name"], mutate, subresource="status")
    except errors.StatusError as e:
        if e.code != 404:
            raise
