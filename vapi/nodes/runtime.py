"""The simulated container runtime: which containers run and what they wrote.

A minimal stand-in with the interface the streaming subresources read (the full one, with the
reads `pods/log` needs, lives with them): the kubelet appends each container instance's lines and
registers a pod whenever its status changes; a container whose status says `running` is running.
"""
from __future__ import annotations

import datetime

STATUS_LISTS = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")


class ContainerLogs:
    """Per pod uid, container name and instance (the container's restartCount when it ran)."""

    def __init__(self):
        self._pods: dict[str, dict[str, dict[int, list[tuple[datetime.datetime, str]]]]] = {}

    def append(self, uid: str, container: str, instance: int, line: str,
               when: datetime.datetime | None = None) -> None:
        when = when or datetime.datetime.now(datetime.timezone.utc)
        self._pods.setdefault(uid, {}).setdefault(container, {}).setdefault(instance, []).append((when, line))

    def lines(self, uid: str, container: str, instance: int) -> list[tuple[datetime.datetime, str]]:
        return list(self._pods.get(uid, {}).get(container, {}).get(instance, []))

    def forget(self, uid: str) -> None:
        self._pods.pop(uid, None)


class Runtime:
    def __init__(self):
        self.logs = ContainerLogs()
        self._running: dict[str, set[str]] = {}

    def register(self, pod: dict) -> None:
        status = pod.get("status") or {}
        self._running[pod["metadata"]["uid"]] = {
            s["name"] for key in STATUS_LISTS for s in status.get(key) or [] if "running" in (s.get("state") or {})}

    def running(self, uid: str, container: str) -> bool:
        return container in self._running.get(uid, ())

    def forget(self, uid: str) -> None:
        self._running.pop(uid, None)
        self.logs.forget(uid)
