"""The built-in printers, one per resource, as data: their columns in order.

Each API group's printers live in a module of their own; this gathers them, with the printer of
the stores that register none.
"""
from __future__ import annotations

from datetime import timezone

from . import printers_cluster, printers_core, printers_networking, printers_storage, printers_workloads
from .cells import META, NAME, ZERO_TIME, Column, Doc, Printer, parse_time, printer, value_at

PRINTERS: dict[tuple[str, str], Printer] = {
    **printers_core.PRINTERS, **printers_workloads.PRINTERS, **printers_networking.PRINTERS,
    **printers_storage.PRINTERS, **printers_cluster.PRINTERS}


def _created_at(o, now):
    created = parse_time(value_at(o, "metadata.creationTimestamp")) or ZERO_TIME
    # Not strftime: it writes year 1 (Go's zero time) as "1", where RFC 3339 wants "0001".
    return created.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Stores that register kube's default convertor (or no printer at all): NAME and CREATED AT.
DEFAULT_PRINTER = printer(NAME, Column("Created At", _created_at, Doc(META, "creationTimestamp"), "date"))
