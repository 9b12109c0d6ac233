"""Strategic merge patch, applied the way kube-apiserver applies `application/strategic-merge-patch+json`.

This follows the server half of apimachinery's `pkg/util/strategicpatch` (StrategicMergeMapPatch, which
merges parallel lists and ignores unmatched nulls): maps merge key by key and `null` deletes a key; a
list whose field declares `x-kubernetes-patch-strategy: merge` merges by its
`x-kubernetes-patch-merge-key` (or as a set, for primitives); every other list is replaced. The
directives `$patch`, `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`
steer the merge. kube reads the strategies from its Go struct tags; the published OpenAPI definitions
carry the same tags, so they serve here. `x-kubernetes-list-type` plays no part: that is server-side
apply's metadata.
"""
from __future__ import annotations

import copy

from admission.gofmt import go_float

import jsonpatch

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"

# What `_literal` yields for a value that must not be kept at all.
_DROP = object()

_GO_MAP = "map[string]interface {}"
_GO_SLICE = "[]interface {}"


class PatchError(ValueError):
    """A patch kube-apiserver refuses. `code` is the status it answers with: 400 for a malformed
    directive, 422 for lists of lists, and 500 (reason unset) for every other patch error, which kube
    passes on as a bare error."""

    def __init__(self, message: str, code: int = 500):
        super().__init__(message)
        self.code = code


JSON_PATCH = "application/json-patch+json"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)


def apply_patch(patch_type: str, current: dict, patch, schemas, schema: dict | None) -> dict:
    """`current` with a JSON, merge or strategic merge patch applied (strategic merges by `schema`);
    apply patches are the field manager's business, not a patch of this kind."""
    if patch_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise PatchError("the body of a json patch must be a list of operations", 400)
        try:
            return jsonpatch.JsonPatch(patch).apply(current)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as e:
            raise PatchError(f"the server rejected our request due to an error in our request: {e}", 422) from None
    if not isinstance(patch, dict):
        raise PatchError("the body of a merge patch must be a JSON object", 400)
    if patch_type == MERGE:
        return json_merge_patch(current, patch)
    return strategic_merge(schemas, schema, current, patch)


def strategic_merge(schemas, schema: dict | None, original: dict, patch: dict) -> dict:
    """Apply a strategic merge patch to `original`, a kind whose top-level schema is `schema`.

    Without a schema there is no patch metadata to go by, so the patch is a JSON merge patch. The
    result shares nothing with the inputs, which are left as they were.
    """
    if schema is None:
        return json_merge_patch(original, patch)
    return _Merger(schemas).merge_map(copy.deepcopy(original), copy.deepcopy(patch), schemas.resolve(schema))


def json_merge_patch(original, patch):
    """RFC 7386 merge patch (`application/merge-patch+json`); the result shares nothing with the inputs."""
    return _merge_into(copy.deepcopy(original), patch)


