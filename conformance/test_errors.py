"""Every failure is a Status with the right code and reason, and stores nothing."""
from __future__ import annotations

import json
import time

import pytest

from .helpers import assert_status, billion_laughs, expect_status, raw


def _cm_path(namespace, name=""):
    return f"/api/v1/namespaces/{namespace}/configmaps" + (f"/{name}" if name else "")


def _names(core, namespace):
    return {c.metadata.name for c in core.list_namespaced_config_map(namespace).items}


def test_malformed_json_is_bad_request(api_client, core, namespace):
    status, body = raw(api_client, "POST", _cm_path(namespace), b'{"metadata": {"name": "x"')
    assert_status(status, body, 400, "BadRequest")
    assert "x" not in _names(core, namespace)


def test_malformed_yaml_is_bad_request(api_client, namespace):
    status, body = raw(api_client, "POST", _cm_path(namespace), b"metadata: [unclosed", "application/yaml")
    assert_status(status, body, 400, "BadRequest")


def test_yaml_body_is_accepted(api_client, core, namespace):
    status, body = raw(api_client, "POST", _cm_path(namespace),
                       b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: b\n",
                       "application/yaml")
    assert status == 201, body
    assert core.read_namespaced_config_map("from-yaml", namespace).data == {"a": "b"}


@pytest.mark.parametrize("doc", [
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"}},
    {"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "k"}},
])
def test_kind_or_version_not_matching_url(api_client, core, namespace, doc):
    status, body = raw(api_client, "POST", _cm_path(namespace), json.dumps(doc))
    assert_status(status, body, 400, "BadRequest")
    assert "k" not in _names(core, namespace)


def test_body_over_limit(api_client, core, namespace):
    doc = {"metadata": {"name": "big"}, "data": {"a": "x" * (3 * 1024 * 1024 + 10)}}
    status, body = raw(api_client, "POST", _cm_path(namespace), json.dumps(doc))
    # kube-apiserver refuses bodies over 3 MiB before decoding them.
    assert_status(status, body, 413, "RequestEntityTooLarge")
    assert "big" not in _names(core, namespace)


def test_wrong_field_type_is_bad_request(api_client, namespace):
    doc = {"metadata": {"name": "t"}, "data": ["not", "a", "map"]}
    status, body = raw(api_client, "POST", _cm_path(namespace), json.dumps(doc))
    assert_status(status, body, 400, "BadRequest")


def test_anonymous_is_forbidden(api_client, namespace):
    # With anonymous requests on (kube's default), a request without credentials is system:anonymous,
    # which RBAC grants nothing here.
    import urllib3
    pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=api_client.configuration.ssl_ca_cert)
    resp = pool.request("GET", api_client.configuration.host + _cm_path(namespace))
    body = json.loads(resp.data)
    assert_status(resp.status, body, 403, "Forbidden")
    assert body["message"] == ('configmaps is forbidden: User "system:anonymous" cannot list resource "configmaps" '
                               f'in API group "" in the namespace "{namespace}"')


def test_method_not_allowed(api_client, namespace):
    status, body = raw(api_client, "PUT", _cm_path(namespace), b"{}")
    assert_status(status, body, 405, "MethodNotAllowed")
    status, body = raw(api_client, "DELETE", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x")
    assert status in (404, 405), body


def test_unknown_resource_is_404(api_client):
    status, body = raw(api_client, "GET", "/api/v1/nothings")
    assert_status(status, body, 404, "NotFound")
    status, body = raw(api_client, "GET", "/apis/nope.example.com/v1/things")
    assert_status(status, body, 404, "NotFound")


@pytest.mark.parametrize("name", ["Bad_Name", "-lead", "a" * 254])
def test_invalid_name_is_422_with_causes(core, namespace, name):
    status = expect_status(lambda: core.create_namespaced_config_map(namespace, {"metadata": {"name": name}}),
                           422, "Invalid")
    causes = status["details"]["causes"]
    assert causes and causes[0]["field"] == "metadata.name"
    assert status["details"]["kind"] == "ConfigMap"
    assert name not in _names(core, namespace)


def test_missing_required_fields_is_422(core, namespace):
    status = expect_status(lambda: core.create_namespaced_pod(namespace, {"metadata": {"name": "p"},
                                                                         "spec": {"containers": []}}),
                           422, "Invalid")
    assert any(c["field"].startswith("spec.containers") for c in status["details"]["causes"])


def test_immutable_field_change_is_422(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "frozen"}, "data": {"a": "1"},
                                                  "immutable": True})
    status = expect_status(lambda: core.patch_namespaced_config_map("frozen", namespace, {"data": {"a": "2"}}),
                           422, "Invalid")
    assert status["details"]["causes"]
    assert core.read_namespaced_config_map("frozen", namespace).data == {"a": "1"}


