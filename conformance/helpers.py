"""Small helpers the conformance cases share: raw requests and Status assertions."""
from __future__ import annotations

import json
import time

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


def raw_bytes(api_client, method: str, path: str, body: dict | None = None,
              accept: str = "application/json") -> tuple[int, bytes]:
    """(status, body bytes) of one request with the client's credentials, nothing decoded."""
    cfg = api_client.configuration
    headers = {"Accept": accept}
    if body is not None:
        headers["Content-Type"] = "application/json"
    auth = cfg.auth_settings().get("BearerToken")
    if auth:
        headers["Authorization"] = auth["value"]
    resp = api_client.rest_client.pool_manager.request(method, cfg.host + path, headers=headers, timeout=30,
                                                       body=json.dumps(body) if body is not None else None)
    return resp.status, resp.data


def status_bytes(message: str, reason: str, code: int, details: str = "") -> bytes:
    """A failure Status as kube-apiserver writes it; `message` and `details` as JSON text."""
    details = f',"details":{details}' if details else ""
    return (f'{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":{message},'
            f'"reason":"{reason}"{details},"code":{code}}}\n').encode()


def billion_laughs(name: str = "lol") -> str:
    """A ConfigMap whose ~600 bytes of nested YAML aliases stand for 9^9 strings (CVE-2019-11253)."""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{a: x}}\nx:\n" + "".join(
        f"  {level}: &{level} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
        for prev, level in zip([""] + list("abcdefgh"), "abcdefghi"))


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


def eventually(check, timeout: float = 30.0):
    """Poll `check()` until it answers something true or the time is up; its last answer."""
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value
