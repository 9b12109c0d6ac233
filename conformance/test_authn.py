"""Authentication as a client sees it: service-account tokens from `kubectl create token`
authenticate back as their service account, bad or revoked tokens get 401, and the issuer's keys
are published for others to verify tokens with."""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

import pytest

from .credentials import (UNAUTHORIZED, bearer_get, claims, token_kubeconfig, user_info, user_kubeconfig,
                          whoami)
from .helpers import eventually, raw


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_create_token_authenticates_as_the_service_account(kubectl, namespace, tmp_path, kubeconfig, version):
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    token = kubectl("create", "token", "robot", "-n", namespace, "--audience=https://kubernetes.default.svc.cluster.local",
                    "--duration=20m", version=version).stdout.strip()
    said = claims(token)
    assert said["sub"] == f"system:serviceaccount:{namespace}:robot"
    assert said["exp"] - said["iat"] == 1200
    assert said["kubernetes.io"]["namespace"] == namespace
    answer = whoami(kubectl, token_kubeconfig(kubeconfig, tmp_path, token))
    assert answer.returncode == 0, answer.stderr
    user = json.loads(answer.stdout)["status"]["userInfo"]
    assert user["username"] == f"system:serviceaccount:{namespace}:robot"
    assert user["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]


def test_pod_bound_token_stops_working_once_the_pod_is_gone(kubectl, namespace, tmp_path, kubeconfig):
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    kubectl("run", "holder", "--image=nginx", "--overrides",
            '{"spec":{"serviceAccountName":"robot"}}', "-n", namespace)
    token = kubectl("create", "token", "robot", "-n", namespace, "--bound-object-kind=Pod",
                    "--bound-object-name=holder").stdout.strip()
    config = token_kubeconfig(kubeconfig, tmp_path, token)
    extra = json.loads(whoami(kubectl, config).stdout)["status"]["userInfo"]["extra"]
    assert extra["authentication.kubernetes.io/pod-name"] == ["holder"]
    kubectl("delete", "pod", "holder", "-n", namespace, "--grace-period=0", "--force", "--wait=true")
    refused = whoami(kubectl, config)
    assert refused.returncode != 0
    assert "Unauthorized" in refused.stderr


def test_token_request_refusals(kubectl, namespace):
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    short = kubectl("create", "token", "robot", "-n", namespace, "--duration=5m", check=False)
    assert ('TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: Invalid value: 300: '
            "may not specify a duration less than 10 minutes") in short.stderr
    missing = kubectl("create", "token", "nobody", "-n", namespace, check=False)
    assert 'serviceaccounts "nobody" not found' in missing.stderr
    unbound = kubectl("create", "token", "robot", "-n", namespace, "--bound-object-kind=Pod",
                      "--bound-object-name=absent", check=False)
    assert 'pods "absent" not found' in unbound.stderr


def test_bad_tokens_get_401_and_learn_nothing(kubectl, kubeconfig):
    header, payload, signature = kubectl("create", "token", "default", "-n", "default").stdout.strip().split(".")
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(b'x' * 256).rstrip(b'=').decode()}"
    emptied = f"{header}.{base64.urlsafe_b64encode(b'{}').rstrip(b'=').decode()}.{signature}"
    for token in ("garbage", "a.b.c", forged, emptied):
        assert bearer_get(kubeconfig, token, "/api/v1/namespaces") == (401, UNAUTHORIZED)
        assert bearer_get(kubeconfig, token, "/version") == (401, UNAUTHORIZED)


def test_issuer_discovery_publishes_the_keys(api_client):
    status, body = raw(api_client, "GET", "/.well-known/openid-configuration")
    assert status == 200
    config = body
    assert config["issuer"] and config["jwks_uri"].endswith("/openid/v1/jwks")
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    status, body = raw(api_client, "GET", "/openid/v1/jwks")
    assert status == 200
    keys = body["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" and k["kid"] for k in keys)


