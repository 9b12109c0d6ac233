"""vcluster's pod load test on standalone vapi: Deployments created at a fixed rate across
namespaces, each with one replica, until every pod they ask for is Ready on the simulated nodes.

It reports the time until the last pod is Ready, p50/p99 of a pod's time from creation (its
ADDED event) to Running as a watch on all pods sees it (the Kubernetes pod-startup SLO is
p99 ≤ 5 s), and the server's resident memory once all are Ready. The watch and the creates run
in the load process, over the same kind of connections as the other loads.
"""
from __future__ import annotations

import asyncio
import functools
import statistics
import time
from dataclasses import dataclass, field

import aiohttp
import orjson

from . import load
from .load import Target
from .runner import Row, start_server, vm_rss

MB = 1024 * 1024
READY_LIMIT_SECONDS = 300.0


@dataclass
class PodLoad:
    deployments: int = 0
    create_errors: list[str] = field(default_factory=list)
    to_running: list[float] = field(default_factory=list)
    all_ready_after: float | None = None
    creates_took: float = 0.0
    ready: int = 0


def deployment(name: str) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "nginx",
                                                           "resources": {"requests": {"cpu": "1m",
                                                                                      "memory": "1Mi"}}}]}}}}


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def run(target: Target, namespaces: list[str], per_namespace: int, qps: float) -> PodLoad:
    return asyncio.run(_run(target, namespaces, per_namespace, qps))


async def _run(target: Target, namespaces: list[str], per_namespace: int, qps: float) -> PodLoad:
    result = PodLoad(deployments=len(namespaces) * per_namespace)
    added: dict[str, float] = {}
    running: set[str] = set()
    ready: set[str] = set()
    done = asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=target.ssl_context(), limit=64)) as session:
        async def watch() -> None:
            url = f"{target.url}/api/v1/pods?watch=1&allowWatchBookmarks=false"
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=None)) as resp:
                async for line in resp.content:
                    event = orjson.loads(line)
                    pod = event["object"]
                    uid = pod["metadata"]["uid"]
                    now = time.perf_counter()
                    added.setdefault(uid, now)
                    if (pod.get("status") or {}).get("phase") == "Running" and uid not in running:
                        running.add(uid)
                        result.to_running.append(now - added[uid])
                    if _ready(pod):
                        ready.add(uid)
                        if len(ready) >= result.deployments:
                            done.set()
                            return

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0.2)  # the watch is open before the first create
        bucket = load.TokenBucket(qps, 1)
        started = time.perf_counter()

        async def create(namespace: str, name: str) -> None:
            url = f"{target.url}/apis/apps/v1/namespaces/{namespace}/deployments"
            async with session.post(url, data=orjson.dumps(deployment(name)),
                                    headers={"Content-Type": load.JSON}) as resp:
                body = await resp.read()
                if resp.status >= 300:
                    result.create_errors.append(f"{resp.status} {body[:200].decode(errors='replace')}")

        creates = []
        for i in range(per_namespace):
            for namespace in namespaces:
                await bucket.take()
                creates.append(asyncio.create_task(create(namespace, f"deploy-{i}")))
        await asyncio.gather(*creates)
        result.creates_took = time.perf_counter() - started
        try:
            await asyncio.wait_for(done.wait(), READY_LIMIT_SECONDS)
            result.all_ready_after = time.perf_counter() - started
        except asyncio.TimeoutError:
            pass
        result.ready = len(ready)
        watcher.cancel()
    return result


def pod_load(bench) -> list[Row]:
    quick = bench.scale.runs == 1 and bench.scale.seconds < 5
    namespaces, per_namespace, nodes = (2, 10, 2) if quick else (10, 100, 10)
    qps = 100.0
    server = start_server(extra_args=("--nodes", str(nodes)))
    try:
        target = bench.target(server.kubeconfig)
        bench.measure("pod load namespaces", load.closed_loop, target,
                      functools.partial(load.post_object, "/api/v1/namespaces",
                                        {"apiVersion": "v1", "kind": "Namespace"}, "pods"), 1, 30.0, namespaces)
        names = [load.name("pods", n) for n in range(namespaces)]
        result = bench.pool.submit(run, target, names, per_namespace, qps).result()
        rss = vm_rss(server.proc.pid)
    finally:
        server.cleanup()
    total = result.deployments
    label = f"pod load ({namespaces} namespaces × {per_namespace} Deployments at {qps:.0f} QPS, {nodes} nodes)"
    rows = [Row(f"{label}: all {total:,} pods Ready after",
                f"{result.all_ready_after:.1f} s" if result.all_ready_after is not None
                else f"not reached: {result.ready:,} Ready after {READY_LIMIT_SECONDS:.0f} s",
                "< 30 s", result.all_ready_after is not None and result.all_ready_after < 30)]
    if result.to_running:
        p50 = statistics.median(result.to_running)
        p99 = statistics.quantiles(result.to_running, n=100, method="inclusive")[98] \
            if len(result.to_running) > 1 else result.to_running[0]
        rows += [Row("pod load: created → Running p50", f"{p50 * 1000:.0f} ms"),
                 Row("pod load: created → Running p99", f"{p99 * 1000:.0f} ms", "< 1 s (SLO 5 s)", p99 < 1.0)]
    rows += [Row("pod load: server RSS with every pod Ready", f"{rss / MB:.0f} MB", "< 300 MB", rss < 300 * MB),
             Row("pod load: failed creates", f"{len(result.create_errors):,}", "0", not result.create_errors)]
    return rows
