"""What several translators do alike: the marks that pick one virtual namespace's pods on the host,
selectors narrowed to them, fields only one side may hold, and the host's status copied back."""
from __future__ import annotations

import copy

from .. import names


def marks(vc: str, namespace: str) -> dict[str, str]:
    """The labels every host pod of virtual namespace `namespace` of cluster `vc` carries."""
    return {names.MANAGED_BY: vc, names.NAMESPACE: namespace}


def narrowed(selector: dict | None, vc: str, namespace: str) -> dict:
    """A label selector (matchLabels/matchExpressions) that also requires the namespace's marks."""
    selector = copy.deepcopy(selector or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), **marks(vc, namespace)}
    return selector


def owned(obj: dict, host: dict | None, keys: tuple[str, ...], empty: dict) -> dict:
    """The top-level fields `keys` as the virtual object has them; one it lacks that the host copy
    has is sent empty (`empty[key]`), which the host stores as absent, so the two compare equal
    afterwards and no update is sent twice."""
    fields = {}
    for key in keys:
        if key in obj:
            fields[key] = copy.deepcopy(obj[key])
        elif host is not None and key in host and key in empty:
            fields[key] = empty[key]
    return fields


async def status_back(ctx, virtual: tuple[str, str, str], obj: dict, status: dict | None) -> None:
    """Make the virtual object's status the host copy's (the host owns status)."""
    if not status or status == obj.get("status"):
        return
    meta = obj["metadata"]
    await ctx.api.update(ctx.resource(*virtual), meta.get("namespace"), meta["name"],
                         {**obj, "status": copy.deepcopy(status)}, subresource="status")
