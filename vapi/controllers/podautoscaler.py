"""The HorizontalPodAutoscaler controller (kube's `horizontal-pod-autoscaler`, autoscaling/v2).

Every sync period each HPA is looked at again, as kube's controller does (a change in usage is
not an event): the target's `/scale` is read through the pipeline, the Resource metrics of the
pods its selector names are read from the metrics API, `autoscaling.py` turns them into replicas
within the HPA's bounds and behavior, a changed count is written to `/scale`, and the status tells
what was seen: current and desired replicas, current metrics, the last scale time and the
AbleToScale, ScalingActive and ScalingLimited conditions with kube's reasons and messages.
Metrics other than Resource and ContainerResource (Pods, Object, External) have no source here and
leave the HPA unable to compute, as an unserved custom metrics API would.
"""
from __future__ import annotations

from fractions import Fraction

from admission.quantity import Quantity

from .. import errors
from ..api import ListOptions
from ..registry import selectors
from ..registry.strategies import rfc3339
from . import autoscaling
from .reconciler import Reconciler

HPA = ("autoscaling", "v2", "horizontalpodautoscalers")
CONDITIONS = ("AbleToScale", "ScalingActive", "ScalingLimited")
# The metric types measured here, and the field naming their source.
SOURCES = {"Resource": "resource", "ContainerResource": "containerResource"}


def _quantity(thousandths: int) -> str:
    return str(Quantity(Fraction(thousandths, 1000)))


