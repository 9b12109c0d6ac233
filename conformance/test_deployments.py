"""Deployments as users drive them with kubectl: create, rollout status, set image within surge
and unavailability bounds, history, undo, restart, pause and resume, scale; Recreate, history
limits and the progress deadline (kube's deployment controller semantics)."""
from __future__ import annotations

import json
import threading
import time

import kubernetes
import pytest

from .helpers import eventually
from .podreadier import PodReadier


# A pod whose readiness gate nobody sets runs but never becomes ready, on any kubelet.
NEVER_READY = {"readinessGates": [{"conditionType": "example.com/never"}]}


def wait_for(check, timeout=30.0):
    value = eventually(check, timeout)
    assert value, "condition not reached in time"
    return value


class ReplicaSetWatch:
    """Every state the ReplicaSets of a namespace pass through, checked against the rollout's
    bounds as it is seen (spec replicas summed never above desired + surge; available pods summed
    never below desired - unavailable once the first rollout is done)."""

    def __init__(self, apps, namespace: str, most: int, least: int):
        self.apps, self.namespace, self.most, self.least = apps, namespace, most, least
        self.states: dict[str, tuple[int, int]] = {}
        self.violations: list[str] = []
        self.seen = 0
        self._watch = kubernetes.watch.Watch()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._watch.stop()
        self._thread.join(10)

    def _run(self):
        try:
            self._follow()
        except Exception:  # noqa: BLE001 - the stream is cut when the watch is stopped
            pass

    def _follow(self):
        for event in self._watch.stream(self.apps.list_namespaced_replica_set, self.namespace, timeout_seconds=120):
            rs = event["object"]
            if event["type"] == "DELETED":
                self.states.pop(rs.metadata.name, None)
            else:
                self.states[rs.metadata.name] = (rs.spec.replicas or 0, (rs.status and rs.status.available_replicas) or 0)
            self.seen += 1
            total = sum(spec for spec, _ in self.states.values())
            available = sum(avail for _, avail in self.states.values())
            if total > self.most:
                self.violations.append(f"{total} replicas wanted: {self.states}")
            if available < self.least:
                self.violations.append(f"only {available} available: {self.states}")


def rollout_status(kubectl, namespace, version, name="web", timeout="60s", check=True):
    return kubectl("-n", namespace, "rollout", "status", f"deployment/{name}", f"--timeout={timeout}",
                   version=version, timeout=90, check=check)


def replicasets(apps, namespace):
    return {rs.metadata.name: rs for rs in apps.list_namespaced_replica_set(namespace).items}


