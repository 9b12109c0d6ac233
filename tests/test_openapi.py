"""OpenAPI v2/v3 documents: their structure, and what real kubectl binaries make of them."""
from __future__ import annotations

import copy
import time

import kubernetes
import orjson
import pytest

from admission import schemas
from vapi.wire.openapi import V2_PREFIX, V3_PREFIX, OpenAPI, content_hash
from vapi.registry import Registry, ResourceInfo
from vapi.registry.builtin import ALL_VERBS
from vapi.testing import ServerProcess, run_kubectl

V3_ONLY_KUBECTLS = ("1.29", "1.30", "1.31", "1.32", "1.33")

WIDGET_SCHEMA = {
    "type": "object",
    "description": "A Widget is a thing made for tests.",
    "properties": {
        "spec": {
            "type": "object",
            "description": "What the widget should be.",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "description": "How big the widget is.", "default": 3},
                "port": {"x-kubernetes-int-or-string": True, "description": "Port, by number or name."},
                "note": {"type": "string", "nullable": True},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                          "properties": {"a": {"type": "string"}}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "x-kubernetes-preserve-unknown-fields": True},
            },
        },
    },
}


def widget_info() -> ResourceInfo:
    return ResourceInfo("example.com", "v1", "widgets", "Widget", True, ALL_VERBS,
                        subresources={"status": None, "scale": ("autoscaling", "v1", "Scale")},
                        schema_name="com.example.v1.Widget",
                        crd={"name": "v1", "served": True, "storage": True,
                             "schema": {"openAPIV3Schema": copy.deepcopy(WIDGET_SCHEMA)}})


@pytest.fixture(scope="module")
def registry():
    return Registry(schemas.load("1.33"))


class ServedDocuments:
    """The OpenAPI documents as a real `vapi serve` answers them over HTTPS."""

    def __init__(self, kubeconfig):
        self.client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))

    def get(self, path: str, **headers):
        resp = self.client.rest_client.pool_manager.request(
            "GET", self.client.configuration.host + path, headers={"Accept": "application/json", **headers},
            timeout=30)
        return resp.status, resp.data, resp.headers

    def v3_index(self) -> dict:
        return orjson.loads(self.get("/openapi/v3")[1])

    def v3_document(self, key: str) -> tuple[bytes, str] | None:
        status, body, headers = self.get("/openapi/v3/" + key.lstrip("/"))
        return (body, headers["ETag"].strip('"')) if status == 200 else None

    def v2_document(self) -> dict:
        return orjson.loads(self.get("/openapi/v2")[1])

    def v2_json(self) -> tuple[bytes, str]:
        _, body, headers = self.get("/openapi/v2")
        return body, headers["ETag"]


@pytest.fixture(scope="module")
def openapi(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("documents")).start()
    documents = ServedDocuments(server.kubeconfig)
    yield documents
    documents.client.close()
    server.cleanup()


def v3(openapi, path):
    return orjson.loads(openapi.v3_document(path)[0])


def gvk_tags(schema):
    return [(g["group"], g["version"], g["kind"]) for g in schema.get("x-kubernetes-group-version-kind", ())]


def all_refs(node, prefix):
    """Every $ref in `node`, checking each uses the document's own prefix."""
    found = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith(prefix), ref
                found.add(ref[len(prefix):])
            stack.extend(v for k, v in item.items() if k != "$ref")
        elif isinstance(item, list):
            stack.extend(item)
    return found


def operations(paths):
    for path, item in paths.items():
        for method, op in item.items():
            if method != "parameters":
                yield path, method, op


# --- structure ---------------------------------------------------------------------------------

def test_index_lists_every_group_version_with_its_hash(registry, openapi):
    index = openapi.v3_index()["paths"]
    expected = {"api", "apis", "version"}
    for group, versions in registry.groups():
        if group:
            expected.add(f"apis/{group}")
        expected.update(f"apis/{group}/{v}" if group else f"api/{v}" for v in versions)
    assert set(index) == expected
    for key, entry in index.items():
        body, digest = openapi.v3_document(key)
        assert entry["serverRelativeURL"] == f"/openapi/v3/{key}?hash={digest}"
        assert digest == content_hash(body) and len(digest) == 128 and digest.isupper()
    assert openapi.v3_document("/apis/apps/v1/") == openapi.v3_document("apis/apps/v1")
    assert openapi.v3_document("apis/nothing.example/v1") is None


