"""The scheduler against a real server: placement by nodeSelector, affinity, anti-affinity, taints,
resources and topology spread over Node objects the tests create (as a kubelet would register
them), kube-scheduler's unschedulable message, pods/binding, priority and preemption."""
from __future__ import annotations

import json
import time
import uuid

import kubernetes
import pytest

from conformance.helpers import eventually as wait_for
from vapi.testing import ServerProcess, run_kubectl


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("sched"), extra_args=("--nodes", "0")) as s:
        yield s


@pytest.fixture(scope="module")
def core(server):
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(server.kubeconfig)))


@pytest.fixture
def ns(core):
    name = f"s-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture
def nodes(core):
    """make(count, **shape) -> node names; every node made is deleted after the test."""
    made = []

    def make(count=3, cpu="2", memory="4Gi", pods="110", labels=None, taints=None):
        names = []
        for i in range(count):
            name = f"node-{uuid.uuid4().hex[:6]}"
            zone = f"zone-{i % 2}"
            node_labels = {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone,
                           **((labels or {}).get(i) or {})}
            allocatable = {"cpu": cpu, "memory": memory, "pods": pods}
            core.create_node({"metadata": {"name": name, "labels": node_labels},
                              "spec": {"taints": (taints or {}).get(i) or []},
                              "status": {"capacity": allocatable, "allocatable": allocatable,
                                         "conditions": [{"type": "Ready", "status": "True"}]}})
            names.append(name)
        made.extend(names)
        return names
    yield make
    for name in made:
        core.delete_node(name)


def pod(name, requests=None, **spec):
    container = {"name": "c", "image": "nginx"}
    if requests:
        container["resources"] = {"requests": requests}
    labels = spec.pop("labels", {"app": name})
    return {"metadata": {"name": name, "labels": labels}, "spec": {"containers": [container], **spec}}


def placed(core, ns, name):
    return wait_for(lambda: core.read_namespaced_pod(name, ns).spec.node_name)


def unschedulable_message(core, ns, name):
    def check():
        for c in core.read_namespaced_pod(name, ns).status.conditions or []:
            if c.type == "PodScheduled" and c.status == "False":
                return c.message
        return None
    return wait_for(check)


def test_binding_assigns_a_pod_once(core, ns, nodes):
    (node,) = nodes(1)
    core.create_namespaced_pod(ns, pod("p", schedulerName="elsewhere"))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
    answer = core.create_namespaced_pod_binding("p", ns, binding, _preload_content=False)
    assert answer.status == 201
    assert json.loads(answer.data) == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                       "code": 201}
    got = core.read_namespaced_pod("p", ns)
    assert got.spec.node_name == node
    assert [(c.type, c.status) for c in got.status.conditions] == [("PodScheduled", "True")]
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.create_namespaced_binding(ns, binding, _preload_content=False)
    assert err.value.status == 409
    body = json.loads(err.value.body)
    assert body["reason"] == "Conflict"
    assert body["message"] == f'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "{node}"'
    assert body["details"] == {"name": "p", "kind": "pods/binding"}


def test_binding_validation_and_names(core, ns, nodes):
    core.create_namespaced_pod(ns, pod("q", schedulerName="elsewhere"))
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.create_namespaced_pod_binding("q", ns, {"metadata": {"name": "q"}, "target": {"kind": "Service"}},
                                           _preload_content=False)
    assert err.value.status == 500
    assert json.loads(err.value.body)["message"] == \
        '[target.kind: Unsupported value: "Service": supported values: "Node", "<empty>", target.name: Required value]'
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.create_namespaced_pod_binding("q", ns, {"metadata": {"name": "other"}, "target": {"name": "n"}},
                                           _preload_content=False)
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == "name in URL does not match name in Binding object"
    assert core.read_namespaced_pod("q", ns).spec.node_name is None


