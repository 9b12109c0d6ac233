"""Taint-based eviction (upstream NoExecuteTaintManager: "evicts pods with minTolerationSeconds",
"removing taint cancels eviction"): pods on a node tainted NoExecute leave after the shortest
tolerationSeconds of the tolerations they use, and stay when the taint goes first.

The test plays kubelet: it creates the Node, posts its Ready status and binds the pods."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from .helpers import eventually
from .kubelet import run_pod

TAINT = {"key": "example.com/evict", "value": "now", "effect": "NoExecute"}


# Pods here are bound to node-a and reported by the cases themselves.
pytestmark = pytest.mark.usefixtures("node_a")


def tolerating(seconds: int) -> list[dict]:
    return [{"key": TAINT["key"], "operator": "Equal", "value": TAINT["value"], "effect": "NoExecute",
             "tolerationSeconds": seconds}]


@pytest.fixture
def node(core, namespace):  # noqa: F811
    name = f"{namespace}-node"
    core.create_node({"metadata": {"name": name}})
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    core.patch_node_status(name, {"status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
         "lastHeartbeatTime": now, "lastTransitionTime": now}]}})
    yield name
    core.delete_node(name)


def set_taint(core, node, on: bool):  # noqa: F811
    spec = core.read_node(node).spec
    current = [t for t in (spec.taints if spec else None) or [] if t.key != TAINT["key"]]
    kept = [{"key": t.key, "value": t.value, "effect": t.effect} for t in current]
    core.patch_node(node, {"spec": {"taints": kept + ([TAINT] if on else [])}})


def names(core, namespace):  # noqa: F811
    return {p.metadata.name for p in core.list_namespaced_pod(namespace).items if not p.metadata.deletion_timestamp}


def test_pods_leave_after_their_own_toleration_seconds(core, namespace, node):  # noqa: F811
    run_pod(core, namespace, "quick", {"app": "t"}, "10.244.7.1", node=node, tolerations=tolerating(1))
    run_pod(core, namespace, "slow", {"app": "t"}, "10.244.7.2", node=node, tolerations=tolerating(6))
    run_pod(core, namespace, "never", {"app": "t"}, "10.244.7.3", node=node, tolerations=[
        {"key": TAINT["key"], "operator": "Exists", "effect": "NoExecute"}])
    set_taint(core, node, True)
    assert eventually(lambda: names(core, namespace) == {"slow", "never"}, timeout=5)
    assert eventually(lambda: names(core, namespace) == {"never"}, timeout=15)
    quick_events = {e.reason for e in core.list_namespaced_event(namespace).items
                    if e.involved_object.name in ("quick", "slow")}
    assert "TaintManagerEviction" in quick_events


def test_removing_the_taint_cancels_the_eviction(core, namespace, node):  # noqa: F811
    run_pod(core, namespace, "stays", {"app": "t"}, "10.244.7.4", node=node, tolerations=tolerating(3))
    set_taint(core, node, True)
    time.sleep(1)
    set_taint(core, node, False)
    time.sleep(4)
    assert names(core, namespace) == {"stays"}
