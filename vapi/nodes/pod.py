"""One pod on a simulated kubelet: its containers' lives and the status the kubelet reports.

`PodRun.advance(now)` moves every container as far as `now` allows (start after its delay, ready
after its readiness delay, exit after its run time, restart after CrashLoopBackOff, stop when the
pod is deleted) and returns when it next has something to do; `status(current)` renders what the
kubelet would write to `pods/status` then. Events and log lines the moves produced wait in
`events` and `logs` for the kubelet to send once the status is written.

The order is the kubelet's: init containers one at a time (a sidecar, an init container with
`restartPolicy: Always`, only has to start before the next one runs, and keeps running), then
every regular container at once; the pod's `restartPolicy` decides which exits restart.
"""
from __future__ import annotations

import hashlib

from ..registry.strategies.base import rfc3339
from .behaviour import Plan, backoff, defaults, plan
from .commands import command_line, simulated

OURS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


def _stamp(when: float) -> str:
    return rfc3339(int(when))


def image_ref(image: str) -> str:
    """The image as the runtime names it: registry and tag spelled out."""
    name, _, digest = image.partition("@")
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if not digest and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return f"{name}@{digest}" if digest else name


def image_id(image: str) -> str:
    ref = image_ref(image)
    repo = ref.split("@", 1)[0]
    if ":" in repo.rsplit("/", 1)[-1]:
        repo = repo.rsplit(":", 1)[0]
    return f"{repo}@sha256:{hashlib.sha256(ref.encode()).hexdigest()}"


class Container:
    def __init__(self, spec: dict, kind: str, how: Plan):
        self.name = spec["name"]
        self.image = spec.get("image", "")
        self.kind = kind            # "init", "sidecar" or "main"
        self.plan = how
        self.state = "waiting"
        self.reason = "PodInitializing" if kind != "main" else "ContainerCreating"
        self.message = ""
        self.restarts = 0
        self.started = self.finished = None
        self.exit_code: int | None = None
        self.exit_reason = ""
        self.last: dict | None = None
        self.ready = False
        self.id = ""
        self.start_at: float | None = None   # when it starts (again)
        self.ready_at: float | None = None
        self.stop_at: float | None = None    # when it exits, on its own or stopped
        self.stop_code = 0
        self.ever_ran = False
        # A command the simulated shell runs writes the container's log itself.
        self.writes_own_log = simulated(command_line(spec))

    @property
    def restartable(self) -> bool:
        return self.kind == "sidecar"

    def terminated(self) -> dict:
        return {"exitCode": self.exit_code, "reason": self.exit_reason, "startedAt": _stamp(self.started),
                "finishedAt": _stamp(self.finished), "containerID": self.id}

    def render(self, init: bool) -> dict:
        if self.state == "running":
            state = {"running": {"startedAt": _stamp(self.started)}}
        elif self.state == "terminated":
            state = {"terminated": self.terminated()}
        else:
            state = {"waiting": {"reason": self.reason, **({"message": self.message} if self.message else {})}}
        out = {"name": self.name, "state": state, "lastState": {"terminated": self.last} if self.last else {},
               "ready": self.ready, "restartCount": self.restarts, "image": image_ref(self.image),
               "imageID": image_id(self.image) if self.ever_ran else ""}
        if self.id:
            out["containerID"] = self.id
        out["started"] = self.state == "running" and (not init or self.restartable)
        return out


