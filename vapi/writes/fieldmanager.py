"""Server-side apply and `metadata.managedFields`, as kube-apiserver keeps them.

kube records, for every object, which manager set which field: one entry per manager, operation
(`Apply` or `Update`), apiVersion and subresource, holding a set of field paths in the FieldsV1
encoding. This follows kube's structured-merge-diff (`fieldpath`, `typed`, `merge/update.go`) and
the manager layers of apimachinery's `managedfields/internal`:

- A path steps through maps by field name (`f:`), through associative lists by the element's key
  fields (`k:`) or, for sets of scalars, by value (`v:`). Atomic maps and lists are owned whole.
  The schema says which is which: `x-kubernetes-list-type` (and, for older fields, a patch merge
  key), `x-kubernetes-map-type`; anything the schema does not describe is "deduced": its maps are
  granular, its lists atomic.
- A write other than apply compares the object before and after it: the manager of the write takes
  every field it added or changed, and those fields and the removed ones leave every other manager.
- An apply merges the configuration into the object, takes exactly the configuration's fields,
  removes what the same manager applied last time but no longer does (unless someone else owns
  it), and conflicts when it changes a field another manager owns, unless forced.

Objects here are JSON, where kube walks Go structs: a null stands for an unset field, and the
"zero" object a create starts from is rebuilt from the kind's schema (see `Typer.zero`).
"""
from __future__ import annotations

import copy
import datetime
import json
from typing import NamedTuple

from admission.gotime import parse_rfc3339

from .fieldpaths import ABSENT, path_text, PathSet, field_paths, STRIPPED, go_json
from .patch import PatchError
from .typedfields import Typer, fields_v1

__all__ = ["LAST_APPLIED", "ApplyConflict", "FieldManager", "fields_v1"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# kube folds the oldest update entries into "ancient-changes" once there are more than this many.
MAX_UPDATE_MANAGERS = 10
_ANCIENT_CHANGES = "ancient-changes"
# Who owns the fields of an object first applied to after being written without field tracking.
_BEFORE_FIRST_APPLY = "before-first-apply"
# The only manager whose applies keep kubectl's client-side-apply annotation in step.
_KUBECTL = "kubectl"
_ANNOTATIONS_LIMIT = 256 * 1024


# --- managers --------------------------------------------------------------------------------------

class _Identity(NamedTuple):
    """Who an entry belongs to. Appliers keep one entry whatever apiVersion they apply with."""
    manager: str
    operation: str
    api_version: str
    subresource: str

    def json(self) -> str:
        """kube's identifier for the manager, which orders managers in conflict messages."""
        entry = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version,
                 "subresource": self.subresource}
        return _go_json_ordered({k: v for k, v in entry.items() if v})

    def printed(self) -> str:
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource, ensure_ascii=False)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


def _go_json_ordered(value: dict) -> str:
    """Go's JSON of a struct, whose fields keep their declared order."""
    return "{" + ",".join(f"{go_json(k)}:{go_json(v)}" for k, v in value.items()) + "}"


class _Entry(NamedTuple):
    fields: PathSet
    api_version: str
    applied: bool
    time: str | None


def _seconds(time: str | None) -> int:
    return int(parse_rfc3339(time).timestamp()) if time else 0


def _decode(entries) -> dict[_Identity, _Entry]:
    """The managers of stored managedFields; ValueError with kube's words when they are invalid."""
    if entries is None or entries is ABSENT:
        return {}
    if not isinstance(entries, list):
        raise ValueError("managedFields must be a list")
    out = {}
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"managed fields entry {number} must be an object")
        operation, version, kind = entry.get("operation"), entry.get("apiVersion"), entry.get("fieldsType")
        if operation not in ("Apply", "Update"):
            raise ValueError("operation must be `Apply` or `Update`")
        if not version:
            raise ValueError("apiVersion must not be empty")
        if kind != "FieldsV1":
            raise ValueError(f"invalid fieldsType {json.dumps(kind)} in managed fields entry {number}" if kind
                             else f"missing fieldsType in managed fields entry {number}")
        time = entry.get("time")
        if time is not None:
            time = parse_rfc3339(time).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        identity = _Identity(entry.get("manager") or "", operation, "" if operation == "Apply" else version,
                             entry.get("subresource") or "")
        out[identity] = _Entry(PathSet.from_fields_v1(entry.get("fieldsV1") or {}), version,
                               operation == "Apply", time)
    return out


