"""ReplicaSets and ReplicationControllers: replicas kept, orphans adopted and non-matching pods
released, status counted, and a failure to create pods surfaced as the ReplicaFailure condition
(kube's replicaset and replication controllers)."""
from __future__ import annotations

import time

import kubernetes

from .podreadier import PodReadier
from .test_deployments import available, pods_of, wait_for, workload

TEMPLATE = {"metadata": {"labels": {"name": "sample"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def _orphan(core, namespace, name, labels):
    return core.create_namespaced_pod(namespace, {"metadata": {"name": name, "labels": labels},
                                                  "spec": TEMPLATE["spec"]})


def _owner_uid(core, namespace, name):
    pod = core.read_namespaced_pod(name, namespace)
    refs = [r for r in pod.metadata.owner_references or [] if r.controller]
    return refs[0].uid if refs else None


def test_replicaset_adopts_matching_orphans_and_releases_relabelled_pods(core, apps, namespace):
    ns = namespace
    _orphan(core, ns, "pod-adoption-release", {"name": "sample"})
    rs = apps.create_namespaced_replica_set(ns, {
        "metadata": {"name": "pod-adoption-release"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"name": "sample"}}, "template": TEMPLATE}})
    wait_for(lambda: _owner_uid(core, ns, "pod-adoption-release") == rs.metadata.uid)
    pod = core.read_namespaced_pod("pod-adoption-release", ns)
    ref = pod.metadata.owner_references[0]
    assert (ref.kind, ref.api_version, ref.controller, ref.block_owner_deletion) == \
        ("ReplicaSet", "apps/v1", True, True)
    time.sleep(0.5)
    assert [p.metadata.name for p in pods_of(core, ns)] == ["pod-adoption-release"]   # adopted, none created

    core.patch_namespaced_pod("pod-adoption-release", ns, {"metadata": {"labels": {"name": "released"}}})
    wait_for(lambda: _owner_uid(core, ns, "pod-adoption-release") is None)
    # The released pod no longer counts: a replacement is made from the template.
    wait_for(lambda: len(pods_of(core, ns)) == 2)
    made = [p for p in pods_of(core, ns) if p.metadata.name != "pod-adoption-release"][0]
    assert made.metadata.generate_name == "pod-adoption-release-"
    assert made.metadata.owner_references[0].uid == rs.metadata.uid


def test_replicaset_keeps_replicas_and_counts_status(core, apps, namespace):
    ns = namespace
    with PodReadier(core, ns):
        apps.create_namespaced_replica_set(ns, {
            "metadata": {"name": "rs"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"name": "sample"}}, "template": TEMPLATE}})

        def settled():
            status = apps.read_namespaced_replica_set("rs", ns).status
            return (status.replicas, status.fully_labeled_replicas, status.ready_replicas,
                    status.available_replicas, status.observed_generation) == (3, 3, 3, 3, 1)
        wait_for(settled)
        victim = pods_of(core, ns)[0].metadata.name
        core.delete_namespaced_pod(victim, ns)
        wait_for(lambda: len(pods_of(core, ns)) == 3 and victim not in {p.metadata.name for p in pods_of(core, ns)})
        apps.patch_namespaced_replica_set_scale("rs", ns, {"spec": {"replicas": 1}})
        wait_for(lambda: len(pods_of(core, ns)) == 1)
        wait_for(lambda: apps.read_namespaced_replica_set("rs", ns).status.replicas == 1)
        events = core.list_namespaced_event(ns, field_selector="involvedObject.name=rs").items
        reasons = {(e.reason, e.source.component) for e in events}
        assert ("SuccessfulCreate", "replicaset-controller") in reasons
        assert ("SuccessfulDelete", "replicaset-controller") in reasons
        assert any(e.message.startswith("Created pod: rs-") for e in events)


def test_replication_controller_adopts_and_releases(core, namespace):
    ns = namespace
    _orphan(core, ns, "pod-adoption", {"name": "pod-adoption"})
    rc = core.create_namespaced_replication_controller(ns, {
        "metadata": {"name": "pod-adoption"},
        "spec": {"replicas": 1, "selector": {"name": "pod-adoption"},
                 "template": {"metadata": {"labels": {"name": "pod-adoption"}}, "spec": TEMPLATE["spec"]}}})
    wait_for(lambda: _owner_uid(core, ns, "pod-adoption") == rc.metadata.uid)
    ref = core.read_namespaced_pod("pod-adoption", ns).metadata.owner_references[0]
    assert (ref.kind, ref.api_version) == ("ReplicationController", "v1")
    core.patch_namespaced_pod("pod-adoption", ns, {"metadata": {"labels": {"name": "other"}}})
    wait_for(lambda: _owner_uid(core, ns, "pod-adoption") is None)


