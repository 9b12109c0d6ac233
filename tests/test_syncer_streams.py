"""A virtual pod's logs, exec, attach and port-forward reach its host copy through the virtual
server: real kubectl (1.33 speaks WebSocket, 1.27 SPDY) against a virtual cluster on a real host
`vapi serve --nodes 2` (the `host` and `vc1` fixtures of tests/virtual_fixtures.py), whose simulated
containers log, run commands and echo forwarded bytes."""
from __future__ import annotations

import os
import subprocess
import threading
import time

import kubernetes
import pytest
import yaml
from kubernetes.stream import stream

from conformance.streams import (attach_echoes, exec_cat_and_exit_codes, follow, kubectl as run, logs_read_as_asked,
                               port_forward_echoes, python_port_forward_echoes, terminal_shell)
from tests.virtual_fixtures import core as client_of
from vapi.testing import ServerProcess, kubectl_path

VERSIONS = ("1.27", "1.33")


@pytest.fixture(scope="module")
def core(vc1):
    return client_of(vc1)


def kubectl(server, *args, version=None, **kw):
    return run(server.kubeconfig, *args, version=version, **kw)


def running_pod(core, name: str, containers: list[dict], settled=lambda states: all(s.running for s in states),
                **spec) -> str:
    """A virtual pod, once the host runs its copy and the virtual pod says so."""
    core.create_namespaced_pod("default", {"metadata": {"name": name}, "spec": {"containers": containers, **spec}})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pod = core.read_namespaced_pod(name, "default")
        statuses = pod.status.container_statuses or []
        if pod.status.phase == "Running" and statuses and settled([s.state for s in statuses]):
            return name
        time.sleep(0.1)
    raise AssertionError(f"pod {name} is not running: {pod.status}")


@pytest.fixture(scope="module")
def pod(core):
    """One container whose command writes two lines, the second a second later."""
    running_pod(core, "talker", [{"name": "c", "image": "busybox",
                                  "command": ["sh", "-c", "echo hello; sleep 1; echo world; sleep 1000"]}])
    time.sleep(1.5)
    return "talker"


@pytest.mark.parametrize("version", VERSIONS)
def test_logs_come_from_the_host(vc1, pod, version):
    logs_read_as_asked(vc1.kubeconfig, pod, ["hello", "world"], version)
    assert kubectl(vc1, "logs", pod, "-c", "c", version=version).stdout == "hello\nworld\n"


@pytest.mark.parametrize("version", VERSIONS)
def test_logs_follow_sees_what_is_written_later(vc1, core, version):
    """...and ends when the host's container stops, as the host's log does."""
    name = running_pod(core, f"follow-{version.replace('.', '')}", [
        {"name": "c", "image": "busybox", "command": ["sh", "-c", "echo first; sleep 2; echo second; sleep 2"]}],
        restartPolicy="Never")
    proc = follow(vc1.kubeconfig, name, version)
    try:
        assert proc.wait(15) == 0
        assert proc.stdout.read() == ""
    finally:
        proc.kill()
        proc.wait()


def test_logs_of_several_containers_and_the_hosts_refusals(vc1, core, pod):
    running_pod(core, "two", [{"name": "a", "image": "busybox", "command": ["sh", "-c", "echo from a; sleep 1000"]},
                              {"name": "b", "image": "busybox", "command": ["sh", "-c", "echo from b; sleep 1000"]}])
    time.sleep(0.5)
    assert kubectl(vc1, "logs", "two", "-c", "b").stdout == "from b\n"
    p = kubectl(vc1, "logs", "two", "--all-containers", "--prefix")
    assert sorted(p.stdout.splitlines()) == ["[pod/two/a] from a", "[pod/two/b] from b"], p.stderr
    # checked here, as kube-apiserver checks it, before any host is asked
    p = kubectl(vc1, "get", "--raw", "/api/v1/namespaces/default/pods/two/log")
    assert "a container name must be specified for pod two, choose one of: [a b]" in p.stderr
    # the host's kubelet refuses: its words, about the virtual pod
    p = kubectl(vc1, "logs", pod, "--previous")
    assert p.stderr == ('Error from server (BadRequest): previous terminated container "c" in pod "talker" '
                        "not found\n")
    with pytest.raises(kubernetes.client.ApiException) as e:
        core.read_namespaced_pod_log(pod, "default", previous=True)
    assert e.value.status == 400 and "talker-x-default-x-vc1" not in e.value.body


def test_logs_of_the_previous_run(vc1, core):
    core.create_namespaced_pod("default", {"metadata": {"name": "crashy"}, "spec": {"containers": [
        {"name": "c", "image": "busybox", "command": ["sh", "-c", "echo run; exit 1"]}]}})
    deadline = time.monotonic() + 30
    while not any(s.restart_count for s in core.read_namespaced_pod("crashy", "default").status.container_statuses
                  or []):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    for version in VERSIONS:
        p = kubectl(vc1, "logs", "crashy", "--previous", version=version)
        assert (p.returncode, p.stdout) == (0, "run\n"), p.stderr


@pytest.mark.parametrize("version", VERSIONS)
def test_exec_through_the_host(vc1, pod, version):
    exec_cat_and_exit_codes(vc1.kubeconfig, pod, version)
    p = kubectl(vc1, "exec", pod, "-c", "nope", "--", "true", version=version)
    assert (p.returncode, p.stderr) == (1, "Error from server (BadRequest): container nope is not valid for pod "
                                           "talker\n")
    p = kubectl(vc1, "exec", pod, "--", "hostname", version=version)
    assert p.stdout == "talker\n"


