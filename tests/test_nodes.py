"""Simulated nodes (`vapi serve --nodes 3`): Nodes and their heartbeats, and the simulated kubelet
taking the pods bound to them through their lives, driven by the pods' annotations."""
from __future__ import annotations

import ipaddress
import json
import time
import uuid

import pytest

from conformance.helpers import eventually
from vapi.testing import ServerProcess, run_kubectl


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("nodes"), extra_args=("--nodes", "3")) as proc:
        yield proc


@pytest.fixture
def kubectl(server, tmp_path):
    def run(*args, **kw):
        return run_kubectl(server.kubeconfig, *args, cache_dir=tmp_path / "cache", **kw)
    return run


@pytest.fixture
def namespace(kubectl):
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def get(kubectl, *args):
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def until(what, check, timeout=20.0):
    found = eventually(check, timeout)
    assert found, f"timed out waiting for {what}"
    return found


def pod(name, node="vapi-node-1", annotations=None, **spec):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox"}], **spec}}


def create(kubectl, namespace, obj):
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(obj))


def condition(obj, kind):
    return next((c for c in obj["status"].get("conditions") or [] if c["type"] == kind), {})


def test_nodes_are_listed_ready_with_their_labels(kubectl):
    until("three nodes", lambda: len(get(kubectl, "nodes")["items"]) == 3)
    out = kubectl("get", "nodes").stdout.splitlines()
    assert [line.split()[:2] for line in out[1:]] == [["vapi-node-0", "Ready"], ["vapi-node-1", "Ready"],
                                                      ["vapi-node-2", "Ready"]]
    node = get(kubectl, "node", "vapi-node-1")
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "vapi-node-1"
    assert labels["kubernetes.io/os"] == "linux" and labels["kubernetes.io/arch"] == "amd64"
    assert labels["vapi.dev/simulated"] == "true"
    assert {get(kubectl, "node", f"vapi-node-{i}")["metadata"]["labels"]["topology.kubernetes.io/zone"]
            for i in range(3)} == {"zone-a", "zone-b", "zone-c"}
    assert node["status"]["capacity"]["pods"] == "110"
    assert node["spec"]["podCIDR"] == "10.128.1.0/24"
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]} == {
        "Ready": "True", "MemoryPressure": "False", "DiskPressure": "False", "PIDPressure": "False",
        "NetworkUnavailable": "False"}
    assert {a["type"] for a in node["status"]["addresses"]} == {"InternalIP", "Hostname"}
    lease = get(kubectl, "lease", "-n", "kube-node-lease", "vapi-node-1")
    assert lease["spec"]["holderIdentity"] == "vapi-node-1"
    assert lease["metadata"]["ownerReferences"][0]["uid"] == node["metadata"]["uid"]


def test_bound_pod_runs_ready_with_an_ip_of_its_node(kubectl, namespace):
    create(kubectl, namespace, pod("web", containers=[{"name": "web", "image": "nginx"}]))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/web", "--timeout=20s")
    obj = get(kubectl, "pod", "-n", namespace, "web")
    status = obj["status"]
    assert status["phase"] == "Running"
    assert ipaddress.ip_address(status["podIP"]) in ipaddress.ip_network("10.128.1.0/24")
    assert status["hostIP"] == next(a["address"] for a in get(kubectl, "node", "vapi-node-1")["status"]["addresses"]
                                    if a["type"] == "InternalIP")
    container = status["containerStatuses"][0]
    assert container["ready"] is True and container["started"] is True and container["restartCount"] == 0
    assert container["image"] == "docker.io/library/nginx:latest"
    assert container["containerID"].startswith("containerd://")
    assert "running" in container["state"]
    assert [c["type"] for c in status["conditions"]] == ["PodReadyToStartContainers", "Initialized", "Ready",
                                                          "ContainersReady", "PodScheduled"]
    assert kubectl("get", "pod", "-n", namespace, "web").stdout.split("\n")[1].split()[1:3] == ["1/1", "Running"]

    def kubelet_events():
        events = get(kubectl, "events", "-n", namespace, "--field-selector", "involvedObject.name=web")["items"]
        return events if len(events) >= 4 else None
    events = until("the kubelet's events", kubelet_events)
    assert [e["reason"] for e in sorted(events, key=lambda e: e["metadata"]["creationTimestamp"])][:4] == [
        "Pulling", "Pulled", "Created", "Started"]
    assert {(e["source"]["component"], e["source"].get("host")) for e in events} == {("kubelet", "vapi-node-1")}
    assert {e["message"] for e in events} >= {'Pulling image "nginx"', "Created container: web", "Started container web"}


def test_unbound_pod_stays_pending(kubectl, namespace):
    # Bound by no scheduler (none has this name): the kubelets run only the pods bound to them.
    create(kubectl, namespace, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "idle"},
                                "spec": {"schedulerName": "nobody", "containers": [{"name": "main", "image": "busybox"}]}})
    time.sleep(1.5)
    assert get(kubectl, "pod", "-n", namespace, "idle")["status"]["phase"] == "Pending"


