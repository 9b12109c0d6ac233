"""The pod printer: STATUS, READY and RESTARTS as kube computes them."""
from __future__ import annotations

from datetime import datetime

from .cells import (AGE, Column, Doc, NAME, NONE, Printer, condition_true, parse_time, since, value_at)


# --- pods ----------------------------------------------------------------------------------------

def _later(current: datetime | None, status: dict) -> datetime | None:
    finished = parse_time(value_at(status, "lastState.terminated.finishedAt"))
    return finished if finished and (current is None or finished > current) else current


def _exit_reason(terminated: dict, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def pod_summary(pod: dict, now: datetime) -> tuple[str, str, str]:
    """READY, STATUS and RESTARTS, as printPod derives them from the container statuses."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions")
    init_specs = spec.get("initContainers") or []
    # Sidecars: init containers that keep running, counted as containers of the pod.
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + sum(c.get("restartPolicy") == "Always" for c in init_specs)
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions or []):
        reason = "SchedulingGated"

    ready = restarts = sidecar_restarts = 0
    last = sidecar_last = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += cs.get("restartCount", 0)
        last = _later(last, cs)
        sidecar = cs.get("name") in sidecars
        if sidecar:
            sidecar_restarts += cs.get("restartCount", 0)
            sidecar_last = _later(sidecar_last, cs)
        terminated, waiting = value_at(cs, "state.terminated"), value_at(cs, "state.waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += bool(cs.get("ready"))
            continue
        if terminated is not None:
            reason = _exit_reason(terminated, "Init:")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or condition_true(conditions, "Initialized"):
        restarts, last = sidecar_restarts, sidecar_last
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount", 0)
            last = _later(last, cs)
            terminated, waiting = value_at(cs, "state.terminated"), value_at(cs, "state.waiting")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _exit_reason(terminated)
            elif cs.get("ready") and value_at(cs, "state.running") is not None:
                has_running = True
                ready += 1
        # A container that completed while another still runs does not make the pod Completed.
        if reason == "Completed" and has_running:
            reason = "Running" if condition_true(conditions, "Ready") else "NotReady"

    if value_at(pod, "metadata.deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restart_text = str(restarts)
    if restarts and last is not None:
        restart_text = f"{restarts} ({since(last, now)} ago)"
    return f"{ready}/{total}", reason, restart_text


def _pod_ip(o, now):
    ips = value_at(o, "status.podIPs") or []
    return (ips[0].get("ip") if ips else value_at(o, "status.podIP")) or NONE


def _readiness_gates(o, now):
    gates = value_at(o, "spec.readinessGates") or []
    if not gates:
        return NONE
    conditions = value_at(o, "status.conditions") or []
    passed = sum(condition_true(conditions, g.get("conditionType")) for g in gates)
    return f"{passed}/{len(gates)}"


_POD_CONDITIONS = {
    "Succeeded": [{"type": "Completed", "status": "True", "reason": "Succeeded",
                   "message": "The pod has completed successfully."}],
    "Failed": [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}],
}

POD = Printer((
    NAME,
    Column("Ready", lambda o, now: pod_summary(o, now)[0],
           "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", lambda o, now: pod_summary(o, now)[1], "The aggregate status of the containers in this pod."),
    Column("Restarts", lambda o, now: pod_summary(o, now)[2],
           "The number of times the containers in this pod have been restarted and when the last container "
           "in this pod has restarted."),
    AGE,
    Column("IP", _pod_ip, Doc("core.v1.PodStatus", "podIP"), priority=1),
    Column("Node", lambda o, now: value_at(o, "spec.nodeName") or NONE, Doc("core.v1.PodSpec", "nodeName"), priority=1),
    Column("Nominated Node", lambda o, now: value_at(o, "status.nominatedNodeName") or NONE,
           Doc("core.v1.PodStatus", "nominatedNodeName"), priority=1),
    Column("Readiness Gates", _readiness_gates, Doc("core.v1.PodSpec", "readinessGates"), priority=1),
), conditions=lambda o: _POD_CONDITIONS.get(value_at(o, "status.phase"), []))
