"""Streaming subresources as a user meets them: `kubectl logs`, `exec` (SPDY from kubectl 1.27,
WebSocket from 1.33) and the Python client's exec stream, on a busybox pod.

On a cluster whose pods run (on its nodes, or on a host cluster's for a virtual cluster, which shows
nodes only once pods run on them) the pod runs for real; with none (vapi before its simulated
nodes), the case plays kubelet: it binds the pod to a node name and writes the running status itself.
"""
from __future__ import annotations

import time

import pytest
from kubernetes.stream import stream

from .helpers import eventually, expect_status
from .kubelet import has_nodes
from .streams import attach_echoes

SCRIPT = "echo hello; echo world; sleep 3600"


def _running(core, namespace: str, name: str, containers: list[dict]) -> None:
    pod = {"metadata": {"name": name}, "spec": {"containers": containers, "terminationGracePeriodSeconds": 0}}
    kubelet = not has_nodes(core)
    if kubelet:
        pod["spec"]["nodeName"] = "conformance-node"
    core.create_namespaced_pod(namespace, pod)
    if kubelet:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        core.patch_namespaced_pod_status(name, namespace, {"status": {"phase": "Running", "containerStatuses": [
            {"name": c["name"], "ready": True, "restartCount": 0, "image": c["image"], "imageID": "",
             "state": {"running": {"startedAt": now}}} for c in containers]}})
    assert eventually(lambda: core.read_namespaced_pod(name, namespace).status.phase == "Running", 120)


@pytest.fixture
def talker(core, namespace):
    _running(core, namespace, "talker", [{"name": "c", "image": "busybox", "command": ["sh", "-c", SCRIPT]}])
    assert eventually(lambda: core.read_namespaced_pod_log("talker", namespace) == "hello\nworld\n", 30)
    return namespace


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_exec_streams_stdin_and_exit_codes(kubectl, talker, version):
    p = kubectl("-n", talker, "exec", "-i", "talker", "--", "cat", input="one\ntwo\n", version=version)
    assert p.stdout == "one\ntwo\n"
    p = kubectl("-n", talker, "exec", "talker", "--", "sh", "-c", "echo a; false", version=version, check=False)
    assert (p.returncode, p.stdout, p.stderr) == (1, "a\n", "command terminated with exit code 1\n")
    p = kubectl("-n", talker, "exec", "talker", "--", "sh", "-c", "nosuchcommand", version=version, check=False)
    assert p.returncode == 127 and "nosuchcommand: not found" in p.stderr


def test_logs_tail_and_timestamps(kubectl, talker):
    assert kubectl("-n", talker, "logs", "talker", "--tail=1").stdout == "world\n"
    lines = kubectl("-n", talker, "logs", "talker", "--timestamps").stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["hello", "world"]
    assert all(line[:4].isdigit() and line.split(" ", 1)[0].endswith("Z") for line in lines)


def test_log_errors(core, talker):
    status = expect_status(lambda: core.read_namespaced_pod_log("talker", talker, previous=True), 400, "BadRequest")
    assert status["message"] == 'previous terminated container "c" in pod "talker" not found'
    status = expect_status(lambda: core.read_namespaced_pod_log("talker", talker, container="x"), 400, "BadRequest")
    assert status["message"] == "container x is not valid for pod talker"
    expect_status(lambda: core.read_namespaced_pod_log("nowhere", talker), 404, "NotFound")


def test_log_needs_a_container_name_among_several(core, namespace):
    _running(core, namespace, "two", [{"name": "a", "image": "busybox", "command": ["sleep", "3600"]},
                                      {"name": "b", "image": "busybox", "command": ["sleep", "3600"]}])
    status = expect_status(lambda: core.read_namespaced_pod_log("two", namespace), 400, "BadRequest")
    assert status["message"] == "a container name must be specified for pod two, choose one of: [a b]"


def test_python_client_exec(core, talker):
    out = stream(core.connect_get_namespaced_pod_exec, "talker", talker, command=["sh", "-c", "echo out; exit 3"],
                 stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    out.run_forever(timeout=30)
    assert out.read_stdout() == "out\n"
    assert out.returncode == 3


def test_attach_reaches_the_main_process(kubeconfig, core, namespace):
    _running(core, namespace, "reader", [{"name": "c", "image": "busybox", "command": ["cat"], "stdin": True}])
    attach_echoes(kubeconfig, "reader", ("1.27", "1.33"), namespace)
