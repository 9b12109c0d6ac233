"""autoscaling/v1 HorizontalPodAutoscaler: a view of the autoscaling/v2 objects stored.

kube stores HPAs as v2 and converts for v1 clients (kubectl before 1.33 writes `kubectl autoscale`
as v1): the cpu Utilization metric is v1's `targetCPUUtilizationPercentage` and its current value
`currentCPUUtilizationPercentage`; what v1 cannot say rides in annotations, as kube's conversion
keeps it, so that a v1 read-modify-write loses nothing: the behavior
(`autoscaling.alpha.kubernetes.io/behavior`), the status conditions (`…/conditions`), and the
other metrics and their current values (`…/metrics`, `…/current-metrics`, here in v2's own shape).
"""
from __future__ import annotations

import orjson

from .. import gotypes
from .builtin import BuiltinStrategy

STORED = "autoscaling/v2"
SERVED = "autoscaling/v1"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"


def _is_cpu_utilization(metric: dict, field: str) -> bool:
    resource = metric.get("resource") or {}
    return metric.get("type") == "Resource" and resource.get("name") == "cpu" and \
        (resource.get(field) or {}).get("averageUtilization") is not None and \
        (field == "current" or (resource.get(field) or {}).get("type") == "Utilization")


def _split_cpu(metrics: list, field: str) -> tuple[int | None, list]:
    """(the cpu utilization percentage, the other metrics) of a v2 metrics or currentMetrics list."""
    percent, others = None, []
    for metric in metrics or []:
        if percent is None and _is_cpu_utilization(metric, field):
            percent = metric["resource"][field]["averageUtilization"]
        else:
            others.append(metric)
    return percent, others


def _fold_cpu(metrics: list, field: str, out: dict, v1_field: str, annotations: dict, annotation: str) -> None:
    """v1's one cpu percentage into `out`, the other metrics into an annotation."""
    percent, others = _split_cpu(metrics, field)
    if percent is not None:
        out[v1_field] = percent
    if others:
        annotations[annotation] = _json(others)


def _shared_spec(spec: dict) -> dict:
    out = {"scaleTargetRef": spec.get("scaleTargetRef")}
    out.update({k: spec[k] for k in ("minReplicas", "maxReplicas") if k in spec})
    return out


def _shared_status(status: dict) -> dict:
    out = {k: status[k] for k in ("observedGeneration", "lastScaleTime") if k in status}
    out["currentReplicas"] = status.get("currentReplicas", 0)
    out["desiredReplicas"] = status.get("desiredReplicas", 0)
    return out


def _json(value) -> str:
    return orjson.dumps(value).decode()


def to_v1(obj: dict) -> dict:
    """The v1 view of a stored (v2) HPA."""
    meta = dict(obj.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    spec, status = obj.get("spec") or {}, obj.get("status")
    out_spec = _shared_spec(spec)
    _fold_cpu(spec.get("metrics"), "target", out_spec, "targetCPUUtilizationPercentage", annotations, METRICS)
    if spec.get("behavior"):
        annotations[BEHAVIOR] = _json(spec["behavior"])
    out = {"apiVersion": SERVED, "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": out_spec}
    if status is not None:
        out_status = _shared_status(status)
        _fold_cpu(status.get("currentMetrics"), "current", out_status, "currentCPUUtilizationPercentage", annotations,
                  CURRENT_METRICS)
        if status.get("conditions"):
            annotations[CONDITIONS] = _json(status["conditions"])
        out["status"] = out_status
    if annotations:
        meta["annotations"] = annotations
    return out


def to_v2(obj: dict) -> dict:
    """The stored (v2) form of a v1 HPA, what its annotations carried put back."""
    meta = dict(obj.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})

    def carried(key):
        text = annotations.pop(key, None)
        try:
            return orjson.loads(text) if text else None
        except orjson.JSONDecodeError:
            return None
    spec, status = obj.get("spec") or {}, obj.get("status")
    out_spec = _shared_spec(spec)
    metrics = carried(METRICS) or []
    if spec.get("targetCPUUtilizationPercentage") is not None:
        metrics.insert(0, {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]}}})
    if metrics:
        out_spec["metrics"] = metrics
    behavior = carried(BEHAVIOR)
    if behavior:
        out_spec["behavior"] = behavior
    current, conditions = carried(CURRENT_METRICS) or [], carried(CONDITIONS)
    out = {"apiVersion": STORED, "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": out_spec}
    if status is not None:
        out_status = _shared_status(status)
        if status.get("currentCPUUtilizationPercentage") is not None:
            current.insert(0, {"type": "Resource", "resource": {"name": "cpu", "current": {
                "averageUtilization": status["currentCPUUtilizationPercentage"]}}})
        if current:
            out_status["currentMetrics"] = current
        out_status["conditions"] = conditions or []
        out["status"] = out_status
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return out


def as_stored(obj: dict) -> dict:
    """An HPA of either version in its stored (v2) form."""
    return to_v2(obj) if obj.get("apiVersion") == SERVED else obj


class HPAv1Strategy(BuiltinStrategy):
    """The v1 resource: v1's schema, defaults and validation; stored as v2."""
    stored_as = ("autoscaling", "horizontalpodautoscalers")

    def __init__(self, info, schemas):
        super().__init__(info, schemas)
        self._stored_message = gotypes.message_for(STORED, "HorizontalPodAutoscaler")

    def served(self, obj: dict) -> dict:
        return self.in_wire_order(to_v1(obj)) if obj.get("apiVersion") == STORED else obj

    def stored(self, obj: dict) -> dict:
        stored = as_stored(obj)
        return gotypes.in_go_order(stored, self._stored_message) if self._stored_message else stored
