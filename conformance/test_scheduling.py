"""Scheduling, as the upstream SchedulerPredicates and SchedulerPreemption conformance cases check
it: nodeSelector, resource limits, host ports, priority classes and preemption. Cases use the
cluster's Ready, untainted nodes; a cluster without any (vapi with no simulated nodes) gets one
Node object for the case, and the case plays its kubelet where a pod must finish terminating.
Capacity is a fake extended resource added to a node's status, as the upstream cases do."""
from __future__ import annotations

import json
import uuid

import kubernetes
import pytest

from .helpers import eventually

FAKE = "example.com/fake-slots"


def _ready(node) -> bool:
    conditions = {c.type: c.status for c in node.status.conditions or []}
    return conditions.get("Ready") == "True" and not node.spec.taints and not node.spec.unschedulable


@pytest.fixture
def node(core):
    """A schedulable node's name, with FAKE slots in its status (removed afterwards)."""
    existing = [n for n in core.list_node().items if _ready(n)]
    made = None
    if existing:
        name = existing[0].metadata.name
    else:
        made = name = f"conf-node-{uuid.uuid4().hex[:6]}"
        allocatable = {"cpu": "4", "memory": "8Gi", "pods": "110"}
        core.create_node({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                          "status": {"capacity": allocatable, "allocatable": allocatable,
                                     "conditions": [{"type": "Ready", "status": "True"}]}})
    core.patch_node_status(name, {"status": {"capacity": {FAKE: "2"}, "allocatable": {FAKE: "2"}}})
    yield name
    if made:
        core.delete_node(made)
    else:
        core.patch_node_status(name, [{"op": "remove", "path": f"/status/capacity/{FAKE.replace('/', '~1')}"},
                                      {"op": "remove", "path": f"/status/allocatable/{FAKE.replace('/', '~1')}"}])


def _pod(name, slots=0, **spec):
    container = {"name": "c", "image": "registry.k8s.io/pause:3.9"}
    if slots:
        container["resources"] = {"requests": {FAKE: str(slots)}, "limits": {FAKE: str(slots)}}
    return {"metadata": {"name": name, "labels": {"case": name}}, "spec": {"containers": [container], **spec}}


def _node_of(core, namespace, name, seconds=20.0):
    return eventually(lambda: core.read_namespaced_pod(name, namespace).spec.node_name, seconds)


def _failed_scheduling(core, namespace, name):
    return eventually(lambda: [e for e in core.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={name}").items if e.reason == "FailedScheduling"])


def _finish(core, namespace, name):
    """What the kubelet does once a pod is being deleted: remove it. Harmless where one did."""
    try:
        eventually(lambda: core.read_namespaced_pod(name, namespace).metadata.deletion_timestamp)
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    except kubernetes.client.ApiException as e:
        assert e.status == 404


def test_node_selector_respected_if_matching(core, namespace, node):
    label = f"conf-{uuid.uuid4().hex[:6]}"
    core.patch_node(node, {"metadata": {"labels": {label: "42"}}})
    try:
        core.create_namespaced_pod(namespace, _pod("with-labels", nodeSelector={label: "42"}))
        assert _node_of(core, namespace, "with-labels") == node
    finally:
        core.patch_node(node, {"metadata": {"labels": {label: None}}})


def test_node_selector_respected_if_not_matching(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("restricted", nodeSelector={"label": "nonempty"}))
    events = _failed_scheduling(core, namespace, "restricted")
    assert events and "didn't match Pod's node affinity/selector" in events[0].message
    assert core.read_namespaced_pod("restricted", namespace).spec.node_name is None


def test_resource_limits_of_pods_that_are_allowed_to_run(core, namespace, node):
    for i in range(2):
        core.create_namespaced_pod(namespace, _pod(f"filler-{i}", 1, nodeSelector={"kubernetes.io/hostname": node}))
    assert all(_node_of(core, namespace, f"filler-{i}") == node for i in range(2))
    core.create_namespaced_pod(namespace, _pod("additional", 1, nodeSelector={"kubernetes.io/hostname": node}))
    events = _failed_scheduling(core, namespace, "additional")
    assert events and f"Insufficient {FAKE}" in events[0].message
    condition = next(c for c in core.read_namespaced_pod("additional", namespace).status.conditions
                     if c.type == "PodScheduled")
    assert (condition.status, condition.reason) == ("False", "Unschedulable")


def test_host_port_on_any_address_conflicts_with_a_specific_address(core, namespace, node):
    port = 54321
    pinned = {"nodeSelector": {"kubernetes.io/hostname": node}}
    first = _pod("pod1", **pinned)
    first["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": port, "protocol": "TCP"}]
    core.create_namespaced_pod(namespace, first)
    assert _node_of(core, namespace, "pod1") == node
    second = _pod("pod2", **pinned)
    second["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": port, "protocol": "TCP",
                                                 "hostIP": "127.0.0.1"}]
    core.create_namespaced_pod(namespace, second)
    events = _failed_scheduling(core, namespace, "pod2")
    assert events and "node(s) didn't have free ports for the requested pod ports" in events[0].message


