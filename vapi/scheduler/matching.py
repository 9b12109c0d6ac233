"""The predicates plugins share: node selector terms (kube's nodeaffinity helpers), taints against
tolerations (v1helper.TolerationsTolerateTaint) and which pods an affinity term selects."""
from __future__ import annotations

from ..registry import selectors


def _number(text) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def requirement_matches(req: dict, values: dict) -> bool:
    key, operator, wanted = req.get("key", ""), req.get("operator", ""), req.get("values") or []
    present = key in values
    if operator == "In":
        return present and values[key] in wanted
    if operator == "NotIn":
        return not present or values[key] not in wanted
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(wanted) == 1:
        have, bound = _number(values[key]), _number(wanted[0])
        if have is None or bound is None:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term: dict, node: dict) -> bool:
    """A NodeSelectorTerm: every expression over labels and every field (metadata.name) holds;
    a term with neither matches nothing."""
    expressions, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not expressions and not fields:
        return False
    labels = node["metadata"].get("labels") or {}
    node_fields = {"metadata.name": node["metadata"]["name"]}
    return all(requirement_matches(r, labels) for r in expressions) and \
        all(requirement_matches(r, node_fields) for r in fields)


def required_node_affinity_matches(pod: dict, node: dict) -> bool:
    """nodeSelector and requiredDuringScheduling node affinity (kube's GetRequiredNodeAffinity)."""
    spec = pod.get("spec") or {}
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return True
    return any(term_matches(term, node) for term in required.get("nodeSelectorTerms") or [])


def tolerates(toleration: dict, taint: dict) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated(taints: list[dict], tolerations: list[dict], effects: tuple[str, ...]) -> list[dict]:
    return [t for t in taints if t.get("effect") in effects and not any(tolerates(x, t) for x in tolerations)]


def node_taints(node: dict) -> list[dict]:
    return (node.get("spec") or {}).get("taints") or []


def pod_tolerations(pod: dict) -> list[dict]:
    return (pod.get("spec") or {}).get("tolerations") or []


class AffinityTerm:
    """A PodAffinityTerm resolved against the pod that carries it: its selector and the namespaces
    it looks in (its own when none are named; namespaceSelector `{}` meaning all)."""

    def __init__(self, term: dict, owner: dict, namespace_labels):
        self.topology_key = term.get("topologyKey") or ""
        self.selector = selectors.label_selector_from_object(term.get("labelSelector"))
        self.namespaces = set(term.get("namespaces") or [])
        ns_selector = term.get("namespaceSelector")
        self.ns_selector = None if ns_selector is None else selectors.label_selector_from_object(ns_selector)
        if not self.namespaces and self.ns_selector is None:
            self.namespaces = {owner["metadata"].get("namespace")}
        self.namespace_labels = namespace_labels

    def matches(self, pod: dict) -> bool:
        namespace = pod["metadata"].get("namespace")
        in_namespace = namespace in self.namespaces or (
            self.ns_selector is not None and self.ns_selector.matches(self.namespace_labels(namespace)))
        return in_namespace and self.selector.matches(pod["metadata"].get("labels") or {})


def affinity_terms(pod: dict, kind: str, required: bool, namespace_labels) -> list[tuple[AffinityTerm, int]]:
    """The (term, weight) pairs of a pod's podAffinity or podAntiAffinity (`kind`)."""
    block = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    if required:
        return [(AffinityTerm(t, pod, namespace_labels), 1)
                for t in block.get("requiredDuringSchedulingIgnoredDuringExecution") or []]
    return [(AffinityTerm(w.get("podAffinityTerm") or {}, pod, namespace_labels), w.get("weight") or 0)
            for w in block.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
