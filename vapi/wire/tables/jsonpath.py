"""A CustomResourceDefinition's printer columns: JSONPath evaluated over the object."""
from __future__ import annotations

import functools
import json
import re
from datetime import datetime

from admission.gofmt import go_float
from admission.gotime import parse_rfc3339

from .cells import META, NAME, UNKNOWN, Cell, Column, Doc, Printer, since


# --- CustomResourceDefinition printer columns ----------------------------------------------------

# A CustomResourceDefinition without printer columns gets this one (apiextensions'
# serveDefaultColumnsIfEmpty).
CRD_DEFAULT_COLUMNS = ({"name": "Age", "type": "date", "description": Doc(META, "creationTimestamp"),
                        "jsonPath": ".metadata.creationTimestamp"},)


class JSONPathError(ValueError):
    pass


# The subset of client-go's JSONPath that printer columns use: `.field` (with `\.` escapes),
# `['field']`, `[index]`, `[*]` and `[?(@.a.b == literal)]` / `!=`.
_STEP = re.compile(r"""
    \.(?P<field>(?:\\.|[^.\[\]\\])+)
  | \[\s*(?P<quote>['"])(?P<key>.*?)(?P=quote)\s*\]
  | \[\s*(?P<index>-?\d+)\s*\]
  | \[\s*(?P<star>\*)\s*\]
  | \[\s*\?\(\s*@(?P<lhs>(?:\.[^.\s=!()\[\]]+)+)\s*(?P<op>==|!=)\s*(?P<rhs>"[^"]*"|'[^']*'|[^)\s]+)\s*\)\s*\]
""", re.VERBOSE)


@functools.lru_cache(maxsize=256)
def parse_jsonpath(path: str) -> tuple[tuple, ...]:
    """The steps of a printer column's JSONPath, as ("field", key), ("index", i), ("all",) and
    ("filter", keys, op, literal)."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    text = text.removeprefix("$")
    steps, pos = [], 0
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None:
            raise JSONPathError(f"unrecognized column definition {path!r}")
        pos = m.end()
        if m["field"] is not None:
            steps.append(("field", m["field"].replace("\\.", ".")))
        elif m["key"] is not None:
            steps.append(("field", m["key"]))
        elif m["index"] is not None:
            steps.append(("index", int(m["index"])))
        elif m["star"]:
            steps.append(("all",))
        else:
            rhs = m["rhs"]
            try:
                literal = rhs[1:-1] if rhs[0] in "'\"" else json.loads(rhs)
            except ValueError:
                raise JSONPathError(f"unrecognized filter value {rhs!r} in {path!r}") from None
            steps.append(("filter", tuple(m["lhs"][1:].split(".")), m["op"], literal))
    return tuple(steps)


def _filter_passes(item, keys: tuple[str, ...], op: str, literal) -> bool:
    for key in keys:
        # An element without the compared field is left out, whatever the operator.
        if not isinstance(item, dict) or key not in item:
            return False
        item = item[key]
    # Python's True == 1; JSON's true is no number.
    same = item is literal if isinstance(item, bool) or isinstance(literal, bool) else item == literal
    return same if op == "==" else not same


def jsonpath_values(obj, steps) -> list:
    """Every value the path reaches; missing keys and out-of-range indexes reach nothing."""
    values = [obj]
    for step in steps:
        found = []
        for v in values:
            if step[0] == "field" and isinstance(v, dict) and step[1] in v:
                found.append(v[step[1]])
            elif step[0] == "index" and isinstance(v, list) and -len(v) <= step[1] < len(v):
                found.append(v[step[1]])
            elif step[0] == "all" and isinstance(v, list):
                found.extend(v)
            elif step[0] == "filter" and isinstance(v, list):
                found.extend(item for item in v if _filter_passes(item, *step[1:]))
        values = found
    return values


def _go_text(value) -> str:
    """How client-go's JSONPath prints a value: objects and arrays as JSON, the rest as Go's %v."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def _typed_cell(kind: str, value, now: datetime):
    """cellForJSONValue of apiextensions' table convertor: a value of the column's type, or null."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer" and number:
        return int(value)
    if kind == "number" and number:
        return float(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, str):
        if value in ("", "null"):
            return UNKNOWN
        try:
            parse_rfc3339(value)
        except ValueError:
            return "<invalid>"
        return since(value, now)
    return None


def _jsonpath_cell(steps: tuple, kind: str) -> Cell:
    def cell(o, now):
        found = jsonpath_values(o, steps)
        # Upstream takes the first value only, even of a [*] path.
        if not found or found[0] is None:
            return None
        return _go_text(found[0]) if kind == "string" else _typed_cell(kind, found[0], now)
    return cell


def crd_printer(columns) -> Printer:
    """apiextensions' table convertor over a CRD version's additionalPrinterColumns."""
    made = [NAME]
    for spec in columns or CRD_DEFAULT_COLUMNS:
        try:
            steps = parse_jsonpath(spec["jsonPath"])
        except JSONPathError:
            # Upstream keeps the columns before the first it cannot parse.
            break
        kind = spec.get("type") or "string"
        doc = spec.get("description") or f"Custom resource definition column (in JSONPath format): {spec['jsonPath']}"
        made.append(Column(spec["name"], _jsonpath_cell(steps, kind), doc, kind, spec.get("priority") or 0,
                           spec.get("format") or ""))
    return Printer(tuple(made))
