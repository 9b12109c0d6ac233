"""Secrets to the host: those virtual pods use (volumes, env, image pull secrets) and, with
Ingresses synced, their TLS Secrets; or all with `sync.toHost.secrets.all`. Service-account token
Secrets never go: a host pod's tokens come from the Secret the pods translator keeps."""
from __future__ import annotations

from ..host import HostResource
from .references import UsedByUsers, ingress_secrets, pod_secrets

SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"


class Secrets(UsedByUsers):
    kind = "Secret"
    key = "secrets"
    virtual = ("", "v1", "secrets")
    host = HostResource("", "v1", "secrets")
    fields_kept = ("type", "data", "immutable")
    empty = {"data": {}}
    users = (("", "v1", "pods", pod_secrets, None),
             ("networking.k8s.io", "v1", "ingresses", ingress_secrets, "ingresses"))

    def selected(self, secret: dict) -> bool:
        return secret.get("type") != SERVICE_ACCOUNT_TOKEN and super().selected(secret)
