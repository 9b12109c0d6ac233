"""PodDisruptionBudget status and the eviction subresource (upstream DisruptionController
conformance: "should observe PodDisruptionBudget status updated", "should block an eviction
until the PDB is updated to allow it", "should create a PodDisruptionBudget", and kubectl drain).

Tests play kubelet: pods are bound at create and their status written through `pods/status`."""
from __future__ import annotations

import json

import kubernetes
import pytest

from .helpers import eventually, raw
from .kubelet import now, run_pod
from .podreadier import PodReadier

TOO_MANY = "Cannot evict pod as it would violate the pod's disruption budget."


# Pods here are bound to node-a and reported by the cases themselves.
pytestmark = pytest.mark.usefixtures("node_a")


@pytest.fixture
def policy(api_client):  # noqa: F811
    return kubernetes.client.PolicyV1Api(api_client)


def make_pdb(policy, namespace, name="web", **spec):
    return policy.create_namespaced_pod_disruption_budget(namespace, {
        "metadata": {"name": name}, "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}})


def pdb_status(api_client, namespace, name="web") -> dict:  # noqa: F811
    code, body = raw(api_client, "GET", f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}")
    assert code == 200, body
    return body.get("status") or {}


def settled(api_client, namespace, name="web", **want):  # noqa: F811
    def check():
        status = pdb_status(api_client, namespace, name)
        return status if all(status.get(k) == v for k, v in want.items()) else None
    found = eventually(check)
    assert found, (want, pdb_status(api_client, namespace, name))
    return found


def evict(core, namespace, name, **delete_options):  # noqa: F811
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
    if delete_options:
        body["deleteOptions"] = delete_options
    return core.create_namespaced_pod_eviction(name, namespace, body)


def two_web_pods(core, namespace, node="node-a"):  # noqa: F811
    run_pod(core, namespace, "web-1", {"app": "web"}, "10.244.3.11", node=node)
    run_pod(core, namespace, "web-2", {"app": "web"}, "10.244.3.12", node=node)


def test_status_counts_healthy_pods_and_says_whether_disruptions_are_allowed(core, policy, api_client, namespace):  # noqa: F811
    make_pdb(policy, namespace, minAvailable=1)
    status = settled(api_client, namespace, expectedPods=0, observedGeneration=1)
    assert status["disruptionsAllowed"] == 0 and status["currentHealthy"] == 0
    [condition] = status["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == \
        ("DisruptionAllowed", "False", "InsufficientPods")

    two_web_pods(core, namespace)
    run_pod(core, namespace, "web-3", {"app": "web"}, "10.244.3.13", ready=False)
    status = settled(api_client, namespace, expectedPods=3, currentHealthy=2)
    assert status["desiredHealthy"] == 1 and status["disruptionsAllowed"] == 1
    [condition] = status["conditions"]
    assert (condition["status"], condition["reason"], condition["observedGeneration"]) == ("True", "SufficientPods", 1)


def test_percentages_are_taken_of_the_controllers_scale(core, apps, policy, api_client, namespace):
    # The ReplicaSet's own pods, run by the cluster's kubelets (played where it has none).
    apps.create_namespaced_replica_set(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "app", "image": "nginx"}]}}}})
    make_pdb(policy, namespace, maxUnavailable="50%")
    with PodReadier(core, namespace):
        status = settled(api_client, namespace, expectedPods=2, currentHealthy=2)
    assert status["desiredHealthy"] == 1 and status["disruptionsAllowed"] == 1


def test_an_eviction_that_would_break_the_budget_gets_429(core, policy, api_client, namespace):  # noqa: F811
    two_web_pods(core, namespace)
    make_pdb(policy, namespace, minAvailable=2)
    settled(api_client, namespace, currentHealthy=2, observedGeneration=1)
    with pytest.raises(kubernetes.client.ApiException) as info:
        evict(core, namespace, "web-1")
    assert info.value.status == 429
    assert json.loads(info.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": TOO_MANY,
        "reason": "TooManyRequests",
        "details": {"causes": [{"reason": "DisruptionBudget",
                                "message": "The disruption budget web needs 2 healthy pods and has 2 currently"}]},
        "code": 429}
    assert core.read_namespaced_pod("web-1", namespace).metadata.deletion_timestamp is None

    # Once the budget allows it, the same eviction deletes the pod and spends the budget.
    policy.patch_namespaced_pod_disruption_budget("web", namespace, {"spec": {"minAvailable": 1}})
    settled(api_client, namespace, disruptionsAllowed=1, observedGeneration=2)
    evict(core, namespace, "web-1")
    eventually(lambda: not [p for p in core.list_namespaced_pod(namespace).items if p.metadata.name == "web-1"])
    status = settled(api_client, namespace, currentHealthy=1, disruptionsAllowed=0)
    assert status["expectedPods"] == 1
    with pytest.raises(kubernetes.client.ApiException) as info:
        evict(core, namespace, "web-2")
    assert info.value.status == 429


