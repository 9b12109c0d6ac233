"""ValidateCustomResourceDefinitionOpenAPISchema: one version's openAPIV3Schema checked node by
node (types, extensions, list types and their keys, rule texts and fieldPaths), then its CEL
rules compiled where the schema holds no error; with the checks an update skips where the stored
CRD already had what they refuse.
"""
from __future__ import annotations

import dataclasses
import re

from admission.crdschema.celrules import (beyond_the_engine, compile_rule, resolve_field_path, uses_old_self,
                                          VALIDATION_REASONS)
from admission.crdschema.errors import cr_value, Errors
from admission.crdschema.schemanodes import additional_of, is_embedded, items_of, META_FIELDS, properties_of
from admission.crdschema.structural import default_errors, first_unsupported, is_set, nonzero, structural_errors
from admission.gofmt import Go, go_quote, go_string_list
from admission.validation.fielderrors import child, keyed
from admission.validation.objects import as_dict, as_list

OPENAPI_TYPES = ["array", "boolean", "integer", "number", "object", "string"]

# The root fields the status subresource allows (the rest could not carry over to the status schema).
_ROOT_WITH_STATUS = frozenset(("description", "type", "format", "title", "maximum", "exclusiveMaximum", "minimum",
                               "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
                               "uniqueItems", "multipleOf", "required", "items", "properties", "externalDocs",
                               "example", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations"))
_ROOT_WITH_STATUS_GO = ("[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength "
                        "MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties "
                        "ExternalDocs Example XPreserveUnknownFields XValidations]")


@dataclasses.dataclass(frozen=True)
class Rules:
    """What a CRD write must meet; an update keeps accepting what the stored CRD already had."""
    require_schema: bool = True
    valid_types: bool = True
    pruned_defaults: bool = True
    atomic_sets: bool = True
    map_list_keys: bool = True


@dataclasses.dataclass(frozen=True)
class _Scope:
    """specStandardValidatorV3's state along the walk."""
    defaults_forbidden: str = ""   # why defaults are not allowed here ("" when they are)
    inside_meta: bool = False
    old_self_forbidden: str = ""   # the uncorrelatable ancestor oldSelf cannot see past
    cel: bool = True               # the schema is structural, so its rules are compiled

    def forbid_old_self(self, path: str) -> _Scope:
        return self if self.old_self_forbidden else dataclasses.replace(self, old_self_forbidden=path)


def _go_validation_rule(rule: dict) -> Go:
    """%#v of an apiextensions.ValidationRule, as kube shows a rule it cannot compile."""
    def pointer(key: str, go_type: str) -> str:
        return f"(*{go_type})(nil)" if rule.get(key) is None else f"(*{go_type})(0xc000000000)"
    return Go(f"apiextensions.ValidationRule{{Rule:{go_quote(str(rule.get('rule') or ''))}, "
              f"Message:{go_quote(str(rule.get('message') or ''))}, "
              f"MessageExpression:{go_quote(str(rule.get('messageExpression') or ''))}, "
              f"Reason:{pointer('reason', 'apiextensions.FieldValueErrorReason')}, "
              f"FieldPath:{go_quote(str(rule.get('fieldPath') or ''))}, "
              f"OptionalOldSelf:{pointer('optionalOldSelf', 'bool')}}}")


class _SchemaCheck:
    """ValidateCustomResourceDefinitionOpenAPISchema over one version's schema: schema errors
    first, then the CEL errors (rules compile only where no schema error was found)."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self.errors = Errors()
        self.cel = Errors()

    def node(self, s: dict, path: str, scope: _Scope, is_root: bool = False, cel_here: bool = True) -> None:
        c, start = self.errors, len(self.errors.items)
        self._standard(s, path, scope)
        if s.get("uniqueItems") is True:
            c.forbidden(child(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity "
                                                    "becomes quadratic")
        if "additionalProperties" in s:
            if properties_of(s) and (s["additionalProperties"] is False or isinstance(s["additionalProperties"], dict)):
                c.forbidden(child(path, "additionalProperties"),
                            "additionalProperties and properties are mutual exclusive")
            if additional_of(s) is not None:
                reason = "inside additionalProperties applying to object metadata"
                sub_scope = dataclasses.replace(scope, defaults_forbidden=reason) if scope.inside_meta else scope
                self.node(additional_of(s), child(path, "additionalProperties"), sub_scope, cel_here=cel_here)
        for k, sub in properties_of(s).items():
            sub_scope = scope if s.get("x-kubernetes-map-type") != "atomic" else scope.forbid_old_self(path)
            if (is_root or is_embedded(s)) and k in META_FIELDS:
                sub_scope = dataclasses.replace(sub_scope, inside_meta=True)
                if is_root:
                    sub_scope = dataclasses.replace(sub_scope, defaults_forbidden=f"in top-level {k}")
            self.node(as_dict(sub), keyed(child(path, "properties"), k), sub_scope, cel_here=cel_here)
        if isinstance(s.get("not"), dict):
            self.node(s["not"], child(path, "not"), scope, cel_here=False)
        for junctor in ("allOf", "oneOf", "anyOf"):
            for i, sub in enumerate(as_list(s.get(junctor))):
                self.node(as_dict(sub), f"{child(path, junctor)}[{i}]", scope, cel_here=False)
        for k, sub in as_dict(s.get("definitions")).items():
            self.node(as_dict(sub), keyed(child(path, "definitions"), k), scope, cel_here=False)
        if isinstance(s.get("items"), dict):
            item_scope = scope if s.get("x-kubernetes-list-type") == "map" else scope.forbid_old_self(path)
            self.node(s["items"], child(path, "items"), item_scope, cel_here=cel_here)
        for k, sub in as_dict(s.get("dependencies")).items():
            if isinstance(sub, dict):
                self.node(sub, keyed(child(path, "dependencies"), k), scope, cel_here=False)
        self._extensions(s, path)
        self._rule_texts(s, path)
        if len(c.items) == start and scope.cel and cel_here:
            self._compile_rules(s, path, scope)

    def _standard(self, s: dict, path: str, scope: _Scope) -> None:
        c = self.errors
        kind = s.get("type")
        if self.rules.valid_types and kind and kind not in OPENAPI_TYPES:
            c.not_supported(child(path, "type"), kind, OPENAPI_TYPES)
        if s.get("default") is not None and scope.defaults_forbidden:
            c.forbidden(child(path, "default"), f"must not be set {scope.defaults_forbidden}")
        for key in ("id", "additionalItems", "patternProperties", "definitions", "dependencies", "$ref"):
            if is_set(s.get(key)) or s.get(key) is False:
                c.forbidden(child(path, key), f"{key} is not supported")
        if kind == "null":
            c.forbidden(child(path, "type"), "type cannot be set to null, use nullable as an alternative")
        if isinstance(s.get("items"), list) and s["items"]:
            c.forbidden(child(path, "items"), "items must be a schema object and not an array")
        if scope.inside_meta and is_embedded(s):
            c.forbidden(child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta")

    def _extensions(self, s: dict, path: str) -> None:
        c = self.errors
        kind, list_type, map_type = s.get("type") or "", s.get("x-kubernetes-list-type"), s.get("x-kubernetes-map-type")
        if s.get("x-kubernetes-preserve-unknown-fields") is False:
            c.invalid(child(path, "x-kubernetes-preserve-unknown-fields"), False, "must be true or undefined")
        for ext, value, needed in (("x-kubernetes-map-type", map_type, "object"),
                                   ("x-kubernetes-list-type", list_type, "array")):
            if value is not None and kind != needed:
                (c.invalid(child(path, "type"), kind, f"must be {needed} if {ext} is specified") if kind
                 else c.required(child(path, "type"), f"must be {needed} if {ext} is specified"))
        if map_type is not None and map_type not in ("atomic", "granular"):
            c.not_supported(child(path, "x-kubernetes-map-type"), map_type, ["atomic", "granular"])
        item = items_of(s)
        if list_type == "set" and kind == "array" and self.rules.atomic_sets and item is not None:
            if item.get("type") == "array" and item.get("x-kubernetes-list-type") not in (None, "atomic"):
                c.invalid(child(path, "items", "x-kubernetes-list-type"), item["x-kubernetes-list-type"],
                          "must be atomic as item of a list with x-kubernetes-list-type=set")
            elif item.get("type") == "object" and item.get("x-kubernetes-map-type") != "atomic":
                c.invalid(child(path, "items", "x-kubernetes-map-type"), Go('"null"'),
                          "must be atomic as item of a list with x-kubernetes-list-type=set")
        if list_type is not None and list_type not in ("atomic", "set", "map"):
            c.not_supported(child(path, "x-kubernetes-list-type"), list_type, ["atomic", "set", "map"])
        keys = as_list(s.get("x-kubernetes-list-map-keys"))
        if keys and list_type is None:
            c.required(child(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty")
        elif keys and list_type != "map":
            c.invalid(child(path, "x-kubernetes-list-type"), list_type, "must be map if x-kubernetes-list-map-keys is "
                                                                        "non-empty")
        if list_type == "map":
            self._list_map(s, path, keys)
        if self.rules.map_list_keys:
            self._list_map_keys_set(s, path)

    def _list_map(self, s: dict, path: str, keys: list) -> None:
        c = self.errors
        if not keys:
            c.required(child(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map")
        if "items" not in s:
            c.required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map")
        elif isinstance(s["items"], list):
            c.invalid(child(path, "items"), cr_value(s["items"]), "must only have a single schema if "
                                                                  "x-kubernetes-list-type is map")
        item = items_of(s)
        if item is None:
            return
        if item.get("type") != "object":
            c.invalid(child(path, "items", "type"), item.get("type") or "", "must be object if parent array's "
                                                                            "x-kubernetes-list-type is map")
            return
        for i, k in enumerate(keys):
            if k in properties_of(item):
                if as_dict(properties_of(item)[k]).get("type") in ("array", "object"):
                    c.invalid(child(keyed(child(path, "items", "properties"), k), "type"), "object",
                              "must be a scalar type if parent array's x-kubernetes-list-type is map")
            else:
                c.invalid(child(path, "x-kubernetes-list-map-keys"), go_string_list(keys),
                          "entries must all be names of item properties")
            if k in keys[:i]:
                c.invalid(child(path, "x-kubernetes-list-map-keys"), go_string_list(keys),
                          "must not contain duplicate entries")

    def _list_map_keys_set(self, s: dict, path: str) -> None:
        """validateMapListKeysMapSet: keys and elements of sets and maps are never null."""
        c, item, list_type = self.errors, items_of(s), s.get("x-kubernetes-list-type")
        if item is None or list_type not in ("set", "map"):
            return
        if item.get("nullable"):
            c.forbidden(child(path, "items", "nullable"),
                        f"cannot be nullable when x-kubernetes-list-type is {list_type}")
        if list_type != "map":
            return
        required = set(as_list(item.get("required")))
        for k in as_list(s.get("x-kubernetes-list-map-keys")):
            prop = properties_of(item).get(k)
            if not isinstance(prop, dict):
                continue
            at = keyed(child(path, "items", "properties"), k)
            if k not in required and prop.get("default") is None:
                c.required(child(at, "default"), "this property is in x-kubernetes-list-map-keys, so it must have a "
                                                 "default or be a required property")
            if prop.get("nullable"):
                c.forbidden(child(at, "nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be "
                                                   "nullable")

    def _rule_texts(self, s: dict, path: str) -> None:
        c = self.errors
        for i, rule in enumerate(as_list(s.get("x-kubernetes-validations"))):
            rule, at = as_dict(rule), f"{child(path, 'x-kubernetes-validations')}[{i}]"
            text, message = str(rule.get("rule") or ""), str(rule.get("message") or "")
            if not text.strip():
                c.required(child(at, "rule"), "rule is not specified")
            elif message and not message.strip():
                c.invalid(child(at, "message"), message, "message must be non-empty if specified")
            elif re.search(r"[\n\r]", message.strip()):
                c.invalid(child(at, "message"), message, "message must not contain line breaks")
            elif re.search(r"[\n\r]", text.strip()) and not message.strip():
                c.required(child(at, "message"), "message must be specified if rule contains line breaks")
            if rule.get("messageExpression") and not str(rule["messageExpression"]).strip():
                c.required(child(at, "messageExpression"), "messageExpression must be non-empty if specified")
            if rule.get("reason") is not None and rule["reason"] not in VALIDATION_REASONS:
                c.not_supported(child(at, "reason"), rule["reason"], VALIDATION_REASONS)
            self._rule_field_path(s, rule, at)

    def _rule_field_path(self, s: dict, rule: dict, at: str) -> None:
        c, field_path = self.errors, str(rule.get("fieldPath") or "")
        if not field_path:
            return
        if not field_path.strip():
            c.invalid(child(at, "fieldPath"), field_path, "fieldPath must be non-empty if specified")
        if re.search(r"[\n\r]", field_path):
            c.invalid(child(at, "fieldPath"), field_path, "fieldPath must not contain line breaks")
        if not first_unsupported(s) and not self._path_ok(field_path, s):
            c.invalid(child(at, "fieldPath"), field_path, "fieldPath must be a valid path")

    @staticmethod
    def _path_ok(field_path: str, s: dict) -> bool:
        try:
            resolve_field_path(field_path, s)
        except ValueError:
            return False
        return True

    def _compile_rules(self, s: dict, path: str, scope: _Scope) -> None:
        c = self.cel
        for i, rule in enumerate(as_list(s.get("x-kubernetes-validations"))):
            rule, at = as_dict(rule), f"{child(path, 'x-kubernetes-validations')}[{i}]"
            program, error = compile_rule(str(rule.get("rule") or ""))
            if program is None and not beyond_the_engine(error):
                c.invalid(child(at, "rule"), _go_validation_rule(rule), f"compilation failed: {error}")
            if rule.get("messageExpression"):
                message, error = compile_rule(str(rule["messageExpression"]))
                if message is None and not beyond_the_engine(error):
                    c.invalid(child(at, "messageExpression"), _go_validation_rule(rule),
                              f"messageExpression compilation failed: {error}")
            if program is None:
                continue
            if uses_old_self(program):
                if scope.old_self_forbidden:
                    c.invalid(child(at, "rule"), str(rule.get("rule")), "oldSelf cannot be used on the uncorrelatable "
                                                                        f"portion of the schema within "
                                                                        f"{scope.old_self_forbidden}")
            elif rule.get("optionalOldSelf") is not None:
                c.invalid(child(at, "optionalOldSelf"), rule["optionalOldSelf"],
                          "may not be set if oldSelf is not used in rule")


def validate_version_schema(c: Errors, schema: dict, status: bool, rules: Rules, path: str) -> None:
    """validateCustomResourceDefinitionValidation for `schema.openAPIV3Schema`."""
    at = child(path, "openAPIV3Schema")
    if status:
        if schema.get("type") and schema["type"] != "object":
            c.invalid(child(at, "type"), schema["type"], 'only "object" is allowed as the type at the root of the '
                                                         "schema if the status subresource is enabled")
        elif any(k not in _ROOT_WITH_STATUS for k in nonzero(schema)):
            c.invalid(at, cr_value(schema), f"only {_ROOT_WITH_STATUS_GO} fields are allowed at the root of the "
                                            "schema if the status subresource is enabled")
    if schema.get("nullable"):
        c.forbidden(child(at, "nullable"), "nullable cannot be true at the root")
    unsupported = first_unsupported(schema)
    structural = [] if unsupported else structural_errors(schema, at)
    c.items += structural
    cel_ok = not unsupported and not structural
    if cel_ok:
        before = len(c.items)
        default_errors(c, schema, at, schema, False, rules.pruned_defaults)
        cel_ok = len(c.items) == before
    check = _SchemaCheck(rules)
    check.node(schema, at, _Scope(cel=cel_ok), is_root=True)
    c.items += check.errors.items + check.cel.items
    if unsupported and not c.items:
        c.invalid(at, "", unsupported)


def non_atomic_set(s: dict) -> bool:
    """A set whose items are lists or maps that are not atomic."""
    item = items_of(s)
    if s.get("x-kubernetes-list-type") != "set" or item is None:
        return False
    if item.get("type") == "array":
        return item.get("x-kubernetes-list-type") not in (None, "atomic")
    return item.get("type") == "object" and item.get("x-kubernetes-map-type") != "atomic"


def bad_list_map_keys(s: dict) -> bool:
    """A set or map whose items or keys may be null."""
    check = _SchemaCheck(Rules())
    check._list_map_keys_set(s, "")
    return bool(check.errors.items)