def test_init_containers_then_readiness_delay(kubectl, namespace):
    create(kubectl, namespace, pod("init", annotations={"vapi.dev/run-seconds.setup": "1"},
                                   initContainers=[{"name": "setup", "image": "busybox"},
                                                   {"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
                                   containers=[{"name": "main", "image": "busybox",
                                                "readinessProbe": {"initialDelaySeconds": 2,
                                                                   "exec": {"command": ["true"]}}}]))
    first = until("the first init container running", lambda: (lambda o: o if o["status"].get(
        "initContainerStatuses") and "running" in o["status"]["initContainerStatuses"][0]["state"] else None)(
        get(kubectl, "pod", "-n", namespace, "init")))
    assert condition(first, "Initialized") == {**condition(first, "Initialized"), "status": "False",
                                               "reason": "ContainersNotInitialized",
                                               "message": "containers with incomplete status: [setup proxy]"}
    assert first["status"]["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    running = until("the main container running", lambda: (lambda o: o if "running" in o["status"][
        "containerStatuses"][0]["state"] else None)(get(kubectl, "pod", "-n", namespace, "init")))
    setup, proxy = running["status"]["initContainerStatuses"]
    assert setup["state"]["terminated"]["reason"] == "Completed" and setup["state"]["terminated"]["exitCode"] == 0
    assert "running" in proxy["state"] and proxy["started"] is True
    assert condition(running, "Ready")["status"] == "False"
    started = running["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/init", "--timeout=20s")
    ready = get(kubectl, "pod", "-n", namespace, "init")
    assert _seconds(condition(ready, "Ready")["lastTransitionTime"]) - _seconds(started) >= 1


def _seconds(stamp):
    return time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))


def test_readiness_gates_hold_ready(kubectl, namespace):
    create(kubectl, namespace, pod("gated", readinessGates=[{"conditionType": "example.com/lb"}]))
    held = until("containers ready", lambda: (lambda o: o if condition(o, "ContainersReady").get("status") == "True"
                                               else None)(get(kubectl, "pod", "-n", namespace, "gated")))
    assert condition(held, "Ready") == {**condition(held, "Ready"), "status": "False",
                                        "reason": "ReadinessGatesNotReady",
                                        "message": 'corresponding condition of pod readiness gate "example.com/lb" '
                                                   'does not exist.'}
    kubectl("patch", "-n", namespace, "pod", "gated", "--subresource=status", "--type=json", "-p", json.dumps(
        [{"op": "add", "path": "/status/conditions/-", "value": {"type": "example.com/lb", "status": "True"}}]))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/gated", "--timeout=20s")


def test_exit_code_with_restart_never_fails_the_pod(kubectl, namespace):
    create(kubectl, namespace, pod("fails", annotations={"vapi.dev/exit-code": "3", "vapi.dev/run-seconds": "0.5"},
                                   restartPolicy="Never"))
    kubectl("wait", "-n", namespace, "--for=jsonpath={.status.phase}=Failed", "pod/fails", "--timeout=20s")
    status = get(kubectl, "pod", "-n", namespace, "fails")["status"]
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")
    assert condition({"status": status}, "Ready")["reason"] == "PodCompleted"
    assert kubectl("get", "pod", "-n", namespace, "fails").stdout.split("\n")[1].split()[2] == "Error"


def test_run_seconds_with_exit_zero_succeeds(kubectl, namespace):
    create(kubectl, namespace, pod("done", annotations={"vapi.dev/run-seconds": "0.5"}, restartPolicy="OnFailure"))
    kubectl("wait", "-n", namespace, "--for=jsonpath={.status.phase}=Succeeded", "pod/done", "--timeout=20s")
    terminated = get(kubectl, "pod", "-n", namespace, "done")["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")


def test_crash_loop_backs_off_and_counts_restarts(kubectl, namespace):
    create(kubectl, namespace, pod("crash", annotations={"vapi.dev/crash-loop": "true", "vapi.dev/backoff-seconds": "1",
                                                         "vapi.dev/run-seconds": "0.3"}))
    backing = until("CrashLoopBackOff", lambda: (lambda o: o if (o["status"].get("containerStatuses") or [{}])[0]
                                                 .get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
                                                 else None)(get(kubectl, "pod", "-n", namespace, "crash")))
    container = backing["status"]["containerStatuses"][0]
    assert container["state"]["waiting"]["message"].startswith("back-off 1s restarting failed container=main pod=crash_")
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert container["lastState"]["terminated"]["reason"] == "Error"
    first = container["restartCount"]
    assert first >= 1
    until("more restarts", lambda: get(kubectl, "pod", "-n", namespace, "crash")["status"]["containerStatuses"][0]
          ["restartCount"] > first)
    backoff = until("the BackOff event", lambda: get(kubectl, "events", "-n", namespace, "--field-selector",
                                                    "reason=BackOff")["items"])
    assert backoff[0]["type"] == "Warning"
    assert backoff[0]["message"].startswith("Back-off restarting failed container main in pod crash_")
    assert "CrashLoopBackOff" in until("kubectl showing the back-off", lambda: (lambda line: line if "CrashLoopBackOff"
                                       in line else None)(kubectl("get", "pod", "-n", namespace, "crash").stdout))


