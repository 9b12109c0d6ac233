"""The StatefulSet and DaemonSet controllers' pure decisions, on their own: where a daemon pod
may run, who owns a StatefulSet's claims, how revisions are named and written, and how an
IntOrString budget scales."""
from __future__ import annotations

import json

import pytest

from vapi.controllers import daemonset_pods as dp
from vapi.controllers import history
from vapi.controllers import statefulset_pods as sp
from vapi.controllers.intorpercent import scaled_value


def node(name="n1", labels=None, taints=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def ds(spec=None):
    return {"metadata": {"name": "agent", "namespace": "ns", "uid": "u1"},
            "spec": {"template": {"metadata": {"labels": {"app": "a"}},
                                  "spec": {"containers": [{"name": "c", "image": "x"}], **(spec or {})}}}}


@pytest.mark.parametrize("taint, expected", [
    (None, (True, True)),
    ({"key": "dedicated", "value": "db", "effect": "NoSchedule"}, (False, True)),
    ({"key": "dedicated", "value": "db", "effect": "NoExecute"}, (False, False)),
    ({"key": "dedicated", "value": "db", "effect": "PreferNoSchedule"}, (True, True)),
    ({"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}, (True, True)),
    ({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}, (True, True)),
    ({"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}, (False, True)),
])
def test_daemon_placement_by_taints(taint, expected):
    assert dp.should_run(ds(), node(taints=[taint] if taint else [])) == expected


def test_host_network_daemons_tolerate_an_unready_network():
    taint = {"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}
    assert dp.should_run(ds({"hostNetwork": True}), node(taints=[taint])) == (True, True)


def test_tolerations_by_operator_and_value():
    taint = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}
    for toleration, tolerated in [({"key": "dedicated", "operator": "Equal", "value": "db"}, True),
                                  ({"key": "dedicated", "value": "web"}, False),
                                  ({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}, True),
                                  ({"operator": "Exists"}, True),
                                  ({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, False)]:
        assert dp.should_run(ds({"tolerations": [toleration]}), node(taints=[taint]))[0] is tolerated, toleration


def test_node_selector_and_required_affinity():
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                              {"key": "cores", "operator": "Gt", "values": ["4"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["special"]}]}]}}}
    spec = ds({"affinity": affinity, "nodeSelector": {"disk": "ssd"}})
    assert dp.should_run(spec, node(labels={"disk": "ssd", "zone": "a", "cores": "8"}))[0]
    assert not dp.should_run(spec, node(labels={"disk": "ssd", "zone": "a", "cores": "2"}))[0]
    assert not dp.should_run(spec, node(labels={"disk": "hdd", "zone": "a", "cores": "8"}))[0]
    assert dp.should_run(spec, node("special", labels={"disk": "ssd"}))[0]
    empty = ds({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{}]}}}})
    assert dp.should_run(empty, node()) == (False, False)   # an empty term matches no node


def test_daemon_pod_replaces_the_templates_required_terms_with_its_node():
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}
    pod = dp.new_pod(ds({"affinity": affinity, "tolerations": [{"key": "node.kubernetes.io/not-ready",
                                                                "operator": "Exists", "effect": "NoExecute"}]}),
                     "n7", "abc")
    assert pod["metadata"]["generateName"] == "agent-" and pod["metadata"]["labels"]["controller-revision-hash"] == "abc"
    assert pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n7"]}]}]}
    assert [t["key"] for t in pod["spec"]["tolerations"]].count("node.kubernetes.io/not-ready") == 1
    assert dp.target_node(pod) == "n7"


def sts(when_deleted="Retain", when_scaled="Retain", replicas=2):
    return {"metadata": {"name": "web", "namespace": "ns", "uid": "set-uid"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "persistentVolumeClaimRetentionPolicy": {"whenDeleted": when_deleted, "whenScaled": when_scaled},
                     "volumeClaimTemplates": [{"metadata": {"name": "data", "labels": {"tier": "db"}},
                                               "spec": {"accessModes": ["ReadWriteOnce"]}}]}}


