"""pods/eviction: a delete that honours the pod's disruption budget, as kube's eviction REST does.

A pod that has finished, is still Pending or is already being deleted is deleted at once. Else the
one budget selecting it decides: none, and the pod goes; more than one is an error; an unready pod
goes without spending the budget when the budget says AlwaysAllow, or (IfHealthyBudget, the
default) when enough others are healthy; otherwise an eviction is allowed only while
`disruptionsAllowed` is above zero, and taking it is written into the budget's status (one less
allowed, the pod listed in `disruptedPods`) before the pod is deleted, so two evictions racing for
the last disruption cannot both win. A refusal is kube's 429 with the DisruptionBudget cause. The
pod is marked `DisruptionTarget` before it is deleted with the Eviction's deleteOptions.
"""
from __future__ import annotations

import datetime as dt

from .. import errors
from ..api import DeleteOptions, WriteOptions
from ..registry.strategies import rfc3339
from ..subresources import Subresource
from .disruption import PDBS, pdbs_for_pod, set_allowed_condition
from .node_pods import marked_for_disruption
from .pods import is_pod_ready, pod_condition

TOO_MANY = "Cannot evict pod as it would violate the pod's disruption budget."
RETRIES = 5
MAX_DISRUPTED_PODS = 2000
KINDS = ("policy/v1", "policy/v1beta1")


def too_many_requests(cause: str, retry_after: int = 0) -> errors.StatusError:
    details = {"causes": [{"reason": "DisruptionBudget", "message": cause}]}
    if retry_after:
        details["retryAfterSeconds"] = retry_after
    return errors.StatusError(429, "TooManyRequests", TOO_MANY, details)


def still_processing(pdb_name: str) -> errors.StatusError:
    return too_many_requests(f"The disruption budget {pdb_name} is still being processed by the server.", 10)


def _forbidden(pdb_name: str, why: str) -> errors.StatusError:
    return errors.StatusError(403, "Forbidden", f'poddisruptionbudget.policy "{pdb_name}" is forbidden: {why}',
                              {"name": pdb_name, "group": "policy", "kind": "poddisruptionbudget"})


def _delete_options(body: dict, opts) -> DeleteOptions:
    given = body.get("deleteOptions") or {}
    if not isinstance(given, dict):
        raise errors.bad_request("the body must be a policy/v1 Eviction")
    grace = given.get("gracePeriodSeconds")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int)):
        raise errors.bad_request("deleteOptions.gracePeriodSeconds must be an integer")
    return DeleteOptions(grace_period_seconds=grace, propagation_policy=given.get("propagationPolicy"),
                         preconditions=dict(given.get("preconditions") or {}) or None,
                         dry_run=opts.dry_run or given.get("dryRun") == ["All"], user=opts.user)