@pytest.fixture
def classes(api_client):
    scheduling = kubernetes.client.SchedulingV1Api(api_client)
    made = []

    def make(value, **extra):
        name = f"conf-pc-{uuid.uuid4().hex[:6]}"
        scheduling.create_priority_class({"metadata": {"name": name}, "value": value, **extra})
        made.append(name)
        return name
    yield make
    for name in made:
        scheduling.delete_priority_class(name)


@pytest.mark.parametrize("critical", [False, True], ids=["basic", "critical"])
def test_basic_preemption_works(core, namespace, node, classes, critical):
    low = classes(1)
    high = "system-cluster-critical" if critical else classes(1000)
    pinned = {"nodeSelector": {"kubernetes.io/hostname": node}}
    core.create_namespaced_pod(namespace, _pod("victim", 2, priorityClassName=low, **pinned))
    assert _node_of(core, namespace, "victim") == node
    core.create_namespaced_pod(namespace, _pod("preemptor", 2, priorityClassName=high, **pinned))
    _finish(core, namespace, "victim")
    assert _node_of(core, namespace, "preemptor", 30) == node


def test_pod_disruption_condition_is_added_to_the_preempted_pod(core, namespace, node, classes):
    pinned = {"nodeSelector": {"kubernetes.io/hostname": node}}
    victim = _pod("victim", 2, priorityClassName=classes(1), **pinned)
    victim["metadata"]["finalizers"] = ["example.com/test-finalizer"]
    core.create_namespaced_pod(namespace, victim)
    assert _node_of(core, namespace, "victim") == node
    core.create_namespaced_pod(namespace, _pod("preemptor", 2, priorityClassName=classes(1000), **pinned))
    try:
        def disrupted():
            pod = core.read_namespaced_pod("victim", namespace)
            return next((c for c in pod.status.conditions or [] if c.type == "DisruptionTarget"), None)
        condition = eventually(disrupted)
        assert condition is not None and (condition.status, condition.reason) == ("True", "PreemptionByScheduler")
    finally:
        core.patch_namespaced_pod("victim", namespace, {"metadata": {"finalizers": None}})
        _finish(core, namespace, "victim")


def test_priority_class_endpoints(api_client, classes):
    scheduling = kubernetes.client.SchedulingV1Api(api_client)
    name = classes(100)
    assert name in {pc.metadata.name for pc in scheduling.list_priority_class().items}
    patched = scheduling.patch_priority_class(name, {"description": "patched", "metadata": {"labels": {"a": "b"}}})
    assert (patched.description, patched.metadata.labels) == ("patched", {"a": "b"})
    with pytest.raises(kubernetes.client.ApiException) as err:
        scheduling.patch_priority_class(name, {"value": 101})
    assert err.value.status == 422
    assert json.loads(err.value.body)["message"] == \
        f'PriorityClass.scheduling.k8s.io "{name}" is invalid: value: Forbidden: may not be changed in an update.'
    with pytest.raises(kubernetes.client.ApiException) as err:
        scheduling.create_priority_class({"metadata": {"name": "system-made-up"}, "value": 1})
    assert err.value.status == 422


def test_pods_take_their_priority_from_the_class(core, namespace, classes):
    name = classes(321)
    made = core.create_namespaced_pod(namespace, _pod("prio", priorityClassName=name, schedulerName="none"))
    assert (made.spec.priority, made.spec.preemption_policy) == (321, "PreemptLowerPriority")
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.create_namespaced_pod(namespace, _pod("missing", priorityClassName="conf-no-such-class"))
    assert err.value.status == 403
    assert "no PriorityClass with name conf-no-such-class was found" in err.value.body
