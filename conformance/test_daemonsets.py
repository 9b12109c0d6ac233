"""DaemonSet and ControllerRevision cases after the upstream conformance tests ([sig-apps]
Daemon set, ControllerRevision): a pod on every schedulable node, replaced when deleted or
failed, rolled to a new template, following node labels; revisions made by the controller and
managed through the API. A cluster with no schedulable node gets one registered for the case."""
from __future__ import annotations

import uuid

import kubernetes
import pytest

from .helpers import eventually
from .workloads import all_running, live_pods, play_kubelet, ready_node, retrying_conflicts, schedulable_nodes


@pytest.fixture
def nodes(core):
    """The schedulable nodes, one registered (and removed afterwards) when there are none."""
    names = schedulable_nodes(core)
    added = None
    if not names:
        added = f"conformance-{uuid.uuid4().hex[:8]}"
        ready_node(core, added)
        names = [added]
    yield names
    if added:
        core.delete_node(added)


def _ds(name, image="nginx:1.25", node_selector=None):
    spec = {"containers": [{"name": "app", "image": image}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {"metadata": {"name": name, "labels": {"suite": "ds"}},
            "spec": {"selector": {"matchLabels": {"daemonset-name": name}},
                     "template": {"metadata": {"labels": {"daemonset-name": name}}, "spec": spec}}}


def _targets(core, namespace, selector):
    """The node each live pod is on or meant for."""
    result = []
    for pod in live_pods(core, namespace, selector):
        if pod.spec.node_name:
            result.append(pod.spec.node_name)
            continue
        terms = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
        result.append(terms[0].match_fields[0].values[0])
    return sorted(result)


def test_run_and_stop_simple_daemon(core, apps, namespace, nodes):
    apps.create_namespaced_daemon_set(namespace, _ds("daemon-set"))
    assert eventually(lambda: _targets(core, namespace, "daemonset-name=daemon-set") == nodes)
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set"))
    victim = live_pods(core, namespace, "daemonset-name=daemon-set")[0].metadata.name
    core.delete_namespaced_pod(victim, namespace)
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set")
                      and victim not in [p.metadata.name for p in live_pods(core, namespace, "daemonset-name=daemon-set")])
    status = eventually(lambda: (s := apps.read_namespaced_daemon_set("daemon-set", namespace).status)
                        .number_available == len(nodes) and s)
    assert status.desired_number_scheduled == status.current_number_scheduled == status.number_ready == len(nodes)


def test_retry_creating_failed_daemon_pods(core, apps, namespace, nodes):
    apps.create_namespaced_daemon_set(namespace, _ds("daemon-set"))
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set"))
    victim = live_pods(core, namespace, "daemonset-name=daemon-set")[0].metadata.name
    core.patch_namespaced_pod_status(victim, namespace, {"status": {"phase": "Failed"}})
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set")
                      and victim not in [p.metadata.name for p in live_pods(core, namespace, "daemonset-name=daemon-set")])


def test_complex_daemon_follows_node_labels(core, apps, namespace, nodes):
    color = f"color-{uuid.uuid4().hex[:6]}"
    apps.create_namespaced_daemon_set(namespace, _ds("daemon-set", node_selector={color: "blue"}))
    play_kubelet(core, namespace)
    assert _targets(core, namespace, "daemonset-name=daemon-set") == []
    core.patch_node(nodes[0], {"metadata": {"labels": {color: "blue"}}})
    try:
        assert eventually(lambda: _targets(core, namespace, "daemonset-name=daemon-set") == [nodes[0]])
        core.patch_node(nodes[0], {"metadata": {"labels": {color: "green"}}})
        assert eventually(lambda: _targets(core, namespace, "daemonset-name=daemon-set") == [])
    finally:
        core.patch_node(nodes[0], {"metadata": {"labels": {color: None}}})


def test_rolling_update_changes_the_pods_template(core, apps, namespace, nodes):
    apps.create_namespaced_daemon_set(namespace, _ds("daemon-set"))
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set"))
    apps.patch_namespaced_daemon_set("daemon-set", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.26"}]}}}})
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set") and all(
        p.spec.containers[0].image == "nginx:1.26" for p in live_pods(core, namespace, "daemonset-name=daemon-set")))
    # The status written before the change also counts every pod as updated (for generation 1),
    # so only one that has observed generation 2 says the roll-out is done.
    assert eventually(lambda: (s := apps.read_namespaced_daemon_set("daemon-set", namespace).status)
                      .observed_generation == 2 and s.updated_number_scheduled == len(nodes))


