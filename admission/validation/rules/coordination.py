"""The rules of coordination.k8s.io (pkg/apis/coordination/validation): Leases.
"""
from __future__ import annotations

from admission.validation.fielderrors import Causes, NONNEGATIVE
from admission.validation.objects import as_dict


def validate_lease(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    duration, transitions = spec.get("leaseDurationSeconds"), spec.get("leaseTransitions")
    if isinstance(duration, int) and duration <= 0:
        c.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
    if isinstance(transitions, int) and transitions < 0:
        c.invalid("spec.leaseTransitions", transitions, NONNEGATIVE)
    if spec.get("strategy") not in (None, "OldestEmulationVersion"):
        c.not_supported("spec.strategy", spec["strategy"], ["OldestEmulationVersion"])
    if spec.get("preferredHolder") and not spec.get("strategy"):
        c.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined")
