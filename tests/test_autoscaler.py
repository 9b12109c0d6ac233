"""The HorizontalPodAutoscaler controller: a Deployment's /scale follows annotated CPU usage.

The tests play kubelet (Running, Ready pods on a Ready Node they create) and assert what the
HPA writes: the target's replicas, the HPA's status and conditions, and its events.
"""
from __future__ import annotations

import datetime as dt
import time
import uuid

import kubernetes
import pytest

from vapi.controllers import autoscaling
from vapi.testing import ServerProcess, run_kubectl

from playing_kubelet import make_node, make_pod


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("hpa"),
                       extra_args=("--horizontal-pod-autoscaler-sync-period", "500ms")) as server:
        yield server


@pytest.fixture(scope="module")
def client(server):
    return kubernetes.config.new_client_from_config(str(server.kubeconfig))


@pytest.fixture
def ns(client):
    name = f"h-{uuid.uuid4().hex[:8]}"
    kubernetes.client.CoreV1Api(client).create_namespace({"metadata": {"name": name}})
    return name


def wait_for(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def deployment(apps, ns, replicas=2):
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "web"}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100m"}}}]}}}})


def hpa(ns, behavior=None, **target):
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1, "maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": target or {"type": "Utilization", "averageUtilization": 50}}}]}
    if behavior:
        spec["behavior"] = behavior
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": spec}


def events(core, ns):
    return [(e.type, e.reason, e.message, e.source.component) for e in core.list_namespaced_event(ns).items
            if e.involved_object.kind == "HorizontalPodAutoscaler"]


def conditions(auto, ns):
    status = auto.read_namespaced_horizontal_pod_autoscaler_status("web", ns).status
    return {c.type: (c.status, c.reason, c.message) for c in (status and status.conditions) or []}


def test_hpa_scales_a_deployment_up_when_cpu_crosses_the_target_and_down_after_its_window(server, client, ns):
    core, apps = kubernetes.client.CoreV1Api(client), kubernetes.client.AppsV1Api(client)
    auto = kubernetes.client.AutoscalingV2Api(client)
    make_node(core, f"n-{ns}")
    deployment(apps, ns)
    for name in ("web-1", "web-2"):
        make_pod(core, ns, name, f"n-{ns}", labels={"app": "web"}, requests={"cpu": "100m"},
                 annotations={"vapi.dev/cpu-usage": "30m"})
    auto.create_namespaced_horizontal_pod_autoscaler(ns, hpa(ns, behavior={"scaleDown": {
        "stabilizationWindowSeconds": 8}}))
    # 30% of the request against 50%: ceil(0.6 × 2) = 2 pods would do, but scaling down waits out the window.
    status = wait_for(lambda: (s := auto.read_namespaced_horizontal_pod_autoscaler("web", ns).status)
                      and s.current_metrics and s)
    assert status.current_metrics[0].resource.current.average_utilization == 30
    assert status.current_metrics[0].resource.current.average_value == "30m"
    assert conditions(auto, ns)["ScalingActive"] == (
        "True", "ValidMetricFound",
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)")

    for name in ("web-1", "web-2"):
        core.patch_namespaced_pod(name, ns, {"metadata": {"annotations": {"vapi.dev/cpu-usage": "400m"}}})
    # 400% against 50%: 16 pods asked; the default scaleUp policies allow 2 + 4, maxReplicas 5.
    assert wait_for(lambda: apps.read_namespaced_deployment_scale("web", ns).spec.replicas == 5)
    assert wait_for(lambda: ("Normal", "SuccessfulRescale",
                             "New size: 5; reason: cpu resource utilization (percentage of request) above target",
                             "horizontal-pod-autoscaler") in events(core, ns))
    assert wait_for(lambda: conditions(auto, ns).get("ScalingLimited", ("",))[0] == "True")
    assert conditions(auto, ns)["ScalingLimited"] == (
        "True", "TooManyReplicas", "the desired replica count is more than the maximum replica count")
    status = auto.read_namespaced_horizontal_pod_autoscaler_status("web", ns).status
    assert status.current_replicas == 5 and status.desired_replicas == 5 and status.last_scale_time

    for name in ("web-1", "web-2"):
        core.patch_namespaced_pod(name, ns, {"metadata": {"annotations": {"vapi.dev/cpu-usage": "10m"}}})
    assert wait_for(lambda: conditions(auto, ns)["AbleToScale"][1] == "ScaleDownStabilized", timeout=8)
    assert apps.read_namespaced_deployment_scale("web", ns).spec.replicas == 5
    assert wait_for(lambda: apps.read_namespaced_deployment_scale("web", ns).spec.replicas == 1)
    assert wait_for(lambda: ("Normal", "SuccessfulRescale", "New size: 1; reason: All metrics below target",
                             "horizontal-pod-autoscaler") in events(core, ns))


