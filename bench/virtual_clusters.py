"""Virtual clusters: how fast one is made, and how many idle ones fit on this machine, beside
vcluster's published figures (its k3s-based cluster requests 256 MiB and starts in about 5–6 s).

Each cluster is made as a user makes one: `vapi create NAME` (under a VAPI_HOME of the run's own),
which switches the kube context to it as `vcluster create` does, then `kubectl get ns` with an
empty discovery cache; the time runs from the create to that kubectl's success. Where this tree has no `vapi
create`, `vapi serve` is started directly instead (the table says which). Then K clusters are
made and left idle, each one's resident memory read after the idle time, and MemAvailable
divided by it. Virtual clusters run the same way on a host (`vapi serve --nodes 2`) when this
tree serves virtual mode. Every cluster and the host are stopped by the run.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from vapi.testing import ServerProcess, run_kubectl

from .runner import Row, start_server, vm_rss

MB = 1024 * 1024
VCLUSTER_MEMORY = 256 * 1024 * 1024     # what a vcluster (k3s) pod requests
VCLUSTER_START = "about 5–6 s"
START_TARGET = 1.0
RSS_TARGET = 80 * MB
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass
class Cluster:
    name: str
    kubeconfig: Path
    pid: int | None = None
    server: ServerProcess | None = None     # when the bench started the server itself


def _vapi(*args: str, env: dict, timeout: float = START_TIMEOUT) -> str:
    proc = subprocess.run([sys.executable, "-m", "vapi", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"vapi {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


class ByCLI:
    """`vapi create` (which connects) / `delete`, as a user makes clusters."""
    how = "vapi create"

    def __init__(self, workdir: Path, host_kubeconfig: Path | None):
        self.workdir = workdir
        self.env = {**os.environ, "VAPI_HOME": str(workdir / "vapi-home")}
        self.host_args = ("--host-kubeconfig", str(host_kubeconfig)) if host_kubeconfig else ()
        self.made: list[Cluster] = []
        self.returned: list[float] = []     # seconds until `vapi create` returned

    def create(self, name: str) -> Cluster:
        started = time.monotonic()
        cluster = Cluster(name, self.workdir / f"{name}.kubeconfig")
        self.made.append(cluster)
        # it connects as it returns: the kubeconfig it names holds the cluster as current context
        _vapi("create", name, *self.host_args, env={**self.env, "KUBECONFIG": str(cluster.kubeconfig)})
        self.returned.append(time.monotonic() - started)
        return cluster

    def pid(self, cluster: Cluster) -> int:
        if cluster.pid is None:
            listed = {c["name"]: c for c in json.loads(_vapi("list", "-o", "json", env=self.env))}
            cluster.pid = listed[cluster.name]["pid"]
        return cluster.pid

    def delete(self, cluster: Cluster) -> None:
        if cluster.name not in self._listed():
            return  # its `vapi create` failed, and left nothing behind
        pid = self.pid(cluster)
        try:
            _vapi("delete", cluster.name, env=self.env)
        finally:
            _ensure_gone(pid)

    def _listed(self) -> set[str]:
        return {c["name"] for c in json.loads(_vapi("list", "-o", "json", env=self.env))}


class ByServe:
    """`vapi serve` started directly: for a tree whose CLI has no `vapi create` yet."""
    how = "vapi serve"

    def __init__(self, workdir: Path, host_kubeconfig: Path | None):
        self.workdir = workdir
        self.host_kubeconfig = host_kubeconfig
        self.made: list[Cluster] = []
        self.returned: list[float] = []     # `vapi serve` has no moment of its own to report

    def create(self, name: str) -> Cluster:
        args = ("--host-kubeconfig", str(self.host_kubeconfig), "--name", name) if self.host_kubeconfig else ()
        server = start_server(self.workdir / name, extra_args=args)
        cluster = Cluster(name, server.kubeconfig, server.proc.pid, server)
        self.made.append(cluster)
        return cluster

    def pid(self, cluster: Cluster) -> int:
        return cluster.pid

    def delete(self, cluster: Cluster) -> None:
        cluster.server.stop()


def _ensure_gone(pid: int) -> None:
    """A server `vapi delete` should have stopped: killed if it is still there, so none outlives the run."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _get_ns(cluster: Cluster, workdir: Path, deadline: float) -> None:
    """`kubectl get ns` until it succeeds, each try with an empty discovery cache, as a first use has."""
    while True:
        cache = tempfile.mkdtemp(dir=workdir)
        proc = run_kubectl(cluster.kubeconfig, "get", "ns", cache_dir=Path(cache), check=False)
        if proc.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"kubectl get ns on {cluster.name} never succeeded: {proc.stderr}")
        time.sleep(0.01)


