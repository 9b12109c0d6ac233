"""Authentication on a real server: static tokens, anonymous requests, expired and revoked
service-account tokens, legacy token Secrets, minted kubeconfigs and approved CSRs."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conformance.test_authn import UNAUTHORIZED, bearer_get, token_kubeconfig
from vapi.auth.tokens import Signer
from vapi.testing import ServerProcess, run_kubectl


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tokens = tmp_path_factory.mktemp("tokens") / "tokens.csv"
    tokens.write_text('static-secret,alice,1001,"devs,ops"\nplain-token,bob,1002\n')
    with ServerProcess(extra_args=("--token-auth-file", str(tokens))) as server:
        yield server


def whoami(config) -> dict:
    return json.loads(run_kubectl(config, "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]


def until(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_static_token_file(server, tmp_path):
    user = whoami(token_kubeconfig(server.kubeconfig, tmp_path, "static-secret"))
    assert user == {"username": "alice", "uid": "1001", "groups": ["devs", "ops", "system:authenticated"]}
    assert whoami(token_kubeconfig(server.kubeconfig, tmp_path, "plain-token"))["groups"] == ["system:authenticated"]
    assert bearer_get(server.kubeconfig, "static-secre", "/api/v1/namespaces") == (401, UNAUTHORIZED)


def test_expired_and_unknown_issuer_tokens_are_401(server):
    signer = Signer(server.data_dir / "pki" / "sa.key")
    account = json.loads(run_kubectl(server.kubeconfig, "get", "sa", "default", "-o", "json").stdout)
    audience = ["https://kubernetes.default.svc.cluster.local"]
    expired, _ = signer.bound_token("default", account, audience, 600, now=time.time() - 3600)
    fresh, _ = signer.bound_token("default", account, audience, 600)
    wrong_audience, _ = signer.bound_token("default", account, ["vault"], 600)
    assert bearer_get(server.kubeconfig, fresh, "/version")[0] == 200
    for token in (expired, wrong_audience):
        assert bearer_get(server.kubeconfig, token, "/version") == (401, UNAUTHORIZED)
    # Signed by someone else's key: the same claims do not make it ours.
    other = Signer(server.data_dir / "other.key")
    forged, _ = other.bound_token("default", account, audience, 600)
    assert bearer_get(server.kubeconfig, forged, "/version") == (401, UNAUTHORIZED)


def test_anonymous_auth_off_answers_401_everywhere(tmp_path):
    with ServerProcess(extra_args=("--anonymous-auth=false",)) as server:
        assert bearer_get(server.kubeconfig, "", "/healthz")[0] == 401
        assert bearer_get(server.kubeconfig, "", "/version") == (401, UNAUTHORIZED)
        assert run_kubectl(server.kubeconfig, "get", "ns").returncode == 0


def test_legacy_token_secret_is_filled_and_revoked_with_its_secret(server, tmp_path):
    config = server.kubeconfig
    run_kubectl(config, "create", "serviceaccount", "legacy")
    run_kubectl(config, "apply", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "legacy-token", "annotations": {"kubernetes.io/service-account.name": "legacy"}}}))

    def filled():
        secret = json.loads(run_kubectl(config, "get", "secret", "legacy-token", "-o", "json").stdout)
        return secret if (secret.get("data") or {}).get("token") else None
    secret = until(filled)
    assert secret, "the tokens controller never filled the secret"
    assert base64.b64decode(secret["data"]["namespace"]) == b"default"
    assert base64.b64decode(secret["data"]["ca.crt"]).startswith(b"-----BEGIN CERTIFICATE-----")
    token = base64.b64decode(secret["data"]["token"]).decode()
    assert whoami(token_kubeconfig(config, tmp_path, token))["username"] == "system:serviceaccount:default:legacy"
    run_kubectl(config, "delete", "secret", "legacy-token")
    assert until(lambda: bearer_get(config, token, "/version")[0] == 401)


def test_vapi_kubeconfig_mints_a_user(server, tmp_path):
    minted = subprocess.run([sys.executable, "-m", "vapi", "kubeconfig", "--data-dir", str(server.data_dir),
                             "--user", "carol", "--group", "qa", "--group", "night-shift", "--expiration", "2h"],
                            capture_output=True, text=True, check=True).stdout
    path = tmp_path / "carol.yaml"
    path.write_text(minted)
    assert whoami(path) == {"username": "carol", "groups": ["qa", "night-shift", "system:authenticated"]}
    cert = x509.load_pem_x509_certificate(base64.b64decode(yaml.safe_load(minted)["users"][0]["user"]
                                                           ["client-certificate-data"]))
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 2 * 3600 <= lifetime.total_seconds() <= 2 * 3600 + 600
    missing = subprocess.run([sys.executable, "-m", "vapi", "kubeconfig", "--data-dir", str(tmp_path / "none"),
                              "--user", "x"], capture_output=True, text=True)
    assert missing.returncode == 1 and "no cluster in" in missing.stderr


def test_approved_csr_is_signed_and_authenticates(server, tmp_path):
    config = server.kubeconfig
    key = ec.generate_private_key(ec.SECP256R1())
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "auditors"),
                                        x509.NameAttribute(NameOID.COMMON_NAME, "dave")]))
               .sign(key, hashes.SHA256()))
    csr = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
           "metadata": {"name": "dave"},
           "spec": {"request": base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode(),
                    "signerName": "kubernetes.io/kube-apiserver-client", "expirationSeconds": 3600,
                    "usages": ["client auth"]}}
    run_kubectl(config, "apply", "-f", "-", input=json.dumps(csr))
    denied = dict(csr, metadata={"name": "eve"})
    run_kubectl(config, "apply", "-f", "-", input=json.dumps(denied))
    run_kubectl(config, "certificate", "approve", "dave")
    run_kubectl(config, "certificate", "deny", "eve")

    def issued(name):
        got = json.loads(run_kubectl(config, "get", "csr", name, "-o", "json").stdout)
        return (got.get("status") or {}).get("certificate")
    pem = until(lambda: issued("dave"))
    assert pem, "the approved CSR was never signed"
    time.sleep(0.3)
    assert not issued("eve")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    from vapi.auth.certs import PKI
    path = tmp_path / "dave.yaml"
    server_url = yaml.safe_load(config.read_text())["clusters"][0]["cluster"]["server"]
    path.write_bytes(PKI(server.data_dir / "pki").kubeconfig(server_url, base64.b64decode(pem), key_pem, "dave"))
    assert whoami(path) == {"username": "dave", "groups": ["auditors", "system:authenticated"]}
