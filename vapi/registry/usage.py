"""Simulated resource usage: what metrics-server would have scraped from a kubelet, made up.

There are no containers to measure, so each container of a Running pod is said to use a steady
fraction of what it requests (a small default when it requests nothing), moved by a little jitter
fixed per container so that the figures look measured yet never change between two reads. A pod
may name its usage instead, in annotations a test (or a demo) changes to move an autoscaler:

- `vapi.dev/cpu-usage: 250m`, `vapi.dev/memory-usage: 64Mi`: what each container of the pod uses;
- `vapi.dev/cpu-usage.<container>`, `vapi.dev/memory-usage.<container>`: one container's usage,
  before the pod-wide annotation.

Named usage is exact (no jitter); an annotation that is not a quantity is ignored. A node uses the
sum of its Running pods' usage and a small overhead for the system daemons a node runs.
"""
from __future__ import annotations

import zlib
from fractions import Fraction

from admission.quantity import Quantity

CPU, MEMORY = "cpu", "memory"
ANNOTATIONS = {CPU: "vapi.dev/cpu-usage", MEMORY: "vapi.dev/memory-usage"}
# Of the request, the share a container uses unless told otherwise; below the HPA's default
# target (80%), so an autoscaled workload left alone stays as it is.
DEFAULT_SHARE = {CPU: Fraction(1, 10), MEMORY: Fraction(1, 2)}
# What a container requesting nothing uses (1m CPU, 8 MiB).
DEFAULT_USAGE = {CPU: Fraction(1, 1000), MEMORY: Fraction(8 * 1024 * 1024)}
# What a node's own daemons use besides its pods.
NODE_OVERHEAD = {CPU: Fraction(50, 1000), MEMORY: Fraction(128 * 1024 * 1024)}
JITTER = Fraction(5, 100)
PAGE = 4096  # at most ±5% of the default usage


def has_metrics(pod: dict) -> bool:
    """Only Running pods are measured (metrics-server reports no others)."""
    return (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")


def _named(annotations: dict, resource: str, container: str) -> Fraction | None:
    for key in (f"{ANNOTATIONS[resource]}.{container}", ANNOTATIONS[resource]):
        if key in annotations:
            try:
                return Quantity.parse(annotations[key]).value
            except (ValueError, TypeError):
                continue
    return None


def _jitter(uid: str, container: str, resource: str) -> Fraction:
    """A factor in [0.95, 1.05], the same for a container every time it is asked for."""
    spread = zlib.crc32(f"{uid}/{container}/{resource}".encode()) % 201 - 100
    return 1 + JITTER * Fraction(spread, 100)


def _requested(container: dict, resource: str) -> Fraction | None:
    resources = container.get("resources") or {}
    for part in ("requests", "limits"):  # a container with only limits requests its limits
        value = (resources.get(part) or {}).get(resource)
        if value is not None:
            try:
                return Quantity.parse(value).value
            except (ValueError, TypeError):
                return None
    return None


def container_usage(pod: dict, container: dict) -> dict[str, Fraction]:
    """(resource -> amount) a container of a Running pod uses: CPU in cores, memory in bytes."""
    meta = pod["metadata"]
    annotations = meta.get("annotations") or {}
    name = container.get("name", "")
    usage = {}
    for resource in (CPU, MEMORY):
        named = _named(annotations, resource, name)
        if named is not None:
            usage[resource] = named
            continue
        requested = _requested(container, resource)
        base = requested * DEFAULT_SHARE[resource] if requested else DEFAULT_USAGE[resource]
        usage[resource] = base * _jitter(meta.get("uid", ""), name, resource)
    return usage


def pod_usage(pod: dict) -> list[tuple[str, dict[str, Fraction]]]:
    """(container name, usage) for each of the pod's containers."""
    return [(c.get("name", ""), container_usage(pod, c)) for c in (pod.get("spec") or {}).get("containers") or []]


def node_usage(pods: list[dict]) -> dict[str, Fraction]:
    """A node's usage: the overhead and what the Running pods on it use."""
    total = dict(NODE_OVERHEAD)
    for pod in pods:
        if has_metrics(pod):
            for _, usage in pod_usage(pod):
                for resource, amount in usage.items():
                    total[resource] += amount
    return total


def render(usage: dict[str, Fraction]) -> dict[str, str]:
    """As metrics-server writes usage: CPU counted in nanocores, memory in bytes (binary units;
    whole pages, as a working set is), each in Quantity's canonical text (`250m`, `63736Ki`)."""
    nanocores = Fraction(round(usage[CPU] * 10 ** 9), 10 ** 9)
    memory = Fraction(round(usage[MEMORY] / PAGE) * PAGE)
    return {CPU: str(Quantity(nanocores)), MEMORY: str(Quantity(memory, binary=True))}