class PodRun:
    def __init__(self, pod: dict, node: str, ip: str, host_ip: str, now: float):
        meta, spec = pod["metadata"], pod["spec"]
        self.uid = meta["uid"]
        self.namespace, self.name, self.node = meta["namespace"], meta["name"], node
        annotations = meta.get("annotations") or {}
        self.restart_policy = spec.get("restartPolicy", "Always")
        self.gates = [g["conditionType"] for g in spec.get("readinessGates") or []]
        self.grace = spec.get("terminationGracePeriodSeconds", 30)
        self.backoff = backoff(annotations)
        job = any(ref.get("kind") == "Job" and ref.get("controller") for ref in meta.get("ownerReferences") or [])
        self.init = [Container(c, "sidecar" if c.get("restartPolicy") == "Always" else "init",
                               plan(annotations, c, c.get("restartPolicy") != "Always"))
                     for c in spec.get("initContainers") or []]
        self.main = [Container(c, "main", plan(annotations, c, False, job)) for c in spec.get("containers") or []]
        if self.init:
            for c in self.main:
                c.reason = "PodInitializing"
        self.ip, self.host_ip = ip, host_ip
        self.started = now
        self.sandbox = False
        self.deleting: float | None = None   # when the delete was seen
        self.finished = False                # terminal: nothing more happens but the final delete
        self.events: list[tuple[str, str, str]] = []
        self.logs: list[tuple[str, int, str, float]] = []
        self.due: float | None = None
        self.written_rv = ""
        self.reported: dict | None = None    # the status last written
        # Containers ready to start when the kubelet first looks start their clocks from when it saw
        # the pod, so a kubelet that is behind catches up (one status write, not two).
        self.origin: float | None = now

    # --- moves ---------------------------------------------------------------------------------

    def _event(self, kind: str, reason: str, message: str) -> None:
        self.events.append((kind, reason, message))

    def _start(self, c: Container, now: float) -> None:
        if c.ever_ran:
            if c.state == "terminated":
                c.last = c.terminated()
            c.restarts += 1
        if not c.ever_ran:
            self._event("Normal", "Pulling", f'Pulling image "{c.image}"')
            took = f"{c.plan.start_delay:.3g}s"
            self._event("Normal", "Pulled", f'Successfully pulled image "{c.image}" in {took} ({took} including '
                        f'waiting). Image size: {defaults()["pod"]["imageSizeBytes"]} bytes.')
        else:
            self._event("Normal", "Pulled", f'Container image "{c.image}" already present on machine')
        c.ever_ran = self.sandbox = True
        c.id = "containerd://" + hashlib.sha256(f"{self.uid}/{c.name}/{c.restarts}".encode()).hexdigest()
        self._event("Normal", "Created", f"Created container: {c.name}")
        self._event("Normal", "Started", f"Started container {c.name}")
        c.state, c.reason, c.message = "running", "", ""
        c.started, c.finished, c.exit_code = now, None, None
        c.start_at = None
        c.ready = False
        c.ready_at = now + c.plan.ready_after if c.kind != "init" else None
        c.stop_at = now + c.plan.run_seconds if c.plan.run_seconds is not None else None
        c.stop_code = c.plan.exit_code
        if not c.writes_own_log:
            self.logs.append((c.name, c.restarts, f"started container {c.name} (image {image_ref(c.image)})", now))

    def _exit(self, c: Container, when: float, code: int, killed: bool = False) -> None:
        c.state, c.ready = "terminated", False
        c.finished, c.exit_code = when, code
        c.exit_reason = "Completed" if code == 0 and not killed else "Error"
        c.stop_at = c.ready_at = None
        if not c.writes_own_log:
            self.logs.append((c.name, c.restarts, f"container {c.name} exited with code {code}", when))

    def _restarts(self, c: Container) -> bool:
        if self.deleting is not None or self.finished:
            return False
        if c.kind == "sidecar":
            return True
        if c.kind == "init":
            return c.exit_code != 0 and self.restart_policy != "Never"
        return self.restart_policy == "Always" or (self.restart_policy == "OnFailure" and c.exit_code != 0)

    def _move(self, c: Container, now: float) -> float | None:
        """Moves one container as far as `now`; returns when it next moves."""
        while True:
            if c.state == "waiting" and c.start_at is None:
                if c.ever_ran:
                    return None  # a restart waits in _restart's start_at
                c.start_at = (now if self.origin is None else self.origin) + c.plan.start_delay
            if c.state != "running" and c.start_at is not None:
                if now < c.start_at:
                    return c.start_at
                self._start(c, c.start_at)
                continue
            if c.state == "running":
                if c.ready_at is not None and not c.ready:
                    if now >= c.ready_at:
                        c.ready = True
                if c.stop_at is not None and now >= c.stop_at:
                    self._exit(c, c.stop_at, c.stop_code, killed=c.stop_code == 137)
                    continue
                nexts = [t for t in (c.stop_at, None if c.ready else c.ready_at) if t is not None]
                return min(nexts) if nexts else None
            if c.state == "terminated" and self._restarts(c):
                delay = 0.0 if c.restarts == 0 else min(self.backoff[0] * 2 ** (c.restarts - 1), self.backoff[1])
                c.start_at = c.finished + delay
                if now < c.start_at:
                    c.last = c.terminated()
                    c.state, c.reason = "waiting", "CrashLoopBackOff"
                    c.message = (f"back-off {_duration(delay)} restarting failed container={c.name} "
                                 f"pod={self.name}_{self.namespace}({self.uid})")
                    self._event("Warning", "BackOff", f"Back-off restarting failed container {c.name} in pod "
                                f"{self.name}_{self.namespace}({self.uid})")
                    return c.start_at
                continue
            return None

    def _stop_all(self, now: float) -> None:
        """The delete: every running container gets SIGTERM, and SIGKILL when the grace runs out."""
        grace = self.grace
        for c in self.running():
            took = min(c.plan.termination, grace)
            c.stop_at, c.stop_code = self.deleting + took, 0 if c.plan.termination <= grace else 137
            c.ready_at = None
            self._event("Normal", "Killing", f"Stopping container {c.name}")
        for c in self.init + self.main:
            if c.state == "waiting":
                c.start_at = None

    def process_exited(self, name: str, instance: int, code: int, now: float) -> bool:
        """A container's simulated command ended: it exits now with that code, unless annotations
        (or a delete) already decided when it stops."""
        for c in self.init + self.main:
            if c.name == name and c.state == "running" and c.restarts == instance and c.plan.run_seconds is None \
                    and self.deleting is None and (c.stop_at is None or c.stop_at > now):
                c.stop_at, c.stop_code = now, code
                return True
        return False

    def running(self) -> list[Container]:
        return [c for c in self.init + self.main if c.state == "running"]

    def delete(self, now: float, grace: int | None) -> None:
        if self.deleting is None:
            self.deleting = now
            if grace is not None:
                self.grace = min(self.grace, grace)
            self._stop_all(now)

    def advance(self, now: float) -> float | None:
        """Moves the pod as far as `now`; returns when it next moves (None: only an outside change
        or the delete moves it)."""
        try:
            return self._advance(now)
        finally:
            self.origin = None

    def _advance(self, now: float) -> float | None:
        if self.finished:
            return None
        if self.deleting is not None:
            nexts = []
            for c in self.running():
                if c.stop_at is not None and now >= c.stop_at:
                    self._exit(c, c.stop_at, c.stop_code, killed=c.stop_code == 137)
                elif c.stop_at is not None:
                    nexts.append(c.stop_at)
            if not self.running():
                self.finished = True
                return None
            return min(nexts) if nexts else None
        nexts = []
        for c in self.init:
            due = self._move(c, now)
            if due is not None:
                nexts.append(due)
            if c.kind == "sidecar" and c.state != "running" and not c.ever_ran:
                break
            if c.kind == "init" and not (c.state == "terminated" and c.exit_code == 0):
                break
        else:
            for c in self.main:
                due = self._move(c, now)
                if due is not None:
                    nexts.append(due)
            if self.main and all(c.state == "terminated" and not self._restarts(c) for c in self.main):
                for c in self.init:
                    if c.state == "running":  # sidecars stop once the regular containers are done
                        self._exit(c, now, 0)
                self.finished = True
                return None
        if any(c.kind == "init" and c.state == "terminated" and c.exit_code != 0 and not self._restarts(c)
               for c in self.init):
            self.finished = True
            return None
        return min(nexts) if nexts else None

    def adopt(self, status: dict, parse) -> None:
        """Takes up where an earlier kubelet (this server, before a restart) left the pod's
        containers, from the status it wrote; `parse` reads its timestamps."""
        reported = {s["name"]: s for key in ("initContainerStatuses", "containerStatuses")
                    for s in status.get(key) or []}
        for c in self.init + self.main:
            seen = reported.get(c.name)
            if not seen or "waiting" in (seen.get("state") or {}) and not (seen.get("lastState") or {}):
                continue
            state = seen.get("state") or {}
            done = state.get("terminated") or (seen.get("lastState") or {}).get("terminated")
            c.ever_ran = self.sandbox = True
            c.restarts, c.id = seen.get("restartCount", 0), seen.get("containerID", "")
            c.last = (seen.get("lastState") or {}).get("terminated")
            if "running" in state:
                c.state, c.started, c.ready = "running", parse(state["running"].get("startedAt")) or self.started, \
                    seen.get("ready", False)
                c.stop_at = c.started + c.plan.run_seconds if c.plan.run_seconds is not None else None
                c.stop_code = c.plan.exit_code
                c.ready_at = None if c.ready or c.kind == "init" else c.started + c.plan.ready_after
            elif done:
                c.state, c.exit_code, c.exit_reason = "terminated", done.get("exitCode", 0), done.get("reason", "")
                c.started = parse(done.get("startedAt")) or self.started
                c.finished = parse(done.get("finishedAt")) or c.started

    # --- status --------------------------------------------------------------------------------

    def initialized(self) -> bool:
        return not self._incomplete()

    def _incomplete(self) -> list[str]:
        return [c.name for c in self.init if not ((c.kind == "sidecar" and c.ever_ran)
                                                   or (c.state == "terminated" and c.exit_code == 0))]

    def phase(self) -> str:
        if any(c.kind == "init" and c.state == "terminated" and c.exit_code != 0 and not self._restarts(c)
               for c in self.init):
            return "Failed"
        if not self.initialized() or any(not c.ever_ran for c in self.main):
            return "Pending"
        if all(c.state == "terminated" and not self._restarts(c) for c in self.main):
            return "Succeeded" if all(c.exit_code == 0 for c in self.main) else "Failed"
        return "Running"

    def status(self, current: dict, now: float) -> dict:
        """The pod's status as the kubelet writes it, from `current` (conditions others own, such as
        readiness gates, and transition times of conditions that did not change)."""
        phase = self.phase()
        terminal = phase in ("Succeeded", "Failed")
        old = {c["type"]: c for c in current.get("conditions") or []}
        stamp = _stamp(now)

        def condition(kind, ok, reason=None, message=None):
            status = "True" if ok else "False"
            was = old.get(kind) or {}
            out = {"type": kind, "status": status, "lastProbeTime": None,
                   "lastTransitionTime": was.get("lastTransitionTime") if was.get("status") == status else stamp}
            if reason:
                out["reason"] = reason
            if message:
                out["message"] = message
            return out

        unready = [c.name for c in self.main if not c.ready] + [c.name for c in self.init
                                                                 if c.kind == "sidecar" and not c.ready]
        incomplete = self._incomplete()
        if terminal:
            initialized = condition("Initialized", True, "PodCompleted")
            containers_ready = condition("ContainersReady", False, "PodCompleted")
            ready = condition("Ready", False, "PodCompleted")
        else:
            initialized = condition("Initialized", self.initialized(), *(
                () if self.initialized() else ("ContainersNotInitialized",
                                               f"containers with incomplete status: [{' '.join(incomplete)}]")))
            containers_ok = not unready
            reason = () if containers_ok else ("ContainersNotReady",
                                               f"containers with unready status: [{' '.join(unready)}]")
            containers_ready = condition("ContainersReady", containers_ok, *reason)
            gate = _gate_failure(self.gates, old)
            if containers_ok and gate:
                reason = ("ReadinessGatesNotReady", gate)
            ready = condition("Ready", containers_ok and not gate, *reason)
        conditions = [condition("PodReadyToStartContainers", self.sandbox and not terminal), initialized, ready,
                      containers_ready, condition("PodScheduled", True)]
        conditions += [c for kind, c in old.items() if kind not in OURS]
        status = {**current, "phase": phase, "conditions": conditions, "hostIP": self.host_ip,
                  "hostIPs": [{"ip": self.host_ip}], "startTime": current.get("startTime") or _stamp(self.started)}
        if self.ip and self.sandbox:
            status["podIP"], status["podIPs"] = self.ip, [{"ip": self.ip}]
        if self.init:
            status["initContainerStatuses"] = [c.render(True) for c in self.init]
        status["containerStatuses"] = [c.render(False) for c in self.main]
        return status


def _gate_failure(gates: list[str], conditions: dict) -> str:
    """kube's message for the first readiness gate that is not True, or ''."""
    for gate in gates:
        found = conditions.get(gate)
        if found is None:
            return f'corresponding condition of pod readiness gate "{gate}" does not exist.'
        if found.get("status") != "True":
            return f'the status of pod readiness gate "{gate}" is not "True", but {found.get("status")}'
    return ""


def _duration(seconds: float) -> str:
    """A Go duration as kubelet prints back-offs (10s, 1m20s, 5m0s)."""
    seconds = int(seconds) if seconds == int(seconds) else seconds
    if isinstance(seconds, float):
        return f"{seconds:g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"