def test_eviction_answers_as_kube_for_bad_requests_and_free_pods(core, api_client, namespace):  # noqa: F811
    run_pod(core, namespace, "lone", {"app": "lone"}, "10.244.5.11")
    with pytest.raises(kubernetes.client.ApiException) as info:
        core.create_namespaced_pod_eviction("lone", namespace, {
            "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}})
    assert info.value.status == 400
    assert json.loads(info.value.body)["message"] == "name in URL does not match name in Eviction object"
    # A dry run answers as the real eviction would and leaves the pod be.
    code, body = raw(api_client, "POST", f"/api/v1/namespaces/{namespace}/pods/lone/eviction", json.dumps(
        {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "lone"}}), query="dryRun=All")
    assert code == 201, body
    assert core.read_namespaced_pod("lone", namespace).metadata.deletion_timestamp is None
    # No budget covers it: evicted at once, marked as the eviction's target on the way (the
    # deprecated v1beta1 body is still understood).
    code, body = raw(api_client, "POST", f"/api/v1/namespaces/{namespace}/pods/lone/eviction", json.dumps(
        {"apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": "lone"}}))
    assert code == 201, body
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                        "code": 201}
    eventually(lambda: not core.list_namespaced_pod(namespace).items)


def test_an_unready_pod_may_go_when_the_budget_is_healthy(core, policy, api_client, namespace):  # noqa: F811
    two_web_pods(core, namespace)
    run_pod(core, namespace, "web-3", {"app": "web"}, "10.244.3.13", ready=False)
    make_pdb(policy, namespace, minAvailable=2)
    settled(api_client, namespace, currentHealthy=2, expectedPods=3)
    evict(core, namespace, "web-3")
    eventually(lambda: len(core.list_namespaced_pod(namespace).items) == 2)
    assert settled(api_client, namespace, expectedPods=2)["disruptionsAllowed"] == 0


def test_kubectl_drain_cordons_and_evicts_within_the_budget(core, policy, api_client, kubectl, namespace):  # noqa: F811
    node = f"{namespace}-node"
    core.create_node({"metadata": {"name": node}})
    try:
        two_web_pods(core, namespace, node)
        make_pdb(policy, namespace, minAvailable=1)
        settled(api_client, namespace, currentHealthy=2, disruptionsAllowed=1)
        blocked = kubectl("drain", node, "--force", "--timeout=4s", check=False)
        assert blocked.returncode != 0
        assert TOO_MANY in blocked.stderr
        assert core.read_node(node).spec.unschedulable is True
        assert len(core.list_namespaced_pod(namespace).items) == 1   # one of two went

        policy.delete_namespaced_pod_disruption_budget("web", namespace)
        out = kubectl("drain", node, "--force", "--timeout=20s")
        assert f"node/{node} drained" in out.stdout
        assert not core.list_namespaced_pod(namespace).items
    finally:
        core.delete_node(node)


def test_status_written_through_the_api_is_kept_and_budgets_listed_across_namespaces(core, policy, api_client,  # noqa: F811
                                                                                    namespace):
    run_pod(core, namespace, "pod-0", {"app": "web"}, "10.244.6.1")
    make_pdb(policy, namespace, minAvailable=1)
    settled(api_client, namespace, observedGeneration=1, currentHealthy=1)
    # An eviction in flight, as the eviction handler records it: the controller keeps it while the
    # pod stands, and does not count the pod as healthy meanwhile.
    code, body = raw(api_client, "PATCH", f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/web/status",
                     json.dumps({"status": {"disruptedPods": {"pod-0": now()}}}),
                     content_type="application/merge-patch+json")
    assert code == 200, body
    assert "pod-0" in body["status"]["disruptedPods"]
    status = settled(api_client, namespace, currentHealthy=0)
    assert "pod-0" in status["disruptedPods"]

    listed = policy.list_pod_disruption_budget_for_all_namespaces()
    assert (namespace, "web") in {(p.metadata.namespace, p.metadata.name) for p in listed.items}
    policy.delete_collection_namespaced_pod_disruption_budget(namespace)
    assert eventually(lambda: not policy.list_namespaced_pod_disruption_budget(namespace).items)
