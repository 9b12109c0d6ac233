"""Endpoints beyond what the conformance cases cover: the `kubernetes` Service follows the port
the server binds at each start, and a Service selecting more than 100 pods has its endpoints
spread over slices of at most 100, the Endpoints object holding them all."""
from __future__ import annotations

import json

import kubernetes
import pytest

from conformance.helpers import eventually
from conformance.kubelet import run_pod
from vapi.testing import ServerProcess, run_kubectl


@pytest.fixture
def server(tmp_path):
    proc = ServerProcess(tmp_path / "data")
    proc.start()
    yield proc
    proc.stop()


def client(server):
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig)))


def kubernetes_ports(server) -> tuple[int, int, int]:
    core = client(server)
    try:
        target = core.read_namespaced_service("kubernetes", "default").spec.ports[0].target_port
        endpoints = core.read_namespaced_endpoints("kubernetes", "default").subsets[0].ports[0].port
        slice_ = kubernetes.client.DiscoveryV1Api(core.api_client).read_namespaced_endpoint_slice("kubernetes",
                                                                                                   "default")
        return target, endpoints, slice_.ports[0].port
    finally:
        core.api_client.close()


def test_the_kubernetes_service_follows_the_port_of_each_start(server):
    first = server.port
    assert kubernetes_ports(server) == (first, first, first)
    server.stop()
    server.port = None   # a free port this time, as `--port 0` gives
    server.start()
    assert server.port != first
    assert kubernetes_ports(server) == (server.port, server.port, server.port)


def test_more_than_a_hundred_pods_fill_several_slices(server):
    core = client(server)
    try:
        core.create_namespace({"metadata": {"name": "many"}})
        core.create_namespaced_service("many", {"metadata": {"name": "web"},
                                                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        for i in range(105):
            run_pod(core, "many", f"web-{i}", {"app": "web"}, f"10.244.{i // 200}.{i % 200 + 1}")

        def slices():
            out = run_kubectl(server.kubeconfig, "get", "endpointslices", "-n", "many",
                              "-l", "kubernetes.io/service-name=web", "-o", "json")
            items = json.loads(out.stdout)["items"]
            return items if sum(len(s.get("endpoints") or []) for s in items) == 105 else None
        items = eventually(slices, timeout=60)
        assert items, "the slices never held every pod"
        assert sorted(len(s["endpoints"]) for s in items) == [5, 100]
        addresses = {a for s in items for e in s["endpoints"] for a in e["addresses"]}
        assert len(addresses) == 105
        endpoints = core.read_namespaced_endpoints("web", "many")
        assert sum(len(s.addresses or []) for s in endpoints.subsets) == 105
    finally:
        core.api_client.close()
