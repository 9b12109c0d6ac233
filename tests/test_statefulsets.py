"""The StatefulSet controller against a real kubeconfig, driven by kubectl 1.27 and 1.33 and the
official client. The tests play kubelet: they write Running and Ready through pods/status."""
from __future__ import annotations

import json
import time

import kubernetes
import pytest

from conformance.helpers import eventually
from conformance.workloads import all_running, live_pod_names, mark_ready, play_kubelet
from vapi.testing import run_kubectl

VERSIONS = ("1.27", "1.33")


def wait_for(check, timeout=20.0, what="condition"):
    value = eventually(check, timeout)
    assert value, f"timed out waiting for {what}"
    return value


def pod_names(core, namespace):
    return live_pod_names(core, namespace)


def sts_manifest(name, replicas=3, image="nginx:1.25", **spec):
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"serviceName": "nginx", "replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}},
                     **spec}}


def kubectl(kubeconfig, *args, version=None, **kw):
    return run_kubectl(kubeconfig, *args, version=version, **kw)


def apply(kubeconfig, namespace, manifest, version=None):
    kubectl(kubeconfig, "apply", "-n", namespace, "-f", "-", input=json.dumps(manifest), version=version)


def bring_up(core, namespace, names):
    """Play kubelet for pods as they appear, in the order the controller makes them."""
    for name in names:
        wait_for(lambda: name in pod_names(core, namespace), what=f"pod {name}")
        mark_ready(core, namespace, name)


