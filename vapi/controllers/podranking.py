"""Which pods a scale-down removes first, ranked as kube's ActivePodsWithRanks ranks them.

First to go: unassigned before assigned; Pending before Unknown before Running; not ready before
ready; lower `controller.kubernetes.io/pod-deletion-cost` first; pods doubled up on a node with
related pods first; ready for less time first; more container restarts first; newer first. Ages
compare on a logarithmic scale (pods within the same power-of-two age bucket tie, broken by uid),
as kube does since LogarithmicScaleDown.
"""
from __future__ import annotations

import datetime as dt
import functools
import math

from admission.gotime import parse_rfc3339

from .pods import is_pod_active, is_pod_ready, ready_since

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def _node(pod: dict) -> str:
    return (pod.get("spec") or {}).get("nodeName") or ""


def _deletion_cost(pod: dict) -> int:
    try:
        return int((pod["metadata"].get("annotations") or {}).get(DELETION_COST, "0"))
    except ValueError:
        return 0


def _created(pod: dict) -> dt.datetime | None:
    stamp = pod["metadata"].get("creationTimestamp")
    return parse_rfc3339(stamp) if stamp else None


def _restarts(pod: dict) -> tuple[int, int]:
    """The highest restart count among regular containers, then among sidecars."""
    status = pod.get("status") or {}
    sidecars = {c["name"] for c in (pod.get("spec") or {}).get("initContainers") or []
                if c.get("restartPolicy") == "Always"}
    regular = max((s.get("restartCount", 0) for s in status.get("containerStatuses") or []), default=0)
    sidecar = max((s.get("restartCount", 0) for s in status.get("initContainerStatuses") or []
                   if s.get("name") in sidecars), default=0)
    return regular, sidecar


def _ready_at(pod: dict) -> dt.datetime | None:
    """When the pod became ready; None when it does not say (kube's zero time, ranked first)."""
    since = ready_since(pod)
    return None if since is None or since.year == 1 else since


def _log_bucket(when: dt.datetime, now: dt.datetime) -> int:
    nanos = (now - when) / dt.timedelta(microseconds=1) * 1000
    return int(math.log2(nanos)) if nanos > 0 else -1


def _newer_first(t1: dt.datetime | None, t2: dt.datetime | None, uid1: str, uid2: str,
                 now: dt.datetime) -> int:
    """-1 when the first goes before the second; 0 when they tie."""
    if t1 == t2:
        return 0
    if t1 is None or t2 is None:
        return -1 if t1 is None else 1
    diff = _log_bucket(t1, now) - _log_bucket(t2, now)
    if diff == 0:
        return -1 if uid1 < uid2 else (1 if uid1 > uid2 else 0)
    return -1 if diff < 0 else 1


def _first(a: bool) -> int:
    return -1 if a else 1


def pods_to_delete(pods: list[dict], related: list[dict], count: int, now: dt.datetime) -> list[dict]:
    """The `count` pods to delete from `pods`; `related` are the active pods of this controller
    and its siblings (same owner), whose doubling-up on a node raises a pod's rank."""
    if count >= len(pods):
        return list(pods)
    on_node: dict[str, int] = {}
    for pod in related:
        if is_pod_active(pod):
            on_node[_node(pod)] = on_node.get(_node(pod), 0) + 1
    rank = {id(pod): on_node.get(_node(pod), 0) for pod in pods}

    def compare(a: dict, b: dict) -> int:
        if _node(a) != _node(b) and (not _node(a) or not _node(b)):
            return _first(not _node(a))
        pa = _PHASE_ORDER.get((a.get("status") or {}).get("phase"), 0)
        pb = _PHASE_ORDER.get((b.get("status") or {}).get("phase"), 0)
        if pa != pb:
            return _first(pa < pb)
        if is_pod_ready(a) != is_pod_ready(b):
            return _first(not is_pod_ready(a))
        if _deletion_cost(a) != _deletion_cost(b):
            return _first(_deletion_cost(a) < _deletion_cost(b))
        if rank[id(a)] != rank[id(b)]:
            return _first(rank[id(a)] > rank[id(b)])
        uid_a, uid_b = a["metadata"].get("uid", ""), b["metadata"].get("uid", "")
        if is_pod_ready(a) and is_pod_ready(b):
            order = _newer_first(_ready_at(a), _ready_at(b), uid_a, uid_b, now)
            if order:
                return order
        if _restarts(a) != _restarts(b):
            return _first(_restarts(a) > _restarts(b))
        return _newer_first(_created(a), _created(b), uid_a, uid_b, now)

    return sorted(pods, key=functools.cmp_to_key(compare))[:count]
