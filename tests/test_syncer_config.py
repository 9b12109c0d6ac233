"""The syncer's configuration: vcluster's keys, its defaults, and refusals at start."""
from __future__ import annotations

import subprocess
import sys

import pytest

from syncer.config import ConfigError, SyncConfig


def test_vclusters_defaults():
    config = SyncConfig()
    synced = [k for k in ("pods", "services", "endpoints", "persistentVolumeClaims", "configMaps", "secrets",
                          "ingresses", "networkPolicies", "podDisruptionBudgets", "serviceAccounts",
                          "priorityClasses") if config.enabled("toHost", k)]
    assert synced == ["pods", "services", "endpoints", "persistentVolumeClaims", "configMaps", "secrets"]
    assert config.kind("toHost", "configMaps")["all"] is False
    assert config.enabled("fromHost", "events") and not config.enabled("fromHost", "nodes")


def test_given_keys_are_merged_over_the_defaults():
    config = SyncConfig({"sync": {"toHost": {"ingresses": {"enabled": True},
                                             "pods": {"translateImage": {"nginx": "mirror/nginx"}}}}})
    assert config.enabled("toHost", "ingresses")
    assert config.kind("toHost", "pods")["translateImage"] == {"nginx": "mirror/nginx"}
    assert config.kind("toHost", "pods")["enabled"] is True   # what was not given keeps its default


@pytest.mark.parametrize("data, message", [
    ({"sync": {"toHost": {"podz": {"enabled": True}}}}, "unknown key sync.toHost.podz"),
    ({"sink": {}}, "unknown key sink"),
    ({"sync": {"toHost": {"pods": True}}}, "sync.toHost.pods must be a mapping"),
    (["sync"], "the configuration must be a mapping"),
])
def test_unknown_or_misshapen_keys_are_refused(data, message):
    with pytest.raises(ConfigError, match=message):
        SyncConfig(data)


def _serve(*args):
    return subprocess.run([sys.executable, "-m", "vapi", "serve", "--port", "0", *args],
                          capture_output=True, text=True, timeout=30)


def test_serve_refuses_a_bad_virtual_setup_before_it_starts(tmp_path):
    kubeconfig = tmp_path / "host.yaml"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    config = tmp_path / "sync.yaml"
    config.write_text("sync:\n  toHost:\n    podz: {enabled: true}\n")
    data = ("--data-dir", str(tmp_path / "d"))
    unnamed = _serve(*data, "--host-kubeconfig", str(kubeconfig))
    assert unnamed.returncode == 2 and "--host-kubeconfig needs --name" in unnamed.stderr
    missing = _serve(*data, "--host-kubeconfig", str(tmp_path / "nope.yaml"), "--name", "vc1")
    assert missing.returncode == 2 and "no file" in missing.stderr
    bad = _serve(*data, "--host-kubeconfig", str(kubeconfig), "--name", "vc1", "--config", str(config))
    assert bad.returncode == 2 and "unknown key sync.toHost.podz" in bad.stderr
    upper = _serve(*data, "--host-kubeconfig", str(kubeconfig), "--name", "VC1")
    assert upper.returncode == 2
