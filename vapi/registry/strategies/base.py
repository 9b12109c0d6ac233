"""What every kind does on its way into and out of storage, and the hooks a kind may change.

The generic store (`vapi/api.py`) asks a kind's strategy, never its name: kube-apiserver's
registry strategies (PrepareForCreate, PrepareForUpdate, Validate, AllowCreateOnUpdate…) are the
model. A strategy is built once per served resource by the registry, so per-write work is only
what the write itself needs.
"""
from __future__ import annotations

import copy
import datetime
import functools
import time
import uuid

from ...writes.fieldmanager import FieldManager
from .. import selectors


def now_rfc3339() -> str:
    return rfc3339(int(time.time()))


# Writes stamp the time to the second, many of them in the same second: each is formatted once.
@functools.lru_cache(maxsize=1)
def rfc3339(second: int) -> str:
    """A Unix second as metav1.Time writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


def micro_rfc3339(t: datetime.datetime) -> str:
    """A UTC time as metav1.MicroTime writes it (microseconds, Z)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _spec_part(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class ScalePaths:
    """Where a scalable kind keeps its replicas, as dotted paths (kube's scale subresource)."""

    def __init__(self, spec_replicas: str, status_replicas: str, label_selector: str | None = None):
        self.spec_replicas = spec_replicas
        self.status_replicas = status_replicas
        self.label_selector = label_selector


class Strategy:
    """The behaviour of one served resource. Subclasses fill in the family's (built-in or custom)
    schema work; per-kind subclasses override only the hooks their kind needs."""

    # Set by the family: does metadata.generation count spec changes?
    has_generation = False
    # Whether validating one object may take long enough to need a thread (CRDs with CEL rules).
    validates_off_loop = False
    # What status a created object starts with (a copy is stored), or None to keep/drop the sent one.
    initial_status: dict | None = None
    # Whether clients may write status together with the object (kubelets posting Nodes, Events).
    status_on_create = False
    # Finalizers every new object of the kind carries.
    create_finalizers: tuple[str, ...] = ()
    # Review kinds answer a question instead of storing the object.
    stores = True
    # Kinds computed on each read (the metrics API): `read` and `read_list` answer, nothing is stored.
    computed = False
    # Custom resources are maps to kube, not Go structs: their JSON keys come out sorted.
    unstructured = False
    # (group, plural) whose objects this resource serves in another shape (events.k8s.io Events are
    # core Events), or None when it stores its own; `served`/`stored` convert.
    stored_as: tuple[str, str] | None = None

    def __init__(self, info, schemas):
        self.info = info
        self.schemas = schemas
        self.has_status_subresource = "status" in info.subresources
        self._field_managers: dict[str | None, FieldManager] = {}

    # --- decoding, defaulting, validation: the family's schema work ------------------------------

    def decode(self, obj: dict) -> list[str]:
        """Check the body decodes into the kind (raising a 400 StatusError if not); drop and return
        the paths of unknown fields for the request's field validation to judge."""
        raise NotImplementedError

    def default(self, obj: dict) -> None:
        raise NotImplementedError

    def validate(self, obj: dict, old: dict | None, subresource: str | None) -> list[dict]:
        """StatusCauses of what is invalid in a create (old None) or an update."""
        raise NotImplementedError

    def _schema(self) -> tuple[dict | None, object]:
        """(schema of the kind, resolver of its references) for field ownership."""
        raise NotImplementedError

    # --- the object's life ----------------------------------------------------------------------

    def prepare_for_create(self, obj: dict, user=None) -> None:
        """`user` is who creates it, for kinds that record their requestor (CSRs)."""
        meta = obj.setdefault("metadata", {})
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(field, None)
        if self.has_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if self.create_finalizers:
            finalizers = meta.setdefault("finalizers", [])
            finalizers.extend(f for f in self.create_finalizers if f not in finalizers)
        if self.initial_status is not None:
            obj["status"] = copy.deepcopy(self.initial_status)
        elif self.has_status_subresource and not self.status_on_create:
            obj.pop("status", None)

    def prepare_for_update(self, obj: dict, old: dict, subresource: str | None) -> None:
        """Carry over what an update of this (sub)resource may not change, and count generations."""
        meta, old_meta = obj.setdefault("metadata", {}), old["metadata"]
        for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "generation"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if subresource == "status":
            # A status write changes status only; metadata changes beyond labels/annotations are dropped too.
            kept = {k: v for k, v in old.items() if k != "status"}
            status = obj.get("status")
            obj.clear()
            obj.update(copy.deepcopy(kept))
            if status is not None:
                obj["status"] = status
            return
        self.keep_on_update(obj, old)
        if self.has_status_subresource:
            if "status" in old:
                obj["status"] = copy.deepcopy(old["status"])
            else:
                obj.pop("status", None)
        if self.has_generation and _spec_part(obj) != _spec_part(old):
            meta["generation"] = old_meta.get("generation", 0) + 1

    def canonicalize(self, obj: dict) -> None:
        """The kind's normal form, once the object has its name (kube's Strategy.Canonicalize)."""

    def keep_on_update(self, obj: dict, old: dict) -> None:
        """What a main-resource update that leaves a field out keeps from the stored object."""

    def prepare_for_delete(self, obj: dict) -> None:
        """What changes when an object starts its graceful or finalized deletion."""

    def allocate(self, api, obj: dict) -> None:
        """Hand out what the cluster allocates to a new object (cluster IPs, node ports)."""

    def grace_period(self, obj: dict, requested: int | None) -> int:
        """Seconds a delete waits for someone (a kubelet) to finish the object first; 0: none."""
        return 0

    def pending_finalizers(self, obj: dict) -> bool:
        return bool(obj["metadata"].get("finalizers"))

    def answer(self, obj: dict, user, namespace: str | None) -> dict:
        raise NotImplementedError

    def read(self, api, namespace: str | None, name: str) -> dict:
        raise NotImplementedError

    def read_list(self, api, namespace: str | None, opts) -> dict:
        raise NotImplementedError

    # --- reads and wire shapes -------------------------------------------------------------------

    def served(self, obj: dict) -> dict:
        """A stored object in this resource's shape (only for `stored_as` resources)."""
        return obj

    def stored(self, obj: dict) -> dict:
        return obj

    def in_wire_order(self, obj: dict) -> dict:
        """The object with its keys in the order kube's encoder writes them; stored that way, so
        reads answer it as they find it."""
        return obj

    @functools.cached_property
    def field_set(self) -> selectors.FieldSet:
        return selectors.builtin_field_set(self.info.group, self.info.plural)

    def field_selector(self, text: str) -> selectors.FieldSelector:
        return selectors.parse_field_selector(text, self.field_set)

    # The typed kind whose patch strategies a strategic merge patch follows; None: kube refuses
    # strategic merges (custom resources have no Go types to carry them).
    strategic_merge_kind: tuple[str, str, str] | None = None

    # Custom resources name their own Table columns; None: the built-in printer of the resource.
    printer_columns: list[dict] | None = None

    @functools.cached_property
    def scale(self) -> ScalePaths | None:
        if "scale" not in self.info.subresources:
            return None
        return ScalePaths("spec.replicas", "status.replicas")

    # --- field ownership --------------------------------------------------------------------------

    def field_manager(self, subresource: str | None) -> FieldManager:
        manager = self._field_managers.get(subresource)
        if manager is None:
            # kube's ResetFields: a write to one part of the object never owns the part another writes.
            if subresource == "status":
                reset = [("spec",)]
            elif subresource is None and self.has_status_subresource:
                reset = [("status",)]
            else:
                reset = []
            schema, resolve = self._schema()
            manager = self._field_managers[subresource] = FieldManager(
                schema, resolve, self.info.group_version, reset_paths=reset)
        return manager
