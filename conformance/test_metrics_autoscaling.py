"""The resource metrics API and the HorizontalPodAutoscaler, as a cluster with metrics-server
answers them: discovery, the APIService, reads and refusals, and an HPA's conditions."""
from __future__ import annotations

import json
import time

import kubernetes

from .helpers import assert_status, raw

METRICS = "/apis/metrics.k8s.io/v1beta1"


def test_metrics_api_is_discovered_and_its_apiservice_available(kubectl):
    out = kubectl("api-resources", "--api-group=metrics.k8s.io", "--no-headers").stdout
    assert sorted(line.split()[0] for line in out.splitlines()) == ["nodes", "pods"]
    service = json.loads(kubectl("get", "apiservice", "v1beta1.metrics.k8s.io", "-o", "json").stdout)
    assert any(c["type"] == "Available" and c["status"] == "True" for c in service["status"]["conditions"])


def test_node_and_pod_metrics_lists_answer(kubectl, namespace):
    nodes = json.loads(kubectl("get", "--raw", f"{METRICS}/nodes").stdout)
    assert nodes["kind"] == "NodeMetricsList" and nodes["apiVersion"] == "metrics.k8s.io/v1beta1"
    for item in nodes["items"]:
        assert {"cpu", "memory"} <= set(item["usage"]) and item["window"] and item["timestamp"]
    pods = json.loads(kubectl("get", "--raw", f"{METRICS}/namespaces/{namespace}/pods").stdout)
    assert pods["kind"] == "PodMetricsList" and pods["items"] == []


def test_metrics_of_a_missing_pod_are_not_found_in_metrics_servers_words(api_client, namespace):
    status, body = raw(api_client, "GET", f"{METRICS}/namespaces/{namespace}/pods/nope")
    assert_status(status, body, 404, "NotFound")
    assert body["message"] == f'pods "{namespace}/nope" not found'


def test_metrics_are_read_only(api_client, namespace):
    status, body = raw(api_client, "POST", f"{METRICS}/namespaces/{namespace}/pods",
                       json.dumps({"metadata": {"name": "x"}}))
    assert_status(status, body, 405, "MethodNotAllowed")


def test_scale_of_a_missing_deployment_names_the_subresource(api_client, namespace):
    status, body = raw(api_client, "GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/nope/scale")
    assert_status(status, body, 404, "NotFound")
    assert body["message"] == 'deployments/scale.apps "nope" not found'


def test_hpa_without_a_target_reports_failed_get_scale(api_client, namespace):
    auto = kubernetes.client.AutoscalingV2Api(api_client)
    auto.create_namespaced_horizontal_pod_autoscaler(namespace, {
        "metadata": {"name": "web"}, "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 3}})
    hpa = auto.read_namespaced_horizontal_pod_autoscaler("web", namespace)
    assert hpa.spec.min_replicas == 1  # defaulted, as is the 80% cpu target
    assert hpa.spec.metrics[0].resource.target.average_utilization == 80
    deadline = time.monotonic() + 45  # kube looks every 15 s
    conditions = {}
    while time.monotonic() < deadline and "AbleToScale" not in conditions:
        status = auto.read_namespaced_horizontal_pod_autoscaler_status("web", namespace).status
        conditions = {c.type: c for c in (status and status.conditions) or []}
        time.sleep(0.5)
    able = conditions["AbleToScale"]
    assert (able.status, able.reason) == ("False", "FailedGetScale")
    assert able.message == ("the HPA controller was unable to get the target's current scale: "
                            'deployments/scale.apps "web" not found')
    # The same object read as autoscaling/v1 (what kubectl before 1.33 writes).
    v1 = kubernetes.client.AutoscalingV1Api(api_client).read_namespaced_horizontal_pod_autoscaler("web", namespace)
    assert v1.spec.target_cpu_utilization_percentage == 80 and v1.spec.max_replicas == 3
