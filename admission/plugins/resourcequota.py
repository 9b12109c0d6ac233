"""ResourceQuota: a write that would take a namespace past one of its quotas is refused, and one
that fits is charged to the quotas' `status.used` before it is stored, as kube's plugin does.

Charges in one namespace are taken one at a time (a lock per namespace, shared with the quota
controller's recounts), each reading the quotas as stored and writing their status only if no one
changed them meanwhile, so two creates racing for the last unit never both pass. A quota is only
enforced once the controller has filled in its status, as in kube.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from .. import quota as q
from ..chain import CREATE, UPDATE, Attributes, ValidatingPlugin
from ..quantity import ZERO, Quantity, render_list, resource_list
from ..status import StatusError

QUOTA_GROUP, QUOTA_PLURAL = "", "resourcequotas"
ATTEMPTS = 5


def _pretty(items: dict[str, Quantity]) -> str:
    return ",".join(f"{name}={value}" for name, value in sorted(items.items()))


class ResourceQuota(ValidatingPlugin):
    name = "ResourceQuota"
    operations = frozenset((CREATE, UPDATE))

    def __init__(self, live_quotas: Callable[[str], list[dict]],
                 write_status: Callable[[str, str, dict], Awaitable[dict | None]], locks: q.NamespaceLocks):
        self.live_quotas = live_quotas
        self.write_status = write_status
        self.locks = locks

    def _delta(self, attrs: Attributes) -> dict[str, Quantity]:
        new = q.usage(attrs.group, attrs.resource, attrs.object)
        if attrs.operation == CREATE:
            return new
        if (attrs.group, attrs.resource) not in (("", "services"), ("", "persistentvolumeclaims")):
            return {}  # kube charges updates only where they can grow usage
        old = q.usage(attrs.group, attrs.resource, attrs.old_object)
        return {n: v - old.get(n, ZERO) for n, v in new.items() if v.value > old.get(n, ZERO).value}

    async def validate(self, attrs: Attributes) -> None:
        if attrs.subresource or not attrs.namespace or attrs.object is None:
            return
        delta = self._delta(attrs)
        if not delta and attrs.operation == UPDATE:
            return
        async with self.locks(attrs.namespace):
            for _ in range(ATTEMPTS):
                charges = self._check(attrs, delta, self.live_quotas(attrs.namespace))
                if attrs.dry_run or await self._charge(charges):
                    return
        raise StatusError(500, "InternalError", "Internal error occurred: resource quota status kept changing "
                          "while this request was charged; try again")

    def _check(self, attrs: Attributes, delta: dict[str, Quantity], quotas: list[dict]) -> list[dict]:
        """kube's checkRequest: the quotas the write changes, with their new usage; refuses the write
        when a pod misses a required request or limit, a quota's usage is unknown, or a quota would
        be exceeded."""
        charged = []
        for quota in sorted(quotas, key=lambda o: o["metadata"]["name"]):
            if not q.quota_matches(quota, attrs.group, attrs.resource, attrs.object):
                continue
            name = quota["metadata"]["name"]
            status = quota.get("status") or {}
            hard, used = resource_list(status.get("hard")), resource_list(status.get("used"))
            restricted = {n for n in hard if q.tracked(attrs.group, attrs.resource, n)}
            if (attrs.group, attrs.resource) == ("", "pods") and attrs.operation == CREATE:
                missing = q.missing_requirements(attrs.object, restricted)
                if missing:
                    raise attrs.forbidden(f"failed quota: {name}: must specify {missing}")
            if not restricted:
                continue
            if any(n not in used for n in restricted):
                raise attrs.forbidden(f"status unknown for quota: {name}, resources: {','.join(sorted(restricted))}")
            requested = {n: delta[n] for n in restricted if n in delta}
            if not requested:
                continue
            new_used = {n: used[n] + v for n, v in requested.items()}
            exceeded = sorted(n for n, v in new_used.items() if v.value > hard[n].value)
            if exceeded:
                raise attrs.forbidden(
                    f"exceeded quota: {name}, requested: {_pretty({n: requested[n] for n in exceeded})}, "
                    f"used: {_pretty({n: used[n] for n in exceeded})}, "
                    f"limited: {_pretty({n: hard[n] for n in exceeded})}")
            status = dict(status, used=dict(status.get("used") or {}, **render_list(new_used)))
            charged.append(dict(quota, status=status))
        return charged

    async def _charge(self, charges: list[dict]) -> bool:
        """Write each quota's new usage; False when one changed meanwhile (the charge is read again;
        quotas already charged stay charged until the controller's recount, as in kube)."""
        for quota in charges:
            if await self.write_status(QUOTA_GROUP, QUOTA_PLURAL, quota) is None:
                return False
        return True
