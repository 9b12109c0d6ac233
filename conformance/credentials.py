"""Acting as someone other than the admin: kubeconfigs that carry one bearer token or client
certificate, and raw requests that carry a token or nothing at all."""
from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import yaml

from .helpers import status_bytes

UNAUTHORIZED = status_bytes('"Unauthorized"', "Unauthorized", 401)


def _cluster(kubeconfig: Path) -> dict:
    """The current context's cluster entry ({"name", "cluster"}) of a kubeconfig."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])["context"]
    return next(c for c in config["clusters"] if c["name"] == context["cluster"])


def user_kubeconfig(kubeconfig: Path, directory: Path, user: dict) -> Path:
    """A kubeconfig for the same cluster with only these credentials (a kubeconfig `user` entry)."""
    path = directory / f"user-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "clusters": [_cluster(kubeconfig)],
        "users": [{"name": "someone", "user": user}],
        "contexts": [{"name": "someone", "context": {"cluster": _cluster(kubeconfig)["name"], "user": "someone"}}],
        "current-context": "someone"}))
    return path


def token_kubeconfig(kubeconfig: Path, directory: Path, token: str) -> Path:
    return user_kubeconfig(kubeconfig, directory, {"token": token})


def whoami(kubectl, config: Path, version: str | None = None):
    return kubectl(f"--kubeconfig={config}", "auth", "whoami", "-o", "json", version=version, check=False)


def user_info(kubectl, config: Path) -> dict:
    answer = whoami(kubectl, config)
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)["status"]["userInfo"]


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def unpadded_b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bearer_get(kubeconfig: Path, token: str | None, path: str) -> tuple[int, bytes]:
    """GET with only this bearer token (or no credentials at all), over the cluster's TLS: what any
    client would be told."""
    cluster = _cluster(kubeconfig)["cluster"]
    tls = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    request = urllib.request.Request(cluster["server"] + path, headers=headers)
    try:
        with urllib.request.urlopen(request, context=tls, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