def _merge_into(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge_into(target.get(key), value)
    return target


class _Merger:
    """The merge itself. It works on private copies and changes them in place, as kube does."""

    def __init__(self, schemas):
        self.schemas = schemas

    def _resolve(self, schema):
        return self.schemas.resolve(schema) if isinstance(schema, dict) else None

    def _field(self, schema: dict | None, key: str):
        """The schema of `key` within the object `schema`, its patch strategy and its merge key.

        `retainKeys` is left out of the strategy: it only tells clients to send `$retainKeys`, and the
        server obeys that directive wherever it appears. An unknown field has no metadata, so its maps
        merge and its lists are replaced.
        """
        if schema is None:
            return None, "", ""
        prop = schema.get("properties", {}).get(key)
        if prop is None:
            return self._resolve(schema.get("additionalProperties")), "", ""
        strategies = prop.get("x-kubernetes-patch-strategy", "").split(",")
        strategy = next((s for s in strategies if s and s != "retainKeys"), "")
        return self._resolve(prop), strategy, prop.get("x-kubernetes-patch-merge-key", "")

    def merge_map(self, original: dict, patch: dict, schema: dict | None) -> dict:
        if DIRECTIVE in patch:
            return _map_directive(patch)
        _retain_keys(original, patch)
        self._set_element_orders(original, patch, schema)
        for key, value in patch.items():
            deleting = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
            if deleting:
                key = _directive_target(key, DELETE_FROM_PRIMITIVE_LIST, "primitive list")
            current = original.get(key)
            if value is None:
                original.pop(key, None)
            elif isinstance(current, dict) and isinstance(value, dict):
                sub, strategy, _ = self._field(schema, key)
                original[key] = self._merge_map_field(current, value, sub, strategy)
            elif isinstance(current, list) and isinstance(value, list):
                original[key] = self._merge_list_field(current, value, *self._field(schema, key), deleting)
            elif not deleting:
                _put(original, key, value)
        return original

    def _merge_map_field(self, current: dict, value: dict, schema: dict | None, strategy: str):
        if strategy == "replace" or _opaque(schema):
            # kube keeps such a value as sent; decoding it into the typed object sheds any marker.
            return _unmarked(value)
        return self.merge_map(current, value, schema)

    def _merge_list_field(self, current: list, value: list, schema: dict | None, strategy: str,
                          merge_key: str, deleting: bool) -> list:
        # A deletion list applies whatever the field's strategy.
        if strategy == "merge" or deleting:
            items = self._resolve(schema.get("items")) if schema else None
            return self._merge_list(current, value, items, merge_key, deleting)
        return _literal(value)

    def _merge_list(self, original: list, patch: list, item_schema: dict | None, merge_key: str,
                    deleting: bool) -> list:
        if not original and not patch:
            return original
        if _element_type(original, patch) is not dict:
            if deleting:
                return [v for v in original if not _contains(patch, v)]
            merged = []
            for value in original + patch:
                if not _contains(merged, value):
                    merged.append(value)
            return _ordered(merged, patch, original, "")
        if not merge_key:
            # kube names the Go kind of the elements the field declares.
            kind = (item_schema or {}).get("type", "object")
            raise PatchError(f"cannot merge lists without merge key for {'struct' if kind == 'object' else kind}")
        original, patch = _split_directives(original, patch, merge_key)
        merged = list(original)
        for item in patch:
            index = _find(merged, merge_key, _merge_key_of(item, merge_key))
            if index is None:
                merged.append(_literal(item))
            else:
                merged[index] = self.merge_map(merged[index], item, item_schema)
        return _ordered(merged, patch, original, merge_key)

    def _set_element_orders(self, original: dict, patch: dict, schema: dict | None):
        """Apply each `$setElementOrder/<list>`, merging `<list>` from the patch on the way, so the
        main merge skips it."""
        for directive in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
            order = patch.pop(directive)
            if not isinstance(order, list):
                raise PatchError(_bad_arg_type(_GO_SLICE, order))
            key = _directive_target(directive, SET_ELEMENT_ORDER, "setElementOrder list")
            for side in (original, patch):
                if key in side and not isinstance(side[key], list):
                    raise PatchError(_bad_arg_type(_GO_SLICE, side[key]))
            current, value = original.get(key), patch.pop(key, None)
            sub, strategy, merge_key = self._field(schema, key)
            _check_order(value or [], order, merge_key)
            if current is None and value is None:
                continue
            if value is None:
                merged = current
            elif current is None:
                merged = _literal(value)
            else:
                merged = self._merge_list_field(current, value, sub, strategy, merge_key, False)
            # kube vets the element types even when the list is only being reordered.
            _element_type(current or [], value or [])
            original[key] = _ordered(merged, order, current or [], merge_key)


def _map_directive(patch: dict) -> dict:
    directive = patch[DIRECTIVE]
    if directive == "replace":
        return _unmarked(patch)
    if directive == "delete":
        return {}
    raise _unknown_directive(directive, patch)


def _retain_keys(original: dict, patch: dict):
    """Clear the keys of `original` that `$retainKeys` does not name; the patch may set only named keys."""
    if RETAIN_KEYS not in patch:
        return
    retained = patch.pop(RETAIN_KEYS)
    if not isinstance(retained, list):
        raise _bad_format("retainKeys")
    for key, value in patch.items():
        if value is not None and not key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)) \
                and key not in retained:
            raise _bad_format("retainKeys")
    for key in [k for k in original if k not in retained]:
        del original[key]


def _split_directives(original: list, patch: list, merge_key: str):
    """Carry out the `$patch` items of a merging list: returns the list to merge into and the plain
    items to merge."""
    plain, replace = [], False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            doomed = _merge_key_of(item, merge_key)
            original = [v for v in original if not (merge_key in v and _same(v[merge_key], doomed))]
        elif directive == "replace":
            # Other `$patch` items in the list are still vetted, then ignored.
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise _unknown_directive(directive, item)
    if replace:
        return [_literal(v) for v in plain], []
    return original, plain


def _ordered(merged: list, order: list, server_order: list, merge_key: str) -> list:
    """kube's order for a merged list: the items named in `order` follow it, the rest keep their order
    in `server_order`, and the two interleave so an item the server already had still comes after the
    server-only items that preceded it there. New items thus land before the remaining server-only ones."""
    if merge_key:
        for items in (merged, order, server_order):
            for item in items:
                _merge_key_of(item, merge_key)

    def ident(item):
        return item[merge_key] if merge_key else item

    order_ids = [ident(v) for v in order]
    server_ids = [ident(v) for v in server_order]

    def rank(ids, item):
        position = _position(ids, ident(item))
        return len(ids) if position is None else position

    named = sorted((v for v in merged if _contains(order_ids, ident(v))), key=lambda v: rank(order_ids, v))
    others = sorted((v for v in merged if not _contains(order_ids, ident(v))), key=lambda v: rank(server_ids, v))
    result, i, j = [], 0, 0
    while i < len(others) or j < len(named):
        if j == len(named) or (i < len(others) and _precedes(server_ids, ident(others[i]), ident(named[j]))):
            result.append(others[i])
            i += 1
        else:
            result.append(named[j])
            j += 1
    return result


