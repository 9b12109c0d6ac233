"""PodDisruptionBudget status, as kube's disruption-controller computes it.

For each budget: the pods its selector picks (an empty selector picks every pod of the namespace),
how many of them are healthy (Ready, not being deleted, and not recently promised to an eviction
that has not happened yet), how many must stay healthy (minAvailable as a number, or a percentage
or maxUnavailable taken of the replicas the pods' controllers ask for, rounded up), and so how
many disruptions are allowed now. The `DisruptionAllowed` condition says SufficientPods or
InsufficientPods; a budget whose expected count cannot be worked out is failed safe (no
disruptions, SyncFailed). Evictions promised more than two minutes ago whose pod still stands are
forgotten, as kube's DeletionTimeout does.
"""
from __future__ import annotations

import datetime as dt
import math

from admission.gotime import parse_rfc3339

from ..registry.strategies import rfc3339
from .pods import controller_ref, is_pod_ready, label_selector
from .reconciler import Reconciler

PDBS = ("policy", "v1", "poddisruptionbudgets")
CONDITION = "DisruptionAllowed"
DELETION_TIMEOUT = 120.0   # seconds an eviction's promise holds the pod out of the healthy count


class ScaleError(Exception):
    pass


def pdb_matches(pdb: dict, pod: dict) -> bool:
    try:
        return label_selector((pdb.get("spec") or {}).get("selector")).matches(pod["metadata"].get("labels") or {})
    except ValueError:  # an invalid selector matches nothing
        return False


def pdbs_for_pod(pdbs, pod: dict) -> list[dict]:
    return [pdb for pdb in pdbs if pdb["metadata"].get("namespace") == pod["metadata"].get("namespace")
            and pdb_matches(pdb, pod)]


def scaled_value(value, total: int) -> int:
    """An IntOrString of `total`, a percentage rounded up (intstr.GetScaledValueFromIntOrPercent)."""
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%") or not text[:-1].lstrip("-").isdigit():
        raise ScaleError(f'invalid value for IntOrString: invalid value "{text}": strconv.Atoi: parsing '
                         f'"{text.rstrip("%")}": invalid syntax')
    return math.ceil(int(text[:-1]) * total / 100)


def set_allowed_condition(status: dict, now: str, reason: str | None = None, message: str = "") -> None:
    """The DisruptionAllowed condition as the status now says (metav1 SetStatusCondition: the
    transition time moves only when the status does)."""
    allowed = status.get("disruptionsAllowed", 0) > 0 and reason is None
    wanted = {"type": CONDITION, "status": "True" if allowed else "False",
              "observedGeneration": status.get("observedGeneration", 0), "lastTransitionTime": now,
              "reason": reason or ("SufficientPods" if allowed else "InsufficientPods"), "message": message}
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != CONDITION]
    old = next((c for c in status.get("conditions") or [] if c.get("type") == CONDITION), None)
    if old is not None and old.get("status") == wanted["status"]:
        wanted["lastTransitionTime"] = old.get("lastTransitionTime") or now
    status["conditions"] = [*conditions, wanted]


def _seconds_since(stamp: str, now: dt.datetime) -> float:
    try:
        return (now - parse_rfc3339(stamp)).total_seconds()
    except (TypeError, ValueError):
        return DELETION_TIMEOUT


