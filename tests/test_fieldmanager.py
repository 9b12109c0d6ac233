"""Server-side apply and managedFields, as kube-apiserver keeps them.

The scenarios are those of the Kubernetes reference page "Server-Side Apply" (field management,
conflicts, merge strategy, transferring ownership, upgrading from client-side apply, clearing
managedFields); the exact FieldsV1 are those a real cluster shows for the same writes.
"""
import copy

import pytest

from admission import defaults, schemas
from vapi.writes.fieldmanager import LAST_APPLIED, ApplyConflict, FieldManager, fields_v1
from vapi.writes.patch import PatchError

SCHEMAS = schemas.load("1.33")
T0, T1, T2, T3 = (f"2024-05-01T10:0{i}:00Z" for i in range(4))


def manager_for(group, version, kind, reset_paths=()):
    api_version = f"{group}/{version}" if group else version
    return FieldManager(SCHEMAS.for_kind(group, version, kind), SCHEMAS.resolve, api_version, reset_paths)


DEPLOYMENTS = manager_for("apps", "v1", "Deployment", [("status",)])
DEPLOYMENT_STATUS = manager_for("apps", "v1", "Deployment", [("spec",)])
CONFIGMAPS = manager_for("", "v1", "ConfigMap")


def entries(obj):
    """{(manager, operation, subresource): fieldsV1} of obj's managedFields."""
    return {(e["manager"], e["operation"], e.get("subresource", "")): e["fieldsV1"]
            for e in obj["metadata"].get("managedFields", [])}


def configmap(data=None, **meta):
    """ConfigMap c, with data and metadata beyond its name."""
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", **meta}}
    if data is not None:
        obj["data"] = data
    return obj


def nginx_deployment(replicas=3, **spec):
    """The Deployment of the page's examples (nginx-deployment.yaml)."""
    spec = {"selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2"}]}},
            **spec}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}}, "spec": spec}


def applied(fm, live, config, manager, now=T0, force=False):
    return fm.apply(live, copy.deepcopy(config), manager, force=force, now=now)


def updated(fm, old, new, manager, now=T1, subresource=""):
    new = copy.deepcopy(new)
    fm.update(old, new, manager, subresource=subresource, now=now)
    return new


def conflict(fm, live, config, manager):
    with pytest.raises(ApplyConflict) as caught:
        applied(fm, live, config, manager)
    return caught.value


# --- field management ----------------------------------------------------------------------------

def test_kubectl_create_deployment_records_what_a_real_cluster_shows():
    # `kubectl create deployment nginx --image=nginx`, as sent and then defaulted.
    sent = {"kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": "nginx", "creationTimestamp": None, "labels": {"app": "nginx"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
                     "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "nginx"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}},
                     "strategy": {}},
            "status": {}}
    defaults.apply_defaults(SCHEMAS, "apps", "v1", "Deployment", sent)
    created = updated(DEPLOYMENTS, None, sent, "kubectl-create", now=T0)
    assert created["metadata"]["managedFields"] == [{
        "manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1", "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {}, "f:selector": {},
                "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                               "f:type": {}},
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {
                        "f:containers": {'k:{"name":"nginx"}': {
                            ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:resources": {},
                            "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
                        "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                        "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}}},
    }]