def test_every_served_kind_has_a_tagged_schema_in_its_group_version(registry, openapi):
    for info in registry.all():
        doc = v3(openapi, f"apis/{info.group}/{info.version}" if info.group else f"api/{info.version}")
        schemas_ = doc["components"]["schemas"]
        assert (info.group, info.version, info.kind) in gvk_tags(schemas_[info.schema_name]), info.kind
        gvks = {(g["group"], g["version"], g["kind"]) for g in (
            op.get("x-kubernetes-group-version-kind") for _, _, op in operations(doc["paths"])) if g}
        assert (info.group, info.version, info.kind) in gvks


@pytest.mark.parametrize("path", ["api/v1", "apis/apps/v1", "apis/batch/v1", "api", "apis",
                                  "apis/rbac.authorization.k8s.io", "version"])
def test_v3_refs_resolve_within_the_document(openapi, path):
    doc = v3(openapi, path)
    assert doc["openapi"] == "3.0.0"
    components = doc["components"]["schemas"]
    assert all_refs(doc, V3_PREFIX) <= set(components)
    # Nothing but what the paths reach.
    assert set(components) == _closure(all_refs(doc["paths"], V3_PREFIX), components, V3_PREFIX)


def _closure(roots, defs, prefix):
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(all_refs(defs[name], prefix))
    return seen


