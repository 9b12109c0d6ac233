"""The user story of the core API issue, with real kubectl binaries of several versions, default flags."""
from __future__ import annotations

import subprocess
import time

import pytest

from vapi.testing import kubectl_path

APP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: hello}
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret}
stringData: {password: s3cret}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 8080}]
        envFrom: [{configMapRef: {name: web-config}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: web-reader}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reader}
subjects: [{kind: ServiceAccount, name: web}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web-reader}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: job, image: busybox, command: [echo, hi]}]
"""

VERSIONS = ["1.27", "1.30", "1.33"]


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


def test_story(kubectl, kubeconfig, version, tmp_path):
    k = lambda *a, **kw: kubectl(*a, version=version, **kw)
    ns = f"demo-{version.replace('.', '')}"
    namespaces = k("get", "ns").stdout
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert name in namespaces
    assert f"namespace/{ns} created" in k("create", "ns", ns).stdout

    app = tmp_path / "app.yaml"
    app.write_text(APP)
    applied = k("-n", ns, "apply", "-f", str(app)).stdout
    for line in ("configmap/web-config created", "secret/web-secret created", "serviceaccount/web created",
                 "service/web created", "deployment.apps/web created",
                 "role.rbac.authorization.k8s.io/web-reader created",
                 "rolebinding.rbac.authorization.k8s.io/web-reader created",
                 "ingress.networking.k8s.io/web created", "cronjob.batch/nightly created"):
        assert line in applied, applied

    every = k("-n", ns, "get", "all", "-o", "wide").stdout
    assert "service/web" in every and "ClusterIP" in every and "80/TCP" in every
    assert "deployment.apps/web" in every and "nginx:1.27" in every and "app=web" in every
    assert "cronjob.batch/nightly" in every and "0 3 * * *" in every

    listing = k("get", "cm,secret", "-A").stdout
    assert "NAMESPACE" in listing and "web-config" in listing and "web-secret" in listing
    assert "Opaque" in listing

    as_yaml = k("-n", ns, "get", "deploy", "web", "-o", "yaml").stdout
    assert "name: web" in as_yaml and "replicas: 2" in as_yaml and "uid:" in as_yaml

    described = k("-n", ns, "describe", "deploy", "web").stdout
    assert "Name:" in described and "web" in described and "nginx:1.27" in described
    assert "Replicas:" in described and "2 desired" in described

    _watch_events(version, kubectl, kubeconfig, ns, tmp_path)

    deleted = k("-n", ns, "delete", "-f", str(app)).stdout
    assert 'configmap "web-config" deleted' in deleted and 'deployment.apps "web" deleted' in deleted
    assert "web-config" not in k("-n", ns, "get", "cm").stdout

    resources = k("api-resources").stdout
    for line in ("pods", "deployments", "customresourcedefinitions", "cronjobs"):
        assert line in resources
    assert "apps/v1" in k("api-versions").stdout
    # kubectl before 1.28 prints the server's version.Info struct instead of one line.
    server = k("version").stdout.split("Server Version:")[1]
    assert "v1.33.0-vapi" in server
    explained = k("explain", "pod.spec.containers").stdout
    assert "FIELDS:" in explained and "image" in explained


def _watch_events(version, kubectl, kubeconfig, ns, tmp_path):
    """`get -w --output-watch-events` shows ADDED, MODIFIED and DELETED as they happen."""
    cmd = [kubectl_path(version), f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'watch-cache'}",
           "-n", ns, "get", "cm", "-w", "--output-watch-events"]
    watcher = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.0)
        kubectl("-n", ns, "create", "cm", "watched", "--from-literal=a=1", version=version)
        kubectl("-n", ns, "label", "cm", "watched", "x=y", version=version)
        kubectl("-n", ns, "delete", "cm", "watched", version=version)
        deadline = time.monotonic() + 20
        seen = []
        while time.monotonic() < deadline and len(seen) < 3:
            line = watcher.stdout.readline()
            if "watched" in line:
                seen.append(line.split()[0])
        assert seen == ["ADDED", "MODIFIED", "DELETED"], seen
    finally:
        watcher.kill()
        watcher.wait()


def test_typed_create_commands(kubectl, version):
    """kubectl 1.32+ sends these as protobuf; older versions as JSON. Both must work."""
    k = lambda *a: kubectl(*a, version=version)
    ns = f"typed-{version.replace('.', '')}"
    k("create", "namespace", ns)
    k("-n", ns, "create", "configmap", "c", "--from-literal=a=b")
    k("-n", ns, "create", "secret", "generic", "s", "--from-literal=p=q")
    k("-n", ns, "create", "serviceaccount", "robot")
    k("-n", ns, "create", "deployment", "d", "--image=nginx", "--replicas=0")
    k("-n", ns, "create", "job", "j", "--image=busybox", "--", "echo", "hi")
    assert "a: b" in k("-n", ns, "get", "cm", "c", "-o", "yaml").stdout
    assert "replicas: 0" in k("-n", ns, "get", "deploy", "d", "-o", "yaml").stdout
    assert "echo" in k("-n", ns, "get", "job", "j", "-o", "yaml").stdout
