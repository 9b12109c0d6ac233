"""Strategic merge patch as kube-apiserver applies it.

Cases come from the Kubernetes task "Update API Objects in Place Using kubectl patch", from the
directive semantics in sig-api-machinery's strategic-merge-patch.md, and from apimachinery's own
behaviour (orders and error texts as `kubectl patch --local` produces them with the same library).
"""
import copy

import pytest

from admission import schemas
from vapi.writes.patch import PatchError, json_merge_patch, strategic_merge

SCHEMAS = schemas.load("1.33")


def smp(group, version, kind, original, patch):
    return strategic_merge(SCHEMAS, SCHEMAS.for_kind(group, version, kind), original, patch)


def deployment(original, patch):
    return smp("apps", "v1", "Deployment", original, patch)


def pod(original, patch):
    return smp("", "v1", "Pod", original, patch)


def refused(apply, original, patch) -> PatchError:
    with pytest.raises(PatchError) as caught:
        apply(original, patch)
    return caught.value


# The Deployment of the kubectl-patch task (examples/application/deployment-patch.yaml).
PATCH_DEMO = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "patch-demo"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {
                "containers": [{"name": "patch-demo-ctr", "image": "nginx"}],
                "tolerations": [{"effect": "NoSchedule", "key": "dedicated", "value": "test-team"}],
            },
        },
    },
}

# examples/application/deployment-retainkeys.yaml
RETAINKEYS_DEMO = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "retainkeys-demo"},
    "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "nginx"}},
        "strategy": {"rollingUpdate": {"maxSurge": "30%"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "nginx"}},
            "spec": {"containers": [{"name": "retainkeys-demo-ctr", "image": "nginx"}]},
        },
    },
}


def template_spec(obj):
    return obj["spec"]["template"]["spec"]


