"""How many replicas a HorizontalPodAutoscaler asks for: kube's replica calculator and its
behavior rules, as plain functions of what was measured and what happened before.

- `resource_replicas`: one Resource metric (cpu or memory, Utilization or AverageValue) over the
  target's pods. Pods being deleted or Failed are ignored; Pending pods and, for cpu, pods whose
  Ready condition is not True count as unready; Running pods without metrics as missing. A change
  within the tolerance of the target is none; missing and unready pods are assumed at rest when
  that would turn a scale-up into none (kube's simplification of the same rule: kube also waits
  out a cpu initialization period after a pod starts, which simulated pods do not need).
- `Behavior`: the scaleUp/scaleDown stabilization windows over past recommendations and the rate
  policies over past scale events, with kube's condition reasons for what limited a change.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from admission.quantity import Quantity

from .pods import is_pod_ready


class MetricError(Exception):
    """A metric that could not be computed: (condition reason, message)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.chain = ""  # the cause as the controller's summary event words it


def _milli(quantity) -> int:
    return Quantity.parse(quantity).milli()


def pod_requests(pod: dict, resource: str, only: str | None = None) -> int:
    """The pod's request of `resource`, in thousandths; every container (or the `only` one) must
    request it."""
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        if only is not None and container.get("name") != only:
            continue
        value = (((container.get("resources") or {}).get("requests")) or {}).get(resource)
        if value is None:
            raise MetricError("FailedGetResourceMetric",
                              f"missing request for {resource} in container {container.get('name')} of Pod "
                              f"{pod['metadata']['name']}")
        total += _milli(value)
    return total


def pod_usage(metrics: dict, resource: str, only: str | None = None) -> int:
    """A PodMetrics' usage of `resource` summed over its containers (or the `only` one), in thousandths."""
    return sum(_milli(c["usage"][resource]) for c in metrics.get("containers") or []
               if resource in c.get("usage", {}) and only in (None, c.get("name")))


def _group(pods: list[dict], metrics: dict[str, int], resource: str):
    ready, unready, missing = [], [], []
    for pod in pods:
        status = pod.get("status") or {}
        if pod["metadata"].get("deletionTimestamp") or status.get("phase") == "Failed":
            continue
        name = pod["metadata"]["name"]
        if status.get("phase") == "Pending":
            unready.append(name)
        elif name not in metrics:
            missing.append(name)
        elif resource == "cpu" and not is_pod_ready(pod):
            unready.append(name)
        else:
            ready.append(name)
    return ready, unready, missing


@dataclass
class Measured:
    replicas: int
    utilization: int | None   # percent of request, for Utilization targets
    average: int              # thousandths per pod


def resource_replicas(current: int, pods: list[dict], pod_metrics: list[dict], resource: str, *,
                      utilization: int | None, average_value: int | None, tolerance: float,
                      container: str | None = None) -> Measured:
    """Replicas one Resource metric asks for (a ContainerResource one: of that `container`);
    `utilization` (percent) or `average_value` (thousandths) is the target."""
    if not pods:
        raise MetricError("FailedGetResourceMetric", "no pods returned by selector while calculating replica count")
    metrics = {m["metadata"]["name"]: pod_usage(m, resource, container) for m in pod_metrics}
    if not metrics:
        raise MetricError("FailedGetResourceMetric",
                          f"unable to get metrics for resource {resource}: no metrics returned from resource "
                          "metrics API")
    ready, unready, missing = _group(pods, metrics, resource)
    counted = {name: metrics[name] for name in ready}
    requests = {p["metadata"]["name"]: pod_requests(p, resource, container) for p in pods} \
        if utilization is not None else {}

    def ratio(values: dict[str, int]) -> tuple[float, int | None, int]:
        if not values:
            return 0.0, 0 if utilization is not None else None, 0
        average = sum(values.values()) // len(values)
        if utilization is None:
            return sum(values.values()) / (average_value * len(values)), None, average
        requested = sum(requests[name] for name in values)
        if requested == 0:
            raise MetricError("FailedGetResourceMetric", f"no requests for {resource} in the pods")
        percent = sum(values.values()) * 100 // requested
        return percent / utilization, percent, average

    usage_ratio, percent, average = ratio(counted)
    scale_up_unready = bool(unready) and usage_ratio > 1.0
    if not scale_up_unready and not missing:
        if abs(1.0 - usage_ratio) <= tolerance:
            return Measured(current, percent, average)
        return Measured(math.ceil(usage_ratio * len(counted)), percent, average)
    filled = dict(counted)
    for name in missing:
        if usage_ratio < 1.0:  # on the way down a pod without metrics is taken as busy
            filled[name] = requests[name] * max(100, utilization) // 100 if utilization is not None else average_value
        elif usage_ratio > 1.0:  # on the way up, as idle
            filled[name] = 0
    if scale_up_unready:
        filled.update({name: 0 for name in unready})
    new_ratio, _, _ = ratio(filled)
    if abs(1.0 - new_ratio) <= tolerance or (usage_ratio < 1.0 < new_ratio) or (new_ratio < 1.0 < usage_ratio):
        return Measured(current, percent, average)
    replicas = math.ceil(new_ratio * len(filled))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return Measured(current, percent, average)
    return Measured(replicas, percent, average)


# --- behavior ---------------------------------------------------------------------------------

@dataclass
class History:
    """What one HPA's past holds: (time, recommendation) and (time, replica change) events."""
    recommendations: list[tuple[dt.datetime, int]] = field(default_factory=list)
    scale_ups: list[tuple[dt.datetime, int]] = field(default_factory=list)
    scale_downs: list[tuple[dt.datetime, int]] = field(default_factory=list)


