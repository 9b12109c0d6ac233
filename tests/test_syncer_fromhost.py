"""Virtual mode, from the host: the host's events about our objects, nodes in each of vcluster's
modes, and the opt-in StorageClasses shown read-only in the virtual cluster."""
from __future__ import annotations

import json

import kubernetes
import pytest
import yaml

from syncer.names import host_name
from vapi.testing import ServerProcess, run_kubectl
from tests.virtual_fixtures import core, eventually, start_virtual


def _pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}}


def _configured(host, tmp_path_factory, name: str, config: dict) -> ServerProcess:
    path = tmp_path_factory.mktemp(name) / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return start_virtual(host, name, "--config", str(path))


@pytest.fixture(scope="module")
def real(host, tmp_path_factory):
    server = _configured(host, tmp_path_factory, "vreal", {"sync": {"fromHost": {"nodes": {"enabled": True}}}})
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def every(host, tmp_path_factory):
    server = _configured(host, tmp_path_factory, "vall", {
        "sync": {"fromHost": {"nodes": {"enabled": True, "selector": {"all": True}},
                              "storageClasses": {"enabled": True}, "ingressClasses": {"enabled": True},
                              "persistentVolumes": {"enabled": True}}}})
    yield server
    server.cleanup()


def _bound(server, name: str, namespace: str = "default"):
    pod = core(server).read_namespaced_pod(name, namespace)
    return pod if pod.spec.node_name and pod.status.phase == "Running" else None


def _host_pods(host, vc: str) -> list:
    return core(host).list_namespaced_pod("default", label_selector=f"vapi.dev/managed-by={vc}").items


def _node_names(server) -> set[str]:
    return {n.metadata.name for n in core(server).list_node().items}


def _events_of(server, name: str) -> list:
    return core(server).list_namespaced_event("default", field_selector=f"involvedObject.name={name}").items


def test_describe_pod_shows_the_hosts_events_under_the_virtual_name(host, vc1):
    core(vc1).create_namespaced_pod("default", _pod("web"))
    pod = eventually(lambda: _bound(vc1, "web"))
    assert pod, "the virtual pod never ran"

    def scheduled():
        return next((e for e in _events_of(vc1, "web") if e.reason == "Scheduled"), None)
    event = eventually(scheduled)
    assert event, run_kubectl(vc1.kubeconfig, "get", "events", "-A").stdout
    assert event.message == f"Successfully assigned default/web to {pod.spec.node_name}"
    assert (event.involved_object.kind, event.involved_object.namespace, event.involved_object.name,
            event.involved_object.uid, event.involved_object.api_version) == \
        ("Pod", "default", "web", pod.metadata.uid, "v1")
    assert event.type == "Normal"
    shown = run_kubectl(vc1.kubeconfig, "describe", "pod", "web").stdout
    assert f"Successfully assigned default/web to {pod.spec.node_name}" in shown
    assert "-x-" not in shown.split("Events:")[1]
    assert all(e.metadata.labels == {"vapi.dev/from-host": "true"} for e in _events_of(vc1, "web"))
    # the host's own event is about its copy
    copy = host_name("web", "default", "vc1")
    on_host = core(host).list_namespaced_event("default", field_selector=f"involvedObject.name={copy}").items
    assert any(e.reason == "Scheduled" and e.message.startswith(f"Successfully assigned default/{copy} to")
               for e in on_host)


def test_a_repeat_on_the_host_updates_the_same_virtual_event(host, vc1):
    assert eventually(lambda: _bound(vc1, "web"))
    copy = host_name("web", "default", "vc1")
    assert eventually(lambda: any(e.reason == "Started" for e in _events_of(vc1, "web")))
    on_host = [e for e in core(host).list_namespaced_event(
        "default", field_selector=f"involvedObject.name={copy}").items if e.count]
    assert on_host, "the host recorded no counted event about the pod"
    repeated = on_host[0]
    assert eventually(lambda: len(_events_of(vc1, "web")) >= len(on_host))
    before = {e.metadata.name for e in _events_of(vc1, "web")}
    core(host).patch_namespaced_event(repeated.metadata.name, "default",
                                      {"count": 7, "lastTimestamp": "2030-01-01T00:00:00Z"})

    def counted():
        return [e for e in _events_of(vc1, "web") if e.reason == repeated.reason and e.count == 7]
    assert eventually(counted), [(e.reason, e.count) for e in _events_of(vc1, "web")]
    assert {e.metadata.name for e in _events_of(vc1, "web")} == before


