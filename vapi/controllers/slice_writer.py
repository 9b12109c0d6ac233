"""How a controller that owns EndpointSlices writes them (the endpointslice and the mirroring
controllers alike): the slices it manages are the ones labelled with the Service's name and its
own manager name; an unchanged slice is never rewritten; and a Service is not looked at again
until the informer shows the controller's own last writes (kube's endpointslice tracker), so a
slice is never made twice from a cache that lags behind.
"""
from __future__ import annotations

from .. import errors
from .reconciler import Reconciler
from .service_pods import SERVICE_NAME, create_unless_terminating

MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
DISCOVERY = ("discovery.k8s.io", "v1", "endpointslices")
CACHE_WAIT = 0.05  # seconds before looking again at a service whose own writes the cache lacks


def ports_key(ports) -> tuple:
    return tuple(sorted((p.get("name", ""), p.get("protocol", "TCP"), p.get("port"), p.get("appProtocol", ""))
                        for p in ports or []))


class SliceWriter(Reconciler):
    manager = ""   # the managed-by label value of the slices this controller owns

    def __init__(self, *args):
        super().__init__(*args)
        # service key -> {slice name: resourceVersion written, or None once deleted}
        self.written: dict[tuple, dict[str, int | None]] = {}

    def watch_slices(self) -> None:
        manager = self.manager

        def service_of(obj: dict):
            labels = obj["metadata"].get("labels") or {}
            if labels.get(MANAGED_BY) == manager and labels.get(SERVICE_NAME):
                yield obj["metadata"]["namespace"], labels[SERVICE_NAME]
        self.watch(*DISCOVERY, service_of)

    def cache_behind(self, key: tuple) -> bool:
        slices = self.cache(*DISCOVERY)
        pending = {}
        for name, rv in self.written.get(key, {}).items():
            seen = slices.get(key[0], name)
            if (seen is not None and rv is None) or (rv is not None and (
                    seen is None or int(seen["metadata"]["resourceVersion"]) < rv)):
                pending[name] = rv
        if pending:
            self.written[key] = pending
        else:
            self.written.pop(key, None)
        return bool(pending)

    def owned_slices(self, namespace: str, name: str) -> list[dict]:
        return sorted((s for s in self.cache(*DISCOVERY).list(namespace)
                       if (s["metadata"].get("labels") or {}).get(SERVICE_NAME) == name
                       and (s["metadata"].get("labels") or {}).get(MANAGED_BY) == self.manager
                       and not s["metadata"].get("deletionTimestamp")),
                      key=lambda s: s["metadata"]["name"])

    async def write_slice(self, key: tuple, current: dict | None, wanted: dict) -> None:
        """Create `wanted`, or bring `current` to its endpoints, ports, labels and annotations."""
        info = self.resource(*DISCOVERY)
        namespace = key[0]
        if current is None:
            made = await create_unless_terminating(self.api, info, namespace, wanted,
                                                   self.cache("", "v1", "namespaces"))
            if made is not None:
                self._wrote(key, made["metadata"]["name"], made)
            return
        meta = current["metadata"]
        annotations = {**(meta.get("annotations") or {}), **wanted["metadata"].get("annotations", {})}
        same = (current.get("endpoints") or []) == (wanted["endpoints"] or []) and \
            ports_key(current.get("ports")) == ports_key(wanted["ports"]) and \
            bool(current.get("ports")) == bool(wanted["ports"]) and \
            (meta.get("labels") or {}) == wanted["metadata"]["labels"] and \
            current.get("addressType") == wanted["addressType"]
        if same:
            return
        updated = dict(current, endpoints=wanted["endpoints"], ports=wanted["ports"])
        updated["metadata"] = {**meta, "labels": wanted["metadata"]["labels"], "annotations": annotations}
        self._wrote(key, meta["name"], await self.api.update(info, namespace, meta["name"], updated))

    def _wrote(self, key: tuple, name: str, obj: dict | None) -> None:
        self.written.setdefault(key, {})[name] = int(obj["metadata"]["resourceVersion"]) if obj else None

    async def delete_slice(self, key: tuple, current: dict) -> None:
        try:
            await self.api.delete(self.resource(*DISCOVERY), current["metadata"]["namespace"],
                                  current["metadata"]["name"])
            self._wrote(key, current["metadata"]["name"], None)
        except errors.StatusError as e:
            if e.code != 404:
                raise
