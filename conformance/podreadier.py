"""A stand-in kubelet for clusters without nodes: pods of one namespace are reported Running and
Ready through `pods/status`, as a kubelet would report them, so workload controllers see their
pods come up. A pod with readiness gates runs but stays unready, as on any kubelet while nobody
sets the gates' conditions: cases use a gate for "a pod that never becomes ready". On a cluster
with nodes it does nothing: real kubelets report.
"""
from __future__ import annotations

import threading
import time

import kubernetes

from .kubelet import has_nodes, running_status


class PodReadier:
    def __init__(self, core, namespace: str):
        self.core = core
        self.namespace = namespace
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.active = not has_nodes(core)

    def __enter__(self) -> "PodReadier":
        if self.active:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.active:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for pod in self.core.list_namespaced_pod(self.namespace).items:
                    if pod.status.phase == "Pending" and not pod.metadata.deletion_timestamp:
                        self._ready(pod)
            except kubernetes.client.ApiException:
                pass
            time.sleep(0.2)

    def _ready(self, pod) -> None:
        gate = pod.spec.readiness_gates[0].condition_type if pod.spec.readiness_gates else None
        containers = [{"name": c.name, "image": c.image} for c in pod.spec.containers]
        body = {"metadata": {"resourceVersion": pod.metadata.resource_version},
                "status": running_status(containers, gate=gate)}
        try:
            self.core.patch_namespaced_pod_status(pod.metadata.name, self.namespace, body)
        except kubernetes.client.ApiException:
            pass   # changed or gone meanwhile: the next pass sees it again
