"""DefaultPreemption: when no node fits, find the node where evicting the fewest, least important
lower-priority pods lets the pod fit, sparing pods a PodDisruptionBudget protects where possible
(kube's preemption evaluator, sequential and without the extenders)."""
from __future__ import annotations

from dataclasses import dataclass

from ..registry import selectors
from .algorithm import Algorithm, Snapshot
from .framework import NOT_HELPFUL, Status, fit_message, unresolvable
from .nodeinfo import NodeInfo, priority_of

NO_VICTIMS = "No preemption victims found for incoming pod"


@dataclass
class Candidate:
    node: str
    victims: list[dict]
    violations: int


@dataclass
class Outcome:
    candidate: Candidate | None
    message: str   # the PostFilter message ("preemption: ..."), empty when a node was found


def importance(pod: dict) -> tuple:
    """Most important first: higher priority, then running longer."""
    started = (pod.get("status") or {}).get("startTime") or pod["metadata"].get("creationTimestamp") or ""
    return -priority_of(pod), started


def violating(victims: list[dict], pdbs: list[dict]) -> set[str]:
    """UIDs of the pods whose eviction would take some budget below zero."""
    allowed = {id(p): (p.get("status") or {}).get("disruptionsAllowed", 0) for p in pdbs}
    out = set()
    for pod in victims:
        meta = pod["metadata"]
        for pdb in pdbs:
            if pdb["metadata"].get("namespace") != meta.get("namespace"):
                continue
            if meta["name"] in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                continue
            try:
                selector = selectors.label_selector_from_object((pdb.get("spec") or {}).get("selector"))
            except selectors.SelectorError:
                continue
            if selector.empty or not selector.matches(meta.get("labels") or {}):
                continue
            allowed[id(pdb)] -= 1
            if allowed[id(pdb)] < 0:
                out.add(meta["uid"])
    return out


class Preemption:
    def __init__(self, algorithm: Algorithm, pdbs):
        self.algorithm = algorithm
        self.pdbs = pdbs    # namespace -> PodDisruptionBudgets there

    def _fits(self, pod: dict, snapshot: Snapshot, node_name: str, removed: list[dict]) -> Status | None:
        trial = snapshot.without(node_name, removed)
        node = next(n for n in trial.nodes if n.name == node_name)
        return self.algorithm.filter_node(self.algorithm.prefilter(pod, trial), pod, node, trial)

    def victims_on(self, pod: dict, snapshot: Snapshot, node: NodeInfo) -> tuple[Candidate | None, Status | None]:
        lower = sorted((p for p in node.pods.values() if priority_of(p) < priority_of(pod)), key=importance)
        if not lower:
            return None, unresolvable(NO_VICTIMS)
        status = self._fits(pod, snapshot, node.name, lower)
        if status is not None:
            return None, status
        bad = violating(lower, self._all_pdbs(lower))
        removed, victims, violations = list(lower), [], 0
        # Try to keep the protected ones first, then the rest, most important first.
        for candidate in [p for p in lower if p["metadata"]["uid"] in bad] + \
                         [p for p in lower if p["metadata"]["uid"] not in bad]:
            spared = [p for p in removed if p is not candidate]
            if self._fits(pod, snapshot, node.name, spared) is None:
                removed = spared
            else:
                victims.append(candidate)
                violations += candidate["metadata"]["uid"] in bad
        if not victims:
            return None, unresolvable(NO_VICTIMS)
        return Candidate(node.name, victims, violations), None

    def _all_pdbs(self, pods: list[dict]) -> list[dict]:
        namespaces = {p["metadata"].get("namespace") for p in pods}
        return [pdb for ns in namespaces for pdb in self.pdbs(ns)]

    def preempt(self, pod: dict, snapshot: Snapshot, statuses: dict[str, Status]) -> Outcome:
        spec = pod.get("spec") or {}
        if spec.get("preemptionPolicy") == "Never":
            return Outcome(None, "preemption: not eligible due to preemptionPolicy=Never")
        nominated = (pod.get("status") or {}).get("nominatedNodeName")
        status = statuses.get(nominated) if nominated else None
        if status is not None and status.resolvable:
            node = next((n for n in snapshot.nodes if n.name == nominated), None)
            if node is not None and any(p["metadata"].get("deletionTimestamp") and priority_of(p) < priority_of(pod)
                                        for p in node.pods.values()):
                return Outcome(None, "preemption: not eligible due to a terminating pod on the nominated node")
        verdicts: dict[str, Status] = {}
        candidates = []
        for node in snapshot.nodes:
            status = statuses.get(node.name)
            if status is None:
                continue
            if not status.resolvable:
                verdicts[node.name] = unresolvable(NOT_HELPFUL)
                continue
            candidate, why = self.victims_on(pod, snapshot, node)
            if candidate is None:
                verdicts[node.name] = why
            else:
                candidates.append(candidate)
        if not candidates:
            return Outcome(None, "preemption: " + fit_message(len(snapshot.nodes), verdicts)[:-1])
        return Outcome(min(candidates, key=lambda c: (
            c.violations, max(priority_of(v) for v in c.victims), sum(priority_of(v) for v in c.victims),
            len(c.victims))), "")
