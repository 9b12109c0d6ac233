"""NetworkPolicies to the host (opt-in). All of this cluster's pods share one host namespace, so
every selector is narrowed by the marks host pods carry: the policy's podSelector and a peer's
podSelector to this virtual namespace's pods; a peer with a namespaceSelector to the pods of the
virtual namespaces it selects now (read from this cluster's Namespaces, and looked at again when
their labels change), by their `vapi.dev/namespace` mark; a peer that selects no namespace
selects no pod (rather than vanishing, which could leave an empty, allow-all list). ipBlock
peers pass through unchanged."""
from __future__ import annotations

import copy

from vapi.registry.selectors import SelectorError, label_selector_from_object

from .. import names
from ..host import HostResource
from ..syncer import Loop, Translator
from .common import narrowed


class NetworkPolicies(Translator):
    kind = "NetworkPolicy"
    key = "networkPolicies"
    virtual = ("networking.k8s.io", "v1", "networkpolicies")
    host = HostResource("networking.k8s.io", "v1", "networkpolicies")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.namespaces = ctx.cache("", "v1", "namespaces")
        self.policies = ctx.cache(*self.virtual)

    def setup(self, loop: Loop) -> None:
        loop.watch_virtual("", "v1", "namespaces", lambda namespace: [
            (p["metadata"]["namespace"], p["metadata"]["name"]) for p in self.policies.list()
            if _has_namespace_selector(p)])

    def _selected_namespaces(self, selector: dict) -> list[str]:
        try:
            chosen = label_selector_from_object(selector)
        except SelectorError:
            return []
        return sorted(ns["metadata"]["name"] for ns in self.namespaces.list()
                      if chosen.matches(ns["metadata"].get("labels")))

    def _peer(self, peer: dict, namespace: str) -> dict:
        if "ipBlock" in peer:
            return peer
        if peer.get("namespaceSelector") is None:
            return {"podSelector": narrowed(peer.get("podSelector"), self.ctx.vc, namespace)}
        selector = copy.deepcopy(peer.get("podSelector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), names.MANAGED_BY: self.ctx.vc}
        # No namespace is named "": a peer choosing none keeps its place and selects no pod.
        chosen = self._selected_namespaces(peer["namespaceSelector"]) or [""]
        selector["matchExpressions"] = [*(selector.get("matchExpressions") or []),
                                        {"key": names.NAMESPACE, "operator": "In", "values": chosen}]
        return {"podSelector": selector}

    async def fields(self, policy: dict, host: dict | None) -> dict:
        namespace = policy["metadata"]["namespace"]
        spec = copy.deepcopy(policy.get("spec") or {})
        spec["podSelector"] = narrowed(spec.get("podSelector"), self.ctx.vc, namespace)
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction) or []:
                if rule.get(peers):
                    rule[peers] = [self._peer(peer, namespace) for peer in rule[peers]]
        return {"spec": spec}


def _has_namespace_selector(policy: dict) -> bool:
    spec = policy.get("spec") or {}
    return any(peer.get("namespaceSelector") is not None
               for direction, peers in (("ingress", "from"), ("egress", "to"))
               for rule in spec.get(direction) or [] for peer in rule.get(peers) or [])
