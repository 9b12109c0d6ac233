"""kube-apiserver's exact wire form, byte for byte: Status bodies, key order, escaping, paths.

Expected bodies are written out as kube-apiserver writes them (metav1.Status through Go's
encoding/json: struct field order, omitempty, HTML-safe escaping, a trailing newline), so a
client that compares error text sees no difference.
"""
from __future__ import annotations

import json
import time

import kubernetes
import pytest

from conformance.helpers import raw_bytes as raw
from conformance.helpers import billion_laughs, status_bytes
from vapi.testing import ServerProcess

SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
             "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("wire"), extra_args=("--history-events", "50")).start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def client(server):
    api = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    yield api
    api.close()


def test_already_exists(client):
    raw(client, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "dup"}})
    status, body = raw(client, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "dup"}})
    assert status == 409
    assert body == status_bytes(r'"configmaps \"dup\" already exists"', "AlreadyExists", 409,
                                '{"name":"dup","kind":"configmaps"}')


def test_not_found_names_the_group_when_there_is_one(client):
    status, body = raw(client, "GET", "/api/v1/namespaces/default/configmaps/nope")
    assert (status, body) == (404, status_bytes(r'"configmaps \"nope\" not found"', "NotFound", 404,
                                                '{"name":"nope","kind":"configmaps"}'))
    status, body = raw(client, "GET", "/apis/apps/v1/namespaces/default/deployments/nope")
    assert (status, body) == (404, status_bytes(r'"deployments.apps \"nope\" not found"', "NotFound", 404,
                                                '{"name":"nope","group":"apps","kind":"deployments"}'))


def test_invalid_with_causes(client):
    status, body = raw(client, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "Bad_Name"}})
    assert status == 422
    cause = f'Invalid value: \\"Bad_Name\\": {SUBDOMAIN}'
    assert body == status_bytes(
        f'"ConfigMap \\"Bad_Name\\" is invalid: metadata.name: {cause}"', "Invalid", 422,
        f'{{"name":"Bad_Name","kind":"ConfigMap","causes":[{{"reason":"FieldValueInvalid","message":"{cause}",'
        f'"field":"metadata.name"}}]}}')


def test_expired_list(client):
    _, created = raw(client, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "old"}})
    first = json.loads(created)["metadata"]["resourceVersion"]
    for i in range(120):
        raw(client, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": f"churn-{i}"}})
    deadline = time.monotonic() + 20
    while True:
        status, body = raw(client, "GET", f"/api/v1/namespaces/default/configmaps?resourceVersion={first}"
                                          "&resourceVersionMatch=Exact")
        if status == 410 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert (status, body) == (410, status_bytes('"The resourceVersion for the provided list is too old."',
                                                "Expired", 410))


def test_too_large_resource_version(client):
    status, body = raw(client, "GET", "/api/v1/namespaces/default/configmaps?resourceVersion=99999999")
    current = json.loads(body)["message"].rpartition(" ")[2] if status == 504 else None
    assert (status, body) == (504, status_bytes(
        f'"Timeout: Too large resource version: 99999999, current: {current}"', "Timeout", 504,
        '{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1}'))


def test_paths_no_route_serves(client):
    """Under /api and /apis kube's router answers a Status whose details are empty but present;
    outside them Go's http.NotFound answers, in plain text."""
    assert raw(client, "GET", "/api/v1/nonsense") == (404, status_bytes(
        '"the server could not find the requested resource"', "NotFound", 404, "{}"))
    assert raw(client, "PUT", "/api/v1/namespaces/default/configmaps", {}) == (405, status_bytes(
        '"the server does not allow this method on the requested resource"', "MethodNotAllowed", 405, "{}"))
    for path in ("/nonsense", "/healthz/", "/livez/", "/readyz/"):
        assert raw(client, "GET", path) == (404, b"404 page not found\n")
    assert raw(client, "GET", "/healthz/ping") == (200, b"ok")


def keys(body: bytes) -> list[str]:
    return list(json.loads(body))


def test_objects_lists_and_events_in_go_field_order(client, server):
    _, ns = raw(client, "POST", "/api/v1/namespaces", {"metadata": {"labels": {"b": "2", "a": "1"}, "name": "order"}})
    assert keys(ns) == ["kind", "apiVersion", "metadata", "spec", "status"]
    meta = json.loads(ns)["metadata"]
    assert list(meta) == ["name", "uid", "resourceVersion", "creationTimestamp", "labels", "managedFields"]
    assert list(meta["labels"]) == ["a", "b", "kubernetes.io/metadata.name"]
    _, pod = raw(client, "POST", "/api/v1/namespaces/order/pods", {
        "spec": {"containers": [{"image": "nginx", "name": "web", "ports": [{"protocol": "TCP", "containerPort": 80}]}]},
        "metadata": {"name": "p"}})
    pod = json.loads(pod)
    assert list(pod) == ["kind", "apiVersion", "metadata", "spec", "status"]
    assert list(pod["metadata"])[:5] == ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"]
    assert list(pod["spec"]["containers"][0])[:3] == ["name", "image", "ports"]
    assert list(pod["spec"]["containers"][0]["ports"][0]) == ["containerPort", "protocol"]
    status, listed = raw(client, "GET", "/api/v1/namespaces/order/pods")
    assert keys(listed) == ["kind", "apiVersion", "metadata", "items"]
    assert listed.endswith(b"}\n")
    status, events = raw(client, "GET", "/api/v1/namespaces/order/pods?watch=1&timeoutSeconds=1")
    first = events.splitlines()[0]
    assert first.startswith(b'{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p",')


def test_custom_resources_are_maps_with_sorted_keys(client, kubectl_crd):
    _, widget = raw(client, "POST", "/apis/wire.example.com/v1/namespaces/default/widgets",
                    {"kind": "Widget", "apiVersion": "wire.example.com/v1", "spec": {"z": 1, "a": 2},
                     "metadata": {"name": "w"}})
    widget_obj = json.loads(widget)
    assert list(widget_obj) == ["apiVersion", "kind", "metadata", "spec"]
    assert list(widget_obj["metadata"]) == sorted(widget_obj["metadata"])
    assert list(widget_obj["spec"]) == ["a", "z"]
    _, listed = raw(client, "GET", "/apis/wire.example.com/v1/namespaces/default/widgets")
    assert keys(listed) == ["apiVersion", "items", "kind", "metadata"]


def test_custom_resource_rows_type_only_their_metadata(client, kubectl_crd):
    """A Table row's PartialObjectMetadata is a Go struct even for a custom resource; the object
    itself, asked for whole, stays a map."""
    raw(client, "POST", "/apis/wire.example.com/v1/namespaces/default/widgets",
        {"spec": {"b": 1, "a": 2}, "metadata": {"labels": {"x": "1"}, "name": "row"},
         "kind": "Widget", "apiVersion": "wire.example.com/v1"})
    table_of = "application/json;as=Table;v=v1;g=meta.k8s.io"
    _, table = raw(client, "GET", "/apis/wire.example.com/v1/namespaces/default/widgets/row", accept=table_of)
    meta = json.loads(table)["rows"][0]["object"]["metadata"]
    assert list(meta) == ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "labels",
                          "managedFields"]
    _, table = raw(client, "GET", "/apis/wire.example.com/v1/namespaces/default/widgets/row?includeObject=Object",
                   accept=table_of)
    widget = json.loads(table)["rows"][0]["object"]
    assert list(widget) == ["apiVersion", "kind", "metadata", "spec"]
    assert list(widget["metadata"]) == sorted(widget["metadata"]) and list(widget["spec"]) == ["a", "b"]


