"""What kube-apiserver refuses in a CustomResourceDefinition (apiextensions.k8s.io/v1) on create
and update: names, versions and their schemas, subresources, printer columns, selectable fields,
conversion, stored versions, and the approval protected groups need.
"""
from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from admission.crdschema.celrules import resolve_field_path
from admission.crdschema.errors import dns1035, Errors
from admission.crdschema.schemacheck import (bad_list_map_keys, non_atomic_set, OPENAPI_TYPES, Rules,
                                             validate_version_schema)
from admission.crdschema.schemanodes import any_schema
from admission.crdschema.structural import has_unpruned_defaults
from admission.gofmt import Go, go_quote, go_string_list, go_value
from admission.validation.fielderrors import child, IMMUTABLE, keyed
from admission.validation.names import is_dns1123_subdomain
from admission.validation.objects import as_dict, as_list

_PRINTER_TYPES = ["boolean", "date", "integer", "number", "string"]
_PRINTER_FORMATS = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"]
_MAX_SELECTABLE_FIELDS = 8
_APPROVAL = "api-approved.kubernetes.io"
_APPROVAL_DOC = "see https://github.com/kubernetes/enhancements/pull/1111"


def _names(c: Errors, names: dict, path: str) -> None:
    """ValidateCustomResourceDefinitionNames."""
    for field in ("plural", "singular"):
        if names.get(field):
            dns1035(c, child(path, field), names[field])
    for field in ("kind", "listKind"):
        if names.get(field):
            dns1035(c, child(path, field), names[field], mixed_case=True)
    for i, short in enumerate(as_list(names.get("shortNames"))):
        dns1035(c, f"{child(path, 'shortNames')}[{i}]", short)
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        c.invalid(child(path, "listKind"), names["listKind"], "kind and listKind may not be the same")
    for i, category in enumerate(as_list(names.get("categories"))):
        dns1035(c, f"{child(path, 'categories')}[{i}]", category)


def _simple_json_path(c: Errors, value: str, path: str) -> bool:
    """validateSimpleJSONPath, for a path known not to be empty."""
    if value[0] != ".":
        c.invalid(path, value, "must be a simple json path starting with .")
        return False
    return True


def _subresources(c: Errors, subresources: dict, path: str) -> None:
    scale = subresources.get("scale")
    if not isinstance(scale, dict):
        return
    for field, prefixes, where in (("specReplicasPath", (".spec.",), ".spec"),
                                   ("statusReplicasPath", (".status.",), ".status"),
                                   ("labelSelectorPath", (".spec.", ".status."), "either .spec or .status")):
        value, at = scale.get(field) or "", child(path, "scale", field)
        if not value:
            if field != "labelSelectorPath":
                c.required(at)
        elif _simple_json_path(c, value, at) and not value.startswith(prefixes):
            c.invalid(at, value, f"should be a json path under {where}")


def _printer_column(c: Errors, column: dict, path: str) -> None:
    if not column.get("name"):
        c.required(child(path, "name"))
    if not column.get("type"):
        c.required(child(path, "type"), "must be one of " + ",".join(_PRINTER_TYPES))
    elif column["type"] not in _PRINTER_TYPES:
        c.invalid(child(path, "type"), column["type"], "must be one of " + ",".join(_PRINTER_TYPES))
    if column.get("format") and column["format"] not in _PRINTER_FORMATS:
        c.invalid(child(path, "format"), column["format"], "must be one of " + ",".join(_PRINTER_FORMATS))
    # kube names the field after its Go name here, JSONPath, not jsonPath.
    if not column.get("jsonPath"):
        c.required(child(path, "JSONPath"))
    else:
        _simple_json_path(c, column["jsonPath"], child(path, "JSONPath"))


def _selectable_fields(c: Errors, fields: list, schema: dict | None, path: str) -> None:
    if schema is None:
        c.invalid(path, "", "selectableFields may only be set when version.schema.openAPIV3Schema is not included")
        return
    seen: list[str] = []
    for i, selectable in enumerate(fields):
        json_path, at = as_dict(selectable).get("jsonPath") or "", child(f"{path}[{i}]", "jsonPath")
        if not json_path:
            c.required(at)
            continue
        try:
            found, target = resolve_field_path(json_path, schema, allow_arrays=False)
        except ValueError as e:
            c.invalid(at, json_path, f"is an invalid path: {e}")
            continue
        if found.split(".")[0] == "metadata":
            c.invalid(at, json_path, "must not point to fields in metadata")
        if as_dict(target).get("type") not in ("string", "boolean", "integer"):
            c.invalid(at, json_path, "must point to a field of type string, boolean or integer. Enum string fields "
                                     "and strings with formats are allowed.")
        if found in seen:
            c.duplicate(at, json_path)
        else:
            seen.append(found)
    if len(seen) > _MAX_SELECTABLE_FIELDS:
        c.too_many(path, len(seen), _MAX_SELECTABLE_FIELDS)