def test_jwks_verifies_a_minted_token(kubectl, api_client):
    """What an outside verifier does: discovery, then the key the token's kid names, then RS256."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    token = kubectl("create", "token", "default", "-n", "default").stdout.strip()
    header, payload, signature = token.split(".")
    status, config = raw(api_client, "GET", "/.well-known/openid-configuration")
    assert status == 200
    assert sorted(config) == ["id_token_signing_alg_values_supported", "issuer", "jwks_uri",
                              "response_types_supported", "subject_types_supported"]
    assert config["response_types_supported"] == ["id_token"] and config["subject_types_supported"] == ["public"]
    assert claims(token)["iss"] == config["issuer"]
    status, jwks = raw(api_client, "GET", "/openid/v1/jwks")
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    number = lambda text: int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")
    public = rsa.RSAPublicNumbers(number(key["e"]), number(key["n"])).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert kid == base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    public.verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
                  f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())


def review(kubectl, token: str, audiences: list[str] | None = None) -> dict:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    if audiences:
        body["spec"]["audiences"] = audiences
    return json.loads(kubectl("create", "-f", "-", "-o", "json", input=json.dumps(body)).stdout)["status"]


def test_token_review_answers_for_a_token(kubectl, namespace):
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    uid = json.loads(kubectl("get", "sa", "robot", "-n", namespace, "-o", "json").stdout)["metadata"]["uid"]
    token = kubectl("create", "token", "robot", "-n", namespace, "--audience=vault").stdout.strip()
    status = review(kubectl, token, ["vault"])
    assert status["authenticated"] is True and status["audiences"] == ["vault"]
    assert status["user"]["username"] == f"system:serviceaccount:{namespace}:robot"
    assert status["user"]["uid"] == uid
    assert status["user"]["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                                        "system:authenticated"]
    refused = review(kubectl, token, ["elsewhere"])
    assert refused.get("authenticated") is not True and refused["user"] == {}
    assert 'token audiences ["vault"] is invalid for the target audiences ["elsewhere"]' in refused["error"]
    assert review(kubectl, "not-a-token") == {"user": {}, "error": "invalid bearer token"}
    empty = kubectl("create", "-f", "-", check=False, input=json.dumps(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {}}))
    assert "token is required for TokenReview in authentication" in empty.stderr


def test_legacy_token_secret_is_filled_and_works_until_deleted(kubectl, namespace, kubeconfig, tmp_path):
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "robot-token", "annotations": {"kubernetes.io/service-account.name": "robot"}}}))

    def filled():
        secret = json.loads(kubectl("get", "secret", "robot-token", "-n", namespace, "-o", "json").stdout)
        return secret if {"token", "ca.crt", "namespace"} <= set(secret.get("data") or {}) else None
    secret = eventually(filled)
    assert secret, "the token controller never filled the Secret"
    assert base64.b64decode(secret["data"]["namespace"]).decode() == namespace
    token = base64.b64decode(secret["data"]["token"]).decode()
    config = token_kubeconfig(kubeconfig, tmp_path, token)
    assert user_info(kubectl, config)["username"] == f"system:serviceaccount:{namespace}:robot"
    kubectl("delete", "secret", "robot-token", "-n", namespace)
    assert eventually(lambda: bearer_get(kubeconfig, token, "/api") == (401, UNAUTHORIZED), timeout=10)


def csr_for(kubectl, name: str, user: str, groups: list[str], signer: str = "kubernetes.io/kube-apiserver-client",
            seconds: int = 3600):
    """A new key and a CSR for it posted to the cluster: (key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
                        + [x509.NameAttribute(NameOID.COMMON_NAME, user)])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    kubectl("create", "-f", "-", input=json.dumps({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
        "spec": {"request": base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode(),
                 "signerName": signer, "expirationSeconds": seconds, "usages": ["client auth"]}}))
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_approved_csr_gets_a_certificate_that_authenticates(kubectl, kubeconfig, tmp_path):
    from cryptography import x509

    name = f"jane-{uuid.uuid4().hex[:8]}"
    key = csr_for(kubectl, name, "jane", ["devs", "ops"])
    try:
        stored = json.loads(kubectl("get", "csr", name, "-o", "json").stdout)
        assert stored["spec"]["username"] == user_info(kubectl, kubeconfig)["username"]
        kubectl("certificate", "approve", name)

        def issued():
            csr = json.loads(kubectl("get", "csr", name, "-o", "json").stdout)
            return (csr.get("status") or {}).get("certificate")
        certificate = eventually(issued)
        assert certificate, "the approved CSR was never signed"
        cert = x509.load_pem_x509_certificate(base64.b64decode(certificate))
        assert (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() <= 3600 + 5 * 60
        config = user_kubeconfig(kubeconfig, tmp_path, {
            "client-certificate-data": certificate, "client-key-data": base64.b64encode(key).decode()})
        user = user_info(kubectl, config)
        assert user["username"] == "jane" and user["groups"] == ["devs", "ops", "system:authenticated"]
    finally:
        kubectl("delete", "csr", name, check=False)


def test_denied_and_foreign_csrs_stay_unsigned(kubectl):
    denied, foreign = f"no-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    csr_for(kubectl, denied, "mallory", [])
    csr_for(kubectl, foreign, "mallory", [], signer="example.com/other")
    try:
        kubectl("certificate", "deny", denied)
        kubectl("certificate", "approve", foreign)
        time.sleep(1)
        for name in (denied, foreign):
            csr = json.loads(kubectl("get", "csr", name, "-o", "json").stdout)
            assert not (csr.get("status") or {}).get("certificate"), name
        conditions = json.loads(kubectl("get", "csr", denied, "-o", "json").stdout)["status"]["conditions"]
        assert [c["type"] for c in conditions] == ["Denied"] and conditions[0]["lastTransitionTime"]
    finally:
        kubectl("delete", "csr", denied, foreign, check=False)


def test_legacy_token_secret_goes_with_its_service_account(kubectl, namespace):
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "robot-token", "annotations": {"kubernetes.io/service-account.name": "robot"}}}))
    annotations = lambda: json.loads(kubectl("get", "secret", "robot-token", "-n", namespace, "-o", "json").stdout)[
        "metadata"]["annotations"]
    uid = json.loads(kubectl("get", "sa", "robot", "-n", namespace, "-o", "json").stdout)["metadata"]["uid"]
    assert eventually(lambda: annotations().get("kubernetes.io/service-account.uid") == uid)
    kubectl("delete", "sa", "robot", "-n", namespace)
    assert eventually(lambda: kubectl("get", "secret", "robot-token", "-n", namespace, check=False).returncode != 0,
                      timeout=10)