def test_graceful_delete_waits_for_the_containers(kubectl, namespace):
    create(kubectl, namespace, pod("slow", annotations={"vapi.dev/termination-seconds": "2"}))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/slow", "--timeout=20s")
    started = time.monotonic()
    kubectl("delete", "-n", namespace, "pod", "slow", "--wait=false")
    dying = get(kubectl, "pod", "-n", namespace, "slow")
    assert dying["metadata"]["deletionTimestamp"] and dying["metadata"]["deletionGracePeriodSeconds"] == 30
    kubectl("wait", "-n", namespace, "--for=delete", "pod/slow", "--timeout=20s")
    assert time.monotonic() - started >= 1.5


def test_grace_period_bounds_termination(kubectl, namespace):
    create(kubectl, namespace, pod("stubborn", annotations={"vapi.dev/termination-seconds": "60"}))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/stubborn", "--timeout=20s")
    started = time.monotonic()
    kubectl("delete", "-n", namespace, "pod", "stubborn", "--grace-period=1", "--timeout=20s")
    assert time.monotonic() - started < 10


def test_a_new_node_with_the_marker_label_gets_a_kubelet(kubectl, namespace):
    kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "extra", "labels": {"vapi.dev/simulated": "true"}}}))
    lease = until("a lease", lambda: (lambda p: json.loads(p.stdout) if p.returncode == 0 else None)(
        kubectl("get", "lease", "-n", "kube-node-lease", "extra", "-o", "json", check=False)))
    node = until("node status", lambda: (lambda o: o if o.get("status", {}).get("nodeInfo") else None)(
        get(kubectl, "node", "extra")))
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"
    cidr = node["spec"]["podCIDR"]
    assert cidr not in {f"10.128.{i}.0/24" for i in range(3)}
    first = lease["spec"]["renewTime"]
    until("a renewed lease", lambda: get(kubectl, "lease", "-n", "kube-node-lease", "extra")["spec"]["renewTime"]
          != first, timeout=15)
    create(kubectl, namespace, pod("there", node="extra"))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/there", "--timeout=20s")
    assert ipaddress.ip_address(get(kubectl, "pod", "-n", namespace, "there")["status"]["podIP"]) in \
        ipaddress.ip_network(cidr)


def test_deleting_a_node_deletes_its_pods(kubectl, namespace):
    kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "doomed", "labels": {"vapi.dev/simulated": "true"}}}))
    create(kubectl, namespace, pod("a", node="doomed"))
    create(kubectl, namespace, pod("b", node="doomed"))
    create(kubectl, namespace, pod("elsewhere", node="vapi-node-0"))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/a", "pod/b", "--timeout=20s")
    kubectl("delete", "node", "doomed")
    kubectl("wait", "-n", namespace, "--for=delete", "pod/a", "pod/b", "--timeout=20s")
    until("the lease gone", lambda: kubectl("get", "lease", "-n", "kube-node-lease", "doomed",
                                            check=False).returncode != 0)
    assert get(kubectl, "pod", "-n", namespace, "elsewhere")["metadata"]["name"] == "elsewhere"


def test_nodes_flag_refuses_a_negative_count(tmp_path):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "vapi", "serve", "--nodes", "-1", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "argument --nodes: invalid count '-1'" in proc.stderr


def test_a_restarted_server_keeps_running_pods_as_they_were(server, kubectl, namespace):
    """Last in this module: it restarts the module's server. The kubelet takes up where it left:
    same pod IP, same container, no restart, and the Lease renewed again."""
    create(kubectl, namespace, pod("stays", node="vapi-node-2"))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/stays", "--timeout=20s")
    before = get(kubectl, "pod", "-n", namespace, "stays")
    server.restart()
    time.sleep(2)
    create(kubectl, namespace, pod("next", node="vapi-node-2"))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/next", "--timeout=20s")
    after = get(kubectl, "pod", "-n", namespace, "stays")
    assert after["status"]["podIP"] == before["status"]["podIP"]
    assert after["status"]["containerStatuses"] == before["status"]["containerStatuses"]
    assert after["status"]["phase"] == "Running"
    assert get(kubectl, "pod", "-n", namespace, "next")["status"]["podIP"] != before["status"]["podIP"]
    renewed = get(kubectl, "lease", "-n", "kube-node-lease", "vapi-node-2")["spec"]["renewTime"]
    until("a lease renewed after the restart", lambda: get(kubectl, "lease", "-n", "kube-node-lease", "vapi-node-2")
          ["spec"]["renewTime"] != renewed, timeout=15)
