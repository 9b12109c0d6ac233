"""Virtual mode: how long a virtual cluster's pod takes to reach the host and to run there.

A host `vapi serve` with simulated nodes and a virtual cluster on it are started; pods are
created in the virtual cluster at a steady rate while a watch on each side notes when each pod's
host copy appears (ADDED on the host) and when the virtual pod first reports Running (the host
kubelet's status, synced back). There is no published figure for vcluster's syncer to set beside
these; the comparison in the same run is the standalone path: the same pods in a standalone
cluster, whose simulated kubelet sets them Running without a host in between.
"""
from __future__ import annotations

import statistics
import threading
import time

import kubernetes

from .runner import Row, start_server

MS = 1000.0


def _pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"bench": "virtual"}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}}


class Seen:
    """When each pod was first seen, per watch, in the same clock as the creates."""

    def __init__(self, core, namespace: str, want, key):
        self.times: dict[str, float] = {}
        self._stop = False
        self._thread = threading.Thread(target=self._watch, args=(core, namespace, want, key), daemon=True)
        self._thread.start()

    def _watch(self, core, namespace, want, key) -> None:
        w = kubernetes.watch.Watch()
        while not self._stop:
            for event in w.stream(core.list_namespaced_pod, namespace, timeout_seconds=5,
                                  label_selector="bench=virtual"):
                pod = event["object"]
                if want(event["type"], pod) and key(pod) not in self.times:
                    self.times[key(pod)] = time.monotonic()
                if self._stop:
                    break

    def stop(self) -> None:
        self._stop = True


def _percentiles(samples: list[float]) -> str:
    if not samples:
        return "none"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * MS:.0f} ms, p99 {p99 * MS:.0f} ms"


def _run(core_virtual, core_host, count: int, rate: float) -> tuple[list[float], list[float]]:
    running = Seen(core_virtual, "default", lambda t, p: p.status.phase == "Running", lambda p: p.metadata.name)
    on_host = Seen(core_host, "default", lambda t, p: t == "ADDED",
                   lambda p: p.metadata.annotations.get("vapi.dev/object-name", "")) if core_host else None
    time.sleep(1)   # both watches are open
    created: dict[str, float] = {}
    for i in range(count):
        name = f"bench-{i}"
        created[name] = time.monotonic()
        core_virtual.create_namespaced_pod("default", _pod(name))
        time.sleep(max(0.0, created[name] + 1 / rate - time.monotonic()))
    deadline = time.monotonic() + 120
    while len(running.times) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    running.stop()
    if on_host:
        on_host.stop()
    to_running = [running.times[n] - t for n, t in created.items() if n in running.times]
    to_host = [on_host.times[n] - t for n, t in created.items() if on_host and n in on_host.times]
    return to_host, to_running


def virtual_pods(bench) -> list[Row]:
    quick = bench.scale.runs <= 1
    count, rate = (20, 20.0) if quick else (200, 20.0)
    host = start_server(extra_args=("--nodes", "4"))
    vc = start_server(extra_args=("--host-kubeconfig", str(host.kubeconfig), "--name", "bench"))
    alone = start_server(extra_args=("--nodes", "4"))
    try:
        def core(server):
            return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(server.kubeconfig)))
        to_host, to_running = _run(core(vc), core(host), count, rate)
        _, standalone = _run(core(alone), None, count, rate)
        return [
            Row(f"virtual pod create → its host copy created ({count} pods at {rate:.0f}/s)",
                f"{_percentiles(to_host)} ({len(to_host)}/{count})"),
            Row("virtual pod create → virtual pod Running (host kubelet's status synced back)",
                f"{_percentiles(to_running)} ({len(to_running)}/{count})", "p99 ≤ 5 s (pod-startup SLO)",
                len(to_running) == count and sorted(to_running)[int(count * 0.99) - 1] <= 5),
            Row("the same pods in a standalone cluster: create → Running", _percentiles(standalone)),
        ]
    finally:
        for server in (alone, vc, host):
            server.cleanup()
