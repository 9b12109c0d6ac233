"""Label and field selectors: kube-apiserver's grammar, matching and error texts."""
from __future__ import annotations

import pytest

from vapi.registry import selectors
from vapi.registry.selectors import (SelectorError, builtin_field_set, custom_field_set, field_value,
                                     label_selector_from_object, parse_label_selector)

QNAME_RULE = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
              "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
              "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_RULE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
              "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
              "'my_value',  or '12345', regex used for validation is "
              "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def field_selector(text: str, group: str, resource: str):
    return selectors.parse_field_selector(text, builtin_field_set(group, resource))


def error_of(fn, *args) -> str:
    with pytest.raises(SelectorError) as info:
        fn(*args)
    return str(info.value)


# --- label selectors: matching -------------------------------------------------------------------

PROD_WEB = {"env": "prod", "tier": "web", "n": "5"}
DEV = {"env": "dev", "n": "x"}


@pytest.mark.parametrize("text,prod_web,dev,unlabelled", [
    ("", True, True, True),
    ("env=prod", True, False, False),
    ("env==prod", True, False, False),
    ("env!=prod", False, True, True),
    ("env in (dev,prod)", True, True, False),
    ("env notin (prod)", False, True, True),
    ("tier", True, False, False),
    ("!tier", False, True, True),
    ("n>4", True, False, False),
    ("n<6", True, False, False),
    ("n>5", False, False, False),
    ("env=prod,tier=web", True, False, False),
    ("env,!tier", False, True, False),
    ("env in (dev), n", False, True, False),
    # An empty value: "env=" needs the label present and empty; "()" holds just the empty value.
    ("env=", False, False, False),
    ("env in ()", False, False, False),
    ("env notin ()", True, True, True),
])
def test_label_operators(text, prod_web, dev, unlabelled):
    sel = parse_label_selector(text)
    assert (sel.matches(PROD_WEB), sel.matches(DEV), sel.matches({})) == (prod_web, dev, unlabelled)
    assert sel.matches(None) == unlabelled


def test_empty_values_match_empty_labels():
    assert parse_label_selector("a=").matches({"a": ""})
    assert parse_label_selector("a in (,x)").matches({"a": ""})
    assert parse_label_selector("a in (x,,y)").matches({"a": ""})
    assert not parse_label_selector("a in (x)").matches({"a": ""})


def test_numeric_comparisons_need_integers_on_both_sides():
    assert parse_label_selector("n<10").matches({"n": "-3"})
    assert not parse_label_selector("n<10").matches({"n": "1.5"})
    assert not parse_label_selector("n<10").matches({"n": "99999999999999999999"})
    assert not parse_label_selector("n>1").matches({})
    assert parse_label_selector("n>1").matches({"n": "+2"})


def test_in_and_notin_are_values_where_values_belong():
    assert parse_label_selector("a in (in,notin)").matches({"a": "notin"})
    assert parse_label_selector("in=notin").matches({"in": "notin"})
    assert parse_label_selector("notin notin (in)").matches({"notin": "x"})


def test_whitespace_separates_tokens():
    sel = parse_label_selector(" env \t in\n( dev , prod )\r, tier ")
    assert str(sel) == "env in (dev,prod),tier"


