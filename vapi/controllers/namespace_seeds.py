"""What every namespace holds from the start: the `default` ServiceAccount (kube's service-account
controller) and the `kube-root-ca.crt` ConfigMap (kube's root-CA publisher).

Both are level-triggered over namespaces and the objects they keep: one deleted is made again,
a `kube-root-ca.crt` someone edited is put back, and nothing is made in a terminating namespace.
"""
from __future__ import annotations

from .. import errors
from .reconciler import Reconciler

ROOT_CA = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                       "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                       "guaranteed across distributions of Kubernetes clusters.")


class _Seeder(Reconciler):
    primary = ("", "v1", "namespaces")
    kept: tuple[str, str, str] = ("", "", "")   # (version, plural, name) of the object kept
    workers = 2

    def setup(self) -> None:
        version, plural, name = self.kept

        def namespace_of(obj: dict):
            if obj["metadata"]["name"] == name:
                yield None, obj["metadata"]["namespace"]
        self.watch("", version, plural, namespace_of)

    def wanted(self) -> dict:
        raise NotImplementedError

    async def reconcile(self, namespace: None, name: str) -> float | None:
        ns = self.cache(*self.primary).get(None, name)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return None
        version, plural, kept = self.kept
        wanted = self.wanted()
        current = self.cache("", version, plural).get(name, kept)
        try:
            if current is None:
                await self.api.create(self.resource("", version, plural), name, wanted)
            elif not self.matches(current, wanted):
                await self.api.update(self.resource("", version, plural), name, kept,
                                      self.restored(current, wanted))
        except errors.StatusError as e:
            # Raced with the namespace's deletion (403/404) or with another writer (409): the
            # informers bring the next look.
            if e.code not in (403, 404, 409):
                raise
        return None

    def matches(self, current: dict, wanted: dict) -> bool:
        return True

    def restored(self, current: dict, wanted: dict) -> dict:
        return current


class ServiceAccountsController(_Seeder):
    user = "service-account-controller"
    kept = ("v1", "serviceaccounts", "default")

    def wanted(self) -> dict:
        return {"metadata": {"name": "default"}}


class RootCAPublisher(_Seeder):
    user = "root-ca-cert-publisher"
    kept = ("v1", "configmaps", ROOT_CA)

    def __init__(self, api, informers, recorder, clock, root_ca_path):
        super().__init__(api, informers, recorder, clock)
        self.root_ca_path = root_ca_path  # written when the server starts, after this is made
        self._root_ca = ""

    def wanted(self) -> dict:
        if not self._root_ca:
            self._root_ca = self.root_ca_path.read_text()
        return {"metadata": {"name": ROOT_CA, "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
                "data": {"ca.crt": self._root_ca}}

    def matches(self, current: dict, wanted: dict) -> bool:
        annotations = current["metadata"].get("annotations") or {}
        return current.get("data") == wanted["data"] and \
            annotations.get("kubernetes.io/description") == ROOT_CA_DESCRIPTION

    def restored(self, current: dict, wanted: dict) -> dict:
        meta = dict(current["metadata"])
        meta["annotations"] = {**(meta.get("annotations") or {}), **wanted["metadata"]["annotations"]}
        return {**current, "metadata": meta, "data": wanted["data"]}
