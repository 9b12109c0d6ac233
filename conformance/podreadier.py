"""A stand-in kubelet for clusters without nodes: pods of one namespace are reported Running and
Ready through `pods/status`, as a kubelet would report them, so workload controllers see their
pods come up. A pod with readiness gates runs but stays unready, as on any kubelet while nobody
sets the gates' conditions: cases use a gate for "a pod that never becomes ready". On a cluster
with nodes it does nothing: real kubelets report.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

import kubernetes


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PodReadier:
    def __init__(self, core, namespace: str):
        self.core = core
        self.namespace = namespace
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.active = not core.list_node().items

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
        stamp = _now()
        gated = bool(pod.spec.readiness_gates)
        conditions = [{"type": t, "status": "True", "lastTransitionTime": stamp}
                      for t in ("Initialized", "ContainersReady", "PodScheduled")]
        ready = {"type": "Ready", "status": "True", "lastTransitionTime": stamp}
        if gated:
            gate = pod.spec.readiness_gates[0].condition_type
            ready.update(status="False", reason="ReadinessGatesNotReady",
                         message=f'corresponding condition of pod readiness gate "{gate}" does not exist.')
        conditions.append(ready)
        statuses = [{"name": c.name, "image": c.image, "imageID": "", "ready": True, "restartCount": 0,
                     "started": True, "state": {"running": {"startedAt": stamp}}}
                    for c in pod.spec.containers]
        body = {"metadata": {"resourceVersion": pod.metadata.resource_version},
                "status": {"phase": "Running", "conditions": conditions, "containerStatuses": statuses,
                           "startTime": stamp, "podIP": "10.244.0.10", "hostIP": "10.0.0.1"}}
        try:
            self.core.patch_namespaced_pod_status(pod.metadata.name, self.namespace, body)
        except kubernetes.client.ApiException:
            pass   # changed or gone meanwhile: the next pass sees it again