def _precedes(ids: list, left, right) -> bool:
    li, ri = _position(ids, left), _position(ids, right)
    return li is not None and ri is not None and li < ri


def _check_order(patch_list: list, order: list, merge_key: str):
    """The patch's own items must appear in `$setElementOrder` and in the same relative order."""
    if not order or not patch_list:
        return
    if merge_key:
        for item in patch_list:
            if not isinstance(item, dict):
                raise PatchError(_bad_arg_type(_GO_MAP, item))
        items = [v for v in patch_list if v.get(DIRECTIVE) != "delete"]
    else:
        items = patch_list
    p = s = 0
    while p < len(items) and s < len(order):
        if isinstance(items[p], dict) and DIRECTIVE in items[p]:
            p += 1
            continue
        if _keys_equal(items[p], order[s], merge_key):
            p += 1
        s += 1
    if p < len(items):
        raise PatchError(f"The order in patch list:\n{_go_format(patch_list)}\n doesn't match "
                         f"{SET_ELEMENT_ORDER} list:\n{_go_format(order)}\n")


def _keys_equal(left, right, merge_key: str) -> bool:
    if not merge_key:
        return _same(left, right)
    return _same(_merge_key_of(left, merge_key), _merge_key_of(right, merge_key))


def _element_type(*lists: list) -> type:
    """The type every element shares: kube merges only lists of one JSON type, never lists of lists."""
    found = None
    for items in lists:
        for value in items:
            if found is None:
                found = type(value)
                if found is list:
                    raise PatchError("lists of lists are not supported", 422)
            elif type(value) is not found:
                raise PatchError(f"list element types are not identical: {_go_format(list(lists))}")
    if found is None:
        raise PatchError("no elements in any of the given slices")
    return found


def _merge_key_of(item, merge_key: str):
    if not isinstance(item, dict):
        raise PatchError(_bad_arg_type(_GO_MAP, item))
    if merge_key not in item:
        raise PatchError(f"map: {_go_format(item)} does not contain declared merge key: {merge_key}")
    return item[merge_key]


def _find(items: list, merge_key: str, value) -> int | None:
    return next((i for i, v in enumerate(items) if merge_key in v and _same(v[merge_key], value)), None)


def _position(values: list, value) -> int | None:
    return next((i for i, v in enumerate(values) if _same(v, value)), None)


def _contains(values: list, value) -> bool:
    return _position(values, value) is not None


def _same(left, right) -> bool:
    # Go compares interface values: 1, 1.0 and true are three different things.
    return type(left) is type(right) and left == right


def _opaque(schema: dict | None) -> bool:
    """An object with no declared shape (RawExtension, JSON, FieldsV1): merged as one value."""
    return schema is not None and schema.get("type", "object") == "object" \
        and "properties" not in schema and "additionalProperties" not in schema


def _directive_target(key: str, prefix: str, what: str) -> str:
    head, slash, target = key.partition("/")
    if not slash or head != prefix:
        raise _bad_format(what)
    return target


def _is_directive_key(key: str) -> bool:
    return key == RETAIN_KEYS or key.startswith((SET_ELEMENT_ORDER, DELETE_FROM_PRIMITIVE_LIST))


def _literal(value):
    """A patch value taken whole. kube drops the nulls within it and any map that carries `$patch`;
    decoding into the typed object later sheds the other directive keys, which this does at once."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return _DROP
        kept = {}
        for key, item in value.items():
            if item is not None and not _is_directive_key(key):
                item = _literal(item)
                if item is not _DROP:
                    kept[key] = item
        return kept
    if isinstance(value, list):
        return [item for item in map(_literal, value) if item is not _DROP]
    return value


def _unmarked(value: dict) -> dict:
    return _literal({k: v for k, v in value.items() if k != DIRECTIVE})


def _put(target: dict, key: str, value):
    value = _literal(value)
    if value is _DROP:
        target.pop(key, None)
    else:
        target[key] = value


# --- kube's error texts -----------------------------------------------------------------------

def _bad_format(what: str) -> PatchError:
    return PatchError(f"invalid patch format of {what}", 400)


def _unknown_directive(directive, item: dict) -> PatchError:
    return PatchError(f"unknown patch type: {_go_format(directive, 's')} in map: {_go_format(item)}")


def _bad_arg_type(expected: str, actual) -> str:
    return f"expected a {expected}, but received a {_go_type(actual)}"


def _go_type(value) -> str:
    if value is None:
        return "%!s(<nil>)"
    return {dict: _GO_MAP, list: _GO_SLICE, str: "string", bool: "bool", int: "int64",
            float: "float64"}[type(value)]


def _go_format(value, verb: str = "v") -> str:
    """`value` as Go's fmt prints it with %v or %s, for kube's messages that embed patch content."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_format(value[k], verb)}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_format(v, verb) for v in value) + "]"
    if isinstance(value, str):
        return value
    if value is None:
        return "%!s(<nil>)" if verb == "s" else "<nil>"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = go_float(value)
    else:
        text = str(value)
    return f"%!s({_go_type(value)}={text})" if verb == "s" else text