@pytest.mark.parametrize("text,canonical", [
    ("", ""),
    ("a=b", "a=b"),
    ("a==b", "a==b"),
    ("a!=b", "a!=b"),
    ("a", "a"),
    ("!a", "!a"),
    ("a>3", "a>3"),
    ("a<3", "a<3"),
    ("a in (z,y,y)", "a in (y,z)"),
    ("a notin (b)", "a notin (b)"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
    ("z=1,b,a!=2", "a!=2,b,z=1"),
    ("example.com/app=web", "example.com/app=web"),
])
def test_label_canonical_form(text, canonical):
    assert str(parse_label_selector(text)) == canonical
    assert str(parse_label_selector(canonical)) == canonical


def test_empty_flag():
    assert parse_label_selector("").empty
    assert parse_label_selector("   ").empty
    assert not parse_label_selector("a").empty


# --- label selectors: errors ---------------------------------------------------------------------

@pytest.mark.parametrize("text,message", [
    ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("a in (b,", "unable to parse requirement: found '', expected: ',', or identifier"),
    ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
    ("a in b", "unable to parse requirement: found 'b' expected: '('"),
    ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
    ("!", "unable to parse requirement: found '', expected: identifier"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    ("=a", "found '=', expected: !, identifier, or 'end of string'"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("a,", "found '', expected: identifier after ','"),
    ("a=b,,c", "found ',', expected: identifier after ','"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a in ()x", "found 'x', expected: ',' or 'end of string'"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
])
def test_label_syntax_errors(text, message):
    assert error_of(parse_label_selector, text) == message


def test_invalid_label_key():
    assert error_of(parse_label_selector, "app:web") == \
        f'unable to parse requirement: <nil>: Invalid value: "app:web": name part {QNAME_RULE}'
    assert error_of(parse_label_selector, "a/b/c=d") == (
        f'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name {QNAME_RULE}'
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
    assert error_of(parse_label_selector, "a/=b") == \
        f'unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; name part {QNAME_RULE}'
    assert error_of(parse_label_selector, "/a") == \
        'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'
    assert error_of(parse_label_selector, "Example.com/a") == (
        'unable to parse requirement: <nil>: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 '
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
        "with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    long_key = "k" * 64
    assert error_of(parse_label_selector, long_key) == \
        f'unable to parse requirement: <nil>: Invalid value: "{long_key}": name part must be no more than 63 characters'


def test_invalid_label_values():
    assert error_of(parse_label_selector, "a=b@") == \
        f'unable to parse requirement: values[0][a]: Invalid value: "b@": {VALUE_RULE}'
    assert error_of(parse_label_selector, "a in (ok,-bad)") == \
        f'unable to parse requirement: values[0][a]: Invalid value: "-bad": {VALUE_RULE}'
    long_value = "v" * 64
    assert error_of(parse_label_selector, f"a={long_value}") == \
        f'unable to parse requirement: values[0][a]: Invalid value: "{long_value}": must be no more than 63 characters'
    assert error_of(parse_label_selector, 'a="q"') == \
        f'unable to parse requirement: values[0][a]: Invalid value: "\\"q\\"": {VALUE_RULE}'


def test_numeric_operators_need_an_integer():
    assert error_of(parse_label_selector, "a>x") == \
        "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"
    assert error_of(parse_label_selector, "a<") == \
        "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer"
    assert error_of(parse_label_selector, "a>-1") == \
        f'unable to parse requirement: values[0][a]: Invalid value: "-1": {VALUE_RULE}'


def test_nul_ends_the_selector_like_the_end_of_input():
    # Go's lexer reads a NUL byte exactly as it reads the end of the string.
    assert str(parse_label_selector("a\0")) == "a"
    assert error_of(parse_label_selector, "a, \0b") == "found '', expected: identifier after ','"


# --- metav1.LabelSelector ------------------------------------------------------------------------

def test_selector_object_none_matches_nothing_and_empty_matches_everything():
    nothing = label_selector_from_object(None)
    assert not nothing.matches({}) and not nothing.matches({"a": "b"})
    assert not nothing.empty and str(nothing) == ""
    for everything in (label_selector_from_object({}),
                       label_selector_from_object({"matchLabels": {}, "matchExpressions": []})):
        assert everything.empty and everything.matches({}) and everything.matches({"a": "b"})


def test_selector_object_requirements():
    sel = label_selector_from_object({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "env", "operator": "NotIn", "values": ["dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "team", "operator": "Exists", "values": []},
        ]})
    assert str(sel) == "app=web,!canary,env notin (dev),team,tier in (a,b)"
    assert sel.matches({"app": "web", "tier": "a", "team": "x"})
    assert not sel.matches({"app": "web", "tier": "a", "team": "x", "canary": "1"})
    assert not sel.matches({"app": "web", "tier": "c", "team": "x"})
    assert not sel.matches({"app": "web", "tier": "a", "team": "x", "env": "dev"})


def test_selector_object_errors():
    assert error_of(label_selector_from_object, {"matchExpressions": [{"key": "a", "operator": "Equals"}]}) == \
        '"Equals" is not a valid label selector operator'
    assert error_of(label_selector_from_object, {"matchExpressions": [{"key": "a", "operator": "In"}]}) == \
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
    assert error_of(label_selector_from_object,
                    {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x", "y"]}]}) == \
        'values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does not exist'
    assert error_of(label_selector_from_object, {"matchLabels": {"a b": "c"}}) == \
        f'key: Invalid value: "a b": name part {QNAME_RULE}'
    assert error_of(label_selector_from_object, {"matchLabels": {"a": "c d"}}) == \
        f'values[0][a]: Invalid value: "c d": {VALUE_RULE}'
    # Several problems in one requirement come back together, as kube aggregates them.
    assert error_of(label_selector_from_object, {"matchExpressions": [{"key": "!", "operator": "NotIn"}]}) == (
        f'[key: Invalid value: "!": name part {QNAME_RULE}, '
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty]")


# --- field selectors: grammar --------------------------------------------------------------------

NAMED = {"metadata": {"name": "cm", "namespace": "ns"}}


@pytest.mark.parametrize("text,matches", [
    ("", True),
    ("metadata.name=cm", True),
    ("metadata.name==cm", True),
    ("metadata.name!=cm", False),
    ("metadata.name=other", False),
    ("metadata.name!=other", True),
    ("metadata.name=cm,metadata.namespace=ns", True),
    ("metadata.name=cm,metadata.namespace!=ns", False),
    ("metadata.name=cm,,", True),
    ("metadata.namespace=", False),
])
def test_field_operators(text, matches):
    sel = field_selector(text, "", "configmaps")
    assert sel.matches(NAMED) is matches
    assert sel.empty is (text == "")


def test_field_selector_without_terms_is_empty():
    assert field_selector(",", "", "configmaps").empty


@pytest.mark.parametrize("text,message", [
    ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    ("metadata.name=a,oops", "invalid selector: 'metadata.name=a,oops'; can't understand 'oops'"),
    # Terms are sorted before they are examined, so the first bad one in sorted order is reported.
    ("zzz,aaa", "invalid selector: 'zzz,aaa'; can't understand 'aaa'"),
    ("metadata.name=a=b", "invalid field selector: unescaped character in value: 61"),
    ("metadata.name=a\\b", "invalid field selector: invalid escape sequence: \\b"),
    ("metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
])
def test_field_syntax_errors(text, message):
    assert error_of(field_selector, text, "", "configmaps") == message


def test_field_escapes():
    obj = {"metadata": {"name": "a,b=c\\d"}}
    sel = field_selector("metadata.name=a\\,b\\=c\\\\d", "", "configmaps")
    assert sel.matches(obj)
    assert not sel.matches({"metadata": {"name": "a"}})
    # "==" wins over "=" at the same position, so the value does not start with "=".
    assert field_selector("metadata.name==x", "", "configmaps").matches({"metadata": {"name": "x"}})
    # An escaped comma does not split terms.
    assert len(field_selector("metadata.name=a\\,b", "", "configmaps").terms) == 1


def test_unsupported_fields():
    assert error_of(field_selector, "spec.nope=1", "", "configmaps") == \
        '"spec.nope" is not a known field selector: only "metadata.name", "metadata.namespace"'
    assert error_of(field_selector, "foo=bar", "", "pods") == "field label not supported: foo"
    assert error_of(field_selector, "status.successful=1,x=1", "batch", "jobs") == \
        'field label "x" not supported for batchv1.Job'
    # apps/v1 registers no conversion for ReplicaSets, so status.replicas is refused there.
    assert error_of(field_selector, "status.replicas=0", "apps", "replicasets") == \
        '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'
    # Syntax is checked for every term before any label is converted.
    assert error_of(field_selector, "foo=bar,zzz", "", "pods") == \
        "invalid selector: 'foo=bar,zzz'; can't understand 'zzz'"


# --- field selectors: per kind -------------------------------------------------------------------

def selects(group: str, resource: str, text: str, obj: dict) -> bool:
    return field_selector(text, group, resource).matches(obj)


POD = {
    "metadata": {"name": "p", "namespace": "ns"},
    "spec": {"nodeName": "node-1", "restartPolicy": "Always", "schedulerName": "default-scheduler",
             "serviceAccountName": "sa", "hostNetwork": True},
    "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
               "nominatedNodeName": "node-2"},
}


@pytest.mark.parametrize("text", [
    "metadata.name=p", "metadata.namespace=ns", "spec.nodeName=node-1", "spec.host=node-1",
    "spec.restartPolicy=Always", "spec.schedulerName=default-scheduler", "spec.serviceAccountName=sa",
    "spec.hostNetwork=true", "status.phase=Running", "status.podIP=10.0.0.1", "status.nominatedNodeName=node-2",
    "status.podIPs=",
])
def test_pod_fields(text):
    assert selects("", "pods", text, POD)


def test_pod_field_defaults():
    bare = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"serviceAccount": "legacy"},
            "status": {"podIPs": [{"ip": "10.1.1.1"}]}}
    assert selects("", "pods", "spec.hostNetwork=false", bare)
    assert selects("", "pods", "spec.nodeName=", bare)
    assert selects("", "pods", "spec.serviceAccountName=legacy", bare)
    assert selects("", "pods", "status.podIP=10.1.1.1", bare)
    assert selects("", "pods", "status.phase!=Running", bare)


def test_node_fields():
    node = {"metadata": {"name": "n"}, "spec": {"unschedulable": True}}
    assert selects("", "nodes", "spec.unschedulable=true,metadata.name=n", node)
    assert selects("", "nodes", "spec.unschedulable=false", {"metadata": {"name": "m"}, "spec": {}})
    assert error_of(field_selector, "metadata.namespace=x", "", "nodes") == \
        "field label not supported: metadata.namespace"


def test_namespace_secret_service_fields():
    assert selects("", "namespaces", "status.phase=Active", {"metadata": {"name": "x"}, "status": {"phase": "Active"}})
    assert error_of(field_selector, "metadata.namespace=x", "", "namespaces") == \
        "field label not supported: metadata.namespace"
    assert selects("", "secrets", "type=kubernetes.io/tls", {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"})
    assert not selects("", "secrets", "type=kubernetes.io/tls", {"metadata": {"name": "s"}, "type": "Opaque"})
    svc = {"metadata": {"name": "s", "namespace": "ns"}, "spec": {"clusterIP": "10.96.0.10", "type": "ClusterIP"}}
    assert selects("", "services", "spec.clusterIP=10.96.0.10,spec.type=ClusterIP", svc)
    assert error_of(field_selector, "spec.ports=1", "", "services") == "field label not supported: spec.ports"


def test_counted_fields_render_as_decimal_with_zero_default():
    assert selects("", "replicationcontrollers", "status.replicas=3", {"metadata": {}, "status": {"replicas": 3}})
    assert selects("", "replicationcontrollers", "status.replicas=0", {"metadata": {}})
    assert selects("batch", "jobs", "status.successful=2", {"metadata": {}, "status": {"succeeded": 2}})
    assert selects("batch", "jobs", "status.successful=0", {"metadata": {}, "status": {}})


def test_certificate_signing_request_fields():
    csr = {"metadata": {"name": "c"}, "spec": {"signerName": "kubernetes.io/kubelet-serving"}}
    assert selects("certificates.k8s.io", "certificatesigningrequests", "spec.signerName=kubernetes.io/kubelet-serving", csr)
    assert error_of(field_selector, "metadata.namespace=", "certificates.k8s.io", "certificatesigningrequests") == \
        "field label not supported: metadata.namespace"


CORE_EVENT = {
    "metadata": {"name": "e", "namespace": "ns"},
    "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "p", "uid": "u-1", "apiVersion": "v1",
                       "resourceVersion": "7", "fieldPath": "spec.containers{c}"},
    "reason": "Started", "type": "Normal", "reportingComponent": "kubelet", "source": {"component": "kubelet"},
}


@pytest.mark.parametrize("text", [
    "involvedObject.kind=Pod", "involvedObject.namespace=ns", "involvedObject.name=p", "involvedObject.uid=u-1",
    "involvedObject.apiVersion=v1", "involvedObject.resourceVersion=7",
    "involvedObject.fieldPath=spec.containers{c}", "reason=Started", "reportingComponent=kubelet",
    "source=kubelet", "type=Normal", "metadata.name=e", "metadata.namespace=ns",
])
def test_core_event_fields(text):
    assert selects("", "events", text, CORE_EVENT)


def test_event_source_falls_back_to_the_reporting_controller():
    assert selects("", "events", "source=ctrl", {"metadata": {}, "reportingComponent": "ctrl"})
    assert selects("events.k8s.io", "events", "source=ctrl", {"metadata": {}, "reportingController": "ctrl"})
    assert selects("events.k8s.io", "events", "source=old",
                   {"metadata": {}, "reportingController": "ctrl", "deprecatedSource": {"component": "old"}})


EVENTS_V1 = {
    "metadata": {"name": "e", "namespace": "ns"},
    "regarding": {"kind": "Pod", "namespace": "ns", "name": "p", "uid": "u-1", "apiVersion": "v1",
                  "resourceVersion": "7", "fieldPath": "spec"},
    "reason": "Started", "type": "Warning", "reportingController": "kubelet",
}


@pytest.mark.parametrize("text", [
    "regarding.kind=Pod", "regarding.namespace=ns", "regarding.name=p", "regarding.uid=u-1",
    "regarding.apiVersion=v1", "regarding.resourceVersion=7", "regarding.fieldPath=spec", "reason=Started",
    "reportingController=kubelet", "type=Warning", "metadata.name=e", "metadata.namespace=ns",
])
def test_events_v1_fields(text):
    assert selects("events.k8s.io", "events", text, EVENTS_V1)


def test_events_v1_uses_its_own_names():
    assert error_of(field_selector, "involvedObject.name=p", "events.k8s.io", "events") == \
        "field label not supported: involvedObject.name"
    assert error_of(field_selector, "regarding.name=p", "", "events") == \
        "field label not supported: regarding.name"


def test_metadata_namespace_of_cluster_scoped_kinds_without_a_conversion_reads_empty():
    role = {"metadata": {"name": "admin"}}
    assert selects("rbac.authorization.k8s.io", "clusterroles", "metadata.namespace=", role)
    assert not selects("rbac.authorization.k8s.io", "clusterroles", "metadata.namespace=default", role)


def test_custom_resource_selectable_fields():
    widgets = custom_field_set({"spec.color": ".spec.color", "spec.size": ".spec.size", "spec.on": ".spec.on"})
    widget = {"metadata": {"name": "w", "namespace": "ns"}, "spec": {"color": "blue", "size": 3, "on": False}}
    assert selectors.parse_field_selector("spec.color=blue,spec.size=3,spec.on=false", widgets).matches(widget)
    assert selectors.parse_field_selector("metadata.namespace=ns", widgets).matches(widget)
    assert selectors.parse_field_selector("spec.color=", widgets).matches({"metadata": {"name": "x"}})
    assert error_of(selectors.parse_field_selector, "spec.shape=round", widgets) == \
        "field label not supported: spec.shape"


def test_cluster_scoped_custom_resources_refuse_metadata_namespace():
    gadgets = custom_field_set({}, namespaced=False)
    assert selectors.parse_field_selector("metadata.name=g", gadgets).matches({"metadata": {"name": "g"}})
    assert error_of(selectors.parse_field_selector, "metadata.namespace=", gadgets) == \
        "field label not supported: metadata.namespace"


def test_field_sets_are_per_resource():
    # Each custom resource's strategy holds its own set: one CRD's fields never leak into another's.
    custom_field_set({"spec.a": ".spec.a"})
    b = custom_field_set({"spec.b": ".spec.b"})
    selectors.parse_field_selector("spec.b=1", b)
    assert error_of(selectors.parse_field_selector, "spec.a=1", b) == "field label not supported: spec.a"


@pytest.mark.parametrize("obj,path,rendered", [
    ({"a": {"b": "text"}}, "a.b", "text"),
    ({"a": {"b": True}}, "a.b", "true"),
    ({"a": {"b": False}}, "a.b", "false"),
    ({"a": {"b": 42}}, "a.b", "42"),
    ({"a": {"b": -7}}, "a.b", "-7"),
    ({"a": {"b": 1.5}}, "a.b", "1.5"),
    ({"a": {"b": 100.0}}, "a.b", "100"),
    ({"a": {"b": None}}, "a.b", ""),
    ({"a": {}}, "a.b", ""),
    ({"a": "scalar"}, "a.b", ""),
    ({}, "a.b", ""),
])
def test_field_value_rendering(obj, path, rendered):
    assert field_value(obj, path) == rendered
