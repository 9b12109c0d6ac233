"""What an object costs against a ResourceQuota, as kube's quota evaluators count it.

Shared by the ResourceQuota admission plugin (which charges a write) and the ResourceQuota
controller (which sums what a namespace holds into the quota's status), so both count alike.
"""
from __future__ import annotations

import asyncio

from .quantity import ZERO, Quantity, add_lists, resource_list

ONE = Quantity.parse("1")
# The names a pod's compute usage is reported under (kube's podResources).
COMPUTE = ("cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
           "limits.cpu", "limits.memory", "limits.ephemeral-storage")
# The resources a quota on which makes every container name them (kube's validationSet).
MUST_SPECIFY = frozenset(("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"))
# Kinds counted under a legacy name as well as count/<resource>.
LEGACY = frozenset(("pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers",
                    "resourcequotas"))
STORAGE_CLASS = ".storageclass.storage.k8s.io/"
POD_SCOPES = frozenset(("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
                        "CrossNamespacePodAffinity"))


def count_name(group: str, resource: str) -> str:
    return f"count/{resource}.{group}" if group else f"count/{resource}"


def pod_counts(pod: dict) -> bool:
    """kube's QuotaV1Pod: a pod that has finished stops counting."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _container_totals(spec: dict, key: str) -> dict[str, Quantity]:
    """What the pod requests (or limits): its containers' sum, or its largest init container when
    that is larger, plus the pod's overhead (kube's resourcehelper.PodRequests)."""
    total: dict[str, Quantity] = {}
    for c in spec.get("containers") or []:
        total = add_lists(total, resource_list(((c.get("resources") or {}).get(key))))
    for c in spec.get("initContainers") or []:
        for name, q in resource_list(((c.get("resources") or {}).get(key))).items():
            if q.value > total.get(name, ZERO).value:
                total[name] = q
    return add_lists(total, resource_list(spec.get("overhead")))


def pod_requests(spec: dict) -> dict[str, Quantity]:
    """What a pod spec asks of a node, as the scheduler and quota both count it."""
    return _container_totals(spec, "requests")


def pod_usage(pod: dict) -> dict[str, Quantity]:
    if not pod_counts(pod):
        return {}
    spec = pod.get("spec") or {}
    usage = {"pods": ONE, "count/pods": ONE}
    requests, limits = _container_totals(spec, "requests"), _container_totals(spec, "limits")
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            usage[name] = usage[f"requests.{name}"] = requests[name]
        if name in limits:
            usage[f"limits.{name}"] = limits[name]
    for name, q in requests.items():
        if name.startswith("hugepages-"):
            usage[name] = usage[f"requests.{name}"] = q
        elif "/" in name and not name.startswith("kubernetes.io/"):
            usage[f"requests.{name}"] = q
    return usage


def _service_usage(svc: dict) -> dict[str, Quantity]:
    spec = svc.get("spec") or {}
    kind, ports = spec.get("type") or "ClusterIP", spec.get("ports") or []
    usage = {"services": ONE, "count/services": ONE}
    if kind == "LoadBalancer":
        usage["services.loadbalancers"] = ONE
        if spec.get("allocateLoadBalancerNodePorts") is False:
            ports = [p for p in ports if p.get("nodePort")]
    if kind in ("NodePort", "LoadBalancer"):
        usage["services.nodeports"] = Quantity.parse(len(ports))
    return usage


def _pvc_usage(pvc: dict) -> dict[str, Quantity]:
    usage = {"persistentvolumeclaims": ONE, "count/persistentvolumeclaims": ONE}
    spec = pvc.get("spec") or {}
    storage = resource_list((spec.get("resources") or {}).get("requests")).get("storage")
    klass = spec.get("storageClassName") or ""
    if klass:
        usage[f"{klass}{STORAGE_CLASS}persistentvolumeclaims"] = ONE
    if storage is not None:
        usage["requests.storage"] = storage
        if klass:
            usage[f"{klass}{STORAGE_CLASS}requests.storage"] = storage
    return usage


def usage(group: str, resource: str, obj: dict) -> dict[str, Quantity]:
    """Everything `obj` counts for, under every name a quota may limit it by."""
    if group == "":
        if resource == "pods":
            return pod_usage(obj)
        if resource == "services":
            return _service_usage(obj)
        if resource == "persistentvolumeclaims":
            return _pvc_usage(obj)
        if resource in LEGACY:
            return {resource: ONE, count_name(group, resource): ONE}
    return {count_name(group, resource): ONE}


def tracked(group: str, resource: str, name: str) -> bool:
    """Whether the quota resource `name` is one this kind's usage can include."""
    if name == count_name(group, resource):
        return True
    if group != "":
        return False
    if resource == "pods":
        return (name in ("pods",) or name in COMPUTE or name.startswith(("hugepages-", "requests.hugepages-"))
                or (name.startswith("requests.") and "/" in name))
    if resource == "services":
        return name in ("services", "services.nodeports", "services.loadbalancers")
    if resource == "persistentvolumeclaims":
        return name in ("persistentvolumeclaims", "requests.storage") or STORAGE_CLASS in name
    return name == resource and resource in LEGACY


