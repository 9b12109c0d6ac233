"""Pods: a delete waits for the kubelet that runs the pod (kube's pod strategy and graceful delete)."""
from __future__ import annotations

from .base import now_rfc3339
from .builtin import BuiltinStrategy

GATED = {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
         "message": "Scheduling is blocked due to non-empty scheduling gates"}


class PodStrategy(BuiltinStrategy):
    def prepare_for_create(self, obj: dict, user=None) -> None:
        super().prepare_for_create(obj, user)
        # A gated pod says why it waits before any scheduler looks at it.
        if (obj.get("spec") or {}).get("schedulingGates"):
            obj["status"]["conditions"] = [{"type": GATED["type"], "status": GATED["status"], "lastProbeTime": None,
                                            "lastTransitionTime": now_rfc3339(), "reason": GATED["reason"],
                                            "message": GATED["message"]}]

    def grace_period(self, obj: dict, requested: int | None) -> int:
        # An unscheduled pod, or one that finished, has no kubelet to wait for.
        if not obj.get("spec", {}).get("nodeName") or obj.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(requested, 0)
        return obj.get("spec", {}).get("terminationGracePeriodSeconds", 30)

    def prepare_for_update(self, obj: dict, old: dict, subresource: str | None) -> None:
        # A binding is written whole by its handler from the stored pod (node, annotations and the
        # PodScheduled condition), as kube's binding writes storage directly.
        if subresource != "binding":
            super().prepare_for_update(obj, old, subresource)
