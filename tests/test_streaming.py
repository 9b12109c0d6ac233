"""Streaming subresources end to end: real kubectl (1.27 speaks SPDY, 1.33 WebSocket) and the
official Python client against `vapi serve`, the test playing kubelet by writing pod status."""
from __future__ import annotations

import re
import time

import kubernetes
import pytest
from kubernetes.stream import stream

from conformance.streams import (attach_echoes, exec_cat_and_exit_codes, follow, logs_read_as_asked,
                               port_forward_echoes, python_port_forward_echoes, terminal_shell)
from vapi.testing import ServerProcess, run_kubectl

VERSIONS = ("1.27", "1.33")
NOW = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Pods here are bound to a node no kubelet owns, the test writing their status: pod GC must
    # leave them for the module's length (kube's quarantine for a missing node is 40 s).
    with ServerProcess(tmp_path_factory.mktemp("streaming"),
                       extra_args=("--node-monitor-grace-period", "1h")) as srv:
        yield srv


@pytest.fixture(scope="module")
def core(server):
    client = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    yield kubernetes.client.CoreV1Api(client)
    client.close()


def running(name: str, restarts: int = 0, last: dict | None = None) -> dict:
    status = {"name": name, "ready": True, "restartCount": restarts, "image": "busybox", "imageID": "",
              "state": {"running": {"startedAt": NOW}}}
    if last:
        status["lastState"] = last
    return status


def make_pod(core, name, containers, statuses, phase="Running"):
    core.create_namespaced_pod("default", {"metadata": {"name": name},
                                           "spec": {"nodeName": "node-1", "containers": containers}})
    if statuses is not None:
        core.patch_namespaced_pod_status(name, "default", {"status": {"phase": phase,
                                                                       "containerStatuses": statuses}})


@pytest.fixture(scope="module")
def pod(core):
    """One running container whose own command writes two lines, the second a second later."""
    make_pod(core, "talker", [{"name": "c", "image": "busybox", "env": [{"name": "GREETING", "value": "hi there"}],
                               "command": ["sh", "-c", "echo hello; sleep 1; echo world; sleep 1000"]}],
             [running("c")])
    time.sleep(1.5)
    return "talker"


def kubectl(server, *args, version=None, **kw):
    return run_kubectl(server.kubeconfig, *args, version=version, check=False, timeout=30, **kw)


@pytest.mark.parametrize("version", VERSIONS)
def test_exec_cat_echoes_piped_stdin(server, pod, version):
    exec_cat_and_exit_codes(server.kubeconfig, pod, version)


@pytest.mark.parametrize("version", VERSIONS)
def test_exec_exit_code_surfaces(server, pod, version):
    p = kubectl(server, "exec", pod, "--", "sh", "-c", "echo a; false", version=version)
    assert (p.returncode, p.stdout, p.stderr) == (1, "a\n", "command terminated with exit code 1\n")
    p = kubectl(server, "exec", pod, "--", "sh", "-c", "ls; echo $GREETING && hostname", version=version)
    assert (p.returncode, p.stdout, p.stderr) == (0, "hi there\ntalker\n", "sh: ls: not found\n")
    p = kubectl(server, "exec", pod, "--", "sh", "-c", "ls", version=version)
    assert (p.returncode, p.stderr) == (127, "sh: ls: not found\ncommand terminated with exit code 127\n")
    p = kubectl(server, "exec", pod, "--", "ls", version=version)
    assert p.returncode == 1
    assert re.fullmatch(r'error: Internal error occurred: error executing command in container: failed to exec in '
                        r'container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: '
                        r'unable to start container process: exec: "ls": executable file not found in \$PATH: '
                        r'unknown\n', p.stderr), p.stderr


@pytest.mark.parametrize("version", ("1.28", "1.29", "1.30", "1.31", "1.32"))
def test_exec_cat_every_kubectl_between(server, pod, version):
    p = kubectl(server, "exec", "-i", pod, "--", "cat", version=version, input="between\n")
    assert (p.returncode, p.stdout, p.stderr) == (0, "between\n", "")


def test_kubectl_133_speaks_websocket_and_127_spdy(server, pod):
    p = kubectl(server, "exec", pod, "-v=8", "--", "true", version="1.33")
    assert p.returncode == 0
    assert "Sec-Websocket-Protocol: v5.channel.k8s.io" in p.stderr, p.stderr[-2000:]
    assert "falling back" not in p.stderr.lower()
    p = kubectl(server, "exec", pod, "-v=8", "--", "true", version="1.27")
    assert p.returncode == 0 and "X-Stream-Protocol-Version: v4.channel.k8s.io" in p.stderr


