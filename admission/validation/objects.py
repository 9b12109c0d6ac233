"""Reading decoded objects as kube's Go code sees them: a dotted-path getter that stops at what is
not there, fields taken as a dict or list whatever they hold, and apiequality.Semantic's view of
equality, with a short account of what differs for the messages that show it.
"""
from __future__ import annotations

from admission.gofmt import go_interface
from admission.validation.fielderrors import child


def dig(obj, dotted: str):
    """The value at a dotted path such as "spec.template.metadata", or None where it stops."""
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    return value if isinstance(value, list) else []


def without(obj: dict, keys) -> dict:
    """The fields of `obj` but `keys`."""
    return {k: v for k, v in obj.items() if k not in keys}


def semantic(value):
    """What apiequality.Semantic.DeepEqual compares: unset, empty and zero-length are one value."""
    if isinstance(value, dict):
        kept = {k: semantic(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def diff(old, new, path: str = "") -> list[str]:
    """A short account of what changed; kube prints a go-cmp diff of the Go structs here."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [line for key in sorted(set(old) | set(new))
                for line in diff(old.get(key), new.get(key), child(path, key))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [line for i, (o, n) in enumerate(zip(old, new)) for line in diff(o, n, child(path, i))]
    if old == new:
        return []
    return [f"-\t{path}: {go_interface(old)}", f"+\t{path}: {go_interface(new)}"]
