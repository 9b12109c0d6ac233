"""A StatefulSet's pods and claims: stable names, identity, storage and the claims' retention.

Pod `<set>-<ordinal>` carries its identity (the `statefulset.kubernetes.io/pod-name` and
`apps.kubernetes.io/pod-index` labels, hostname, and the governing service as subdomain) and
mounts one claim per volumeClaimTemplate, `<template>-<set>-<ordinal>`, which outlives the pod.
The claims are created here and left for a provisioner to bind; with no volume provisioning in
vapi they stay Pending, which this controller does not wait on (the kubelet would).
Who owns a claim follows persistentVolumeClaimRetentionPolicy, as in kube: the set when
`whenDeleted: Delete`, the pod when `whenScaled: Delete` and the pod is being scaled away, so the
garbage collector removes the claim with its owner.
"""
from __future__ import annotations

import re

from .pods import is_pod_available, is_pod_ready, pod_from_template

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def start_ordinal(sts: dict) -> int:
    return int(((sts["spec"].get("ordinals") or {}).get("start")) or 0)


def replicas_of(sts: dict) -> int:
    replicas = sts["spec"].get("replicas")
    return 1 if replicas is None else int(replicas)


def parent_and_ordinal(pod: dict) -> tuple[str, int]:
    match = _ORDINAL.match(pod["metadata"]["name"])
    return (match.group(1), int(match.group(2))) if match else ("", -1)


def ordinal_of(pod: dict) -> int:
    return parent_and_ordinal(pod)[1]


def is_member(sts: dict, pod: dict) -> bool:
    return parent_and_ordinal(pod)[0] == sts["metadata"]["name"]


def in_range(sts: dict, ordinal: int) -> bool:
    start = start_ordinal(sts)
    return start <= ordinal < start + replicas_of(sts)


def pod_name(sts: dict, ordinal: int) -> str:
    return f"{sts['metadata']['name']}-{ordinal}"


def claim_name(sts: dict, template: dict, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{sts['metadata']['name']}-{ordinal}"


def claims_for(sts: dict, ordinal: int) -> dict[str, dict]:
    """The claims pod `ordinal` mounts, by template name, as kube makes them from the templates:
    the set's selector labels added to the template's."""
    claims = {}
    match_labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
    for template in sts["spec"].get("volumeClaimTemplates") or []:
        meta = dict(template.get("metadata") or {})
        meta = {k: v for k, v in meta.items() if k in ("labels", "annotations", "finalizers")}
        meta["labels"] = {**(meta.get("labels") or {}), **match_labels}
        meta["name"] = claim_name(sts, template, ordinal)
        meta["namespace"] = sts["metadata"]["namespace"]
        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                 "spec": dict(template.get("spec") or {})}
        claims[template["metadata"]["name"]] = claim
    return claims


def _apply_identity(sts: dict, pod: dict) -> None:
    ordinal = ordinal_of(pod)
    meta = pod["metadata"]
    meta["namespace"] = sts["metadata"]["namespace"]
    labels = meta.setdefault("labels", {})
    labels[POD_NAME_LABEL] = meta["name"]
    labels[POD_INDEX_LABEL] = str(ordinal)


def _apply_storage(sts: dict, pod: dict) -> None:
    claims = claims_for(sts, ordinal_of(pod))
    if not claims:
        return
    spec = pod["spec"]
    volumes = [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
    for name, claim in claims.items():
        volumes.append({"name": name, "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}})
    spec["volumes"] = volumes


def identity_matches(sts: dict, pod: dict) -> bool:
    labels = pod["metadata"].get("labels") or {}
    return (is_member(sts, pod) and pod["metadata"].get("namespace") == sts["metadata"]["namespace"]
            and labels.get(POD_NAME_LABEL) == pod["metadata"]["name"]
            and labels.get(POD_INDEX_LABEL) == str(ordinal_of(pod)))


def storage_matches(sts: dict, pod: dict) -> bool:
    volumes = {v.get("name"): v for v in pod["spec"].get("volumes") or []}
    for name, claim in claims_for(sts, ordinal_of(pod)).items():
        volume = volumes.get(name)
        if not volume or (volume.get("persistentVolumeClaim") or {}).get("claimName") != claim["metadata"]["name"]:
            return False
    return True


def fix_identity_and_storage(sts: dict, pod: dict) -> dict:
    """`pod` (a copy) with the set's identity labels and claim volumes restored."""
    _apply_identity(sts, pod)
    _apply_storage(sts, pod)
    return pod


def new_pod(sts: dict, template: dict, ordinal: int, revision: str) -> dict:
    """Pod `ordinal` made from `template` (the current or the update revision's)."""
    pod = pod_from_template(template, sts, "apps/v1", "StatefulSet", namespace=sts["metadata"]["namespace"],
                            name=pod_name(sts, ordinal))
    fix_identity_and_storage(sts, pod)
    pod["metadata"]["labels"][REVISION_LABEL] = revision
    pod["spec"]["hostname"] = pod["metadata"]["name"]
    if sts["spec"].get("serviceName"):
        pod["spec"]["subdomain"] = sts["spec"]["serviceName"]
    return pod


def pod_revision(pod: dict) -> str:
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL, "")


def is_created(pod: dict | None) -> bool:
    return pod is not None and bool((pod.get("status") or {}).get("phase"))


def is_terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def is_finished(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded")


def is_running_and_ready(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_pod_ready(pod)


def is_running_and_available(pod: dict, min_ready_seconds: int, now) -> bool:
    return is_running_and_ready(pod) and is_pod_available(pod, min_ready_seconds, now)


def is_healthy(pod: dict) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)


# persistentVolumeClaimRetentionPolicy: who owns a claim.

def retention(sts: dict) -> tuple[str, str]:
    policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    return policy.get("whenDeleted") or "Retain", policy.get("whenScaled") or "Retain"


def _ref(owner: dict, api_version: str, kind: str, controller: bool) -> dict:
    ref = {"apiVersion": api_version, "kind": kind, "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}
    if controller:
        ref.update(controller=True, blockOwnerDeletion=True)
    return ref


def claim_owners(sts: dict, pod: dict | None, claim: dict) -> list[dict]:
    """The claim's ownerReferences as the retention policy wants them, others' kept as they are."""
    when_deleted, when_scaled = retention(sts)
    set_uid = sts["metadata"]["uid"]
    pod_uid = pod["metadata"].get("uid") if pod else None
    refs = [r for r in claim["metadata"].get("ownerReferences") or []
            if r.get("uid") != set_uid and not (r.get("kind") == "Pod" and r.get("name") == (pod or {}).get("metadata", {}).get("name"))]
    if when_scaled == "Delete" and pod is not None and pod_uid and not in_range(sts, ordinal_of(pod)):
        refs.append(_ref(pod, "v1", "Pod", False))  # scaled away: the claim goes with its pod alone
    elif when_deleted == "Delete":
        refs.append(_ref(sts, "apps/v1", "StatefulSet", True))
    return refs


def claim_owners_match(sts: dict, pod: dict | None, claim: dict) -> bool:
    def key(refs):
        return sorted((r.get("uid"), bool(r.get("controller"))) for r in refs)
    return key(claim["metadata"].get("ownerReferences") or []) == key(claim_owners(sts, pod, claim))
