"""Simulated nodes at scale: how many nodes with Lease heartbeats one server holds, what the
heartbeats cost it, and how fast pods bound to those nodes go Running.

A server starts with `--nodes N`; once every node's Lease exists, the server's CPU is read over a
quiet window (nothing but heartbeats and node status), then every Lease's age is checked (each
must have been renewed within its 40 s duration). Then pods bound round-robin to the nodes are
created by 16 client threads while a watch notes when each is first seen Running.
"""
from __future__ import annotations

import concurrent.futures
import os
import statistics
import threading
import time

import kubernetes

from .runner import Row, start_server

MB = 1024 * 1024
CREATORS = 16
HEARTBEAT_CORES_TARGET = 0.5
LEASE_SECONDS = 40


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _wait(what: str, check, timeout: float) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.25)
    return time.monotonic() - started


def _renew_age(renew_time) -> float:
    return time.time() - renew_time.timestamp()


def simulated_nodes(bench) -> list[Row]:
    quick = bench.scale.runs <= 1
    nodes, pods, window = (50, 100, 3.0) if quick else (1000, 1000, 30.0)
    started = time.monotonic()
    server = start_server(extra_args=("--nodes", str(nodes)))
    client = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    core = kubernetes.client.CoreV1Api(client)
    coordination = kubernetes.client.CoordinationV1Api(client)
    try:
        def leases():
            return coordination.list_namespaced_lease("kube-node-lease").items
        _wait(f"{nodes} leases", lambda: len(leases()) >= nodes, 600)
        registered = time.monotonic() - started
        pid = server.proc.pid
        cpu, wall = _cpu_seconds(pid), time.monotonic()
        time.sleep(window)
        cores = (_cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
        oldest = max(_renew_age(lease.spec.renew_time) for lease in leases())
        ready_nodes = sum(1 for node in core.list_node().items
                          if any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or []))
        rows = [Row(f"simulated nodes registered, each with a Lease (--nodes {nodes}, server start included)",
                    f"{ready_nodes:,} Ready in {registered:.1f} s"),
                Row(f"server CPU with {nodes:,} nodes heartbeating every 10 s (nothing else), over {window:.0f} s",
                    f"{cores:.2f} cores", f"< {HEARTBEAT_CORES_TARGET} core at 1,000 nodes",
                    cores < HEARTBEAT_CORES_TARGET),
                Row("oldest Lease renewal at the end of that window", f"{oldest:.1f} s ago",
                    f"< {LEASE_SECONDS} s (the lease duration)", oldest < LEASE_SECONDS)]
        rows += _pods_running(core, nodes, pods)
        rows.append(Row(f"RSS of vapi serve with {nodes:,} nodes and {pods:,} running pods",
                        f"{_rss(pid) / MB:.0f} MB"))
        return rows
    finally:
        client.close()
        server.cleanup()


def _pods_running(core, nodes: int, count: int) -> list[Row]:
    namespace = "bench-pods"
    core.create_namespace({"metadata": {"name": namespace}})
    created: dict[str, float] = {}
    running: dict[str, float] = {}
    done = threading.Event()

    def watch():
        resource_version = core.list_namespaced_pod(namespace).metadata.resource_version
        watcher = kubernetes.watch.Watch()
        while not done.is_set():
            for event in watcher.stream(core.list_namespaced_pod, namespace, resource_version=resource_version,
                                        timeout_seconds=5):
                pod = event["object"]
                resource_version = pod.metadata.resource_version
                if pod.status.phase == "Running" and pod.metadata.name not in running:
                    running[pod.metadata.name] = time.monotonic()
                    if len(running) >= count:
                        done.set()
                        watcher.stop()

    watching = threading.Thread(target=watch, daemon=True)
    watching.start()
    time.sleep(0.5)

    def create(i: int) -> None:
        name = f"pod-{i}"
        core.create_namespaced_pod(namespace, {"metadata": {"name": name}, "spec": {
            "nodeName": f"vapi-node-{i % nodes}", "containers": [{"name": "main", "image": "nginx"}]}})
        created[name] = time.monotonic()

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CREATORS) as pool:
        list(pool.map(create, range(count)))
    creating = time.monotonic() - started
    if not done.wait(300):
        raise RuntimeError(f"only {len(running)} of {count} pods Running after 300 s")
    total = max(running.values()) - started
    latencies = sorted(max(running[name] - created[name], 0.0) for name in created)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return [Row(f"{count:,} pods bound to the nodes: created (16 clients), then all Running",
                f"created in {creating:.1f} s, all Running {total:.1f} s after the first create"),
            Row("pod create → Running (seen by a watch): p50 / p99", f"{p50 * 1000:.0f} ms / {p99 * 1000:.0f} ms",
                "p99 ≤ 5 s (the Kubernetes SLO)", p99 <= 5.0)]
