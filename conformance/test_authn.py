"""Authentication as a client sees it: service-account tokens from `kubectl create token`
authenticate back as their service account, bad or revoked tokens get 401, and the issuer's keys
are published for others to verify tokens with."""
from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from .helpers import raw

UNAUTHORIZED = (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized",'
                b'"reason":"Unauthorized","code":401}\n')


def token_kubeconfig(kubeconfig, tmp_path, token: str):
    """A kubeconfig for the same cluster that carries only this bearer token."""
    config = yaml.safe_load(kubeconfig.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])["context"]
    cluster = next(c for c in config["clusters"] if c["name"] == context["cluster"])
    path = tmp_path / f"token-{abs(hash(token))}.yaml"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "clusters": [cluster],
        "users": [{"name": "bearer", "user": {"token": token}}],
        "contexts": [{"name": "bearer", "context": {"cluster": cluster["name"], "user": "bearer"}}],
        "current-context": "bearer"}))
    return path


def whoami(kubectl, config, version=None):
    return kubectl(f"--kubeconfig={config}", "auth", "whoami", "-o", "json", version=version, check=False)


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


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


def bearer_get(kubeconfig, token: str, path: str) -> tuple[int, bytes]:
    """GET with only this bearer token, over the cluster's TLS: what any client would be told."""
    config = yaml.safe_load(kubeconfig.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])["context"]
    cluster = next(c for c in config["clusters"] if c["name"] == context["cluster"])["cluster"]
    tls = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    request = urllib.request.Request(cluster["server"] + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, context=tls, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


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
