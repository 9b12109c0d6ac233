"""The DaemonSet controller against a real kubeconfig, with Node objects the tests create and pods
they bring to Running and Ready themselves (playing kubelet), driven by kubectl 1.27 and 1.33."""
from __future__ import annotations

import json
import uuid

import kubernetes
import pytest

from conformance.helpers import eventually
from conformance.workloads import all_running, live_pods, play_kubelet
from vapi.testing import run_kubectl

VERSIONS = ("1.27", "1.33")


@pytest.fixture
def pool(core):
    """A label only this test's nodes carry, so other nodes of the cluster stay out of it; the
    nodes go when the test ends."""
    name = f"p-{uuid.uuid4().hex[:8]}"
    yield name
    for node in core.list_node().items:
        if node.metadata.name.startswith(f"{name}-"):
            core.delete_node(node.metadata.name)


def add_node(core, pool, name, labels=None, taints=None):
    core.create_node({"metadata": {"name": f"{pool}-{name}", "labels": {"pool": pool, **(labels or {})}},
                      "spec": {"taints": taints or []}})


def kubectl(kubeconfig, namespace, *args, version=None, **kw):
    return run_kubectl(kubeconfig, *args, "-n", namespace, version=version, **kw).stdout


def daemonset(name, pool, image="nginx:1.25", **spec):
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"nodeSelector": {"pool": pool},
                                           "containers": [{"name": "agent", "image": image}]}},
                     **spec}}


def nodes_of(core, namespace):
    """The node each live daemon pod is for (its matchFields term), sorted."""
    result = []
    for pod in live_pods(core, namespace):
        term = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms[0]
        result.append(term.match_fields[0].values[0])
    return sorted(result)


def ds_status(kubeconfig, namespace, name):
    return json.loads(kubectl(kubeconfig, namespace, "get", "ds", name, "-o", "json"))["status"]


def test_one_pod_per_matching_node_following_nodes(kubeconfig, core, namespace, pool):
    add_node(core, pool, "a")
    add_node(core, pool, "b")
    kubectl(kubeconfig, namespace, "apply", "-f", "-", input=json.dumps(daemonset("agent", pool)))
    assert eventually(lambda: nodes_of(core, namespace) == [f"{pool}-a", f"{pool}-b"])
    pod = live_pods(core, namespace)[0]
    assert pod.metadata.generate_name == "agent-" and pod.metadata.owner_references[0].kind == "DaemonSet"
    assert pod.spec.node_name is None
    assert [(t.key, t.operator, t.effect) for t in pod.spec.tolerations] == [
        ("node.kubernetes.io/not-ready", "Exists", "NoExecute"),
        ("node.kubernetes.io/unreachable", "Exists", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "Exists", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "Exists", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "Exists", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "Exists", "NoSchedule")]
    assert pod.metadata.labels["controller-revision-hash"]
    assert eventually(lambda: all_running(core, namespace, 2))
    out = kubectl(kubeconfig, namespace, "rollout", "status", "ds/agent", "--timeout=20s")
    assert out.strip().endswith('daemon set "agent" successfully rolled out')
    status = ds_status(kubeconfig, namespace, "agent")
    assert {k: status[k] for k in ("desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                                   "numberAvailable", "updatedNumberScheduled", "numberMisscheduled",
                                   "observedGeneration")} == {
        "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 2, "numberAvailable": 2,
        "updatedNumberScheduled": 2, "numberMisscheduled": 0, "observedGeneration": 1}
    events = {(e.reason, e.message, e.source.component) for e in core.list_namespaced_event(namespace).items}
    assert ("SuccessfulCreate", f"Created pod: {pod.metadata.name}", "daemonset-controller") in events

    add_node(core, pool, "c")                      # a new node gets its pod
    assert eventually(lambda: nodes_of(core, namespace) == [f"{pool}-a", f"{pool}-b", f"{pool}-c"])
    core.patch_node(f"{pool}-b", {"spec": {"taints": [{"key": "maintenance", "effect": "NoSchedule"}]}})
    core.delete_node(f"{pool}-c")                  # a removed node's waiting pod goes
    assert eventually(lambda: nodes_of(core, namespace) == [f"{pool}-a", f"{pool}-b"])
    # NoSchedule keeps a running pod where it is; NoExecute evicts it
    core.patch_node(f"{pool}-b", {"spec": {"taints": [{"key": "maintenance", "effect": "NoExecute"}]}})
    assert eventually(lambda: nodes_of(core, namespace) == [f"{pool}-a"])
    assert eventually(lambda: ds_status(kubeconfig, namespace, "agent")["desiredNumberScheduled"] == 1)
    core.patch_node(f"{pool}-a", {"metadata": {"labels": {"pool": "elsewhere"}}})
    assert eventually(lambda: nodes_of(core, namespace) == [])