def test_apply_creates_the_configmap_of_the_page():
    config = configmap({"key": "some value"}, name="test-cm", namespace="default", labels={"test-label": "test"})
    created = applied(CONFIGMAPS, None, config, "kubectl")
    assert created["data"] == {"key": "some value"}
    assert created["metadata"]["managedFields"] == [{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": T0, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}}]


def test_an_update_takes_the_fields_it_changes_from_the_applier():
    live = applied(DEPLOYMENTS, None, nginx_deployment(), "kubectl")
    scaled = updated(DEPLOYMENTS, live, {**live, "spec": {**live["spec"], "replicas": 5}}, "hpa-controller")
    owners = entries(scaled)
    assert owners[("hpa-controller", "Update", "")] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners[("kubectl", "Apply", "")]["f:spec"]
    assert [e["time"] for e in scaled["metadata"]["managedFields"]] == [T0, T1]


def test_a_write_that_changes_nothing_keeps_entries_and_times():
    live = updated(CONFIGMAPS, None, configmap({"a": "1"}), "kubectl-create", now=T0)
    again = updated(CONFIGMAPS, live, live, "kubectl-edit", now=T1)
    assert again["metadata"]["managedFields"] == live["metadata"]["managedFields"]
    reapplied = applied(CONFIGMAPS, None, configmap({"a": "1"}), "tool", now=T0)
    unchanged = applied(CONFIGMAPS, reapplied, configmap({"a": "1"}), "tool", now=T2)
    assert unchanged["metadata"]["managedFields"][0]["time"] == T0


def test_apply_leaves_its_inputs_alone():
    live = applied(DEPLOYMENTS, None, nginx_deployment(), "kubectl")
    config = nginx_deployment(replicas=None)
    before = copy.deepcopy((live, config))
    DEPLOYMENTS.apply(live, config, "kubectl", force=False, now=T1)
    assert (live, config) == before


def test_server_set_metadata_is_never_owned():
    new = configmap(namespace="ns", uid="u", resourceVersion="7", generation=1,
                    creationTimestamp="2024-01-01T00:00:00Z", labels={"a": "b"})
    assert entries(updated(CONFIGMAPS, None, new, "m")) == {
        ("m", "Update", ""): {"f:metadata": {"f:labels": {".": {}, "f:a": {}}}}}


# --- conflicts -----------------------------------------------------------------------------------

def test_applying_a_field_another_manager_changed_conflicts():
    live = applied(DEPLOYMENTS, None, nginx_deployment(), "kubectl")
    scaled = updated(DEPLOYMENTS, live, {**live, "spec": {**live["spec"], "replicas": 5}}, "hpa-controller")
    caught = conflict(DEPLOYMENTS, scaled, nginx_deployment(replicas=3), "kubectl")
    assert str(caught) == caught.message() == \
        'Apply failed with 1 conflict: conflict with "hpa-controller" using apps/v1: .spec.replicas'
    assert caught.conflicts == [("hpa-controller", ".spec.replicas")]
    assert caught.causes() == [{"reason": "FieldManagerConflict",
                                "message": 'conflict with "hpa-controller" using apps/v1', "field": ".spec.replicas"}]


def test_applying_the_same_value_shares_the_field():
    live = applied(DEPLOYMENTS, None, nginx_deployment(), "kubectl")
    scaled = updated(DEPLOYMENTS, live, {**live, "spec": {**live["spec"], "replicas": 5}}, "hpa-controller")
    shared = applied(DEPLOYMENTS, scaled, nginx_deployment(replicas=5), "kubectl", now=T2)
    owners = entries(shared)
    assert owners[("hpa-controller", "Update", "")] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" in owners[("kubectl", "Apply", "")]["f:spec"]
    # Now either changing it conflicts with the other.
    assert conflict(DEPLOYMENTS, shared, nginx_deployment(replicas=7), "other").conflicts == [
        ("hpa-controller", ".spec.replicas"), ("kubectl", ".spec.replicas")]


def test_force_takes_ownership():
    live = applied(DEPLOYMENTS, None, nginx_deployment(), "kubectl")
    scaled = updated(DEPLOYMENTS, live, {**live, "spec": {**live["spec"], "replicas": 5}}, "hpa-controller")
    forced = applied(DEPLOYMENTS, scaled, nginx_deployment(replicas=3), "kubectl", now=T2, force=True)
    assert forced["spec"]["replicas"] == 3
    # The controller owned nothing else, so its entry is gone.
    assert set(entries(forced)) == {("kubectl", "Apply", "")}


def test_several_conflicts_are_listed_by_manager():
    live = applied(CONFIGMAPS, None, configmap({"a": "1", "b": "1"}), "alpha")
    live = applied(CONFIGMAPS, live, configmap({"c": "1"}), "beta")
    caught = conflict(CONFIGMAPS, live, configmap({"a": "2", "b": "2", "c": "2"}), "gamma")
    assert caught.message() == ('Apply failed with 3 conflicts: conflicts with "alpha":\n- .data.a\n- .data.b\n'
                                'conflicts with "beta":\n- .data.c')


def test_conflicts_name_the_subresource_and_list_elements():
    live = applied(DEPLOYMENTS, None, nginx_deployment(), "kubectl")
    # `kubectl scale` writes through the scale subresource, a manager of its own.
    scaled = updated(DEPLOYMENTS, live, {**live, "spec": {**live["spec"], "replicas": 5}}, "kubectl",
                     subresource="scale")
    assert conflict(DEPLOYMENTS, scaled, nginx_deployment(), "kubectl").message() == (
        'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: '
        '.spec.replicas')
    # `kubectl set image`
    changed = copy.deepcopy(live)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.16"
    changed = updated(DEPLOYMENTS, live, changed, "kubectl-set")
    assert conflict(DEPLOYMENTS, changed, nginx_deployment(), "kubectl").message() == (
        'Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: '
        '.spec.template.spec.containers[name="nginx"].image')


# --- removing fields -----------------------------------------------------------------------------

def test_a_field_left_out_of_the_next_apply_is_deleted():
    live = applied(CONFIGMAPS, None, configmap({"a": "1", "b": "2"}, labels={"x": "1"}), "kubectl")
    after = applied(CONFIGMAPS, live, configmap({"a": "1"}), "kubectl", now=T1)
    assert after["data"] == {"a": "1"}
    assert "labels" not in after["metadata"]
    assert entries(after)[("kubectl", "Apply", "")] == {"f:data": {"f:a": {}}}


def test_a_field_another_applier_owns_stays():
    live = applied(CONFIGMAPS, None, configmap({"shared": "1", "mine": "1"}), "first")
    live = applied(CONFIGMAPS, live, configmap({"shared": "1"}), "second", now=T1)
    live = applied(CONFIGMAPS, live, configmap({"mine": "1"}), "first", now=T2)
    assert live["data"] == {"shared": "1", "mine": "1"}
    assert entries(live)[("second", "Apply", "")] == {"f:data": {"f:shared": {}}}
    gone = applied(CONFIGMAPS, live, configmap(), "second", now=T3)
    assert gone["data"] == {"mine": "1"}


def test_a_field_an_updater_owns_stays():
    live = applied(CONFIGMAPS, None, configmap({"a": "1"}), "kubectl")
    live = updated(CONFIGMAPS, live, {**live, "data": {"a": "2"}}, "editor")
    after = applied(CONFIGMAPS, live, configmap(), "kubectl", now=T2)
    assert after["data"] == {"a": "2"}


def test_apply_never_removes_what_the_applier_did_not_own():
    created = updated(CONFIGMAPS, None, configmap({"a": "1"}), "kubectl-create", now=T0)
    live = applied(CONFIGMAPS, created, configmap({"b": "1"}), "tool", now=T1)
    after = applied(CONFIGMAPS, live, configmap({"c": "1"}), "tool", now=T2)
    assert after["data"] == {"a": "1", "c": "1"}


# --- merge strategy ------------------------------------------------------------------------------

def test_two_appliers_own_different_containers():
    first = nginx_deployment()
    live = applied(DEPLOYMENTS, None, first, "kubectl")
    sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx-deployment"},
               "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "envoy"}]}}}}
    live = applied(DEPLOYMENTS, live, sidecar, "mesh", now=T1)
    assert [c["name"] for c in live["spec"]["template"]["spec"]["containers"]] == ["nginx", "sidecar"]
    assert entries(live)[("mesh", "Apply", "")] == {"f:spec": {"f:template": {"f:spec": {"f:containers": {
        'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}}}}}}}
    # The mesh leaving its container takes out that container only. (Applying `spec: {}` would
    # keep owning spec itself: an empty map is a field.)
    live = applied(DEPLOYMENTS, live, {k: v for k, v in sidecar.items() if k != "spec"}, "mesh", now=T2)
    assert live["spec"]["template"]["spec"]["containers"] == [{"name": "nginx", "image": "nginx:1.14.2"}]
    assert ("mesh", "Apply", "") not in entries(live)


def test_list_items_merge_in_the_configuration_order():
    def pod(*names):
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": n, "image": n} for n in names]}}
    pods = manager_for("", "v1", "Pod")
    live = applied(pods, None, pod("a", "c"), "one")
    merged = applied(pods, live, pod("a", "b", "c"), "one", now=T1)
    assert [c["name"] for c in merged["spec"]["containers"]] == ["a", "b", "c"]


def test_ports_are_keyed_by_port_and_protocol():
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 53, "protocol": "UDP"}]}}
    assert fields_v1(service, SCHEMAS.for_kind("", "v1", "Service"), SCHEMAS.resolve)["f:spec"] == {
        "f:ports": {'k:{"port":53,"protocol":"UDP"}': {".": {}, "f:port": {}, "f:protocol": {}},
                    'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}, "f:targetPort": {}}}}


def test_labels_merge_key_by_key():
    live = applied(CONFIGMAPS, None, configmap(labels={"team": "a"}), "one")
    live = applied(CONFIGMAPS, live, configmap(labels={"tier": "web"}), "two", now=T1)
    assert live["metadata"]["labels"] == {"team": "a", "tier": "web"}
    assert entries(live)[("two", "Apply", "")] == {"f:metadata": {"f:labels": {"f:tier": {}}}}


def test_finalizers_are_a_set():
    live = applied(CONFIGMAPS, None, configmap(finalizers=["a.io/x"]), "one")
    live = applied(CONFIGMAPS, live, configmap(finalizers=["b.io/y"]), "two", now=T1)
    assert live["metadata"]["finalizers"] == ["a.io/x", "b.io/y"]
    assert entries(live)[("two", "Apply", "")] == {"f:metadata": {"f:finalizers": {'v:"b.io/y"': {}}}}
    live = applied(CONFIGMAPS, live, configmap(), "one", now=T2)
    assert live["metadata"]["finalizers"] == ["b.io/y"]


def test_atomic_fields_are_replaced_and_owned_whole():
    selector = {"matchLabels": {"app": "nginx", "tier": "web"}}
    live = applied(DEPLOYMENTS, None, nginx_deployment(), "kubectl")
    live = applied(DEPLOYMENTS, live, nginx_deployment(selector=selector), "kubectl", now=T1)
    assert live["spec"]["selector"] == selector
    assert entries(live)[("kubectl", "Apply", "")]["f:spec"]["f:selector"] == {}


def test_status_is_not_owned_through_the_main_resource():
    live = applied(DEPLOYMENTS, None, {**nginx_deployment(), "status": {"replicas": 9}}, "kubectl")
    assert "f:status" not in entries(live)[("kubectl", "Apply", "")]
    with_status = updated(DEPLOYMENT_STATUS, live, {**live, "status": {"replicas": 3}}, "kube-controller-manager",
                          subresource="status")
    assert entries(with_status)[("kube-controller-manager", "Update", "status")] == {"f:status": {"f:replicas": {}}}


# --- transferring ownership and kubectl --------------------------------------------------------

def test_handing_replicas_over_to_the_autoscaler():
    live = applied(DEPLOYMENTS, None, nginx_deployment(), "kubectl")
    replicas_only = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx-deployment"},
                     "spec": {"replicas": 3}}
    live = applied(DEPLOYMENTS, live, replicas_only, "handover-to-hpa", now=T1)
    live = applied(DEPLOYMENTS, live, nginx_deployment(replicas=None), "kubectl", now=T2)
    assert live["spec"]["replicas"] == 3
    live = updated(DEPLOYMENTS, live, {**live, "spec": {**live["spec"], "replicas": 6}}, "hpa", now=T3)
    assert entries(live)[("hpa", "Update", "")] == {"f:spec": {"f:replicas": {}}}
    assert ("handover-to-hpa", "Apply", "") not in entries(live)


def test_kubectl_server_side_apply_takes_over_from_client_side_apply():
    config = nginx_deployment()
    annotated = copy.deepcopy(config)
    annotated["metadata"]["annotations"] = {LAST_APPLIED: '{"apiVersion":"apps/v1","kind":"Deployment",'
                                            '"metadata":{"annotations":{},"labels":{"app":"nginx"},'
                                            '"name":"nginx-deployment"},"spec":{"replicas":3}}\n'}
    live = updated(DEPLOYMENTS, None, annotated, "kubectl-client-side-apply", now=T0)
    result = applied(DEPLOYMENTS, live, nginx_deployment(replicas=4), "kubectl", now=T1)
    assert result["spec"]["replicas"] == 4
    assert "f:replicas" not in entries(result)[("kubectl-client-side-apply", "Update", "")]["f:spec"]
    assert result["metadata"]["annotations"][LAST_APPLIED].startswith('{"apiVersion":"apps/v1","kind":"Deployment"')
    assert '"replicas":4' in result["metadata"]["annotations"][LAST_APPLIED]
    # Other managers are not let off.
    assert conflict(DEPLOYMENTS, live, nginx_deployment(replicas=4), "my-tool").message() == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas')
    # Nor is kubectl on fields client-side apply did not set.
    image = copy.deepcopy(config)
    image["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    assert conflict(DEPLOYMENTS, live, image, "kubectl").conflicts == [
        ("kubectl-client-side-apply", '.spec.template.spec.containers[name="nginx"].image')]


# --- managedFields written by clients ------------------------------------------------------------

def test_managed_fields_sent_with_an_update_are_kept():
    live = updated(CONFIGMAPS, None, configmap({"a": "1"}), "creator", now=T0)
    sent = copy.deepcopy(live)
    sent["metadata"]["managedFields"][0]["manager"] = "renamed"
    assert set(entries(updated(CONFIGMAPS, live, sent, "editor"))) == {("renamed", "Update", "")}
    # Not through a subresource, and not when they do not decode.
    assert set(entries(updated(CONFIGMAPS, live, sent, "editor", subresource="status"))) == {("creator", "Update", "")}
    sent["metadata"]["managedFields"][0]["operation"] = "Patch"
    assert set(entries(updated(CONFIGMAPS, live, sent, "editor"))) == {("creator", "Update", "")}


@pytest.mark.parametrize("reset", [[{}], []])
def test_managed_fields_reset_stop_tracking_until_the_next_apply(reset):
    live = updated(CONFIGMAPS, None, configmap({"a": "1"}), "creator", now=T0)
    cleared = copy.deepcopy(live)
    cleared["metadata"]["managedFields"] = reset
    cleared["data"]["b"] = "2"
    cleared = updated(CONFIGMAPS, live, cleared, "editor")
    assert "managedFields" not in cleared["metadata"]
    assert "managedFields" not in updated(CONFIGMAPS, cleared, {**cleared, "data": {"c": "3"}}, "editor")["metadata"]
    taken_over = applied(CONFIGMAPS, cleared, configmap({"a": "9"}), "kubectl", now=T2, force=True)
    assert entries(taken_over) == {("before-first-apply", "Update", ""): {"f:data": {".": {}, "f:b": {}}},
                                   ("kubectl", "Apply", ""): {"f:data": {"f:a": {}}}}


def test_more_than_ten_updaters_fold_into_ancient_changes():
    live = updated(CONFIGMAPS, None, configmap({"k0": "v"}), "m0", now="2024-05-01T10:00:00Z")
    for n in range(1, 12):
        live = updated(CONFIGMAPS, live, {**live, "data": {**live["data"], f"k{n}": "v"}}, f"m{n}",
                       now=f"2024-05-01T10:{n:02d}:00Z")
    owners = entries(live)
    assert len(owners) == 10
    assert owners[("ancient-changes", "Update", "")] == {"f:data": {".": {}, "f:k0": {}, "f:k1": {}, "f:k2": {}}}
    assert live["metadata"]["managedFields"][0]["time"] == "2024-05-01T10:02:00Z"


# --- what kube refuses --------------------------------------------------------------------------

def test_apply_refuses_fields_the_schema_does_not_declare():
    config = nginx_deployment()
    config["spec"]["template"]["spec"]["containers"][0]["colour"] = "blue"
    with pytest.raises(PatchError) as caught:
        applied(DEPLOYMENTS, None, config, "kubectl")
    assert caught.value.code == 500
    assert str(caught.value) == ("failed to create typed patch object (/nginx-deployment; apps/v1, Kind=Deployment): "
                                 '.spec.template.spec.containers[name="nginx"].colour: field not declared in schema')


def test_apply_refuses_duplicate_keys_and_managed_fields():
    config = nginx_deployment()
    config["spec"]["template"]["spec"]["containers"].append({"name": "nginx", "image": "other"})
    with pytest.raises(PatchError, match=r'\.spec\.template\.spec\.containers: duplicate entries for key '
                                         r'\[name="nginx"\]'):
        applied(DEPLOYMENTS, None, config, "kubectl")
    with pytest.raises(PatchError, match="metadata.managedFields must be nil") as caught:
        applied(DEPLOYMENTS, None, {**nginx_deployment(), "metadata": {"name": "n", "managedFields": []}}, "kubectl")
    assert caught.value.code == 400


# --- custom resources ----------------------------------------------------------------------------

CRONTAB_SCHEMA = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
    "cronSpec": {"type": "string"}, "image": {"type": "string"},
    "hosts": {"type": "array", "items": {"type": "string"}},
    "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
              "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}}}}}}


def crontab(**spec):
    return {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "c", "labels": {"a": "b"}, "finalizers": ["x"]}, "spec": spec}


def test_custom_resources_follow_their_schema():
    crontabs = FieldManager(CRONTAB_SCHEMA, lambda s: s, "stable.example.com/v1")
    created = updated(crontabs, None, crontab(cronSpec="* * * * */5", hosts=["a"], ports=[{"name": "p", "port": 1}]),
                      "kubectl-create", now=T0)
    assert entries(created)[("kubectl-create", "Update", "")] == {
        "f:metadata": {"f:finalizers": {".": {}, 'v:"x"': {}}, "f:labels": {".": {}, "f:a": {}}},
        "f:spec": {".": {}, "f:cronSpec": {}, "f:hosts": {},
                   "f:ports": {".": {}, 'k:{"name":"p"}': {".": {}, "f:name": {}, "f:port": {}}}}}
    with pytest.raises(PatchError, match=r"\.spec\.schedule: field not declared in schema"):
        applied(crontabs, created, crontab(schedule="x"), "kubectl")


def test_without_a_schema_maps_are_granular_and_lists_atomic():
    untyped = FieldManager(None, lambda s: s, "stable.example.com/v1")
    # Keys of a map no schema describes are owned themselves too, not only through what they hold.
    assert fields_v1(crontab(hosts=["a"], extra={"deep": 1}), None, lambda s: s)["f:spec"] == {
        ".": {}, "f:extra": {".": {}, "f:deep": {}}, "f:hosts": {}}
    live = applied(untyped, None, crontab(hosts=["a"]), "one")
    assert applied(untyped, live, crontab(hosts=["b"]), "one", now=T1)["spec"]["hosts"] == ["b"]


def test_every_builtin_kind_can_be_created():
    for definition in SCHEMAS.definitions.values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            created = updated(manager_for(gvk["group"], gvk["version"], gvk["kind"]), None,
                              {"metadata": {"name": "x", "labels": {"a": "b"}}}, "m")
            assert entries(created) == {("m", "Update", ""): {"f:metadata": {"f:labels": {".": {}, "f:a": {}}}}}
