"""RuntimeClass admission: overhead and scheduling constraints copied into pods, mismatches refused
in kube's words."""
from __future__ import annotations

import json
import uuid

import kubernetes
import pytest


@pytest.fixture
def runtime_class(api_client):
    node = kubernetes.client.NodeV1Api(api_client)
    name = f"rc-{uuid.uuid4().hex[:8]}"
    node.create_runtime_class({"metadata": {"name": name}, "handler": "runc",
                               "overhead": {"podFixed": {"cpu": "250m", "memory": "120Mi"}},
                               "scheduling": {"nodeSelector": {"sandbox": "gvisor"},
                                              "tolerations": [{"key": "sandbox", "operator": "Exists",
                                                               "effect": "NoSchedule"}]}})
    yield name
    node.delete_runtime_class(name)


def _pod(name, **spec):
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


def test_a_pod_gets_its_runtime_class_overhead_and_scheduling(core, namespace, runtime_class):
    pod = core.create_namespaced_pod(namespace, _pod("sandboxed", runtimeClassName=runtime_class))
    assert pod.spec.overhead == {"cpu": "250m", "memory": "120Mi"}
    assert pod.spec.node_selector == {"sandbox": "gvisor"}
    assert any(t.key == "sandbox" and t.effect == "NoSchedule" for t in pod.spec.tolerations)


@pytest.mark.parametrize("spec, message", [
    ({"runtimeClassName": "missing"}, 'pods "p" is forbidden: pod rejected: RuntimeClass "missing" not found'),
    ({"overhead": {"cpu": "1"}},
     'pods "p" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead'),
])
def test_refused_pods(core, namespace, spec, message):
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.create_namespaced_pod(namespace, _pod("p", **spec))
    assert e.value.status == 403 and json.loads(e.value.body)["message"] == message


def test_overhead_that_differs_from_the_runtime_class_is_refused(core, namespace, runtime_class):
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.create_namespaced_pod(namespace, _pod("p", runtimeClassName=runtime_class, overhead={"cpu": "1"}))
    assert e.value.status == 403 and "Pod's Overhead doesn't match RuntimeClass's defined Overhead" in e.value.body
    same = core.create_namespaced_pod(namespace, _pod("same", runtimeClassName=runtime_class,
                                                      overhead={"cpu": "0.25", "memory": "120Mi"}))
    assert same.spec.overhead == {"cpu": "250m", "memory": "120Mi"}  # the RuntimeClass's, canonical


def test_a_conflicting_node_selector_is_refused(core, namespace, runtime_class):
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.create_namespaced_pod(namespace, _pod("p", runtimeClassName=runtime_class,
                                                   nodeSelector={"sandbox": "kata"}))
    assert e.value.status == 403
    assert "conflict: runtimeClass.scheduling.nodeSelector[sandbox] = gvisor; pod.spec.nodeSelector[sandbox] = kata" \
        in e.value.body
