"""A DaemonSet's pod for one node, and whether that node should run it.

As in kube since scheduling moved out of the DaemonSet controller, the pod is not bound here: it
carries a required node affinity term `matchFields metadata.name In [<node>]` (replacing the
template's own terms, which the node was already checked against) and the scheduler binds it.
It also tolerates what a node's own trouble would otherwise keep it from (not-ready and
unreachable, the pressure conditions, unschedulable, and with hostNetwork a network that is not
up yet), so a node's agent keeps running where nothing else would.
"""
from __future__ import annotations

import copy

from ..registry.strategies.daemonset import TEMPLATE_GENERATION
from ..scheduler import matching
from .pods import pod_from_template

REVISION_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"

_DEFAULT_TOLERATIONS = (("node.kubernetes.io/not-ready", "NoExecute"),
                        ("node.kubernetes.io/unreachable", "NoExecute"),
                        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
                        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                        ("node.kubernetes.io/unschedulable", "NoSchedule"))
_HOST_NETWORK_TOLERATION = ("node.kubernetes.io/network-unavailable", "NoSchedule")


def add_daemon_tolerations(spec: dict) -> None:
    wanted = list(_DEFAULT_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(_HOST_NETWORK_TOLERATION)
    tolerations = spec.setdefault("tolerations", [])
    for key, effect in wanted:
        toleration = {"key": key, "operator": "Exists", "effect": effect}
        if not any(_same_toleration(t, toleration) for t in tolerations):
            tolerations.append(toleration)


def _same_toleration(a: dict, b: dict) -> bool:
    return all((a.get(k) or "") == (b.get(k) or "") for k in ("key", "operator", "value", "effect"))


def with_node_affinity(spec: dict, node_name: str) -> None:
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    node_affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}


def template_generation(ds: dict) -> str | None:
    return (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION)


def new_pod(ds: dict, node_name: str, hash_: str) -> dict:
    template = copy.deepcopy(ds["spec"]["template"])
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    generation = template_generation(ds)
    if generation is not None:
        labels[GENERATION_LABEL] = generation
    labels[REVISION_LABEL] = hash_
    spec = template.setdefault("spec", {})
    add_daemon_tolerations(spec)
    with_node_affinity(spec, node_name)
    return pod_from_template(template, ds, "apps/v1", "DaemonSet", namespace=ds["metadata"]["namespace"],
                             generate_name=f"{ds['metadata']['name']}-")


def target_node(pod: dict) -> str | None:
    """The node a daemon pod is on, or is meant for while it waits to be scheduled."""
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    required = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In" \
                    and len(field.get("values") or []) == 1:
                return field["values"][0]
    return None


def daemon_spec(ds: dict) -> dict:
    """The pod spec placement is judged by: the template's, with the daemon tolerations."""
    spec = copy.deepcopy(ds["spec"]["template"].get("spec") or {})
    add_daemon_tolerations(spec)
    return spec


def placement(spec: dict, node: dict) -> tuple[bool, bool]:
    """(should a new daemon pod be placed on `node`, may an existing one keep running there)."""
    if spec.get("nodeName") and spec["nodeName"] != node["metadata"]["name"]:
        return False, False
    pod = {"spec": spec}
    if not matching.required_node_affinity_matches(pod, node):
        return False, False
    taints, tolerations = matching.node_taints(node), matching.pod_tolerations(pod)
    if not matching.untolerated(taints, tolerations, ("NoSchedule", "NoExecute")):
        return True, True
    return False, not matching.untolerated(taints, tolerations, ("NoExecute",))


def should_run(ds: dict, node: dict) -> tuple[bool, bool]:
    return placement(daemon_spec(ds), node)


def is_updated(pod: dict, hash_: str, generation: str | None) -> bool:
    labels = pod["metadata"].get("labels") or {}
    return labels.get(REVISION_LABEL) == hash_ or (generation is not None and labels.get(GENERATION_LABEL) == generation)


def oldest_first(pods: list[dict]) -> list[dict]:
    """Oldest first; of the same age, a running pod before a pending one (kube's
    podByCreationTimestampAndPhase)."""
    return sorted(pods, key=lambda p: (p["metadata"].get("creationTimestamp") or "",
                                       (p.get("status") or {}).get("phase") != "Running", p["metadata"]["name"]))