def test_container_resource_metrics_follow_one_container(server, client, ns):
    core, apps = kubernetes.client.CoreV1Api(client), kubernetes.client.AppsV1Api(client)
    auto = kubernetes.client.AutoscalingV2Api(client)
    make_node(core, f"n-{ns}")
    deployment(apps, ns, replicas=1)
    make_pod(core, ns, "web-1", f"n-{ns}", labels={"app": "web"}, containers=("app", "side"),
             requests={"cpu": "100m"}, annotations={"vapi.dev/cpu-usage.app": "20m", "vapi.dev/cpu-usage.side": "900m"})
    body = hpa(ns)
    body["spec"]["metrics"] = [{"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": "app", "target": {"type": "Utilization", "averageUtilization": 50}}}]
    auto.create_namespaced_horizontal_pod_autoscaler(ns, body)
    status = wait_for(lambda: (s := auto.read_namespaced_horizontal_pod_autoscaler("web", ns).status)
                      and s.current_metrics and s)
    current = status.current_metrics[0]
    assert current.type == "ContainerResource" and current.container_resource.container == "app"
    assert current.container_resource.current.average_utilization == 20
    assert apps.read_namespaced_deployment_scale("web", ns).spec.replicas == 1


@pytest.mark.parametrize("version", ["1.27", "1.33"])  # 1.27 writes autoscaling/v1, 1.33 v2
def test_kubectl_autoscale_creates_an_hpa_that_reports_usage(server, client, ns, version):
    core, apps = kubernetes.client.CoreV1Api(client), kubernetes.client.AppsV1Api(client)
    make_node(core, f"n-{ns}")
    deployment(apps, ns, replicas=1)
    make_pod(core, ns, "web-1", f"n-{ns}", labels={"app": "web"}, requests={"cpu": "100m"},
             annotations={"vapi.dev/cpu-usage": "45m"})
    run_kubectl(server.kubeconfig, "autoscale", "deployment", "web", "-n", ns, "--cpu-percent=50", "--min=1",
                "--max=5", version=version)
    got = wait_for(lambda: "45%/50%" in (out := run_kubectl(server.kubeconfig, "get", "hpa", "web", "-n", ns,
                                                             version=version).stdout) and out)
    assert got and "Deployment/web" in got, got
    # Within the tolerance (0.9 of the target): no rescale.
    assert apps.read_namespaced_deployment_scale("web", ns).spec.replicas == 1
    described = run_kubectl(server.kubeconfig, "describe", "hpa", "web", "-n", ns).stdout
    assert "ValidMetricFound" in described and "45% (45m) / 50%" in described
    v1 = kubernetes.client.AutoscalingV1Api(client).read_namespaced_horizontal_pod_autoscaler_status("web", ns)
    assert (v1.spec.target_cpu_utilization_percentage, v1.status.current_cpu_utilization_percentage) == (50, 45)


def test_v1_clients_read_and_write_the_stored_v2_object_without_losing_what_v1_cannot_say(server, client, ns):
    v1, v2 = kubernetes.client.AutoscalingV1Api(client), kubernetes.client.AutoscalingV2Api(client)
    v2.create_namespaced_horizontal_pod_autoscaler(ns, hpa(ns, behavior={"scaleDown": {
        "stabilizationWindowSeconds": 7}}))
    for _ in range(20):  # the controller writes status meanwhile: read-modify-write until it holds
        old = v1.read_namespaced_horizontal_pod_autoscaler("web", ns)
        assert old.spec.target_cpu_utilization_percentage == 50
        assert "autoscaling.alpha.kubernetes.io/behavior" in old.metadata.annotations
        old.spec.max_replicas = 9
        try:
            v1.replace_namespaced_horizontal_pod_autoscaler("web", ns, old)
            break
        except kubernetes.client.ApiException as e:
            assert e.status == 409
    now = v2.read_namespaced_horizontal_pod_autoscaler("web", ns)
    assert now.spec.max_replicas == 9 and now.spec.behavior.scale_down.stabilization_window_seconds == 7
    assert not (now.metadata.annotations or {})
    assert now.spec.metrics[0].resource.target.average_utilization == 50


