"""What clients that compare bytes see: Status bodies and key order as kube-apiserver writes them."""
from __future__ import annotations

import json
import uuid

from .helpers import raw_bytes, status_bytes


def test_status_bodies_byte_for_byte(api_client, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    raw_bytes(api_client, "POST", path, {"metadata": {"name": "dup"}})
    assert raw_bytes(api_client, "POST", path, {"metadata": {"name": "dup"}}) == (409, status_bytes(
        r'"configmaps \"dup\" already exists"', "AlreadyExists", 409, '{"name":"dup","kind":"configmaps"}'))
    assert raw_bytes(api_client, "GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/nope") == (
        404, status_bytes(r'"deployments.apps \"nope\" not found"', "NotFound", 404,
                          '{"name":"nope","group":"apps","kind":"deployments"}'))


def test_objects_come_in_go_field_order(api_client, namespace):
    name = f"o-{uuid.uuid4().hex[:6]}"
    status, body = raw_bytes(api_client, "POST", f"/api/v1/namespaces/{namespace}/configmaps",
                             {"data": {"b": "2", "a": "1"}, "metadata": {"labels": {"y": "1", "x": "2"}, "name": name}})
    assert status == 201 and body.endswith(b"}\n")
    obj = json.loads(body)
    assert list(obj) == ["kind", "apiVersion", "metadata", "data"]
    assert list(obj["metadata"])[:5] == ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"]
    assert list(obj["metadata"]["labels"]) == ["x", "y"] and list(obj["data"]) == ["a", "b"]
    _, listed = raw_bytes(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps")
    assert list(json.loads(listed)) == ["kind", "apiVersion", "metadata", "items"]


def test_paths_no_route_serves(api_client):
    assert raw_bytes(api_client, "GET", "/api/v1/nothings") == (404, status_bytes(
        '"the server could not find the requested resource"', "NotFound", 404, "{}"))
    assert raw_bytes(api_client, "GET", "/healthz/") == (404, b"404 page not found\n")


def test_too_large_resource_version(api_client, namespace):
    status, body = raw_bytes(api_client, "GET", f"/api/v1/namespaces/{namespace}/configmaps?resourceVersion=999999999")
    current = json.loads(body)["message"].rpartition(" ")[2] if status == 504 else None
    assert (status, body) == (504, status_bytes(
        f'"Timeout: Too large resource version: 999999999, current: {current}"', "Timeout", 504,
        '{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1}'))


def test_version_with_a_trailing_slash(api_client):
    status, body = raw_bytes(api_client, "GET", "/version/")
    assert status == 200 and json.loads(body)["gitVersion"].startswith("v1.")