def test_v3_wraps_refs_that_have_siblings(openapi):
    deployment = v3(openapi, "apis/apps/v1")["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    spec = deployment["properties"]["spec"]
    assert spec["allOf"] == [{"$ref": V3_PREFIX + "io.k8s.api.apps.v1.DeploymentSpec"}]
    assert "$ref" not in spec and spec["description"]
    strategy = v3(openapi, "apis/apps/v1")["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"][
        "properties"]["strategy"]
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"


def test_operations_carry_what_kubectl_reads(openapi):
    doc = v3(openapi, "apis/apps/v1")
    item = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert {"get", "put", "patch", "delete", "parameters"} <= set(item)
    patch = item["patch"]
    assert patch["operationId"] == "patchAppsV1NamespacedDeployment"
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert set(patch["requestBody"]["content"]) == {
        "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json", "application/apply-patch+yaml"}
    assert set(patch["responses"]["200"]["content"]) == {
        "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
    assert {p["name"] for p in item["parameters"]} == {"name", "namespace", "pretty"}
    collection = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]
    assert collection["get"]["operationId"] == "listAppsV1NamespacedDeployment"
    assert collection["post"]["requestBody"]["content"]["*/*"]["schema"] == {
        "$ref": V3_PREFIX + "io.k8s.api.apps.v1.Deployment"}
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    assert "application/json;stream=watch" in collection["get"]["responses"]["200"]["content"]
    scale = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["put"]
    assert scale["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    watch = doc["paths"]["/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}"]["get"]
    assert watch["x-kubernetes-action"] == "watch"
    assert v3(openapi, "api/v1")["paths"]["/api/v1/nodes/{name}"]["patch"]["operationId"] == "patchCoreV1Node"


@pytest.mark.parametrize("path", ["api/v1", "apis/apps/v1", "apis/certificates.k8s.io/v1"])
def test_every_patch_offers_field_validation_on_the_operation(openapi, path):
    """kubectl looks only at the operation's own parameters to decide on server-side validation."""
    for where, method, op in operations(v3(openapi, path)["paths"]):
        if method == "patch" and op["x-kubernetes-action"] == "patch":
            assert "fieldValidation" in {p["name"] for p in op["parameters"]}, where


def test_v2_document(registry, openapi):
    doc = openapi.v2_document()
    assert doc["swagger"] == "2.0"
    definitions = doc["definitions"]
    assert all_refs(doc, V2_PREFIX) <= set(definitions)
    for info in registry.all():
        assert (info.group, info.version, info.kind) in gvk_tags(definitions[info.schema_name])
    op = doc["paths"]["/api/v1/namespaces/{namespace}/configmaps"]["post"]
    assert op["parameters"][0] == {"name": "body", "in": "body", "required": True,
                                   "schema": {"$ref": V2_PREFIX + "io.k8s.api.core.v1.ConfigMap"}}
    assert "fieldValidation" in {p["name"] for p in op["parameters"]}
    body, etag = openapi.v2_json()
    assert orjson.loads(body) == doc and etag == f'"{content_hash(body)}"'
    # Built once per document version: the same ETag again, and 304 for a client that has it.
    assert openapi.v2_json() == (body, etag)
    assert openapi.get("/openapi/v2", **{"If-None-Match": etag})[0] == 304


def test_documents_are_built_lazily_cached_and_rebuilt_when_a_crd_arrives():
    registry = Registry(schemas.load("1.33"))
    api = OpenAPI(registry)
    assert api._cache._values == {}
    index = api.v3_index()
    v2_body, v2_etag = api.v2_json()
    assert api.v3_index() is index and api.v2_json()[0] is v2_body
    assert OpenAPI(registry).v3_index() == index

    registry.add(widget_info())
    new_index = api.v3_index()["paths"]
    assert new_index["apis/example.com/v1"] and new_index["apis/example.com"]
    assert new_index["api/v1"] == index["paths"]["api/v1"]
    assert api.v2_json()[1] != v2_etag
    assert "com.example.v1.Widget" in api.v2_document()["definitions"]


def test_custom_resource_schemas_as_kube_publishes_them():
    registry = Registry(schemas.load("1.33"))
    registry.add(widget_info())
    api = OpenAPI(registry)
    doc = v3(api, "apis/example.com/v1")
    components = doc["components"]["schemas"]
    widget = components["com.example.v1.Widget"]
    assert gvk_tags(widget) == [("example.com", "v1", "Widget")]
    assert widget["properties"]["metadata"]["allOf"] == [{"$ref": V3_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    assert widget["properties"]["kind"]["type"] == "string"
    spec = widget["properties"]["spec"]["properties"]
    assert spec["size"]["default"] == 3
    assert spec["port"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert spec["note"]["nullable"] is True
    assert set(spec["template"]["properties"]) == {"apiVersion", "kind", "metadata"}
    assert gvk_tags(components["com.example.v1.WidgetList"]) == [("example.com", "v1", "WidgetList")]
    assert components["com.example.v1.WidgetList"]["properties"]["items"]["items"] == {
        "$ref": V3_PREFIX + "com.example.v1.Widget"}
    assert "io.k8s.api.autoscaling.v1.Scale" in components
    create = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "application/yaml"}
    patch = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]
    assert all_refs(doc, V3_PREFIX) <= set(components)

    # Swagger 2.0 cannot say nullable, anyOf or "object with unknown fields": kube leaves them out.
    v2_spec = api.v2_document()["definitions"]["com.example.v1.Widget"]["properties"]["spec"]["properties"]
    assert v2_spec["note"] == {}
    assert "anyOf" not in v2_spec["port"]
    assert v2_spec["extra"] == {"x-kubernetes-preserve-unknown-fields": True}
    assert "properties" not in v2_spec["template"]


def test_custom_resource_without_schema_takes_any_object():
    registry = Registry(schemas.load("1.33"))
    info = widget_info()
    info.crd = {"name": "v1", "schema": {"openAPIV3Schema": {"type": "object",
                                                             "x-kubernetes-preserve-unknown-fields": True}}}
    registry.add(info)
    api = OpenAPI(registry)
    assert api.v2_document()["definitions"]["com.example.v1.Widget"] == {
        "type": "object", "x-kubernetes-group-version-kind": [
            {"group": "example.com", "version": "v1", "kind": "Widget"}]}
    assert "metadata" in v3(api, "apis/example.com/v1")["components"]["schemas"]["com.example.v1.Widget"]["properties"]


# --- real kubectl against a real server ---------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A real `vapi serve` that also serves the Widget custom resource."""
    server = ServerProcess(tmp_path_factory.mktemp("openapi")).start()
    api = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    kubernetes.client.ApiextensionsV1Api(api).create_custom_resource_definition({
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size",
                                                                         "statusReplicasPath": ".status.size"}},
                               "schema": {"openAPIV3Schema": WIDGET_SCHEMA}}]}})
    custom = kubernetes.client.CustomObjectsApi(api)
    deadline = time.monotonic() + 10
    while True:
        try:
            custom.list_namespaced_custom_object("example.com", "v1", "default", "widgets")
            break
        except kubernetes.client.ApiException as e:
            assert e.status == 404 and time.monotonic() < deadline, e
            time.sleep(0.05)
    api.close()
    server.home = tmp_path_factory.mktemp("kube")
    yield server
    server.cleanup()


def kubectl(server, version, *args, cache_dir=None, **kw):
    return run_kubectl(server.kubeconfig, *args, version=version,
                       cache_dir=cache_dir or server.home / f"cache-{version}", **kw)


