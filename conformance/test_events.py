"""Events: one object served through core/v1 and events.k8s.io/v1 alike, as kube serves its one
Event type through both APIs. (events.k8s.io objects are read raw: the Python client's model
refuses the `eventTime: null` that kube serves for events recorded through core/v1.)"""
from __future__ import annotations

import json

from .helpers import raw


def _get_v1(kubectl, namespace, name):
    return json.loads(kubectl("-n", namespace, "get", "events.v1.events.k8s.io", name, "-o", "json").stdout)


def test_an_events_v1_event_is_a_core_event(core, kubectl, namespace, tmp_path):
    manifest = tmp_path / "event.json"
    manifest.write_text(json.dumps({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "sched"}, "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-vapi",
        "action": "Scheduling", "reason": "FailedScheduling", "type": "Warning",
        "note": "0/1 nodes are available", "regarding": {"kind": "Pod", "name": "p", "namespace": namespace},
        "series": {"count": 3, "lastObservedTime": "2026-01-01T00:05:00.000000Z"}}))
    kubectl("-n", namespace, "create", "-f", str(manifest))
    as_core = core.read_namespaced_event("sched", namespace)
    assert (as_core.message, as_core.reason, as_core.reporting_component, as_core.involved_object.name) == \
        ("0/1 nodes are available", "FailedScheduling", "default-scheduler", "p")
    assert as_core.series.count == 3
    listed = core.list_namespaced_event(namespace, field_selector="involvedObject.name=p").items
    assert [e.metadata.name for e in listed] == ["sched"]
    # A series grows through events.k8s.io, as kube's new recorder writes it; core/v1 sees it.
    kubectl("-n", namespace, "patch", "events.v1.events.k8s.io", "sched", "--type=merge",
            "-p", '{"series": {"count": 4, "lastObservedTime": "2026-01-01T00:06:00.000000Z"}}')
    assert core.read_namespaced_event("sched", namespace).series.count == 4


def test_a_core_event_is_an_events_v1_event(core, kubectl, namespace):
    core.create_namespaced_event(namespace, {
        "metadata": {"name": "legacy"}, "involvedObject": {"kind": "Pod", "name": "q", "namespace": namespace},
        "reason": "Started", "message": "Started container app", "type": "Normal", "count": 2,
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:01:00Z",
        "source": {"component": "kubelet", "host": "node-0"}})
    event = _get_v1(kubectl, namespace, "legacy")
    assert event["apiVersion"] == "events.k8s.io/v1" and event["eventTime"] is None
    assert (event["note"], event["regarding"]["name"], event["deprecatedCount"],
            event["deprecatedSource"]["component"]) == ("Started container app", "q", 2, "kubelet")
    assert "message" not in event and "involvedObject" not in event
    selected = json.loads(kubectl("-n", namespace, "get", "events.v1.events.k8s.io", "--field-selector",
                                  "regarding.name=q", "-o", "json").stdout)["items"]
    assert [e["metadata"]["name"] for e in selected] == ["legacy"]
    kubectl("-n", namespace, "delete", "events.v1.events.k8s.io", "legacy")
    assert not core.list_namespaced_event(namespace).items


def test_watching_events_v1_sees_writes_through_core(core, api_client, namespace):
    rv = core.list_namespaced_event(namespace).metadata.resource_version
    core.create_namespaced_event(namespace, {
        "metadata": {"name": "seen"}, "involvedObject": {"kind": "Pod", "name": "r", "namespace": namespace},
        "reason": "Pulled", "message": "pulled", "type": "Normal"})
    status, text = raw(api_client, "GET", f"/apis/events.k8s.io/v1/namespaces/{namespace}/events",
                       query=f"watch=true&resourceVersion={rv}&timeoutSeconds=1")
    assert status == 200
    first = json.loads(text.splitlines()[0]) if isinstance(text, str) else text
    assert first["type"] == "ADDED"
    assert (first["object"]["apiVersion"], first["object"]["note"], first["object"]["regarding"]["name"]) == \
        ("events.k8s.io/v1", "pulled", "r")


def test_kubectl_lists_both(kubectl, namespace, core):
    core.create_namespaced_event(namespace, {
        "metadata": {"name": "shown"}, "involvedObject": {"kind": "Pod", "name": "s", "namespace": namespace},
        "reason": "Killing", "message": "Stopping container app", "type": "Normal"})
    for resource in ("events", "events.events.k8s.io"):
        out = kubectl("-n", namespace, "get", resource).stdout
        assert "Killing" in out and "pod/s" in out and "Stopping container app" in out


def test_a_core_event_in_the_new_style_names_its_reporting_controller(api_client, namespace):
    # Sent raw: the Python client rewrites MicroTime strings into a form kube (and vapi) refuses.
    ref = {"kind": "Pod", "name": "n", "namespace": namespace}
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "new-style"}, "involvedObject": ref,
             "eventTime": "2026-01-01T00:00:00.000000Z", "reportingComponent": "default-scheduler",
             "reportingInstance": "vapi", "action": "Scheduling", "reason": "Scheduled", "message": "assigned",
             "type": "Normal"}
    path = f"/api/v1/namespaces/{namespace}/events"
    status, created = raw(api_client, "POST", path, json.dumps(event))
    assert status == 201 and created["reportingComponent"] == "default-scheduler"
    del event["reportingComponent"]
    event["metadata"]["name"] = "unreported"
    status, refused = raw(api_client, "POST", path, json.dumps(event))
    assert status == 422 and "reportingController: Required value" in refused["message"]
