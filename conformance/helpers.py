"""Small helpers the conformance cases share: raw requests and Status assertions."""
from __future__ import annotations

import json

import kubernetes
import pytest


def raw(api_client, method: str, path: str, body: bytes | str | None = None,
        content_type: str = "application/json", headers: dict | None = None, query: str = ""):
    """One request with the client's credentials, its body sent untouched; returns (status, parsed or text)."""
    cfg = api_client.configuration
    hdrs = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        hdrs["Content-Type"] = content_type
    auth = cfg.auth_settings().get("BearerToken")
    if auth:
        hdrs["Authorization"] = auth["value"]
    url = cfg.host + path + (("?" + query) if query else "")
    resp = api_client.rest_client.pool_manager.request(method, url, body=body, headers=hdrs,
                                                       preload_content=True, timeout=30)
    text = resp.data.decode()
    try:
        return resp.status, json.loads(text)
    except ValueError:
        return resp.status, text


def expect_status(call, code: int, reason: str):
    """Run `call`; it must fail with that HTTP code and Status reason. Returns the Status."""
    with pytest.raises(kubernetes.client.ApiException) as info:
        call()
    err = info.value
    assert err.status == code, err.body
    status = json.loads(err.body)
    assert status["kind"] == "Status" and status["reason"] == reason, status
    assert status["code"] == code
    return status


def assert_status(status: int, body, code: int, reason: str) -> dict:
    assert status == code, body
    assert isinstance(body, dict) and body.get("kind") == "Status", body
    assert body["reason"] == reason and body["code"] == code, body
    return body
