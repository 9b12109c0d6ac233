"""Labels and annotations between a virtual object and its host copy: the documented rule.

- A key the virtual object has is the virtual object's: the host copy gets its value, and a hand
  edit of it on the host is put back.
- A key the syncer once copied and the virtual object no longer has is removed from the host.
- A key added on the host (by a user or a host controller) that the syncer never copied is the
  host's: it stays there and is copied to the virtual object, which owns it from then on.
- Keys under `vapi.dev/` are the syncer's own marks and never cross.
The keys last copied are remembered on the host object (`vapi.dev/managed-labels`,
`vapi.dev/managed-annotations`), which is how "once copied" is told from "added on the host".
"""
from __future__ import annotations

from . import names


def _user_keys(values: dict | None) -> dict:
    return {k: v for k, v in (values or {}).items() if not k.startswith(names.PREFIX)}


def _managed(host_annotations: dict, mark: str) -> set[str]:
    listed = host_annotations.get(mark) or ""
    return {key for key in listed.split(",") if key}


def _one(virtual: dict, host: dict, managed: set[str]) -> tuple[dict, dict]:
    """(what the host copy carries, what the virtual object must gain) for one of labels or annotations."""
    on_host = {k: v for k, v in _user_keys(host).items() if k not in virtual and k not in managed}
    return {**on_host, **virtual}, on_host


def owned_by(anchor: dict) -> list[dict]:
    """The ownerReferences of a namespaced host object: the cluster's anchor ConfigMap."""
    return [{"apiVersion": "v1", "kind": "ConfigMap", "name": anchor["metadata"]["name"],
             "uid": anchor["metadata"]["uid"]}]


def host_metadata(vc: str, virtual: dict, kind: str, host: dict | None = None,
                  anchor: dict | None = None) -> tuple[dict, dict]:
    """The host copy's metadata for `virtual` (name and namespace left to the caller), and the
    labels and annotations the virtual object must gain from the host copy `host` (if any)."""
    vmeta = virtual["metadata"]
    hmeta = (host or {}).get("metadata") or {}
    host_annotations = hmeta.get("annotations") or {}
    labels = _user_keys(vmeta.get("labels"))
    annotations = {k: v for k, v in _user_keys(vmeta.get("annotations")).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    host_labels, gain_labels = _one(labels, hmeta.get("labels") or {},
                                    _managed(host_annotations, names.MANAGED_LABELS))
    host_notes, gain_notes = _one(annotations, host_annotations,
                                  _managed(host_annotations, names.MANAGED_ANNOTATIONS))
    host_labels[names.MANAGED_BY] = vc
    if vmeta.get("namespace"):
        host_labels[names.NAMESPACE] = vmeta["namespace"]
    host_notes.update({names.OBJECT_NAME: vmeta["name"], names.OBJECT_UID: vmeta.get("uid", ""),
                       names.OBJECT_KIND: kind,
                       names.MANAGED_LABELS: ",".join(sorted(labels)),
                       names.MANAGED_ANNOTATIONS: ",".join(sorted(annotations))})
    if vmeta.get("namespace"):
        host_notes[names.OBJECT_NAMESPACE] = vmeta["namespace"]
    meta = {"labels": host_labels, "annotations": host_notes}
    if anchor is not None:
        meta["ownerReferences"] = owned_by(anchor)
    gained = {}
    if gain_labels:
        gained["labels"] = gain_labels
    if gain_notes:
        gained["annotations"] = gain_notes
    return meta, gained
