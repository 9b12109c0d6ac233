"""Authentication on servers started with kube's flags: a static token file, anonymous requests
turned off, tokens signed with the data dir's key but expired, early, for another audience or for
objects that are gone, and client certificates minted by `vapi kubeconfig`. (Legacy token Secrets
and CSR signing are conformance cases: they behave the same on any cluster.)"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid

import pytest
import yaml
from cryptography import x509

from conformance.credentials import UNAUTHORIZED, bearer_get, token_kubeconfig, user_info
from conformance.helpers import eventually
from vapi.auth.tokens import Signer
from vapi.testing import ServerProcess, run_kubectl

ISSUER = "https://kubernetes.default.svc.cluster.local"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tokens = tmp_path_factory.mktemp("tokens") / "tokens.csv"
    tokens.write_text('# token,user,uid,"groups"\nstatic-secret,alice,1001,"devs,ops"\nplain-token,bob,1002\n')
    with ServerProcess(extra_args=("--token-auth-file", str(tokens))) as server:
        yield server


@pytest.fixture
def admin(server, tmp_path):
    def run(*args, **kw):
        return run_kubectl(server.kubeconfig, *args, cache_dir=tmp_path / "cache", **kw)
    return run


def test_static_token_file(server, admin, tmp_path):
    user = user_info(admin, token_kubeconfig(server.kubeconfig, tmp_path, "static-secret"))
    assert user == {"username": "alice", "uid": "1001", "groups": ["devs", "ops", "system:authenticated"]}
    bob = user_info(admin, token_kubeconfig(server.kubeconfig, tmp_path, "plain-token"))
    assert bob["groups"] == ["system:authenticated"]


def test_unknown_token_is_401_never_anonymous(server):
    for path in ("/api", "/version", "/healthz", "/apis/apps/v1/deployments"):
        assert bearer_get(server.kubeconfig, "static-secreT", path) == (401, UNAUTHORIZED)
    assert bearer_get(server.kubeconfig, None, "/version")[0] == 200
    # No credentials at all is anonymous, and RBAC grants the anonymous user no namespaces.
    status, body = bearer_get(server.kubeconfig, None, "/api/v1/namespaces")
    assert status == 403
    assert json.loads(body)["message"] == ('namespaces is forbidden: User "system:anonymous" cannot list '
                                           'resource "namespaces" in API group "" at the cluster scope')


def test_token_review_of_a_static_token(admin):
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "static-secret"}}
    status = json.loads(admin("create", "-f", "-", "-o", "json", input=json.dumps(body)).stdout)["status"]
    assert status == {"authenticated": True, "audiences": [ISSUER],
                      "user": {"username": "alice", "uid": "1001", "groups": ["devs", "ops", "system:authenticated"]}}


def test_tokens_out_of_their_time_audience_or_key_get_401(server, admin):
    admin("create", "token", "default")  # the key is made on first use
    signer = Signer(server.data_dir / "pki" / "sa.key")
    account = json.loads(admin("get", "sa", "default", "-o", "json").stdout)
    fresh, _ = signer.bound_token("default", account, [ISSUER], 600)
    assert bearer_get(server.kubeconfig, fresh, "/version")[0] == 200
    expired, _ = signer.bound_token("default", account, [ISSUER], 600, now=time.time() - 3600)
    early, _ = signer.bound_token("default", account, [ISSUER], 600, now=time.time() + 3600)
    wrong_audience, _ = signer.bound_token("default", account, ["vault"], 600)
    replaced = json.loads(json.dumps(account))
    replaced["metadata"]["uid"] = str(uuid.uuid4())
    other_account, _ = signer.bound_token("default", replaced, [ISSUER], 600)
    # Signed by someone else's key: the same claims do not make it ours.
    forged, _ = Signer(server.data_dir / "other.key").bound_token("default", account, [ISSUER], 600)
    for token in (expired, early, wrong_audience, other_account, forged):
        assert bearer_get(server.kubeconfig, token, "/version") == (401, UNAUTHORIZED)


def test_tokens_of_deleted_accounts_and_secrets_get_401(server, admin):
    name = f"r-{uuid.uuid4().hex[:6]}"
    admin("create", "serviceaccount", name)
    admin("create", "secret", "generic", name)
    plain = admin("create", "token", name).stdout.strip()
    bound = admin("create", "token", name, "--bound-object-kind=Secret", f"--bound-object-name={name}").stdout.strip()
    assert bearer_get(server.kubeconfig, bound, "/api")[0] == 200
    admin("delete", "secret", name)
    assert eventually(lambda: bearer_get(server.kubeconfig, bound, "/api") == (401, UNAUTHORIZED), timeout=10)
    assert bearer_get(server.kubeconfig, plain, "/api")[0] == 200
    admin("delete", "sa", name)
    assert eventually(lambda: bearer_get(server.kubeconfig, plain, "/api") == (401, UNAUTHORIZED), timeout=10)


def test_pod_bound_token_names_its_pod(server, admin, tmp_path):
    name = f"p-{uuid.uuid4().hex[:6]}"
    admin("run", name, "--image=nginx")
    uid = json.loads(admin("get", "pod", name, "-o", "json").stdout)["metadata"]["uid"]
    token = admin("create", "token", "default", "--bound-object-kind=Pod", f"--bound-object-name={name}").stdout.strip()
    extra = user_info(admin, token_kubeconfig(server.kubeconfig, tmp_path, token))["extra"]
    assert extra["authentication.kubernetes.io/pod-name"] == [name]
    assert extra["authentication.kubernetes.io/pod-uid"] == [uid]
    assert extra["authentication.kubernetes.io/credential-id"][0].startswith("JTI=")


def test_anonymous_auth_off_answers_401_everywhere():
    with ServerProcess(extra_args=("--anonymous-auth=false",)) as server:
        for path in ("/version", "/healthz", "/readyz", "/api", "/openid/v1/jwks"):
            assert bearer_get(server.kubeconfig, None, path) == (401, UNAUTHORIZED), path
        assert run_kubectl(server.kubeconfig, "get", "ns").returncode == 0


def mint(data_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vapi", "kubeconfig", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60)


def test_vapi_kubeconfig_mints_a_user(server, admin, tmp_path):
    minted = mint(server.data_dir, "--user", "carol", "--group", "qa", "--group", "night-shift", "--expiration", "2h")
    assert minted.returncode == 0, minted.stderr
    path = tmp_path / "carol.yaml"
    path.write_text(minted.stdout)
    assert user_info(admin, path) == {"username": "carol", "groups": ["qa", "night-shift", "system:authenticated"]}
    cert = x509.load_pem_x509_certificate(base64.b64decode(yaml.safe_load(minted.stdout)["users"][0]["user"]
                                                           ["client-certificate-data"]))
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 2 * 3600 <= lifetime.total_seconds() <= 2 * 3600 + 600
    assert mint(server.data_dir, "--user", "x", "--expiration", "soon").returncode == 2
    missing = mint(tmp_path / "none", "--user", "x")
    assert missing.returncode == 1 and "no cluster in" in missing.stderr


def test_expired_client_certificate_is_refused(server, tmp_path):
    minted = mint(server.data_dir, "--user", "dave", "--expiration", "1s")
    config = tmp_path / "dave.yaml"
    config.write_text(minted.stdout)
    time.sleep(2)
    refused = run_kubectl(config, "auth", "whoami", check=False)
    assert refused.returncode != 0
    assert "dave" not in refused.stdout
    # kube's x509 authenticator answers 401, which kubectl words so (not a broken TLS connection).
    assert "You must be logged in to the server (Unauthorized)" in refused.stderr


def test_kubelet_signer_signs_only_node_identities(server):
    """The kubelet client signer vouches for nodes only: a request for another name is Failed."""
    from conformance.test_authn import csr_for

    def kubectl(*args, **kw):
        return run_kubectl(server.kubeconfig, *args, **kw)
    signer = "kubernetes.io/kube-apiserver-client-kubelet"
    csr_for(kubectl, "node-ok", "system:node:n1", ["system:nodes"], signer=signer)
    csr_for(kubectl, "node-bad", "admin", ["system:nodes"], signer=signer)
    kubectl("certificate", "approve", "node-ok", "node-bad")

    def status(name):
        return json.loads(kubectl("get", "csr", name, "-o", "json").stdout).get("status") or {}
    assert eventually(lambda: status("node-ok").get("certificate"))
    failed = eventually(lambda: [c for c in status("node-bad").get("conditions", []) if c["type"] == "Failed"])
    assert failed and failed[0]["reason"] == "SignerValidationFailure"
    assert not status("node-bad").get("certificate")