def test_other_host_names_in_a_message_are_put_back(host, vc1):
    assert eventually(lambda: _bound(vc1, "web"))
    copy = host_name("web", "default", "vc1")
    host_pod = core(host).read_namespaced_pod(copy, "default")
    core(host).create_namespaced_event("default", {
        "metadata": {"name": f"{copy}.failedmount"},
        "involvedObject": {"kind": "Pod", "apiVersion": "v1", "namespace": "default", "name": copy,
                           "uid": host_pod.metadata.uid},
        "reason": "FailedMount", "type": "Warning", "count": 1, "source": {"component": "kubelet"},
        "firstTimestamp": "2030-01-01T00:00:00Z", "lastTimestamp": "2030-01-01T00:00:00Z",
        "message": f'MountVolume.SetUp failed for volume "cfg" : configmap "{host_name("settings", "default", "vc1")}"'
                   f' not found; pod default/{copy}'})
    event = eventually(lambda: next((e for e in _events_of(vc1, "web") if e.reason == "FailedMount"), None))
    assert event, [e.reason for e in _events_of(vc1, "web")]
    assert event.metadata.name == "web.failedmount"
    assert event.message == \
        'MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found; pod default/web'
    assert event.type == "Warning"


def test_a_restarted_virtual_cluster_makes_no_second_copy_of_an_event(host, tmp_path):
    vc = start_virtual(host, "vre", data_dir=tmp_path / "vre")
    copy = host_name("once", "default", "vre")

    def copied():
        """The virtual event names once each host event about the pod has its copy."""
        on_host = core(host).list_namespaced_event("default", field_selector=f"involvedObject.name={copy}").items
        shown = sorted(e.metadata.name for e in _events_of(vc, "once"))
        wanted = sorted("once" + e.metadata.name[len(copy):] for e in on_host)
        return shown if any(e.reason == "Started" for e in on_host) and shown == wanted else None
    try:
        core(vc).create_namespaced_pod("default", _pod("once"))
        assert eventually(lambda: _bound(vc, "once"))
        before = eventually(copied)
        assert before, [(e.metadata.name, e.reason) for e in _events_of(vc, "once")]
        vc.stop()
        vc.start()
        # a new pod's event shows once the host's events listed at start have all been looked at
        core(vc).create_namespaced_pod("default", _pod("twice"))
        assert eventually(lambda: any(e.reason == "Scheduled" for e in _events_of(vc, "twice")))
        assert sorted(e.metadata.name for e in _events_of(vc, "once")) == before
    finally:
        vc.cleanup()


def test_fake_nodes_are_the_host_nodes_running_our_pods_and_go_with_the_last_pod(host, vc1):
    for i in range(4):
        core(vc1).create_namespaced_pod("default", _pod(f"spread-{i}"))
    for i in range(4):
        assert eventually(lambda: _bound(vc1, f"spread-{i}"))
    used = {p.spec.node_name for p in _host_pods(host, "vc1")}
    assert _node_names(vc1) == used
    for node in core(vc1).list_node().items:
        assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
        assert node.metadata.labels["vapi.dev/fake-node"] == "true"
    for pod in core(vc1).list_namespaced_pod("default").items:
        core(vc1).delete_namespaced_pod(pod.metadata.name, "default", grace_period_seconds=0)
    assert eventually(lambda: not core(vc1).list_namespaced_pod("default").items)
    assert eventually(lambda: not _node_names(vc1)), _node_names(vc1)


def test_real_nodes_mirror_the_host_nodes_running_our_pods(host, real):
    assert not _node_names(real)
    core(real).create_namespaced_pod("default", _pod("job"))
    pod = eventually(lambda: _bound(real, "job"))
    assert pod
    name = pod.spec.node_name
    assert _node_names(real) == {name}
    virtual, actual = core(real).read_node(name), core(host).read_node(name)
    assert virtual.metadata.labels == actual.metadata.labels
    assert virtual.status.capacity == actual.status.capacity
    assert virtual.status.allocatable == actual.status.allocatable
    assert virtual.status.node_info == actual.status.node_info
    assert virtual.status.addresses == actual.status.addresses
    assert {c.type: c.status for c in virtual.status.conditions}["Ready"] == "True"
    # what the pod went through is the host's account alone
    assert eventually(lambda: any(e.reason == "Started" for e in _events_of(real, "job")))
    assert all(e.metadata.labels == {"vapi.dev/from-host": "true"} for e in _events_of(real, "job"))
    core(host).patch_node(name, {"metadata": {"labels": {"team": "blue"}}})
    assert eventually(lambda: core(real).read_node(name).metadata.labels.get("team") == "blue")
    # an edit in the virtual cluster is put back
    core(real).patch_node(name, {"metadata": {"labels": {"team": "red"}}})
    assert eventually(lambda: core(real).read_node(name).metadata.labels.get("team") == "blue")
    core(real).delete_namespaced_pod("job", "default", grace_period_seconds=0)
    assert eventually(lambda: not _node_names(real)), _node_names(real)


