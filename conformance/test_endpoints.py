"""Endpoints and EndpointSlices, as kube's endpoint and endpointslice controllers and the
apiserver's own `kubernetes` Service keep them (upstream: "EndpointSlice API should create and
delete Endpoints and EndpointSlices for a Service with a selector specified", "should have
Endpoints and EndpointSlices pointing to API Server", "Service endpoints latency").

Tests play kubelet: pods are bound at create and their status (IP, Ready) is written through
`pods/status`."""
from __future__ import annotations

import json

import kubernetes
import pytest

from .helpers import eventually
from .kubelet import report, run_pod

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


# Pods here are bound to node-a and reported by the cases themselves.
pytestmark = pytest.mark.usefixtures("node_a")


@pytest.fixture
def discovery(api_client):  # noqa: F811
    return kubernetes.client.DiscoveryV1Api(api_client)


def slices(kubectl, namespace, service):  # noqa: F811
    out = kubectl("get", "endpointslices", "-n", namespace, "-l", f"{SERVICE_NAME}={service}", "-o", "json")
    return json.loads(out.stdout)["items"]


def ready_ips(items) -> set[str]:
    return {a for s in items for e in s.get("endpoints") or [] if e["conditions"]["ready"] for a in e["addresses"]}


def all_ips(items) -> set[str]:
    return {a for s in items for e in s.get("endpoints") or [] for a in e["addresses"]}


def web_service(core, namespace, **spec):  # noqa: F811
    body = {"metadata": {"name": "web", "labels": {"tier": "front"}},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}], **spec}}
    return core.create_namespaced_service(namespace, body)


HTTP = [{"name": "http", "containerPort": 8080}]


def test_the_kubernetes_service_leads_to_the_api_server(core, discovery, cluster):  # noqa: F811
    svc = core.read_namespaced_service("kubernetes", "default")
    assert [(p.name, p.port, p.protocol) for p in svc.spec.ports] == [("https", 443, "TCP")]
    assert svc.spec.selector is None
    endpoints = core.read_namespaced_endpoints("kubernetes", "default")
    assert endpoints.metadata.labels == {"endpointslice.kubernetes.io/skip-mirror": "true"}
    [subset] = endpoints.subsets
    assert [(p.name, p.protocol) for p in subset.ports] == [("https", "TCP")]
    eps = discovery.read_namespaced_endpoint_slice("kubernetes", "default")
    assert eps.metadata.labels[SERVICE_NAME] == "kubernetes"
    assert MANAGED_BY not in eps.metadata.labels
    assert eps.address_type == "IPv4" and eps.endpoints[0].conditions.ready is True
    assert eps.endpoints[0].addresses == [a.ip for a in subset.addresses]
    assert [(p.name, p.port) for p in eps.ports] == [(p.name, p.port) for p in subset.ports]
    server = cluster[1]
    if server is not None:  # our own server: its bound port, reached on the loopback address
        assert svc.spec.cluster_ip == "10.96.0.1"
        assert svc.spec.ports[0].target_port == server.port
        assert subset.ports[0].port == server.port
        assert [a.ip for a in subset.addresses] == ["127.0.0.1"]


