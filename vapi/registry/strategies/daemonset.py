"""DaemonSets: the template generation, counted by the server as kube's DaemonSet strategy counts
it, and shown in apps/v1 as the `deprecated.daemonset.template.generation` annotation (1 on
create, one more for every change of the pod template; clients cannot set it otherwise). The
DaemonSet controller labels its pods with it."""
from __future__ import annotations

from .builtin import BuiltinStrategy

TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def _template_generation(obj: dict) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION) or 0)
    except ValueError:
        return 0


def _set(obj: dict, generation: int) -> None:
    obj["metadata"].setdefault("annotations", {})[TEMPLATE_GENERATION] = str(generation)


class DaemonSetStrategy(BuiltinStrategy):
    def prepare_for_create(self, obj: dict, user=None) -> None:
        super().prepare_for_create(obj, user)
        _set(obj, max(_template_generation(obj), 1))

    def prepare_for_update(self, obj: dict, old: dict, subresource: str | None) -> None:
        super().prepare_for_update(obj, old, subresource)
        generation = _template_generation(old)
        if subresource is None and (obj.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
            generation += 1
        if generation:
            _set(obj, generation)
