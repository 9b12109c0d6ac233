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


def test_the_recorder_aggregates_as_kubes_does(tmp_path):
    import asyncio

    from vapi.controllers.identity import ActingAs, controller_user
    from vapi.server import Config, Server

    async def scenario():
        server = Server(Config(data_dir=tmp_path, port=0, nodes=0))
        await server.start()
        try:
            api = ActingAs(server.api, controller_user("deployment-controller"), server.authorizer.authorize)
            legacy = server.controllers.recorder(api, "deployment-controller")
            series = server.controllers.recorder(api, "default-scheduler", series=True)
            web = {"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "default", "uid": "u-web"}}
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default", "uid": "u-p"}}
            for _ in range(3):
                legacy.event(web, "Normal", "ScalingReplicaSet", "Scaled up replica set web-1 from 0 to 3")
            for i in range(12):
                legacy.event(web, "Warning", "Flapping", f"attempt {i}")
            for i in range(3):
                series.event(pod, "Warning", "FailedScheduling", f"0/1 nodes are available ({i})", action="Scheduling")
            events = server.api.list(server.registry.get("", "v1", "events"), "default")["items"]
            deadline = asyncio.get_running_loop().time() + 5
            while len(events) < 13 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
                events = server.api.list(server.registry.get("", "v1", "events"), "default")["items"]
            await asyncio.sleep(0.3)  # the last bumps
            events = server.api.list(server.registry.get("", "v1", "events"), "default")["items"]
            return events
        finally:
            await server.stop()
    events = asyncio.run(scenario())
    scaled = [e for e in events if e["reason"] == "ScalingReplicaSet"]
    assert [(e["count"], e["source"], e["involvedObject"]["kind"]) for e in scaled] == [
        (3, {"component": "deployment-controller"}, "Deployment")]
    flapping = sorted((e for e in events if e["reason"] == "Flapping"), key=lambda e: e["metadata"]["name"])
    assert [e["message"] for e in flapping[:10]] == [f"attempt {i}" for i in range(10)]
    combined = [e for e in flapping if e["message"].startswith("(combined from similar events): ")]
    assert len(flapping) == 11 and len(combined) == 1 and combined[0]["count"] == 2
    scheduled = [e for e in events if e["reason"] == "FailedScheduling"]
    assert len(scheduled) == 1 and scheduled[0]["series"]["count"] == 3
    assert scheduled[0]["reportingComponent"] == "default-scheduler" and scheduled[0]["action"] == "Scheduling"
    assert scheduled[0]["message"] == "0/1 nodes are available (0)" and scheduled[0]["eventTime"].endswith("Z")
