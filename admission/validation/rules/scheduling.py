"""The rules of scheduling.k8s.io (pkg/apis/scheduling/validation): PriorityClasses, whose names
with the `system-` prefix are kept for kube's own classes, whose user values stop at a billion,
and whose value and preemption policy never change."""
from __future__ import annotations

from admission.validation.fielderrors import IMMUTABLE, Causes

SYSTEM_PREFIX = "system-"
HIGHEST_USER_PRIORITY = 1_000_000_000
SYSTEM_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
POLICIES = ["Never", "PreemptLowerPriority"]


def _system_class_error(name: str, value, global_default) -> str | None:
    if name not in SYSTEM_CLASSES:
        return f"{name} is not a known system priority class"
    if value != SYSTEM_CLASSES[name]:
        return f"value of {name} PriorityClass must be {SYSTEM_CLASSES[name]}"
    if global_default:
        return f"globalDefault of {name} PriorityClass must be false"
    return None


def validate_priority_class(c: Causes, obj: dict, old: dict | None) -> None:
    name = (obj.get("metadata") or {}).get("name") or ""
    value = obj.get("value")
    if name.startswith(SYSTEM_PREFIX):
        error = _system_class_error(name, value, obj.get("globalDefault"))
        if error:
            c.forbidden("metadata.name", f"priority class names with '{SYSTEM_PREFIX}' prefix are reserved for "
                                         f"system use only. error: {error}")
    elif isinstance(value, int) and value > HIGHEST_USER_PRIORITY:
        c.forbidden("value", f"maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}")
    policy = obj.get("preemptionPolicy")
    if policy is not None and policy not in POLICIES:
        c.not_supported("preemptionPolicy", policy, POLICIES)
    if old is None:
        return
    if value != old.get("value"):
        c.forbidden("value", "may not be changed in an update.")
    if policy != old.get("preemptionPolicy"):
        c.invalid("preemptionPolicy", policy, IMMUTABLE)
