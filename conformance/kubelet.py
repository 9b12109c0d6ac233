"""Tests standing in for a kubelet: pods bound to a node at create, their status written through
`pods/status` as a kubelet reports it (phase, pod IP, Ready), so controllers that read pod
readiness can be exercised on any cluster without a real node behind the pods."""
from __future__ import annotations

import datetime as dt


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_manifest(name: str, labels: dict, node: str, ports: list[dict] | None = None,
                 tolerations: list[dict] | None = None) -> dict:
    container = {"name": "app", "image": "nginx"}
    if ports:
        container["ports"] = ports
    spec = {"nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [container]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": spec}


def report(core, namespace: str, name: str, ip: str, ready: bool) -> dict:
    """Write the pod's status as its kubelet would: Running with `ip`, Ready or not."""
    state = "True" if ready else "False"
    status = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "10.0.0.1",
              "conditions": [{"type": t, "status": state, "lastTransitionTime": now()}
                             for t in ("Ready", "ContainersReady")]}
    return core.patch_namespaced_pod_status(name, namespace, {"status": status})


def run_pod(core, namespace: str, name: str, labels: dict, ip: str, *, ready: bool = True,
            node: str = "node-a", ports: list[dict] | None = None, tolerations: list[dict] | None = None) -> dict:
    core.create_namespaced_pod(namespace, pod_manifest(name, labels, node, ports, tolerations))
    return report(core, namespace, name, ip, ready)
