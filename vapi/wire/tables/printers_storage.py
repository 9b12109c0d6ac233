"""The printers of storage.k8s.io (volumes and claims are core kinds: printers_core)."""
from __future__ import annotations

from .cells import (AGE, Cell, Column, Doc, META, NAME, NONE, Printer, UNSET, annotation_of, count, field,
                    name_of, printer, value_at)


def _default_marked(*annotations: str) -> Cell:
    def cell(o, now):
        default = any(annotation_of(o, a) == "true" for a in annotations)
        return name_of(o, now) + (" (default)" if default else "")
    return cell


def _token_requests(o, now):
    requests = value_at(o, "spec.tokenRequests")
    return UNSET if requests is None else ",".join(t.get("audience", "") for t in requests)


PRINTERS: dict[tuple[str, str], Printer] = {
    ("storage.k8s.io", "storageclasses"): printer(
        Column("Name", _default_marked("storageclass.kubernetes.io/is-default-class",
                                    "storageclass.beta.kubernetes.io/is-default-class"), Doc(META, "name"),
               format="name"),
        Column("Provisioner", field("provisioner"), Doc("storage.v1.StorageClass", "provisioner")),
        Column("ReclaimPolicy", field("reclaimPolicy", "Delete"), Doc("storage.v1.StorageClass", "reclaimPolicy")),
        Column("VolumeBindingMode", field("volumeBindingMode", "Immediate"),
               Doc("storage.v1.StorageClass", "volumeBindingMode")),
        Column("AllowVolumeExpansion", field("allowVolumeExpansion", False),
               Doc("storage.v1.StorageClass", "allowVolumeExpansion")), AGE),
    ("storage.k8s.io", "volumeattributesclasses"): printer(
        Column("Name", _default_marked("volumeattributesclass.alpha.kubernetes.io/is-default-class"),
               Doc(META, "name"), format="name"),
        Column("DriverName", field("driverName"), Doc("storage.v1beta1.VolumeAttributesClass", "driverName")), AGE),
    ("storage.k8s.io", "volumeattachments"): printer(
        NAME, Column("Attacher", field("spec.attacher"), Doc("storage.v1.VolumeAttachmentSpec", "attacher"),
                     format="name"),
        Column("PV", field("spec.source.persistentVolumeName"),
               Doc("storage.v1.VolumeAttachmentSource", "persistentVolumeName")),
        Column("Node", field("spec.nodeName"), Doc("storage.v1.VolumeAttachmentSpec", "nodeName")),
        Column("Attached", field("status.attached", False), Doc("storage.v1.VolumeAttachmentStatus", "attached"),
               "boolean"), AGE),
    ("storage.k8s.io", "csinodes"): printer(
        NAME, Column("Drivers", count("spec.drivers"),
                     "Drivers indicates the number of CSI drivers registered on the node", "integer"), AGE),
    ("storage.k8s.io", "csidrivers"): printer(
        NAME, *(Column(title, field(f"spec.{key}", default), Doc("storage.v1.CSIDriverSpec", key), "boolean")
                for title, key, default in (("AttachRequired", "attachRequired", True),
                                            ("PodInfoOnMount", "podInfoOnMount", False),
                                            ("StorageCapacity", "storageCapacity", False))),
        Column("TokenRequests", _token_requests, Doc("storage.v1.CSIDriverSpec", "tokenRequests")),
        Column("RequiresRepublish", field("spec.requiresRepublish", False),
               Doc("storage.v1.CSIDriverSpec", "requiresRepublish"), "boolean"),
        Column("Modes", lambda o, now: ",".join(value_at(o, "spec.volumeLifecycleModes") or []) or NONE,
               Doc("storage.v1.CSIDriverSpec", "volumeLifecycleModes")), AGE),
}
