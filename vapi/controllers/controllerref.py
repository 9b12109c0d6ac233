"""Adoption and release of dependents by their controller, as kube's ControllerRefManager does it.

A controller owns what its selector matches and its controller reference names. An orphan that
matches is adopted (unless the controller is being deleted, which is re-checked against the store
before the first adoption); an owned object that stopped matching is released; what another
controller owns is left alone. Adoption and release are strategic-merge patches of
`ownerReferences` carrying the dependent's uid, so they never touch a different object of the same
name.
"""
from __future__ import annotations

from .. import errors
from ..writes.patch import STRATEGIC
from .pods import controller_ref, owner_reference


class ClaimManager:
    def __init__(self, api, owner_info, owner: dict, api_version: str, kind: str, matches):
        self.api = api
        self.owner_info = owner_info
        self.owner = owner
        self.api_version = api_version
        self.kind = kind
        self.matches = matches         # labels -> bool
        self._checked = False

    def _can_adopt(self) -> None:
        """kube's RecheckDeletionTimestamp: the cache may be behind a deletion of the owner."""
        if self._checked:
            return
        meta = self.owner["metadata"]
        fresh = self.api.lookup(self.owner_info, meta.get("namespace"), meta["name"])
        if fresh is None or fresh["metadata"].get("uid") != meta.get("uid"):
            raise errors.conflict(self.owner_info, meta["name"],
                                  f"original {meta.get('namespace')}/{meta['name']} is gone: got uid "
                                  f"{(fresh or {}).get('metadata', {}).get('uid')}, wanted {meta.get('uid')}")
        if fresh["metadata"].get("deletionTimestamp"):
            raise errors.conflict(self.owner_info, meta["name"],
                                  f"{meta.get('namespace')}/{meta['name']} has just been deleted at "
                                  f"{fresh['metadata']['deletionTimestamp']}")
        self._checked = True

    async def _patch(self, info, obj: dict, refs: list) -> dict | None:
        meta = obj["metadata"]
        try:
            return await self.api.patch(info, meta.get("namespace"), meta["name"], STRATEGIC,
                                        {"metadata": {"ownerReferences": refs, "uid": meta["uid"]}})
        except errors.StatusError as e:
            if e.code == 404:
                return None
            raise

    async def claim(self, info, candidates: list[dict]) -> list[dict]:
        """The candidates this owner controls once adoption and release are done."""
        owner_meta = self.owner["metadata"]
        deleting = bool(owner_meta.get("deletionTimestamp"))
        claimed = []
        for obj in candidates:
            meta = obj["metadata"]
            ref = controller_ref(obj)
            labels = meta.get("labels") or {}
            if ref is not None:
                if ref.get("uid") != owner_meta["uid"]:
                    continue                      # another controller's
                if self.matches(labels):
                    claimed.append(obj)
                elif not deleting:
                    await self._patch(info, obj, [{"$patch": "delete", "uid": owner_meta["uid"]}])
                continue
            if deleting or not self.matches(labels) or meta.get("deletionTimestamp"):
                continue
            if meta.get("namespace") != owner_meta.get("namespace"):
                continue
            self._can_adopt()
            adopted = await self._patch(info, obj, [owner_reference(self.owner, self.api_version, self.kind)])
            if adopted is not None:
                claimed.append(adopted)
        return claimed