def test_all_nodes_mode_shows_every_host_node(host, every):
    assert eventually(lambda: _node_names(every) == {"vapi-node-0", "vapi-node-1"}), _node_names(every)


def test_label_selected_nodes_and_the_node_selector_on_host_pods(host, tmp_path_factory):
    core(host).patch_node("vapi-node-1", {"metadata": {"labels": {"pool": "picked"}}})
    vc = _configured(host, tmp_path_factory, "vlab", {
        "sync": {"fromHost": {"nodes": {"enabled": True, "selector": {"labels": {"pool": "picked"}}}}}})
    try:
        assert eventually(lambda: _node_names(vc) == {"vapi-node-1"}), _node_names(vc)
        for i in range(3):
            core(vc).create_namespaced_pod("default", _pod(f"picky-{i}"))
        for i in range(3):
            assert eventually(lambda: _bound(vc, f"picky-{i}"))
        copies = _host_pods(host, "vlab")
        assert len(copies) == 3
        assert all(p.spec.node_selector == {"pool": "picked"} and p.spec.node_name == "vapi-node-1" for p in copies)
        assert _node_names(vc) == {"vapi-node-1"}
    finally:
        vc.cleanup()
        core(host).patch_node("vapi-node-1", {"metadata": {"labels": {"pool": None}}})


def test_storage_classes_from_the_host(host, every):
    storage = kubernetes.client.StorageV1Api(kubernetes.config.new_client_from_config(config_file=str(host.kubeconfig)))
    storage.create_storage_class({"metadata": {"name": "fast", "labels": {"tier": "1"}},
                                  "provisioner": "example.com/fast", "parameters": {"kind": "ssd"}})

    def shown():
        found = run_kubectl(every.kubeconfig, "get", "storageclass", "fast", "-o", "json", check=False)
        return json.loads(found.stdout) if found.returncode == 0 else None
    sc = eventually(shown)
    assert sc, "the host's StorageClass never showed"
    assert sc["provisioner"] == "example.com/fast" and sc["parameters"] == {"kind": "ssd"}
    assert sc["metadata"]["labels"] == {"tier": "1", "vapi.dev/from-host": "true"}
    # read-only: a virtual edit is put back
    run_kubectl(every.kubeconfig, "label", "storageclass", "fast", "tier=9", "--overwrite")
    assert eventually(lambda: (shown() or {}).get("metadata", {}).get("labels", {}).get("tier") == "1")
    # and a virtual delete too
    uid = shown()["metadata"]["uid"]
    run_kubectl(every.kubeconfig, "delete", "storageclass", "fast")
    assert eventually(lambda: (shown() or {}).get("metadata", {}).get("uid") not in (None, uid))
    storage.delete_storage_class("fast")
    assert eventually(lambda: shown() is None)


def test_ingress_classes_from_the_host(host, every):
    networking = kubernetes.client.NetworkingV1Api(
        kubernetes.config.new_client_from_config(config_file=str(host.kubeconfig)))
    networking.create_ingress_class({"metadata": {"name": "edge"}, "spec": {"controller": "example.com/edge"}})
    shown = kubernetes.client.NetworkingV1Api(
        kubernetes.config.new_client_from_config(config_file=str(every.kubeconfig)))

    def names():
        return {c.metadata.name for c in shown.list_ingress_class().items}
    assert eventually(lambda: "edge" in names())
    assert shown.read_ingress_class("edge").spec.controller == "example.com/edge"
    networking.delete_ingress_class("edge")
    assert eventually(lambda: "edge" not in names())


def test_persistent_volumes_from_the_host_name_the_virtual_claim(host, every):
    claim = core(every).create_namespaced_persistent_volume_claim("default", {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    core(host).create_persistent_volume({
        "metadata": {"name": "pv-data"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/d"},
                 "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": "default",
                              "name": host_name("data", "default", "vall")}}})

    def shown():
        try:
            return core(every).read_persistent_volume("pv-data")
        except kubernetes.client.ApiException:
            return None
    volume = eventually(lambda: (pv := shown()) and pv.spec.claim_ref.name == "data" and pv)
    assert volume, shown()
    assert (volume.spec.claim_ref.namespace, volume.spec.claim_ref.uid) == ("default", claim.metadata.uid)
    assert volume.spec.capacity == {"storage": "1Gi"}
    assert volume.metadata.labels == {"vapi.dev/from-host": "true"}
    assert volume.status == core(host).read_persistent_volume("pv-data").status
    core(host).delete_persistent_volume("pv-data")
    assert eventually(lambda: shown() is None)