class DisruptionController(Reconciler):
    user = "disruption-controller"
    primary = PDBS

    def setup(self) -> None:
        pdbs = self.cache(*PDBS)
        self.watch("", "v1", "pods", lambda pod: [
            (pdb["metadata"]["namespace"], pdb["metadata"]["name"])
            for pdb in pdbs_for_pod(pdbs.list(pod["metadata"]["namespace"]), pod)])
        for resource in (("apps", "v1", "replicasets"), ("apps", "v1", "deployments"),
                         ("apps", "v1", "statefulsets"), ("", "v1", "replicationcontrollers")):
            self._read.append(self.cache(*resource))

    def _scale_of(self, namespace: str, ref: dict) -> tuple[str, int] | None:
        """(uid, replicas) of the controller a pod's controller reference names, a ReplicaSet
        counted as its Deployment when it has one; None when it is none of the kinds known."""
        kinds = {("apps", "ReplicaSet"): ("apps", "v1", "replicasets"),
                 ("apps", "StatefulSet"): ("apps", "v1", "statefulsets"),
                 ("", "ReplicationController"): ("", "v1", "replicationcontrollers")}
        group = ref.get("apiVersion", "").rpartition("/")[0]
        resource = kinds.get((group, ref.get("kind")))
        if resource is None:
            return None
        owner = self.cache(*resource).get(namespace, ref["name"])
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        parent = controller_ref(owner)
        if ref.get("kind") == "ReplicaSet" and parent is not None and parent.get("kind") == "Deployment":
            deployment = self.cache("apps", "v1", "deployments").get(namespace, parent["name"])
            if deployment is not None and deployment["metadata"].get("uid") == parent.get("uid"):
                owner = deployment
        replicas = (owner.get("spec") or {}).get("replicas")
        return owner["metadata"]["uid"], 1 if replicas is None else replicas

    def expected_scale(self, pods: list[dict]) -> tuple[int, list[str]]:
        scales: dict[str, int] = {}
        unmanaged = []
        for pod in pods:
            ref = controller_ref(pod)
            if ref is None:
                unmanaged.append(pod["metadata"]["name"])
                continue
            if ref.get("uid") in scales:
                continue
            found = self._scale_of(pod["metadata"]["namespace"], ref)
            if found is None:
                raise ScaleError(f'found no controllers for pod "{pod["metadata"]["name"]}"')
            scales[found[0]] = found[1]
        return sum(scales.values()), unmanaged

    def expected_counts(self, pdb: dict, pods: list[dict]) -> tuple[int, int, list[str]]:
        """(expected pods, desired healthy, unmanaged pod names)."""
        spec = pdb.get("spec") or {}
        if spec.get("maxUnavailable") is not None:
            expected, unmanaged = self.expected_scale(pods)
            return expected, max(expected - scaled_value(spec["maxUnavailable"], expected), 0), unmanaged
        min_available = spec.get("minAvailable")
        if isinstance(min_available, int):
            return len(pods), min_available, []
        if min_available is not None:
            expected, unmanaged = self.expected_scale(pods)
            return expected, scaled_value(min_available, expected), unmanaged
        return 0, 0, []

    async def reconcile(self, namespace: str, name: str) -> float | None:
        pdb = self.cache(*PDBS).get(namespace, name)
        if pdb is None:
            return None
        now = self.clock.now()
        pods = [p for p in self.cache("", "v1", "pods").list(namespace) if pdb_matches(pdb, p)]
        if not pods:
            self.recorder.event(pdb, "Normal", "NoPods", "No matching pods found")
        try:
            expected, desired, unmanaged = self.expected_counts(pdb, pods)
        except ScaleError as e:
            self.recorder.event(pdb, "Warning", "CalculateExpectedPodCountFailed",
                                f"Failed to calculate the number of expected pods: {e}")
            await self.fail_safe(pdb, str(e), rfc3339(int(now.timestamp())))
            return None
        if unmanaged:
            selector = (pdb.get("spec") or {}).get("selector")
            self.recorder.event(pdb, "Warning", "UnmanagedPods",
                                f"Pods selected by this PodDisruptionBudget (selector: {selector}) were found to be "
                                "unmanaged. As a result, the status of the PDB cannot be calculated correctly, which "
                                "may result in undefined behavior. To account for these pods please set "
                                '".spec.minAvailable" field of the PDB to an integer value.')
        disrupted, recheck = self.disrupted_pods(pdb, pods, now)
        healthy = sum(1 for p in pods if not p["metadata"].get("deletionTimestamp")
                      and p["metadata"]["name"] not in disrupted and is_pod_ready(p))
        allowed = healthy - desired if expected > 0 else 0
        status = {"observedGeneration": pdb["metadata"].get("generation", 1)}
        if disrupted:
            status["disruptedPods"] = disrupted
        status.update({"disruptionsAllowed": max(allowed, 0), "currentHealthy": healthy, "desiredHealthy": desired,
                       "expectedPods": expected, "conditions": (pdb.get("status") or {}).get("conditions") or []})
        set_allowed_condition(status, rfc3339(int(now.timestamp())))
        await self.write_status(pdb, status)
        return recheck

    def disrupted_pods(self, pdb: dict, pods: list[dict], now: dt.datetime) -> tuple[dict, float | None]:
        """The evictions still awaited (pod name -> when promised), and when the oldest expires."""
        promised = (pdb.get("status") or {}).get("disruptedPods") or {}
        kept, recheck = {}, None
        for pod in pods:
            name = pod["metadata"]["name"]
            if pod["metadata"].get("deletionTimestamp") or name not in promised:
                continue
            left = DELETION_TIMEOUT - _seconds_since(promised[name], now)
            if left <= 0:
                self.recorder.event(pod, "Warning", "NotDeleted", f"Pod was expected by PDB "
                                    f"{pdb['metadata']['namespace']}/{pdb['metadata']['namespace']} to be deleted "
                                    "but it wasn't")
                continue
            kept[name] = promised[name]
            recheck = left if recheck is None else min(recheck, left)
        return kept, recheck

    async def write_status(self, pdb: dict, status: dict) -> None:
        if (pdb.get("status") or {}) == status:
            return
        await self.api.update(self.resource(*PDBS), pdb["metadata"]["namespace"], pdb["metadata"]["name"],
                              {**pdb, "status": status}, subresource="status")

    async def fail_safe(self, pdb: dict, message: str, now: str) -> None:
        status = dict(pdb.get("status") or {})
        status["disruptionsAllowed"] = 0
        status.setdefault("observedGeneration", 0)
        set_allowed_condition(status, now, "SyncFailed", message)
        await self.write_status(pdb, status)
