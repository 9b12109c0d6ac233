"""Every way kubectl changes objects: apply round trips, diff, edit, patch, set, scale, replace."""
from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from vapi.testing import kubectl_path

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, labels: {{app: web}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
{containers}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports:
{ports}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: web-config, labels: {{tier: web}}}}
data:
{data}
"""

FIRST = DEPLOY.format(
    replicas=2,
    containers="      - {name: web, image: 'nginx:1.26', env: [{name: MODE, value: one}]}\n"
               "      - {name: sidecar, image: 'busybox:1.36'}",
    ports="  - {name: http, port: 80, targetPort: 8080}\n  - {name: https, port: 443, targetPort: 8443}",
    data="  a: '1'\n  b: '2'")
# sidecar and the https port and key b leave the manifest; web's image changes; metrics port arrives.
SECOND = DEPLOY.format(
    replicas=3,
    containers="      - {name: web, image: 'nginx:1.27', env: [{name: MODE, value: one}]}",
    ports="  - {name: http, port: 80, targetPort: 8080}\n  - {name: metrics, port: 9090}",
    data="  a: '1'\n  c: '3'")


def _get(kubectl, namespace, what, version):
    return json.loads(kubectl("-n", namespace, "get", what, "-o", "json", version=version).stdout)


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_apply_round_trip_keeps_what_others_set(kubectl, namespace, tmp_path, version):
    manifest = tmp_path / "app.yaml"
    manifest.write_text(FIRST)
    kubectl("-n", namespace, "apply", "-f", str(manifest), version=version)
    # Someone else changes the live objects: their changes must survive the next apply.
    kubectl("-n", namespace, "label", "deploy", "web", "owner=ops", version=version)
    kubectl("-n", namespace, "annotate", "svc", "web", "note=keep", version=version)
    kubectl("-n", namespace, "patch", "cm", "web-config", "--type=merge", "-p", '{"data":{"z":"ops"}}',
            version=version)

    manifest.write_text(SECOND)
    diff = kubectl("-n", namespace, "diff", "-f", str(manifest), version=version, check=False)
    assert diff.returncode == 1, diff.stderr  # 1: differences found
    assert "nginx:1.27" in diff.stdout and "sidecar" in diff.stdout
    kubectl("-n", namespace, "apply", "-f", str(manifest), version=version)

    deploy = _get(kubectl, namespace, "deploy/web", version)
    containers = deploy["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web"] and containers[0]["image"] == "nginx:1.27"
    assert deploy["spec"]["replicas"] == 3
    assert deploy["metadata"]["labels"] == {"app": "web", "owner": "ops"}
    assert containers[0]["imagePullPolicy"] == "IfNotPresent"  # defaulted by the server
    svc = _get(kubectl, namespace, "svc/web", version)
    assert sorted(p["port"] for p in svc["spec"]["ports"]) == [80, 9090]
    assert svc["metadata"]["annotations"]["note"] == "keep"
    assert svc["spec"]["clusterIP"]  # allocated once, kept through applies
    cm = _get(kubectl, namespace, "cm/web-config", version)
    assert cm["data"] == {"a": "1", "c": "3", "z": "ops"}
    again = kubectl("-n", namespace, "diff", "-f", str(manifest), version=version, check=False)
    assert again.returncode == 0, again.stdout


def test_set_and_scale_verbs(kubectl, namespace, tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_text(FIRST)
    kubectl("-n", namespace, "apply", "-f", str(manifest))
    kubectl("-n", namespace, "set", "image", "deploy/web", "web=nginx:1.28")
    kubectl("-n", namespace, "set", "env", "deploy/web", "-c", "web", "EXTRA=yes")
    kubectl("-n", namespace, "set", "resources", "deploy/web", "-c", "web", "--limits=cpu=200m,memory=256Mi")
    kubectl("-n", namespace, "scale", "deploy/web", "--replicas=4")
    deploy = _get(kubectl, namespace, "deploy/web", None)
    web = deploy["spec"]["template"]["spec"]["containers"][0]
    assert web["image"] == "nginx:1.28"
    assert {"name": "EXTRA", "value": "yes"} in web["env"] and {"name": "MODE", "value": "one"} in web["env"]
    assert web["resources"]["limits"] == {"cpu": "200m", "memory": "256Mi"}
    assert deploy["spec"]["replicas"] == 4


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_edit_with_an_editor(kubectl, kubeconfig, namespace, tmp_path, version):
    kubectl("-n", namespace, "create", "configmap", "ed", "--from-literal=k=before", version=version)
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/k: before/k: after/' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    result = subprocess.run([kubectl_path(version), f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path}/c",
                             "-n", namespace, "edit", "cm", "ed"],
                            env=dict(os.environ, KUBE_EDITOR=str(editor)), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "edited" in result.stdout
    assert _get(kubectl, namespace, "cm/ed", None)["data"] == {"k": "after"}


@pytest.mark.parametrize("patch_type,patch,expected", [
    ("json", '[{"op":"replace","path":"/data/k","value":"j"}]', {"k": "j"}),
    ("merge", '{"data":{"k":null,"m":"n"}}', {"m": "n"}),
    ("strategic", '{"data":{"k":"s"}}', {"k": "s"}),
])
def test_patch_types(kubectl, namespace, patch_type, patch, expected):
    kubectl("-n", namespace, "create", "configmap", "p", "--from-literal=k=v")
    kubectl("-n", namespace, "patch", "cm", "p", f"--type={patch_type}", "-p", patch)
    assert _get(kubectl, namespace, "cm/p", None)["data"] == expected


def test_bad_patches_are_refused_and_change_nothing(kubectl, namespace):
    kubectl("-n", namespace, "create", "configmap", "p", "--from-literal=k=v")
    bad = kubectl("-n", namespace, "patch", "cm", "p", "--type=json", "-p", '[{"op":"remove","path":"/nope"}]',
                  check=False)
    assert bad.returncode != 0
    bad = kubectl("-n", namespace, "patch", "cm", "p", "--type=json", "-p", '{"not":"a list"}', check=False)
    assert bad.returncode != 0
    assert _get(kubectl, namespace, "cm/p", None)["data"] == {"k": "v"}


def test_replace_force_and_server_dry_runs(kubectl, namespace, tmp_path):
    kubectl("-n", namespace, "create", "configmap", "r", "--from-literal=k=v")
    uid = _get(kubectl, namespace, "cm/r", None)["metadata"]["uid"]
    manifest = tmp_path / "r.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\ndata: {k: forced}\n")
    kubectl("-n", namespace, "replace", "--force", "-f", str(manifest))
    replaced = _get(kubectl, namespace, "cm/r", None)
    assert replaced["data"] == {"k": "forced"} and replaced["metadata"]["uid"] != uid

    out = kubectl("-n", namespace, "create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server",
                  "-o", "yaml").stdout
    assert "name: dry" in out and "uid:" in out
    assert kubectl("-n", namespace, "get", "cm", "dry", check=False).returncode != 0
    kubectl("-n", namespace, "delete", "cm", "r", "--dry-run=server")
    assert _get(kubectl, namespace, "cm/r", None)["data"] == {"k": "forced"}


def test_apply_prune(kubectl, namespace, tmp_path):
    both = tmp_path / "both.yaml"
    both.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, labels: {set: p}}\n---\n"
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: drop, labels: {set: p}}\n")
    kubectl("-n", namespace, "apply", "-f", str(both))
    one = tmp_path / "one.yaml"
    one.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, labels: {set: p}}\n")
    out = kubectl("-n", namespace, "apply", "--prune", "-l", "set=p", "-f", str(one),
                  "--prune-allowlist=core/v1/ConfigMap").stdout
    assert "configmap/drop pruned" in out
    names = kubectl("-n", namespace, "get", "cm", "-o", "name").stdout
    assert "configmap/keep" in names and "configmap/drop" not in names
