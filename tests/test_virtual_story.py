"""The issue's whole story, as a user tells it, with kubectl 1.27 (SPDY) and 1.33 (WebSocket):
a host, `vapi create vc1 --host-kubeconfig host.yaml`, a Deployment and its Service in vc1 running
on the host under translated names, logs, exec and port-forward through vc1, and `vapi delete vc1`
leaving nothing behind on the host."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import yaml

from syncer.names import host_name
from tests.virtual_fixtures import core, eventually
from vapi.testing import kubectl_path, run_kubectl


def _vapi(home, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "vapi", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "VAPI_HOME": str(home), "KUBECONFIG": str(home / "kubeconfig")})


def kubeconfig_port(kubeconfig) -> int:
    return int(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _echo_through(port: int, payload: bytes) -> bytes:
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                return got
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_the_virtual_cluster_story(host, tmp_path, version):
    home = tmp_path / "vapi-home"
    name = f"story{version.replace('.', '')}"
    created = _vapi(home, "create", name, "--host-kubeconfig", str(host.kubeconfig))
    assert created.returncode == 0, created.stderr
    try:
        # `vapi create` has switched the kube context to it, as `vcluster create` does
        kubeconfig = home / "kubeconfig"
        assert yaml.safe_load(kubeconfig.read_text())["current-context"] == f"vapi_{name}"

        def kubectl(*args, **kw):
            return run_kubectl(kubeconfig, *args, version=version, cache_dir=tmp_path / "cache", **kw)
        kubectl("create", "deployment", "web", "--image=nginx", "--replicas=3")
        kubectl("expose", "deployment", "web", "--port=80")
        kubectl("rollout", "status", "deployment/web", "--timeout=60s")
        host_pods = {p.metadata.annotations["vapi.dev/object-name"]: p for p in core(host).list_namespaced_pod(
            "default", label_selector=f"vapi.dev/managed-by={name}").items}
        virtual = kubectl("get", "pods", "-l", "app=web", "-o",
                          "jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.podIP} "
                          "{.spec.nodeName}{'\\n'}{end}").stdout.split("\n")
        rows = [line.split() for line in virtual if line]
        assert len(rows) == 3 and sorted(host_pods) == sorted(r[0] for r in rows)
        for pod, phase, ip, node in rows:
            copy = host_pods[pod]
            assert copy.metadata.name == host_name(pod, "default", name)
            assert (phase, ip, node) == ("Running", copy.status.pod_ip, copy.spec.node_name)
        service = core(host).read_namespaced_service(host_name("web", "default", name), "default")
        assert kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}").stdout == service.spec.cluster_ip

        pod = rows[0][0]
        assert kubectl("logs", pod).returncode == 0
        echoed = kubectl("exec", "-i", pod, "--", "cat", input="through the host\n")
        assert echoed.stdout == "through the host\n"
        # the host's container answers: it carries the rewritten spec, which points back at vc1
        env = kubectl("exec", pod, "--", "env").stdout.splitlines()
        assert f"KUBERNETES_SERVICE_PORT={kubeconfig_port(kubeconfig)}" in env and f"HOSTNAME={pod}" in env
        port = _free_port()
        forward = subprocess.Popen([kubectl_path(version), f"--kubeconfig={kubeconfig}", "port-forward", pod,
                                    f"{port}:80"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert _echo_through(port, b"ping over the tunnel") == b"ping over the tunnel"
        finally:
            forward.terminate()
            forward.wait(10)

        kubectl("delete", "deployment", "web")
        assert eventually(lambda: not core(host).list_namespaced_pod(
            "default", label_selector=f"vapi.dev/managed-by={name},app=web").items)
    finally:
        deleted = _vapi(home, "delete", name, timeout=120)
    assert deleted.returncode == 0, deleted.stderr
    for kind in ("pod", "service", "configmap", "secret", "endpoints"):
        left = run_kubectl(host.kubeconfig, "get", kind, "-l", f"vapi.dev/managed-by={name}", "-o", "name").stdout
        assert left == "", (kind, left)
    anchors = run_kubectl(host.kubeconfig, "get", "configmap", "-l", f"vapi.dev/anchor={name}", "-o", "name").stdout
    assert anchors == ""