def test_endpointslice_lists_the_ready_pods_a_selector_picks_and_follows_scaling(core, kubectl, namespace):  # noqa: F811
    svc = web_service(core, namespace)
    run_pod(core, namespace, "web-1", {"app": "web"}, "10.244.0.11", ports=HTTP)
    run_pod(core, namespace, "web-2", {"app": "web"}, "10.244.0.12", ports=HTTP)
    run_pod(core, namespace, "web-3", {"app": "web"}, "10.244.0.13", ports=HTTP, ready=False)
    run_pod(core, namespace, "other", {"app": "db"}, "10.244.0.14", ports=HTTP)
    items = eventually(lambda: (s := slices(kubectl, namespace, "web")) and len(all_ips(s)) == 3 and s)
    assert ready_ips(items) == {"10.244.0.11", "10.244.0.12"}
    [eps] = items
    meta = eps["metadata"]
    assert meta["name"].startswith("web-") and len(meta["name"]) == len("web-") + 5
    assert meta["labels"] == {SERVICE_NAME: "web", MANAGED_BY: "endpointslice-controller.k8s.io", "tier": "front"}
    assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "Service", "name": "web",
                                        "uid": svc.metadata.uid, "controller": True, "blockOwnerDeletion": True}]
    assert eps["addressType"] == "IPv4"
    assert eps["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
    by_ip = {e["addresses"][0]: e for e in eps["endpoints"]}
    assert by_ip["10.244.0.13"]["conditions"] == {"ready": False, "serving": False, "terminating": False}
    assert by_ip["10.244.0.11"]["conditions"] == {"ready": True, "serving": True, "terminating": False}
    assert by_ip["10.244.0.11"]["nodeName"] == "node-a"
    assert by_ip["10.244.0.11"]["targetRef"]["kind"] == "Pod"
    assert by_ip["10.244.0.11"]["targetRef"]["name"] == "web-1"

    # Scaling up, a pod turning ready, scaling down.
    run_pod(core, namespace, "web-4", {"app": "web"}, "10.244.0.15", ports=HTTP)
    report(core, namespace, "web-3", "10.244.0.13", ready=True)
    core.delete_namespaced_pod("web-1", namespace)
    want = {"10.244.0.12", "10.244.0.13", "10.244.0.15"}
    items = eventually(lambda: (s := slices(kubectl, namespace, "web")) and ready_ips(s) == want
                       and all_ips(s) == want and s)
    assert ready_ips(items) == want and len(items) == 1

    # The Endpoints object says the same.
    endpoints = core.read_namespaced_endpoints("web", namespace)
    assert endpoints.metadata.labels == {"tier": "front"}
    assert "endpoints.kubernetes.io/last-change-trigger-time" in endpoints.metadata.annotations
    [subset] = endpoints.subsets
    assert sorted(a.ip for a in subset.addresses) == sorted(want)
    assert not subset.not_ready_addresses
    assert [(p.name, p.port, p.protocol) for p in subset.ports] == [(None, 8080, "TCP")]


def test_endpoints_keep_not_ready_pods_apart(core, namespace):  # noqa: F811
    web_service(core, namespace)
    run_pod(core, namespace, "web-1", {"app": "web"}, "10.244.1.11", ports=HTTP)
    run_pod(core, namespace, "web-2", {"app": "web"}, "10.244.1.12", ports=HTTP, ready=False)

    def subsets():
        try:
            found = core.read_namespaced_endpoints("web", namespace).subsets or []
        except kubernetes.client.ApiException:
            return None
        return found if sum(len(s.addresses or []) + len(s.not_ready_addresses or []) for s in found) == 2 else None
    [subset] = eventually(subsets)
    assert [a.ip for a in subset.addresses] == ["10.244.1.11"]
    assert [a.ip for a in subset.not_ready_addresses] == ["10.244.1.12"]
    assert subset.addresses[0].target_ref.name == "web-1" and subset.addresses[0].node_name == "node-a"


def test_publish_not_ready_addresses_marks_every_endpoint_ready(core, kubectl, namespace):  # noqa: F811
    web_service(core, namespace, publishNotReadyAddresses=True)
    run_pod(core, namespace, "web-1", {"app": "web"}, "10.244.2.11", ports=HTTP, ready=False)
    items = eventually(lambda: (s := slices(kubectl, namespace, "web")) and all_ips(s) and s)
    [endpoint] = items[0]["endpoints"]
    assert endpoint["conditions"] == {"ready": True, "serving": False, "terminating": False}


def test_a_service_selecting_nothing_has_one_empty_slice_and_endpoints_gone_with_it(core, kubectl, namespace):  # noqa: F811
    web_service(core, namespace)
    [eps] = eventually(lambda: slices(kubectl, namespace, "web"))
    assert not eps.get("endpoints") and not eps.get("ports")
    endpoints = eventually(lambda: [e for e in core.list_namespaced_endpoints(namespace).items
                                    if e.metadata.name == "web"])
    assert not endpoints[0].subsets
    core.delete_namespaced_service("web", namespace)
    assert eventually(lambda: not core.list_namespaced_endpoints(namespace).items
                      and not slices(kubectl, namespace, "web"))


def test_endpoints_of_a_service_without_selector_are_mirrored_into_slices(core, kubectl, namespace):  # noqa: F811
    core.create_namespaced_service(namespace, {"metadata": {"name": "ext"}, "spec": {"ports": [{"port": 80}]}})
    core.create_namespaced_endpoints(namespace, {
        "metadata": {"name": "ext", "labels": {"team": "a"}},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "notReadyAddresses": [{"ip": "192.0.2.11"}],
                     "ports": [{"name": "http", "port": 8080}]}]})
    [eps] = eventually(lambda: slices(kubectl, namespace, "ext"))
    endpoints = core.read_namespaced_endpoints("ext", namespace)
    assert eps["metadata"]["labels"] == {"team": "a", SERVICE_NAME: "ext",
                                         MANAGED_BY: "endpointslicemirroring-controller.k8s.io"}
    assert eps["metadata"]["ownerReferences"][0]["kind"] == "Endpoints"
    assert eps["metadata"]["ownerReferences"][0]["uid"] == endpoints.metadata.uid
    assert eps["addressType"] == "IPv4"
    assert eps["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert sorted((e["addresses"][0], e["conditions"]["ready"]) for e in eps["endpoints"]) == [
        ("192.0.2.10", True), ("192.0.2.11", False)]

    core.patch_namespaced_endpoints("ext", namespace, {"subsets": [{"addresses": [{"ip": "192.0.2.12"}],
                                                                    "ports": [{"name": "http", "port": 8080}]}]})
    assert eventually(lambda: all_ips(slices(kubectl, namespace, "ext")) == {"192.0.2.12"})
    core.delete_namespaced_endpoints("ext", namespace)
    assert eventually(lambda: not slices(kubectl, namespace, "ext"))


def test_a_service_without_selector_keeps_its_users_endpoints(core, kubectl, namespace):  # noqa: F811
    core.create_namespaced_service(namespace, {"metadata": {"name": "ext"}, "spec": {"ports": [{"port": 80}]}})
    core.create_namespaced_endpoints(namespace, {
        "metadata": {"name": "ext"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 80}]}]})
    web_service(core, namespace)
    eventually(lambda: slices(kubectl, namespace, "web"))  # the controllers have looked at this namespace
    endpoints = core.read_namespaced_endpoints("ext", namespace)
    assert [a.ip for a in endpoints.subsets[0].addresses] == ["192.0.2.10"]
    assert not [s for s in slices(kubectl, namespace, "ext")
                if s["metadata"]["labels"].get(MANAGED_BY) == "endpointslice-controller.k8s.io"]
