"""CustomResourceDefinitions: serve what they define, report it in status, clean up on delete.

kube-apiserver splits this over several controllers (naming, establishing, finalizing); one loop
does it here, because in one process a CRD's names can be checked and its resources served in
the same step, a few milliseconds after it is stored.
"""
from __future__ import annotations

import asyncio
import logging

from .. import errors
from ..api import DeleteOptions
from ..registry import ResourceInfo
from ..registry.strategies import CLEANUP_FINALIZER, now_rfc3339
from .informer import ensure_task

log = logging.getLogger("vapi.controllers")

CRD_GROUP = "apiextensions.k8s.io"


def schema_name(group: str, version: str, kind: str) -> str:
    """kube names a custom resource's OpenAPI definition by its reversed group: com.example.v1.Widget."""
    return ".".join(reversed(group.split("."))) + f".{version}.{kind}"


def resource_infos(crd: dict) -> list[ResourceInfo]:
    spec = crd["spec"]
    names = spec["names"]
    storage = next((v["name"] for v in spec["versions"] if v.get("storage")), spec["versions"][0]["name"])
    infos = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        subresources = {}
        declared = version.get("subresources") or {}
        if "status" in declared:
            subresources["status"] = None
        if "scale" in declared:
            subresources["scale"] = ("autoscaling", "v1", "Scale")
        infos.append(ResourceInfo(
            spec["group"], version["name"], names["plural"], names["kind"], spec.get("scope") == "Namespaced",
            ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
            tuple(names.get("shortNames") or ()), tuple(names.get("categories") or ()), subresources,
            singular=names.get("singular") or names["kind"].lower(),
            schema_name=schema_name(spec["group"], version["name"], names["kind"]),
            storage_version=storage, crd=version))
    return infos


class CRDController:
    def __init__(self, api, informers):
        self.api = api
        self.informers = informers
        self.info = api.registry.get(CRD_GROUP, "v1", "customresourcedefinitions")
        # CRD name -> the resources it added, so an update or deletion can take them back.
        self.served: dict[str, list[ResourceInfo]] = {}
        self.cleanups: dict[str, asyncio.Task] = {}

    def serve_stored(self) -> None:
        """Serve the established CRDs already stored, before the server takes its first request."""
        for crd in self.api.each(self.info)[1]:
            if not crd["metadata"].get("deletionTimestamp") and self._name_conflict(crd) is None:
                self._serve(crd)

    async def run(self) -> None:
        self.informers.get(self.info).add_handler(self.handle)

    async def handle(self, event_type: str, crd: dict, prev) -> None:
        name = crd["metadata"]["name"]
        if event_type == "DELETED":
            self._unserve(name)
            return
        if crd["metadata"].get("deletionTimestamp"):
            ensure_task(self.cleanups, name, lambda: self._cleanup(crd))
            return
        if prev is not None and prev.get("spec") == crd.get("spec") and name in self.served:
            return  # only status moved; what is served stays as it is
        conflict = self._name_conflict(crd)
        if conflict is None:
            self._serve(crd)
        await self._report(crd, conflict)

    def _name_conflict(self, crd: dict) -> str | None:
        """kube refuses names already taken in the group by another resource (built-in or custom)."""
        spec, me = crd["spec"], crd["metadata"]["name"]
        names = spec["names"]
        wanted = {names["plural"], names.get("singular") or names["kind"].lower(), *(names.get("shortNames") or ())}
        for info in self.api.registry.all():
            if info.group != spec["group"] or (info.crd is not None and self._owner(info) == me):
                continue
            taken = {info.plural, info.singular, *info.short_names}
            if wanted & taken:
                return f'"{sorted(wanted & taken)[0]}" is already in use'
            if info.kind == names["kind"]:
                return f'"{names["kind"]}" is already in use'
        return None

    def _owner(self, info: ResourceInfo) -> str | None:
        for crd_name, infos in self.served.items():
            if any(i is info for i in infos):
                return crd_name
        return None

    def _serve(self, crd: dict) -> None:
        name = crd["metadata"]["name"]
        self._unserve(name)
        infos = resource_infos(crd)
        for info in infos:
            self.api.registry.add(info)
        self.served[name] = infos

    def _unserve(self, name: str) -> None:
        for info in self.served.pop(name, []):
            self.api.registry.remove(info)

    async def _report(self, crd: dict, conflict: str | None) -> None:
        accepted = conflict is None
        spec = crd["spec"]
        storage = next((v["name"] for v in spec["versions"] if v.get("storage")), None)

        def mutate(current: dict) -> dict:
            status = current.setdefault("status", {})
            if accepted:
                status["acceptedNames"] = dict(spec["names"])
                stored = status.setdefault("storedVersions", [])
                if storage and storage not in stored:
                    stored.append(storage)
            else:
                status.setdefault("acceptedNames", {"plural": "", "kind": ""})
            _set_condition(status, "NamesAccepted", accepted, "NoConflicts" if accepted else "ConflictingNames",
                           "no conflicts found" if accepted else conflict)
            _set_condition(status, "Established", accepted, "InitialNamesAccepted" if accepted else "NotAccepted",
                           "the initial names have been accepted" if accepted else "not all names are accepted")
            return current
        try:
            await self.api.guaranteed_update(self.info, None, crd["metadata"]["name"], mutate, subresource="status")
        except errors.StatusError as e:
            if e.code != 404:
                raise

    async def _cleanup(self, crd: dict) -> None:
        """Delete every custom resource of a deleted CRD, then let the CRD go."""
        name = crd["metadata"]["name"]
        infos = self.served.get(name) or resource_infos(crd)
        info = infos[0] if infos else None
        while info is not None:
            items = list(self.api.each(info)[1])
            if not items:
                break
            for obj in items:
                meta = obj["metadata"]
                if meta.get("deletionTimestamp"):
                    continue
                try:
                    await self.api.delete(info, meta.get("namespace"), meta["name"],
                                          DeleteOptions(propagation_policy="Background"))
                except errors.StatusError as e:
                    if e.code != 404:
                        log.warning("CRD %s: deleting %s: %s", name, meta["name"], e.message)
            await asyncio.sleep(0.2)
        self._unserve(name)

        def release(current: dict) -> dict:
            current["metadata"]["finalizers"] = [f for f in current["metadata"].get("finalizers") or []
                                                 if f != CLEANUP_FINALIZER]
            return current
        try:
            await self.api.guaranteed_update(self.info, None, name, release)
        except errors.StatusError as e:
            if e.code != 404:
                raise


def _set_condition(status: dict, kind: str, ok: bool, reason: str, message: str) -> None:
    conditions = status.setdefault("conditions", [])
    value = "True" if ok else "False"
    for cond in conditions:
        if cond["type"] == kind:
            if cond["status"] != value:
                cond["lastTransitionTime"] = now_rfc3339()
            cond.update(status=value, reason=reason, message=message)
            return
    conditions.append({"type": kind, "status": value, "lastTransitionTime": now_rfc3339(),
                       "reason": reason, "message": message})
