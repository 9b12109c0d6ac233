"""Garbage collection by ownerReferences: background, foreground and orphan propagation, several
owners, and dependents whose owner never existed (kube's garbage collector semantics)."""
from __future__ import annotations

import time

import kubernetes
import pytest


def _owner(core, namespace, name, finalizers=None):
    meta = {"name": name, **({"finalizers": finalizers} if finalizers else {})}
    return core.create_namespaced_config_map(namespace, {"metadata": meta}).metadata


def _ref(owner, block=False):
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": owner.name, "uid": owner.uid,
            **({"blockOwnerDeletion": True} if block else {})}


def _dependent(core, namespace, name, *owners, block=False, finalizers=None):
    meta = {"name": name, "ownerReferences": [_ref(o, block) for o in owners],
            **({"finalizers": finalizers} if finalizers else {})}
    return core.create_namespaced_config_map(namespace, {"metadata": meta}).metadata


def _read(core, namespace, name):
    try:
        return core.read_namespaced_config_map(name, namespace)
    except kubernetes.client.ApiException as e:
        assert e.status == 404
        return None


def _eventually(check, seconds=10.0):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def _delete(core, namespace, name, policy):
    core.delete_namespaced_config_map(name, namespace, body={"propagationPolicy": policy})


def test_background_deletion_collects_dependents(core, namespace):
    owner = _owner(core, namespace, "owner")
    for i in range(20):
        _dependent(core, namespace, f"dep-{i}", owner)
    _delete(core, namespace, "owner", "Background")
    assert _read(core, namespace, "owner") is None  # the owner goes at once
    _eventually(lambda: all(_read(core, namespace, f"dep-{i}") is None for i in range(20)))


def test_foreground_deletion_waits_for_blocking_dependents(core, namespace):
    owner = _owner(core, namespace, "owner")
    _dependent(core, namespace, "held", owner, block=True, finalizers=["example.com/hold"])
    _delete(core, namespace, "owner", "Foreground")
    waiting = _read(core, namespace, "owner")
    assert waiting.metadata.deletion_timestamp and "foregroundDeletion" in waiting.metadata.finalizers
    held = _eventually(lambda: (d := _read(core, namespace, "held")) and d.metadata.deletion_timestamp and d)
    assert held is not None
    time.sleep(0.5)
    assert _read(core, namespace, "owner") is not None  # still waiting for its dependent
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    _eventually(lambda: _read(core, namespace, "owner") is None)


def test_orphan_deletion_keeps_dependents_without_the_reference(core, namespace):
    owner = _owner(core, namespace, "owner")
    _dependent(core, namespace, "kept", owner)
    _delete(core, namespace, "owner", "Orphan")
    _eventually(lambda: _read(core, namespace, "owner") is None)
    kept = _read(core, namespace, "kept")
    assert kept is not None and not kept.metadata.owner_references


def test_a_dependent_with_a_live_owner_only_loses_the_dead_reference(core, namespace):
    first, second = _owner(core, namespace, "first"), _owner(core, namespace, "second")
    _dependent(core, namespace, "shared", first, second)
    _delete(core, namespace, "first", "Background")
    shared = _eventually(lambda: (d := _read(core, namespace, "shared")) and len(d.metadata.owner_references) == 1
                         and d)
    assert shared.metadata.owner_references[0].name == "second"


def test_a_dependent_of_an_owner_that_never_existed_is_collected(core, namespace):
    ghost = kubernetes.client.V1ObjectMeta(name="ghost", uid="00000000-0000-0000-0000-000000000000")
    _dependent(core, namespace, "orphaned", ghost)
    _eventually(lambda: _read(core, namespace, "orphaned") is None)


@pytest.mark.parametrize("policy", ["Foreground", "Background"])
def test_a_chain_of_owners_is_collected_to_the_end(core, namespace, policy):
    top = _owner(core, namespace, "top")
    middle = _dependent(core, namespace, "middle", top, block=True)
    _dependent(core, namespace, "bottom", middle, block=True)
    _delete(core, namespace, "top", policy)
    _eventually(lambda: all(_read(core, namespace, n) is None for n in ("top", "middle", "bottom")))