def test_exec_env(server, pod):
    p = kubectl(server, "exec", pod, "--", "env")
    assert "GREETING=hi there\n" in p.stdout and "HOSTNAME=talker\n" in p.stdout
    assert "KUBERNETES_SERVICE_HOST=10.96.0.1\n" in p.stdout


@pytest.mark.parametrize("version", VERSIONS)
def test_logs_tail_and_timestamps(server, pod, version):
    logs_read_as_asked(server.kubeconfig, pod, ["hello", "world"], version)


@pytest.mark.parametrize("version", VERSIONS)
def test_logs_follow_streams_until_the_container_stops(server, core, version):
    name = f"follow-{version.replace('.', '')}"
    make_pod(core, name, [{"name": "c", "image": "busybox",
                           "command": ["sh", "-c", "echo first; sleep 2; echo second; sleep 1000"]}],
             [running("c")])
    proc = follow(server.kubeconfig, name, version)
    try:
        core.patch_namespaced_pod_status(name, "default", {"status": {"phase": "Succeeded", "containerStatuses": [
            {"name": "c", "ready": False, "restartCount": 0, "image": "busybox", "imageID": "",
             "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": NOW, "finishedAt": NOW}}}]}})
        assert proc.wait(10) == 0
        assert proc.stdout.read() == ""
    finally:
        proc.kill()
        proc.wait()


def test_log_errors_worded_as_kube(server, core, pod):
    make_pod(core, "two", [{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}],
             [running("a"), running("b")])
    p = kubectl(server, "get", "--raw", "/api/v1/namespaces/default/pods/two/log")
    assert "a container name must be specified for pod two, choose one of: [a b]" in p.stderr
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.read_namespaced_pod_log("two", "default")
    assert e.value.status == 400
    assert '"message":"a container name must be specified for pod two, choose one of: [a b]"' in e.value.body
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.read_namespaced_pod_log(pod, "default", previous=True)
    assert (e.value.status, 'previous terminated container \\"c\\" in pod \\"talker\\" not found') == \
        (400, e.value.body.split('"message":"')[1].split('","reason"')[0])
    make_pod(core, "waiting", [{"name": "c", "image": "busybox"}],
             [{"name": "c", "ready": False, "restartCount": 0, "image": "busybox", "imageID": "",
               "state": {"waiting": {"reason": "ContainerCreating"}}}], phase="Pending")
    p = kubectl(server, "logs", "waiting")
    assert p.stderr == ('Error from server (BadRequest): container "c" in pod "waiting" is waiting to start: '
                        "ContainerCreating\n")
    p = kubectl(server, "logs", "nowhere")   # kubectl reads the pod first, and words its own error
    assert p.stderr == 'error: error from server (NotFound): pods "nowhere" not found in namespace "default"\n'
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.read_namespaced_pod_log("nowhere", "default")
    assert e.value.status == 404
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.read_namespaced_pod_log(pod, "default", container="x")
    assert e.value.status == 400 and '"message":"container x is not valid for pod talker"' in e.value.body
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.read_namespaced_pod_log(pod, "default", tail_lines=-1)
    assert e.value.status == 422
    assert "tailLines: Invalid value: -1: must be greater than or equal to 0" in e.value.body


def test_previous_instance_logs(server, core):
    make_pod(core, "restarted", [{"name": "c", "image": "busybox", "command": ["echo", "second run"]}],
             [running("c", restarts=1, last={"terminated": {"exitCode": 1, "reason": "Error", "startedAt": NOW,
                                                             "finishedAt": NOW, "containerID": "sim://1"}})])
    time.sleep(0.5)
    assert kubectl(server, "logs", "restarted").stdout == "second run\n"
    # the first run wrote nothing the runtime saw: an empty answer, not an error
    p = kubectl(server, "logs", "restarted", "--previous")
    assert (p.returncode, p.stdout) == (0, "")


