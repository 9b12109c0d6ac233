"""What a new cluster starts with: the system namespaces, kube's bootstrap RBAC policy
(vapi/data/rbac-bootstrap-policy.json) and the APIService of the metrics API this server answers
itself. The `kubernetes` Service, which depends on the port the server binds, is
`apiserver_endpoints.py`'s.

kube-apiserver's bootstrap controllers create these at start-up; they are written through the
pipeline like any client's objects, and left alone when they exist already, except that policy
objects still marked `autoupdate: "true"` get back what the policy gives them and they lack
(rules, subjects, labels, annotations), as kube's RBAC reconciliation does.
"""
from __future__ import annotations

import asyncio

import json
from pathlib import Path

from .. import errors
from ..auth.escalation import uncovered
from ..registry.strategies import now_rfc3339

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
POLICY_FILE = Path(__file__).resolve().parent.parent / "data" / "rbac-bootstrap-policy.json"
RBAC = "rbac.authorization.k8s.io"

# The classes kube-apiserver creates at start for critical system pods.
SYSTEM_PRIORITY_CLASSES = [
    ("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node."),
    ("system-cluster-critical", 2000000000,
     "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
]


def _policy_meta(name: str, labels: dict | None = None) -> dict:
    return {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}


def bootstrap_policy() -> list[tuple[str, dict]]:
    """(plural, object) for each ClusterRole and ClusterRoleBinding of the bootstrap policy."""
    policy = json.loads(POLICY_FILE.read_text())
    objects = []
    for role in policy["clusterRoles"]:
        obj = {"metadata": _policy_meta(role["name"], role.get("labels"))}
        if "aggregationRule" in role:
            obj["aggregationRule"] = role["aggregationRule"]
        obj["rules"] = role["rules"]
        objects.append(("clusterroles", obj))
    for binding in policy["clusterRoleBindings"]:
        objects.append(("clusterrolebindings", {
            "metadata": _policy_meta(binding["name"]),
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": binding["role"]},
            "subjects": [s if s["kind"] == "ServiceAccount" else {"apiGroup": RBAC, **s}
                         for s in binding["subjects"]]}))
    return objects


AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"


def reconciled(existing: dict, expected: dict) -> dict:
    """`existing` with what the policy's `expected` object adds; the same object when nothing is
    missing or the object was marked `autoupdate: "false"`."""
    meta = existing.get("metadata") or {}
    if (meta.get("annotations") or {}).get(AUTOUPDATE) == "false":
        return existing
    out = {**existing, "metadata": {**meta}}
    for key in ("labels", "annotations"):
        out["metadata"][key] = {**expected["metadata"][key], **(meta.get(key) or {})}
    if "rules" in expected:
        out["rules"] = list(existing.get("rules") or []) + uncovered(existing.get("rules") or [], expected["rules"])
        if expected.get("aggregationRule") and not existing.get("aggregationRule"):
            out["aggregationRule"] = expected["aggregationRule"]
    if "subjects" in expected:
        subjects = list(existing.get("subjects") or [])
        out["subjects"] = subjects + [s for s in expected["subjects"] if s not in subjects]
    return out


async def _ensure(api, info, namespace: str | None, obj: dict, opts=None) -> None:
    try:
        current = api.get(info, namespace, obj["metadata"]["name"])
    except errors.StatusError as e:
        if e.code != 404:
            raise
        await api.create(info, namespace, obj, opts)
        return
    if info.group == RBAC:
        wanted = reconciled(current, obj)
        if wanted != current:
            await api.update(info, namespace, obj["metadata"]["name"], wanted, opts=opts)


async def ensure_system_objects(api, opts=None) -> None:
    """Create what is missing, as `opts.user` (the server's own privileged identity)."""
    namespaces = api.registry.get("", "v1", "namespaces")
    # All at once within each step: the store commits writes that wait together in one transaction,
    # so a first start costs a few fsyncs rather than one per object.
    await asyncio.gather(*(_ensure(api, namespaces, None, {"metadata": {"name": name}}, opts)
                           for name in SYSTEM_NAMESPACES))
    priority_classes = api.registry.get("scheduling.k8s.io", "v1", "priorityclasses")
    await asyncio.gather(
        *(_ensure(api, priority_classes, None, {"metadata": {"name": name}, "value": value,
                                                "description": description}, opts)
          for name, value, description in SYSTEM_PRIORITY_CLASSES),
        *(_ensure(api, api.registry.get(RBAC, "v1", plural), None, obj, opts) for plural, obj in bootstrap_policy()),
        _ensure_local_apiservice(api, "metrics.k8s.io", "v1beta1", opts))


async def _ensure_local_apiservice(api, group: str, version: str, opts) -> None:
    """An APIService served by this server itself (no service behind it), Available as kube's
    aggregator reports local ones, so tools that check `v1beta1.metrics.k8s.io` find it."""
    info = api.registry.get("apiregistration.k8s.io", "v1", "apiservices")
    name = f"{version}.{group}"
    await _ensure(api, info, None, {
        "metadata": {"name": name, "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": 100, "versionPriority": 100}}, opts)
    current = api.get(info, None, name)
    conditions = (current.get("status") or {}).get("conditions") or []
    if not any(c.get("type") == "Available" and c.get("status") == "True" for c in conditions):
        current["status"] = {"conditions": [{"type": "Available", "status": "True",
                                             "lastTransitionTime": now_rfc3339(), "reason": "Local",
                                             "message": "Local APIServices are always available"}]}
        await api.update(info, None, name, current, subresource="status", opts=opts)