def test_node_selector_and_the_unschedulable_message(core, ns, nodes, server):
    names = nodes(3, labels={1: {"disk": "ssd"}})
    core.create_namespaced_pod(ns, pod("ssd", nodeSelector={"disk": "ssd"}))
    assert placed(core, ns, "ssd") == names[1]
    core.create_namespaced_pod(ns, pod("nowhere", nodeSelector={"disk": "tape"}))
    want = ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes "
            "are available: 3 Preemption is not helpful for scheduling.")
    assert unschedulable_message(core, ns, "nowhere") == want
    got = json.loads(run_kubectl(server.kubeconfig, "get", "pod", "nowhere", "-n", ns, "-o", "json").stdout)
    (condition,) = got["status"]["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == ("PodScheduled", "False", "Unschedulable")
    described = wait_for(lambda: (lambda out: "FailedScheduling" in out and out)(
        run_kubectl(server.kubeconfig, "describe", "pod", "nowhere", "-n", ns).stdout))
    assert "Warning  FailedScheduling" in described and "default-scheduler  " + want in described
    ssd = run_kubectl(server.kubeconfig, "get", "events", "-n", ns, "--field-selector",
                      "involvedObject.name=ssd", "-o", "json").stdout
    assert [(e["reason"], e["message"], e["reportingComponent"]) for e in json.loads(ssd)["items"]] == \
        [("Scheduled", f"Successfully assigned {ns}/ssd to {names[1]}", "default-scheduler")]
    # A node that matches arrives: the waiting pod is tried again and placed.
    core.patch_node(names[2], {"metadata": {"labels": {"disk": "tape"}}})
    assert placed(core, ns, "nowhere") == names[2]


def test_required_and_preferred_node_affinity(core, ns, nodes):
    names = nodes(3, labels={0: {"tier": "gold"}, 2: {"tier": "silver"}})
    affinity = {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold", "silver"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "preference": {"matchExpressions": [{"key": "tier", "operator": "In",
                                                                  "values": ["silver"]}]}}]}}
    core.create_namespaced_pod(ns, pod("aff", affinity=affinity))
    assert placed(core, ns, "aff") == names[2]


def test_anti_affinity_spreads_replicas_then_refuses_a_fourth(core, ns, nodes):
    names = nodes(3)
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    for i in range(4):
        core.create_namespaced_pod(ns, pod(f"web-{i}", labels={"app": "web"}, affinity=anti))
    spots = [placed(core, ns, f"web-{i}") for i in range(3)]
    assert sorted(spots) == sorted(names)
    assert unschedulable_message(core, ns, "web-3") == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are "
        "available: 3 No preemption victims found for incoming pod.")
    # Pod affinity: a pod that wants to be with web-0 lands on its node.
    near = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    core.create_namespaced_pod(ns, pod("buddy", labels={"app": "buddy"}, affinity=near))
    assert placed(core, ns, "buddy") in names


def test_taints_and_tolerations(core, ns, nodes):
    taint = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    names = nodes(2, taints={0: taint, 1: taint})
    core.create_namespaced_pod(ns, pod("plain"))
    assert unschedulable_message(core, ns, "plain") == (
        "0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes are "
        "available: 2 Preemption is not helpful for scheduling.")
    core.create_namespaced_pod(ns, pod("tolerant", tolerations=[
        {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]))
    assert placed(core, ns, "tolerant") in names


def test_resources_fill_nodes_then_insufficient_cpu(core, ns, nodes):
    names = nodes(2, cpu="1")
    for i in range(2):
        core.create_namespaced_pod(ns, pod(f"half-{i}", {"cpu": "600m"}))
    assert sorted(placed(core, ns, f"half-{i}") for i in range(2)) == sorted(names)
    core.create_namespaced_pod(ns, pod("more", {"cpu": "600m", "memory": "1Gi"}))
    assert unschedulable_message(core, ns, "more") == (
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption "
        "victims found for incoming pod.")
    # Room freed by a deletion lets it in.
    core.delete_namespaced_pod("half-0", ns, grace_period_seconds=0)
    assert placed(core, ns, "more") in names


def test_topology_spread_across_zones(core, ns, nodes):
    nodes(3)   # zone-0 has two nodes, zone-1 one
    spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "spread"}}}]
    zones = []
    for i in range(4):
        core.create_namespaced_pod(ns, pod(f"s-{i}", labels={"app": "spread"}, topologySpreadConstraints=spread))
        node = placed(core, ns, f"s-{i}")
        zones.append(core.read_node(node).metadata.labels["topology.kubernetes.io/zone"])
    assert sorted(zones) == ["zone-0", "zone-0", "zone-1", "zone-1"]


