"""LimitRanger: a namespace's LimitRanges give containers their default requests and limits and
refuse pods and claims outside their minimums, maximums and limit-to-request ratios, with
kube's messages. Defaults set are recorded on the pod in the `kubernetes.io/limit-ranger`
annotation, as kube does.
"""
from __future__ import annotations

from collections.abc import Callable

from ..chain import CREATE, UPDATE, Attributes, MutatingPlugin, ValidatingPlugin
from ..quantity import Quantity, resource_list

ANNOTATION = "kubernetes.io/limit-ranger"


def _items(limit_range: dict, kind: str) -> list[dict]:
    """The range's items of one type, with the defaults kube's API gives Container items."""
    out = []
    for item in (limit_range.get("spec") or {}).get("limits") or []:
        if item.get("type") != kind:
            continue
        item = {k: dict(v) if isinstance(v, dict) else v for k, v in item.items()}
        if kind == "Container":
            default, request = item.setdefault("default", {}), item.setdefault("defaultRequest", {})
            for name, value in (item.get("max") or {}).items():
                default.setdefault(name, value)
            for name, value in default.items():
                request.setdefault(name, value)
            for name, value in (item.get("min") or {}).items():
                request.setdefault(name, value)
        out.append(item)
    return out


def _agree(errs: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message as it is, several in brackets, repeats once."""
    unique = list(dict.fromkeys(errs))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _min(kind: str, name: str, enforced: Quantity, request: dict, limit: dict) -> str | None:
    if name not in request:
        return f"minimum {name} usage per {kind} is {enforced}.  No request is specified"
    if request[name].milli() < enforced.milli():
        return f"minimum {name} usage per {kind} is {enforced}, but request is {request[name]}"
    if name in limit and limit[name].milli() < enforced.milli():
        return f"minimum {name} usage per {kind} is {enforced}, but limit is {limit[name]}"
    return None


def _max(kind: str, name: str, enforced: Quantity, request: dict, limit: dict) -> str | None:
    if name not in limit:
        return f"maximum {name} usage per {kind} is {enforced}.  No limit is specified"
    if limit[name].milli() > enforced.milli():
        return f"maximum {name} usage per {kind} is {enforced}, but limit is {limit[name]}"
    if name in request and request[name].milli() > enforced.milli():
        return f"maximum {name} usage per {kind} is {enforced}, but request is {request[name]}"
    return None


def _ratio(kind: str, name: str, enforced: Quantity, request: dict, limit: dict) -> str | None:
    req, lim = request.get(name), limit.get(name)
    if req is None or req.milli() == 0:
        return (f"{name} max limit to request ratio per {kind} is {enforced}, but no request is specified or "
                "request is 0")
    if lim is None or lim.milli() == 0:
        return (f"{name} max limit to request ratio per {kind} is {enforced}, but no limit is specified or "
                "limit is 0")
    ratio = lim.milli() / req.milli()
    if ratio > float(enforced.value):
        return f"{name} max limit to request ratio per {kind} is {enforced}, but provided ratio is {ratio:f}"
    return None


def _check(item: dict, kind: str, request: dict, limit: dict) -> list[str]:
    errs = []
    for key, check in (("min", _min), ("max", _max), ("maxLimitRequestRatio", _ratio)):
        for name, enforced in sorted(resource_list(item.get(key)).items()):
            err = check(kind, name, enforced, request, limit)
            if err:
                errs.append(err)
    return errs


def _pod_totals(spec: dict) -> tuple[dict, dict]:
    """A pod's requests and limits for the Pod item: its containers' sums, raised to any init
    container's own (kube's podRequests/podLimits in the plugin)."""
    totals = []
    for key in ("requests", "limits"):
        total: dict[str, Quantity] = {}
        for c in spec.get("containers") or []:
            for name, q in resource_list((c.get("resources") or {}).get(key)).items():
                total[name] = total[name] + q if name in total else q
        for c in spec.get("initContainers") or []:
            for name, q in resource_list((c.get("resources") or {}).get(key)).items():
                if name not in total or q.value > total[name].value:
                    total[name] = q
        totals.append(total)
    return totals[0], totals[1]


class LimitRanger(MutatingPlugin, ValidatingPlugin):
    name = "LimitRanger"
    operations = frozenset((CREATE, UPDATE))

    def __init__(self, limit_ranges: Callable[[str], list[dict]]):
        self.limit_ranges = limit_ranges

    def _ranges(self, attrs: Attributes) -> list[dict]:
        if attrs.group != "" or attrs.resource not in ("pods", "persistentvolumeclaims") or attrs.subresource \
                or not attrs.namespace or attrs.object is None:
            return []
        if attrs.resource == "pods" and attrs.operation == UPDATE:
            return []  # a pod's resources are fixed once it exists
        return sorted(self.limit_ranges(attrs.namespace), key=lambda o: o["metadata"]["name"])

    async def admit(self, attrs: Attributes) -> None:
        if attrs.resource != "pods":
            return
        defaults: dict[str, dict] = {"defaultRequest": {}, "default": {}}
        for limit_range in self._ranges(attrs):
            for item in _items(limit_range, "Container"):
                for key in defaults:
                    defaults[key].update(item.get(key) or {})
        if not any(defaults.values()):
            return
        notes = []
        spec = attrs.object.get("spec") or {}
        for kind, key in (("init container", "initContainers"), ("container", "containers")):
            for container in spec.get(key) or []:
                resources = container.setdefault("resources", {})
                for field, source, word in (("requests", "defaultRequest", "request"), ("limits", "default", "limit")):
                    current = resources.setdefault(field, {})
                    added = sorted(n for n in defaults[source] if n not in current)
                    for n in added:
                        current[n] = str(Quantity.parse(defaults[source][n]))
                    if added:
                        notes.append(f"{', '.join(added)} {word} for {kind} {container.get('name', '')}")
                for field in ("requests", "limits"):
                    if not resources.get(field):
                        resources.pop(field, None)
        if notes:
            annotations = attrs.object.setdefault("metadata", {}).setdefault("annotations", {})
            annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)

    async def validate(self, attrs: Attributes) -> None:
        errs = []
        for limit_range in self._ranges(attrs):
            errs.extend(self._validate(attrs, limit_range))
        if errs:
            raise attrs.forbidden(_agree(errs))

    @staticmethod
    def _validate(attrs: Attributes, limit_range: dict) -> list[str]:
        spec = attrs.object.get("spec") or {}
        errs = []
        if attrs.resource == "persistentvolumeclaims":
            # A claim's limits are not the user's to set: min is checked on its request alone, and
            # max against its request.
            requests = resource_list((spec.get("resources") or {}).get("requests"))
            for item in _items(limit_range, "PersistentVolumeClaim"):
                for name, enforced in sorted(resource_list(item.get("min")).items()):
                    errs.append(_min("PersistentVolumeClaim", name, enforced, requests, {}))
                for name, enforced in sorted(resource_list(item.get("max")).items()):
                    err = _max("PersistentVolumeClaim", name, enforced, {}, requests)
                    errs.append(err and err.replace("No limit", "No request").replace("but limit", "but request"))
            return [e for e in errs if e]
        for item in _items(limit_range, "Container"):
            for key in ("containers", "initContainers"):
                for container in spec.get(key) or []:
                    resources = container.get("resources") or {}
                    errs.extend(_check(item, "Container", resource_list(resources.get("requests")),
                                       resource_list(resources.get("limits"))))
        for item in _items(limit_range, "Pod"):
            requests, limits = _pod_totals(spec)
            errs.extend(_check(item, "Pod", requests, limits))
        return errs