def _encode(managers: dict[_Identity, _Entry]) -> list[dict]:
    def order(item):
        who, entry = item
        return (who.operation, _seconds(entry.time), who.manager, entry.api_version, who.subresource)

    out = []
    for who, entry in sorted(managers.items(), key=order):
        encoded = {"manager": who.manager, "operation": who.operation, "apiVersion": entry.api_version,
                   "time": entry.time, "fieldsType": "FieldsV1", "fieldsV1": entry.fields.fields_v1(),
                   "subresource": who.subresource}
        out.append({k: v for k, v in encoded.items() if v or k == "fieldsV1"})
    return out


def _is_reset(sent) -> bool:
    """Whether a write asks to drop all managedFields: [] or a single empty entry."""
    if not isinstance(sent, list) or len(sent) > 1:
        return False
    return not sent or (isinstance(sent[0], dict) and all(v in (None, "") for v in sent[0].values()))


def _cap(managers: dict[_Identity, _Entry]) -> dict[_Identity, _Entry]:
    """At most MAX_UPDATE_MANAGERS update entries: the oldest fold into one "ancient-changes"
    entry per apiVersion (kube's capManagersManager)."""
    updaters = [who for who, entry in managers.items() if not entry.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return managers
    updaters.sort(key=lambda who: (_seconds(managers[who].time), who.json()))
    managers, first_of_version, count = dict(managers), {}, len(updaters)
    for who in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        entry = managers[who]
        bucket = _Identity(_ANCIENT_CHANGES, "Update", entry.api_version, "")
        # kube would fold a bucket into itself and lose it; a bucket only ever receives.
        if who == bucket or entry.api_version not in first_of_version:
            first_of_version.setdefault(entry.api_version, who)
            continue
        if bucket not in managers:
            managers[bucket] = managers.pop(first_of_version[entry.api_version])
        fields = entry.fields.union(managers[bucket].fields)
        managers[bucket] = _Entry(fields, entry.api_version, False, entry.time)
        del managers[who]
        count -= 1
    return managers


def _content(obj: dict) -> dict:
    """A copy of obj as kube compares it: no managedFields, no nulls (unset, in Go)."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out = clean(obj)
    if isinstance(out.get("metadata"), dict):
        out["metadata"].pop("managedFields", None)
    return out


def _last_applied(config: dict) -> str:
    """kubectl's client-side-apply annotation for config, as kube rewrites it after an apply."""
    applied = copy.deepcopy(config)
    meta = applied.get("metadata")
    if isinstance(meta, dict):
        if isinstance(meta.get("annotations"), dict):
            meta["annotations"].pop(LAST_APPLIED, None)
        else:
            meta.pop("annotations", None)
    return go_json(applied) + "\n"


def _described(config: dict) -> str:
    """The object as kube names it in apply errors: namespace/name; group/version, Kind=kind."""
    meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
    api_version = str(config.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    name = f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"
    return f"{name}; {group}/{version}, Kind={config.get('kind') or ''}"


class _Conflicts(Exception):
    def __init__(self, conflicts: dict[_Identity, PathSet]):
        super().__init__("apply conflicts")
        self.conflicts = conflicts


class ApplyConflict(Exception):
    """An apply that would change fields other managers own. kube answers 409 Conflict with
    `message()` and `causes()` (reason FieldManagerConflict)."""

    def __init__(self, conflicts: dict[_Identity, PathSet]):
        rows = [(who, path) for who in sorted(conflicts, key=_Identity.json) for path in conflicts[who].paths()]
        # (manager, field path), in the order kube reports them.
        self.conflicts: list[tuple[str, str]] = [(who.manager, path_text(path)) for who, path in rows]
        self._rows = [(who.printed(), path_text(path)) for who, path in rows]
        super().__init__(self.message())

    def message(self) -> str:
        if len(self._rows) == 1:
            who, path = self._rows[0]
            return f"Apply failed with 1 conflict: conflict with {who}: {path}"
        lines, previous = [], None
        for who, path in self._rows:
            if who != previous:
                lines.append(f"conflicts with {who}:")
                previous = who
            lines.append(f"- {path}")
        return f"Apply failed with {len(self._rows)} conflicts: " + "\n".join(lines)

    def causes(self) -> list[dict]:
        return [{"reason": "FieldManagerConflict", "message": f"conflict with {who}", "field": path}
                for who, path in self._rows]


class FieldManager:
    """managedFields for the objects of one kind, served at `api_version`.

    `reset_paths` are the fields the (sub)resource being written resets (kube's ResetFields): no
    write to it owns them or takes them from others, e.g. [("status",)] for a main resource with a
    status subresource, [("spec",)] for that status subresource.
    """

    def __init__(self, schema: dict | None, resolve, api_version: str, reset_paths=()):
        self._typer = Typer.of(schema, resolve)
        self.api_version = api_version
        self._reset = field_paths(reset_paths)

    def update(self, old: dict | None, new: dict, manager: str, *, subresource: str = "", now: str) -> None:
        """Record a create (old None), update or non-apply patch by `manager` in new's managedFields.

        managedFields the client sent are kept, except through a subresource; [] or [{}] drop them
        all. Without them the live object's carry on. An existing object without managedFields
        stays without: kube tracks fields from the create or from the first apply."""
        meta = new.setdefault("metadata", {})
        sent = meta.pop("managedFields", ABSENT)
        live = (old or {}).get("metadata", {}).get("managedFields")
        managers = self._sent_or_live(sent, live, subresource)
        if not managers and old is not None:
            return
        who = _Identity(manager or "unknown", "Update", self.api_version, subresource)
        start = _content(old) if old is not None else self._typer.zero
        managers = self._record_update(start, _content(new), managers, who, now)
        if managers:
            meta["managedFields"] = _encode(managers)

    def apply(self, live: dict | None, config: dict, manager: str, *, force: bool, subresource: str = "",
              now: str) -> dict:
        """The object after applying config as `manager` (live None: the object it creates), with
        its managedFields. Raises ApplyConflict, or PatchError for a configuration kube refuses."""
        if (config.get("metadata") or {}).get("managedFields") is not None:
            raise PatchError("metadata.managedFields must be nil", 400)
        errors: list[str] = []
        config_fields = self._typer.field_set(config, errors)
        if errors:
            detail = errors[0] if len(errors) == 1 else "errors:\n" + "\n".join(f"  {e}" for e in errors)
            raise PatchError(f"failed to create typed patch object ({_described(config)}): {detail}")
        try:
            managers = _decode((live or {}).get("metadata", {}).get("managedFields"))
        except ValueError as err:
            raise PatchError(f"failed to decode managed fields: {err}") from None
        base = _content(live) if live is not None else {}
        if not managers and live is not None:
            # The object was written untracked: whoever wrote it so far owns all of it now.
            first = _Identity(_BEFORE_FIRST_APPLY, "Update", self.api_version, subresource)
            managers = self._record_update(self._typer.zero, base, managers, first, now)
        who = _Identity(manager or "unknown", "Apply", "", subresource)
        try:
            merged, managers = self._apply(base, config, config_fields, managers, who, force, now)
        except _Conflicts as err:
            remaining = self._not_applied_by_kubectl(base, err.conflicts) if manager == _KUBECTL else err.conflicts
            if remaining:
                raise ApplyConflict(remaining) from None
            merged, managers = self._apply(base, config, config_fields, managers, who, True, now)
        result = copy.deepcopy(live) if live is not None and merged == base else merged
        meta = result.setdefault("metadata", {})
        meta.pop("managedFields", None)
        if managers:
            meta["managedFields"] = _encode(managers)
        annotations = meta.get("annotations")
        if manager == _KUBECTL and isinstance(annotations, dict) and annotations.get(LAST_APPLIED):
            # Keeps a later client-side `kubectl apply` from undoing this one.
            annotations[LAST_APPLIED] = _last_applied(config)
            if sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items()) > _ANNOTATIONS_LIMIT:
                del annotations[LAST_APPLIED]
        return result

    def _sent_or_live(self, sent, live, subresource: str) -> dict[_Identity, _Entry]:
        if not subresource and sent is not ABSENT:
            if _is_reset(sent):
                return {}
            try:
                managers = _decode(sent)
            except ValueError:
                managers = {}
            if managers:
                return managers
        try:
            return _decode(live)
        except ValueError:
            return {}

    def _record_update(self, old: dict, new: dict, managers, who: _Identity, now: str) -> dict[_Identity, _Entry]:
        diff = self._typer.compare(old, new).excluding(self._reset)
        changed = diff.changed()
        taken = changed.union(diff.removed)
        managers = {w: e._replace(fields=e.fields.difference(taken)) for w, e in managers.items()}
        managers = {w: e for w, e in managers.items() if e.fields}
        mine = changed.difference(diff.removed).difference(STRIPPED)
        if mine:
            previous = managers.get(who)
            fields = mine.union(previous.fields) if previous else mine
            managers[who] = _Entry(fields, self.api_version, False, now)
        return _cap(managers)

    def _apply(self, live: dict, config: dict, config_fields: PathSet, managers, who: _Identity, force: bool,
               now: str) -> tuple[dict, dict[_Identity, _Entry]]:
        merged = self._typer.merge(live, config)
        last = managers.get(who)
        managers = dict(managers)
        managers[who] = _Entry(config_fields.difference(self._reset, recursive=True), self.api_version, True,
                               last.time if last else None)
        merged = self._prune(merged, managers, last)
        diff = self._typer.compare(live, merged).excluding(self._reset)
        changed = diff.changed()
        conflicts = {w: e.fields.intersection(changed) for w, e in managers.items() if w != who}
        conflicts = {w: fields for w, fields in conflicts.items() if fields}
        if conflicts and not force:
            raise _Conflicts(conflicts)
        out = {}
        for w, entry in managers.items():
            fields = entry.fields.difference(STRIPPED) if w == who else \
                entry.fields.difference(changed).difference(diff.removed)
            if fields:
                out[w] = entry._replace(fields=fields, time=now if w == who and merged != live else entry.time)
        return merged, out

    def _prune(self, merged: dict, managers, last: _Entry | None) -> dict:
        """Remove what the applier applied last time and no longer does, unless someone (the applier
        included) still owns it, and only what the applier owned (kube's Updater.prune)."""
        if last is None or not last.fields:
            return merged
        t = self._typer
        last_fields = t.ensure_named(last.fields)
        pruned = t.remove(merged, last_fields)
        owned = PathSet()
        for entry in managers.values():
            owned = owned.union(entry.fields)
        everything = t.ensure_named(t.field_set(merged))
        kept = t.ensure_named(t.field_set(pruned)).union(t.ensure_named(owned))
        pruned = t.remove(merged, everything.difference(kept))
        gone = everything.difference(t.ensure_named(t.field_set(pruned))).intersection(last_fields)
        return t.remove(merged, gone)

    def _not_applied_by_kubectl(self, live: dict, conflicts: dict[_Identity, PathSet]) -> dict[_Identity, PathSet]:
        """The conflicts left once those on fields kubectl's client-side apply last set (and that
        still hold that value) are allowed: `kubectl apply --server-side` takes over from it."""
        text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
        try:
            applied = json.loads(text) if text else None
        except ValueError:
            applied = None
        if not isinstance(applied, dict) or applied.get("apiVersion") != self.api_version:
            return conflicts
        diff = self._typer.compare(applied, live)
        allowed = self._typer.field_set(applied).difference(diff.changed()).difference(diff.removed)
        remaining = {w: fields.difference(allowed) for w, fields in conflicts.items()}
        return {w: fields for w, fields in remaining.items() if fields}