def test_priority_admission(core, ns, server):
    sched = kubernetes.client.SchedulingV1Api(kubernetes.config.new_client_from_config(str(server.kubeconfig)))
    sched.create_priority_class({"metadata": {"name": f"{ns}-high"}, "value": 1000})
    try:
        made = core.create_namespaced_pod(ns, pod("hi", schedulerName="x", priorityClassName=f"{ns}-high"))
        assert (made.spec.priority, made.spec.preemption_policy) == (1000, "PreemptLowerPriority")
        crit = core.create_namespaced_pod(ns, pod("crit", schedulerName="x", priorityClassName="system-node-critical"))
        assert crit.spec.priority == 2000001000
        with pytest.raises(kubernetes.client.ApiException) as err:
            core.create_namespaced_pod(ns, pod("bad", priorityClassName="missing"))
        assert (err.value.status, json.loads(err.value.body)["message"]) == (
            403, 'pods "bad" is forbidden: no PriorityClass with name missing was found')
        with pytest.raises(kubernetes.client.ApiException) as err:
            core.create_namespaced_pod(ns, pod("bad", priorityClassName=f"{ns}-high", priority=5))
        assert json.loads(err.value.body)["message"] == (
            'pods "bad" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority '
            "admission controller computed 1000 from the given PriorityClass name")
    finally:
        sched.delete_priority_class(f"{ns}-high")


def test_preemption_of_a_lower_priority_pod(core, ns, nodes, server):
    sched = kubernetes.client.SchedulingV1Api(kubernetes.config.new_client_from_config(str(server.kubeconfig)))
    sched.create_priority_class({"metadata": {"name": f"{ns}-low"}, "value": 10})
    sched.create_priority_class({"metadata": {"name": f"{ns}-high"}, "value": 100})
    sched.create_priority_class({"metadata": {"name": f"{ns}-polite"}, "value": 100, "preemptionPolicy": "Never"})
    try:
        (node,) = nodes(1, cpu="1")
        core.create_namespaced_pod(ns, pod("low", {"cpu": "800m"}, priorityClassName=f"{ns}-low"))
        assert placed(core, ns, "low") == node
        core.create_namespaced_pod(ns, pod("polite", {"cpu": "800m"}, priorityClassName=f"{ns}-polite"))
        assert unschedulable_message(core, ns, "polite") == (
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
        core.create_namespaced_pod(ns, pod("high", {"cpu": "800m"}, priorityClassName=f"{ns}-high"))
        assert wait_for(lambda: core.read_namespaced_pod("high", ns).status.nominated_node_name) == node
        # The victim is told why and deleted gracefully; playing its kubelet, the test finishes it.
        victim = wait_for(lambda: (lambda p: p.metadata.deletion_timestamp and p)(core.read_namespaced_pod("low", ns)))
        assert [(c.type, c.reason, c.message) for c in victim.status.conditions if c.type == "DisruptionTarget"] == [
            ("DisruptionTarget", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher "
             "priority pod")]
        core.delete_namespaced_pod("low", ns, grace_period_seconds=0)
        assert placed(core, ns, "high") == node
        assert core.read_namespaced_pod("polite", ns).spec.node_name is None
        events = json.loads(run_kubectl(server.kubeconfig, "get", "events", "-n", ns, "-o", "json").stdout)["items"]
        assert any(e["reason"] == "Preempted" and e["involvedObject"]["name"] == "low" for e in events)
    finally:
        for name in ("low", "high", "polite"):
            sched.delete_priority_class(f"{ns}-{name}")


def test_scheduling_gates_hold_a_pod_until_removed(core, ns, nodes):
    (node,) = nodes(1)
    core.create_namespaced_pod(ns, pod("gated", schedulingGates=[{"name": "example.com/wait"}]))
    (condition,) = core.read_namespaced_pod("gated", ns).status.conditions
    assert (condition.type, condition.status, condition.reason, condition.message) == (
        "PodScheduled", "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates")
    time.sleep(1)
    assert core.read_namespaced_pod("gated", ns).spec.node_name is None
    core.patch_namespaced_pod("gated", ns, [{"op": "remove", "path": "/spec/schedulingGates"}])
    assert placed(core, ns, "gated") == node
    conditions = core.read_namespaced_pod("gated", ns).status.conditions
    assert [(c.type, c.status) for c in conditions] == [("PodScheduled", "True")]


def test_soft_preferences_prefer_untainted_nodes_and_company(core, ns, nodes):
    names = nodes(2, taints={0: [{"key": "spot", "value": "yes", "effect": "PreferNoSchedule"}]})
    core.create_namespaced_pod(ns, pod("soft"))
    assert placed(core, ns, "soft") == names[1]
    # Preferred pod affinity outweighs the little the first pod took of its node.
    core.create_namespaced_pod(ns, pod("anchor", labels={"app": "anchor"}, nodeName=names[0],
                                       tolerations=[{"key": "spot", "operator": "Exists"}]))
    near = {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {
        "labelSelector": {"matchLabels": {"app": "anchor"}}, "topologyKey": "kubernetes.io/hostname"}}]}}
    core.create_namespaced_pod(ns, pod("follower", affinity=near, tolerations=[{"key": "spot", "operator": "Exists"}]))
    assert placed(core, ns, "follower") == names[0]


