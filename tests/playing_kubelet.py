"""What tests do in place of a kubelet until simulated nodes run: Ready Nodes, and pods bound to
them whose Running status is written through `pods/status`, as a kubelet writes it."""
from __future__ import annotations


def make_node(core, name: str, ready: str = "True") -> None:
    core.create_node({"metadata": {"name": name, "labels": {"pool": name}}, "status": {
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady", "message": "simulated"}]}})


def make_pod(core, ns: str, name: str, node: str, *, annotations=None, labels=None, requests=None,
             containers=("c",), running=True) -> None:
    core.create_namespaced_pod(ns, {"metadata": {"name": name, "labels": labels or {"app": name},
                                                 "annotations": annotations or {}},
                                    "spec": {"nodeName": node, "containers": [
                                        {"name": c, "image": "nginx", "resources": {"requests": requests or {}}}
                                        for c in containers]}})
    if running:
        core.patch_namespaced_pod_status(name, ns, {"status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True"}]}})
