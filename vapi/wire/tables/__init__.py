"""Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for.

kube-apiserver answers a Table request with one of four convertors, and so do we:

- the built-in printers (kubernetes `pkg/printers/internalversion`), always run as for `-o wide`:
  every column is sent, and kubectl hides those of priority 1 unless asked for `-o wide`;
- kube-aggregator's own convertor for APIServices;
- the default convertor (Name, Created At) for stores that register no printer: Roles,
  ClusterRoles, LimitRanges, CSIStorageCapacities, CustomResourceDefinitions;
- the CustomResourceDefinition convertor: Name, then the CRD's `additionalPrinterColumns`
  evaluated with JSONPath, or Name and Age when it defines none.

Each printer is data: its columns in order, each with the function that computes its cell from the
object as served (the printers upstream read the internal type, so the cells read the v1 fields
that convert to what they read) and the releases that print it, so that a server prints the
columns of the release it serves. Cells keep their JSON types: integer columns hold numbers.
"""
from __future__ import annotations

from .cells import Column, Doc, Printer, human_duration, parse_time, since
from .jsonpath import JSONPathError, parse_jsonpath
from .printers import PRINTERS
from .table import build_table, printer_for

__all__ = ["Column", "Doc", "JSONPathError", "PRINTERS", "Printer", "build_table", "human_duration",
           "parse_jsonpath", "parse_time", "printer_for", "since"]