def _deprecation_warning(c: Errors, version: dict, path: str) -> None:
    warning = version.get("deprecationWarning")
    if warning is None:
        return
    at = child(path, "deprecationWarning")
    if not version.get("deprecated"):
        c.invalid(at, warning, "can only be set for deprecated versions")
        return
    if len(warning.encode()) > 256:
        c.invalid(at, warning, "must be <= 256 characters long")
    if not warning:
        c.invalid(at, warning, "must not be an empty string")
    unprintable = next((i for i, ch in enumerate(warning) if not (ch.isprintable() or ch == " ")), None)
    if unprintable is not None:
        c.invalid(at, warning, "must only contain printable UTF-8 characters; non-printable character found at "
                               f"index {len(warning[:unprintable].encode())}")


def _version(c: Errors, version: dict, path: str, rules: Rules) -> None:
    """validateCustomResourceDefinitionVersion."""
    _deprecation_warning(c, version, path)
    schema = as_dict(version.get("schema")).get("openAPIV3Schema")
    subresources = as_dict(version.get("subresources"))
    if isinstance(schema, dict):
        validate_version_schema(c, schema, isinstance(subresources.get("status"), dict), rules, child(path, "schema"))
    _subresources(c, subresources, child(path, "subresources"))
    for i, column in enumerate(as_list(version.get("additionalPrinterColumns"))):
        _printer_column(c, as_dict(column), f"{child(path, 'additionalPrinterColumns')}[{i}]")
    if as_list(version.get("selectableFields")):
        _selectable_fields(c, version["selectableFields"], schema if isinstance(schema, dict) else None,
                           child(path, "selectableFields"))


def _schemas(spec: dict) -> list:
    return [as_dict(as_dict(v).get("schema")).get("openAPIV3Schema") for v in as_list(spec.get("versions"))]


def _rules_for(old: dict | None) -> Rules:
    """On update, kube does not tighten what the stored CRD already got away with."""
    if old is None:
        return Rules()
    schemas = _schemas(as_dict(old.get("spec")))

    def nodes_with(predicate: Callable[[dict], bool]) -> bool:
        return any(any_schema(s, predicate) for s in schemas)

    return Rules(
        require_schema=all(isinstance(s, dict) for s in schemas),
        valid_types=not nodes_with(lambda s: bool(s.get("type")) and s["type"] not in OPENAPI_TYPES),
        pruned_defaults=not any(has_unpruned_defaults(s) for s in schemas),
        atomic_sets=not nodes_with(non_atomic_set),
        map_list_keys=not nodes_with(bad_list_map_keys),
    )


def _conversion(c: Errors, conversion: dict, path: str) -> None:
    """Only the None strategy: vapi serves each version from the one stored object as is."""
    strategy = conversion.get("strategy")
    if not strategy:
        c.required(child(path, "strategy"))
    elif strategy != "None":
        c.not_supported(child(path, "strategy"), strategy, ["None"])
        return
    for field in ("webhookClientConfig", "webhook", "conversionReviewVersions"):
        if conversion.get(field):
            c.forbidden(child(path, field), "should not be set when strategy is not set to Webhook")


