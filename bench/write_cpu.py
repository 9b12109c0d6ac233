"""Server CPU per write, by verb: what one create, patch, apply and delete cost the server process.

CPU time (user + system, from /proc) rather than latency, so the figure does not move with the
load generator or other work on a shared machine. With `--against REV` the same requests also go
to a server run from that revision's source, in the same run, and the table shows the ratio.
"""
from __future__ import annotations

import functools
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

from . import load
from .runner import Row, start_server

VERBS = ("create", "merge patch", "apply", "delete")
CONCURRENCY = 16
# Each phase is bounded by count; the time bound only stops a server that has stalled.
PHASE_LIMIT_SECONDS = 300.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are the 14th and 15th fields of the whole line; 12th and 13th after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def source_tree(revision: str, directory: Path) -> Path:
    """The project's files at `revision`, unpacked: a server can run from them beside this one."""
    archive = directory / "source.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), revision], check=True,
                   cwd=Path(__file__).resolve().parent.parent)
    tree = directory / f"source-{revision}"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


ROUNDS = 3


def phases(bench, server, namespace: str, prefix: str, count: int) -> dict[str, float]:
    """Microseconds of server CPU per request, for each verb in turn, on objects named `prefix`-i."""
    target = bench.target(server.kubeconfig)
    configmaps = f"/api/v1/namespaces/{namespace}/configmaps"
    template = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v" * 200}}
    requests = {
        "create": functools.partial(load.post_object, configmaps, template, prefix),
        "merge patch": functools.partial(load.patch_object, configmaps, prefix, count),
        "apply": functools.partial(load.apply_object, configmaps, prefix, count),
        "delete": functools.partial(load.delete_object, configmaps, prefix),
    }
    micros = {}
    for verb in VERBS:
        before = cpu_seconds(server.proc.pid)
        outcome = bench.measure(f"{verb} (cpu)", load.closed_loop, target, requests[verb], CONCURRENCY,
                                PHASE_LIMIT_SECONDS, count)
        micros[verb] = (cpu_seconds(server.proc.pid) - before) / max(outcome.count, 1) * 1e6
    return micros


def best_rounds(bench, servers: dict, prefix: str, rounds: int) -> dict[str, dict[str, float]]:
    """Microseconds of CPU per request by side and verb. Rounds alternate between the servers, and
    each verb keeps its best round: other work on a shared machine only ever adds CPU time, and
    lands on both sides alike."""
    count = bench.scale.cpu_requests
    namespaces = {side: bench.create_namespace(bench.target(s.kubeconfig), prefix) for side, s in servers.items()}
    best: dict[str, dict[str, float]] = {side: {} for side in servers}
    for round_ in range(rounds):
        for side, server in servers.items():
            for verb, micros in phases(bench, server, namespaces[side], f"{prefix}{round_}", count).items():
                best[side][verb] = min(best[side].get(verb, micros), micros)
    return best


def write_cpu(bench) -> list[Row]:
    count = bench.scale.cpu_requests
    starts = {"ours": start_server}
    if bench.against:
        tree = source_tree(bench.against, Path(tempfile.mkdtemp(dir=bench.workdir)))
        starts["theirs"] = lambda: start_server(source=tree)
    servers = {}
    try:
        for side, start in starts.items():
            servers[side] = start()
        best = best_rounds(bench, servers, "cpu", ROUNDS)
    finally:
        for server in servers.values():
            server.cleanup()
    ours, theirs = best["ours"], best.get("theirs")
    rows = []
    for verb in VERBS:
        value = f"{ours[verb]:,.0f} µs"
        if theirs:
            value += f" ({bench.against}: {theirs[verb]:,.0f} µs, {ours[verb] / theirs[verb]:.2f}×)"
        rows.append(Row(f"server CPU per {verb}, best of {ROUNDS} × {count:,} requests, {CONCURRENCY} clients",
                        value, f"≤ 1.05× {bench.against}" if theirs else "",
                        ours[verb] <= 1.05 * theirs[verb] if theirs else None))
    return rows
