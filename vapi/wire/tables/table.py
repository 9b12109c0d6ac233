"""The Table itself: which printer a resource gets, its column definitions and rows."""
from __future__ import annotations

from datetime import datetime, timezone

from ...registry import gotypes
from ...registry.builtin import BUILTIN, COMPUTED
from .. import gojson
from .cells import TABLE_API_VERSION, Column, Doc, Printer
from .jsonpath import crd_printer
from .printers import DEFAULT_PRINTER, PRINTERS


# --- the Table -----------------------------------------------------------------------------------

_BUILTIN_RESOURCES = frozenset((group, plural) for group, _, plural, *_ in BUILTIN + COMPUTED)


def printer_for(group: str, resource: str) -> Printer:
    """The printer kube-apiserver uses for a built-in resource; a custom resource without printer
    columns gets NAME and AGE."""
    found = PRINTERS.get((group, resource))
    if found is not None:
        return found
    return DEFAULT_PRINTER if (group, resource) in _BUILTIN_RESOURCES else crd_printer(())


def column_definitions(columns: tuple[Column, ...], definitions: dict) -> list[dict]:
    """The columns, described from the served release's definitions (`Schemas.definitions`)."""
    return [{"name": c.name, "type": c.type, "format": c.format,
             "description": c.doc.text(definitions) if isinstance(c.doc, Doc) else c.doc,
             "priority": c.priority} for c in columns]


def _row_object(obj: dict, include_object: str, custom: bool):
    # Built-in objects are stored in Go order; a custom resource is a map to kube, but its
    # PartialObjectMetadata is typed.
    if include_object == "None":
        return None
    if include_object == "Object":
        return gojson.as_map(obj) if custom else obj
    meta = obj.get("metadata", {})
    return {"kind": "PartialObjectMetadata", "apiVersion": TABLE_API_VERSION,
            "metadata": gotypes.object_meta_in_go_order(meta) if custom else meta}


def build_table(group: str, resource: str, objects: list[dict], *, schemas,
                list_meta: dict | None = None,
                include_object: str = "Metadata", now: datetime | None = None,
                columns: list[dict] | None = None) -> dict:
    """The Table kube-apiserver answers for these objects of `group`/`resource`.

    `schemas` are the served release's (`admission.schemas.Schemas`): its release picks the
    columns, as upstream's printers differ from one release to the next, and its definitions
    describe them.
    `columns` are a CustomResourceDefinition's additionalPrinterColumns; given (even empty), they
    replace the built-in printer. `include_object` is the includeObject query parameter: "None"
    leaves each row's object null (as upstream serializes it), "Object" sends the whole object,
    anything else its metadata as a PartialObjectMetadata. Without `list_meta`, the Table of a
    single object (a watch event) carries that object's resourceVersion, as upstream's does.
    """
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    printer = crd_printer(columns) if columns is not None else printer_for(group, resource)
    shown_columns = printer.columns_in(schemas.version)
    if printer.sort_key is not None:
        objects = sorted(objects, key=printer.sort_key)
    rows = []
    custom = (group, resource) not in _BUILTIN_RESOURCES
    for obj in objects:
        shown = printer.adapt(obj) if printer.adapt else obj
        row: dict = {"cells": [c.cell(shown, now) for c in shown_columns]}
        conditions = printer.conditions(obj) if printer.conditions else None
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object, custom)
        rows.append(row)
    if list_meta is None:
        rv = objects[0].get("metadata", {}).get("resourceVersion") if len(objects) == 1 else None
        list_meta = {"resourceVersion": rv} if rv else {}
    return {"kind": "Table", "apiVersion": TABLE_API_VERSION, "metadata": list_meta,
            "columnDefinitions": column_definitions(shown_columns, schemas.definitions), "rows": rows}