def test_exec_errors(server, core, pod):
    p = kubectl(server, "exec", "nowhere", "--", "true")
    assert p.stderr == 'Error from server (NotFound): pods "nowhere" not found\n'
    make_pod(core, "stopped", [{"name": "c", "image": "busybox"}],
             [{"name": "c", "ready": False, "restartCount": 0, "image": "busybox", "imageID": "",
               "state": {"waiting": {"reason": "ContainerCreating"}}}], phase="Pending")
    for version in VERSIONS:
        p = kubectl(server, "exec", "stopped", "--", "true", version=version)
        assert p.returncode == 1 and 'container not found (\\"c\\")' not in p.stderr
        assert 'container not found ("c")' in p.stderr, p.stderr


def test_exec_refusals_before_the_node(server, core):
    core.create_namespaced_pod("default", {"metadata": {"name": "unbound"},  # no scheduler binds it
                                           "spec": {"schedulerName": "nobody",
                                                    "containers": [{"name": "c", "image": "busybox"}]}})
    core.patch_namespaced_pod_status("unbound", "default", {"status": {"phase": "Running"}})
    p = kubectl(server, "exec", "unbound", "--", "true", version="1.27")
    assert p.stderr == "Error from server (BadRequest): pod unbound does not have a host assigned\n"
    make_pod(core, "done", [{"name": "c", "image": "busybox"}], [], phase="Succeeded")
    p = kubectl(server, "exec", "done", "--", "true", version="1.27")
    assert p.stderr.endswith("cannot exec into a container in a completed pod; current phase is Succeeded\n")
    assert kubectl(server, "logs", "unbound").stdout == ""


def test_python_client_stream_exec(server, core, pod):
    out = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["sh", "-c", "echo out; hostname"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "out\ntalker\n"
    resp = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["sh", "-c", "echo oops; exit 3"],
                  stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=10)
    assert resp.returncode == 3


@pytest.mark.parametrize("version", (*VERSIONS, "1.30"))
def test_port_forward_echoes(server, pod, version):
    port_forward_echoes(server.kubeconfig, pod, version)


def test_python_client_port_forward(server, core, pod):
    python_port_forward_echoes(core, pod)


def test_attach_follows_the_main_process(server, core):
    make_pod(core, "reader", [{"name": "c", "image": "busybox", "command": ["cat"], "stdin": True}], [running("c")])
    attach_echoes(server.kubeconfig, "reader", VERSIONS)


ROLE = """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: peek}
rules:
- {apiGroups: [""], resources: [pods, pods/log, pods/exec, pods/portforward, pods/attach], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: peek}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: peek}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}]
"""


def test_connect_needs_create_as_kube_authorizes_it(server, pod):
    """SPDY exec is a POST, so `create`; a WebSocket one is a GET, which kube 1.33 authorizes as
    `get` (from 1.35 it must also pass as `create`)."""
    kubectl(server, "apply", "-f", "-", input=ROLE)
    forbidden = ('Error from server (Forbidden): pods "talker" is forbidden: User "viewer" cannot create resource '
                 '"pods/exec" in API group "" in the namespace "default"\n')
    p = kubectl(server, "--as=viewer", "exec", pod, "--", "echo", "hi", version="1.27")
    assert (p.returncode, p.stderr) == (1, forbidden)
    p = kubectl(server, "--as=viewer", "exec", pod, "--", "echo", "hi", version="1.33")
    assert (p.returncode, p.stdout) == (0, "hi\n")
    assert kubectl(server, "--as=viewer", "logs", pod).stdout == "hello\nworld\n"


def test_websocket_connect_needs_create_from_135(tmp_path):
    with ServerProcess(tmp_path / "v135", extra_args=("--kubernetes-version", "1.35")) as srv:
        def run(*args, **kw):
            return run_kubectl(srv.kubeconfig, *args, check=False, timeout=30, version="1.33", **kw)
        client = kubernetes.config.new_client_from_config(config_file=str(srv.kubeconfig))
        make_pod(kubernetes.client.CoreV1Api(client), "talker", [{"name": "c", "image": "busybox"}], [running("c")])
        client.close()
        run("apply", "-f", "-", input=ROLE)
        p = run("--as=viewer", "exec", "talker", "--", "echo", "hi")
        assert p.returncode == 1
        assert 'User "viewer" cannot create resource "pods/exec" in API group "" in the namespace "default"' in p.stderr
        assert run("exec", "talker", "--", "echo", "hi").stdout == "hi\n"


@pytest.mark.parametrize("version", VERSIONS)
def test_exec_with_a_terminal(server, pod, version):
    terminal_shell(server.kubeconfig, pod, version)
