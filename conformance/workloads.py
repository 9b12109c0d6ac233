"""What workload cases share: playing kubelet where the cluster has none for a pod, and reading
which pods a controller keeps."""
from __future__ import annotations

import kubernetes

from .helpers import eventually
from .kubelet import running_status


def mark_ready(core, namespace: str, name: str) -> None:
    """What a kubelet writes once the pod's containers run and pass readiness."""
    core.patch_namespaced_pod_status(name, namespace, {"status": running_status()})


def play_kubelet(core, namespace: str, bad_image: str | None = None) -> None:
    """Ready every live pod not yet Running (a kubelet with instant containers), but one running
    `bad_image`, which a kubelet could not pull; a cluster whose own kubelets run the pods gets
    there by itself."""
    for pod in core.list_namespaced_pod(namespace).items:
        if pod.metadata.deletion_timestamp or pod.status.phase in ("Running", "Succeeded", "Failed"):
            continue
        if bad_image and any(c.image == bad_image for c in pod.spec.containers):
            continue
        try:
            mark_ready(core, namespace, pod.metadata.name)
        except kubernetes.client.ApiException as e:
            if e.status not in (404, 409):
                raise


def live_pods(core, namespace: str, selector: str = "") -> list:
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    return sorted((p for p in pods if not p.metadata.deletion_timestamp), key=lambda p: p.metadata.name)


def live_pod_names(core, namespace: str, selector: str = "") -> list[str]:
    return [p.metadata.name for p in live_pods(core, namespace, selector)]


def all_running(core, namespace: str, count: int, selector: str = "") -> bool:
    """Exactly `count` live pods, all Running, after one kubelet pass."""
    play_kubelet(core, namespace)
    pods = live_pods(core, namespace, selector)
    return len(pods) == count and all(p.status.phase == "Running" for p in pods)


def _schedulable(node) -> bool:
    conditions = (node.status.conditions if node.status else None) or []
    ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
    blocked = any(t.effect in ("NoSchedule", "NoExecute") for t in (node.spec.taints or []))
    return ready and not node.spec.unschedulable and not blocked


def ready_node(core, name: str) -> None:
    """Register a Node as a kubelet would, Ready, for clusters with no node of their own."""
    core.create_node({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                      "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                                 "message": "kubelet is posting ready status"}]}})


def schedulable_nodes(core) -> list[str]:
    return sorted(n.metadata.name for n in core.list_node().items if _schedulable(n))


def retrying_conflicts(write):
    """`write()` again while it answers 409 Conflict (another writer came in between), as client-go's
    RetryOnConflict does; its answer."""
    def attempt():
        try:
            return write()
        except kubernetes.client.ApiException as e:
            if e.status != 409:
                raise
            return None
    return eventually(attempt)
