"""One scheduling attempt over a snapshot: every node filtered by the default profile's plugins in
kube's order, the feasible ones scored and weighed, the best taken (ties at random)."""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

from .framework import Plugin, Status
from .interpod import InterPodAffinity
from .nodeinfo import NodeInfo, priority_of
from .nodeplugins import (BalancedAllocation, NodeAffinity, NodePorts, NodeResourcesFit, NodeUnschedulable,
                          TaintToleration)
from .topologyspread import PodTopologySpread


@dataclass
class Snapshot:
    nodes: list[NodeInfo]
    # node name -> pods nominated there by preemption, counted by pods of no higher priority
    nominated: dict[str, list[dict]] = field(default_factory=dict)

    def without(self, node_name: str, removed: list[dict], added: list[dict] = ()) -> "Snapshot":
        """The snapshot with one node's pods changed, the others shared."""
        nodes = []
        for node in self.nodes:
            if node.name == node_name:
                node = node.copy()
                for pod in removed:
                    node.remove(pod)
                for pod in added:
                    node.add(pod)
            nodes.append(node)
        return Snapshot(nodes, self.nominated)


MIN_FEASIBLE = 100
MIN_PERCENTAGE = 5


def feasible_to_find(nodes: int) -> int:
    if nodes < MIN_FEASIBLE:
        return nodes
    percentage = max(50 - nodes // 125, MIN_PERCENTAGE)
    return max(nodes * percentage // 100, MIN_FEASIBLE)


def default_plugins(namespace_labels) -> list[Plugin]:
    return [NodeUnschedulable(), TaintToleration(), NodeAffinity(), NodePorts(), NodeResourcesFit(),
            PodTopologySpread(), InterPodAffinity(namespace_labels), BalancedAllocation()]


class Algorithm:
    def __init__(self, plugins: list[Plugin], rng: random.Random):
        self.plugins = plugins
        self.rng = rng
        self.next_start = 0

    def prefilter(self, pod: dict, snapshot: Snapshot) -> dict[str, object]:
        return {p.name: p.prefilter(pod, snapshot) for p in self.plugins}

    def filter_node(self, states: dict, pod: dict, node: NodeInfo, snapshot: Snapshot) -> Status | None:
        # Pods nominated to this node that matter at least as much are counted as if placed
        # (kube's RunFilterPluginsWithNominatedPods, for the node's own resources).
        nominated = [p for p in snapshot.nominated.get(node.name, [])
                     if p["metadata"]["uid"] != pod["metadata"]["uid"] and priority_of(p) >= priority_of(pod)]
        if nominated:
            node = node.copy()
            for other in nominated:
                node.add(other)
        for plugin in self.plugins:
            if plugin.filters:
                status = plugin.filter(states[plugin.name], pod, node)
                if status is not None:
                    return dataclasses.replace(status, plugin=plugin.name)
        return None

    def schedule(self, pod: dict, snapshot: Snapshot) -> tuple[str | None, dict[str, Status]]:
        """The chosen node's name, or None and each node's refusal. Past a hundred nodes only
        enough feasible ones are sought, starting where the last search stopped (kube's
        percentageOfNodesToScore, adaptive)."""
        states = self.prefilter(pod, snapshot)
        statuses: dict[str, Status] = {}
        feasible = []
        count = len(snapshot.nodes)
        wanted = feasible_to_find(count)
        start = self.next_start % count if count else 0
        for offset in range(count):
            node = snapshot.nodes[(start + offset) % count]
            status = self.filter_node(states, pod, node, snapshot)
            if status is None:
                feasible.append(node)
                if len(feasible) >= wanted:
                    self.next_start = start + offset + 1
                    break
            else:
                statuses[node.name] = status
        if not feasible:
            return None, statuses
        if len(feasible) == 1:
            return feasible[0].name, statuses
        totals = dict.fromkeys((n.name for n in feasible), 0)
        for plugin in self.plugins:
            if not plugin.scores:
                continue
            scores = {n.name: plugin.score(states[plugin.name], pod, n) for n in feasible}
            plugin.normalize(scores)
            for name, value in scores.items():
                totals[name] += value * plugin.weight
        best = max(totals.values())
        return self.rng.choice([name for name, value in totals.items() if value == best]), statuses
