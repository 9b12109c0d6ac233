"""Object semantics every client relies on: identity, versions, generations, deletion."""
from __future__ import annotations

import time

import kubernetes
import pytest

from .helpers import expect_status

DEPLOYMENT = {
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
}


def test_system_namespaces_exist(core):
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    assert core.read_namespace("default").status.phase == "Active"


def test_create_sets_identity_and_versions(core, namespace):
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}, "data": {"k": "v"}})
    assert cm.metadata.uid and cm.metadata.creation_timestamp
    rv1 = int(cm.metadata.resource_version)
    cm.data["k"] = "w"
    updated = core.replace_namespaced_config_map("a", namespace, cm)
    assert int(updated.metadata.resource_version) > rv1
    assert updated.metadata.uid == cm.metadata.uid
    assert core.read_namespaced_config_map("a", namespace).data == {"k": "w"}


def test_generate_name(core, namespace):
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"generateName": "gen-"}})
    assert cm.metadata.name.startswith("gen-") and len(cm.metadata.name) == len("gen-") + 5


def test_generation_counts_spec_changes_only(apps, namespace):
    d = apps.create_namespaced_deployment(namespace, DEPLOYMENT)
    assert d.metadata.generation == 1
    d = apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert d.metadata.generation == 1
    d = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}})
    assert d.metadata.generation == 2


def test_stale_update_conflicts(core, namespace):
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}})
    core.patch_namespaced_config_map("c", namespace, {"data": {"x": "1"}})
    cm.data = {"x": "2"}
    status = expect_status(lambda: core.replace_namespaced_config_map("c", namespace, cm), 409, "Conflict")
    assert "the object has been modified" in status["message"]
    assert core.read_namespaced_config_map("c", namespace).data == {"x": "1"}


def test_already_exists_and_not_found(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "dup"}})
    status = expect_status(lambda: core.create_namespaced_config_map(namespace, {"metadata": {"name": "dup"}}),
                           409, "AlreadyExists")
    assert status["details"] == {"name": "dup", "kind": "configmaps"}  # kube omits an empty group
    status = expect_status(lambda: core.read_namespaced_config_map("nope", namespace), 404, "NotFound")
    assert status["message"] == 'configmaps "nope" not found'


def test_no_create_in_missing_namespace(core):
    status = expect_status(lambda: core.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "x"}}),
                           404, "NotFound")
    assert status["message"] == 'namespaces "no-such-ns" not found'
    assert status["details"] == {"name": "no-such-ns", "kind": "namespaces"}


def test_missing_namespace_is_found_before_an_invalid_object(core):
    # NamespaceLifecycle is a mutating admission plugin: it runs before the strategy validates.
    status = expect_status(lambda: core.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "Bad_Name"}}),
                           404, "NotFound")
    assert status["message"] == 'namespaces "no-such-ns" not found'


def test_system_namespaces_may_not_be_deleted(core):
    for name in ("default", "kube-system", "kube-public"):
        status = expect_status(lambda: core.delete_namespace(name), 403, "Forbidden")
        assert status["message"] == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
        assert core.read_namespace(name).status.phase == "Active"


def test_terminating_namespace_refuses_new_content(core):
    ns = f"term-{int(time.time() * 1000) % 100000}"
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    core.delete_namespace(ns)
    assert core.read_namespace(ns).status.phase == "Terminating"
    status = expect_status(lambda: core.create_namespaced_config_map(ns, {"metadata": {"name": "new"}}),
                           403, "Forbidden")
    assert status["message"] == (f'configmaps "new" is forbidden: unable to create new content in namespace '
                                 f"{ns} because it is being terminated")
    assert status["details"] == {"name": "new", "kind": "configmaps"}
    core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
    _eventually(lambda: _gone(lambda: core.read_namespace(ns)))


def test_finalizers_hold_deletion(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "f", "finalizers": ["example.com/x"]}})
    core.delete_namespaced_config_map("f", namespace)
    held = core.read_namespaced_config_map("f", namespace)
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("f", namespace, {"metadata": {"finalizers": None}})
    assert _gone(lambda: core.read_namespaced_config_map("f", namespace))


def test_delete_preconditions(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "p"}})
    expect_status(lambda: core.delete_namespaced_config_map(
        "p", namespace, body={"preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}), 409, "Conflict")
    expect_status(lambda: core.delete_namespaced_config_map(
        "p", namespace, body={"preconditions": {"resourceVersion": "1"}}), 409, "Conflict")
    uid = core.read_namespaced_config_map("p", namespace).metadata.uid
    core.delete_namespaced_config_map("p", namespace, body={"preconditions": {"uid": uid}})
    assert _gone(lambda: core.read_namespaced_config_map("p", namespace))


def test_dry_run_writes_nothing(core, namespace):
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "d"}, "data": {"a": "b"}},
                                                dry_run="All")
    assert created.metadata.name == "d"
    assert _gone(lambda: core.read_namespaced_config_map("d", namespace))
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "d"}, "data": {"a": "b"}})
    core.patch_namespaced_config_map("d", namespace, {"data": {"a": "c"}}, dry_run="All")
    core.delete_namespaced_config_map("d", namespace, dry_run="All")
    assert core.read_namespaced_config_map("d", namespace).data == {"a": "b"}


def test_status_subresource_separates_spec_and_status(apps, namespace):
    apps.create_namespaced_deployment(namespace, DEPLOYMENT)
    d = apps.patch_namespaced_deployment_status("web", namespace, {"status": {"observedGeneration": 1,
                                                                              "replicas": 7}})
    assert d.status.replicas == 7 and d.spec.replicas == 2
    # The deployment controller rewrites status from its ReplicaSets meanwhile, but never to more
    # replicas than the spec asks: 5 can only come from the main resource's write, which ignores it.
    d = apps.patch_namespaced_deployment("web", namespace, {"status": {"replicas": 5}, "spec": {"replicas": 4}})
    assert d.status.replicas != 5 and d.spec.replicas == 4


def test_scale_subresource(apps, namespace):
    apps.create_namespaced_deployment(namespace, DEPLOYMENT)
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.spec.replicas == 2 and scale.status.selector == "app=web"
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 5}})
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 5


def test_delete_collection_by_label(core, namespace):
    for i in range(4):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"c{i}", "labels": {"even": str(i % 2 == 0)}}})
    core.delete_collection_namespaced_config_map(namespace, label_selector="even=True")
    left = {c.metadata.name for c in core.list_namespaced_config_map(namespace).items}
    assert {"c1", "c3"} <= left and not {"c0", "c2"} & left


def _owned(core, namespace, owner, name):
    return core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "ownerReferences": [{
        "apiVersion": "v1", "kind": "ConfigMap", "name": owner.metadata.name, "uid": owner.metadata.uid}]}})


@pytest.mark.parametrize("policy", ["Background", "Foreground", "Orphan"])
def test_propagation_policies(core, namespace, policy):
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    _owned(core, namespace, owner, "dep")
    core.delete_namespaced_config_map("owner", namespace, propagation_policy=policy)
    _eventually(lambda: _gone(lambda: core.read_namespaced_config_map("owner", namespace)))
    if policy == "Orphan":
        dep = core.read_namespaced_config_map("dep", namespace)
        assert not dep.metadata.owner_references
    else:
        _eventually(lambda: _gone(lambda: core.read_namespaced_config_map("dep", namespace)))


def _gone(read) -> bool:
    try:
        read()
    except kubernetes.client.ApiException as e:
        if e.status == 404:
            return True
        raise
    return False


def _eventually(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
