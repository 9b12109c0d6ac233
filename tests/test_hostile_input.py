"""What a fuzzer sent that once broke the server: each is now a Status answer, stores nothing, and
leaves the server answering."""
from __future__ import annotations

import base64
import json
import threading
import time
from urllib.parse import quote

import kubernetes
import pytest

from conformance.helpers import raw
from vapi.testing import ServerProcess


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("hostile")).start()
    api = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    yield api
    api.close()
    server.cleanup()


def status_of(result, code: int) -> dict:
    status, body = result
    assert status == code, body
    assert isinstance(body, dict) and body["kind"] == "Status", body
    return body


def test_unknown_field_names_with_newlines_become_a_clean_warning(client):
    body = json.dumps({"metadata": {"name": "warned"}, "data": {}, "bad\r\nfield": 1})
    cfg = client.configuration
    resp = client.rest_client.pool_manager.request(
        "POST", cfg.host + "/api/v1/namespaces/default/configmaps", body=body,
        headers={"Content-Type": "application/json"}, timeout=10)
    assert resp.status == 201
    assert resp.headers["Warning"] == '299 - "unknown field \\"bad  field\\""'


@pytest.mark.parametrize("query", ["limit=1000000000000000000000000000000", "limit=1e3", "limit=+5",
                                   "watch=1&timeoutSeconds=99999999999999999999999"])
def test_integer_parameters_out_of_range_are_bad_requests(client, query):
    body = status_of(raw(client, "GET", "/api/v1/namespaces/default/configmaps", query=query), 400)
    assert body["message"].endswith("is not an integer")


@pytest.mark.parametrize("version", [" 1", "+5", "-1", "1e3", "١", "99999999999999999999"])
def test_resource_versions_are_decimal_digits(client, version):
    body = status_of(raw(client, "GET", "/api/v1/namespaces/default/configmaps",
                         query=f"resourceVersion={quote(version)}&resourceVersionMatch=Exact"), 400)
    assert body["message"] == f'invalid resource version: "{version}"'


@pytest.mark.parametrize("token", [{"v": "meta.k8s.io/v1", "rv": 5}, {"v": "meta.k8s.io/v1", "rv": 10 ** 30,
                                                                        "start": "a"}])
def test_continue_tokens_that_do_not_decode(client, token):
    encoded = base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")
    body = status_of(raw(client, "GET", "/api/v1/namespaces/default/configmaps", query=f"limit=1&continue={encoded}"),
                     400)
    assert body["message"].startswith("continue key is not valid")


@pytest.mark.parametrize("options,message", [
    ({"preconditions": "x"}, "json: cannot unmarshal string into Go struct field DeleteOptions.preconditions of "
                             "type v1.Preconditions"),
    ({"gracePeriodSeconds": "soon"}, "json: cannot unmarshal string into Go struct field "
                                     "DeleteOptions.gracePeriodSeconds of type int64"),
])
def test_delete_options_of_the_wrong_type(client, options, message):
    raw(client, "POST", "/api/v1/namespaces/default/configmaps", json.dumps({"metadata": {"name": "kept"}}))
    body = status_of(raw(client, "DELETE", "/api/v1/namespaces/default/configmaps/kept", json.dumps(options)), 400)
    assert body["message"] == message
    assert raw(client, "GET", "/api/v1/namespaces/default/configmaps/kept")[0] == 200


def test_scale_patches_of_the_wrong_shape(client):
    raw(client, "POST", "/apis/apps/v1/namespaces/default/deployments", json.dumps({
        "metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
    body = status_of(raw(client, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                         json.dumps({"spec": "three"}), content_type="application/merge-patch+json"), 400)
    assert body["reason"] == "BadRequest"
    status, deploy = raw(client, "GET", "/apis/apps/v1/namespaces/default/deployments/web")
    assert deploy["spec"]["replicas"] == 1


def test_a_long_generate_name_is_shortened_as_kube_does(client):
    status, created = raw(client, "POST", "/api/v1/namespaces/default/configmaps",
                          json.dumps({"metadata": {"generateName": "g" * 253}}))
    assert status == 201, created
    name = created["metadata"]["name"]
    assert len(name) == 63 and name.startswith("g" * 58)


def test_long_request_lines_and_headers_are_read(client):
    selector = "metadata.name!=" + "x" * 10_000
    status, listed = raw(client, "GET", "/api/v1/namespaces/default/configmaps", query=f"fieldSelector={selector}")
    assert status == 200 and listed["kind"] == "ConfigMapList"
    status, _ = raw(client, "GET", "/version", headers={"X-Long": "y" * 20_000})
    assert status == 200


def test_cel_rules_on_a_huge_list_run_out_of_budget(client):
    """Every item's rule costs something; together they are bounded by kube's per-object budget, so
    a CR with hundreds of thousands of items is refused instead of holding the server."""
    rule = " && ".join(["self.size() < 100"] + [f"self != 'v{i}'" for i in range(6)])
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "budgets.cel.example.com"},
           "spec": {"group": "cel.example.com", "scope": "Namespaced",
                    "names": {"plural": "budgets", "singular": "budget", "kind": "Budget"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "properties": {"items": {
                            "type": "array", "items": {"type": "string",
                                                       "x-kubernetes-validations": [{"rule": rule}]}}}}}}}}]}}
    status, _ = raw(client, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json.dumps(crd))
    assert status == 201
    path = "/apis/cel.example.com/v1/namespaces/default/budgets"
    for _ in range(100):
        if raw(client, "GET", path)[0] == 200:
            break
        time.sleep(0.05)
    small = {"apiVersion": "cel.example.com/v1", "kind": "Budget", "metadata": {"name": "small"},
             "spec": {"items": ["a"] * 1000}}
    assert raw(client, "POST", path, json.dumps(small))[0] == 201
    huge = dict(small, metadata={"name": "huge"}, spec={"items": ["a"] * 400_000})
    answer, pings = {}, []

    def post():
        answer["result"] = raw(client, "POST", path, json.dumps(huge))
    started = time.monotonic()
    poster = threading.Thread(target=post)
    poster.start()
    while poster.is_alive():
        # Another client keeps being answered while the rules run.
        begun = time.monotonic()
        assert raw(client, "GET", "/api/v1/namespaces/default")[0] == 200
        pings.append(time.monotonic() - begun)
        time.sleep(0.05)
    poster.join()
    print(f"400,000-item CR refused in {time.monotonic() - started:.2f}s; meanwhile {len(pings)} reads, "
          f"slowest {max(pings):.2f}s")
    assert max(pings) < 1.0
    status, body = answer["result"]
    assert status == 422
    assert ("validation failed due to running out of cost budget, no further validation rules will be run"
            in body["message"])
    assert raw(client, "GET", path + "/huge")[0] == 404
