"""ServiceAccount: every pod runs as a service account that exists (`default` unless it names
one), and, unless the pod or its service account opts out, gets the API credentials kube gives it:
a projected `kube-api-access-<random>` volume (a bound token, the cluster CA, its namespace)
mounted read-only in every container and init container.

Mirror pods (made by a kubelet from a file) are never changed, and may not use service accounts,
secrets or token projections, as in kube.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..chain import CREATE, UPDATE, Attributes, MutatingPlugin, ValidatingPlugin
from ..validation.names import random_suffix

DEFAULT = "default"
VOLUME_PREFIX = "kube-api-access-"
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
MIRROR = "kubernetes.io/config.mirror"
# kube's WarnOnlyBoundTokenExpirationSeconds: a token a little over an hour old still works.
TOKEN_SECONDS = 3607
# The default service account is made by a controller just after its namespace: kube looks it up
# this many times, this far apart, before refusing the pod.
DEFAULT_ATTEMPTS, RETRY_SECONDS = 10, 0.1


def token_volume(name: str) -> dict:
    return {"name": name, "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_SECONDS, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ], "defaultMode": 420}}


def _mount(spec: dict) -> None:
    volumes = spec.get("volumes") or []
    existing = next((v["name"] for v in volumes if str(v.get("name", "")).startswith(VOLUME_PREFIX)), None)
    name = existing or VOLUME_PREFIX + random_suffix()
    needed = False
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            mounts = container.get("volumeMounts") or []
            if any(m.get("mountPath") == MOUNT_PATH for m in mounts):
                continue  # a mount of its own at that path wins
            container["volumeMounts"] = mounts + [{"name": name, "readOnly": True, "mountPath": MOUNT_PATH}]
            needed = True
    if needed and existing is None:
        spec["volumes"] = volumes + [token_volume(name)]


class ServiceAccount(MutatingPlugin, ValidatingPlugin):
    name = "ServiceAccount"
    operations = frozenset((CREATE, UPDATE))

    def __init__(self, cached: Callable[[str, str], dict | None], live: Callable[[str, str], dict | None]):
        self.cached = cached
        self.live = live

    @staticmethod
    def _handles(attrs: Attributes) -> bool:
        if (attrs.group, attrs.resource) != ("", "pods") or attrs.object is None:
            return False
        return attrs.operation == CREATE and not attrs.subresource or \
            attrs.operation == UPDATE and attrs.subresource == "ephemeralcontainers"

    async def _service_account(self, attrs: Attributes, name: str) -> dict:
        found = self.cached(attrs.namespace, name)
        attempts = DEFAULT_ATTEMPTS if name == DEFAULT else 1
        for attempt in range(attempts):
            if found is not None:
                return found
            if attempt:
                await asyncio.sleep(RETRY_SECONDS)
            found = self.live(attrs.namespace, name)
        if found is not None:
            return found
        raise attrs.forbidden(f'error looking up service account {attrs.namespace}/{name}: '
                              f'serviceaccount "{name}" not found')

    async def admit(self, attrs: Attributes) -> None:
        if not self._handles(attrs) or attrs.operation != CREATE:
            return
        pod = attrs.object
        spec = pod.setdefault("spec", {})
        if MIRROR in ((pod.get("metadata") or {}).get("annotations") or {}):
            return
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT
        spec["serviceAccountName"] = spec["serviceAccount"] = name
        account = await self._service_account(attrs, name)
        automount = spec.get("automountServiceAccountToken")
        if automount is None:
            automount = account.get("automountServiceAccountToken")
        if automount is not False:
            _mount(spec)
        if not spec.get("imagePullSecrets") and account.get("imagePullSecrets"):
            spec["imagePullSecrets"] = [{"name": s.get("name", "")} for s in account["imagePullSecrets"]]

    async def validate(self, attrs: Attributes) -> None:
        if not self._handles(attrs):
            return
        pod = attrs.object
        spec = pod.get("spec") or {}
        if MIRROR not in ((pod.get("metadata") or {}).get("annotations") or {}):
            return
        if spec.get("serviceAccountName"):
            raise attrs.forbidden("a mirror pod may not reference service accounts")
        for volume in spec.get("volumes") or []:
            if volume.get("secret") is not None:
                raise attrs.forbidden("a mirror pod may not reference secrets")
            sources = (volume.get("projected") or {}).get("sources") or []
            if any(s.get("secret") is not None for s in sources):
                raise attrs.forbidden("a mirror pod may not reference secrets")
            if any(s.get("serviceAccountToken") is not None for s in sources):
                raise attrs.forbidden("a mirror pod may not use ServiceAccountToken volume projections")
        containers = [c for key in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(key) or []]
        for container in containers:
            for env in container.get("env") or []:
                if ((env.get("valueFrom") or {}).get("secretKeyRef")) is not None:
                    raise attrs.forbidden("a mirror pod may not reference secrets")
            for source in container.get("envFrom") or []:
                if source.get("secretRef") is not None:
                    raise attrs.forbidden("a mirror pod may not reference secrets")
