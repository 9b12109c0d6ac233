"""ClusterRole aggregation: a ClusterRole with an aggregationRule holds the union of the rules of
every ClusterRole its selectors match, kept current as those roles change (kube's
clusterrole-aggregation-controller).

Rules are gathered selector by selector, the matching roles in name order, each rule once; a role
never aggregates itself. Any ClusterRole change re-examines every aggregated role, so chains
(admin takes edit, edit takes view) settle as each write comes back through the informer.
"""
from __future__ import annotations

import logging

from .. import errors
from ..api import WriteOptions
from ..registry.selectors import label_selector_from_object

log = logging.getLogger("vapi.controllers")
RBAC = "rbac.authorization.k8s.io"
FIELD_MANAGER = "clusterrole-aggregation-controller"


def aggregated_rules(role: dict, roles: list[dict]) -> list[dict]:
    rules: list[dict] = []
    for selector in (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or ():
        try:
            matches = label_selector_from_object(selector).matches
        except Exception:  # noqa: BLE001 - an unparsable selector (validation refuses them) matches nothing
            continue
        for other in sorted(roles, key=lambda r: r["metadata"]["name"]):
            if other["metadata"]["name"] == role["metadata"]["name"]:
                continue
            if not matches(other["metadata"].get("labels") or {}):
                continue
            for rule in other.get("rules") or ():
                if rule not in rules:
                    rules.append(rule)
    return rules


class ClusterRoleAggregationController:
    def __init__(self, api, informers):
        self.api = api
        self.informers = informers
        self.info = api.registry.get(RBAC, "v1", "clusterroles")

    async def run(self) -> None:
        self.informers.get(self.info).add_handler(self.handle)

    async def handle(self, event_type: str, obj: dict, prev: dict | None) -> None:
        roles = self.informers.get(self.info).list()
        for role in roles:
            if role.get("aggregationRule") is not None:
                await self.sync(role, roles)

    async def sync(self, role: dict, roles: list[dict]) -> None:
        rules = aggregated_rules(role, roles)
        if rules == (role.get("rules") or []):
            return

        def mutate(current: dict) -> dict:
            current["rules"] = aggregated_rules(current, self.informers.get(self.info).list())
            return current
        try:
            await self.api.guaranteed_update(self.info, None, role["metadata"]["name"], mutate,
                                             opts=WriteOptions(field_manager=FIELD_MANAGER))
        except errors.StatusError as e:
            if e.code != 404:
                log.warning("aggregating clusterrole %s: %s", role["metadata"]["name"], e.message)
