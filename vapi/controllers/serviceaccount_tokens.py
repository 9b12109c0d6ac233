"""Legacy service-account token Secrets, kept as kube's tokens controller keeps them.

A Secret of type kubernetes.io/service-account-token that names a service account gets a token
for it, the cluster CA and its namespace in `data`; one whose service account is gone (or was
replaced, by uid) is deleted, and deleting a service account deletes its token Secrets, which
revokes their tokens.
"""
from __future__ import annotations

import asyncio
import base64
import logging

from .. import errors
from ..api import DeleteOptions, WriteOptions

log = logging.getLogger("vapi.controllers")
TOKEN_TYPE = "kubernetes.io/service-account-token"
NAME_KEY = "kubernetes.io/service-account.name"
UID_KEY = "kubernetes.io/service-account.uid"
MANAGER = "kube-controller-manager"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class TokensController:
    def __init__(self, api, informers, signer, root_ca_path):
        self.api = api
        self.informers = informers
        self.signer = signer
        self.root_ca_path = root_ca_path
        self.secrets = api.registry.get("", "v1", "secrets")
        self.accounts = api.registry.get("", "v1", "serviceaccounts")

    async def run(self) -> None:
        self.informers.get(self.secrets).add_handler(self.on_secret)
        self.informers.get(self.accounts).add_handler(self.on_account)

    async def on_account(self, event_type: str, account: dict, prev) -> None:
        if event_type != "DELETED":
            return
        meta = account["metadata"]
        for secret in self.informers.get(self.secrets).list(meta["namespace"]):
            annotations = secret["metadata"].get("annotations") or {}
            if secret.get("type") == TOKEN_TYPE and annotations.get(NAME_KEY) == meta["name"]:
                await self._delete(secret)

    async def on_secret(self, event_type: str, secret: dict, prev) -> None:
        if event_type == "DELETED" or secret.get("type") != TOKEN_TYPE:
            return
        meta = secret["metadata"]
        if meta.get("deletionTimestamp"):
            return
        annotations = meta.get("annotations") or {}
        account = self.api.lookup(self.accounts, meta["namespace"], annotations.get(NAME_KEY, ""))
        if account is None or annotations.get(UID_KEY, account["metadata"]["uid"]) != account["metadata"]["uid"]:
            await self._delete(secret)
            return
        data = secret.get("data") or {}
        if data.get("token") and annotations.get(UID_KEY):
            return
        # Signing costs a millisecond of RSA, and the first one may make the key: off the event loop.
        token = data.get("token") or _b64(await asyncio.to_thread(self.signer.legacy_token, account, secret))
        updated = dict(secret, data={**data, "token": token, "namespace": _b64(meta["namespace"]),
                                     "ca.crt": _b64(self.root_ca_path.read_text())})
        updated["metadata"] = dict(meta, annotations={**annotations, UID_KEY: account["metadata"]["uid"]})
        try:
            await self.api.update(self.secrets, meta["namespace"], meta["name"], updated,
                                  opts=WriteOptions(field_manager=MANAGER))
        except errors.StatusError as e:
            if e.code not in (404, 409):  # gone, or changed meanwhile: its next event comes here again
                raise

    async def _delete(self, secret: dict) -> None:
        meta = secret["metadata"]
        try:
            await self.api.delete(self.secrets, meta["namespace"], meta["name"],
                                  DeleteOptions(preconditions={"uid": meta["uid"]}))
        except errors.StatusError as e:
            if e.code not in (404, 409):
                raise
