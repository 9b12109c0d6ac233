"""JSON bytes as kube-apiserver's encoder writes them.

Go's encoding/json escapes `<`, `>` and `&` (and U+2028, U+2029) inside strings and ends each
value with a newline; clients that compare bodies byte for byte see both. None of these
characters can occur outside a JSON string, so escaping them in orjson's output is exact.
Objects of built-in kinds are stored in their Go field order already (the registry's
`gotypes`); custom resources are maps to kube, whose keys Go writes sorted.
"""
from __future__ import annotations

import orjson

_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))
# U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8: looking for the one lead byte first costs a
# tenth of searching a body for the three-byte sequences.
_SEPARATORS = (("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))
_NEWLINE = orjson.OPT_APPEND_NEWLINE


def _escaped(body: bytes) -> bytes:
    for raw, escaped in _ESCAPES:
        if raw in body:
            body = body.replace(raw, escaped)
    if b"\xe2" in body:
        for raw, escaped in _SEPARATORS:
            if raw in body:
                body = body.replace(raw, escaped)
    return body


def as_map(value):
    """A copy of `value` with every object's keys sorted: a custom resource as Go writes a
    map[string]interface{}, where it sits inside a typed object (a Table row)."""
    if isinstance(value, dict):
        return {key: as_map(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [as_map(item) for item in value]
    return value


def dumps(value, *, sort_keys: bool = False) -> bytes:
    """`value` as Go's json.Encoder writes it; `sort_keys` for maps (custom resources)."""
    return _escaped(orjson.dumps(value, option=(_NEWLINE | orjson.OPT_SORT_KEYS) if sort_keys else _NEWLINE))


def event(event_type: str, obj: dict, *, sort_keys: bool = False) -> bytes:
    """One watch event line: metav1.WatchEvent's fields are `type`, then `object`."""
    return b'{"type":"' + event_type.encode() + b'","object":' + \
        _escaped(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS if sort_keys else 0)) + b"}\n"
