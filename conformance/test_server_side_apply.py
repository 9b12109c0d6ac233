"""Server-side apply: managed fields, conflicts, forcing, and moving between client- and server-side apply."""
from __future__ import annotations

import json

import pytest

from .helpers import assert_status, raw

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ssa, labels: {{app: ssa}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: ssa}}}}
  template:
    metadata: {{labels: {{app: ssa}}}}
    spec:
      containers: [{{name: web, image: '{image}'}}]
"""


def _deploy(kubectl, namespace, version=None):
    return json.loads(kubectl("-n", namespace, "get", "deploy", "ssa", "-o", "json", "--show-managed-fields",
                              version=version).stdout)


def _managers(obj):
    return {(m["manager"], m["operation"]) for m in obj["metadata"].get("managedFields", [])}


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_server_side_apply_conflicts_and_force(kubectl, namespace, tmp_path, version):
    manifest = tmp_path / "d.yaml"
    manifest.write_text(DEPLOY.format(replicas=2, image="nginx:1.26"))
    out = kubectl("-n", namespace, "apply", "--server-side", "-f", str(manifest), version=version).stdout
    assert "serverside-applied" in out
    deploy = _deploy(kubectl, namespace, version)
    assert ("kubectl", "Apply") in _managers(deploy)
    applied = next(m for m in deploy["metadata"]["managedFields"] if m["manager"] == "kubectl")
    assert "f:replicas" in applied["fieldsV1"]["f:spec"]
    assert 'k:{"name":"web"}' in applied["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]

    # Another writer takes .spec.replicas; the next apply that sets it conflicts.
    kubectl("-n", namespace, "scale", "deploy", "ssa", "--replicas=5", version=version)
    manifest.write_text(DEPLOY.format(replicas=3, image="nginx:1.27"))
    clash = kubectl("-n", namespace, "apply", "--server-side", "-f", str(manifest), version=version, check=False)
    assert clash.returncode != 0
    assert "conflict" in clash.stderr and ".spec.replicas" in clash.stderr
    assert _deploy(kubectl, namespace, version)["spec"]["replicas"] == 5  # nothing was written

    kubectl("-n", namespace, "apply", "--server-side", "--force-conflicts", "-f", str(manifest), version=version)
    deploy = _deploy(kubectl, namespace, version)
    assert deploy["spec"]["replicas"] == 3
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_fields_left_out_of_the_config_are_removed(kubectl, namespace, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owned}\ndata: {a: '1', b: '2'}\n")
    kubectl("-n", namespace, "apply", "--server-side", "-f", str(manifest))
    kubectl("-n", namespace, "patch", "cm", "owned", "--type=merge", "-p", '{"data":{"c":"other"}}')
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owned}\ndata: {a: '1'}\n")
    kubectl("-n", namespace, "apply", "--server-side", "-f", str(manifest))
    data = json.loads(kubectl("-n", namespace, "get", "cm", "owned", "-o", "json").stdout)["data"]
    assert data == {"a": "1", "c": "other"}


def test_client_side_to_server_side_and_back(kubectl, namespace, tmp_path):
    manifest = tmp_path / "d.yaml"
    manifest.write_text(DEPLOY.format(replicas=2, image="nginx:1.26"))
    kubectl("-n", namespace, "apply", "-f", str(manifest))
    assert ("kubectl-client-side-apply", "Update") in _managers(_deploy(kubectl, namespace))
    manifest.write_text(DEPLOY.format(replicas=2, image="nginx:1.27"))
    kubectl("-n", namespace, "apply", "--server-side", "-f", str(manifest))
    deploy = _deploy(kubectl, namespace)
    assert ("kubectl", "Apply") in _managers(deploy)
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    manifest.write_text(DEPLOY.format(replicas=4, image="nginx:1.27"))
    kubectl("-n", namespace, "apply", "-f", str(manifest))
    assert _deploy(kubectl, namespace)["spec"]["replicas"] == 4


def test_apply_creates_and_custom_resources_work_too(api_client, namespace):
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\ndata:\n  k: v\n"
    path = f"/api/v1/namespaces/{namespace}/configmaps/fresh"
    status, obj = raw(api_client, "PATCH", path, body, "application/apply-patch+yaml", query="fieldManager=me")
    assert status in (200, 201), obj
    assert obj["data"] == {"k": "v"} and obj["metadata"]["managedFields"][0]["manager"] == "me"


def test_apply_errors(api_client, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps/x"
    good = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    status, body = raw(api_client, "PATCH", path, good, "application/apply-patch+yaml")
    assert_status(status, body, 400, "BadRequest")  # no fieldManager
    wrong_kind = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n"
    status, body = raw(api_client, "PATCH", path, wrong_kind, "application/apply-patch+yaml", query="fieldManager=me")
    assert_status(status, body, 400, "BadRequest")
    status, body = raw(api_client, "GET", path)
    assert status == 404  # nothing was stored by the failed applies