def _made_ready(launcher, name: str, workdir: Path) -> tuple[Cluster, float]:
    started = time.monotonic()
    cluster = launcher.create(name)
    _get_ns(cluster, workdir, started + START_TIMEOUT)
    return cluster, time.monotonic() - started


def _pss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def _mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def _p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _measure(kind: str, launcher, workdir: Path, creates: int, density: int, idle: float) -> list[Row]:
    prefix = "vc" if kind == "virtual" else "sc"
    try:
        starts = []
        for i in range(creates):
            cluster, seconds = _made_ready(launcher, f"{prefix}-start-{i}", workdir)
            starts.append(seconds)
            launcher.delete(cluster)
            launcher.made.remove(cluster)
        available = _mem_available()
        idle_clusters = [_made_ready(launcher, f"{prefix}-idle-{i}", workdir)[0] for i in range(density)]
        # What kubectl alone takes here and now (the rest of a start is the cluster's).
        kubectl = []
        for cluster in idle_clusters:
            started = time.monotonic()
            _get_ns(cluster, workdir, started + START_TIMEOUT)
            kubectl.append(time.monotonic() - started)
        time.sleep(idle)
        pids = [launcher.pid(c) for c in idle_clusters]
        rss = [vm_rss(pid) for pid in pids]
        pss = [_pss(pid) for pid in pids]
    finally:
        _delete_all(launcher)
    p50, p99 = statistics.median(starts), _p99(starts)
    mean_rss, mean_pss = statistics.fmean(rss), statistics.fmean(pss)
    rows = [
        Row(f"{kind}: {launcher.how} → first kubectl get ns ({creates} creates): p50 / p99",
            f"{p50:.2f} s / {p99:.2f} s", f"< {START_TARGET:.0f} s (vcluster: {VCLUSTER_START})", p50 < START_TARGET)]
    if launcher.returned:
        returned = launcher.returned[:creates]
        rows.append(Row(f"{kind}: {launcher.how} returned (the cluster answers): p50 / p99",
                        f"{statistics.median(returned):.2f} s / {_p99(returned):.2f} s"))
    rows.append(Row(f"{kind}: kubectl get ns alone on a running cluster, empty discovery cache: p50",
                    f"{statistics.median(kubectl):.2f} s"))
    return rows + [
        Row(f"{kind}: RSS of each of {density} idle clusters, {idle:.0f} s after its first kubectl get ns: "
            f"mean / max (PSS mean)",
            f"{mean_rss / MB:.1f} MB / {max(rss) / MB:.1f} MB ({mean_pss / MB:.1f} MB)",
            f"< {RSS_TARGET // MB} MB (vcluster requests {VCLUSTER_MEMORY // MB} MiB)", max(rss) < RSS_TARGET),
        Row(f"{kind}: idle clusters that fit in MemAvailable ({available / MB / 1024:.1f} GiB): at mean RSS "
            f"(at mean PSS, shared libraries counted once)",
            f"{int(available // mean_rss):,} ({int(available // mean_pss):,}); vcluster at "
            f"{VCLUSTER_MEMORY // MB} MiB: {int(available // VCLUSTER_MEMORY):,}"),
    ]


def _delete_all(launcher) -> None:
    """Every cluster the run made, each one tried even when another fails to go."""
    for cluster in list(launcher.made):
        try:
            launcher.delete(cluster)
        except Exception:  # noqa: BLE001 - the others are still to be stopped; the failure is shown
            traceback.print_exc()
    launcher.made.clear()


def _launcher_class():
    return ByCLI if importlib.util.find_spec("vapi.clusters") else ByServe


def _serves_virtual_mode() -> bool:
    return importlib.util.find_spec("syncer.cluster") is not None


def virtual_clusters(bench) -> list[Row]:
    quick = bench.scale.runs <= 1
    creates, density, idle = (2, 2, 2.0) if quick else (10, 10, 10.0)
    launcher_class = _launcher_class()
    standalone, virtual = (Path(tempfile.mkdtemp(dir=bench.workdir)) for _ in range(2))
    rows = _measure("standalone", launcher_class(standalone, None), standalone, creates, density, idle)
    if not _serves_virtual_mode():
        return rows + [Row("virtual: clusters on a host", "not measured: this tree has no virtual mode")]
    host = start_server(extra_args=("--nodes", "2"))
    try:
        rows += _measure("virtual", launcher_class(virtual, host.kubeconfig), virtual, creates, density, idle)
        rows.append(Row("virtual: RSS of their host (vapi serve --nodes 2) afterwards",
                        f"{vm_rss(host.proc.pid) / MB:.1f} MB"))
    finally:
        host.cleanup()
    return rows

