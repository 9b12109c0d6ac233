"""Priority: a pod's priority and preemption policy come from its PriorityClass (or the global
default class, else 0) at create, and a pod may not state other values (kube's Priority plugin);
only one PriorityClass may be the global default."""
from __future__ import annotations

from ..chain import CREATE, UPDATE, Attributes, MutatingPlugin, ValidatingPlugin

DEFAULT_PRIORITY = 0
PREEMPT_LOWER = "PreemptLowerPriority"


class Priority(MutatingPlugin, ValidatingPlugin):
    name = "Priority"
    operations = frozenset((CREATE, UPDATE))

    def __init__(self, get_class, list_classes):
        self.get_class = get_class          # name -> PriorityClass or None
        self.list_classes = list_classes    # () -> every PriorityClass

    def _default_class(self) -> dict | None:
        defaults = [pc for pc in self.list_classes() if pc.get("globalDefault")]
        return min(defaults, key=lambda pc: pc.get("value", 0), default=None)

    async def admit(self, attrs: Attributes) -> None:
        if (attrs.group, attrs.resource, attrs.subresource, attrs.operation) != ("", "pods", "", CREATE) \
                or attrs.object is None:
            return
        spec = attrs.object.setdefault("spec", {})
        name = spec.get("priorityClassName") or ""
        if name:
            pc = self.get_class(name)
            if pc is None:
                raise attrs.forbidden(f"no PriorityClass with name {name} was found")
        else:
            pc = self._default_class()
            if pc is not None:
                spec["priorityClassName"] = pc["metadata"]["name"]
        priority = pc.get("value", 0) if pc is not None else DEFAULT_PRIORITY
        policy = (pc.get("preemptionPolicy") if pc is not None else None) or PREEMPT_LOWER
        if spec.get("priority") is not None and spec["priority"] != priority:
            raise attrs.forbidden(f"the integer value of priority ({spec['priority']}) must not be provided in pod "
                                  f"spec; priority admission controller computed {priority} from the given "
                                  "PriorityClass name")
        if spec.get("preemptionPolicy") is not None and spec["preemptionPolicy"] != policy:
            raise attrs.forbidden(f"the string value of PreemptionPolicy ({spec['preemptionPolicy']}) must not be "
                                  f"provided in pod spec; priority admission controller computed {policy} from "
                                  "the given PriorityClass name")
        spec["priority"] = priority
        spec["preemptionPolicy"] = policy

    async def validate(self, attrs: Attributes) -> None:
        if (attrs.group, attrs.resource) != ("scheduling.k8s.io", "priorityclasses") or attrs.object is None:
            return
        if not attrs.object.get("globalDefault"):
            return
        for pc in self.list_classes():
            if pc.get("globalDefault") and pc["metadata"]["name"] != attrs.object["metadata"].get("name"):
                raise attrs.forbidden(f"PriorityClass {pc['metadata']['name']} is already marked as default. Only "
                                      "one default can exist")