def _spec(c: Errors, spec: dict, rules: Rules) -> None:
    """validateCustomResourceDefinitionSpec, for what apiextensions.k8s.io/v1 can carry."""
    group = str(spec.get("group") or "")
    if not group:
        c.required("spec.group")
    elif is_dns1123_subdomain(group):
        c.invalid("spec.group", group, ",".join(is_dns1123_subdomain(group)))
    elif "." not in group:
        c.invalid("spec.group", group, "should be a domain with at least one dot")
    c.one_of("spec.scope", spec.get("scope"), ["Cluster", "Namespaced"])
    versions = [as_dict(v) for v in as_list(spec.get("versions"))]
    if rules.require_schema:
        for i, version in enumerate(versions):
            if not isinstance(as_dict(version.get("schema")).get("openAPIV3Schema"), dict):
                c.required(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required")
    if spec.get("preserveUnknownFields") is True and any(
            any_schema(s, lambda n: n.get("default") is not None) for s in _schemas(spec)):
        c.invalid("spec.preserveUnknownFields", True, "must be false in order to use defaults in the schema")
    names = [v.get("name") for v in versions]
    for i, version in enumerate(versions):
        dns1035(c, f"spec.versions[{i}].name", version.get("name") or "")
        _version(c, version, f"spec.versions[{i}]", rules)
    shown = Go("[]apiextensions.CustomResourceDefinitionVersion{" + ", ".join(
        f"apiextensions.CustomResourceDefinitionVersion{{Name:{go_quote(str(v.get('name') or ''))}, "
        f"Served:{go_value(bool(v.get('served')))}, Storage:{go_value(bool(v.get('storage')))}, ...}}"
        for v in versions) + "}")
    if len(set(names)) < len(names):
        c.invalid("spec.versions", shown, "must contain unique version names")
    if sum(1 for v in versions if v.get("storage") is True) != 1:
        c.invalid("spec.versions", shown, "must have exactly one version marked as storage version")
    crd_names = as_dict(spec.get("names"))
    for field in ("plural", "singular", "kind", "listKind"):
        if not crd_names.get(field):
            c.required(f"spec.names.{field}")
    _names(c, crd_names, "spec.names")
    if spec.get("conversion") is not None:
        if spec.get("preserveUnknownFields") is True and as_dict(spec["conversion"]).get("strategy") != "None":
            c.invalid("spec.conversion.strategy", as_dict(spec["conversion"]).get("strategy") or "",
                      "must be None if spec.preserveUnknownFields is true")
        _conversion(c, as_dict(spec["conversion"]), "spec.conversion")


def _established(crd: dict) -> bool:
    return any(as_dict(cond).get("type") == "Established" and as_dict(cond).get("status") == "True"
               for cond in as_list(as_dict(crd.get("status")).get("conditions")))


def stored_versions(crd: dict, old: dict | None = None) -> list[str]:
    """status.storedVersions as kube's strategy sets them before validation: a create starts from
    the storage version, an update adds the new storage version to those stored so far."""
    stored = [] if old is None else [str(v) for v in as_list(as_dict(old.get("status")).get("storedVersions"))]
    storage = next((as_dict(v).get("name") for v in as_list(as_dict(crd.get("spec")).get("versions"))
                    if as_dict(v).get("storage") is True), None)
    if storage and storage not in stored:
        stored.append(storage)
    return stored


def _stored_versions(c: Errors, stored: list[str], versions: list) -> None:
    if not stored:
        c.invalid("status.storedVersions", go_string_list(None), "must have at least one stored version")
    served = {as_dict(v).get("name") for v in versions}
    for i, name in enumerate(stored):
        if name not in served:
            c.invalid(f"status.storedVersions[{i}]", name, f"missing from spec.versions; {name} was previously a "
                      f"storage version, and must remain in spec.versions until a storage migration ensures no data "
                      f"remains persisted in {name} and removes {name} from status.storedVersions")


def _approval_state(crd: dict) -> tuple[str, str]:
    annotation = str(as_dict(as_dict(crd.get("metadata")).get("annotations")).get(_APPROVAL) or "")
    parsed = urllib.parse.urlparse(annotation)
    if not annotation:
        return "missing", f"protected groups must have approval annotation {go_quote(_APPROVAL)}, {_APPROVAL_DOC}"
    if annotation.startswith("unapproved"):
        return "bypassed", ""
    if parsed.scheme and parsed.netloc:
        return "approved", ""
    return "invalid", (f"protected groups must have approval annotation {go_quote(_APPROVAL)} with either a URL or a "
                       f'reason starting with "unapproved", {_APPROVAL_DOC}')


def _api_approval(c: Errors, crd: dict, old: dict | None) -> None:
    """Groups under k8s.io and kubernetes.io belong to the Kubernetes project, which approves them."""
    group = str(as_dict(crd.get("spec")).get("group") or "")
    if not any(group == d or group.endswith("." + d) for d in ("k8s.io", "kubernetes.io")):
        return
    state, reason = _approval_state(crd)
    if old is not None and _approval_state(old)[0] == state:
        return
    field = keyed("metadata.annotations", _APPROVAL)
    if state == "missing":
        c.required(field, reason)
    elif state == "invalid":
        c.invalid(field, as_dict(as_dict(crd.get("metadata")).get("annotations")).get(_APPROVAL), reason)


def validate_crd(crd: dict, old: dict | None = None) -> list[dict]:
    """What kube-apiserver refuses in a CustomResourceDefinition (apiextensions.k8s.io/v1) on
    create (old is None) or update, as StatusCauses. The request's status is not trusted: status
    storedVersions are judged as kube's strategy sets them (see `stored_versions`)."""
    c = Errors()
    spec = as_dict(crd.get("spec"))
    _spec(c, spec, _rules_for(old))
    if old is not None:
        old_spec = as_dict(old.get("spec"))
        immutable = [("spec.group", ("group",)), ("spec.names.plural", ("names", "plural"))]
        if _established(old):
            immutable += [("spec.scope", ("scope",)), ("spec.names.kind", ("names", "kind"))]
        for field, keys in immutable:
            new_value, old_value = spec, old_spec
            for k in keys:
                new_value, old_value = as_dict(new_value).get(k), as_dict(old_value).get(k)
            if (new_value or "") != (old_value or ""):
                c.invalid(field, new_value or "", IMMUTABLE)
    _names(c, as_dict(as_dict(crd.get("status")).get("acceptedNames")), "status.acceptedNames")
    _stored_versions(c, stored_versions(crd, old), as_list(spec.get("versions")))
    _api_approval(c, crd, old)
    old_preserved = old is not None and as_dict(old.get("spec")).get("preserveUnknownFields") is True
    if spec.get("preserveUnknownFields") is True and not old_preserved:
        c.invalid("spec.preserveUnknownFields", True, "cannot set to true, set x-kubernetes-preserve-unknown-fields to "
                                                      "true in spec.versions[*].schema instead")
    return c.items
