"""What happens to a custom resource's shape before it is judged: pruning drops what the schema
does not know (the paths reported, for fieldValidation) and the nulls it does not allow, and
defaulting sets the schema's defaults, parents before children.
"""
from __future__ import annotations

import copy

from admission.crdschema.schemanodes import (additional_of, child_schema, is_embedded, items_of, META_FIELDS,
                                             preserves, properties_of, walk_values)
from admission.validation.fielderrors import child

def _prune_object_meta(obj: dict, path: str, out: list[str], meta_fields: frozenset[str]) -> dict | None:
    """ObjectMeta survives decoding only with the fields Go's ObjectMeta has (`meta_fields`, those
    of the served release)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return None
    for k in [k for k in meta if k not in meta_fields]:
        out.append(child(path, "metadata", k))
        del meta[k]
    return meta


def prune_unknown(x, s: dict | None, path: str, out: list[str], embedded: bool = False) -> None:
    """pruning.prune: fields the schema does not specify go, except under preserve-unknown-fields
    and the apiVersion/kind/metadata of embedded resources. Below `additionalProperties: true`
    there is no schema, so objects there lose all their fields, as in kube."""
    if isinstance(x, dict):
        if s is None:
            out += [child(path, k) for k in x]
            x.clear()
            return
        embedded = embedded or is_embedded(s)
        props = properties_of(s)
        for k in list(x):
            if embedded and k in META_FIELDS:
                continue
            if k in props:
                prune_unknown(x[k], props[k], child(path, k), out)
            elif "additionalProperties" in s:
                prune_unknown(x[k], additional_of(s), child(path, k), out)
            elif not preserves(s):
                if not (k in META_FIELDS and not path):
                    out.append(child(path, k))
                del x[k]
    elif isinstance(x, list):
        for i, v in enumerate(x):
            prune_unknown(v, None if s is None else items_of(s), f"{path}[{i}]", out)


def _coerce_embedded_meta(obj, schema: dict, out: list[str], meta_fields: frozenset[str]) -> None:
    """objectmeta.Coerce below the root: nested embedded resources' metadata is decoded into
    ObjectMeta as well."""
    for x, s, path in walk_values(obj, schema, ""):
        meta = _prune_object_meta(x, path, out, meta_fields) if isinstance(x, dict) and is_embedded(s) else None
        if meta is not None:
            # Written back from a Go ObjectMeta, whose zero creationTimestamp is a null.
            meta.setdefault("creationTimestamp", None)


def _drop_nulls(x, s: dict | None) -> None:
    """PruneNonNullableNullsWithoutDefaults: a null the schema does not allow and cannot default."""
    if isinstance(x, dict):
        for k in list(x):
            sub = None if s is None else child_schema(s, k)
            if x[k] is None and sub is not None and not sub.get("nullable") and sub.get("default") is None:
                del x[k]
            else:
                _drop_nulls(x[k], sub)
    elif isinstance(x, list):
        for v in x:
            _drop_nulls(v, None if s is None else items_of(s))


def prune(schema: dict, obj: dict, meta_fields: frozenset[str], *, is_root: bool = True) -> list[str]:
    """Drops, in place, what the schema does not know; returns the dropped paths ("spec.foo")
    for `unknown field "spec.foo"` warnings or Strict errors. At the root (and in embedded
    resources) apiVersion, kind and metadata stay, metadata cut down to ObjectMeta's fields."""
    out: list[str] = []
    if is_root and isinstance(obj, dict):
        _prune_object_meta(obj, "", out, meta_fields)
    prune_unknown(obj, schema, "", out, embedded=is_root)
    _drop_nulls(obj, schema)
    _coerce_embedded_meta(obj, schema, out, meta_fields)
    return out


def _non_nullable_null(value, s: dict | None) -> bool:
    return value is None and s is not None and not s.get("nullable")


def apply_defaults(schema: dict, obj) -> None:
    """structuraldefaulting.Default: missing fields (and nulls the schema does not allow) take
    their default, parents before children so that defaults inside defaults apply too."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, dict):
        props = properties_of(schema)
        for k, prop in props.items():
            if prop.get("default") is not None and (k not in obj or _non_nullable_null(obj[k], prop)):
                obj[k] = copy.deepcopy(prop["default"])
        extra = additional_of(schema)
        for k in obj:
            if k in props:
                apply_defaults(props[k], obj[k])
            elif extra is not None:
                if _non_nullable_null(obj[k], extra):
                    obj[k] = copy.deepcopy(extra.get("default"))
                apply_defaults(extra, obj[k])
    elif isinstance(obj, list):
        item = items_of(schema)
        for i in range(len(obj)):
            if _non_nullable_null(obj[i], item):
                obj[i] = copy.deepcopy(item.get("default"))
            apply_defaults(item, obj[i])
