"""Behaviour that differs per kind, in the manner of kube-apiserver's registry strategies.

Only what is truly per kind lives here: which kinds count generations, what status looks like on
create, what a main-resource update may not touch. Everything else is the one generic pipeline in
`api.py`.
"""
from __future__ import annotations

import copy
import functools
import time
import uuid

# Kinds whose strategies set metadata.generation (kube's PrepareForCreate sets it to 1 for these).
GENERATION_KINDS = {
    ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
    ("batch", "Job"), ("batch", "CronJob"), ("", "ReplicationController"),
    ("autoscaling", "HorizontalPodAutoscaler"), ("policy", "PodDisruptionBudget"),
    ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "NetworkPolicy"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("", "PersistentVolumeClaim"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
}

# What a freshly created object's status is, where kube's strategy resets it to something other
# than empty. Kinds absent here keep no client-sent status if they have a status subresource.
INITIAL_STATUS = {
    ("", "Pod"): {"phase": "Pending"},
    ("", "Namespace"): {"phase": "Active"},
    ("", "PersistentVolumeClaim"): {"phase": "Pending"},
    ("", "PersistentVolume"): {"phase": "Pending"},
    ("", "Service"): {"loadBalancer": {}},
}

# Kinds whose clients (kubelets, controllers) legitimately write status together with the object.
STATUS_ON_CREATE = {("", "Node"), ("", "Event"), ("events.k8s.io", "Event")}


def now_rfc3339() -> str:
    return _rfc3339(int(time.time()))


# Writes stamp the time to the second, many of them in the same second: each is formatted once.
@functools.lru_cache(maxsize=1)
def _rfc3339(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


def has_generation(info) -> bool:
    return info.crd is not None or (info.group, info.kind) in GENERATION_KINDS


def has_status_subresource(info) -> bool:
    return "status" in info.subresources


def _spec_part(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def prepare_for_create(info, obj: dict) -> None:
    meta = obj.setdefault("metadata", {})
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now_rfc3339()
    for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
        meta.pop(field, None)
    if has_generation(info):
        meta["generation"] = 1
    else:
        meta.pop("generation", None)
    key = (info.group, info.kind)
    if key == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        # Held until the CRD controller has deleted every custom resource of the definition.
        finalizers = meta.setdefault("finalizers", [])
        if "customresourcecleanup.apiextensions.k8s.io" not in finalizers:
            finalizers.append("customresourcecleanup.apiextensions.k8s.io")
    if key in INITIAL_STATUS:
        obj["status"] = copy.deepcopy(INITIAL_STATUS[key])
    elif has_status_subresource(info) and key not in STATUS_ON_CREATE:
        obj.pop("status", None)


def prepare_for_update(info, obj: dict, old: dict, subresource: str | None) -> None:
    """Carry over what an update of this (sub)resource may not change, and count generations."""
    meta, old_meta = obj.setdefault("metadata", {}), old["metadata"]
    for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                  "generation"):
        if field in old_meta:
            meta[field] = old_meta[field]
        else:
            meta.pop(field, None)
    if subresource == "status":
        # A status write changes status only; metadata changes beyond labels/annotations are dropped too.
        kept = {k: v for k, v in old.items() if k != "status"}
        status = obj.get("status")
        obj.clear()
        obj.update(copy.deepcopy(kept))
        if status is not None:
            obj["status"] = status
        return
    if (info.group, info.kind) == ("", "Service"):
        _keep_service_allocations(obj, old)
    if has_status_subresource(info):
        if "status" in old:
            obj["status"] = copy.deepcopy(old["status"])
        else:
            obj.pop("status", None)
    if has_generation(info) and _spec_part(obj) != _spec_part(old):
        meta["generation"] = old_meta.get("generation", 0) + 1


def _keep_service_allocations(svc: dict, old: dict) -> None:
    """An update that leaves out what was allocated keeps it, as clients rarely echo it back."""
    spec, old_spec = svc.setdefault("spec", {}), old.get("spec", {})
    if spec.get("type", "ClusterIP") == "ExternalName":
        return
    for field in ("clusterIP", "clusterIPs"):
        if not spec.get(field) and old_spec.get(field):
            spec[field] = copy.deepcopy(old_spec[field])
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        return
    allocated = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports", [])}
    for port in spec.get("ports", []):
        if not port.get("nodePort") and allocated.get((port.get("port"), port.get("protocol", "TCP"))):
            port["nodePort"] = allocated[(port.get("port"), port.get("protocol", "TCP"))]


def prepare_for_delete(info, obj: dict) -> None:
    """What changes when an object starts its graceful or finalized deletion."""
    if (info.group, info.kind) == ("", "Namespace"):
        obj.setdefault("status", {})["phase"] = "Terminating"