def workload(name: str, labels: dict, replicas: int, image: str = "nginx", pod: dict | None = None, **spec) -> dict:
    """A Deployment's or ReplicaSet's body: one container, the selector matching the template."""
    return {"metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, **spec,
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": image}], **(pod or {})}}}}


def available(apps, namespace, name="web"):
    status = apps.read_namespaced_deployment(name, namespace).status
    return (status and status.available_replicas) or 0


def pods_of(core, namespace):
    return [p for p in core.list_namespaced_pod(namespace).items if not p.metadata.deletion_timestamp]


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_deployment_rollout_story(kubectl, core, apps, namespace, version):
    ns = namespace
    with PodReadier(core, ns):
        kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=3", version=version)
        out = rollout_status(kubectl, ns, version).stdout
        assert 'deployment "web" successfully rolled out' in out
        first = replicasets(apps, ns)
        assert len(first) == 1
        rs_name, rs = next(iter(first.items()))
        template_hash = rs.metadata.labels["pod-template-hash"]
        assert rs_name == f"web-{template_hash}" and rs.spec.selector.match_labels["pod-template-hash"] == template_hash
        assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
        assert rs.metadata.annotations["deployment.kubernetes.io/desired-replicas"] == "3"
        assert rs.metadata.annotations["deployment.kubernetes.io/max-replicas"] == "4"
        assert rs.metadata.owner_references[0].kind == "Deployment"
        d = apps.read_namespaced_deployment("web", ns)
        assert (d.status.replicas, d.status.updated_replicas, d.status.ready_replicas,
                d.status.available_replicas, d.status.observed_generation) == (3, 3, 3, 3, 1)
        reasons = {c.type: c.reason for c in d.status.conditions}
        assert reasons == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}

        # A rolling update never goes past its surge or below its availability.
        kubectl("-n", ns, "patch", "deployment", "web", "-p", json.dumps(
            {"spec": {"replicas": 4, "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}}}),
            version=version)
        rollout_status(kubectl, ns, version)
        with ReplicaSetWatch(apps, ns, most=5, least=3) as watch:
            kubectl("-n", ns, "set", "image", "deployment/web", "nginx=nginx:1.27", version=version)
            rollout_status(kubectl, ns, version)
            wait_for(lambda: watch.seen >= 4)
        assert not watch.violations, watch.violations[:3]
        rss = replicasets(apps, ns)
        assert len(rss) == 2
        new = next(r for r in rss.values() if r.spec.template.spec.containers[0].image == "nginx:1.27")
        assert new.spec.replicas == 4 and rss[rs_name].spec.replicas == 0
        assert new.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
        assert {p.metadata.labels["pod-template-hash"] for p in pods_of(core, ns)} == \
            {new.metadata.labels["pod-template-hash"]}

        history = kubectl("-n", ns, "rollout", "history", "deployment/web", version=version).stdout
        assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

        # Undo goes back to revision 1's template, reusing its ReplicaSet as revision 3.
        kubectl("-n", ns, "rollout", "undo", "deployment/web", version=version)
        rollout_status(kubectl, ns, version)
        d = apps.read_namespaced_deployment("web", ns)
        assert d.spec.template.spec.containers[0].image == "nginx"
        assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
        back = apps.read_namespaced_replica_set(rs_name, ns)
        assert back.spec.replicas == 4
        assert back.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
        assert back.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"

        # Restart rolls a new template; pause holds template changes until resume.
        kubectl("-n", ns, "rollout", "restart", "deployment/web", version=version)
        rollout_status(kubectl, ns, version)
        assert len(replicasets(apps, ns)) == 3
        kubectl("-n", ns, "rollout", "pause", "deployment/web", version=version)
        wait_for(lambda: any(c.reason == "DeploymentPaused" for c in
                             apps.read_namespaced_deployment("web", ns).status.conditions))
        kubectl("-n", ns, "set", "image", "deployment/web", "nginx=nginx:1.28", version=version)
        time.sleep(1)
        assert len(replicasets(apps, ns)) == 3
        kubectl("-n", ns, "rollout", "resume", "deployment/web", version=version)
        rollout_status(kubectl, ns, version)
        assert len(replicasets(apps, ns)) == 4

        # Scale converges both ways.
        kubectl("-n", ns, "scale", "deployment/web", "--replicas=6", version=version)
        rollout_status(kubectl, ns, version)
        wait_for(lambda: len(pods_of(core, ns)) == 6)
        kubectl("-n", ns, "scale", "deployment/web", "--replicas=2", version=version)
        rollout_status(kubectl, ns, version)
        wait_for(lambda: len(pods_of(core, ns)) == 2)

        described = kubectl("-n", ns, "describe", "deployment", "web", version=version).stdout
        assert "ScalingReplicaSet" in described and "deployment-controller" in described
        assert f"Scaled up replica set {rs_name} from 0 to 3" in described


def test_recreate_removes_old_pods_before_creating_new_ones(kubectl, core, apps, namespace):
    ns = namespace
    with PodReadier(core, ns):
        kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=3")
        kubectl("-n", ns, "patch", "deployment", "web", "--type=merge",
                "-p", '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}')
        rollout_status(kubectl, ns, None)
        old_hash = next(iter(replicasets(apps, ns).values())).metadata.labels["pod-template-hash"]
        mixed = []
        stop = threading.Event()

        def watch_pods():
            while not stop.is_set():
                hashes = {p.metadata.labels.get("pod-template-hash") for p in core.list_namespaced_pod(ns).items}
                if old_hash in hashes and len(hashes) > 1:
                    mixed.append(hashes)
                time.sleep(0.05)
        watcher = threading.Thread(target=watch_pods, daemon=True)
        watcher.start()
        kubectl("-n", ns, "set", "image", "deployment/web", "nginx=nginx:1.27")
        rollout_status(kubectl, ns, None)
        stop.set()
        watcher.join(5)
        assert not mixed
        assert len(pods_of(core, ns)) == 3


def test_old_replicasets_pruned_to_revision_history_limit(kubectl, core, apps, namespace):
    ns = namespace
    with PodReadier(core, ns):
        kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=1")
        kubectl("-n", ns, "patch", "deployment", "web", "-p", '{"spec":{"revisionHistoryLimit":1}}')
        for tag in ("1.25", "1.26", "1.27"):
            kubectl("-n", ns, "set", "image", "deployment/web", f"nginx=nginx:{tag}")
            rollout_status(kubectl, ns, None)
        wait_for(lambda: len(replicasets(apps, ns)) == 2)
        images = sorted(r.spec.template.spec.containers[0].image for r in replicasets(apps, ns).values())
        assert images == ["nginx:1.26", "nginx:1.27"]


def test_progress_deadline_exceeded(kubectl, core, apps, namespace):
    ns = namespace
    with PodReadier(core, ns):
        apps.create_namespaced_deployment(ns, workload("web", {"app": "web"}, 1, pod=NEVER_READY,
                                                       progressDeadlineSeconds=2))

        def reason():
            status = apps.read_namespaced_deployment("web", ns).status
            conds = (status and status.conditions) or []
            return next((c for c in conds if c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"), None)
        cond = wait_for(reason, timeout=20)
        assert cond.status == "False"
        assert cond.message.endswith("has timed out progressing.")
        d = apps.read_namespaced_deployment("web", ns)
        assert {c.type: (c.status, c.reason) for c in d.status.conditions}["Available"] == \
            ("False", "MinimumReplicasUnavailable")
        assert d.status.unavailable_replicas == 1
        failed = rollout_status(kubectl, ns, None, check=False)
        assert failed.returncode != 0
        assert 'deployment "web" exceeded its progress deadline' in failed.stderr


def test_proportional_scaling_mid_rollout(kubectl, core, apps, namespace):
    """kube's e2e: 10 replicas (surge 3, unavailable 2) rolled to an image that never becomes
    ready, then scaled to 30: the extra replicas are shared as the ReplicaSets' sizes stand."""
    ns = namespace
    with PodReadier(core, ns):
        apps.create_namespaced_deployment(ns, {
            "metadata": {"name": "web"},
            "spec": {"replicas": 10, "selector": {"matchLabels": {"name": "web"}},
                     "strategy": {"rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}},
                     "template": {"metadata": {"labels": {"name": "web"}},
                                  "spec": {"containers": [{"name": "httpd", "image": "httpd"}]}}}})
        rollout_status(kubectl, ns, None)
        first = next(iter(replicasets(apps, ns)))
        apps.patch_namespaced_deployment("web", ns, {"spec": {"template": {"spec": {
            "containers": [{"name": "httpd", "image": "webserver:404"}], **NEVER_READY}}}})

        def sizes():
            return {name: rs.spec.replicas for name, rs in replicasets(apps, ns).items()}
        wait_for(lambda: len(sizes()) == 2 and sizes()[first] == 8 and sum(sizes().values()) == 13)
        time.sleep(0.5)
        assert sizes()[first] == 8 and sum(sizes().values()) == 13   # stuck: new pods never ready
        apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 30}})
        wait_for(lambda: sum(sizes().values()) == 33)
        second = next(name for name in sizes() if name != first)
        assert sizes() == {first: 20, second: 13}
        described = kubectl("-n", ns, "describe", "deployment", "web").stdout
        assert f"Scaled up replica set {first} from 8 to 20" in described
        assert f"Scaled up replica set {second} from 5 to 13" in described


def test_deployment_adopts_a_replicaset_and_rolls_it_over(kubectl, core, apps, namespace):
    """kube's RollingUpdateDeployment e2e: an existing ReplicaSet matching the selector is adopted,
    its revision continued, and it is replaced by the Deployment's template."""
    ns = namespace
    labels = {"name": "sample-pod", "pod": "httpd"}
    with PodReadier(core, ns):
        apps.create_namespaced_replica_set(ns, {
            "metadata": {"name": "test-rolling-update-controller", "labels": labels,
                         "annotations": {"deployment.kubernetes.io/revision": "3546343826724305832"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "httpd", "image": "httpd"}]}}}})
        wait_for(lambda: len(pods_of(core, ns)) == 1)
        apps.create_namespaced_deployment(ns, {
            "metadata": {"name": "test-rolling-update-deployment"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "agnhost", "image": "agnhost"}]}}}})
        rollout_status(kubectl, ns, None, name="test-rolling-update-deployment")
        d = apps.read_namespaced_deployment("test-rolling-update-deployment", ns)
        assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3546343826724305833"
        old = apps.read_namespaced_replica_set("test-rolling-update-controller", ns)
        assert old.metadata.owner_references[0].uid == d.metadata.uid
        wait_for(lambda: apps.read_namespaced_replica_set("test-rolling-update-controller", ns).spec.replicas == 0)
        wait_for(lambda: [p.spec.containers[0].image for p in pods_of(core, ns)] == ["agnhost"])


