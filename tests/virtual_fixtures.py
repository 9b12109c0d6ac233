"""A host cluster and virtual clusters on it, for the tests of virtual mode.

The host is a real standalone `vapi serve --nodes 2` (simulated kubelets that run, log, exec and
echo); a virtual cluster is a real `vapi serve --host-kubeconfig … --name …` on it. Modules take
the `host` and `vc1` fixtures (started once per module) or make more with `virtual_cluster`; the
root conftest loads this module as a plugin.
"""
from __future__ import annotations

import kubernetes
import pytest

from conformance.helpers import eventually

__all__ = ["apps", "core", "eventually", "start_virtual"]
from vapi.testing import ServerProcess


def start_virtual(host: ServerProcess, name: str, *args: str, data_dir=None) -> ServerProcess:
    return ServerProcess(data_dir=data_dir, extra_args=("--host-kubeconfig", str(host.kubeconfig), "--name", name,
                                                        *args)).start()


def core(server: ServerProcess) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig)))


def apps(server: ServerProcess) -> kubernetes.client.AppsV1Api:
    return kubernetes.client.AppsV1Api(kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig)))


@pytest.fixture(scope="module")
def host():
    server = ServerProcess(extra_args=("--nodes", "2")).start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def vc1(host):
    server = start_virtual(host, "vc1")
    yield server
    server.cleanup()


@pytest.fixture
def virtual_cluster(host):
    """Start more virtual clusters on the module's host; each is stopped after the test."""
    started = []

    def start(name: str, *args: str, data_dir=None) -> ServerProcess:
        started.append(start_virtual(host, name, *args, data_dir=data_dir))
        return started[-1]
    yield start
    for server in started:
        server.cleanup()
