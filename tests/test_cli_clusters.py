"""`vapi create|connect|list|delete`: real `vapi` processes, clusters kept under a VAPI_HOME of the test's own.

Every cluster a test creates is deleted by the `vapi` fixture's finalizer, so no server outlives it.
"""
from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from admission.schemas import DEFAULT_VERSION
import vapi as vapi_package
from vapi.clusterprocess import port_free
from vapi.testing import ServerProcess, run_kubectl


class VapiCLI:
    def __init__(self, home: Path):
        self.home = home

    def __call__(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "vapi", *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "VAPI_HOME": str(self.home),
                                   # `vapi create` connects: into a kubeconfig of the test's own
                                   "KUBECONFIG": str(self.home / "kubeconfig"), **(env or {})})
        if check and proc.returncode != 0:
            raise AssertionError(f"vapi {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def record(self, name: str) -> dict:
        return json.loads((self.home / "clusters" / name / "cluster.json").read_text())

    def listing(self) -> dict[str, dict]:
        return {c["name"]: c for c in json.loads(self("list", "--output", "json").stdout)}

    def kubeconfig(self, name: str, tmp_path: Path) -> Path:
        path = tmp_path / f"{name}.kubeconfig"
        path.write_text(self("connect", name, "--print").stdout)
        return path

    def cleanup(self) -> None:
        clusters = self.home / "clusters"
        for entry in sorted(clusters.glob("*/cluster.json")):
            entry = entry.parent
            record = json.loads((entry / "cluster.json").read_text())
            if self("delete", entry.name, check=False).returncode != 0 and record.get("pid"):
                # The CLI failed: the test has failed already; still, no server outlives it.
                try:
                    os.kill(record["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def vapi(tmp_path):
    cli = VapiCLI(tmp_path / "vapi-home")
    yield cli
    cli.cleanup()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


def test_create_standalone_serves_the_version_asked_for(vapi, tmp_path):
    created = vapi("create", "vc1", "--kubernetes-version", "1.31", "--nodes", "2")
    assert created.stderr.startswith("info  Creating virtual cluster vc1...\n")
    assert "done  Virtual cluster vc1 is ready (" in created.stderr
    record = vapi.record("vc1")
    assert alive(record["pid"])
    assert record["mode"] == "standalone" and record["version"] == "1.31"
    assert record["server"] == f"https://127.0.0.1:{record['port']}"

    kubeconfig = vapi.kubeconfig("vc1", tmp_path)
    config = yaml.safe_load(kubeconfig.read_text())
    assert config["current-context"] == "vapi_vc1"
    assert [c["name"] for c in config["clusters"]] == ["vapi_vc1"]
    assert "default " in run_kubectl(kubeconfig, "get", "ns").stdout
    version = json.loads(run_kubectl(kubeconfig, "get", "--raw", "/version").stdout)
    assert (version["major"], version["minor"]) == ("1", "31")
    nodes = run_kubectl(kubeconfig, "get", "nodes", "-o", "name").stdout.split()
    assert nodes == ["node/vapi-node-0", "node/vapi-node-1"]

    lines = vapi("list").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "AGE", "VERSION", "ENDPOINT", "HOST"]
    name, status, age, version_column, endpoint, host = lines[1].split()
    assert (name, status, version_column, endpoint, host) == ("vc1", "Running", "1.31", record["server"],
                                                               "standalone")
    assert age.endswith("s") and age[:-1].isdigit()
    listed = vapi.listing()["vc1"]
    assert listed["status"] == "Running" and listed["endpoint"] == record["server"]


def test_killed_cluster_is_stopped_and_create_brings_it_back_with_its_objects(vapi, tmp_path):
    vapi("create", "vc1")
    kubeconfig = vapi.kubeconfig("vc1", tmp_path)
    run_kubectl(kubeconfig, "create", "configmap", "before", "--from-literal=kept=yes")
    record = vapi.record("vc1")

    os.kill(record["pid"], signal.SIGKILL)
    wait_for(lambda: not alive(record["pid"]))
    assert vapi.listing()["vc1"]["status"] == "Stopped"
    assert vapi("list").stdout.splitlines()[1].split()[1] == "Stopped"

    again = vapi("create", "vc1")
    assert "info  Starting virtual cluster vc1 again on its existing data..." in again.stderr
    restarted = vapi.record("vc1")
    assert restarted["pid"] != record["pid"] and alive(restarted["pid"])
    # Its port, unless another process on this machine took it meanwhile.
    assert restarted["port"] == record["port"] or not port_free(record["port"])
    assert restarted["created"] == record["created"]
    # The kubeconfig printed before the crash still reaches it.
    assert run_kubectl(kubeconfig, "get", "configmap", "before", "-o", "jsonpath={.data.kept}").stdout == "yes"
    assert vapi.listing()["vc1"]["status"] == "Running"


def test_delete_stops_the_process_and_removes_the_cluster(vapi):
    vapi("create", "vc1")
    vapi("create", "vc2")
    pid = vapi.record("vc1")["pid"]
    deleted = vapi("delete", "vc1")
    assert "done  Deleted virtual cluster vc1" in deleted.stderr
    assert not alive(pid)
    assert not (vapi.home / "clusters" / "vc1").exists()
    assert list(vapi.listing()) == ["vc2"]
    # A stopped cluster deletes too.
    pid = vapi.record("vc2")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid))
    # AGE in kubectl's short form, from the time it was first created.
    record_path = vapi.home / "clusters" / "vc2" / "cluster.json"
    record = json.loads(record_path.read_text())
    then = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2, hours=5, minutes=3)
    record["created"] = then.strftime("%Y-%m-%dT%H:%M:%SZ")
    record_path.write_text(json.dumps(record))
    assert vapi("list").stdout.splitlines()[1].split()[:3] == ["vc2", "Stopped", "2d5h"]
    vapi("delete", "vc2")
    assert vapi.listing() == {}
    assert vapi("list").stdout.splitlines() == ["NAME   STATUS   AGE   VERSION   ENDPOINT   HOST"]


