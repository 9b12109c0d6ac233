"""Namespaces: what every namespace holds from the start (kept there), and their deletion, pods
first (kube's OrderedNamespaceDeletion)."""
from __future__ import annotations

import time
import uuid

import kubernetes

from .helpers import eventually


def _absent(read) -> bool:
    try:
        read()
    except kubernetes.client.ApiException as e:
        assert e.status == 404
        return True
    return False


def _present(read):
    try:
        return read()
    except kubernetes.client.ApiException as e:
        assert e.status == 404
        return None


def test_kube_root_ca_is_recreated_and_restored(core, namespace):
    original = eventually(lambda: _present(lambda: core.read_namespaced_config_map("kube-root-ca.crt", namespace)))
    assert original.data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    core.patch_namespaced_config_map("kube-root-ca.crt", namespace, {"data": {"ca.crt": "tampered"}})
    assert eventually(lambda: core.read_namespaced_config_map("kube-root-ca.crt", namespace).data == original.data)
    core.delete_namespaced_config_map("kube-root-ca.crt", namespace)
    again = eventually(lambda: _present(lambda: core.read_namespaced_config_map("kube-root-ca.crt", namespace)))
    assert again.data == original.data and again.metadata.uid != original.metadata.uid


def test_default_service_account_is_recreated(core, namespace):
    first = eventually(lambda: _present(lambda: core.read_namespaced_service_account("default", namespace)))
    core.delete_namespaced_service_account("default", namespace)
    again = eventually(lambda: _present(lambda: core.read_namespaced_service_account("default", namespace)))
    assert again and again.metadata.uid != first.metadata.uid


def test_namespace_deletion_removes_pods_before_anything_else(core):
    name = f"ordered-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_pod(name, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]},
                                      "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "settings"}})
    core.create_namespaced_service(name, {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}})
    core.delete_namespace(name)
    assert eventually(lambda: core.read_namespaced_pod("held", name).metadata.deletion_timestamp)
    time.sleep(1.5)  # the controller's next passes: nothing else may go while a pod remains
    assert core.read_namespaced_config_map("settings", name)
    assert core.read_namespaced_service("svc", name)
    assert core.read_namespace(name).status.phase == "Terminating"
    core.patch_namespaced_pod("held", name, {"metadata": {"finalizers": None}})
    assert eventually(lambda: _absent(lambda: core.read_namespace(name)))
    core.create_namespace({"metadata": {"name": name}})  # the name is free again
    core.delete_namespace(name)