def _changed_within(events: list[tuple[dt.datetime, int]], seconds: int, now: dt.datetime) -> int:
    start = now - dt.timedelta(seconds=seconds)
    return sum(change for when, change in events if when > start)


def _scale_up_limit(current: int, events, rules: dict, now: dt.datetime) -> int:
    select = rules.get("selectPolicy", "Max")
    if select == "Disabled":
        return current
    pick, result = (min, math.inf) if select == "Min" else (max, -math.inf)
    for policy in rules.get("policies") or []:
        start = current - _changed_within(events, policy["periodSeconds"], now)
        proposed = start + policy["value"] if policy["type"] == "Pods" else \
            math.ceil(start * (1 + policy["value"] / 100))
        result = pick(result, proposed)
    return int(result) if result not in (math.inf, -math.inf) else current


def _scale_down_limit(current: int, events, rules: dict, now: dt.datetime) -> int:
    select = rules.get("selectPolicy", "Max")
    if select == "Disabled":
        return current
    pick, result = (max, -math.inf) if select == "Min" else (min, math.inf)
    for policy in rules.get("policies") or []:
        start = current + _changed_within(events, policy["periodSeconds"], now)
        proposed = start - policy["value"] if policy["type"] == "Pods" else \
            int(start * (1 - policy["value"] / 100))
        result = pick(result, proposed)
    return int(result) if result not in (math.inf, -math.inf) else current


LIMITS = {
    "ScaleUpLimit": "the desired replica count is increasing faster than the maximum scale rate",
    "TooManyReplicas": "the desired replica count is more than the maximum replica count",
    "ScaleDownLimit": "the desired replica count is decreasing faster than the maximum scale rate",
    "TooFewReplicas": "the desired replica count is less than the minimum replica count",
    "DesiredWithinRange": "the desired count is within the acceptable range",
}
STABILIZED = {
    "ScaleUpStabilized": "recent recommendations were lower than current one, applying the lowest recent "
                         "recommendation",
    "ScaleDownStabilized": "recent recommendations were higher than current one, applying the highest recent "
                           "recommendation",
    "ReadyForNewScale": "recommended size matches current size",
}


def behavior_rules(spec: dict, downscale_stabilization: float) -> tuple[dict | None, dict]:
    """(scaleUp, scaleDown) rules of an HPA with a behavior (defaulted when written), the scale-down
    window the server's default where it names none; (None, {window}) for one without, which kube
    treats apart: the highest recommendation of the window either way, at most max(2×current, 4)
    up, no rate down."""
    behavior = spec.get("behavior")
    if not behavior:
        return None, {"stabilizationWindowSeconds": int(downscale_stabilization), "selectPolicy": "Max",
                      "policies": []}
    down = dict(behavior.get("scaleDown") or {})
    if down.get("stabilizationWindowSeconds") is None:
        down["stabilizationWindowSeconds"] = int(downscale_stabilization)
    return behavior.get("scaleUp") or {}, down


def normalize(history: History, current: int, desired: int, minimum: int, maximum: int, up: dict, down: dict,
              now: dt.datetime) -> tuple[int, tuple[str, str], tuple[bool, str, str]]:
    """(replicas, AbleToScale (reason, message), ScalingLimited (status, reason, message)): the
    recommendation stabilized over the windows, then held to the rate policies and the bounds."""
    up_window = (up or {}).get("stabilizationWindowSeconds") or 0
    if up is None:
        window, better, reason = down["stabilizationWindowSeconds"], max, "ScaleDownStabilized"
    elif desired >= current:
        window, better, reason = up_window, min, "ScaleUpStabilized"
    else:
        window, better, reason = down.get("stabilizationWindowSeconds") or 0, max, "ScaleDownStabilized"
    longest = max(up_window, down.get("stabilizationWindowSeconds") or 0)
    stabilized = desired
    for when, recommended in history.recommendations:
        if when > now - dt.timedelta(seconds=window):
            stabilized = better(stabilized, recommended)
    history.recommendations = [(w, r) for w, r in history.recommendations
                               if w >= now - dt.timedelta(seconds=longest)] + [(now, desired)]
    able = (reason, STABILIZED[reason]) if stabilized != desired else ("ReadyForNewScale", STABILIZED["ReadyForNewScale"])
    replicas, limit = stabilized, "DesiredWithinRange"
    if stabilized > current:
        allowed = max(current * 2, 4) if up is None else \
            max(_scale_up_limit(current, history.scale_ups, up, now), current)
        limit = "ScaleUpLimit" if maximum > allowed else "TooManyReplicas"
        allowed = min(allowed, maximum)
        replicas = min(stabilized, allowed)
    elif stabilized < current:
        allowed = min(_scale_down_limit(current, history.scale_downs, down, now), current)
        limit = "ScaleDownLimit" if minimum < allowed else "TooFewReplicas"
        allowed = max(allowed, minimum)
        replicas = max(stabilized, allowed)
    if replicas == stabilized:
        limit = "DesiredWithinRange"
    return replicas, able, (replicas != stabilized, limit, LIMITS[limit])


def record_scale(history: History, before: int, after: int, up: dict, down: dict, now: dt.datetime) -> None:
    """Remember a rescale for the rate policies; events older than the longest period are dropped."""
    def keep(events, rules):
        longest = max((p["periodSeconds"] for p in (rules or {}).get("policies") or []), default=0)
        return [(w, c) for w, c in events if w > now - dt.timedelta(seconds=longest)]
    if after > before:
        history.scale_ups = keep(history.scale_ups, up) + [(now, after - before)]
    elif after < before:
        history.scale_downs = keep(history.scale_downs, down) + [(now, before - after)]
