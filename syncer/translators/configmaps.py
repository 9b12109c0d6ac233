"""ConfigMaps to the host: those virtual pods use (kube-root-ca.crt among them, which every
pod's projected token volume mounts), or all with `sync.toHost.configMaps.all`."""
from __future__ import annotations

from ..host import HostResource
from .references import UsedByUsers, pod_configmaps


class ConfigMaps(UsedByUsers):
    kind = "ConfigMap"
    key = "configMaps"
    virtual = ("", "v1", "configmaps")
    host = HostResource("", "v1", "configmaps")
    fields_kept = ("data", "binaryData", "immutable")
    empty = {"data": {}, "binaryData": {}}
    users = (("", "v1", "pods", pod_configmaps, None),)
