"""The story of the issue, told with real kubectl against `vapi serve --nodes 3`: the scheduler
places pods across the simulated nodes, their kubelets run them, and kubectl's workload and
streaming commands work on what they run."""
from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from vapi.testing import ServerProcess, kubectl_path, run_kubectl

VERSIONS = ("1.27", "1.33")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("story"), extra_args=("--nodes", "3")) as s:
        yield s


def until(what, check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"never: {what}")


def pods(kubectl, namespace, selector):
    items = json.loads(kubectl("-n", namespace, "get", "pods", "-l", selector, "-o", "json").stdout)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_deployment_runs_and_streams_on_simulated_nodes(server, version, tmp_path):
    def kubectl(*args, **kw):
        return run_kubectl(server.kubeconfig, *args, version=version, cache_dir=tmp_path / "cache", **kw)
    ns = f"story-{version.replace('.', '')}"
    kubectl("create", "namespace", ns)
    kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=3")
    kubectl("-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")
    running = pods(kubectl, ns, "app=web")
    assert len(running) == 3 and all(p["status"]["phase"] == "Running" for p in running)
    assert all(p["spec"]["nodeName"].startswith("vapi-node-") and p["status"]["podIP"] for p in running)
    # Spread by the scheduler's scores over the three nodes.
    assert len({p["spec"]["nodeName"] for p in running}) == 3
    described = kubectl("-n", ns, "describe", "pod", running[0]["metadata"]["name"]).stdout
    assert "Successfully assigned" in described and "Started container nginx" in described

    kubectl("-n", ns, "set", "image", "deployment/web", "nginx=nginx:1.27")
    kubectl("-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")
    kubectl("-n", ns, "rollout", "undo", "deployment/web")
    kubectl("-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")
    images = {p["spec"]["containers"][0]["image"] for p in pods(kubectl, ns, "app=web")}
    assert images == {"nginx"}
    kubectl("-n", ns, "scale", "deployment/web", "--replicas=1")
    until("one pod left", lambda: len(pods(kubectl, ns, "app=web")) == 1)

    echoed = kubectl("-n", ns, "exec", "-i", "deploy/web", "--", "cat", input="through the kubelet\n").stdout
    assert echoed == "through the kubelet\n"
    failed = kubectl("-n", ns, "exec", "deploy/web", "--", "sh", "-c", "exit 3", check=False)
    assert failed.returncode == 3 and "command terminated with exit code 3" in failed.stderr

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    forward = subprocess.Popen([kubectl_path(version), f"--kubeconfig={server.kubeconfig}", "-n", ns,
                                "port-forward", "deploy/web", f"{port}:80"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert forward.stdout.readline() == f"Forwarding from 127.0.0.1:{port} -> 80\n"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"ping")
            assert conn.recv(16) == b"ping"
    finally:
        forward.terminate()
        forward.wait(10)
    kubectl("delete", "namespace", ns, "--wait=true", "--timeout=60s")


def test_a_job_logs_and_completes(server, tmp_path):
    def kubectl(*args, **kw):
        return run_kubectl(server.kubeconfig, *args, cache_dir=tmp_path / "cache", **kw)
    kubectl("create", "job", "hello", "--image=busybox", "--", "sh", "-c", "echo hello from the job")
    kubectl("wait", "--for=condition=complete", "job/hello", "--timeout=60s")
    assert kubectl("logs", "job/hello").stdout == "hello from the job\n"
    kubectl("create", "job", "failing", "--image=busybox", "--", "sh", "-c", "echo no; exit 2")
    kubectl("patch", "job", "failing", "--type=merge", "-p", '{"spec": {"backoffLimit": 0}}')
    kubectl("wait", "--for=condition=failed", "job/failing", "--timeout=60s")
    job = json.loads(kubectl("get", "job", "failing", "-o", "json").stdout)
    assert any(c["type"] == "Failed" and c["reason"] == "BackoffLimitExceeded" for c in job["status"]["conditions"])


def test_the_scheduler_places_by_selector_affinity_and_taints(server, tmp_path):
    def kubectl(*args, **kw):
        return run_kubectl(server.kubeconfig, *args, cache_dir=tmp_path / "cache", **kw)
    kubectl("create", "namespace", "placement")

    def pod(name, **spec):
        manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}
        kubectl("-n", "placement", "apply", "-f", "-", input=json.dumps(manifest))

    def node_of(name):
        return until(f"{name} bound", lambda: json.loads(kubectl("-n", "placement", "get", "pod", name, "-o",
                                                                 "json").stdout)["spec"].get("nodeName"))
    zones = {n["metadata"]["name"]: n["metadata"]["labels"]["topology.kubernetes.io/zone"]
             for n in json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]}
    assert sorted(zones) == ["vapi-node-0", "vapi-node-1", "vapi-node-2"]
    pod("selected", nodeSelector={"topology.kubernetes.io/zone": zones["vapi-node-1"]})
    assert node_of("selected") == "vapi-node-1"
    pod("affine", affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn",
                                                     "values": ["vapi-node-0", "vapi-node-1"]}]}]}}})
    assert node_of("affine") == "vapi-node-2"
    kubectl("taint", "nodes", "vapi-node-2", "dedicated=db:NoSchedule")
    pod("tolerant", nodeSelector={"kubernetes.io/hostname": "vapi-node-2"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}])
    assert node_of("tolerant") == "vapi-node-2"
    pod("intolerant", nodeSelector={"kubernetes.io/hostname": "vapi-node-2"})

    def refused():
        status = json.loads(kubectl("-n", "placement", "get", "pod", "intolerant", "-o", "json").stdout)["status"]
        return next((c for c in status.get("conditions") or [] if c["type"] == "PodScheduled"), None)
    condition = until("the scheduler's verdict", refused)
    assert condition["reason"] == "Unschedulable"
    assert condition["message"].startswith(
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, "
        "2 node(s) didn't match Pod's node affinity/selector.")
    kubectl("taint", "nodes", "vapi-node-2", "dedicated-")
    assert node_of("intolerant") == "vapi-node-2"
    until("every placed pod Running", lambda: all(
        p["status"].get("phase") == "Running" for p in pods(kubectl, "placement", "")))