def pod_with(**spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def containers(*names):
    return [{"name": n, "image": n} for n in names]


# --- the kubectl patch task ---------------------------------------------------------------------

def test_containers_merge_by_name_and_the_new_one_comes_first():
    patched = deployment(PATCH_DEMO, {"spec": {"template": {"spec": {
        "containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}}})
    # The task's output lists redis before nginx: new items precede the server-only ones.
    assert template_spec(patched)["containers"] == [
        {"name": "patch-demo-ctr-2", "image": "redis"}, {"name": "patch-demo-ctr", "image": "nginx"}]
    assert template_spec(patched)["tolerations"] == template_spec(PATCH_DEMO)["tolerations"]


def test_tolerations_have_no_patch_strategy_so_they_are_replaced():
    patched = deployment(PATCH_DEMO, {"spec": {"template": {"spec": {
        "tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]}}}})
    assert template_spec(patched)["tolerations"] == [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]
    assert template_spec(patched)["containers"] == template_spec(PATCH_DEMO)["containers"]


def test_json_merge_patch_replaces_the_whole_containers_list():
    new = [{"name": "patch-demo-ctr-3", "image": "gcr.io/google-samples/node-hello:1.0"}]
    patched = json_merge_patch(PATCH_DEMO, {"spec": {"template": {"spec": {"containers": new}}}})
    assert template_spec(patched)["containers"] == new


def test_without_retain_keys_the_strategy_keeps_rolling_update():
    # Why the task needs $retainKeys: a plain merge leaves the now-forbidden rollingUpdate behind.
    patched = deployment(RETAINKEYS_DEMO, {"spec": {"strategy": {"type": "Recreate"}}})
    assert patched["spec"]["strategy"] == {"rollingUpdate": {"maxSurge": "30%"}, "type": "Recreate"}


def test_retain_keys_clears_the_keys_it_does_not_name():
    patched = deployment(RETAINKEYS_DEMO, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert patched["spec"]["strategy"] == {"type": "Recreate"}


# --- directives (strategic-merge-patch.md) ------------------------------------------------------

def test_replace_directive_on_a_map_takes_the_map_literally():
    original = pod_with(containers=containers("nginx"), restartPolicy="Always", hostname="h")
    patched = pod(original, {"spec": {"$patch": "replace", "containers": [{"name": "nginx", "image": "nginx-1.0"}]}})
    assert patched["spec"] == {"containers": [{"name": "nginx", "image": "nginx-1.0"}]}


def test_replace_directive_in_a_list_replaces_a_merging_list():
    original = pod_with(containers=containers("nginx", "log-tailer"))
    patched = pod(original, {"spec": {"containers": [{"name": "nginx", "image": "nginx-1.0"}, {"$patch": "replace"}]}})
    assert patched["spec"]["containers"] == [{"name": "nginx", "image": "nginx-1.0"}]


def test_delete_directive_removes_every_item_with_the_merge_key_and_merges_the_rest():
    original = pod_with(containers=containers("nginx", "log-tailer", "log-tailer"))
    patched = pod(original, {"spec": {"containers": [
        {"name": "nginx", "image": "nginx-1.0"}, {"$patch": "delete", "name": "log-tailer"}]}})
    assert patched["spec"]["containers"] == [{"name": "nginx", "image": "nginx-1.0"}]


def test_delete_directive_on_a_map_leaves_it_empty_while_null_removes_it():
    original = copy.deepcopy(RETAINKEYS_DEMO)
    original["spec"]["strategy"]["type"] = "RollingUpdate"
    emptied = deployment(original, {"spec": {"strategy": {"rollingUpdate": {"$patch": "delete"}}}})
    assert emptied["spec"]["strategy"] == {"rollingUpdate": {}, "type": "RollingUpdate"}
    removed = deployment(original, {"spec": {"strategy": {"rollingUpdate": None}}})
    assert removed["spec"]["strategy"] == {"type": "RollingUpdate"}


def test_a_map_with_a_directive_is_dropped_where_the_original_has_no_such_key():
    patched = pod(pod_with(containers=containers("a")),
                  {"spec": {"securityContext": {"$patch": "replace", "runAsUser": 1}}})
    assert "securityContext" not in patched["spec"]


def test_delete_from_primitive_list():
    original = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a", "b", "c"]}}
    patched = smp("", "v1", "ConfigMap", original, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "c"]}})
    assert patched["metadata"]["finalizers"] == ["a"]


def test_primitive_merge_list_is_a_set_that_keeps_the_server_order():
    original = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a", "b"]}}
    patched = smp("", "v1", "ConfigMap", original, {"metadata": {"finalizers": ["b", "c", "c"]}})
    assert patched["metadata"]["finalizers"] == ["a", "b", "c"]


def test_set_element_order_reorders_a_primitive_list():
    original = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a", "b", "c"]}}
    patched = smp("", "v1", "ConfigMap", original, {"metadata": {"$setElementOrder/finalizers": ["b", "c", "a"]}})
    assert patched["metadata"]["finalizers"] == ["b", "c", "a"]


def test_set_element_order_reorders_a_list_of_maps_and_merges_the_patch_list():
    original = pod_with(containers=containers("a", "b", "c"))
    patched = pod(original, {"spec": {
        "$setElementOrder/containers": [{"name": "c"}, {"name": "new"}, {"name": "a"}, {"name": "b"}],
        "containers": [{"name": "new", "image": "n"}, {"name": "a", "image": "a2"}]}})
    assert patched["spec"]["containers"] == [
        {"name": "c", "image": "c"}, {"name": "new", "image": "n"},
        {"name": "a", "image": "a2"}, {"name": "b", "image": "b"}]


def test_retain_keys_in_a_volume_switches_its_source():
    original = pod_with(containers=containers("a"), volumes=[{"name": "v", "configMap": {"name": "cm"}}])
    patched = pod(original, {"spec": {"volumes": [
        {"name": "v", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}}]}})
    assert patched["spec"]["volumes"] == [{"name": "v", "secret": {"secretName": "s"}}]


def test_merge_directive_is_not_accepted_in_a_patch():
    # The design doc reserves `merge` for struct tags; apimachinery refuses it in lists and maps alike.
    original = pod_with(containers=containers("a"))
    err = refused(pod, original, {"spec": {"containers": [{"$patch": "merge"}]}})
    assert str(err) == "merging lists cannot yet be specified in the patch"
    err = refused(pod, original, {"spec": {"$patch": "merge", "hostname": "h"}})
    assert str(err) == "unknown patch type: merge in map: map[$patch:merge hostname:h]"


# --- ordering, nesting and strategies -----------------------------------------------------------

def test_patch_order_wins_for_named_items_and_server_only_items_keep_their_place():
    env = [{"name": n, "value": n.lower()} for n in "ABCD"]
    original = pod_with(containers=[{"name": "a", "image": "i", "env": env}])
    patched = pod(original, {"spec": {"containers": [{"name": "a", "env": [
        {"name": "D", "value": "x"}, {"name": "E", "value": "e"}, {"name": "B", "value": "y"}]}]}})
    assert [(e["name"], e["value"]) for e in patched["spec"]["containers"][0]["env"]] == [
        ("A", "a"), ("C", "c"), ("D", "x"), ("E", "e"), ("B", "y")]


def test_nested_merge_list_items_merge_in_place_and_delete():
    original = pod_with(containers=[{"name": "a", "image": "i", "env": [
        {"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}])
    patched = pod(original, {"spec": {"containers": [{"name": "a", "image": "j", "env": [
        {"name": "B", "value": "9"}, {"name": "A", "$patch": "delete"}]}]}})
    assert patched["spec"]["containers"] == [{"name": "a", "image": "j", "env": [{"name": "B", "value": "9"}]}]


SERVICE = {
    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
    "spec": {"selector": {"app": "a"}, "ports": [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
        {"name": "https", "port": 443, "protocol": "TCP"}]},
}


def service(original, patch):
    return smp("", "v1", "Service", original, patch)


def test_service_ports_merge_by_port():
    patched = service(SERVICE, {"spec": {"ports": [{"port": 443, "targetPort": 8443}, {"port": 8080, "name": "alt"}]}})
    assert patched["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443},
        {"port": 8080, "name": "alt"}]


def test_service_port_merge_key_matches_by_json_type():
    # Go compares merge keys as interface values, so the string "80" is a new port, not port 80.
    patched = service(SERVICE, {"spec": {"ports": [{"port": "80", "name": "odd"}]}})
    assert [p["port"] for p in patched["spec"]["ports"]] == ["80", 80, 443]


def test_int_or_string_is_replaced_whole():
    patched = service(SERVICE, {"spec": {"ports": [{"port": 80, "targetPort": "web"}]}})
    assert patched["spec"]["ports"][0]["targetPort"] == "web"


CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"x": "1"}},
             "data": {"a": "1", "b": "2"}}


def configmap(original, patch):
    return smp("", "v1", "ConfigMap", original, patch)


def test_configmap_data_merges_and_null_deletes():
    patched = configmap(CONFIGMAP, {"data": {"b": None, "c": "3"}, "metadata": {"labels": {"x": None}}})
    assert patched["data"] == {"a": "1", "c": "3"}
    assert patched["metadata"]["labels"] == {}


def test_configmap_data_replace_and_delete_directives():
    assert configmap(CONFIGMAP, {"data": {"$patch": "replace", "z": "9"}})["data"] == {"z": "9"}
    assert configmap(CONFIGMAP, {"data": {"$patch": "delete"}})["data"] == {}


def test_nulls_inside_a_new_value_are_dropped():
    patched = configmap(CONFIGMAP, {"metadata": {"annotations": {"a": None, "b": "1"}}})
    assert patched["metadata"]["annotations"] == {"b": "1"}


def test_replace_patch_strategy_on_a_map():
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
           "spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}}}
    expressions = [{"key": "k", "operator": "Exists"}]
    patched = smp("policy", "v1", "PodDisruptionBudget", pdb, {"spec": {"selector": {"matchExpressions": expressions}}})
    assert patched["spec"]["selector"] == {"matchExpressions": expressions}


def test_raw_extension_is_atomic():
    revision = {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "r"},
                "revision": 1, "data": {"a": 1, "b": {"c": 2}}}
    patched = smp("apps", "v1", "ControllerRevision", revision, {"data": {"b": {"c": 5}}})
    assert patched["data"] == {"b": {"c": 5}}


def test_without_a_schema_it_is_a_json_merge_patch():
    original = {"spec": {"items": [{"name": "a"}], "keep": 1}}
    assert strategic_merge(SCHEMAS, None, original, {"spec": {"items": [{"name": "b"}]}}) == \
        {"spec": {"items": [{"name": "b"}], "keep": 1}}


def test_inputs_are_left_alone_and_the_result_shares_nothing_with_them():
    original, patch = copy.deepcopy(PATCH_DEMO), {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "patch-demo-ctr"}],
        "containers": [{"name": "patch-demo-ctr", "image": "x"}]}}}}
    before = copy.deepcopy((original, patch))
    patched = deployment(original, patch)
    assert (original, patch) == before
    patched["spec"]["selector"]["matchLabels"]["app"] = "changed"
    template_spec(patched)["tolerations"].clear()
    assert original == before[0]


# --- refusals -----------------------------------------------------------------------------------

def test_list_item_without_the_merge_key():
    err = refused(pod, pod_with(containers=containers("a")), {"spec": {"containers": [{"image": "redis"}]}})
    assert str(err) == "map: map[image:redis] does not contain declared merge key: name"
    assert err.code == 500


def test_service_port_without_the_merge_key():
    # The text kube answered in kubernetes/kubernetes#57834.
    err = refused(service, SERVICE, {"spec": {"ports": [{"targetPort": 441}]}})
    assert str(err) == "map: map[targetPort:441] does not contain declared merge key: port"


def test_server_item_without_the_merge_key_blocks_merging_that_list():
    # kubernetes/kubernetes#98963: an imagePullSecrets entry without a name.
    original = pod_with(containers=containers("a"), imagePullSecrets=[{}])
    err = refused(pod, original, {"spec": {"imagePullSecrets": [{"name": "x"}]}})
    assert str(err) == "map: map[] does not contain declared merge key: name"


def test_delete_directive_needs_the_merge_key():
    err = refused(pod, pod_with(containers=containers("a")), {"spec": {"containers": [{"$patch": "delete"}]}})
    assert str(err) == "map: map[$patch:delete] does not contain declared merge key: name"


@pytest.mark.parametrize("directive, shown, value", [
    ("frob", "frob", "frob"), (True, "%!s(bool=true)", "true"), (2, "%!s(int64=2)", "2")])
def test_unknown_directive_value(directive, shown, value):
    # kube prints the directive with %s and the map with %v.
    err = refused(pod, pod_with(containers=containers("a")),
                  {"spec": {"containers": [{"name": "a", "$patch": directive}]}})
    assert str(err) == f"unknown patch type: {shown} in map: map[$patch:{value} name:a]"


def test_unknown_directive_on_a_map():
    err = refused(configmap, CONFIGMAP, {"metadata": {"labels": {"$patch": "frob", "y": "2"}}})
    assert str(err) == "unknown patch type: frob in map: map[$patch:frob y:2]"


@pytest.mark.parametrize("patch, message", [
    ({"spec": {"strategy": {"$retainKeys": "type", "type": "Recreate"}}}, "invalid patch format of retainKeys"),
    ({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}},
     "invalid patch format of retainKeys"),
    ({"metadata": {"$deleteFromPrimitiveList": ["a"]}}, "invalid patch format of primitive list"),
    ({"metadata": {"$setElementOrderX/finalizers": ["a"]}}, "invalid patch format of setElementOrder list"),
])
def test_malformed_directives_are_bad_requests(patch, message):
    err = refused(deployment, RETAINKEYS_DEMO, patch)
    assert (str(err), err.code) == (message, 400)


def test_set_element_order_must_agree_with_the_patch_list():
    err = refused(pod, pod_with(containers=containers("a", "c")), {"spec": {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "c"}],
        "containers": [{"name": "c", "image": "x"}, {"name": "a", "image": "y"}]}})
    assert str(err) == ("The order in patch list:\n[map[image:x name:c] map[image:y name:a]]\n"
                        " doesn't match $setElementOrder list:\n[map[name:a] map[name:c]]\n")


def test_set_element_order_must_be_a_list():
    err = refused(configmap, CONFIGMAP, {"metadata": {"$setElementOrder/finalizers": "a"}})
    assert str(err) == "expected a []interface {}, but received a string"


def test_lists_of_lists_are_unprocessable():
    err = refused(configmap, {**CONFIGMAP, "metadata": {"name": "c", "finalizers": []}},
                  {"metadata": {"finalizers": [["b"]]}})
    assert (str(err), err.code) == ("lists of lists are not supported", 422)


def test_merge_list_elements_must_share_a_type():
    err = refused(configmap, {**CONFIGMAP, "metadata": {"name": "c", "finalizers": ["a"]}},
                  {"metadata": {"finalizers": [1]}})
    assert str(err) == "list element types are not identical: [[a] [1]]"


# --- JSON merge patch (RFC 7386, appendix A) ----------------------------------------------------

@pytest.mark.parametrize("original, patch, result", [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_json_merge_patch(original, patch, result):
    assert json_merge_patch(original, patch) == result
