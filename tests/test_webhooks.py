"""Admission webhooks against a real webhook server (aiohttp over TLS with its own CA, on
127.0.0.1): what is sent, mutation, denial, failurePolicy with the server down, timeouts, service
references, dry run, matchConditions, and the configurations' own validation."""
from __future__ import annotations

import json
import time
import uuid

import kubernetes
import pytest

from conformance.helpers import eventually, expect_status
from conformance.webhook_server import WebhookServer, webhook_configuration

REG = "admissionregistration.k8s.io"


@pytest.fixture
def webhook():
    server = WebhookServer().start()
    yield server
    server.close()


@pytest.fixture
def registration(api_client):
    """Creates webhook configurations and deletes them after the case."""
    api = kubernetes.client.AdmissionregistrationV1Api(api_client)
    made: list[tuple[str, str]] = []

    def create(kind: str, namespace: str, hooks: list[dict]) -> str:
        name = f"{kind.lower()[:4]}-{uuid.uuid4().hex[:8]}"
        body = webhook_configuration(kind, name, namespace, hooks)
        if kind == "MutatingWebhookConfiguration":
            api.create_mutating_webhook_configuration(body)
        else:
            api.create_validating_webhook_configuration(body)
        made.append((kind, name))
        return name
    create.api = api
    yield create
    for kind, name in made:
        delete = api.delete_mutating_webhook_configuration if kind == "MutatingWebhookConfiguration" \
            else api.delete_validating_webhook_configuration
        try:
            delete(name)
        except kubernetes.client.ApiException as e:
            if e.status != 404:
                raise


def cm(name: str, labels: dict | None = None) -> dict:
    return {"metadata": {"name": name, "labels": labels or {}}, "data": {"k": "v"}}


def first_refusal(core, namespace: str, labels: dict, code: int) -> dict:
    """Creates ConfigMaps until one is refused with `code` (the configuration just written takes a
    moment to reach the admission plugins' cache); the refusal's Status."""
    def attempt():
        name = f"probe-{uuid.uuid4().hex[:6]}"
        try:
            core.create_namespaced_config_map(namespace, cm(name, labels))
        except kubernetes.client.ApiException as e:
            if e.status == code:
                return e
            raise
        return None
    err = eventually(attempt, timeout=10)
    assert err is not None, "the webhook never took effect"
    return json.loads(err.body)


