"""The checks `make fuzz` adds to schemathesis' own, loaded through SCHEMATHESIS_HOOKS.

kube-apiserver answers every failure of an API request with a Kubernetes Status (kind Status,
status Failure, the HTTP code repeated in `code`), and no request, however malformed, earns a 5xx
other than 501 for what is not built yet.
"""
from __future__ import annotations

import json

import schemathesis


@schemathesis.check
def no_server_error_but_501(ctx, response, case) -> None:
    if response.status_code >= 500 and response.status_code != 501:
        raise AssertionError(f"{response.status_code} answer: {response.text[:500]}")


@schemathesis.check
def errors_are_kubernetes_status(ctx, response, case) -> None:
    if response.status_code < 400 or response.status_code == 404 and not case.path.startswith(("/api", "/apis")):
        return
    try:
        body = json.loads(response.text)
    except ValueError:
        raise AssertionError(f"{response.status_code} answer is not JSON: {response.text[:300]!r}") from None
    if not isinstance(body, dict) or body.get("kind") != "Status" or body.get("apiVersion") != "v1" \
            or body.get("status") != "Failure" or body.get("code") != response.status_code \
            or not isinstance(body.get("message"), str):
        raise AssertionError(f"{response.status_code} answer is not a failure Status: {response.text[:300]}")
