"""PodTopologySpread: hard constraints (DoNotSchedule) as a filter, soft ones (ScheduleAnyway) as a
score, over the nodes the pod could go to (nodeAffinityPolicy, nodeTaintsPolicy) and counting
minDomains as kube does."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from ..registry import selectors
from .framework import MAX_SCORE, Plugin, refuse, unresolvable
from .matching import node_taints, pod_tolerations, required_node_affinity_matches, untolerated
from .nodeinfo import is_terminal


@dataclass
class Constraint:
    max_skew: int
    key: str
    hard: bool
    selector: selectors.LabelSelector
    min_domains: int
    honor_affinity: bool
    honor_taints: bool


def constraints_of(pod: dict) -> list[Constraint]:
    labels = pod["metadata"].get("labels") or {}
    out = []
    for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []:
        selector = dict(c.get("labelSelector") or {})
        keys = [k for k in c.get("matchLabelKeys") or [] if k in labels]
        if keys:
            selector["matchExpressions"] = list(selector.get("matchExpressions") or []) + [
                {"key": k, "operator": "In", "values": [labels[k]]} for k in keys]
        out.append(Constraint(c.get("maxSkew") or 1, c.get("topologyKey") or "",
                              c.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule",
                              selectors.label_selector_from_object(selector if c.get("labelSelector") is not None
                                                                   or keys else None),
                              c.get("minDomains") or 1, c.get("nodeAffinityPolicy", "Honor") == "Honor",
                              c.get("nodeTaintsPolicy", "Ignore") == "Honor"))
    return out


def counts(pod: dict, constraints: list[Constraint], snapshot) -> list[Counter]:
    """Per constraint: matching pods per topology value, over nodes that count for it (every such
    domain present, possibly at zero)."""
    namespace = pod["metadata"].get("namespace")
    result = [Counter() for _ in constraints]
    for node in snapshot.nodes:
        for i, c in enumerate(constraints):
            if c.key not in node.labels or not all(x.key in node.labels for x in constraints):
                continue
            if c.honor_affinity and not required_node_affinity_matches(pod, node.node):
                continue
            if c.honor_taints and untolerated(node_taints(node.node), pod_tolerations(pod), ("NoSchedule", "NoExecute")):
                continue
            domain = node.labels[c.key]
            result[i][domain] += sum(
                1 for other in node.pods.values()
                if other["metadata"].get("namespace") == namespace and not is_terminal(other)
                and not other["metadata"].get("deletionTimestamp")
                and c.selector.matches(other["metadata"].get("labels") or {}))
    return result


class PodTopologySpread(Plugin):
    name, weight, filters, scores = "PodTopologySpread", 2, True, True

    def prefilter(self, pod, snapshot):
        constraints = constraints_of(pod)
        return constraints, counts(pod, constraints, snapshot)

    def filter(self, state, pod, node):
        constraints, tallies = state
        labels = pod["metadata"].get("labels") or {}
        for c, tally in zip(constraints, tallies):
            if not c.hard:
                continue
            if c.key not in node.labels:
                return unresolvable("node(s) didn't match pod topology spread constraints (missing required label)")
            minimum = min(tally.values(), default=0)
            if len(tally) < c.min_domains:
                minimum = 0
            skew = tally[node.labels[c.key]] + (1 if c.selector.matches(labels) else 0) - minimum
            if skew > c.max_skew:
                return refuse("node(s) didn't match pod topology spread constraints")
        return None

    def score(self, state, pod, node):
        constraints, tallies = state
        total = 0.0
        for c, tally in zip(constraints, tallies):
            if c.hard:
                continue
            if c.key not in node.labels:
                return -1     # not a place the constraint can judge: scored lowest
            total += tally[node.labels[c.key]] * math.log(len(tally) + 2) + (c.max_skew - 1)
        return round(total)

    def normalize(self, scores):
        judged = [v for v in scores.values() if v >= 0]
        if not judged:
            return
        low, high = min(judged), max(judged)
        for name, value in scores.items():
            if value < 0:
                scores[name] = 0
            elif high == 0:
                scores[name] = MAX_SCORE
            else:
                scores[name] = MAX_SCORE * (high + low - value) // high
