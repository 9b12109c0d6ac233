"""What every workload controller asks of pods and owners, answered once (kube's
`pkg/controller` helpers and `podutil`): the controller reference, a pod made from a template,
and whether a pod counts as active, ready or available.
"""
from __future__ import annotations

import copy
import datetime as dt

from admission.gotime import parse_rfc3339

from ..registry import selectors


def controller_ref(obj: dict | None) -> dict | None:
    """The owner reference marked `controller: true`, if any."""
    if not obj:
        return None
    return next((ref for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("controller")), None)


def owner_reference(owner: dict, api_version: str, kind: str) -> dict:
    """A controller reference to `owner`, blocking its foreground deletion as kube's controllers set it."""
    meta = owner["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def pod_from_template(template: dict, owner: dict, api_version: str, kind: str, *, namespace: str,
                      name: str | None = None, generate_name: str | None = None) -> dict:
    """A pod as kube's GetPodFromTemplate makes it: the template's labels, annotations, finalizers
    and spec, owned by `owner`."""
    template_meta = template.get("metadata") or {}
    meta: dict = {"namespace": namespace, "ownerReferences": [owner_reference(owner, api_version, kind)]}
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name or f"{owner['metadata']['name']}-"
    for field in ("labels", "annotations"):
        if template_meta.get(field):
            meta[field] = dict(template_meta[field])
    if template_meta.get("finalizers"):
        meta["finalizers"] = list(template_meta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}


def pod_condition(pod: dict, condition_type: str) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def is_pod_active(pod: dict) -> bool:
    """Not finished and not being deleted: what a controller counts towards its replicas."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and \
        not pod["metadata"].get("deletionTimestamp")


def is_pod_ready(pod: dict) -> bool:
    condition = pod_condition(pod, "Ready")
    return condition is not None and condition.get("status") == "True"


def ready_since(pod: dict) -> dt.datetime | None:
    condition = pod_condition(pod, "Ready")
    if condition is None or condition.get("status") != "True":
        return None
    since = condition.get("lastTransitionTime")
    return parse_rfc3339(since) if since else dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def is_pod_available(pod: dict, min_ready_seconds: int, now: dt.datetime) -> bool:
    """Ready for at least `min_ready_seconds` (kube's IsPodAvailable)."""
    since = ready_since(pod)
    if since is None:
        return False
    return min_ready_seconds <= 0 or since + dt.timedelta(seconds=min_ready_seconds) <= now


def label_selector(spec_selector: dict | None) -> selectors.LabelSelector:
    """A workload's `spec.selector` (metav1.LabelSelector) as a matcher; None selects nothing."""
    return selectors.label_selector_from_object(spec_selector)
