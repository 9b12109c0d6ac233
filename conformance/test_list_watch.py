"""Lists and watches: pagination, selectors, resourceVersion semantics, watch resume."""
from __future__ import annotations

import threading

import kubernetes
import pytest

from .helpers import expect_status, raw


def _make(core, namespace, n, labels=lambda i: {}):
    for i in range(n):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm-{i:03d}", "labels": labels(i)}})


def test_pagination_is_a_consistent_snapshot(core, namespace):
    _make(core, namespace, 25)
    first = core.list_namespaced_config_map(namespace, limit=10)
    assert len(first.items) == 10 and first.metadata._continue
    # Writes between pages must not show up in later pages of the same list.
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm-zzz"}})
    core.delete_namespaced_config_map("cm-020", namespace)
    names = [c.metadata.name for c in first.items]
    token = first.metadata._continue
    while token:
        page = core.list_namespaced_config_map(namespace, limit=10, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        names += [c.metadata.name for c in page.items]
        token = page.metadata._continue
    # cm-020 was deleted and cm-zzz created after the first page: the snapshot shows neither change.
    assert [n for n in names if n.startswith("cm-")] == [f"cm-{i:03d}" for i in range(25)]


def test_bad_continue_token(core, namespace):
    expect_status(lambda: core.list_namespaced_config_map(namespace, _continue="garbage"), 400, "BadRequest")


LABELS = [{"env": "prod", "tier": "web"}, {"env": "dev", "tier": "web"}, {"env": "prod"}, {"tier": "db", "n": "5"}]


@pytest.mark.parametrize("selector,expected", [
    ("env=prod", {0, 2}), ("env==prod", {0, 2}), ("env!=prod", {1, 3}), ("env in (dev,prod)", {0, 1, 2}),
    ("env notin (prod)", {1, 3}), ("tier", {0, 1, 3}), ("!tier", {2}), ("env=prod,tier=web", {0}),
    ("n>4", {3}), ("n<4", set()),
])
def test_label_selectors(core, namespace, selector, expected):
    _make(core, namespace, len(LABELS), labels=lambda i: LABELS[i])
    got = {int(c.metadata.name[-3:]) for c in core.list_namespaced_config_map(namespace, label_selector=selector).items
           if c.metadata.name.startswith("cm-")}
    assert got == expected


def test_invalid_label_selector(core, namespace):
    expect_status(lambda: core.list_namespaced_config_map(namespace, label_selector="a in (b"), 400, "BadRequest")


def test_field_selectors(core, namespace):
    _make(core, namespace, 3)
    got = core.list_namespaced_config_map(namespace, field_selector="metadata.name=cm-001").items
    assert [c.metadata.name for c in got] == ["cm-001"]
    got = core.list_namespaced_config_map(namespace, field_selector="metadata.name!=cm-001").items
    assert "cm-001" not in {c.metadata.name for c in got} and "cm-000" in {c.metadata.name for c in got}
    core.create_namespaced_secret(namespace, {"metadata": {"name": "tls"}, "type": "kubernetes.io/tls",
                                              "data": {"tls.crt": "", "tls.key": ""}})
    core.create_namespaced_secret(namespace, {"metadata": {"name": "plain"}, "stringData": {"a": "b"}})
    got = core.list_namespaced_secret(namespace, field_selector="type=kubernetes.io/tls").items
    assert [s.metadata.name for s in got] == ["tls"]
    core.create_namespaced_pod(namespace, {"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "c", "image": "busybox"}]}})
    assert [p.metadata.name for p in core.list_namespaced_pod(namespace, field_selector="status.phase=Pending").items] == ["p"]
    assert core.list_namespaced_pod(namespace, field_selector="spec.nodeName=nowhere").items == []
    core.create_namespaced_event(namespace, {"metadata": {"name": "e1"}, "involvedObject": {
        "kind": "Pod", "name": "p", "namespace": namespace}, "reason": "Testing", "message": "hi", "type": "Normal"})
    # The scheduler reports on p too: only the test's own event is asked for.
    got = core.list_namespaced_event(namespace, field_selector="involvedObject.name=p,involvedObject.kind=Pod,"
                                     "reason=Testing").items
    assert [e.metadata.name for e in got] == ["e1"]


def test_unsupported_field_selector(core, namespace):
    # Kinds with their own field labels (pods) and kinds with only the metadata ones word it differently.
    status = expect_status(lambda: core.list_namespaced_pod(namespace, field_selector="spec.nope=1"),
                           400, "BadRequest")
    assert "field label not supported: spec.nope" in status["message"]
    status = expect_status(lambda: core.list_namespaced_config_map(namespace, field_selector="spec.nope=1"),
                           400, "BadRequest")
    assert '"spec.nope" is not a known field selector' in status["message"]


def test_resource_version_semantics(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "v"}, "data": {"n": "1"}})
    before = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.patch_namespaced_config_map("v", namespace, {"data": {"n": "2"}})
    exact = core.list_namespaced_config_map(namespace, resource_version=before, resource_version_match="Exact")
    assert exact.metadata.resource_version == before
    assert {c.metadata.name: c.data for c in exact.items}["v"] == {"n": "1"}
    newest = core.list_namespaced_config_map(namespace, resource_version="0")
    assert {c.metadata.name: c.data for c in newest.items}["v"] == {"n": "2"}
    not_older = core.list_namespaced_config_map(namespace, resource_version=before,
                                                resource_version_match="NotOlderThan")
    assert int(not_older.metadata.resource_version) >= int(before)


def test_watch_resumes_without_gaps(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "w"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("w", namespace, {"data": {"a": "2"}})
    core.delete_namespaced_config_map("w", namespace)
    seen = []
    w = kubernetes.watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=start,
                          timeout_seconds=5):
        if event["object"].metadata.name == "w":
            seen.append((event["type"], (event["object"].data or {}).get("a")))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "2")]


