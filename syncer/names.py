"""What a virtual object is called on the host, and the marks that say where it came from.

Names follow vcluster's rule so that operators who know it can read them: `NAME-x-NS-x-VC`,
and past 63 characters the first 52, a dash and the first 10 hex digits of the full name's
SHA-256 (a DNS label stays valid, and two long names differ).
"""
from __future__ import annotations

import hashlib

MAX_NAME = 63
KEPT = 52

MANAGED_BY = "vapi.dev/managed-by"            # label: the virtual cluster that owns a host object
NAMESPACE = "vapi.dev/namespace"              # label: its virtual namespace
ANCHOR = "vapi.dev/anchor"                    # label of the anchor ConfigMap
OBJECT_NAME = "vapi.dev/object-name"          # annotations: the virtual object it stands for
OBJECT_NAMESPACE = "vapi.dev/object-namespace"
OBJECT_UID = "vapi.dev/object-uid"
OBJECT_KIND = "vapi.dev/object-kind"
MANAGED_LABELS = "vapi.dev/managed-labels"    # annotations: the keys the syncer copied from the
MANAGED_ANNOTATIONS = "vapi.dev/managed-annotations"   # virtual object (see `metadata.py`)
PREFIX = "vapi.dev/"


def safe_concat(full: str) -> str:
    if len(full) <= MAX_NAME:
        return full
    return f"{full[:KEPT]}-{hashlib.sha256(full.encode()).hexdigest()[:10]}"


def host_name(name: str, namespace: str | None, vc: str) -> str:
    """A namespaced virtual object's name on the host; a cluster-scoped one's is `NAME-x-VC`."""
    return safe_concat(f"{name}-x-{namespace}-x-{vc}" if namespace else f"{name}-x-{vc}")


def anchor_name(vc: str) -> str:
    """The host ConfigMap every namespaced host object of `vc` is owned by."""
    return f"vapi-{vc}"


def origin(obj: dict) -> tuple[str | None, str] | None:
    """The virtual (namespace, name) a host object stands for, or None when it is not ours."""
    annotations = obj["metadata"].get("annotations") or {}
    name = annotations.get(OBJECT_NAME)
    if not name:
        return None
    return annotations.get(OBJECT_NAMESPACE) or None, name
