"""The syncer's configuration (`vapi serve --config FILE`): what is synced, in vcluster's shape.

Keys follow vcluster's `sync.toHost.<kind>` / `sync.fromHost.<kind>` so that its users recognise
them; the defaults are vcluster's (pods, services, endpoints, persistentVolumeClaims, and the
configMaps and secrets pods use, to the host; events from it; fake nodes). A key this version
does not know is refused at start, so a typo never silently turns a kind off.
"""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

DEFAULTS: dict = {
    "sync": {
        "toHost": {
            "pods": {"enabled": True, "translateImage": {}, "enforceTolerations": [],
                     "enforceNodeSelector": {}, "dns": {"nameservers": []},
                     # refresh a pod's service-account token once this share of its life is gone
                     # (the kubelet's 80%)
                     "serviceAccountTokens": {"refreshAfter": 0.8}},
            "services": {"enabled": True},
            "endpoints": {"enabled": True},
            "persistentVolumeClaims": {"enabled": True},
            "configMaps": {"enabled": True, "all": False},
            "secrets": {"enabled": True, "all": False},
            "ingresses": {"enabled": False},
            "networkPolicies": {"enabled": False},
            "podDisruptionBudgets": {"enabled": False},
            "serviceAccounts": {"enabled": False},
            "priorityClasses": {"enabled": False},
        },
        "fromHost": {
            "events": {"enabled": True},
            # enabled false: fake nodes named as the host's; true: the host's real nodes, those
            # running this cluster's pods, or all (`selector.all`), or those matching `selector.labels`
            "nodes": {"enabled": False, "selector": {"all": False, "labels": {}}},
            "storageClasses": {"enabled": False},
            "ingressClasses": {"enabled": False},
            "persistentVolumes": {"enabled": False},
        },
    },
}


class ConfigError(ValueError):
    pass


def _merge(defaults: dict, given: dict, where: str) -> dict:
    merged = copy.deepcopy(defaults)
    for key, value in (given or {}).items():
        if key not in defaults:
            raise ConfigError(f"unknown key {where}{key} (known: {', '.join(sorted(defaults))})")
        if isinstance(defaults[key], dict) and defaults[key] and not isinstance(value, dict):
            raise ConfigError(f"{where}{key} must be a mapping")
        merged[key] = _merge(defaults[key], value, f"{where}{key}.") \
            if isinstance(defaults[key], dict) and defaults[key] else value
    return merged


class SyncConfig:
    def __init__(self, data: dict | None = None):
        if data is not None and not isinstance(data, dict):
            raise ConfigError("the configuration must be a mapping")
        self.data = _merge(DEFAULTS, data or {}, "")

    @classmethod
    def load(cls, path: Path | None) -> SyncConfig:
        if path is None:
            return cls()
        try:
            return cls(yaml.safe_load(Path(path).read_text()))
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: {e}") from None

    def kind(self, direction: str, kind: str) -> dict:
        """`direction` is toHost or fromHost; `kind` vcluster's key (pods, configMaps...)."""
        return self.data["sync"][direction][kind]

    def enabled(self, direction: str, kind: str) -> bool:
        return bool(self.kind(direction, kind).get("enabled"))