def test_deployment_scale_subresource_and_cascading_delete(kubectl, core, apps, namespace):
    ns = namespace
    with PodReadier(core, ns):
        kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=1")
        scale = apps.read_namespaced_deployment_scale("web", ns)
        assert scale.spec.replicas == 1
        apps.replace_namespaced_deployment_scale("web", ns, {"metadata": {"name": "web"}, "spec": {"replicas": 2}})
        wait_for(lambda: available(apps, ns) == 2)
        assert apps.read_namespaced_deployment_scale("web", ns).status.replicas == 2
    apps.delete_namespaced_deployment("web", ns, propagation_policy="Background")
    wait_for(lambda: not replicasets(apps, ns) and not core.list_namespaced_pod(ns).items)


def test_replicaset_never_creates_more_pods_than_asked(core, apps, namespace):
    ns = namespace
    apps.create_namespaced_replica_set(ns, workload("many", {"name": "many"}, 40))
    wait_for(lambda: (apps.read_namespaced_replica_set("many", ns).status.replicas or 0) == 40)
    time.sleep(1)
    assert len(core.list_namespaced_pod(ns).items) == 40
    created = [e for e in core.list_namespaced_event(ns).items if e.reason == "SuccessfulCreate"]
    assert sum(e.count or 1 for e in created) == 40