def test_min_domains_counts_missing_zones_as_empty(core, ns, nodes):
    nodes(3)   # two zones, asked for three
    spread = [{"maxSkew": 1, "minDomains": 3, "topologyKey": "topology.kubernetes.io/zone",
               "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "md"}}}]
    for i in range(3):
        core.create_namespaced_pod(ns, pod(f"md-{i}", labels={"app": "md"}, topologySpreadConstraints=spread))
    placed_ones = [placed(core, ns, f"md-{i}", ) for i in range(2)]
    assert all(placed_ones)
    assert unschedulable_message(core, ns, "md-2") == (
        "0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints. preemption: 0/3 nodes are "
        "available: 3 No preemption victims found for incoming pod.")


def test_preemption_spares_pods_a_disruption_budget_protects(core, ns, nodes, server):
    client = kubernetes.config.new_client_from_config(str(server.kubeconfig))
    sched, policy = kubernetes.client.SchedulingV1Api(client), kubernetes.client.PolicyV1Api(client)
    sched.create_priority_class({"metadata": {"name": f"{ns}-low"}, "value": 10})
    sched.create_priority_class({"metadata": {"name": f"{ns}-high"}, "value": 100})
    try:
        first, second = nodes(2, cpu="1")
        core.create_namespaced_pod(ns, pod("guarded", {"cpu": "800m"}, labels={"app": "guarded"}, nodeName=first,
                                           priorityClassName=f"{ns}-low"))
        core.create_namespaced_pod(ns, pod("free", {"cpu": "800m"}, labels={"app": "free"}, nodeName=second,
                                           priorityClassName=f"{ns}-low"))
        policy.create_namespaced_pod_disruption_budget(ns, {"metadata": {"name": "keep"}, "spec": {
            "minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}})
        # What the disruption controller would report: no disruption allowed.
        policy.patch_namespaced_pod_disruption_budget_status("keep", ns, {"status": {
            "disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1}})
        core.create_namespaced_pod(ns, pod("high", {"cpu": "800m"}, priorityClassName=f"{ns}-high"))
        assert wait_for(lambda: core.read_namespaced_pod("high", ns).status.nominated_node_name) == second
        assert core.read_namespaced_pod("guarded", ns).metadata.deletion_timestamp is None
    finally:
        for name in ("low", "high"):
            sched.delete_priority_class(f"{ns}-{name}")