def test_name_mismatch_on_update(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "one"}})
    expect_status(lambda: core.replace_namespaced_config_map("one", namespace, {"metadata": {"name": "two"}}),
                  400, "BadRequest")


def test_invalid_dry_run_value(api_client, namespace):
    status, body = raw(api_client, "POST", _cm_path(namespace), json.dumps({"metadata": {"name": "d"}}),
                       query="dryRun=Sometimes")
    assert_status(status, body, 400, "BadRequest")


def test_unsupported_media_type(api_client, namespace):
    status, body = raw(api_client, "POST", _cm_path(namespace), b"<xml/>", "application/xml")
    assert_status(status, body, 415, "UnsupportedMediaType")


def test_field_validation_modes(api_client, core, namespace):
    doc = json.dumps({"metadata": {"name": "fv"}, "data": {"a": "b"}, "bogus": 1, "metadata2": {}})
    status, body = raw(api_client, "POST", _cm_path(namespace), doc, query="fieldValidation=Strict")
    body = assert_status(status, body, 400, "BadRequest")
    assert 'strict decoding error: unknown field "bogus", unknown field "metadata2"' in body["message"]
    assert "fv" not in _names(core, namespace)

    resp = api_client.rest_client.pool_manager.request(
        "POST", api_client.configuration.host + _cm_path(namespace) + "?fieldValidation=Warn", body=doc,
        headers={"Content-Type": "application/json", "Accept": "application/json"})
    assert resp.status == 201
    assert '299 - "unknown field \\"bogus\\""' in resp.headers.getlist("Warning")
    stored = core.read_namespaced_config_map("fv", namespace)
    assert stored.data == {"a": "b"}

    status, body = raw(api_client, "POST", _cm_path(namespace), doc.replace('"fv"', '"fv2"'),
                       query="fieldValidation=Ignore")
    assert status == 201 and "bogus" not in body

    status, body = raw(api_client, "POST", _cm_path(namespace), doc, query="fieldValidation=Loose")
    assert_status(status, body, 400, "BadRequest")


def test_kubectl_refuses_unknown_fields(kubectl, namespace, tmp_path):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {a: b}\nspec: {x: 1}\n")
    result = kubectl("-n", namespace, "apply", "-f", str(manifest), check=False)
    assert result.returncode != 0
    assert 'unknown field "spec"' in result.stderr


def test_duplicate_fields(api_client, core, namespace):
    doc = '{"metadata": {"name": "dup", "name": "dup"}, "data": {"a": "1", "a": "2"}}'
    status, body = raw(api_client, "POST", _cm_path(namespace), doc, query="fieldValidation=Strict")
    body = assert_status(status, body, 400, "BadRequest")
    assert 'duplicate field "metadata.name"' in body["message"] and 'duplicate field "data.a"' in body["message"]
    yaml_doc = "metadata:\n  name: dupy\ndata:\n  a: '1'\n  a: '2'\n"
    status, body = raw(api_client, "POST", _cm_path(namespace), yaml_doc, "application/yaml",
                       query="fieldValidation=Strict")
    assert_status(status, body, 400, "BadRequest")
    assert {"dup", "dupy"}.isdisjoint(_names(core, namespace))


def test_hostile_bodies_are_refused_quickly_and_store_nothing(api_client, namespace):
    laughs = billion_laughs()
    deep = '{"metadata":{"name":"deep"},"data":' + '{"a":' * 5000 + '1' + '}' * 5000 + '}'
    for body, content_type in ((laughs, "application/yaml"), (deep, "application/json")):
        started = time.monotonic()
        status, answer = raw(api_client, "POST", f"/api/v1/namespaces/{namespace}/configmaps", body,
                             content_type=content_type)
        assert time.monotonic() - started < 5
        assert 400 <= status < 500 and isinstance(answer, dict) and answer["kind"] == "Status", answer
    for name in ("lol", "deep"):
        assert raw(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}")[0] == 404


def test_resource_versions_must_be_plain_digits(api_client, namespace):
    status, answer = raw(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps",
                         query="resourceVersion=%2B5&resourceVersionMatch=Exact")
    assert_status(status, answer, 400, "BadRequest")
