"""StatefulSet cases after the upstream conformance tests ([sig-apps] StatefulSet Basic
functionality): canary and phased rolling updates, the scale and status subresources, collection
operations. Pods are brought to Running and Ready by the cluster's kubelets, or by the case
playing kubelet where none runs them."""
from __future__ import annotations

import kubernetes
import pytest

from .helpers import eventually
from .workloads import all_running, live_pods, retrying_conflicts

pytestmark = pytest.mark.usefixtures("namespace")


def _sts(name, replicas, **strategy):
    return {"metadata": {"name": name, "labels": {"suite": "sts"}},
            "spec": {"serviceName": "test", "replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "webserver", "image": "nginx:1.25"}]}},
                     **({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": strategy}} if strategy else {})}}


def _images(core, namespace, selector):
    return {p.metadata.name: p.spec.containers[0].image for p in live_pods(core, namespace, selector)}


def _revisions(core, namespace, selector):
    return {p.metadata.name: p.metadata.labels["controller-revision-hash"] for p in live_pods(core, namespace, selector)}


def test_canary_and_phased_rolling_updates(core, apps, namespace):
    apps.create_namespaced_stateful_set(namespace, _sts("ss2", 3, partition=3))
    assert eventually(lambda: all_running(core, namespace, 3, "app=ss2"))
    before = apps.read_namespaced_stateful_set("ss2", namespace)
    apps.patch_namespaced_stateful_set("ss2", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "webserver", "image": "nginx:1.26"}]}}}})
    sts = eventually(lambda: (s := apps.read_namespaced_stateful_set("ss2", namespace)).status.update_revision
                     != before.status.current_revision and s)
    assert sts.status.current_revision == before.status.current_revision
    assert set(_images(core, namespace, "app=ss2").values()) == {"nginx:1.25"}   # partition 3: none yet

    apps.patch_namespaced_stateful_set("ss2", namespace, {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 2}}}})
    assert eventually(lambda: all_running(core, namespace, 3, "app=ss2")
                      and _images(core, namespace, "app=ss2") == {"ss2-0": "nginx:1.25", "ss2-1": "nginx:1.25",
                                                                  "ss2-2": "nginx:1.26"})
    assert _revisions(core, namespace, "app=ss2")["ss2-2"] == sts.status.update_revision
    core.delete_namespaced_pod("ss2-1", namespace)   # comes back at the current revision, below the partition
    assert eventually(lambda: all_running(core, namespace, 3, "app=ss2")
                      and _revisions(core, namespace, "app=ss2").get("ss2-1") == before.status.current_revision)

    apps.patch_namespaced_stateful_set("ss2", namespace, {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})
    assert eventually(lambda: all_running(core, namespace, 3, "app=ss2")
                      and set(_images(core, namespace, "app=ss2").values()) == {"nginx:1.26"})
    # Running is not yet Ready: the roll-out is done once the status counts all three ready.
    assert eventually(lambda: all_running(core, namespace, 3, "app=ss2") and (s := apps.read_namespaced_stateful_set(
        "ss2", namespace).status).current_revision == sts.status.update_revision
        and s.updated_replicas == s.ready_replicas == s.current_replicas == 3)


def test_scale_subresource(core, apps, namespace):
    apps.create_namespaced_stateful_set(namespace, _sts("ss", 1))
    assert eventually(lambda: all_running(core, namespace, 1, "app=ss"))
    scale = apps.read_namespaced_stateful_set_scale("ss", namespace)
    assert scale.spec.replicas == 1 and scale.status.replicas == 1

    def replace():
        scale = apps.read_namespaced_stateful_set_scale("ss", namespace)
        scale.spec.replicas = 2
        return apps.replace_namespaced_stateful_set_scale("ss", namespace, scale)
    assert retrying_conflicts(replace).spec.replicas == 2
    assert apps.read_namespaced_stateful_set("ss", namespace).spec.replicas == 2
    assert eventually(lambda: all_running(core, namespace, 2, "app=ss"))
    apps.patch_namespaced_stateful_set_scale("ss", namespace, {"spec": {"replicas": 1}})
    assert eventually(lambda: [p.metadata.name for p in live_pods(core, namespace, "app=ss")] == ["ss-0"])


def test_status_endpoints_keep_a_condition_beside_the_controller(core, apps, namespace):
    apps.create_namespaced_stateful_set(namespace, _sts("ss", 1))
    assert eventually(lambda: ((apps.read_namespaced_stateful_set_status("ss", namespace).status or
                                kubernetes.client.V1StatefulSetStatus(replicas=0)).observed_generation or 0) == 1)
    condition = {"type": "StatusUpdate", "status": "True", "reason": "E2E", "message": "Set from e2e test"}
    apps.patch_namespaced_stateful_set_status("ss", namespace, {"status": {"conditions": [condition]}})
    assert eventually(lambda: all_running(core, namespace, 1, "app=ss"))
    sts = eventually(lambda: (s := apps.read_namespaced_stateful_set_status("ss", namespace)).status.ready_replicas == 1 and s)
    assert [(c.type, c.reason) for c in sts.status.conditions] == [("StatusUpdate", "E2E")]


def test_list_patch_and_delete_a_collection(core, apps, namespace):
    apps.create_namespaced_stateful_set(namespace, _sts("ss", 1))
    listed = apps.list_namespaced_stateful_set(namespace, label_selector="suite=sts").items
    assert [s.metadata.name for s in listed] == ["ss"]
    apps.patch_namespaced_stateful_set("ss", namespace, {"metadata": {"labels": {"patched": "yes"}}})
    assert apps.list_namespaced_stateful_set(namespace, label_selector="patched=yes").items
    apps.delete_collection_namespaced_stateful_set(namespace, label_selector="suite=sts")
    assert eventually(lambda: not apps.list_namespaced_stateful_set(namespace).items)
    assert eventually(lambda: not live_pods(core, namespace, "app=ss"))
    with pytest.raises(kubernetes.client.ApiException) as e:
        apps.read_namespaced_stateful_set("ss", namespace)
    assert e.value.status == 404
