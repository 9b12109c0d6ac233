"""Nodes and their kubelets: Ready nodes heartbeat through Leases, and a pod bound to a node runs,
exits as its restartPolicy says, and goes when deleted.

Pods carry both a real command and vapi's annotations saying what that command does, so the same
case runs against a cluster with real kubelets and against vapi's simulated ones.
"""
from __future__ import annotations

import datetime
import ipaddress

import pytest

from .helpers import eventually


def _until(what, check, timeout=60.0):
    found = eventually(check, timeout)
    assert found, f"timed out waiting for {what}"
    return found


def _ready(node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])


@pytest.fixture
def node(core):
    ready = [n for n in _until("a Ready node", lambda: [n for n in core.list_node().items if _ready(n)], 30)
             if not any(t.effect in ("NoSchedule", "NoExecute") for t in n.spec.taints or [])]
    if not ready:
        pytest.skip("no Ready node without NoSchedule taints")
    return ready[0]


def _pod(name, node, command, annotations=None, restart="Always"):
    return {"metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"nodeName": node.metadata.name, "restartPolicy": restart, "terminationGracePeriodSeconds": 5,
                     "containers": [{"name": "main", "image": "busybox:1.36", "command": command}]}}


def _condition(pod, kind):
    return next((c for c in pod.status.conditions or [] if c.type == kind), None)


def test_ready_nodes_renew_their_leases(core, api_client, node):
    import kubernetes
    lease = kubernetes.client.CoordinationV1Api(api_client).read_namespaced_lease(node.metadata.name,
                                                                                 "kube-node-lease")
    assert lease.spec.holder_identity == node.metadata.name
    age = datetime.datetime.now(datetime.timezone.utc) - lease.spec.renew_time
    assert age.total_seconds() < lease.spec.lease_duration_seconds
    assert node.status.node_info.kubelet_version and node.status.allocatable["pods"]
    assert {a.type for a in node.status.addresses} >= {"InternalIP", "Hostname"}


def test_bound_pod_runs_and_turns_ready(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("runs", node, ["sleep", "3600"]))
    pod = _until("Ready", lambda: (lambda p: p if (_condition(p, "Ready") or {}) and
                                   _condition(p, "Ready").status == "True" else None)(
        core.read_namespaced_pod("runs", namespace)))
    assert pod.status.phase == "Running"
    assert pod.status.host_ip == next(a.address for a in node.status.addresses if a.type == "InternalIP")
    if node.spec.pod_cidr:
        assert ipaddress.ip_address(pod.status.pod_ip) in ipaddress.ip_network(node.spec.pod_cidr)
    assert _condition(pod, "PodScheduled").status == "True"
    assert _condition(pod, "ContainersReady").status == "True"
    assert _condition(pod, "Initialized").status == "True"
    container = pod.status.container_statuses[0]
    assert container.ready and container.started and container.restart_count == 0
    assert container.state.running.started_at and container.container_id


def test_failing_container_with_restart_never_fails_the_pod(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("fails", node, ["sh", "-c", "exit 3"],
                                               {"vapi.dev/exit-code": "3"}, restart="Never"))
    pod = _until("Failed", lambda: (lambda p: p if p.status.phase == "Failed" else None)(
        core.read_namespaced_pod("fails", namespace)))
    terminated = pod.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (3, "Error")
    assert _condition(pod, "Ready").status == "False" and _condition(pod, "Ready").reason == "PodCompleted"


def test_container_exiting_zero_with_on_failure_succeeds(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("done", node, ["true"], {"vapi.dev/exit-code": "0"},
                                               restart="OnFailure"))
    pod = _until("Succeeded", lambda: (lambda p: p if p.status.phase == "Succeeded" else None)(
        core.read_namespaced_pod("done", namespace)))
    assert pod.status.container_statuses[0].state.terminated.reason == "Completed"


def test_crashing_container_backs_off(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("crash", node, ["false"], {"vapi.dev/crash-loop": "true",
                                                                          "vapi.dev/run-seconds": "0"}))
    pod = _until("CrashLoopBackOff", lambda: (lambda p: p if p.status.container_statuses and (
        p.status.container_statuses[0].state.waiting or None) and p.status.container_statuses[0].state.waiting
        .reason == "CrashLoopBackOff" else None)(core.read_namespaced_pod("crash", namespace)), 90)
    container = pod.status.container_statuses[0]
    assert container.restart_count >= 1
    assert container.last_state.terminated.exit_code == 1
    assert pod.status.phase == "Running"


def test_deleted_pod_is_removed_by_its_kubelet(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("goes", node, ["sleep", "3600"]))
    _until("Running", lambda: core.read_namespaced_pod("goes", namespace).status.phase == "Running")
    core.delete_namespaced_pod("goes", namespace)

    def gone():
        try:
            core.read_namespaced_pod("goes", namespace)
        except Exception as e:  # noqa: BLE001 - the 404 is what is waited for
            return getattr(e, "status", None) == 404
        return False
    _until("the pod gone", gone, 60)
