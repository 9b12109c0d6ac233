"""InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, required
anti-affinity of the pods already placed, and the preferred terms of both as a score."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .framework import MAX_SCORE, Plugin, refuse, unresolvable
from .matching import affinity_terms

HARD_AFFINITY_WEIGHT = 1   # kube's hardPodAffinityWeight: existing pods' required affinity as a preference


@dataclass
class State:
    affinity: list = field(default_factory=list)        # the pod's required affinity terms
    anti: list = field(default_factory=list)            # the pod's required anti-affinity terms
    affinity_counts: Counter = field(default_factory=Counter)   # (term index, key, value) -> matching pods
    anti_counts: Counter = field(default_factory=Counter)       # (key, value) -> pods the pod's anti terms match
    existing_anti: Counter = field(default_factory=Counter)     # (key, value) -> existing pods repelling it
    any_affinity_match: bool = False
    scores: Counter = field(default_factory=Counter)            # (key, value) -> preference


class InterPodAffinity(Plugin):
    name, weight, filters, scores = "InterPodAffinity", 2, True, True

    def __init__(self, namespace_labels):
        self.namespace_labels = namespace_labels

    def prefilter(self, pod, snapshot):
        labels = self.namespace_labels
        state = State(affinity=[t for t, _ in affinity_terms(pod, "podAffinity", True, labels)],
                      anti=[t for t, _ in affinity_terms(pod, "podAntiAffinity", True, labels)])
        preferred = [(t, w) for t, w in affinity_terms(pod, "podAffinity", False, labels)] + \
                    [(t, -w) for t, w in affinity_terms(pod, "podAntiAffinity", False, labels)]
        concerned = bool((pod.get("spec") or {}).get("affinity"))
        for node in snapshot.nodes:
            node_labels = node.labels
            for other in node.pods.values():
                if not concerned and not (other.get("spec") or {}).get("affinity"):
                    continue
                for i, term in enumerate(state.affinity):
                    if term.matches(other) and term.topology_key in node_labels:
                        state.affinity_counts[(i, term.topology_key, node_labels[term.topology_key])] += 1
                        state.any_affinity_match = True
                for term in state.anti:
                    if term.matches(other) and term.topology_key in node_labels:
                        state.anti_counts[(term.topology_key, node_labels[term.topology_key])] += 1
                for term, _ in affinity_terms(other, "podAntiAffinity", True, labels):
                    if term.matches(pod) and term.topology_key in node_labels:
                        state.existing_anti[(term.topology_key, node_labels[term.topology_key])] += 1
                self._prefer(state, preferred, other, node_labels, pod)
        return state

    def _prefer(self, state, preferred, other, node_labels, pod):
        labels = self.namespace_labels
        pairs = [(t, w, other) for t, w in preferred]
        pairs += [(t, w, pod) for t, w in affinity_terms(other, "podAffinity", False, labels)]
        pairs += [(t, -w, pod) for t, w in affinity_terms(other, "podAntiAffinity", False, labels)]
        pairs += [(t, HARD_AFFINITY_WEIGHT, pod) for t, _ in affinity_terms(other, "podAffinity", True, labels)]
        for term, weight, target in pairs:
            if weight and term.topology_key in node_labels and term.matches(target):
                state.scores[(term.topology_key, node_labels[term.topology_key])] += weight

    def filter(self, state, pod, node):
        labels = node.labels
        if state.affinity:
            for i, term in enumerate(state.affinity):
                if term.topology_key not in labels:
                    return unresolvable("node(s) didn't match pod affinity rules")
            satisfied = all(state.affinity_counts[(i, t.topology_key, labels[t.topology_key])] > 0
                            for i, t in enumerate(state.affinity))
            # The first of a group that asks to be with its own kind may start anywhere.
            alone = not state.any_affinity_match and all(t.matches(pod) for t in state.affinity)
            if not satisfied and not alone:
                return unresolvable("node(s) didn't match pod affinity rules")
        if any(state.anti_counts[(t.topology_key, labels[t.topology_key])] > 0
               for t in state.anti if t.topology_key in labels):
            return refuse("node(s) didn't match pod anti-affinity rules")
        if any(state.existing_anti[(key, value)] > 0 for key, value in labels.items()):
            return refuse("node(s) didn't satisfy existing pods anti-affinity rules")
        return None

    def score(self, state, pod, node):
        return sum(state.scores[(key, value)] for key, value in node.labels.items())

    def normalize(self, scores):
        low, high = min(scores.values(), default=0), max(scores.values(), default=0)
        for name, value in scores.items():
            scores[name] = MAX_SCORE * (value - low) // (high - low) if high > low else 0
