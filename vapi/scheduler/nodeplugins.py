"""The plugins that judge a node by the node alone and the pods already on it: NodeUnschedulable,
TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit and NodeResourcesBalancedAllocation,
with kube's reasons and default-profile weights."""
from __future__ import annotations

from .framework import MAX_SCORE, Plugin, default_normalize, refuse, unresolvable
from .matching import (node_taints, pod_tolerations, required_node_affinity_matches, term_matches, tolerates,
                       untolerated)
from .nodeinfo import host_ports, nonzero_requests_of, requests_of

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable(Plugin):
    name, filters = "NodeUnschedulable", True

    def filter(self, state, pod, node):
        if (node.node.get("spec") or {}).get("unschedulable") and \
                not any(tolerates(t, UNSCHEDULABLE_TAINT) for t in pod_tolerations(pod)):
            return unresolvable("node(s) were unschedulable")
        return None


class TaintToleration(Plugin):
    name, weight, filters, scores = "TaintToleration", 3, True, True

    def filter(self, state, pod, node):
        taints = untolerated(node_taints(node.node), pod_tolerations(pod), ("NoSchedule", "NoExecute"))
        if taints:
            taint = taints[0]
            return unresolvable(f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value') or ''}}}")
        return None

    def score(self, state, pod, node):
        soft = [t for t in pod_tolerations(pod) if t.get("effect") in (None, "", "PreferNoSchedule")]
        return len(untolerated(node_taints(node.node), soft, ("PreferNoSchedule",)))

    def normalize(self, scores):
        default_normalize(scores, reverse=True)


class NodeAffinity(Plugin):
    name, weight, filters, scores = "NodeAffinity", 2, True, True

    def filter(self, state, pod, node):
        if not required_node_affinity_matches(pod, node.node):
            return unresolvable("node(s) didn't match Pod's node affinity/selector")
        return None

    def score(self, state, pod, node):
        preferred = ((((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
                     .get("preferredDuringSchedulingIgnoredDuringExecution") or [])
        return sum(p.get("weight") or 0 for p in preferred if term_matches(p.get("preference") or {}, node.node))

    def normalize(self, scores):
        default_normalize(scores)


def ports_conflict(wanted: tuple[str, str, int], used: tuple[str, str, int]) -> bool:
    (ip, protocol, port), (used_ip, used_protocol, used_port) = wanted, used
    return protocol == used_protocol and port == used_port and \
        (ip == used_ip or "0.0.0.0" in (ip, used_ip))


class NodePorts(Plugin):
    name, filters = "NodePorts", True

    def filter(self, state, pod, node):
        if any(ports_conflict(w, u) for w in host_ports(pod) for u in node.ports):
            return refuse("node(s) didn't have free ports for the requested pod ports")
        return None


class NodeResourcesFit(Plugin):
    """Requests against what is left of allocatable; scored LeastAllocated over cpu and memory."""
    name, weight, filters, scores = "NodeResourcesFit", 1, True, True

    def prefilter(self, pod, snapshot):
        return requests_of(pod), nonzero_requests_of(pod)

    def filter(self, state, pod, node):
        allocatable = node.allocatable()
        reasons, resolvable = [], True
        if len(node.pods) + 1 > allocatable.get("pods", 0):
            reasons.append("Too many pods")
        wanted = state[0]
        names = ["cpu", "memory", "ephemeral-storage"] + sorted(set(wanted) - {"cpu", "memory", "ephemeral-storage"})
        for name in names:
            want = wanted.get(name, 0)
            if want > 0 and want > allocatable.get(name, 0) - node.requested.get(name, 0):
                reasons.append(f"Insufficient {name}")
                # A pod asking more than the whole node has gains nothing from evictions.
                resolvable = resolvable and want <= allocatable.get(name, 0)
        if reasons:
            return refuse(*reasons) if resolvable else unresolvable(*reasons)
        return None

    def score(self, state, pod, node):
        fractions = free_fractions(state[1], node)
        return sum(int(MAX_SCORE * (1 - used)) if used <= 1 else 0 for used in fractions) // len(fractions)


def free_fractions(nonzero: tuple[int, int], node) -> list[float]:
    """What share of allocatable cpu and memory the node's pods and this one (its non-zero
    requests) ask."""
    allocatable = node.allocatable()
    cpu, memory = nonzero
    shares = []
    for i, (name, extra) in enumerate((("cpu", cpu), ("memory", memory))):
        total = allocatable.get(name, 0)
        shares.append((node.nonzero[i] + extra) / total if total else 1.0)
    return shares


class BalancedAllocation(Plugin):
    name, weight, scores = "NodeResourcesBalancedAllocation", 1, True

    def prefilter(self, pod, snapshot):
        return nonzero_requests_of(pod)

    def score(self, state, pod, node):
        cpu, memory = (min(share, 1.0) for share in free_fractions(state, node))
        return int((1 - abs(cpu - memory) / 2) * MAX_SCORE)
