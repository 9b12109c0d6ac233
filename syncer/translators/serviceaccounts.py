"""ServiceAccounts to the host (opt-in), for host pods to run as (the pod translator names the
host copy then). The host copy mounts no token and lists no Secrets: the pod's tokens come from
this cluster, through the Secret the pods translator keeps."""
from __future__ import annotations

from ..host import HostResource
from ..syncer import Translator


class ServiceAccounts(Translator):
    kind = "ServiceAccount"
    key = "serviceAccounts"
    virtual = ("", "v1", "serviceaccounts")
    host = HostResource("", "v1", "serviceaccounts")

    async def fields(self, account: dict, host: dict | None) -> dict:
        fields = {"automountServiceAccountToken": False}
        for key in ("secrets", "imagePullSecrets"):
            if host is not None and host.get(key):
                fields[key] = []
        return fields