def test_errors_are_one_line_and_exit_1(vapi):
    bad = vapi("create", "Bad_Name", check=False)
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [
        "fatal invalid virtual cluster name \"Bad_Name\": a lowercase RFC 1123 label must consist of lower case "
        "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
        "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]
    assert not (vapi.home / "clusters" / "Bad_Name").exists()
    for command in ("connect", "delete"):
        missing = vapi(command, "vc1", check=False)
        assert (missing.returncode, missing.stderr) == (1, "fatal virtual cluster vc1 not found\n")
    vapi("create", "vc1")
    pid = vapi.record("vc1")["pid"]
    duplicate = vapi("create", "vc1", check=False)
    assert (duplicate.returncode, duplicate.stderr) == (1, "fatal virtual cluster vc1 already exists\n")
    assert vapi.record("vc1")["pid"] == pid and alive(pid)
    missing_host = vapi("create", "vc2", "--host-kubeconfig", str(vapi.home / "nope.yaml"), check=False)
    assert missing_host.returncode == 1
    assert missing_host.stderr.splitlines()[-1] == f"fatal {vapi.home / 'nope.yaml'}: no such file"
    assert not (vapi.home / "clusters" / "vc2").exists()


def test_create_connects_as_vcluster_create_does_unless_told_not_to(vapi, tmp_path):
    made = vapi("create", "vc1")
    config = yaml.safe_load((vapi.home / "kubeconfig").read_text())
    assert config["current-context"] == "vapi_vc1"
    assert "done  Switched active kube context to vapi_vc1" in made.stderr
    assert "kube-system " in run_kubectl(vapi.home / "kubeconfig", "get", "ns").stdout
    aside = tmp_path / "aside.yaml"
    vapi("create", "vc2", "--connect=false", env={"KUBECONFIG": str(aside)})
    assert not aside.exists()
    vapi("create", "vc3", "--kube-config", str(aside))
    assert yaml.safe_load(aside.read_text())["current-context"] == "vapi_vc3"


def test_connect_merges_into_the_kubeconfig_and_switches_context(vapi, tmp_path):
    vapi("create", "vc1", "--connect=false")
    mine = tmp_path / "kube" / "config"
    mine.parent.mkdir()
    mine.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "elsewhere",
        "clusters": [{"name": "elsewhere", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "elsewhere", "user": {"token": "t"}}],
        "contexts": [{"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "elsewhere"}}]}))
    connected = vapi("connect", "vc1", "--kube-config", str(mine))
    assert connected.stdout == ""
    assert f"done  Switched active kube context to vapi_vc1 in {mine}" in connected.stderr
    assert "Use `kubectl config use-context elsewhere` to return to your previous kube context" in connected.stderr
    config = yaml.safe_load(mine.read_text())
    assert config["current-context"] == "vapi_vc1"
    assert sorted(c["name"] for c in config["contexts"]) == ["elsewhere", "vapi_vc1"]
    assert "kube-system " in run_kubectl(mine, "get", "ns").stdout
    assert mine.stat().st_mode & 0o077 == 0

    # Without --kube-config: $KUBECONFIG's first path, made when missing; connecting twice keeps one entry.
    fresh = tmp_path / "fresh" / "config"
    for _ in range(2):
        vapi("connect", "vc1", env={"KUBECONFIG": f"{fresh}{os.pathsep}{mine}"})
    config = yaml.safe_load(fresh.read_text())
    assert [c["name"] for c in config["contexts"]] == ["vapi_vc1"]
    assert config["current-context"] == "vapi_vc1"
    assert "default " in run_kubectl(fresh, "get", "ns").stdout

    # Without either: ~/.kube/config.
    vapi("connect", "vc1", env={"KUBECONFIG": "", "HOME": str(tmp_path / "home")})
    assert yaml.safe_load((tmp_path / "home" / ".kube" / "config").read_text())["current-context"] == "vapi_vc1"


def test_options_of_the_other_mode_are_refused(vapi, tmp_path):
    host = tmp_path / "host.yaml"
    host.write_text("apiVersion: v1\nkind: Config\n")
    for args, message in (
            (("--host-kubeconfig", str(host), "--nodes", "2"),
             "--nodes is for standalone clusters: a virtual cluster's pods run on its host's nodes"),
            (("--config", str(host)), "--config is for virtual clusters: give --host-kubeconfig too"),
            (("--host-namespace", "team-a"), "--host-namespace is for virtual clusters: give --host-kubeconfig too"),
            (("--host-kubeconfig", str(host), "--host-namespace", "Team_A"),
             "invalid host namespace \"Team_A\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
             "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
             "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")):
        refused = vapi("create", "vc1", *args, check=False)
        assert (refused.returncode, refused.stderr) == (1, f"fatal {message}\n")
    assert vapi.listing() == {}


def test_a_cluster_that_does_not_start_leaves_its_log(vapi):
    # A directory where the database belongs: the server cannot open its store.
    (vapi.home / "clusters" / "vc1" / "state.db").mkdir(parents=True)
    failed = vapi("create", "vc1", check=False)
    assert failed.returncode == 1
    log = vapi.home / "clusters" / "vc1.failed.log"
    assert failed.stderr.splitlines()[-1].startswith("fatal vapi serve exited with code 1: ")
    assert failed.stderr.splitlines()[-1].endswith(f" (log: {log})")
    assert "Traceback" in log.read_text()
    assert not (vapi.home / "clusters" / "vc1").exists()
    assert vapi.listing() == {}


@pytest.fixture
def host():
    if not (Path(vapi_package.__file__).parents[1] / "syncer" / "host.py").exists():
        pytest.skip("virtual mode is not in this tree yet")
    with ServerProcess(extra_args=("--nodes", "2")) as server:
        yield server


def file_kubeconfig(served: Path, where: Path) -> Path:
    """The host's kubeconfig as many are written: certificates in files beside it, by relative path."""
    config = yaml.safe_load(served.read_text())
    where.mkdir()
    for entry, field in ((config["clusters"][0]["cluster"], "certificate-authority"),
                         (config["users"][0]["user"], "client-certificate"),
                         (config["users"][0]["user"], "client-key")):
        (where / f"{field}.pem").write_bytes(base64.b64decode(entry.pop(f"{field}-data")))
        entry[field] = f"{field}.pem"
    path = where / "config"
    path.write_text(yaml.safe_dump(config))
    return path


def test_virtual_cluster_on_a_host_and_delete_leaves_nothing_there(vapi, host, tmp_path):
    original = file_kubeconfig(host.kubeconfig, tmp_path / "host")
    created = vapi("create", "vc1", "--host-kubeconfig", str(original), "--host-namespace", "team-a")
    assert "info  Creating namespace team-a on the host\n" in created.stderr
    record = vapi.record("vc1")
    assert (record["mode"], record["host_namespace"], record["host_namespace_created"]) == ("virtual", "team-a", True)
    assert vapi("list").stdout.splitlines()[1].split()[-1] == "team-a"
    assert vapi.listing()["vc1"]["hostKubeconfig"] == str(original)
    kubeconfig = vapi.kubeconfig("vc1", tmp_path)
    assert "default " in run_kubectl(kubeconfig, "get", "ns").stdout
    anchor = wait_for(lambda: run_kubectl(host.kubeconfig, "-n", "team-a", "get", "configmap", "vapi-vc1",
                                          "-o", "json", check=False).stdout)
    anchor = json.loads(anchor)

    # Later commands need no file of the original kubeconfig: the cluster comes back after a kill -9.
    shutil.rmtree(original.parent)
    os.kill(record["pid"], signal.SIGKILL)
    wait_for(lambda: not alive(record["pid"]))
    vapi("create", "vc1")
    assert "default " in run_kubectl(kubeconfig, "get", "ns").stdout

    # What a syncer leaves on the host: objects owned by the anchor, and labelled cluster-scoped ones.
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "vapi-vc1", "uid": anchor["metadata"]["uid"]}
    def meta(name, owned=True):
        return {"name": name, "labels": {"vapi.dev/managed-by": "vc1"}, **({"ownerReferences": [owner]} if owned else {})}
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("app-x-default-x-vc1")},
             {"apiVersion": "v1", "kind": "Secret", "metadata": meta("token-x-default-x-vc1")},
             {"apiVersion": "v1", "kind": "Pod", "metadata": meta("web-x-default-x-vc1"),
              "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
             {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "value": 10,
              "metadata": meta("high-x-vc1", owned=False)}]
    run_kubectl(host.kubeconfig, "-n", "team-a", "create", "-f", "-",
                input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    deleted = vapi("delete", "vc1")
    assert "info  Deleting ConfigMap vapi-vc1 in host namespace team-a and what it owns\n" in deleted.stderr
    assert not (vapi.home / "clusters" / "vc1").exists()
    left = run_kubectl(host.kubeconfig, "get", "pods,configmaps,secrets,priorityclasses", "-A",
                       "-l", "vapi.dev/managed-by=vc1", "-o", "name").stdout
    assert left == ""
    gone = run_kubectl(host.kubeconfig, "-n", "team-a", "get", "configmap", "vapi-vc1", check=False)
    assert gone.stderr.strip() == 'Error from server (NotFound): configmaps "vapi-vc1" not found'
    # The namespace vapi create made goes too.
    assert "info  Deleting namespace team-a on the host\n" in deleted.stderr
    phase = run_kubectl(host.kubeconfig, "get", "namespace", "team-a", "-o", "jsonpath={.status.phase}", check=False)
    assert phase.stdout in ("", "Terminating")


def test_a_virtual_cluster_that_does_not_start_leaves_nothing_on_the_host(vapi, host, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sync:\n  toHost:\n    podz:\n      enabled: true\n")
    refused = vapi("create", "vc1", "--host-kubeconfig", str(host.kubeconfig), "--config", str(bad), check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"fatal --config {bad}: unknown key sync.toHost.podz (known: configMaps, ")
    assert not (vapi.home / "clusters" / "vc1").exists()
    # A server that cannot open its store: the namespace create made on the host is taken back.
    (vapi.home / "clusters" / "vc1" / "state.db").mkdir(parents=True)
    failed = vapi("create", "vc1", "--host-kubeconfig", str(host.kubeconfig), "--host-namespace", "team-b",
                  check=False)
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[:3] == ["info  Creating virtual cluster vc1...",
                                              "info  Creating namespace team-b on the host",
                                              "info  Deleting namespace team-b on the host"]
    assert failed.stderr.splitlines()[-1].startswith("fatal vapi serve exited with code 1: ")
    phase = run_kubectl(host.kubeconfig, "get", "namespace", "team-b", "-o", "jsonpath={.status.phase}", check=False)
    assert phase.stdout in ("", "Terminating")
    assert not (vapi.home / "clusters" / "vc1").exists()


def test_create_of_a_stopped_cluster_says_which_options_it_ignores(vapi):
    vapi("create", "vc1", "--nodes", "0")
    pid = vapi.record("vc1")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid))
    again = vapi("create", "vc1", "--kubernetes-version", "1.31", "--nodes", "0")
    assert ("warn  --kubernetes-version ignored: virtual cluster vc1 starts again as it was created (delete it "
            "to make it anew)") in again.stderr.splitlines()
    assert vapi.listing()["vc1"]["version"] == DEFAULT_VERSION
