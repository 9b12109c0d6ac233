"""Node lifecycle against a real server with a short node-monitor grace period: a node whose
lease goes stale turns Unknown and is tainted unreachable, its pods leave after their
tolerations, recovery lifts the taints, NotReady and cordoning taint as kube does, an untolerated
NoExecute taint evicts at once, and a deleted node's pods are collected. The test plays the
kubelet: it creates the Node, renews its Lease and posts its status."""
from __future__ import annotations

import datetime as dt
import json
import threading

import kubernetes
import pytest

from conformance.helpers import eventually
from conformance.kubelet import run_pod
from vapi.testing import ServerProcess, run_kubectl

GRACE = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("nodes"), extra_args=(f"--node-monitor-grace-period={GRACE}s",))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def core(server):
    client = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    yield kubernetes.client.CoreV1Api(client)
    client.close()


@pytest.fixture(scope="module")
def leases(core):
    return kubernetes.client.CoordinationV1Api(core.api_client)


def micro_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def post_ready(core, node: str, status: str) -> None:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    reason = {"True": "KubeletReady", "False": "KubeletNotReady"}[status]
    core.patch_node_status(node, {"status": {"conditions": [
        {"type": "Ready", "status": status, "reason": reason, "message": "posted by the test",
         "lastHeartbeatTime": now, "lastTransitionTime": now}]}})


class Kubelet:
    """Renews a node's lease every half second until stopped, as a kubelet heartbeats."""

    def __init__(self, core, leases, node: str):
        self.leases, self.node = leases, node
        self.stop_event = threading.Event()
        core.create_node({"metadata": {"name": node, "labels": {"topology.kubernetes.io/zone": "z1"}}})
        post_ready(core, node, "True")
        self.renew()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def renew(self) -> None:
        try:
            self.leases.patch_namespaced_lease(self.node, "kube-node-lease", {"spec": {"renewTime": micro_now()}})
        except kubernetes.client.ApiException as e:
            assert e.status == 404
            self.leases.create_namespaced_lease("kube-node-lease", {
                "metadata": {"name": self.node},
                "spec": {"holderIdentity": self.node, "leaseDurationSeconds": 40, "renewTime": micro_now()}})

    def run(self) -> None:
        while not self.stop_event.wait(0.5):
            self.renew()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join()


def taints(core, node):
    spec = core.read_node(node).spec
    return sorted((t.key, t.effect) for t in (spec.taints if spec else None) or [])


def ready(core, node):
    return next(c for c in core.read_node(node).status.conditions if c.type == "Ready")


def pod_names(core, namespace):
    return {p.metadata.name for p in core.list_namespaced_pod(namespace).items}


@pytest.fixture
def namespace(core):
    name = "nodes-test"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)
    eventually(lambda: name not in {n.metadata.name for n in core.list_namespace().items})


def test_a_silent_node_is_tainted_unreachable_and_its_pods_leave_after_their_toleration(core, leases, namespace,
                                                                                         server):
    kubelet = Kubelet(core, leases, "n1")
    try:
        silent_node_story(core, namespace, server, kubelet)
    finally:
        kubelet.stop()


def silent_node_story(core, namespace, server, kubelet):
    short = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
              "tolerationSeconds": 2}]
    run_pod(core, namespace, "brief", {"app": "a"}, "10.244.9.1", node="n1", tolerations=short)
    run_pod(core, namespace, "patient", {"app": "a"}, "10.244.9.2", node="n1")
    patient = core.read_namespaced_pod("patient", namespace)
    assert {(t.key, t.toleration_seconds) for t in patient.spec.tolerations} == {
        ("node.kubernetes.io/not-ready", 300), ("node.kubernetes.io/unreachable", 300)}
    # Heartbeating for longer than the grace period keeps the node Ready and untainted.
    assert not eventually(lambda: taints(core, "n1"), timeout=GRACE * 2)
    assert ready(core, "n1").status == "True"

    kubelet.stop()
    assert eventually(lambda: ready(core, "n1").status == "Unknown", timeout=GRACE * 5)
    condition = ready(core, "n1")
    assert (condition.reason, condition.message) == ("NodeStatusUnknown", "Kubelet stopped posting node status.")
    assert eventually(lambda: taints(core, "n1") == [("node.kubernetes.io/unreachable", "NoExecute"),
                                                     ("node.kubernetes.io/unreachable", "NoSchedule")])
    no_execute = next(t for t in core.read_node("n1").spec.taints if t.effect == "NoExecute")
    assert no_execute.time_added is not None
    # Its pods are no longer Ready; the one tolerating two seconds goes, the other stays.
    assert eventually(lambda: all(c.status == "False" for p in core.list_namespaced_pod(namespace).items
                                  for c in p.status.conditions if c.type == "Ready"))
    assert eventually(lambda: pod_names(core, namespace) == {"patient"}, timeout=10)
    events = core.list_namespaced_event(namespace, field_selector="involvedObject.name=brief").items
    assert "TaintManagerEviction" in {e.reason for e in events}
    assert "patient" in pod_names(core, namespace)

    # The kubelet comes back: Ready again, the taints are lifted.
    post_ready(core, "n1", "True")
    assert eventually(lambda: taints(core, "n1") == [])

    # A kubelet reporting NotReady: the not-ready taints.
    post_ready(core, "n1", "False")
    assert eventually(lambda: taints(core, "n1") == [("node.kubernetes.io/not-ready", "NoExecute"),
                                                     ("node.kubernetes.io/not-ready", "NoSchedule")])
    post_ready(core, "n1", "True")
    assert eventually(lambda: taints(core, "n1") == [])

    # Deleting the node takes its remaining pods with it (after the quarantine).
    run_kubectl(server.kubeconfig, "delete", "node", "n1")
    assert eventually(lambda: not pod_names(core, namespace), timeout=GRACE * 5)


def test_cordon_and_an_untolerated_no_execute_taint(core, leases, namespace, server):
    kubelet = Kubelet(core, leases, "n2")
    try:
        run_pod(core, namespace, "plain", {"app": "b"}, "10.244.9.3", node="n2")
        run_pod(core, namespace, "tolerant", {"app": "b"}, "10.244.9.4", node="n2", tolerations=[
            {"key": "dedicated", "operator": "Equal", "value": "x", "effect": "NoExecute"}])
        run_kubectl(server.kubeconfig, "cordon", "n2")
        assert eventually(lambda: taints(core, "n2") == [("node.kubernetes.io/unschedulable", "NoSchedule")])
        run_kubectl(server.kubeconfig, "uncordon", "n2")
        assert eventually(lambda: taints(core, "n2") == [])

        run_kubectl(server.kubeconfig, "taint", "nodes", "n2", "dedicated=x:NoExecute")
        assert eventually(lambda: pod_names(core, namespace) == {"tolerant"})
        out = run_kubectl(server.kubeconfig, "get", "pods", "-n", namespace, "-o", "json")
        assert [p["metadata"]["name"] for p in json.loads(out.stdout)["items"]] == ["tolerant"]
    finally:
        kubelet.stop()
        core.delete_node("n2")