def test_watch_live_events_and_selector_transitions(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    seen = []
    w = kubernetes.watch.Watch()

    def writer():
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "s", "labels": {"pick": "yes"}}})
        core.patch_namespaced_config_map("s", namespace, {"metadata": {"labels": {"pick": "no"}}})
        core.patch_namespaced_config_map("s", namespace, {"metadata": {"labels": {"pick": "yes"}}})
    thread = threading.Thread(target=writer)
    thread.start()
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=start,
                          label_selector="pick=yes", timeout_seconds=5):
        seen.append(event["type"])
        if len(seen) == 3:
            w.stop()
    thread.join()
    # Leaving the selection reads as a deletion, coming back as an addition.
    assert seen == ["ADDED", "DELETED", "ADDED"]


def test_watch_without_version_starts_with_current_state(core, namespace):
    _make(core, namespace, 2)
    w = kubernetes.watch.Watch()
    names = set()
    for event in w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=2):
        assert event["type"] == "ADDED"
        names.add(event["object"].metadata.name)
        if {"cm-000", "cm-001"} <= names:
            w.stop()
    assert {"cm-000", "cm-001"} <= names


def test_watch_timeout_ends_the_stream(core, namespace):
    import time
    started = time.monotonic()
    list(kubernetes.watch.Watch().stream(core.list_namespaced_config_map, namespace,
                                         resource_version=core.list_namespaced_config_map(namespace).metadata.resource_version,
                                         timeout_seconds=1))
    assert time.monotonic() - started < 10


def test_watch_bookmarks(api_client, core, namespace):
    from .helpers import raw
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    status, body = raw(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps",
                       query=f"watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=12")
    assert status == 200
    events = [__import__("json").loads(line) for line in body.splitlines() if line.strip()] \
        if isinstance(body, str) else [body]
    assert any(e["type"] == "BOOKMARK" and int(e["object"]["metadata"]["resourceVersion"]) >= int(rv)
               for e in events)


def test_watch_list_with_initial_events(api_client, core, namespace):
    import json
    from .helpers import raw
    _make(core, namespace, 3)
    status, body = raw(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps",
                       query="watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                             "&allowWatchBookmarks=true&timeoutSeconds=2")
    assert status == 200
    events = [json.loads(line) for line in body.splitlines() if line.strip()]
    added = [e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"]
    assert {"cm-000", "cm-001", "cm-002"} <= set(added)
    end = next(i for i, e in enumerate(events) if e["type"] == "BOOKMARK")
    assert events[end]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert all(e["type"] == "ADDED" for e in events[:end])


def test_get_with_resource_version(api_client, core, namespace):
    from .helpers import assert_status, raw
    rv = core.create_namespaced_config_map(namespace, {"metadata": {"name": "g"}}).metadata.resource_version
    path = f"/api/v1/namespaces/{namespace}/configmaps/g"
    for asked in ("0", rv):
        status, body = raw(api_client, "GET", path, query=f"resourceVersion={asked}")
        assert status == 200 and int(body["metadata"]["resourceVersion"]) >= int(rv)
    status, body = raw(api_client, "GET", path, query=f"resourceVersion={int(rv) + 10 ** 9}")
    assert "Too large resource version" in assert_status(status, body, 504, "Timeout")["message"]


def test_watch_with_a_malformed_resource_version_is_refused_before_streaming(api_client, namespace):
    status, body = raw(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps",
                       query="watch=1&resourceVersion=abc")
    assert status == 400 and isinstance(body, dict) and body["kind"] == "Status", body
    # The same client connection goes on serving: urllib3 would open a new one for a closed one.
    pool = api_client.rest_client.pool_manager.connection_from_url(api_client.configuration.host)
    opened = pool.num_connections
    assert raw(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps")[0] == 200
    assert pool.num_connections == opened >= 1