def test_mutating_webhook_patches_and_sees_the_whole_request(core, namespace, webhook, registration):
    registration("MutatingWebhookConfiguration", namespace,
                 [{"name": "label.example.com", "clientConfig": {"url": webhook.url("/add-label"),
                                                                 "caBundle": webhook.ca_bundle}}])
    assert eventually(lambda: (core.create_namespaced_config_map(namespace, cm(f"p-{uuid.uuid4().hex[:6]}"))
                               .metadata.labels or {}).get("webhook") == "mutated", timeout=10)
    created = core.create_namespaced_config_map(namespace, cm("one", {"app": "x"}))
    assert created.metadata.labels == {"app": "x", "webhook": "mutated"}
    assert core.read_namespaced_config_map("one", namespace).metadata.labels == {"app": "x", "webhook": "mutated"}
    review = webhook.reviews[-1]
    assert review["apiVersion"] == "admission.k8s.io/v1" and review["kind"] == "AdmissionReview"
    request = review["request"]
    uuid.UUID(request["uid"])
    assert request["kind"] == {"group": "", "version": "v1", "kind": "ConfigMap"}
    assert request["resource"] == {"group": "", "version": "v1", "resource": "configmaps"}
    assert request["requestKind"] == request["kind"] and "subResource" not in request
    assert (request["name"], request["namespace"], request["operation"]) == ("one", namespace, "CREATE")
    assert request["userInfo"]["username"] and request["dryRun"] is False
    assert request["object"]["data"] == {"k": "v"} and request["oldObject"] is None
    assert request["options"] == {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
    # An update sends the old object too, and the label is put back if a client takes it off.
    updated = core.patch_namespaced_config_map("one", namespace, {"metadata": {"labels": {"webhook": None}}})
    assert updated.metadata.labels["webhook"] == "mutated"
    request = webhook.reviews[-1]["request"]
    assert request["operation"] == "UPDATE" and request["oldObject"]["metadata"]["labels"]["webhook"] == "mutated"
    assert request["options"]["kind"] == "UpdateOptions"


def test_validating_webhook_denies_in_its_words(core, namespace, webhook, registration, kubectl):
    registration("ValidatingWebhookConfiguration", namespace,
                 [{"name": "deny.example.com", "clientConfig": {"url": webhook.url("/deny"), "caBundle": webhook.ca_bundle},
                   "objectSelector": {"matchLabels": {"deny": "yes"}}}])
    status = first_refusal(core, namespace, {"deny": "yes"}, 403)
    assert status["message"].startswith('admission webhook "deny.example.com" denied the request: no configmaps named probe-')
    assert status["code"] == 403
    core.create_namespaced_config_map(namespace, cm("fine"))  # not selected
    out = kubectl("-n", namespace, "label", "configmap", "fine", "deny=yes", check=False)
    assert out.returncode != 0
    assert 'admission webhook "deny.example.com" denied the request: no configmaps named fine here' in out.stderr
    assert "deny" not in (core.read_namespaced_config_map("fine", namespace).metadata.labels or {})


def test_failure_policy_with_the_server_down(core, namespace, webhook, registration):
    webhook.stop()
    url = webhook.url("/deny")
    registration("ValidatingWebhookConfiguration", namespace, [
        {"name": "fail.example.com", "failurePolicy": "Fail", "objectSelector": {"matchLabels": {"policy": "fail"}},
         "clientConfig": {"url": url, "caBundle": webhook.ca_bundle}},
        {"name": "ignore.example.com", "failurePolicy": "Ignore", "objectSelector": {"matchLabels": {"policy": "ignore"}},
         "clientConfig": {"url": url, "caBundle": webhook.ca_bundle}}])
    status = first_refusal(core, namespace, {"policy": "fail"}, 500)
    message = ('failed calling webhook "fail.example.com": failed to call webhook: '
               f'Post "{url}?timeout=5s": dial tcp 127.0.0.1:{webhook.port}: connect: connection refused')
    assert status["reason"] == "InternalError"
    assert status["message"] == f"Internal error occurred: {message}"
    assert status["details"] == {"causes": [{"message": message}]}
    created = core.create_namespaced_config_map(namespace, cm("ignored", {"policy": "ignore"}))
    assert created.metadata.name == "ignored"


def test_slow_webhook_hits_its_timeout(core, namespace, webhook, registration):
    registration("ValidatingWebhookConfiguration", namespace,
                 [{"name": "slow.example.com", "timeoutSeconds": 1,
                   "clientConfig": {"url": webhook.url("/slow"), "caBundle": webhook.ca_bundle}}])
    started = time.monotonic()
    status = first_refusal(core, namespace, {}, 500)
    assert time.monotonic() - started < 2.9
    assert status["message"] == ('Internal error occurred: failed calling webhook "slow.example.com": failed to '
                                 f'call webhook: Post "{webhook.url("/slow")}?timeout=1s": context deadline exceeded')


def test_untrusted_certificate_fails_the_call(core, namespace, webhook, registration):
    registration("ValidatingWebhookConfiguration", namespace,
                 [{"name": "untrusted.example.com", "clientConfig": {"url": webhook.url("/allow-warn")}}])
    status = first_refusal(core, namespace, {}, 500)
    assert status["message"].endswith(": tls: failed to verify certificate: x509: certificate signed by unknown "
                                      "authority")


def test_service_reference_through_endpoints(core, namespace, registration):
    server = WebhookServer(hostnames=(f"hook.{namespace}.svc",)).start()
    try:
        core.create_namespaced_service(namespace, {"metadata": {"name": "hook"},
                                                   "spec": {"ports": [{"name": "https", "port": 443}]}})
        core.create_namespaced_endpoints(namespace, {"metadata": {"name": "hook"}, "subsets": [
            {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": server.port}]}]})
        registration("MutatingWebhookConfiguration", namespace, [{
            "name": "svc.example.com", "clientConfig": {
                "service": {"namespace": namespace, "name": "hook", "path": "/add-label"}, "caBundle": server.ca_bundle}}])
        assert eventually(lambda: (core.create_namespaced_config_map(namespace, cm(f"s-{uuid.uuid4().hex[:6]}"))
                                   .metadata.labels or {}).get("webhook") == "mutated", timeout=10)
    finally:
        server.close()


def test_warnings_match_conditions_and_dry_run(core, namespace, webhook, registration, kubectl):
    registration("ValidatingWebhookConfiguration", namespace, [
        {"name": "warn.example.com", "sideEffects": "NoneOnDryRun",
         "matchConditions": [{"name": "not-skipped", "expression": "!has(object.metadata.labels) || "
                                                                   "!('skip' in object.metadata.labels)"}],
         "clientConfig": {"url": webhook.url("/allow-warn"), "caBundle": webhook.ca_bundle}}])
    assert eventually(lambda: "looked at by the webhook" in kubectl(
        "-n", namespace, "create", "configmap", f"w-{uuid.uuid4().hex[:6]}").stderr, timeout=10)
    seen = len(webhook.reviews)
    core.create_namespaced_config_map(namespace, cm("skipped", {"skip": "1"}))
    assert len(webhook.reviews) == seen
    out = kubectl("-n", namespace, "create", "configmap", "dry", "--dry-run=server")
    assert "looked at by the webhook" in out.stderr
    assert webhook.reviews[-1]["request"]["dryRun"] is True
    assert webhook.reviews[-1]["request"]["options"]["dryRun"] == ["All"]


def test_configurations_are_checked_and_never_sent_to_webhooks(api_client, namespace, webhook, registration):
    api = registration.api
    body = webhook_configuration("ValidatingWebhookConfiguration", "bad-cel", namespace, [{
        "name": "x.example.com", "clientConfig": {"url": webhook.url("/deny")},
        "matchConditions": [{"name": "broken", "expression": "object.metadata.name == "}]}])
    status = expect_status(lambda: api.create_validating_webhook_configuration(body), 422, "Invalid")
    assert status["message"].startswith('ValidatingWebhookConfiguration.admissionregistration.k8s.io "bad-cel" is '
                                        'invalid: webhooks[0].matchConditions[0].expression: Invalid value: '
                                        '"object.metadata.name == ": compilation failed: ERROR: <input>:1:')
    body = webhook_configuration("ValidatingWebhookConfiguration", "bad-effects", namespace, [{
        "name": "x.example.com", "clientConfig": {"url": webhook.url("/deny")}, "sideEffects": "Some",
        "timeoutSeconds": 31}])
    status = expect_status(lambda: api.create_validating_webhook_configuration(body), 422, "Invalid")
    assert 'webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"' \
        in status["message"]
    assert "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds" \
        in status["message"]
    # A webhook denying every change to webhook configurations is never asked about them.
    registration("ValidatingWebhookConfiguration", namespace, [{
        "name": "deny-all.example.com", "clientConfig": {"url": webhook.url("/deny"), "caBundle": webhook.ca_bundle},
        "namespaceSelector": {},
        "rules": [{"operations": ["*"], "apiGroups": [REG], "apiVersions": ["*"], "resources": ["*"]}]}])
    name = registration("ValidatingWebhookConfiguration", namespace, [{
        "name": "other.example.com", "clientConfig": {"url": webhook.url("/deny"), "caBundle": webhook.ca_bundle}}])
    api.delete_validating_webhook_configuration(name)
    time.sleep(0.5)
    assert not [r for r in webhook.reviews if r["request"]["resource"]["group"] == REG]


def test_reinvocation_if_needed(core, namespace, webhook, registration):
    """Configurations run by name: the first webhook (IfNeeded) is asked again once the second changed
    the object; a webhook with the default policy (Never) is not."""
    api = registration.api
    names = [f"a-{namespace}", f"b-{namespace}", f"c-{namespace}"]
    paths = [("/allow-warn", "IfNeeded"), ("/add-label", "Never"), ("/allow-warn", "Never")]
    for name, (path, policy) in zip(names, paths):
        body = webhook_configuration("MutatingWebhookConfiguration", name, namespace, [{
            "name": f"{name}.example.com", "reinvocationPolicy": policy,
            "clientConfig": {"url": webhook.url(path), "caBundle": webhook.ca_bundle}}])
        api.create_mutating_webhook_configuration(body)
    try:
        assert eventually(lambda: (core.create_namespaced_config_map(namespace, cm(f"p-{uuid.uuid4().hex[:6]}"))
                                   .metadata.labels or {}).get("webhook") == "mutated", timeout=10)
        time.sleep(0.3)  # let every configuration reach the cache
        webhook.reviews.clear()
        core.create_namespaced_config_map(namespace, cm("r"))
        calls = [(r["request"]["object"]["metadata"].get("labels") or {}).get("webhook") for r in webhook.reviews]
        assert calls == [None, None, "mutated", "mutated"]  # a, b, c, then a again
    finally:
        for name in names:
            api.delete_mutating_webhook_configuration(name)
