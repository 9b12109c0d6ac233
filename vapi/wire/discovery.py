"""Discovery documents, legacy and aggregated, built from the registry and cached per generation."""
from __future__ import annotations

import base64
import hashlib

import orjson

from ..registry import GenerationCache
from ..registry.builtin import SUBRESOURCE_VERBS

AGGREGATED_VERSIONS = ("v2", "v2beta1")


def _storage_version_hash(info) -> str:
    digest = hashlib.sha256(f"{info.group}/{info.storage_version}/{info.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _resource_entries(info) -> list[dict]:
    entry = {"name": info.plural, "singularName": info.singular, "namespaced": info.namespaced,
             "kind": info.kind, "verbs": list(info.verbs)}
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    entry["storageVersionHash"] = _storage_version_hash(info)
    out = [entry]
    for sub, speaks in info.subresources.items():
        sub_entry = {"name": f"{info.plural}/{sub}", "singularName": "", "namespaced": info.namespaced,
                     "kind": speaks[2] if speaks else info.kind, "verbs": list(SUBRESOURCE_VERBS[sub])}
        if speaks and speaks[0] != info.group:
            sub_entry["group"], sub_entry["version"] = speaks[0], speaks[1]
        out.append(sub_entry)
    return out


def _aggregated_resource(info) -> dict:
    entry = {"resource": info.plural,
             "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
             "scope": "Namespaced" if info.namespaced else "Cluster",
             "singularResource": info.singular, "verbs": list(info.verbs)}
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    subs = []
    for sub, speaks in info.subresources.items():
        g, v, k = speaks if speaks else (info.group, info.version, info.kind)
        subs.append({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": k},
                     "verbs": list(SUBRESOURCE_VERBS[sub])})
    if subs:
        entry["subresources"] = subs
    return entry


class Discovery:
    def __init__(self, registry):
        self.registry = registry
        self._cache = GenerationCache(registry)

    def _cached(self, key, build):
        def encoded():
            body = orjson.dumps(build())
            return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return self._cache.get(key, encoded)

    def api_versions(self, server_address: str) -> bytes:
        return orjson.dumps({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})

    def _group(self, group: str, versions: list[str]) -> dict:
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}

    def group_list(self) -> tuple[bytes, str]:
        return self._cached("groups", lambda: {
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": [self._group(g, vs) for g, vs in self.registry.groups() if g]})

    def group(self, group: str) -> tuple[bytes, str] | None:
        for g, versions in self.registry.groups():
            if g == group and g:
                return self._cached(("group", g), lambda: {"kind": "APIGroup", "apiVersion": "v1",
                                                           **self._group(g, versions)})
        return None

    def resource_list(self, group: str, version: str) -> tuple[bytes, str] | None:
        infos = self.registry.in_group_version(group, version)
        if not infos:
            return None

        def build():
            resources = []
            for info in sorted(infos, key=lambda i: i.plural):
                resources.extend(_resource_entries(info))
            return {"kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": f"{group}/{version}" if group else version, "resources": resources}
        return self._cached(("resources", group, version), build)

    def aggregated(self, legacy: bool, api_version: str) -> tuple[bytes, str]:
        """`/api` (legacy=True) or `/apis` as an APIGroupDiscoveryList."""
        def build():
            items = []
            for group, versions in self.registry.groups():
                if (group == "") != legacy:
                    continue
                items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": [
                    {"version": v, "freshness": "Current", "resources": [
                        _aggregated_resource(i) for i in sorted(self.registry.in_group_version(group, v),
                                                                key=lambda i: i.plural)]}
                    for v in versions]})
            return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{api_version}",
                    "metadata": {}, "items": items}
        return self._cached(("aggregated", legacy, api_version), build)