def _best_effort(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    return not any((c.get("resources") or {}).get(k) for c in (spec.get("containers") or []) +
                   (spec.get("initContainers") or []) for k in ("requests", "limits"))


def _scope_matches(scope: str, operator: str, values: list, pod: dict) -> bool:
    spec = pod.get("spec") or {}
    if scope == "Terminating":
        return spec.get("activeDeadlineSeconds") is not None and spec["activeDeadlineSeconds"] >= 0
    if scope == "NotTerminating":
        return not _scope_matches("Terminating", operator, values, pod)
    if scope == "BestEffort":
        return _best_effort(pod)
    if scope == "NotBestEffort":
        return not _best_effort(pod)
    if scope == "PriorityClass":
        name = spec.get("priorityClassName") or ""
        return {"Exists": bool(name), "DoesNotExist": not name, "In": name in (values or []),
                "NotIn": name not in (values or [])}.get(operator, False)
    if scope == "CrossNamespacePodAffinity":
        affinity = spec.get("affinity") or {}
        return any(term.get("namespaces") or term.get("namespaceSelector") is not None
                   for kind in ("podAffinity", "podAntiAffinity")
                   for term in _affinity_terms(affinity.get(kind) or {}))
    return False


def _affinity_terms(affinity: dict) -> list[dict]:
    return list(affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or []) + [
        w.get("podAffinityTerm") or {} for w in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []]


def quota_matches(quota: dict, group: str, resource: str, obj: dict) -> bool:
    """Whether the quota's scopes select the object: scoped quotas count pods only."""
    spec = quota.get("spec") or {}
    selectors = [(s, "Exists", []) for s in spec.get("scopes") or []] + [
        (e.get("scopeName"), e.get("operator"), e.get("values")) for e in
        (spec.get("scopeSelector") or {}).get("matchExpressions") or []]
    if not selectors:
        return True
    if (group, resource) != ("", "pods"):
        return False
    return all(_scope_matches(scope, op, values, obj) for scope, op, values in selectors)


def missing_requirements(pod: dict, required: set[str]) -> str:
    """kube's pod evaluator Constraints: every container must name each of the compute resources the
    quota limits; the message names, per resource, the containers that do not."""
    required = required & MUST_SPECIFY
    missing: dict[str, set[str]] = {}
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        res = c.get("resources") or {}
        has = set()
        for name in resource_list(res.get("requests")):
            if name in ("cpu", "memory"):
                has.update((name, f"requests.{name}"))
        for name in resource_list(res.get("limits")):
            if name in ("cpu", "memory"):
                has.add(f"limits.{name}")
        for name in required - has:
            missing.setdefault(name, set()).add(c.get("name", ""))
    return "; ".join(f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing))


class NamespaceLocks:
    """One lock per namespace, shared by the quota plugin and the quota controller, so that charges
    and recounts in one namespace never interleave within this process."""

    def __init__(self):
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, namespace: str) -> asyncio.Lock:
        lock = self._locks.get(namespace)
        if lock is None:
            lock = self._locks[namespace] = asyncio.Lock()
        return lock
