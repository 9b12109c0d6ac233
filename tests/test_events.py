"""Events: expiry after --event-ttl, as kube-apiserver's event TTL does."""
from __future__ import annotations

import datetime as dt
import time

import kubernetes

from vapi.testing import ServerProcess


def _event(name: str, seen: dt.datetime) -> dict:
    stamp = seen.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"metadata": {"name": name}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
            "reason": "Test", "message": name, "type": "Normal", "firstTimestamp": stamp, "lastTimestamp": stamp,
            "count": 1, "source": {"component": "test"}}


def test_events_last_seen_longer_ago_than_the_ttl_are_deleted(tmp_path):
    with ServerProcess(tmp_path, extra_args=("--event-ttl", "3s")) as server:
        core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(server.kubeconfig)))
        now = dt.datetime.now(dt.timezone.utc)
        core.create_namespaced_event("default", _event("old", now - dt.timedelta(hours=2)))
        core.create_namespaced_event("default", _event("fresh", now + dt.timedelta(seconds=30)))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            names = {e.metadata.name for e in core.list_namespaced_event("default").items if e.reason == "Test"}
            if "old" not in names:
                break
            time.sleep(0.2)
        assert names == {"fresh"}
