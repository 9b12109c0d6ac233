"""Acknowledged writes survive kill -9; restarts keep objects, certificates and revision order."""
from __future__ import annotations

import threading
import time

import kubernetes
import pytest

from vapi.testing import ServerProcess


def _client(server):
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig)))


def test_kill_9_keeps_every_acknowledged_write(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        core = _client(server)
        acknowledged: list[tuple[str, int]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            i = 0
            while not stop.is_set():
                name = f"w{n}-{i}"
                try:
                    cm = core.create_namespaced_config_map("default", {"metadata": {"name": name}})
                except Exception:  # noqa: BLE001 - the server is being killed under us
                    return
                with lock:
                    acknowledged.append((name, int(cm.metadata.resource_version)))
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        server.kill()
        stop.set()
        for t in threads:
            t.join()
        assert len(acknowledged) > 50

        server.start()
        core = _client(server)
        stored = {c.metadata.name: int(c.metadata.resource_version)
                  for c in core.list_namespaced_config_map("default").items}
        missing = [name for name, _ in acknowledged if name not in stored]
        assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
        for name, rv in acknowledged:
            assert stored[name] == rv
        newest = max(rv for _, rv in acknowledged)
        after = core.create_namespaced_config_map("default", {"metadata": {"name": "after-crash"}})
        assert int(after.metadata.resource_version) > newest
    finally:
        server.cleanup()


def test_restart_keeps_objects_and_identity(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        core = _client(server)
        core.create_namespace({"metadata": {"name": "kept"}})
        cm = core.create_namespaced_config_map("kept", {"metadata": {"name": "c"}, "data": {"a": "b"}})
        ca = (server.data_dir / "pki" / "ca.crt").read_bytes()
        server.stop()
        server.start()
        # The kubeconfig written at first start still works: same CA, same admin certificate.
        assert (server.data_dir / "pki" / "ca.crt").read_bytes() == ca
        core = _client(server)
        again = core.read_namespaced_config_map("c", "kept")
        assert again.metadata.uid == cm.metadata.uid and again.data == {"a": "b"}
        newer = core.create_namespaced_config_map("kept", {"metadata": {"name": "d"}})
        assert int(newer.metadata.resource_version) > int(cm.metadata.resource_version)
    finally:
        server.cleanup()


def test_watch_from_compacted_revision_is_410(tmp_path):
    server = ServerProcess(tmp_path / "data", extra_args=("--history-events", "50")).start()
    try:
        core = _client(server)
        first = core.create_namespaced_config_map("default", {"metadata": {"name": "c"}, "data": {"n": "0"}})
        for i in range(400):
            core.patch_namespaced_config_map("c", "default", {"data": {"n": str(i)}})
        deadline = time.monotonic() + 20
        while True:
            w = kubernetes.watch.Watch()
            try:
                for _ in w.stream(core.list_namespaced_config_map, "default",
                                  resource_version=first.metadata.resource_version, timeout_seconds=1):
                    pass
            except kubernetes.client.ApiException as e:
                assert e.status == 410
                break
            assert time.monotonic() < deadline, "history was never compacted"
            time.sleep(0.5)
        with pytest.raises(kubernetes.client.ApiException) as err:
            core.list_namespaced_config_map("default", resource_version=first.metadata.resource_version,
                                            resource_version_match="Exact")
        assert err.value.status == 410
    finally:
        server.cleanup()
