"""What a new cluster starts with: the system namespaces and the `kubernetes` Service.

kube-apiserver's bootstrap controllers create these at start-up; they are written through the
pipeline like any client's objects, and left alone when they exist already.
"""
from __future__ import annotations

from .. import errors
from ..registry.allocators import KUBERNETES_SERVICE_IP

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def _ensure(api, info, namespace: str | None, obj: dict) -> None:
    try:
        api.get(info, namespace, obj["metadata"]["name"])
    except errors.StatusError as e:
        if e.code != 404:
            raise
        await api.create(info, namespace, obj)


async def ensure_system_objects(api) -> None:
    namespaces = api.registry.get("", "v1", "namespaces")
    for name in SYSTEM_NAMESPACES:
        await _ensure(api, namespaces, None, {"metadata": {"name": name}})
    await _ensure(api, api.registry.get("", "v1", "services"), "default", {
        "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": KUBERNETES_SERVICE_IP, "ports": [
            {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