def test_the_hosts_refusal_of_an_upgrade(vc1, core):
    running_pod(core, "halfdone", [
        {"name": "main", "image": "busybox", "command": ["sleep", "1000"]},
        {"name": "quick", "image": "busybox", "command": ["sh", "-c", "echo bye; exit 0"]}],
        settled=lambda states: sorted(bool(s.running) for s in states) == [False, True], restartPolicy="Never")
    for version in VERSIONS:
        p = kubectl(vc1, "exec", "halfdone", "-c", "quick", "--", "true", version=version)
        assert (p.returncode, p.stderr) == (1, 'Error from server (BadRequest): container not found ("quick")\n')


def test_python_client_exec(core, pod):
    out = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["sh", "-c", "echo out"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "out\n"


def test_a_pod_the_host_has_not_placed(vc1, core):
    core.create_namespaced_pod("default", {"metadata": {"name": "unplaced"}, "spec": {
        "nodeSelector": {"nowhere": "true"}, "containers": [{"name": "c", "image": "busybox"}]}})
    time.sleep(1)
    for version in VERSIONS:
        p = kubectl(vc1, "exec", "unplaced", "--", "true", version=version)
        assert p.stderr == "Error from server (BadRequest): pod unplaced does not have a host assigned\n"
    assert kubectl(vc1, "logs", "unplaced").stdout == ""


@pytest.mark.parametrize("version", (*VERSIONS, "1.30"))
def test_port_forward_echoes_through_the_host(vc1, pod, version):
    port_forward_echoes(vc1.kubeconfig, pod, version)


def test_python_client_port_forward(core, pod):
    python_port_forward_echoes(core, pod)


def test_attach_reaches_the_main_process(vc1, core):
    running_pod(core, "reader", [{"name": "c", "image": "busybox", "command": ["cat"], "stdin": True}])
    attach_echoes(vc1.kubeconfig, "reader", VERSIONS)


@pytest.mark.parametrize("version", VERSIONS)
def test_exec_with_a_terminal(vc1, pod, version):
    terminal_shell(vc1.kubeconfig, pod, version)


def test_a_host_reached_with_a_token_in_a_namespace_of_its_own(tmp_path):
    """The host kubeconfig's bearer token goes with every stream, to the copy in `--host-namespace`."""
    (tmp_path / "tokens.csv").write_text('streamer-token,streamer,1,"system:masters"\n')
    with ServerProcess(tmp_path / "host", extra_args=("--token-auth-file", str(tmp_path / "tokens.csv"))) as host:
        run(host.kubeconfig, "create", "namespace", "team-a")
        config = yaml.safe_load(host.kubeconfig.read_text())
        config["users"] = [{"name": "streamer", "user": {"token": "streamer-token"}}]
        config["contexts"][0]["context"]["user"] = "streamer"
        (tmp_path / "token.yaml").write_text(yaml.safe_dump(config))
        with ServerProcess(tmp_path / "vc2", extra_args=("--host-kubeconfig", str(tmp_path / "token.yaml"),
                                                         "--name", "vc2", "--host-namespace", "team-a")) as vc2:
            running_pod(client_of(vc2), "echoer", [
                {"name": "c", "image": "busybox", "command": ["sh", "-c", "echo ready; sleep 1000"]}])
            assert run(host.kubeconfig, "-n", "team-a", "get", "pod", "echoer-x-default-x-vc2",
                       "-o", "name").stdout == "pod/echoer-x-default-x-vc2\n"
            for version in VERSIONS:
                assert kubectl(vc2, "logs", "echoer", version=version).stdout == "ready\n"
                p = kubectl(vc2, "exec", "-i", "echoer", "--", "cat", version=version, input="through a token\n")
                assert (p.returncode, p.stdout) == (0, "through a token\n"), p.stderr


def _rss(server: ServerProcess) -> int:
    with open(f"/proc/{server.proc.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("version", VERSIONS)
def test_a_big_stream_is_never_held_whole(vc1, pod, version):
    """16 MiB through `exec -i cat`, the virtual server's resident set sampled all along."""
    size = 16 * 1024 * 1024
    data = os.urandom(size // 2).hex().encode()     # text kubectl passes as it is
    kubectl(vc1, "exec", "-i", pod, "--", "cat", version=version, input="warm\n")
    before = _rss(vc1)
    peak, done = before, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, _rss(vc1))
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    try:
        p = subprocess.run([kubectl_path(version), f"--kubeconfig={vc1.kubeconfig}", "exec", "-i", pod, "--", "cat"],
                           input=data, capture_output=True, timeout=120)
    finally:
        done.set()
        sampler.join()
    took = time.monotonic() - started
    print(f"\nkubectl {version}: {size >> 20} MiB both ways through exec cat in {took:.2f} s; the virtual "
          f"server's RSS {before / 2**20:.1f} MiB before, at most {peak / 2**20:.1f} MiB during")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) == size and p.stdout == data
    assert peak - before < size // 4


def test_a_host_away_is_a_503(host, vc1, core, pod):
    """Last in the module: the host stops, and is started again for whatever runs after."""
    host.stop()
    try:
        p = kubectl(vc1, "exec", pod, "--", "true", version="1.27")
        assert p.returncode == 1 and p.stderr.startswith(
            "Error from server (ServiceUnavailable): the host cluster is unreachable: "), p.stderr
        with pytest.raises(kubernetes.client.ApiException) as e:
            core.read_namespaced_pod_log(pod, "default")
        assert e.value.status == 503
    finally:
        host.start()
