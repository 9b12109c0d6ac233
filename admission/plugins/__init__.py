"""The built-in admission plugins and the order kube-apiserver runs them in."""
from __future__ import annotations

from ..chain import Chain
from ..quota import NamespaceLocks
from .dynamic import dynamic_plugins
from .limitranger import LimitRanger
from .namespace_lifecycle import NamespaceLifecycle
from .podsecurity import PodSecurity
from .resourcequota import ResourceQuota
from .runtimeclass import RuntimeClass
from .schema import Defaulting, SchemaValidation
from .serviceaccount import ServiceAccount
from .tolerations import DefaultTolerationSeconds


def default_chain(namespace_cached, namespace_live, lookups, quota_locks: NamespaceLocks, dynamic=None) -> Chain:
    """kube's recommended order, for the plugins that exist so far: Defaulting stands where kube
    decodes (before every plugin), SchemaValidation where the registry strategy validates (it is
    validating only, so listed early it runs first in the validating phase, before every other
    validating plugin, after every mutating one). `lookups` reads (cached, else live) and writes what plugins need of
    the cluster; `quota_locks` is shared with the quota controller; `dynamic` the sources of
    webhooks and policies (plugins/dynamic.py), which stand where kube runs them: last of the
    mutating plugins, and before ResourceQuota, so a request they refuse is never charged."""
    return Chain([
        Defaulting(),
        SchemaValidation(),
        NamespaceLifecycle(namespace_cached, namespace_live),
        LimitRanger(lambda namespace: lookups.list("", "limitranges", namespace)),
        ServiceAccount(lambda namespace, name: lookups.get("", "serviceaccounts", namespace, name),
                       lambda namespace, name: lookups.live_get("", "serviceaccounts", namespace, name)),
        DefaultTolerationSeconds(),
        RuntimeClass(lambda name: lookups.get("node.k8s.io", "runtimeclasses", None, name)),
        PodSecurity(namespace_live, lambda namespace: lookups.live_list("", "pods", namespace)),
        *(dynamic_plugins(dynamic) if dynamic else []),
        ResourceQuota(lambda namespace: _quotas(lookups, namespace), lookups.write_status, quota_locks),
    ])


def _quotas(lookups, namespace: str) -> list[dict]:
    # The cache tells whether a namespace has quotas at all (most have none, and this runs on every
    # write); the store tells what they hold now, which a charge must not read stale.
    if not lookups.list("", "resourcequotas", namespace):
        return []
    return lookups.live_list("", "resourcequotas", namespace)


__all__ = ["DefaultTolerationSeconds", "Defaulting", "LimitRanger", "NamespaceLifecycle", "PodSecurity",
           "ResourceQuota", "RuntimeClass", "SchemaValidation", "ServiceAccount", "default_chain"]