def pod(ordinal):
    return {"metadata": {"name": f"web-{ordinal}", "uid": f"pod-{ordinal}"}}


@pytest.mark.parametrize("policy, in_range, condemned", [
    (("Retain", "Retain"), [], []),
    (("Delete", "Retain"), ["set-uid"], ["set-uid"]),
    (("Retain", "Delete"), [], ["pod-3"]),
    (("Delete", "Delete"), ["set-uid"], ["pod-3"]),
])
def test_claim_owners_follow_the_retention_policy(policy, in_range, condemned):
    owner_set = sts(*policy)
    claim = {"metadata": {"name": "data-web-0", "ownerReferences": [{"uid": "someone-else", "kind": "Thing"}]}}
    assert [r["uid"] for r in sp.claim_owners(owner_set, pod(0), claim)] == ["someone-else", *in_range]
    assert [r["uid"] for r in sp.claim_owners(owner_set, pod(3), claim)] == ["someone-else", *condemned]


def test_claims_and_pods_of_a_set():
    claims = sp.claims_for(sts(), 4)
    assert claims["data"]["metadata"] == {"name": "data-web-4", "namespace": "ns",
                                          "labels": {"tier": "db", "app": "web"}}
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"volumes": [{"name": "data", "emptyDir": {}}],
                                                                 "containers": [{"name": "c", "image": "x"}]}}
    made = sp.new_pod({**sts(), "spec": {**sts()["spec"], "serviceName": "svc"}}, template, 4, "web-abc")
    assert made["metadata"]["labels"] == {"app": "web", "statefulset.kubernetes.io/pod-name": "web-4",
                                          "apps.kubernetes.io/pod-index": "4", "controller-revision-hash": "web-abc"}
    assert made["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-4"}}]
    assert (made["spec"]["hostname"], made["spec"]["subdomain"]) == ("web-4", "svc")
    assert sp.parent_and_ordinal({"metadata": {"name": "my-set-12"}}) == ("my-set", 12)
    assert sp.parent_and_ordinal({"metadata": {"name": "nope"}}) == ("", -1)


def test_revision_data_is_written_as_go_writes_a_map():
    owner = {"spec": {"template": {"metadata": {"labels": {"b": "1", "a": "<&>"}},
                                   "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
    data = history.template_patch(owner)
    assert history.go_json(data) == (
        b'{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,'
        b'"labels":{"a":"\\u003c\\u0026\\u003e","b":"1"}},"spec":{"containers":[{"image":"x","name":"c",'
        b'"resources":{}}]}}}}')
    assert json.dumps(data, separators=(",", ":")).startswith('{"spec":{"template":{"$patch"')
    assert history.template_of({"data": data})["metadata"]["labels"] == {"a": "<&>", "b": "1"}
    hash_ = history.revision_hash(data, 0)
    assert hash_ != history.revision_hash(data, 1) and set(hash_) <= set(history.SAFE_ALPHABET)
    assert history.revision_name("x" * 300, hash_) == "x" * 223 + "-" + hash_


def test_fnv_matches_the_reference_vectors():
    assert history.fnv32(b"") == 0x811C9DC5
    assert history.fnv32(b"a") == 0x050C5D7E
    assert history.fnv32(b"a", alternate=True) == 0xE40C292C


@pytest.mark.parametrize("value, total, up, expected", [
    (None, 10, True, 0), (3, 10, True, 3), ("25%", 10, True, 3), ("25%", 10, False, 2),
    ("100%", 7, False, 7), ("0%", 7, True, 0)])
def test_int_or_percent(value, total, up, expected):
    assert scaled_value(value, total, up) == expected


def test_a_string_that_is_not_a_percentage_is_kubes_error():
    with pytest.raises(ValueError, match="invalid value for IntOrString: invalid type: string is not a percentage"):
        scaled_value("3", 10, False)
