"""metrics.k8s.io served by vapi itself: `kubectl top` and the raw API over simulated usage.

The tests play kubelet: they create Ready Nodes and write pods' Running status through
`pods/status`, as a kubelet would.
"""
from __future__ import annotations

import json
import re
import uuid

import kubernetes
import pytest

from admission.quantity import Quantity
from vapi.testing import ServerProcess, run_kubectl

from playing_kubelet import make_node, make_pod


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("metrics")) as server:
        yield server


@pytest.fixture(scope="module")
def core(server):
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(server.kubeconfig)))


@pytest.fixture
def ns(core):
    name = f"m-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    return name


def rows(output: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_top_shows_annotated_usage_of_running_pods_and_their_node(server, core, ns, version):
    node = f"n-{ns}"
    make_node(core, node)
    make_pod(core, ns, "busy", node, annotations={"vapi.dev/cpu-usage": "250m", "vapi.dev/memory-usage": "64Mi"})
    make_pod(core, ns, "pending", node, annotations={"vapi.dev/cpu-usage": "1"}, running=False)
    top = run_kubectl(server.kubeconfig, "top", "pods", "-n", ns, version=version).stdout
    assert rows(top) == [["NAME", "CPU(cores)", "MEMORY(bytes)"], ["busy", "250m", "64Mi"]]
    top = run_kubectl(server.kubeconfig, "top", "pod", "busy", "-n", ns, "--containers", version=version).stdout
    assert rows(top)[1] == ["busy", "c", "250m", "64Mi"]
    # The node: its pods and the system's overhead (50m, 128Mi) against its allocatable.
    top = run_kubectl(server.kubeconfig, "top", "node", node, version=version).stdout
    assert rows(top)[1] == [node, "300m", "7%", "192Mi", "2%"]


def test_per_container_annotation_wins_over_the_pod_wide_one(server, core, ns):
    make_node(core, f"n-{ns}")
    make_pod(core, ns, "two", f"n-{ns}", containers=("app", "sidecar"),
             annotations={"vapi.dev/cpu-usage": "100m", "vapi.dev/cpu-usage.sidecar": "5m"})
    top = run_kubectl(server.kubeconfig, "top", "pod", "two", "-n", ns, "--containers").stdout
    assert [r[1:3] for r in rows(top)[1:]] == [["app", "100m"], ["sidecar", "5m"]]
    # metrics-server's Table: usage summed over the containers, and the window.
    table = run_kubectl(server.kubeconfig, "get", "podmetrics", "two", "-n", ns).stdout
    assert rows(table) == [["NAME", "CPU", "MEMORY", "WINDOW"], ["two", "105m", rows(table)[1][2], "15s"]]


def test_default_usage_is_a_steady_share_of_requests(server, core, ns):
    make_node(core, f"n-{ns}")
    make_pod(core, ns, "quiet", f"n-{ns}", requests={"cpu": "200m", "memory": "100Mi"})
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/quiet"
    first = json.loads(run_kubectl(server.kubeconfig, "get", "--raw", path).stdout)
    again = json.loads(run_kubectl(server.kubeconfig, "get", "--raw", path).stdout)
    assert first["containers"] == again["containers"]
    usage = first["containers"][0]["usage"]
    assert 19 <= Quantity.parse(usage["cpu"]).value * 1000 <= 21, usage  # 10% of the request, ±5% jitter
    assert 50 * 2 ** 20 * 0.95 <= Quantity.parse(usage["memory"]).value <= 50 * 2 ** 20 * 1.05, usage
    assert first["kind"] == "PodMetrics" and first["apiVersion"] == "metrics.k8s.io/v1beta1"
    assert first["window"] == "15s" and first["timestamp"]
    assert first["metadata"]["labels"] == {"app": "quiet"} and first["metadata"]["namespace"] == ns


def test_lists_follow_label_selectors_and_namespaces(server, core, ns):
    make_node(core, f"n-{ns}")
    make_pod(core, ns, "a", f"n-{ns}", labels={"tier": "front"})
    make_pod(core, ns, "b", f"n-{ns}", labels={"tier": "back"})
    top = run_kubectl(server.kubeconfig, "top", "pods", "-n", ns, "-l", "tier=front").stdout
    assert [r[0] for r in rows(top)[1:]] == ["a"]
    listed = json.loads(run_kubectl(server.kubeconfig, "get", "--raw", "/apis/metrics.k8s.io/v1beta1/pods").stdout)
    assert {("a", ns), ("b", ns)} <= {(i["metadata"]["name"], i["metadata"]["namespace"]) for i in listed["items"]}
    assert listed["kind"] == "PodMetricsList"


def test_objects_without_metrics_are_not_found_in_metrics_servers_words(server, core, ns):
    make_node(core, f"n-{ns}")
    make_node(core, f"down-{ns}", ready="False")
    make_pod(core, ns, "waiting", f"n-{ns}", running=False)
    base = "/apis/metrics.k8s.io/v1beta1"
    cases = [(f"{base}/namespaces/{ns}/pods/waiting", f'podmetrics.metrics.k8s.io "{ns}/waiting" not found'),
             (f"{base}/namespaces/{ns}/pods/gone", f'pods "{ns}/gone" not found'),
             (f"{base}/nodes/down-{ns}", f'nodemetrics.metrics.k8s.io "down-{ns}" not found'),
             (f"{base}/nodes/gone-{ns}", f'nodes "gone-{ns}" not found')]
    for path, message in cases:
        got = run_kubectl(server.kubeconfig, "get", "--raw", path, check=False)
        assert got.returncode != 0 and f"Error from server (NotFound): {message}" in got.stderr, got.stderr
    nodes = json.loads(run_kubectl(server.kubeconfig, "get", "--raw", f"{base}/nodes").stdout)
    assert f"down-{ns}" not in [i["metadata"]["name"] for i in nodes["items"]]
    assert f"n-{ns}" in [i["metadata"]["name"] for i in nodes["items"]]


def test_the_api_is_discovered_read_only_and_its_apiservice_available(server, core, ns):
    out = run_kubectl(server.kubeconfig, "api-resources", "--api-group=metrics.k8s.io", "-o", "wide").stdout
    assert [r[0] for r in rows(out)[1:]] == ["nodes", "pods"]
    assert all("get,list" in r for r in rows(out)[1:]), out
    service = json.loads(run_kubectl(server.kubeconfig, "get", "apiservice", "v1beta1.metrics.k8s.io",
                                     "-o", "json").stdout)
    available = [c for c in service["status"]["conditions"] if c["type"] == "Available"]
    assert available[0]["status"] == "True" and available[0]["reason"] == "Local"
    created = run_kubectl(server.kubeconfig, "create", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods",
                          "-f", "-", input='{"metadata":{"name":"x"}}', check=False)
    assert "MethodNotAllowed" in created.stderr or "method not allowed" in created.stderr.lower(), created.stderr


def test_view_role_reads_pod_metrics_through_the_aggregated_reader(server, core, ns):
    rbac = kubernetes.client.RbacAuthorizationV1Api(core.api_client)
    rbac.create_namespaced_role_binding(ns, {"metadata": {"name": "jane-view"}, "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}]})
    make_node(core, f"n-{ns}")
    make_pod(core, ns, "seen", f"n-{ns}", annotations={"vapi.dev/cpu-usage": "42m"})
    top = run_kubectl(server.kubeconfig, "top", "pods", "-n", ns, "--as=jane").stdout
    assert rows(top)[1][:2] == ["seen", "42m"]
    denied = run_kubectl(server.kubeconfig, "top", "nodes", "--as=jane", check=False)
    assert denied.returncode != 0 and "forbidden" in denied.stderr
