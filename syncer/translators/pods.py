"""Pods to the host, their status back: the virtual cluster's kubelet, in effect.

The host copy is created once with a rewritten spec (`podspec.py`); afterwards only what kube
lets change on a pod (images, activeDeadlineSeconds, added tolerations, removed scheduling gates)
is sent, so the host never gets an update it must refuse. The host owns status: it is copied to
the virtual pod whole, and once the host schedules the pod the virtual pod is bound to a node of
that name (`nodes.py` makes it exist first). Deleting the virtual pod deletes the host copy with
the same grace period and finishes the virtual pod once the host copy is gone, as a kubelet
does. Service-account tokens are requested from this server for the virtual pod (bound to it)
and kept in a host Secret that is renewed before they expire.
"""
from __future__ import annotations

import base64
import copy
import datetime
import logging

from admission.gotime import parse_rfc3339
from vapi import errors
from vapi.api import DeleteOptions
from vapi.registry.strategies.base import rfc3339

from .. import metadata, names
from ..host import HostResource
from ..syncer import Translator
from . import podspec
from .common import status_back

log = logging.getLogger("vapi.syncer")

SECRETS = HostResource("", "v1", "secrets")
TOKEN_OF = "vapi.dev/token-of"               # annotations of a token Secret: the host pod it serves,
TOKEN_POD = "vapi.dev/token-pod"             # and the virtual pod as namespace/name
REFRESH_AT = "vapi.dev/token-refresh-at"
TOKEN_EXPIRES = "vapi.dev/token-expires"
MIRROR = "kubernetes.io/config.mirror"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _stamp(when: datetime.datetime) -> str:
    return rfc3339(int(when.timestamp()))


def token_secret_name(host_pod: str) -> str:
    return f"{host_pod}-sa-token"


