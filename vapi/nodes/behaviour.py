"""How a simulated container behaves: the defaults in vapi/data/simulated-nodes.yaml, overridden
per pod, or per container, by annotations (README, "Simulated nodes").

Each annotation may name one container with a suffix: `vapi.dev/exit-code.worker: "3"` applies to
the container `worker` alone and wins over `vapi.dev/exit-code`, which applies to every container.
A value that does not parse is ignored, as an unknown annotation would be.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .commands import command_line, simulated

log = logging.getLogger("vapi.nodes")

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "simulated-nodes.yaml"
PREFIX = "vapi.dev/"
SIMULATED_LABEL = PREFIX + "simulated"
START_DELAY = PREFIX + "start-delay-seconds"       # before the container starts (pull, create)
RUN_SECONDS = PREFIX + "run-seconds"               # the container runs this long, then exits
EXIT_CODE = PREFIX + "exit-code"                   # ... with this code (default 0)
CRASH_LOOP = PREFIX + "crash-loop"                 # "true": runs briefly, then fails, every time
READY_AFTER = PREFIX + "ready-after-seconds"       # ready this long after it starts
TERMINATION = PREFIX + "termination-seconds"       # takes this long to stop on SIGTERM
BACKOFF = PREFIX + "backoff-seconds"               # the pod's CrashLoopBackOff base (kubelet: 10)


@cache
def defaults() -> dict:
    return yaml.safe_load(DATA_FILE.read_text())


@dataclass(frozen=True)
class Plan:
    start_delay: float
    run_seconds: float | None     # None: runs until stopped
    exit_code: int
    ready_after: float
    termination: float


def _value(annotations: dict, key: str, container: str, parse):
    for name in (f"{key}.{container}", key):
        if name in annotations:
            try:
                return parse(annotations[name])
            except (TypeError, ValueError):
                log.warning("ignoring annotation %s=%r: not a valid value", name, annotations[name])
    return None


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0 or value != value:
        raise ValueError(text)
    return value


def _flag(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)
    return text.lower() == "true"


def plan(annotations: dict, container: dict, init: bool, job: bool = False) -> Plan:
    """What one container of a pod will do, from the pod's annotations and the container's spec:
    annotations first; else a command the simulated shell runs whole decides when it exits, and
    with what code (`run_seconds` None, the runtime tells); else the defaults: an init container,
    or a container of a pod a Job owns, exits 0 after a while, others run until stopped."""
    pod = defaults()["pod"]
    name = container["name"]
    crash = _value(annotations, CRASH_LOOP, name, _flag)
    run = _value(annotations, RUN_SECONDS, name, _seconds)
    code = _value(annotations, EXIT_CODE, name, int)
    if crash:
        run = pod["crashLoopRunSeconds"] if run is None else run
        code = pod["crashLoopExitCode"] if code is None else code
    elif run is None and code is not None:
        run = 0.0  # an exit code alone: the container exits at once with it
    if run is None and not simulated(command_line(container)):
        if init:
            run = pod["initRunSeconds"]
        elif job:
            run = pod["jobRunSeconds"]
    probe = container.get("readinessProbe") or {}
    ready = _value(annotations, READY_AFTER, name, _seconds)
    delay = _value(annotations, START_DELAY, name, _seconds)
    stop = _value(annotations, TERMINATION, name, _seconds)
    return Plan(start_delay=pod["startDelaySeconds"] if delay is None else delay,
                run_seconds=run, exit_code=code or 0,
                ready_after=ready if ready is not None else float(probe.get("initialDelaySeconds") or 0),
                termination=pod["terminationSeconds"] if stop is None else stop)


def backoff(annotations: dict) -> tuple[float, float]:
    """(base, cap) of the pod's CrashLoopBackOff."""
    pod = defaults()["pod"]
    base = _value(annotations, BACKOFF, "", _seconds)
    return (pod["backoffSeconds"] if base is None else base), pod["maxBackoffSeconds"]