def test_replication_controller_surfaces_quota_failure(core, namespace):
    ns = namespace
    core.create_namespaced_resource_quota(ns, {"metadata": {"name": "condition-test"}, "spec": {"hard": {"pods": "2"}}})
    wait_for(lambda: ((core.read_namespaced_resource_quota("condition-test", ns).status or kubernetes.client.V1ResourceQuotaStatus()).hard or {}).get("pods") == "2")
    core.create_namespaced_replication_controller(ns, {
        "metadata": {"name": "condition-test"},
        "spec": {"replicas": 3, "selector": {"name": "condition-test"},
                 "template": {"metadata": {"labels": {"name": "condition-test"}}, "spec": TEMPLATE["spec"]}}})

    def failure():
        conds = core.read_namespaced_replication_controller("condition-test", ns).status.conditions or []
        return next((c for c in conds if c.type == "ReplicaFailure"), None)
    cond = wait_for(failure)
    assert (cond.status, cond.reason) == ("True", "FailedCreate")
    assert "exceeded quota: condition-test" in cond.message
    assert len(pods_of(core, ns)) == 2
    events = core.list_namespaced_event(ns, field_selector="involvedObject.name=condition-test").items
    assert any(e.reason == "FailedCreate" and e.type == "Warning" and e.message.startswith("Error creating: ")
               for e in events)
    core.patch_namespaced_replication_controller_scale("condition-test", ns, {"spec": {"replicas": 2}})
    wait_for(lambda: failure() is None)
    assert core.read_namespaced_replication_controller("condition-test", ns).status.replicas == 2


def test_deleting_a_replicaset_in_the_background_removes_its_pods(core, apps, namespace):
    ns = namespace
    apps.create_namespaced_replica_set(ns, {
        "metadata": {"name": "rs"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"name": "sample"}}, "template": TEMPLATE}})
    wait_for(lambda: len(pods_of(core, ns)) == 2)
    apps.delete_namespaced_replica_set("rs", ns, propagation_policy="Background")
    wait_for(lambda: not core.list_namespaced_pod(ns).items)
    try:
        apps.read_namespaced_replica_set("rs", ns)
        raise AssertionError("the ReplicaSet is still there")
    except kubernetes.client.ApiException as e:
        assert e.status == 404


def test_conditions_written_through_status_survive_the_controllers(core, apps, namespace):
    """kube's status-endpoint e2e: conditions a client writes through /status stay beside the ones
    the controllers keep."""
    ns = namespace
    with PodReadier(core, ns):
        apps.create_namespaced_deployment(ns, workload("web", {"name": "web"}, 1))
        wait_for(lambda: available(apps, ns) == 1)
        d = apps.read_namespaced_deployment("web", ns)
        d.status.conditions.append(kubernetes.client.V1DeploymentCondition(
            type="StatusUpdate", status="True", reason="E2E", message="Set from e2e test"))
        apps.replace_namespaced_deployment_status("web", ns, d)
        apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 2}})
        wait_for(lambda: available(apps, ns) == 2)
        types = {c.type for c in apps.read_namespaced_deployment("web", ns).status.conditions}
        assert types == {"StatusUpdate", "Available", "Progressing"}

        rs = next(iter(apps.list_namespaced_replica_set(ns).items))
        rs.status.conditions = [kubernetes.client.V1ReplicaSetCondition(
            type="StatusUpdate", status="True", reason="E2E", message="Set from e2e test")]
        apps.replace_namespaced_replica_set_status(rs.metadata.name, ns, rs)
        time.sleep(0.5)
        conds = apps.read_namespaced_replica_set(rs.metadata.name, ns).status.conditions
        assert [(c.type, c.reason) for c in conds] == [("StatusUpdate", "E2E")]


def test_lifecycles_with_patches_and_collection_deletes(core, apps, namespace):
    """kube's lifecycle e2es in short: a Deployment, ReplicaSet and ReplicationController reach
    their ready replicas, follow patches of template and replicas, and go with deletecollection."""
    ns = namespace
    with PodReadier(core, ns):
        apps.create_namespaced_deployment(ns, {
            "metadata": {"name": "web", "labels": {"test-deployment-static": "true"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"name": "web"}},
                     "template": {"metadata": {"labels": {"name": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
        apps.create_namespaced_replica_set(ns, {
            "metadata": {"name": "rs", "labels": {"e2e": "rs"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"name": "rs"}},
                     "template": {"metadata": {"labels": {"name": "rs"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
        core.create_namespaced_replication_controller(ns, {
            "metadata": {"name": "rc", "labels": {"e2e": "rc"}},
            "spec": {"replicas": 1, "selector": {"name": "rc"},
                     "template": {"metadata": {"labels": {"name": "rc"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
        wait_for(lambda: available(apps, ns) == 1)
        apps.patch_namespaced_deployment("web", ns, {"spec": {"replicas": 2, "template": {"spec": {
            "containers": [{"name": "c", "image": "nginx:2"}]}}}})
        apps.patch_namespaced_replica_set("rs", ns, {"spec": {"replicas": 2}})
        core.patch_namespaced_replication_controller_scale("rc", ns, {"spec": {"replicas": 2}})

        def settled():
            d = apps.read_namespaced_deployment("web", ns)
            rs = apps.read_namespaced_replica_set("rs", ns)
            rc = core.read_namespaced_replication_controller("rc", ns)
            return (d.status.replicas, d.status.updated_replicas, d.status.available_replicas,
                    rs.status.ready_replicas, rc.status.ready_replicas, rc.status.available_replicas) == (2,) * 6
        wait_for(settled)
        wait_for(lambda: len(pods_of(core, ns)) == 6)
        images = sorted(p.spec.containers[0].image for p in pods_of(core, ns))
        assert images == ["nginx", "nginx", "nginx", "nginx", "nginx:2", "nginx:2"]
    apps.delete_collection_namespaced_deployment(ns, label_selector="test-deployment-static=true")
    apps.delete_collection_namespaced_replica_set(ns, label_selector="e2e=rs")
    core.delete_collection_namespaced_replication_controller(ns, label_selector="e2e=rc")
    wait_for(lambda: not core.list_namespaced_pod(ns).items and not apps.list_namespaced_replica_set(ns).items)