@pytest.fixture
def kubectl_crd(client):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.wire.example.com"},
           "spec": {"group": "wire.example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {
                            "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}}
    raw(client, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    deadline = time.monotonic() + 10
    while raw(client, "GET", "/apis/wire.example.com/v1/namespaces/default/widgets")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_strings_escaped_as_go_escapes_them(client):
    _, body = raw(client, "POST", "/api/v1/namespaces/default/configmaps",
                  {"metadata": {"name": "html"}, "data": {"k": "<a href='x'>&amp;</a>\u2028"}})
    assert b'"k":"\\u003ca href=\'x\'\\u003e\\u0026amp;\\u003c/a\\u003e\\u2028"' in body
    assert json.loads(body)["data"]["k"] == "<a href='x'>&amp;</a>\u2028"


@pytest.mark.parametrize("path", ["/version", "/api", "/apis", "/api/v1", "/apis/apps", "/apis/apps/v1"])
def test_trailing_slash_paths_answer_as_without(client, path):
    plain = raw(client, "GET", path)
    slashed = raw(client, "GET", path + "/")
    assert plain[0] == slashed[0] == 200
    assert plain[1] == slashed[1]


def test_version_is_indented_as_kube_writes_it(client):
    status, body = raw(client, "GET", "/version/")
    assert status == 200 and body.startswith(b'{\n  "major": "')


def test_yaml_alias_bomb_is_refused_at_once(client):
    """The ~600-byte "billion laughs" document (CVE-2019-11253): refused before anything is built."""
    cfg = client.configuration
    started = time.monotonic()
    resp = client.rest_client.pool_manager.request(
        "POST", cfg.host + "/api/v1/namespaces/default/configmaps", body=billion_laughs(),
        headers={"Content-Type": "application/yaml", "Accept": "application/json"}, timeout=30)
    assert time.monotonic() - started < 2
    assert resp.status == 400
    assert json.loads(resp.data)["message"] == "error decoding request body: yaml: document contains excessive aliasing"
    assert raw(client, "GET", "/api/v1/namespaces/default/configmaps/lol")[0] == 404


@pytest.mark.parametrize("content_type,depth", [("application/json", 250), ("application/json", 5000),
                                                ("application/yaml", 250), ("application/yaml", 5000)])
def test_bodies_nested_past_the_bound_are_a_clean_400(client, content_type, depth):
    """Every step after decoding walks the body recursively; a body deeper than the bound is refused
    where it is read, as a Status, and the server goes on answering."""
    if content_type == "application/json":
        body = '{"metadata":{"name":"deep"},"data":' + '{"a":' * depth + '1' + '}' * depth + '}'
    else:
        body = "metadata: {name: deep}\ndata: " + "{a: " * depth + "1" + "}" * depth + "\n"
    resp = client.rest_client.pool_manager.request(
        "POST", client.configuration.host + "/api/v1/namespaces/default/configmaps", body=body,
        headers={"Content-Type": content_type, "Accept": "application/json"}, timeout=30)
    assert resp.status == 400
    status = json.loads(resp.data)
    assert status["kind"] == "Status" and status["reason"] == "BadRequest"
    if depth == 250:
        assert status["message"] == "error decoding request body: exceeded max depth of 200"
    assert raw(client, "GET", "/version")[0] == 200
