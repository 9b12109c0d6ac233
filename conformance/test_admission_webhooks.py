"""Dynamic admission as any cluster does it: a webhook (served by the case on 127.0.0.1 over TLS,
so the cluster must be able to reach this machine) mutating and denying ConfigMaps, failurePolicy
with the webhook gone, a slow webhook's timeout, and a ValidatingAdmissionPolicy's denial and
warning. Every configuration takes only the case's own namespace and is deleted afterwards."""
from __future__ import annotations

import json
import time
import uuid

import kubernetes
import pytest

from .helpers import eventually
from .webhook_server import WebhookServer, webhook_configuration


@pytest.fixture
def registration(api_client):
    api = kubernetes.client.AdmissionregistrationV1Api(api_client)
    made = []
    yield api, made
    for delete, name in made:
        delete(name)


@pytest.fixture
def server():
    s = WebhookServer().start()
    yield s
    s.close()


def _create(api_client, core, namespace, name_prefix: str, labels: dict | None = None):
    """A ConfigMap: (the object, None) or (None, the refusal's Status)."""
    try:
        return core.create_namespaced_config_map(namespace, {"metadata": {
            "name": f"{name_prefix}-{uuid.uuid4().hex[:6]}", "labels": labels or {}}}), None
    except kubernetes.client.ApiException as e:
        return None, json.loads(e.body)


def test_webhooks_mutate_and_deny(api_client, core, namespace, server, registration):
    api, made = registration
    m = webhook_configuration("MutatingWebhookConfiguration", f"m-{namespace}", namespace, [
        {"name": "label.example.com", "clientConfig": {"url": server.url("/add-label"), "caBundle": server.ca_bundle}}])
    v = webhook_configuration("ValidatingWebhookConfiguration", f"v-{namespace}", namespace, [
        {"name": "deny.example.com", "objectSelector": {"matchLabels": {"deny": "yes"}},
         "clientConfig": {"url": server.url("/deny"), "caBundle": server.ca_bundle}}])
    api.create_mutating_webhook_configuration(m)
    made.append((api.delete_mutating_webhook_configuration, m["metadata"]["name"]))
    api.create_validating_webhook_configuration(v)
    made.append((api.delete_validating_webhook_configuration, v["metadata"]["name"]))
    created = eventually(lambda: (c := _create(api_client, core, namespace, "m")[0]) is not None and
                         (c.metadata.labels or {}).get("webhook") == "mutated" and c, timeout=15)
    assert created, "the mutating webhook never labelled a ConfigMap"
    denied = eventually(lambda: _create(api_client, core, namespace, "d", {"deny": "yes"})[1], timeout=15)
    assert denied["code"] == 403
    assert denied["message"].startswith('admission webhook "deny.example.com" denied the request: '
                                        "no configmaps named d-")


def test_failure_policy_and_timeout(api_client, core, namespace, server, registration):
    api, made = registration
    v = webhook_configuration("ValidatingWebhookConfiguration", f"f-{namespace}", namespace, [
        {"name": "fail.example.com", "failurePolicy": "Fail", "objectSelector": {"matchLabels": {"p": "fail"}},
         "clientConfig": {"url": server.url("/gone"), "caBundle": server.ca_bundle}},
        {"name": "ignore.example.com", "failurePolicy": "Ignore", "objectSelector": {"matchLabels": {"p": "ignore"}},
         "clientConfig": {"url": server.url("/gone"), "caBundle": server.ca_bundle}},
        {"name": "slow.example.com", "timeoutSeconds": 1, "objectSelector": {"matchLabels": {"p": "slow"}},
         "clientConfig": {"url": server.url("/slow"), "caBundle": server.ca_bundle}}])
    api.create_validating_webhook_configuration(v)
    made.append((api.delete_validating_webhook_configuration, v["metadata"]["name"]))
    server.stop()
    failed = eventually(lambda: _create(api_client, core, namespace, "f", {"p": "fail"})[1], timeout=15)
    assert (failed["code"], failed["reason"]) == (500, "InternalError")
    assert failed["message"].startswith('Internal error occurred: failed calling webhook "fail.example.com": '
                                        f'failed to call webhook: Post "{server.url("/gone")}?timeout=5s": ')
    assert _create(api_client, core, namespace, "i", {"p": "ignore"})[0] is not None
    server.start()
    started = time.monotonic()
    slow = eventually(lambda: _create(api_client, core, namespace, "s", {"p": "slow"})[1], timeout=15)
    assert time.monotonic() - started < 2.9
    assert slow["message"].endswith(f'Post "{server.url("/slow")}?timeout=1s": context deadline exceeded')


def test_validating_admission_policy_denies_and_warns(api_client, core, namespace, kubectl):
    api = kubernetes.client.AdmissionregistrationV1Api(api_client)
    policy, deny, warn = f"p-{namespace}", f"deny-{namespace}", f"warn-{namespace}"
    api.create_validating_admission_policy({"metadata": {"name": policy}, "spec": {
        "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                                "resources": ["configmaps"]}]},
        "validations": [{"expression": "!has(object.metadata.labels) || !('team' in object.metadata.labels) || "
                                       "object.metadata.labels.team != 'none'",
                         "message": "team none is not a team"}]}})
    selector = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
    try:
        api.create_validating_admission_policy_binding({"metadata": {"name": deny}, "spec": {
            "policyName": policy, "validationActions": ["Deny"],
            "matchResources": {**selector, "objectSelector": {"matchLabels": {"mode": "deny"}}}}})
        api.create_validating_admission_policy_binding({"metadata": {"name": warn}, "spec": {
            "policyName": policy, "validationActions": ["Warn"],
            "matchResources": {**selector, "objectSelector": {"matchLabels": {"mode": "warn"}}}}})
        status = eventually(lambda: _create(api_client, core, namespace, "x", {"team": "none", "mode": "deny"})[1],
                            timeout=15)
        assert (status["code"], status["reason"]) == (422, "Invalid")
        assert status["message"].endswith(f"is forbidden: ValidatingAdmissionPolicy '{policy}' with binding '{deny}' "
                                          "denied request: team none is not a team")
        warning = (f"Warning: Validation failed for ValidatingAdmissionPolicy '{policy}' with binding '{warn}': "
                   "team none is not a team")
        assert eventually(lambda: warning in kubectl(
            "-n", namespace, "create", "-f", "-", input=json.dumps({
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                    "name": f"w-{uuid.uuid4().hex[:6]}", "labels": {"team": "none", "mode": "warn"}}})).stderr,
            timeout=15)
    finally:
        for name in (deny, warn):
            try:
                api.delete_validating_admission_policy_binding(name)
            except kubernetes.client.ApiException:
                pass
        api.delete_validating_admission_policy(policy)
