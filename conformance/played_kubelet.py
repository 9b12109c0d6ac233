"""Pods' ends for workload cases on a cluster that may have no kubelet.

A case asks for a pod template with `pod_template(core, exit_code)`. On a cluster with nodes the
pod is scheduled and run as usual (its command exits with that code) and `exits` waits for the
phase the kubelet reports. On a cluster without nodes the template is bound to a node no kubelet
owns, and `exits` writes through `pods/status` exactly what a kubelet writes when the container
ends: the phase and the container's terminated state.
"""
from __future__ import annotations

import time

from .kubelet import has_nodes, terminated_status

PLAYED_NODE = "played-by-test"


def pod_template(core, exit_code: int = 0, restart_policy: str = "Never", **spec) -> dict:
    pod_spec = {"restartPolicy": restart_policy, "terminationGracePeriodSeconds": 0,
                "containers": [{"name": "main", "image": "busybox",
                                "command": ["sh", "-c", f"exit {exit_code}"]}], **spec}
    if not has_nodes(core):
        pod_spec["nodeName"] = PLAYED_NODE
    return {"spec": pod_spec}


def exits(core, namespace: str, pod, code: int = 0, timeout: float = 120.0) -> None:
    """The pod's container ends with `code`: written here when no kubelet runs it, else awaited."""
    if pod.spec.node_name == PLAYED_NODE:
        core.patch_namespaced_pod_status(pod.metadata.name, namespace,
                                         {"status": terminated_status("main", "busybox", code)})
        return
    want = "Succeeded" if code == 0 else "Failed"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if core.read_namespaced_pod(pod.metadata.name, namespace).status.phase == want:
            return
        time.sleep(0.5)
    raise AssertionError(f"pod {pod.metadata.name} did not reach {want}")
