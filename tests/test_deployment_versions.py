"""What the workload controllers write depends on the served release: the ScalingReplicaSet
wording changed in 1.31, and terminatingReplicas is counted from 1.34 (when its feature is on by
default in kube)."""
from __future__ import annotations

import json

from conformance.helpers import eventually
from vapi.testing import ServerProcess, run_kubectl


def _run(tmp_path, version):
    with ServerProcess(tmp_path / version, extra_args=("--kubernetes-version", version)) as server:
        run_kubectl(server.kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=2")

        def scaled():
            events = json.loads(run_kubectl(server.kubeconfig, "get", "events", "-o", "json").stdout)["items"]
            return [e["message"] for e in events if e["reason"] == "ScalingReplicaSet"]
        messages = eventually(scaled, 20)
        rs = json.loads(run_kubectl(server.kubeconfig, "get", "rs", "-o", "json").stdout)["items"][0]
        eventually(lambda: json.loads(run_kubectl(server.kubeconfig, "get", "deploy", "web", "-o", "json").stdout)
                   ["status"].get("replicas") == 2, 20)
        d = json.loads(run_kubectl(server.kubeconfig, "get", "deploy", "web", "-o", "json").stdout)
        rs = json.loads(run_kubectl(server.kubeconfig, "get", "rs", rs["metadata"]["name"], "-o", "json").stdout)
        return messages, rs, d


def test_a_127_server_words_scaling_as_kube_127_and_counts_no_terminating(tmp_path):
    messages, rs, d = _run(tmp_path, "1.27")
    assert messages == [f"Scaled up replica set {rs['metadata']['name']} to 2"]
    assert "terminatingReplicas" not in rs["status"] and "terminatingReplicas" not in d["status"]


def test_a_134_server_counts_terminating_replicas(tmp_path):
    messages, rs, d = _run(tmp_path, "1.34")
    assert messages == [f"Scaled up replica set {rs['metadata']['name']} from 0 to 2"]
    assert rs["status"]["terminatingReplicas"] == 0 and d["status"]["terminatingReplicas"] == 0