def test_ordered_creation_identity_and_claims(kubeconfig, core, namespace):
    claim = {"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                  "resources": {"requests": {"storage": "1Gi"}}}}
    apply(kubeconfig, namespace, sts_manifest("web", volumeClaimTemplates=[claim]))
    wait_for(lambda: pod_names(core, namespace) == ["web-0"], what="web-0")
    time.sleep(0.5)
    pod = core.read_namespaced_pod("web-0", namespace)
    if pod.status.phase != "Running":   # unless a kubelet of the cluster's ran it meanwhile
        assert pod_names(core, namespace) == ["web-0"]  # web-1 waits for web-0 to be Running and Ready
    assert pod.metadata.labels["statefulset.kubernetes.io/pod-name"] == "web-0"
    assert pod.metadata.labels["apps.kubernetes.io/pod-index"] == "0"
    assert pod.spec.hostname == "web-0" and pod.spec.subdomain == "nginx"
    assert pod.metadata.owner_references[0].kind == "StatefulSet"
    volume = next(v for v in pod.spec.volumes if v.name == "www")
    assert volume.persistent_volume_claim.claim_name == "www-web-0"
    pvc = core.read_namespaced_persistent_volume_claim("www-web-0", namespace)
    assert pvc.metadata.labels == {"app": "web"} and pvc.status.phase == "Pending"
    bring_up(core, namespace, ["web-0", "web-1", "web-2"])
    out = kubectl(kubeconfig, "rollout", "status", "-n", namespace, "statefulset/web", "--timeout=20s").stdout
    assert out.strip().endswith("partitioned roll out complete: 3 new pods have been updated...")
    assert sorted(c.metadata.name for c in core.list_namespaced_persistent_volume_claim(namespace).items) == \
        ["www-web-0", "www-web-1", "www-web-2"]
    events = kubectl(kubeconfig, "get", "events", "-n", namespace, "-o", "json").stdout
    messages = {(e["reason"], e["message"], e["source"].get("component")) for e in json.loads(events)["items"]}
    assert ("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful", "statefulset-controller") in messages
    assert ("SuccessfulCreate", "create Claim www-web-1 Pod web-1 in StatefulSet web success",
            "statefulset-controller") in messages
    sts = json.loads(kubectl(kubeconfig, "get", "sts", "web", "-n", namespace, "-o", "json").stdout)
    status = sts["status"]
    assert status["replicas"] == status["readyReplicas"] == status["currentReplicas"] == 3
    assert status["updatedReplicas"] == status["availableReplicas"] == 3
    assert status["observedGeneration"] == 1 and status["currentRevision"] == status["updateRevision"]
    assert status["updateRevision"].startswith("web-")


def test_scale_down_in_reverse_order(kubeconfig, core, namespace):
    apply(kubeconfig, namespace, sts_manifest("db", replicas=3))
    bring_up(core, namespace, ["db-0", "db-1", "db-2"])
    kubectl(kubeconfig, "scale", "-n", namespace, "statefulset/db", "--replicas=1")
    wait_for(lambda: pod_names(core, namespace) == ["db-0"], what="scale down")
    events = core.list_namespaced_event(namespace).items
    deletions = [e.message for e in sorted(events, key=lambda e: e.first_timestamp or e.event_time)
                 if e.reason == "SuccessfulDelete"]
    assert deletions == ["delete Pod db-2 in StatefulSet db successful", "delete Pod db-1 in StatefulSet db successful"]


def revisions_by_pod(core, namespace):
    return {p.metadata.name: p.metadata.labels["controller-revision-hash"]
            for p in core.list_namespaced_pod(namespace).items if not p.metadata.deletion_timestamp}


def image_of(core, namespace, name):
    try:
        return core.read_namespaced_pod(name, namespace).spec.containers[0].image
    except kubernetes.client.ApiException as e:
        if e.status != 404:
            raise
        return None  # between its deletion and its replacement


@pytest.mark.parametrize("version", VERSIONS)
def test_partitioned_rolling_update_history_and_undo(kubeconfig, core, namespace, version):
    def run(*args, **kw):
        return kubectl(kubeconfig, *args, "-n", namespace, version=version, **kw).stdout

    apply(kubeconfig, namespace, sts_manifest("app", updateStrategy={"type": "RollingUpdate",
                                                                 "rollingUpdate": {"partition": 2}}), version)
    wait_for(lambda: all_running(core, namespace, 3), what="3 pods")
    first = set(revisions_by_pod(core, namespace).values())
    assert len(first) == 1
    run("set", "image", "statefulset/app", "web=nginx:1.26")
    wait_for(lambda: play_kubelet(core, namespace) or image_of(core, namespace, "app-2") == "nginx:1.26"
             and core.read_namespaced_pod("app-2", namespace).status.phase == "Running", what="app-2 updated")
    out = run("rollout", "status", "statefulset/app", "--timeout=20s")
    assert "partitioned roll out complete: 1 new pods have been updated..." in out
    time.sleep(0.5)
    assert image_of(core, namespace, "app-0") == image_of(core, namespace, "app-1") == "nginx:1.25"
    revisions = revisions_by_pod(core, namespace)
    assert revisions["app-0"] == revisions["app-1"] in first and revisions["app-2"] not in first

    run("patch", "statefulset/app", "-p", '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}')
    wait_for(lambda: play_kubelet(core, namespace) or all(
        image_of(core, namespace, f"app-{i}") == "nginx:1.26" for i in range(3)), what="all updated")
    out = run("rollout", "status", "statefulset/app", "--timeout=20s")
    assert "partitioned roll out complete: 3 new pods have been updated..." in out
    history = run("rollout", "history", "statefulset/app")
    assert history.split("\n")[1:] == ["REVISION  CHANGE-CAUSE", "1         <none>", "2         <none>", "", ""]
    assert "nginx:1.25" in run("rollout", "history", "statefulset/app", "--revision=1")

    assert run("rollout", "undo", "statefulset/app").strip() == "statefulset.apps/app rolled back"
    wait_for(lambda: play_kubelet(core, namespace) or all(
        image_of(core, namespace, f"app-{i}") == "nginx:1.25" for i in range(3)), what="rolled back")
    history = run("rollout", "history", "statefulset/app")
    assert history.split("\n")[2:4] == ["2         <none>", "3         <none>"]
    assert run("rollout", "undo", "statefulset/app", "--to-revision=3").strip() == \
        "statefulset.apps/app skipped rollback (current template already matches revision 3)"
    sts = json.loads(run("get", "statefulset/app", "-o", "json"))
    wait_for(lambda: play_kubelet(core, namespace) or json.loads(run("get", "statefulset/app", "-o", "json"))[
        "status"].get("currentRevision")
             == sts["status"]["updateRevision"], what="current revision")
    names = {r.metadata.name for r in kubernetes.client.AppsV1Api(core.api_client)
             .list_namespaced_controller_revision(namespace).items}
    assert sts["status"]["updateRevision"] in names and len(names) == 2


CLAIM = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                              "resources": {"requests": {"storage": "1Gi"}}}}


def claim_names(core, namespace):
    return sorted(c.metadata.name for c in core.list_namespaced_persistent_volume_claim(namespace).items
                  if not c.metadata.deletion_timestamp)


def test_parallel_starts_all_pods_at_once_from_the_start_ordinal(kubeconfig, core, namespace):
    apply(kubeconfig, namespace, sts_manifest("par", replicas=3, podManagementPolicy="Parallel", ordinals={"start": 5}))
    wait_for(lambda: pod_names(core, namespace) == ["par-5", "par-6", "par-7"], what="all three, unready")
    assert core.read_namespaced_pod("par-7", namespace).metadata.labels["apps.kubernetes.io/pod-index"] == "7"
    kubectl(kubeconfig, "scale", "-n", namespace, "sts/par", "--replicas=1")
    wait_for(lambda: pod_names(core, namespace) == ["par-5"], what="parallel scale down, unready pods")