def test_controller_revision_lifecycle(core, apps, namespace, nodes):
    apps.create_namespaced_daemon_set(namespace, _ds("e2e-ds"))
    revisions = eventually(lambda: apps.list_namespaced_controller_revision(
        namespace, label_selector="daemonset-name=e2e-ds").items)
    assert len(revisions) == 1 and revisions[0].revision == 1
    first = revisions[0]
    owner = first.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.controller) == ("DaemonSet", "e2e-ds", True)
    assert first.metadata.labels["controller-revision-hash"] == first.metadata.name.rpartition("-")[2]
    apps.patch_namespaced_controller_revision(first.metadata.name, namespace,
                                              {"metadata": {"labels": {first.metadata.name: "patched"}}})
    extra = apps.create_namespaced_controller_revision(namespace, {
        "metadata": {"name": "e2e-extra", "labels": {"daemonset-name": "e2e-ds"}},
        "data": first.data, "revision": first.revision})
    extra.revision = 2
    assert apps.replace_namespaced_controller_revision("e2e-extra", namespace, extra).revision == 2
    apps.delete_namespaced_controller_revision("e2e-extra", namespace)
    apps.patch_namespaced_daemon_set("e2e-ds", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.26"}]}}}})
    assert eventually(lambda: sorted(r.revision for r in apps.list_namespaced_controller_revision(
        namespace, label_selector="daemonset-name=e2e-ds").items) == [1, 2])
    apps.delete_collection_namespaced_controller_revision(namespace, label_selector=f"{first.metadata.name}=patched")
    assert eventually(lambda: [r.revision for r in apps.list_namespaced_controller_revision(
        namespace, label_selector="daemonset-name=e2e-ds").items] == [2])
    with pytest.raises(kubernetes.client.ApiException) as e:
        apps.read_namespaced_controller_revision(first.metadata.name, namespace)
    assert e.value.status == 404


def test_list_and_delete_a_collection(core, apps, namespace, nodes):
    apps.create_namespaced_daemon_set(namespace, _ds("daemon-set"))
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set"))
    assert [d.metadata.name for d in apps.list_namespaced_daemon_set(namespace, label_selector="suite=ds").items] \
        == ["daemon-set"]
    apps.delete_collection_namespaced_daemon_set(namespace, label_selector="suite=ds")
    assert eventually(lambda: not apps.list_namespaced_daemon_set(namespace).items)
    assert eventually(lambda: not live_pods(core, namespace, "daemonset-name=daemon-set"))


def test_status_changes_keep_a_condition_beside_the_controller(core, apps, namespace, nodes):
    apps.create_namespaced_daemon_set(namespace, _ds("daemon-set"))
    condition = {"type": "StatusUpdate", "status": "True", "reason": "E2E", "message": "Set from e2e test"}

    def replace():
        ds = apps.read_namespaced_daemon_set_status("daemon-set", namespace)
        ds.status = ds.status or kubernetes.client.V1DaemonSetStatus(
            current_number_scheduled=0, desired_number_scheduled=0, number_misscheduled=0, number_ready=0)
        ds.status.conditions = [condition]
        return apps.replace_namespaced_daemon_set_status("daemon-set", namespace, ds)
    assert retrying_conflicts(replace)
    apps.patch_namespaced_daemon_set_status("daemon-set", namespace, {"status": {"conditions": [
        {**condition, "type": "StatusPatched"}]}})
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set"))
    status = eventually(lambda: (s := apps.read_namespaced_daemon_set("daemon-set", namespace).status)
                        .number_ready == len(nodes) and s)
    assert sorted(c.type for c in status.conditions) == ["StatusPatched", "StatusUpdate"]   # merged by type


def test_rollback_without_unnecessary_restarts(core, apps, namespace, nodes):
    apps.create_namespaced_daemon_set(namespace, _ds("daemon-set"))
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set"))
    before = {p.metadata.name for p in live_pods(core, namespace, "daemonset-name=daemon-set")}
    bad = "foo:non-existent"
    apps.patch_namespaced_daemon_set("daemon-set", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": bad}]}}}})

    def broken():
        play_kubelet(core, namespace, bad_image=bad)
        return [p for p in live_pods(core, namespace, "daemonset-name=daemon-set") if p.spec.containers[0].image == bad]
    assert eventually(broken)
    assert len(broken()) == 1   # maxUnavailable 1: the rollout stops at the first pod that never gets ready
    untouched = {p.metadata.name for p in live_pods(core, namespace, "daemonset-name=daemon-set")} & before
    apps.patch_namespaced_daemon_set("daemon-set", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.25"}]}}}})
    assert eventually(lambda: all_running(core, namespace, len(nodes), "daemonset-name=daemon-set") and not broken())
    assert untouched <= {p.metadata.name for p in live_pods(core, namespace, "daemonset-name=daemon-set")}
