"""The audit log of a real `vapi serve`: audit.k8s.io/v1 Events chosen by a policy file, written for
kubectl's writes, a refusal, an unauthenticated request and a watch; rotated by size."""
from __future__ import annotations

import json
import re
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from vapi.testing import ServerProcess, kubectl_path, run_kubectl

POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["Panic"]
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/version", "/openapi/*", "/api", "/apis*"]
- level: None
  resources: [{group: "", resources: ["events"]}]
- level: RequestResponse
  omitManagedFields: true
  omitStages: ["RequestReceived"]
  resources: [{group: "", resources: ["configmaps"]}]
- level: Request
  verbs: ["create", "update", "patch"]
  resources: [{group: "apps", resources: ["deployments", "deployments/scale"]}]
- level: Metadata
"""

EVENT_FIELDS = {"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user", "impersonatedUser",
                "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject", "responseObject",
                "requestReceivedTimestamp", "stageTimestamp", "annotations"}
REQUIRED = {"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
            "requestReceivedTimestamp", "stageTimestamp"}
OBJECT_REF_FIELDS = {"resource", "namespace", "name", "uid", "apiGroup", "apiVersion", "resourceVersion",
                     "subresource"}
MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def valid_event(event: dict) -> dict:
    """The shape of audit.k8s.io/v1 Event, field by field."""
    assert set(event) <= EVENT_FIELDS, set(event) - EVENT_FIELDS
    assert REQUIRED <= set(event), REQUIRED - set(event)
    assert (event["kind"], event["apiVersion"]) == ("Event", "audit.k8s.io/v1")
    assert event["level"] in ("Metadata", "Request", "RequestResponse")
    assert event["stage"] in ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")
    assert set(event["user"]) <= {"username", "uid", "groups", "extra"} and event["user"]["username"]
    assert MICROS.match(event["requestReceivedTimestamp"]) and MICROS.match(event["stageTimestamp"])
    assert event["stageTimestamp"] >= event["requestReceivedTimestamp"]
    assert set(event.get("objectRef", {})) <= OBJECT_REF_FIELDS
    if "responseStatus" in event:
        assert set(event["responseStatus"]) <= {"metadata", "status", "message", "reason", "details", "code"}
        assert event["responseStatus"]["metadata"] == {}
    assert all(isinstance(v, str) for v in event.get("annotations", {}).values())
    return event


def read_events(path, wait_for=None, timeout=5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        events = [valid_event(json.loads(line)) for line in path.read_text().splitlines()]
        if wait_for is None or any(wait_for(e) for e in events) or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    (root / "policy.yaml").write_text(POLICY)
    log = root / "audit.log"
    server = ServerProcess(root / "data", extra_args=("--audit-policy-file", str(root / "policy.yaml"),
                                                      "--audit-log-path", str(log))).start()
    yield server, log
    server.cleanup()


def test_kubectl_writes_are_audited_at_their_rules_level(audited):
    server, log = audited
    run_kubectl(server.kubeconfig, "create", "configmap", "audited", "--from-literal=k=v")
    run_kubectl(server.kubeconfig, "create", "deployment", "web", "--image=nginx")
    run_kubectl(server.kubeconfig, "scale", "deployment", "web", "--replicas=2")
    events = read_events(log, lambda e: e["verb"] == "patch" and e.get("objectRef", {}).get("subresource"))
    created = [e for e in events if e["verb"] == "create" and e["objectRef"]["resource"] == "configmaps"]
    assert [e["stage"] for e in created] == ["ResponseComplete"]  # RequestReceived omitted by the policy
    cm = created[0]
    assert cm["level"] == "RequestResponse"
    assert cm["objectRef"] == {"resource": "configmaps", "namespace": "default", "name": "audited",
                               "apiVersion": "v1"}
    assert cm["responseStatus"] == {"metadata": {}, "code": 201}
    assert cm["requestObject"]["data"] == {"k": "v"}
    assert cm["responseObject"]["metadata"]["name"] == "audited"
    assert "managedFields" not in cm["responseObject"]["metadata"]
    assert cm["user"]["username"] == "kubernetes-admin" and "system:masters" in cm["user"]["groups"]
    assert cm["userAgent"].startswith("kubectl/") and cm["sourceIPs"] == ["127.0.0.1"]
    assert cm["annotations"]["authorization.k8s.io/decision"] == "allow"
    done = [e for e in events if e["stage"] == "ResponseComplete"]
    deploy = [e for e in done if e["verb"] == "create" and e["objectRef"]["resource"] == "deployments"][0]
    assert deploy["level"] == "Request" and "requestObject" in deploy and "responseObject" not in deploy
    assert deploy["objectRef"]["apiGroup"] == "apps"
    scale = [e for e in done if e.get("objectRef", {}).get("subresource") == "scale"][0]
    assert scale["level"] == "Request" and scale["requestObject"]["spec"]["replicas"] == 2
    # Reads fall to the last rule: Metadata, with every stage.
    gets = [e for e in events if e["verb"] == "get" and e["objectRef"]["resource"] == "deployments"]
    assert gets and all(e["level"] == "Metadata" and "requestObject" not in e for e in gets)
    assert {e["stage"] for e in gets} == {"RequestReceived", "ResponseComplete"}
    assert not [e for e in events if e["requestURI"].startswith(("/version", "/openapi", "/api?"))]


def test_audit_id_answers_match_the_log(audited):
    server, log = audited
    proc = run_kubectl(server.kubeconfig, "get", "configmap", "audited", "-v=8")  # RequestReceived omitted
    ids = re.findall(r"Audit-Id: ([0-9a-f-]{36})", proc.stderr, re.I)
    assert ids
    events = read_events(log, lambda e: e["auditID"] == ids[-1])
    assert [e["stage"] for e in events if e["auditID"] == ids[-1]] == ["ResponseComplete"]


def test_a_refusal_and_an_unauthenticated_request(audited):
    server, log = audited
    proc = run_kubectl(server.kubeconfig, "delete", "namespace", "kube-system", check=False)
    assert "Forbidden" in proc.stderr
    context = ssl.create_default_context(cafile=str(server.data_dir / "pki" / "ca.crt"))
    # A bad token is refused with 401 (a request without any credential is RBAC's anonymous 403).
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(f"https://127.0.0.1:{server.port}/api/v1/secrets",
                                                      headers={"Authorization": "Bearer not-a-token"}),
                               context=context, timeout=10)
    assert refused.value.code == 401
    audit_id = refused.value.headers["Audit-Id"]
    events = read_events(log, lambda e: e["auditID"] == audit_id)
    deleted = [e for e in events if e["verb"] == "delete" and e["objectRef"].get("name") == "kube-system"
               and e["stage"] == "ResponseComplete"][0]
    assert deleted["responseStatus"] == {
        "metadata": {}, "status": "Failure", "reason": "Forbidden", "code": 403,
        "message": 'namespaces "kube-system" is forbidden: this namespace may not be deleted',
        "details": {"name": "kube-system", "kind": "namespaces"}}
    unauthenticated = [e for e in events if e["auditID"] == audit_id]
    assert [e["stage"] for e in unauthenticated] == ["ResponseComplete"]
    assert unauthenticated[0]["user"]["username"] == "system:anonymous"
    assert unauthenticated[0]["responseStatus"]["code"] == 401
    assert unauthenticated[0]["responseStatus"]["reason"] == "Unauthorized"


def test_a_watch_is_audited_when_it_starts_and_when_it_ends(audited):
    server, log = audited
    watch = subprocess.Popen([kubectl_path(), f"--kubeconfig={server.kubeconfig}", "get", "configmaps", "--watch",
                              "--output-watch-events", "-o", "name"], stdout=subprocess.PIPE, text=True)
    try:
        watch.stdout.readline()
        events = read_events(log, lambda e: e["verb"] == "watch" and e["stage"] == "ResponseStarted")
        started = [e for e in events if e["verb"] == "watch" and e["stage"] == "ResponseStarted"][0]
        assert started["responseStatus"] == {"metadata": {}, "code": 200}
    finally:
        watch.terminate()
        watch.wait()
    events = read_events(log, lambda e: e["auditID"] == started["auditID"] and e["stage"] == "ResponseComplete")
    stages = [e["stage"] for e in events if e["auditID"] == started["auditID"]]
    assert stages == ["ResponseStarted", "ResponseComplete"]  # configmaps' rule omits RequestReceived


def test_the_log_rotates_by_size_and_keeps_its_backups(tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    log = tmp_path / "logs" / "audit.log"
    log.parent.mkdir()
    with ServerProcess(tmp_path / "data", extra_args=(
            "--audit-policy-file", str(tmp_path / "policy.yaml"), "--audit-log-path", str(log),
            "--audit-log-maxsize", "1", "--audit-log-maxbackup", "2")) as server:
        (tmp_path / "k").write_text("x" * 400_000)
        for i in range(8):  # each create writes its body twice (request and response) into one event
            run_kubectl(server.kubeconfig, "create", "configmap", f"big{i}", f"--from-file={tmp_path / 'k'}")
        time.sleep(0.5)
    files = sorted(p.name for p in log.parent.iterdir())
    assert "audit.log" in files and len(files) == 3, files
    for path in log.parent.iterdir():
        assert path.stat().st_size <= 1024 * 1024
        for line in path.read_text().splitlines():
            valid_event(json.loads(line))


def test_events_can_go_to_standard_output(tmp_path):
    (tmp_path / "policy.yaml").write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n")
    server = ServerProcess(tmp_path / "data", extra_args=("--audit-policy-file", str(tmp_path / "policy.yaml"),
                                                          "--audit-log-path", "-")).start()
    try:
        run_kubectl(server.kubeconfig, "create", "configmap", "to-stdout")
    finally:
        server.stop()
        rest = server.output
    lines = [valid_event(json.loads(line)) for line in rest if line.startswith('{"kind":"Event"')]
    created = [e for e in lines if e["verb"] == "create" and e["stage"] == "ResponseComplete"
               and e["objectRef"].get("name") == "to-stdout"][0]
    assert created["responseObject"]["metadata"]["uid"] and created["responseObject"]["kind"] == "ConfigMap"
    assert created["requestObject"]["metadata"]["name"] == "to-stdout"


def test_an_impersonated_request_names_both_users(audited):
    server, log = audited
    proc = run_kubectl(server.kubeconfig, "get", "secrets", "-n", "default", "--as=jane", "--as-group=devs",
                       check=False)
    assert "forbidden" in proc.stderr
    events = read_events(log, lambda e: e.get("impersonatedUser", {}).get("username") == "jane"
                         and e["stage"] == "ResponseComplete")
    event = [e for e in events if e.get("impersonatedUser", {}).get("username") == "jane"
             and e["stage"] == "ResponseComplete" and e["verb"] == "list"][0]
    assert event["user"]["username"] == "kubernetes-admin"
    assert event["impersonatedUser"] == {"username": "jane", "groups": ["devs", "system:authenticated"]}
    assert event["responseStatus"]["code"] == 403
    assert event["annotations"]["authorization.k8s.io/decision"] == "forbid"