def test_an_hpa_whose_target_is_missing_or_unmeasurable_says_why(server, client, ns):
    core, apps = kubernetes.client.CoreV1Api(client), kubernetes.client.AppsV1Api(client)
    auto = kubernetes.client.AutoscalingV2Api(client)
    auto.create_namespaced_horizontal_pod_autoscaler(ns, hpa(ns))
    assert wait_for(lambda: "AbleToScale" in conditions(auto, ns))
    assert conditions(auto, ns)["AbleToScale"] == (
        "False", "FailedGetScale",
        'the HPA controller was unable to get the target\'s current scale: deployments/scale.apps "web" not found')
    assert wait_for(lambda: ("Warning", "FailedGetScale", 'deployments/scale.apps "web" not found',
                             "horizontal-pod-autoscaler") in events(core, ns))

    make_node(core, f"n-{ns}")
    deployment(apps, ns)
    make_pod(core, ns, "web-1", f"n-{ns}", labels={"app": "web"})  # requests nothing
    assert wait_for(lambda: conditions(auto, ns).get("ScalingActive", ("",))[0] == "False")
    assert conditions(auto, ns)["ScalingActive"] == (
        "False", "FailedGetResourceMetric",
        "the HPA was unable to compute the replica count: missing request for cpu in container c of Pod web-1")
    assert wait_for(lambda: ("Warning", "FailedComputeMetricsReplicas",
                             "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric "
                             "value: failed to get cpu utilization: missing request for cpu in container c of Pod web-1",
                             "horizontal-pod-autoscaler") in events(core, ns))
    assert apps.read_namespaced_deployment_scale("web", ns).spec.replicas == 2


# --- the algorithm on its own ---------------------------------------------------------------------

def _pod(name, ready=True, phase="Running", cpu="100m"):
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def _usage(name, cpu):
    return {"metadata": {"name": name}, "containers": [{"name": "c", "usage": {"cpu": cpu}}]}


def test_replicas_follow_kubes_ratio_tolerance_and_unready_rules():
    pods = [_pod("a"), _pod("b")]
    calc = lambda pods, usage, **target: autoscaling.resource_replicas(  # noqa: E731
        2, pods, usage, "cpu", tolerance=0.1, **({"utilization": 50, "average_value": None} | target))
    assert calc(pods, [_usage("a", "90m"), _usage("b", "90m")]).replicas == 4        # ceil(1.8 × 2)
    assert calc(pods, [_usage("a", "54m"), _usage("b", "54m")]).replicas == 2        # within 10%
    assert calc(pods, [_usage("a", "10m"), _usage("b", "10m")]).replicas == 1
    measured = calc(pods, [_usage("a", "80m"), _usage("b", "40m")], utilization=None, average_value=20)
    assert (measured.replicas, measured.average) == (6, 60)                           # 60m against 20m
    # An unready pod counts as idle on the way up: (90 + 0) / 200 = 45% → no change.
    assert calc([_pod("a"), _pod("b", ready=False)], [_usage("a", "90m"), _usage("b", "90m")]).replicas == 2
    # A pod without metrics counts as at its request on the way down.
    assert calc(pods, [_usage("a", "10m")]).replicas == 2
    with pytest.raises(autoscaling.MetricError, match="no pods returned by selector"):
        calc([], [])
    # ContainerResource: only the named container's request and usage count.
    two = {"metadata": {"name": "a"}, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
           "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "100m"}}},
                                   {"name": "side", "resources": {}}]}}
    used = {"metadata": {"name": "a"}, "containers": [{"name": "app", "usage": {"cpu": "100m"}},
                                                      {"name": "side", "usage": {"cpu": "900m"}}]}
    measured = calc([two], [used], container="app")
    assert (measured.replicas, measured.utilization) == (2, 100)  # ceil(100/50 × 1 pod)


def test_behavior_windows_and_policies_limit_changes():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    history = autoscaling.History()
    up, down = autoscaling.behavior_rules({"behavior": {"scaleUp": {
        "stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [{"type": "Pods", "value": 2,
                                                                             "periodSeconds": 60}]},
        "scaleDown": {"stabilizationWindowSeconds": 30, "selectPolicy": "Max", "policies": [
            {"type": "Percent", "value": 50, "periodSeconds": 60}]}}}, 300)
    replicas, able, limited = autoscaling.normalize(history, 2, 10, 1, 20, up, down, now)
    assert replicas == 4 and limited[:2] == (True, "ScaleUpLimit") and able[0] == "ReadyForNewScale"
    autoscaling.record_scale(history, 2, 4, up, down, now)
    # Within the same minute the Pods policy has nothing left to give.
    replicas, _, limited = autoscaling.normalize(history, 4, 10, 1, 20, up, down, now + dt.timedelta(seconds=10))
    assert replicas == 4 and limited[1] == "ScaleUpLimit"
    # Down: the 30 s window remembers the recommendations of 10 above.
    replicas, able, _ = autoscaling.normalize(history, 4, 1, 1, 20, up, down, now + dt.timedelta(seconds=20))
    assert replicas == 4 and able[0] == "ScaleDownStabilized"
    replicas, _, limited = autoscaling.normalize(history, 4, 1, 1, 20, up, down, now + dt.timedelta(seconds=45))
    assert replicas == 2 and limited[1] == "ScaleDownLimit"  # at most half of 4 in a minute
    # Without a behavior: max(2 × current, 4) up, and the server's downscale window.
    up, down = autoscaling.behavior_rules({}, 300)
    replicas, _, limited = autoscaling.normalize(autoscaling.History(), 1, 9, 1, 20, up, down, now)
    assert replicas == 4 and limited[1] == "ScaleUpLimit"