def test_claims_retention_policy(kubeconfig, core, namespace):
    apply(kubeconfig, namespace, sts_manifest("keep", replicas=2, volumeClaimTemplates=[CLAIM]))
    apply(kubeconfig, namespace, sts_manifest("drop", replicas=2, volumeClaimTemplates=[CLAIM],
                                          persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete",
                                                                                "whenScaled": "Delete"}))
    wait_for(lambda: all_running(core, namespace, 4), what="4 pods")
    assert claim_names(core, namespace) == ["data-drop-0", "data-drop-1", "data-keep-0", "data-keep-1"]
    owners = core.read_namespaced_persistent_volume_claim("data-drop-0", namespace).metadata.owner_references
    assert [(o.kind, o.name) for o in owners] == [("StatefulSet", "drop")]
    assert core.read_namespaced_persistent_volume_claim("data-keep-0", namespace).metadata.owner_references is None
    for name in ("keep", "drop"):
        kubectl(kubeconfig, "scale", "-n", namespace, f"sts/{name}", "--replicas=1")
    wait_for(lambda: claim_names(core, namespace) == ["data-drop-0", "data-keep-0", "data-keep-1"],
             what="scaled-away claim of drop deleted")
    kubectl(kubeconfig, "delete", "-n", namespace, "sts/drop", "sts/keep")
    wait_for(lambda: claim_names(core, namespace) == ["data-keep-0", "data-keep-1"], what="drop's claims deleted")


def test_on_delete_replaces_only_deleted_pods(kubeconfig, core, namespace):
    apply(kubeconfig, namespace, sts_manifest("od", replicas=2, updateStrategy={"type": "OnDelete"}))
    wait_for(lambda: all_running(core, namespace, 2), what="2 pods")
    kubectl(kubeconfig, "set", "image", "-n", namespace, "sts/od", "web=nginx:1.26")
    time.sleep(1)
    assert {image_of(core, namespace, n) for n in ("od-0", "od-1")} == {"nginx:1.25"}
    core.delete_namespaced_pod("od-1", namespace)
    wait_for(lambda: play_kubelet(core, namespace) or image_of(core, namespace, "od-1") == "nginx:1.26",
             what="od-1 recreated at the update revision")
    assert image_of(core, namespace, "od-0") == "nginx:1.25"
    proc = kubectl(kubeconfig, "rollout", "status", "-n", namespace, "sts/od", check=False)
    assert proc.returncode == 1 and "rollout status is only available for RollingUpdate strategy type" in proc.stderr


def test_max_unavailable_replaces_several_pods_at_once(kubeconfig, core, namespace):
    apply(kubeconfig, namespace, sts_manifest("mu", replicas=4, podManagementPolicy="Parallel",
                                          updateStrategy={"type": "RollingUpdate",
                                                          "rollingUpdate": {"maxUnavailable": 2}}))
    wait_for(lambda: all_running(core, namespace, 4), what="4 pods")
    kubectl(kubeconfig, "set", "image", "-n", namespace, "sts/mu", "web=nginx:1.26")
    wait_for(lambda: sorted(n for n in ("mu-0", "mu-1", "mu-2", "mu-3")
                            if image_of(core, namespace, n) == "nginx:1.26") == ["mu-2", "mu-3"],
             what="the two highest replaced first")
    assert image_of(core, namespace, "mu-1") == image_of(core, namespace, "mu-0") == "nginx:1.25"
    wait_for(lambda: all_running(core, namespace, 4) and all(
        image_of(core, namespace, f"mu-{i}") == "nginx:1.26" for i in range(4)), what="all replaced")


def test_a_failed_pod_is_made_again(kubeconfig, core, namespace):
    apply(kubeconfig, namespace, sts_manifest("fp", replicas=1))
    wait_for(lambda: all_running(core, namespace, 1), what="fp-0")
    first = core.read_namespaced_pod("fp-0", namespace).metadata.uid
    core.patch_namespaced_pod_status("fp-0", namespace, {"status": {"phase": "Failed"}})
    wait_for(lambda: all_running(core, namespace, 1) and
             core.read_namespaced_pod("fp-0", namespace).metadata.uid != first, what="fp-0 made again")
    events = {(e.type, e.reason, e.message) for e in core.list_namespaced_event(namespace).items}
    assert ("Warning", "RecreatingFailedPod", f"StatefulSet {namespace}/fp is recreating failed Pod fp-0") in events