def _can_ignore_budget(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Pending") or \
        bool(pod["metadata"].get("deletionTimestamp"))


class Eviction(Subresource):
    def __init__(self):
        super().__init__("eviction")

    async def create(self, api, info, namespace, name, body, opts) -> dict:
        if not isinstance(body, dict) or body.get("kind", "Eviction") != "Eviction" or \
                body.get("apiVersion", "policy/v1") not in KINDS:
            raise errors.bad_request("the body must be a policy/v1 Eviction")
        if (body.get("metadata") or {}).get("name") != name:
            raise errors.bad_request("name in URL does not match name in Eviction object")
        options = _delete_options(body, opts)
        pod = api.get(info, namespace, name)
        guarded_by = await self._spend_budget(api, pod, options) if not _can_ignore_budget(pod) else None
        await self._delete(api, info, pod, options, guarded_by)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    async def _spend_budget(self, api, pod: dict, options: DeleteOptions) -> str | None:
        """Take one disruption from the pod's budget, or refuse; the budget's name when the pod
        may go only as it is now (unready, not counted), so a later conflict means "try again"."""
        pdb_info = api.registry.get(*PDBS)
        pdbs = pdbs_for_pod(api.each(pdb_info, pod["metadata"]["namespace"])[1], pod)
        if len(pdbs) > 1:
            raise errors.StatusError(500, "", "This pod has more than one PodDisruptionBudget, which the eviction "
                                     "subresource does not support.")
        if not pdbs:
            return None
        pdb = pdbs[0]
        if not is_pod_ready(pod):
            status = pdb.get("status") or {}
            policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy")
            healthy_enough = status.get("currentHealthy", 0) >= status.get("desiredHealthy", 0) > 0
            if policy == "AlwaysAllow" or healthy_enough:
                # Not counted by the budget: deleted only if it has not turned ready meanwhile.
                if (options.preconditions or {}).get("resourceVersion"):
                    return None
                options.preconditions = {**(options.preconditions or {}),
                                         "resourceVersion": pod["metadata"]["resourceVersion"]}
                return pdb["metadata"]["name"]
        namespace, pdb_name = pdb["metadata"]["namespace"], pdb["metadata"]["name"]
        for _ in range(RETRIES):
            try:
                await self._decrement(api, pdb_info, pdb, pod["metadata"]["name"], options.dry_run)
                return None
            except errors.StatusError as e:
                if e.code != 409:
                    raise
            pdb = api.get(pdb_info, namespace, pdb_name)
        raise errors.StatusError(504, "Timeout", f'couldn\'t update PodDisruptionBudget "{pdb_name}" due to '
                                 "conflicts", {"retryAfterSeconds": 10})

    async def _decrement(self, api, pdb_info, pdb: dict, pod_name: str, dry_run: bool) -> None:
        meta, status = pdb["metadata"], dict(pdb.get("status") or {})
        if status.get("observedGeneration", 0) < meta.get("generation", 1):
            raise still_processing(meta["name"])
        allowed = status.get("disruptionsAllowed", 0)
        if allowed < 0:
            raise _forbidden(meta["name"], "pdb disruptions allowed is negative")
        if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_PODS:
            raise _forbidden(meta["name"], "DisruptedPods map too big - too many evictions not confirmed by PDB "
                             "controller")
        if allowed == 0:
            raise too_many_requests(f"The disruption budget {meta['name']} needs {status.get('desiredHealthy', 0)} "
                                    f"healthy pods and has {status.get('currentHealthy', 0)} currently")
        status["disruptionsAllowed"] = allowed - 1
        now = rfc3339(int(dt.datetime.now(dt.timezone.utc).timestamp()))
        if status["disruptionsAllowed"] == 0:
            set_allowed_condition(status, now)
        if dry_run:
            return
        status["disruptedPods"] = {**(status.get("disruptedPods") or {}), pod_name: now}
        await api.update(pdb_info, meta["namespace"], meta["name"], {**pdb, "status": status}, subresource="status")

    async def _delete(self, api, info, pod: dict, options: DeleteOptions, guarded_by: str | None) -> None:
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        if not options.dry_run:
            wanted = {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                      "message": "Eviction API: evicting"}

            def mark(current: dict) -> dict:
                pre = options.preconditions or {}
                for field, key in (("uid", "uid"), ("resourceVersion", "resourceVersion")):
                    if pre.get(field) and pre[field] != current["metadata"].get(key):
                        raise errors.conflict(info, name, f"the {'UID' if field == 'uid' else 'ResourceVersion'} "
                                              f"in the precondition ({pre[field]}) does not match the "
                                              f"{'UID' if field == 'uid' else 'ResourceVersion'} in record "
                                              f"({current['metadata'].get(key)}). The object might have been "
                                              f"{'deleted and then recreated' if field == 'uid' else 'modified'}")
                old = pod_condition(current, "DisruptionTarget")
                if old is None or any(old.get(k) != v for k, v in wanted.items()):
                    marked_for_disruption(current, wanted["reason"], wanted["message"],
                                          dt.datetime.now(dt.timezone.utc))
                return current
            if not pod["metadata"].get("deletionTimestamp") and \
                    (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                updated = await api.guaranteed_update(info, namespace, name, mark, subresource="status",
                                                      opts=WriteOptions(user=options.user))
                if (options.preconditions or {}).get("resourceVersion"):
                    options.preconditions["resourceVersion"] = updated["metadata"]["resourceVersion"]
        try:
            await api.delete(info, namespace, name, options)
        except errors.StatusError as e:
            if e.code == 409 and guarded_by:
                raise still_processing(guarded_by) from e
            raise
