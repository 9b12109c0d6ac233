"""The simulated container runtime: which containers run, what they wrote, and their main processes.

The server's pods informer tells the `Runtime` about a pod with `register(pod)` whenever the status
a kubelet (simulated or not) reported changes, in the order it was written, and `forget(uid)` when
the pod is deleted: a container whose status says `running` is running, as the instance
numbered by its `restartCount`; every other container is not. The streaming subresources (log,
exec, attach, portforward) read it, as kube-apiserver's proxies reach the kubelet's.

`ContainerLogs` keeps each container instance's lines, timestamped, as the kubelet's log files
do (bounded, the oldest dropped first, as log rotation drops them), and lets `pods/log` follow an
instance until it stops.
"""
from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from . import commands

log = logging.getLogger("vapi.nodes")

# kubelet rotates a container's log at 10 MiB; lines are the unit here.
MAX_LINES = 10_000
STATUS_LISTS = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
SPEC_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass
class Entry:
    when: datetime.datetime
    line: str


@dataclass
class _Instance:
    entries: list[Entry] = field(default_factory=list)
    dropped: int = 0        # lines rotated away: an entry's absolute number is dropped + its index
    stopped: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class ContainerLogs:
    """Per pod uid, container name and instance (the container's restartCount when it ran)."""

    def __init__(self, max_lines: int = MAX_LINES):
        self.max_lines = max_lines
        self._pods: dict[str, dict[str, dict[int, _Instance]]] = {}

    def _instance(self, uid: str, container: str, instance: int) -> _Instance:
        return self._pods.setdefault(uid, {}).setdefault(container, {}).setdefault(instance, _Instance())

    def append(self, uid: str, container: str, instance: int, line: str,
               when: datetime.datetime | None = None) -> None:
        """One line the container wrote (a trailing newline is not part of it)."""
        held = self._instance(uid, container, instance)
        held.entries.append(Entry(when or _now(), line.rstrip("\n")))
        if len(held.entries) > self.max_lines:
            cut = len(held.entries) - self.max_lines
            del held.entries[:cut]
            held.dropped += cut
        held.wake()

    def stop(self, uid: str, container: str, instance: int) -> None:
        """That instance ended: whoever follows it has read its last line."""
        held = self._instance(uid, container, instance)
        if not held.stopped:
            held.stopped = True
            held.wake()

    def start(self, uid: str, container: str, instance: int) -> None:
        held = self._instance(uid, container, instance)
        if held.stopped:
            held.stopped = False
            held.wake()

    def forget(self, uid: str) -> None:
        """The pod is gone: its logs go with it, and its followers end."""
        for instances in self._pods.pop(uid, {}).values():
            for held in instances.values():
                held.stopped = True
                held.wake()

    def instances(self, uid: str, container: str) -> list[int]:
        return sorted(self._pods.get(uid, {}).get(container, {}))

    def read(self, uid: str, container: str, instance: int, *, since: datetime.datetime | None = None,
             tail: int | None = None) -> list[Entry]:
        """The lines held, those written at or after `since`, the last `tail` of them."""
        held = self._pods.get(uid, {}).get(container, {}).get(instance)
        entries = list(held.entries) if held else []
        if since is not None:
            entries = [e for e in entries if e.when >= since]
        if tail is not None:
            entries = entries[len(entries) - tail:] if tail > 0 else []
        return entries

    async def follow(self, uid: str, container: str, instance: int, *, since: datetime.datetime | None = None,
                     tail: int | None = None) -> AsyncIterator[Entry]:
        """What `read` gives, then each line as it is appended, until the instance stops."""
        held = self._instance(uid, container, instance)
        first = self.read(uid, container, instance, since=since, tail=tail)
        for entry in first:
            yield entry
        seen = held.dropped + len(held.entries)
        while True:
            if held.dropped + len(held.entries) > seen:
                start = max(seen - held.dropped, 0)
                fresh = held.entries[start:]
                seen = held.dropped + len(held.entries)
                for entry in fresh:
                    yield entry
                continue
            if held.stopped or uid not in self._pods:
                return
            await held.changed.wait()


@dataclass
class Container:
    """What the runtime knows of one running container."""
    uid: str
    name: str
    instance: int
    spec: dict
    pod: dict
    stdin: commands.Pipe | None = None   # the main process's stdin (spec.stdin), fed by attach
    process: asyncio.Task | None = None


class Runtime:
    """The containers running on the simulated nodes, fed by `register(pod)` from the pods informer."""

    def __init__(self):
        self.logs = ContainerLogs()
        self._running: dict[tuple[str, str], Container] = {}
        self._pods: dict[str, dict] = {}
        # async (container, runtime) -> exit code or None: what a container runs once it starts
        self.main_process = commands.main_process
        # (pod uid, container, instance, exit code): told when a container's own process ends
        self.on_exit = None

    def register(self, pod: dict) -> None:
        """The pod as its kubelet last reported it: which of its containers run, which not."""
        uid = pod["metadata"]["uid"]
        self._pods[uid] = pod
        specs = {c.get("name"): c for key in SPEC_LISTS for c in pod.get("spec", {}).get(key) or []}
        status = pod.get("status") or {}
        running = {}
        for key in STATUS_LISTS:
            for cs in status.get(key) or []:
                if "running" in (cs.get("state") or {}):
                    running[cs.get("name")] = int(cs.get("restartCount") or 0)
        for (puid, name), held in list(self._running.items()):
            if puid == uid and running.get(name) != held.instance:
                self._stop(held)
        for name, instance in running.items():
            held = self._running.get((uid, name))
            if held is not None:
                held.pod, held.spec = pod, specs.get(name, held.spec)
                continue
            held = self._running[(uid, name)] = Container(uid, name, instance, specs.get(name) or {}, pod)
            self.logs.start(uid, name, instance)
            if self.main_process is not None:
                held.stdin = commands.Pipe() if held.spec.get("stdin") else None
                held.process = asyncio.create_task(self.main_process(held, self),
                                                   name=f"container {uid}/{name}")
                held.process.add_done_callback(lambda task, held=held: self._exited(held, task))

    def _exited(self, held: Container, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("container %s/%s: its simulated process failed", held.uid, held.name,
                      exc_info=task.exception())
            return
        if task.result() is None:
            return
        if self.on_exit is not None and self._running.get((held.uid, held.name)) is held:
            self.on_exit(held.uid, held.name, held.instance, task.result())

    def _stop(self, held: Container) -> None:
        self._running.pop((held.uid, held.name), None)
        if held.process is not None:
            held.process.cancel()
        self.logs.stop(held.uid, held.name, held.instance)

    def running(self, uid: str, container: str) -> bool:
        return (uid, container) in self._running

    def container(self, uid: str, container: str) -> Container | None:
        return self._running.get((uid, container))

    def forget(self, uid: str) -> None:
        """The pod is deleted: its containers stop and its logs go."""
        for (puid, _), held in list(self._running.items()):
            if puid == uid:
                self._stop(held)
        self._pods.pop(uid, None)
        self.logs.forget(uid)
