"""What kube-apiserver makes of odd but well-formed requests: nulls in maps, list options that do
not go together, revisions below zero, watches ahead of the store, and the Audit-Id it puts on
every answer."""
from __future__ import annotations

import json
import re
import threading
import time

import pytest

from .helpers import assert_status, raw


def test_nulls_in_maps_of_strings_are_empty_strings(api_client, namespace):
    status, body = raw(api_client, "POST", f"/api/v1/namespaces/{namespace}/configmaps", json.dumps({
        "metadata": {"name": "nulls", "labels": {"a": None}, "annotations": {"b": None}}, "data": {"c": None}}))
    assert status == 201, body
    assert (body["metadata"]["labels"], body["metadata"]["annotations"], body["data"]) == ({"a": ""}, {"b": ""},
                                                                                           {"c": ""})
    status, body = raw(api_client, "POST", f"/api/v1/namespaces/{namespace}/secrets", json.dumps({
        "metadata": {"name": "nulls"}, "data": {"d": None}, "stringData": {"e": None}}))
    assert status == 201, body
    assert body["data"] == {"d": "", "e": ""}


@pytest.mark.parametrize("query,message", [
    ("resourceVersion=1&resourceVersionMatch=Bogus",
     'resourceVersionMatch: Unsupported value: "Bogus": supported values: "Exact", "NotOlderThan", ""'),
    ("resourceVersionMatch=NotOlderThan",
     "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"),
    ("resourceVersion=0&resourceVersionMatch=Exact",
     'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
    ("watch=1&resourceVersionMatch=NotOlderThan",
     "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
     "provided"),
])
def test_list_options_that_do_not_go_together(api_client, namespace, query, message):
    status, body = raw(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps", query=query)
    assert_status(status, body, 422, "Invalid")
    assert body["message"] == f'ListOptions.meta.k8s.io "" is invalid: {message}'
    assert body["details"]["group"] == "meta.k8s.io" and body["details"]["kind"] == "ListOptions"


def test_a_controller_revision_below_zero_is_invalid(api_client, namespace):
    status, body = raw(api_client, "POST", f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions",
                       json.dumps({"metadata": {"name": "r"}, "data": {"a": 1}, "revision": -1}))
    assert_status(status, body, 422, "Invalid")
    assert body["message"] == ('ControllerRevision.apps "r" is invalid: revision: Invalid value: -1: must be greater '
                               'than or equal to 0')
    assert raw(api_client, "GET", f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions/r")[0] == 404


def test_a_watch_ahead_of_the_store_waits_for_it(api_client, namespace):
    """kube answers a get or list ahead of the store with 504, but a watch waits until then.
    (Revisions are the whole cluster's: controllers and heartbeats write too, so the test reads
    the revision each of its writes got rather than counting on its writes being the only ones.)"""
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    status, probe = raw(api_client, "POST", path, json.dumps({"metadata": {"name": "probe"}}))
    ahead = int(probe["metadata"]["resourceVersion"]) + 50
    status, body = raw(api_client, "GET", path, query=f"resourceVersion={ahead}")
    assert_status(status, body, 504, "Timeout")
    assert body["message"].startswith(f"Timeout: Too large resource version: {ahead}, current: ")
    cfg = api_client.configuration
    seen: list[dict] = []

    def watch():
        resp = api_client.rest_client.pool_manager.request(
            "GET", f"{cfg.host}{path}?watch=1&resourceVersion={ahead}&timeoutSeconds=5", preload_content=False,
            timeout=20)
        assert resp.status == 200
        for line in resp.stream():
            seen.extend(json.loads(part) for part in line.decode().splitlines() if part.strip())
    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(1)
    written = []
    while not written or written[-1][1] <= ahead + 2:
        _, made = raw(api_client, "POST", path, json.dumps({"metadata": {"name": f"w{len(written)}"}}))
        written.append((made["metadata"]["name"], int(made["metadata"]["resourceVersion"])))
    watcher.join()
    names = [e["object"]["metadata"]["name"] for e in seen if e["type"] == "ADDED"]
    # Only what came after the revision asked for: never an earlier write, always the later ones.
    assert names == [name for name, rv in written if rv > ahead], (names, written, ahead)


def test_every_answer_carries_an_audit_id(api_client, namespace):
    cfg = api_client.configuration
    for path in (f"/api/v1/namespaces/{namespace}/configmaps", "/api/v1/namespaces/nope/configmaps/x", "/version"):
        resp = api_client.rest_client.pool_manager.request("GET", cfg.host + path, timeout=10)
        assert re.fullmatch(r"[0-9a-f-]{36}", resp.headers.get("Audit-Id", "")), (path, dict(resp.headers))