def test_kubectl_explain_pod_containers(served):
    out = kubectl(served, "1.33", "explain", "pod.spec.containers").stdout
    assert "KIND:       Pod" in out and "VERSION:    v1" in out
    assert "FIELD: containers <[]Container>" in out
    assert "List of containers belonging to the pod." in out
    for field in ("image\t<string>", "livenessProbe\t<Probe>", "name\t<string> -required-",
                  "resources\t<ResourceRequirements>"):
        assert field in out, field


def test_kubectl_explain_recursive(served):
    out = kubectl(served, "1.30", "explain", "deployment.spec.strategy", "--recursive").stdout
    assert "GROUP:      apps" in out and "KIND:       Deployment" in out
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert "The deployment strategy to use to replace existing pods with new ones." in out
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out
    # IntOrString is a oneOf in v3, which explain names by its definition.
    assert "maxSurge\t<IntOrString>" in out and "maxUnavailable\t<IntOrString>" in out
    assert "type\t<string>" in out


@pytest.mark.parametrize("version", ["1.27", "1.28", *V3_ONLY_KUBECTLS])
def test_kubectl_explain_every_version(served, version):
    limits = kubectl(served, version, "explain", "pod.spec.containers.resources.limits").stdout
    assert "Limits describes the maximum amount of compute resources allowed." in limits
    port = kubectl(served, version, "explain", "svc.spec.ports.targetPort").stdout
    assert "Number or name of the port to access on the pods targeted by the service." in port
    if version in V3_ONLY_KUBECTLS:
        # Types as the v3 document names them (v2-era explain calls both strings).
        assert "FIELD: limits <map[string]Quantity>" in limits
        assert "FIELD: targetPort <IntOrString>" in port


def test_kubectl_explain_custom_resource(served):
    out = kubectl(served, "1.33", "explain", "widgets.spec").stdout
    assert "GROUP:      example.com" in out and "KIND:       Widget" in out
    assert "What the widget should be." in out
    assert "size\t<integer> -required-" in out and "How big the widget is." in out
    assert "port\t<Object>" in out and "Port, by number or name." in out


MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: demo}
data: {greeting: hello}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: demo}
spec: {size: 2%s}
"""


@pytest.mark.parametrize("version", ["1.27", "1.28", *V3_ONLY_KUBECTLS])
def test_kubectl_leaves_strict_validation_to_the_server(served, version, tmp_path):
    """kubectl finds `fieldValidation` on each kind's PATCH operation in our v3 document (v2 for
    1.27/1.28), so, as against kube-apiserver, it validates nothing itself and has the server
    validate strictly: a client dry run passes even an unknown field, and a create asks for Strict,
    which the server then enforces."""
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(MANIFEST % "")
    bad.write_text(MANIFEST % ", bogusField: 1")
    namespace = f"strict-{version.replace('.', '-')}"
    kubectl(served, version, "create", "namespace", namespace)
    out = kubectl(served, version, "create", "-f", str(good), "--dry-run=client", "-o", "yaml",
                  "--validate=strict", cache_dir=tmp_path / "cache").stdout
    assert "kind: ConfigMap" in out and "kind: Widget" in out and "size: 2" in out
    out = kubectl(served, version, "create", "-f", str(bad), "--dry-run=client", "-o", "yaml",
                  "--validate=strict", cache_dir=tmp_path / "cache").stdout
    assert "bogusField: 1" in out
    # -v=6 logs every request kubectl makes, with its URL.
    done = kubectl(served, version, "create", "-n", namespace, "-f", str(bad), "--validate=strict", "-v=6",
                   cache_dir=tmp_path / "cache", check=False)
    log = done.stderr
    for plural in (f"api/v1/namespaces/{namespace}/configmaps",
                   f"apis/example.com/v1/namespaces/{namespace}/widgets"):
        url = f"https://127.0.0.1:{served.port}/{plural}?fieldManager=kubectl-create&fieldValidation=Strict"
        # Older kubectls log `POST <url> 201 Created`, newer ones `verb="POST" url="<url>..."`.
        assert any("POST" in line and url in line for line in log.splitlines()), log
    # The server refused the unknown field; the ConfigMap, which has none, was created.
    assert 'strict decoding error: unknown field "spec.bogusField"' in log
    assert kubectl(served, version, "get", "-n", namespace, "configmap", "demo", "-o", "name").stdout == \
        "configmap/demo\n"
    if version in V3_ONLY_KUBECTLS:
        assert "/openapi/v3/api/v1?hash=" in log
        assert "/openapi/v2" not in log and "/swagger" not in log
