"""RuntimeClass: a pod naming a RuntimeClass gets its overhead and its scheduling constraints
(node selector, tolerations) at create, and a pod whose overhead does not match its RuntimeClass
is refused, in kube's words (plugin/pkg/admission/runtimeclass)."""
from __future__ import annotations

from collections.abc import Callable

from ..chain import CREATE, Attributes, MutatingPlugin, ValidatingPlugin
from ..quantity import render_list, resource_list

MISMATCH = "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"
UNDEFINED = "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"


def _same(a: dict | None, b: dict | None) -> bool:
    """Resource lists compared as quantities (1000m equals 1), as kube's semantic equality does."""
    return render_list(resource_list(a)) == render_list(resource_list(b)) and bool(a) == bool(b)


class RuntimeClass(MutatingPlugin, ValidatingPlugin):
    name = "RuntimeClass"
    operations = frozenset((CREATE,))

    def __init__(self, runtime_class: Callable[[str], dict | None]):
        self.runtime_class = runtime_class

    @staticmethod
    def _pod(attrs: Attributes) -> dict | None:
        if (attrs.group, attrs.resource, attrs.subresource) != ("", "pods", "") or attrs.object is None:
            return None
        return attrs.object

    def _class_of(self, attrs: Attributes, spec: dict) -> dict | None:
        name = spec.get("runtimeClassName")
        if not name:
            return None
        found = self.runtime_class(name)
        if found is None:
            raise attrs.forbidden(f'pod rejected: RuntimeClass "{name}" not found')
        return found

    async def admit(self, attrs: Attributes) -> None:
        pod = self._pod(attrs)
        if pod is None:
            return
        spec = pod.setdefault("spec", {})
        runtime_class = self._class_of(attrs, spec)
        if runtime_class is None:
            return
        fixed = (runtime_class.get("overhead") or {}).get("podFixed")
        if fixed is not None:
            if spec.get("overhead") is not None and not _same(spec["overhead"], fixed):
                raise attrs.forbidden(MISMATCH)
            spec["overhead"] = dict(fixed)
        scheduling = runtime_class.get("scheduling") or {}
        selector = dict(spec.get("nodeSelector") or {})
        for key, value in (scheduling.get("nodeSelector") or {}).items():
            if key in selector and selector[key] != value:
                raise attrs.forbidden(f"conflict: runtimeClass.scheduling.nodeSelector[{key}] = {value}; "
                                      f"pod.spec.nodeSelector[{key}] = {selector[key]}")
            selector[key] = value
        if selector:
            spec["nodeSelector"] = selector
        tolerations = list(spec.get("tolerations") or [])
        for toleration in scheduling.get("tolerations") or []:
            if toleration not in tolerations:
                tolerations.append(toleration)
        if tolerations:
            spec["tolerations"] = tolerations

    async def validate(self, attrs: Attributes) -> None:
        pod = self._pod(attrs)
        if pod is None:
            return
        spec = pod.get("spec") or {}
        runtime_class = self._class_of(attrs, spec)
        fixed = ((runtime_class or {}).get("overhead") or {}).get("podFixed")
        if fixed is not None:
            if not _same(fixed, spec.get("overhead")):
                raise attrs.forbidden(MISMATCH)
        elif spec.get("overhead") is not None:
            raise attrs.forbidden(UNDEFINED)