def test_min_ready_seconds_delays_availability(kubectl, core, apps, namespace):
    ns = namespace
    with PodReadier(core, ns):
        apps.create_namespaced_replica_set(ns, workload("slow", {"name": "slow"}, 1, minReadySeconds=2))
        wait_for(lambda: (apps.read_namespaced_replica_set("slow", ns).status.ready_replicas or 0) == 1)
        assert not apps.read_namespaced_replica_set("slow", ns).status.available_replicas
        wait_for(lambda: (apps.read_namespaced_replica_set("slow", ns).status.available_replicas or 0) == 1,
                 timeout=10)


def test_rollover_mid_rollout(kubectl, core, apps, namespace):
    """kube's rollover e2e: a template change while the previous rollout is stuck scales the
    stuck ReplicaSet away and rolls straight to the newest template, never below availability."""
    ns = namespace
    labels = {"name": "rollover-pod"}
    with PodReadier(core, ns):
        apps.create_namespaced_replica_set(ns, {
            "metadata": {"name": "test-rollover-controller", "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "httpd", "image": "httpd"}]}}}})
        wait_for(lambda: (apps.read_namespaced_replica_set("test-rollover-controller", ns).status.available_replicas
                          or 0) == 1)
        apps.create_namespaced_deployment(ns, {
            "metadata": {"name": "test-rollover-deployment"},
            "spec": {"replicas": 1, "minReadySeconds": 2, "selector": {"matchLabels": labels},
                     "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "redis-slave", "image": "redis-slave"}],
                                           **NEVER_READY}}}})
        wait_for(lambda: len(replicasets(apps, ns)) == 2 and
                 all(rs.spec.replicas == 1 for rs in replicasets(apps, ns).values()))
        stuck = next(n for n in replicasets(apps, ns) if n != "test-rollover-controller")
        time.sleep(1)
        assert apps.read_namespaced_replica_set("test-rollover-controller", ns).spec.replicas == 1   # unavailable 0
        apps.patch_namespaced_deployment("test-rollover-deployment", ns, {"spec": {"template": {"spec": {
            "containers": [{"name": "redis-slave", "image": "agnhost"}], "readinessGates": None}}}})
        rollout_status(kubectl, ns, None, name="test-rollover-deployment")
        sizes = {name: rs.spec.replicas for name, rs in replicasets(apps, ns).items()}
        assert sizes["test-rollover-controller"] == 0 and sizes[stuck] == 0
        newest = next(n for n in sizes if n not in ("test-rollover-controller", stuck))
        assert sizes[newest] == 1
        d = apps.read_namespaced_deployment("test-rollover-deployment", ns)
        assert d.status.observed_generation == d.metadata.generation and d.status.updated_replicas == 1


def test_deleting_a_namespace_removes_its_deployment_then_the_namespace(kubectl, core, apps, namespace):
    ns = namespace
    with PodReadier(core, ns):
        kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=2")
        kubectl("-n", ns, "create", "configmap", "settings", "--from-literal=a=b")
        rollout_status(kubectl, ns, None)
    core.delete_namespace(ns)

    def gone():
        try:
            core.read_namespace(ns)
            return False
        except kubernetes.client.ApiException as e:
            return e.status == 404
    wait_for(gone, timeout=60)


def test_replica_failure_of_a_replicaset_shows_on_its_deployment(kubectl, core, apps, namespace):
    ns = namespace
    core.create_namespaced_resource_quota(ns, {"metadata": {"name": "one-pod"}, "spec": {"hard": {"pods": "1"}}})
    wait_for(lambda: ((core.read_namespaced_resource_quota("one-pod", ns).status
                       or kubernetes.client.V1ResourceQuotaStatus()).hard or {}).get("pods") == "1")
    kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=2")

    def failure():
        status = apps.read_namespaced_deployment("web", ns).status
        return next((c for c in (status and status.conditions) or [] if c.type == "ReplicaFailure"), None)
    cond = wait_for(failure)
    assert (cond.status, cond.reason) == ("True", "FailedCreate")
    assert "exceeded quota: one-pod" in cond.message
    kubectl("-n", ns, "scale", "deployment/web", "--replicas=1")
    wait_for(lambda: failure() is None)
