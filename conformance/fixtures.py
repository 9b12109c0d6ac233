"""Fixtures for running API cases against $KUBECONFIG, or against a fresh `vapi serve` when unset."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import kubernetes
import pytest

from vapi.testing import ServerProcess, run_kubectl

from .kubelet import played_node


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """(kubeconfig path, the ServerProcess or None when testing an outside cluster)."""
    given = os.environ.get("KUBECONFIG")
    if given:
        yield Path(given), None
        return
    server = ServerProcess(tmp_path_factory.mktemp("vapi-server"))
    server.start()
    try:
        yield server.kubeconfig, server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kubeconfig(cluster) -> Path:
    return cluster[0]


@pytest.fixture(scope="session")
def api_client(kubeconfig):
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    yield client
    client.close()


@pytest.fixture(scope="session")
def core(api_client):
    return kubernetes.client.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def apps(api_client):
    return kubernetes.client.AppsV1Api(api_client)


@pytest.fixture
def namespace(core):
    """A fresh namespace per test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except kubernetes.client.ApiException as e:
        if e.status != 404:
            raise


@pytest.fixture
def kubectl(kubeconfig, tmp_path):
    """kubectl(*args, version="1.33") runs that kubectl against the cluster with its own cache dir."""
    def run(*args, version=None, **kw):
        return run_kubectl(kubeconfig, *args, version=version, cache_dir=tmp_path / f"cache-{version}", **kw)
    return run


@pytest.fixture(scope="module")
def node_a(core):
    """Node `node-a`, for a module's pods that its cases bind there and report themselves."""
    with played_node(core) as name:
        yield name