class HorizontalController(Reconciler):
    user = "horizontal-pod-autoscaler"
    component = "horizontal-pod-autoscaler"
    primary = HPA

    def setup(self) -> None:
        self.histories: dict[tuple, autoscaling.History] = {}
        # Pods are read from the cache, which must be synced before the first look; their changes
        # wake no HPA (kube's looks again every sync period instead).
        self.watch("", "v1", "pods", lambda pod: ())
        self.pods = self.cache("", "v1", "pods")
        self.metrics = self.resource("metrics.k8s.io", "v1beta1", "pods")

    # --- reading the target -----------------------------------------------------------------

    def _target(self, ref: dict):
        group, _, version = (ref.get("apiVersion") or "").rpartition("/")
        info = self.api.registry.by_kind(group, version, ref.get("kind") or "")
        if info is None or "scale" not in info.subresources:
            raise autoscaling.MetricError(
                "FailedGetScale", f'no matches for kind "{ref.get("kind")}" in group "{group}"')
        return info

    def _metric(self, namespace: str, spec: dict, selector: str, current: int):
        """(replicas, metric name, MetricStatus) for one metric of the spec."""
        kind = spec.get("type")
        if kind not in SOURCES:
            raise autoscaling.MetricError(f"FailedGet{kind}Metric",
                                          f"unable to get metric of type {kind}: no custom or external metrics "
                                          "API is served")
        source = spec[SOURCES[kind]]
        resource, target, container = source["name"], source.get("target") or {}, source.get("container")
        reason = f"FailedGet{kind}Metric"
        parsed = selectors.parse_label_selector(selector)
        pods = [p for p in self.pods.list(namespace) if parsed.matches(p["metadata"].get("labels"))]
        try:
            measured = self.api.list(self.metrics, namespace, ListOptions(label_selector=selector))["items"]
        except errors.StatusError as e:
            raise autoscaling.MetricError(reason, f"unable to get metrics for resource {resource}: {e.message}") from None
        utilization = target.get("averageUtilization") if target.get("type") == "Utilization" else None
        average = None if utilization is not None else Quantity.parse(target.get("averageValue") or 0).milli()
        try:
            result = autoscaling.resource_replicas(current, pods, measured, resource, utilization=utilization,
                                                   average_value=average, tolerance=self.settings.hpa_tolerance,
                                                   container=container)
        except autoscaling.MetricError as e:
            # kube's words around the cause, in the event that sums up the failed metrics
            e.reason = reason
            what = "utilization" if utilization is not None else "usage"
            e.chain = (f"failed to get {container} container metric value: " if container else
                       f"failed to get {resource} resource metric value: ") + \
                f"failed to get {resource} {what}: {e.message}"
            raise
        status = {"averageValue": _quantity(result.average)}
        if utilization is not None:
            status["averageUtilization"] = result.utilization
            name = f"{resource} {'container ' if container else ''}resource utilization (percentage of request)"
        else:
            name = f"{resource} resource"
        current_source = {"name": resource, **({"container": container} if container else {}), "current": status}
        return result.replicas, name, {"type": kind, SOURCES[kind]: current_source}

    def _desired(self, hpa: dict, namespace: str, selector: str, current: int, conditions: dict):
        """(replicas the metrics ask for, metric name, statuses), or None when none could be computed."""
        specs = hpa["spec"].get("metrics") or []
        desired, chosen, statuses, failures = 0, "", [], []
        for spec in specs:
            try:
                replicas, name, status = self._metric(namespace, spec, selector, current)
            except autoscaling.MetricError as e:
                failures.append(e)
                self.recorder.event(hpa, "Warning", e.reason, e.message)
                continue
            statuses.append(status)
            if replicas > desired:
                desired, chosen = replicas, name
        if failures and (len(failures) == len(specs) or desired < current):
            first = failures[0]
            conditions["ScalingActive"] = (False, first.reason,
                                           f"the HPA was unable to compute the replica count: {first.message}")
            self.recorder.event(hpa, "Warning", "FailedComputeMetricsReplicas",
                                f"invalid metrics ({len(failures)} invalid out of {len(specs)}), first error is: "
                                f"{first.chain or first.message}")
            return None, "", statuses
        conditions["ScalingActive"] = (True, "ValidMetricFound",
                                       f"the HPA was able to successfully calculate a replica count from {chosen}")
        return desired, chosen, statuses

    # --- the loop -----------------------------------------------------------------------------

    async def reconcile(self, namespace: str | None, name: str) -> float | None:
        hpa = self.cache(*HPA).get(namespace, name)
        if hpa is None:
            self.histories.pop((namespace, name), None)
            return None
        period = self.settings.hpa_sync_period
        spec, old_status = hpa["spec"], hpa.get("status") or {}
        conditions: dict[str, tuple[bool, str, str]] = {}
        try:
            info = self._target(spec["scaleTargetRef"])
            scale = self.api.get(info, namespace, spec["scaleTargetRef"]["name"], subresource="scale")
        except (autoscaling.MetricError, errors.StatusError) as e:
            message = e.message
            conditions["AbleToScale"] = (False, "FailedGetScale",
                                         f"the HPA controller was unable to get the target's current scale: {message}")
            self.recorder.event(hpa, "Warning", "FailedGetScale", message)
            await self._write_status(hpa, old_status.get("currentReplicas", 0), old_status.get("desiredReplicas", 0),
                                     old_status.get("currentMetrics"), conditions, None)
            return period
        conditions["AbleToScale"] = (True, "SucceededGetScale",
                                     "the HPA controller was able to get the target's current scale")
        current = scale["spec"].get("replicas") or 0
        minimum, maximum = spec.get("minReplicas", 1), spec["maxReplicas"]
        selector = scale["status"].get("selector") or ""
        statuses, reason, desired = old_status.get("currentMetrics"), "", current
        if current == 0 and minimum != 0:
            desired = 0
            conditions["ScalingActive"] = (False, "ScalingDisabled",
                                           "scaling is disabled since the replica count of the target is zero")
        elif current > maximum:
            desired, reason = maximum, "Current number of replicas above Spec.MaxReplicas"
        elif current < minimum:
            desired, reason = minimum, "Current number of replicas below Spec.MinReplicas"
        elif not selector:
            conditions["ScalingActive"] = (False, "InvalidSelector", "the HPA target's scale is missing a selector")
            self.recorder.event(hpa, "Warning", "SelectorRequired", "selector is required")
        else:
            wanted, metric, statuses = self._desired(hpa, namespace, selector, current, conditions)
            if wanted is not None:
                reason = f"{metric} above target" if wanted > current else \
                    "All metrics below target" if wanted < current else ""
                desired = self._normalize(hpa, namespace, name, current, wanted, minimum, maximum, conditions)
        scaled_at = None
        if desired != current:
            try:
                await self.api.update(info, namespace, spec["scaleTargetRef"]["name"],
                                      {**scale, "spec": {**scale["spec"], "replicas": desired}}, subresource="scale")
            except errors.StatusError as e:
                conditions["AbleToScale"] = (False, "FailedUpdateScale",
                                             f"the HPA controller was unable to update the target scale: {e.message}")
                self.recorder.event(hpa, "Warning", "FailedRescale",
                                    f"New size: {desired}; reason: {reason}; error: {e.message}")
                await self._write_status(hpa, current, desired, statuses, conditions, None)
                raise
            conditions["AbleToScale"] = (True, "SucceededRescale",
                                         f"the HPA controller was able to update the target scale to {desired}")
            self.recorder.event(hpa, "Normal", "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
            up, down = autoscaling.behavior_rules(spec, self.settings.hpa_downscale_stabilization)
            autoscaling.record_scale(self._history(namespace, name), current, desired, up, down, self.clock.now())
            scaled_at = rfc3339(int(self.clock.now().timestamp()))
        await self._write_status(hpa, current, desired, statuses, conditions, scaled_at)
        return period

    def _history(self, namespace, name) -> autoscaling.History:
        return self.histories.setdefault((namespace, name), autoscaling.History())

    def _normalize(self, hpa, namespace, name, current, wanted, minimum, maximum, conditions) -> int:
        up, down = autoscaling.behavior_rules(hpa["spec"], self.settings.hpa_downscale_stabilization)
        replicas, able, (limited, reason, message) = autoscaling.normalize(
            self._history(namespace, name), current, wanted, minimum, maximum, up, down, self.clock.now())
        conditions["AbleToScale"] = (True, *able)
        conditions["ScalingLimited"] = (limited, reason, message)
        return replicas

    async def _write_status(self, hpa, current, desired, statuses, conditions, scaled_at) -> None:
        old = hpa.get("status") or {}
        previous = {c.get("type"): c for c in old.get("conditions") or []}
        now = rfc3339(int(self.clock.now().timestamp()))
        written = []
        for kind in CONDITIONS:
            if kind not in conditions:
                if kind in previous:
                    written.append(previous[kind])
                continue
            ok, reason, message = conditions[kind]
            status = "True" if ok else "False"
            before = previous.get(kind) or {}
            since = before.get("lastTransitionTime") if before.get("status") == status else now
            written.append({"type": kind, "status": status, "lastTransitionTime": since or now,
                            "reason": reason, "message": message})
        status = {}
        last = scaled_at or old.get("lastScaleTime")
        if last:
            status["lastScaleTime"] = last
        status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        if statuses:
            status["currentMetrics"] = statuses
        status["conditions"] = written
        if status != old:
            await self.api.update(self.resource(*HPA), hpa["metadata"].get("namespace"), hpa["metadata"]["name"],
                                  {**hpa, "status": status}, subresource="status")