class Pods(Translator):
    kind = "Pod"
    key = "pods"
    virtual = ("", "v1", "pods")
    host = HostResource("", "v1", "pods")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.settings = ctx.config.kind("toHost", "pods")
        self.spec = podspec.PodSpec(ctx, self.settings)
        self.secrets = ctx.host_cache(SECRETS)
        self.info = ctx.resource(*self.virtual)

    def setup(self, loop) -> None:
        # A token Secret left behind (its pod went while the syncer was away) brings its pod's
        # key back, and the reconcile of a pod that is gone on both sides removes it.
        def token_pod(secret: dict):
            owner = (secret["metadata"].get("annotations") or {}).get(TOKEN_POD, "")
            if "/" in owner:
                yield tuple(owner.split("/", 1))
        loop.watch_host(SECRETS, token_pod)

    def selected(self, pod: dict) -> bool:
        return MIRROR not in (pod["metadata"].get("annotations") or {})

    # --- to the host ------------------------------------------------------------------------

    async def fields(self, pod: dict, host: dict | None) -> dict:
        if host is None:
            host_name = self.ctx.host_name(pod["metadata"]["name"], pod["metadata"]["namespace"])
            sources = podspec.token_sources(pod)
            secret = None
            if sources:
                secret = token_secret_name(host_name)
                await self._write_tokens(pod, host_name, None)
            return {"spec": self.spec.host_spec(pod, secret, [(v, s) for v, s, _ in sources])}
        return {"spec": self._updated_spec(pod, host)}

    def _updated_spec(self, pod: dict, host: dict) -> dict:
        """The host copy's spec with what may change on a running pod made as the virtual pod says."""
        spec = copy.deepcopy(host["spec"])
        virtual = pod.get("spec") or {}
        table = self.settings.get("translateImage") or {}
        for (kind, i), image in podspec.images(virtual, table).items():
            containers = spec.get(kind) or []
            if i < len(containers):
                containers[i]["image"] = image
        if virtual.get("activeDeadlineSeconds") is not None:
            spec["activeDeadlineSeconds"] = virtual["activeDeadlineSeconds"]
        for toleration in virtual.get("tolerations") or []:
            if toleration not in (spec.get("tolerations") or []):
                spec.setdefault("tolerations", []).append(toleration)
        if not virtual.get("schedulingGates") and spec.get("schedulingGates"):
            spec.pop("schedulingGates")
        return spec

    async def remove(self, host: dict) -> None:
        await super().remove(host)
        await self._drop_tokens(host["metadata"]["name"])

    async def gone(self, namespace: str | None, name: str) -> None:
        await self._drop_tokens(self.ctx.host_name(name, namespace))

    async def deleting(self, pod: dict, host: dict | None) -> None:
        meta = pod["metadata"]
        if host is None:
            # The host copy is gone: finish the virtual pod, as its kubelet would.
            try:
                await self.ctx.api.delete(self.info, meta["namespace"], meta["name"],
                                          DeleteOptions(grace_period_seconds=0, preconditions={"uid": meta["uid"]}))
            except errors.StatusError as e:
                if e.code not in (404, 409):
                    raise
            await self.gone(meta["namespace"], meta["name"])
            return
        await status_back(self.ctx, self.virtual, pod, host.get("status"))
        if not host["metadata"].get("deletionTimestamp"):
            await self.ctx.host.delete(self.host, host["metadata"]["name"], uid=host["metadata"]["uid"],
                                       grace_seconds=meta.get("deletionGracePeriodSeconds"))

    # --- back from the host -----------------------------------------------------------------

    async def back(self, pod: dict, host: dict) -> float | None:
        if host["metadata"]["annotations"].get(names.OBJECT_UID) != pod["metadata"]["uid"]:
            # A new virtual pod of an old one's name: the old host copy goes first.
            await self.ctx.host.delete(self.host, host["metadata"]["name"], uid=host["metadata"]["uid"],
                                       grace_seconds=0)
            return None
        node = (host.get("spec") or {}).get("nodeName")
        if node and not (pod.get("spec") or {}).get("nodeName"):
            await self.ctx.extras["nodes"].ensure(node)
            await self.ctx.api.create_subresource(self.info, pod["metadata"]["namespace"], pod["metadata"]["name"],
                                                  "binding", {"apiVersion": "v1", "kind": "Binding",
                                                              "metadata": {"name": pod["metadata"]["name"]},
                                                              "target": {"kind": "Node", "name": node}})
            return None   # the bound pod's event brings it back for its status
        await status_back(self.ctx, self.virtual, pod, host.get("status"))
        return await self._refresh_tokens(pod, host["metadata"]["name"])

    # --- service-account tokens -------------------------------------------------------------

    async def _write_tokens(self, pod: dict, host_pod: str, current: dict | None) -> dict:
        """Request every token the pod mounts and keep them in its host Secret."""
        meta = pod["metadata"]
        sa_info = self.ctx.resource("", "v1", "serviceaccounts")
        data, issued, expires = {}, _now(), None
        for i, (_, _, source) in enumerate(podspec.token_sources(pod)):
            spec = {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": meta["name"], "uid": meta["uid"]}}
            if source.get("audience"):
                spec["audiences"] = [source["audience"]]
            if source.get("expirationSeconds"):
                spec["expirationSeconds"] = source["expirationSeconds"]
            answer = await self.ctx.api.create_subresource(
                sa_info, meta["namespace"], (pod.get("spec") or {}).get("serviceAccountName") or "default", "token",
                {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
            data[podspec.TOKEN_KEY.format(i)] = base64.b64encode(answer["status"]["token"].encode()).decode()
            until = parse_rfc3339(answer["status"]["expirationTimestamp"])
            expires = until if expires is None or until < expires else expires
        share = float((self.settings.get("serviceAccountTokens") or {}).get("refreshAfter", 0.8))
        refresh = issued + (expires - issued) * share
        secret = copy.deepcopy(current) if current else {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": token_secret_name(host_pod), "namespace": self.ctx.host.namespace,
                         "labels": {names.MANAGED_BY: self.ctx.vc},
                         "ownerReferences": metadata.owned_by(self.ctx.anchor)}}
        secret["data"] = data
        secret["metadata"].setdefault("annotations", {}).update(
            {TOKEN_OF: host_pod, TOKEN_POD: f"{meta['namespace']}/{meta['name']}", REFRESH_AT: _stamp(refresh),
             TOKEN_EXPIRES: _stamp(expires)})
        if current is None:
            try:
                return await self.ctx.host.create(SECRETS, secret)
            except errors.StatusError as e:
                if e.code != 409:
                    raise
                current = await self.ctx.host.get(SECRETS, secret["metadata"]["name"])
                if current is None:
                    raise
                secret["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return await self.ctx.host.update(SECRETS, secret)

    async def _refresh_tokens(self, pod: dict, host_pod: str) -> float | None:
        if not podspec.token_sources(pod) or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return None
        secret = self.secrets.get(self.ctx.host.namespace, token_secret_name(host_pod))
        due = parse_rfc3339(secret["metadata"]["annotations"][REFRESH_AT]) if secret else None
        if due is None or due <= _now():
            secret = await self._write_tokens(pod, host_pod, secret)
            due = parse_rfc3339(secret["metadata"]["annotations"][REFRESH_AT])
        return max((due - _now()).total_seconds(), 0.5)

    async def _drop_tokens(self, host_pod: str) -> None:
        if self.secrets.get(self.ctx.host.namespace, token_secret_name(host_pod)) is not None:
            await self.ctx.host.delete(SECRETS, token_secret_name(host_pod))
