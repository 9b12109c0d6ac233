"""Standing in for a kubelet, for cases run on a cluster that has no node to run their pods.

A kubelet reports a pod through `pods/status`; so do these helpers, with the same fields, so that
controllers reading pod phase and readiness can be exercised on any cluster. On a cluster with
nodes (vapi's simulated ones, or real ones) the cases let its kubelets report instead.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid

import kubernetes


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# Marks the Nodes cases make for pods they report themselves (`played_node`): not a kubelet's.
PLAYED = "conformance.vapi.dev/played"


# cluster (its API address) -> whether something there runs pods
_RUNS_PODS: dict[str, bool] = {}
PROBE_SECONDS = 15.0


def has_nodes(core) -> bool:
    """Whether the cluster's pods are run by kubelets of its own: it has nodes, or, like a virtual
    cluster whose nodes appear only once a pod runs on them, a probe pod gets bound to one."""
    if core.list_node(limit=1, label_selector=f"!{PLAYED}").items:
        return True
    where = core.api_client.configuration.host
    if where not in _RUNS_PODS:
        _RUNS_PODS[where] = _probe(core)
    return _RUNS_PODS[where]


def _probe(core) -> bool:
    namespace = f"probe-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": namespace}})
    try:
        core.create_namespaced_pod(namespace, {"metadata": {"name": "probe"}, "spec": {
            "containers": [{"name": "probe", "image": "registry.k8s.io/pause:3.9"}]}})
        deadline = time.monotonic() + PROBE_SECONDS
        while time.monotonic() < deadline:
            if core.read_namespaced_pod("probe", namespace).spec.node_name:
                return True
            time.sleep(0.2)
        return False
    finally:
        core.delete_namespace(namespace)


def running_status(containers: list[dict] | None = None, *, ready: bool = True, ip: str = "10.244.0.10",
                   gate: str | None = None) -> dict:
    """A pod's status once its containers run: Running, with its IP, Ready or not. A pod with a
    readiness gate nobody set stays unready, as on any kubelet."""
    stamp = now()
    state = "True" if ready and gate is None else "False"
    conditions = [{"type": t, "status": "True", "lastTransitionTime": stamp}
                  for t in ("Initialized", "PodScheduled")]
    conditions.append({"type": "ContainersReady", "status": "True" if ready else "False",
                       "lastTransitionTime": stamp})
    conditions.append({"type": "Ready", "status": state, "lastTransitionTime": stamp,
                       **({"reason": "ReadinessGatesNotReady",
                           "message": f'corresponding condition of pod readiness gate "{gate}" does not exist.'}
                          if gate is not None and ready else {})})
    statuses = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": ready, "restartCount": 0,
                 "started": True, "state": {"running": {"startedAt": stamp}}} for c in containers or []]
    status = {"phase": "Running", "conditions": conditions, "startTime": stamp, "podIP": ip,
              "podIPs": [{"ip": ip}], "hostIP": "10.0.0.1"}
    if statuses:
        status["containerStatuses"] = statuses
    return status


def terminated_status(container: str, image: str, code: int) -> dict:
    """A pod's status once its one container ended with `code` (restartPolicy Never)."""
    stamp = now()
    return {"phase": "Succeeded" if code == 0 else "Failed",
            "containerStatuses": [{"name": container, "image": image, "imageID": "", "ready": False,
                                   "restartCount": 0, "state": {"terminated": {
                                       "exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                       "startedAt": stamp, "finishedAt": stamp}}}]}


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
    return core.patch_namespaced_pod_status(name, namespace, {"status": running_status(ready=ready, ip=ip)})


def run_pod(core, namespace: str, name: str, labels: dict, ip: str, *, ready: bool = True,
            node: str = "node-a", ports: list[dict] | None = None, tolerations: list[dict] | None = None) -> dict:
    core.create_namespaced_pod(namespace, pod_manifest(name, labels, node, ports, tolerations))
    return report(core, namespace, name, ip, ready)


@contextlib.contextmanager
def played_node(core, name: str = "node-a"):
    """A Node for the pods a case binds to it and reports itself. Without one, pod GC would take
    them: kube collects the pods of a node missing for its grace period (40 s), and a cluster's
    session of cases lasts longer. Removed afterwards if the case made it."""
    made = False
    try:
        core.create_node({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, PLAYED: "true"}},
                          "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                                     "message": "kubelet is posting ready status"}]}})
        made = True
    except kubernetes.client.ApiException as e:
        if e.status != 409:
            raise
    try:
        yield name
    finally:
        if made:
            core.delete_node(name)