def test_failed_and_deleted_pods_are_replaced(kubeconfig, core, namespace, pool):
    add_node(core, pool, "a")
    kubectl(kubeconfig, namespace, "apply", "-f", "-", input=json.dumps(daemonset("agent", pool)))
    assert eventually(lambda: all_running(core, namespace, 1))
    first = live_pods(core, namespace)[0].metadata.name
    core.patch_namespaced_pod_status(first, namespace, {"status": {"phase": "Failed"}})
    assert eventually(lambda: [p.metadata.name for p in live_pods(core, namespace)] not in ([], [first]))
    events = {(e.reason, e.message) for e in core.list_namespaced_event(namespace).items}
    assert ("FailedDaemonPod", f"Found failed daemon pod {namespace}/{first} on node {pool}-a, will try to kill it") \
        in events


@pytest.mark.parametrize("version", VERSIONS)
def test_rolling_update_history_and_undo(kubeconfig, core, namespace, pool, version):
    for name in "abc":
        add_node(core, pool, name)
    kubectl(kubeconfig, namespace, "apply", "-f", "-", input=json.dumps(daemonset("agent", pool)), version=version)
    assert eventually(lambda: all_running(core, namespace, 3))
    kubectl(kubeconfig, namespace, "set", "image", "ds/agent", "agent=nginx:1.26", version=version)
    seen_unavailable = []

    def rolled(image):
        pods = live_pods(core, namespace)
        seen_unavailable.append(sum(p.status.phase != "Running" for p in pods) + max(3 - len(pods), 0))
        play_kubelet(core, namespace)
        return len(pods) == 3 and all(p.spec.containers[0].image == image and p.status.phase == "Running"
                                      for p in pods)
    assert eventually(lambda: rolled("nginx:1.26"))
    assert max(seen_unavailable) <= 1     # maxUnavailable 1 by default
    ds = json.loads(kubectl(kubeconfig, namespace, "get", "ds", "agent", "-o", "json"))
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    assert {p.metadata.labels["pod-template-generation"] for p in live_pods(core, namespace)} == {"2"}
    out = kubectl(kubeconfig, namespace, "rollout", "status", "ds/agent", "--timeout=20s", version=version)
    assert 'daemon set "agent" successfully rolled out' in out
    history = kubectl(kubeconfig, namespace, "rollout", "history", "ds/agent", version=version)
    assert history.split("\n")[1:4] == ["REVISION  CHANGE-CAUSE", "1         <none>", "2         <none>"]
    assert kubectl(kubeconfig, namespace, "rollout", "undo", "ds/agent", version=version).strip() == \
        "daemonset.apps/agent rolled back"
    assert eventually(lambda: rolled("nginx:1.25"))
    assert kubectl(kubeconfig, namespace, "rollout", "undo", "ds/agent", "--to-revision=3", version=version).strip() == \
        "daemonset.apps/agent skipped rollback (current template already matches revision 3)"
    revisions = kubernetes.client.AppsV1Api(core.api_client).list_namespaced_controller_revision(namespace).items
    assert sorted(r.revision for r in revisions) == [2, 3]
    assert all(r.metadata.labels["controller-revision-hash"] == r.metadata.name.rpartition("-")[2] for r in revisions)


def test_max_surge_makes_the_new_pod_before_deleting_the_old(kubeconfig, core, namespace, pool):
    add_node(core, pool, "a")
    manifest = daemonset("agent", pool, updateStrategy={"type": "RollingUpdate",
                                                        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    kubectl(kubeconfig, namespace, "apply", "-f", "-", input=json.dumps(manifest))
    assert eventually(lambda: all_running(core, namespace, 1))
    old = live_pods(core, namespace)[0].metadata.name
    kubectl(kubeconfig, namespace, "set", "image", "ds/agent", "agent=nginx:1.26")
    assert eventually(lambda: len(live_pods(core, namespace)) == 2)
    assert old in [p.metadata.name for p in live_pods(core, namespace)]   # the old one waits for the new
    assert eventually(lambda: all_running(core, namespace, 1) and live_pods(core, namespace)[0].metadata.name != old)


def test_on_delete_replaces_only_deleted_pods(kubeconfig, core, namespace, pool):
    add_node(core, pool, "a")
    add_node(core, pool, "b")
    manifest = daemonset("agent", pool, updateStrategy={"type": "OnDelete"})
    kubectl(kubeconfig, namespace, "apply", "-f", "-", input=json.dumps(manifest))
    assert eventually(lambda: all_running(core, namespace, 2))
    kubectl(kubeconfig, namespace, "set", "image", "ds/agent", "agent=nginx:1.26")
    assert eventually(lambda: ds_status(kubeconfig, namespace, "agent").get("observedGeneration") == 2)
    assert {p.spec.containers[0].image for p in live_pods(core, namespace)} == {"nginx:1.25"}
    assert ds_status(kubeconfig, namespace, "agent")["updatedNumberScheduled"] == 0
    victim = live_pods(core, namespace)[0]
    core.delete_namespaced_pod(victim.metadata.name, namespace)
    assert eventually(lambda: all_running(core, namespace, 2) and sorted(
        p.spec.containers[0].image for p in live_pods(core, namespace)) == ["nginx:1.25", "nginx:1.26"])
