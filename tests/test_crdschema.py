"""CustomResourceDefinitions and their custom resources, judged as kube-apiserver judges them.

CRDs are the Kubernetes documentation's examples (CronTab) and the shapes operators ship: several
versions, CEL rules, int-or-string, embedded resources, list types, defaults in arrays. Expected
causes are kube's words, built as apiextensions-apiserver and kube-openapi build them.
"""
from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from admission import crdschema, defaults, schemas

SCHEMA_PATH = "spec.versions[0].schema.openAPIV3Schema"
META_FIELDS = schemas.load().object_meta_fields
CRON_PATTERN = r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$"
CRONTAB_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "properties": {
            "cronSpec": {"type": "string", "pattern": CRON_PATTERN},
            "image": {"type": "string"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10}}},
        "status": {"type": "object", "properties": {"replicas": {"type": "integer"},
                                                     "labelSelector": {"type": "string"}}}}}


def make_crd(schema: dict | None = None, *, group: str = "stable.example.com", plural: str = "crontabs",
             kind: str = "CronTab", versions: list[dict] | None = None, **version) -> dict:
    """A v1 CRD with one served storage version (or `versions`), defaulted as kube defaults it."""
    if versions is None:
        versions = [{"name": "v1", "served": True, "storage": True,
                     "schema": {"openAPIV3Schema": copy.deepcopy(schema or CRONTAB_SCHEMA)}, **version}]
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"{plural}.{group}"},
           "spec": {"group": group, "scope": "Namespaced", "versions": versions,
                    "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "shortNames": ["ct"]}}}
    defaults.apply_defaults(schemas.load(), "apiextensions.k8s.io", "v1", "CustomResourceDefinition", crd)
    return crd


def causes(found: list[dict]) -> list[tuple[str, str, str]]:
    return [(c["reason"], c["field"], c["message"]) for c in found]


def schema_with(spec_properties: dict, **spec) -> dict:
    return {"type": "object", "properties": {"spec": {"type": "object", "properties": spec_properties, **spec}}}


# --- the CustomResourceDefinition ----------------------------------------------------------------

def test_the_documentations_crontab_is_valid_and_defaulted():
    crd = make_crd()
    assert crdschema.validate_crd(crd) == []
    assert crd["spec"]["names"]["listKind"] == "CronTabList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert crdschema.stored_versions(crd) == ["v1"]


def test_names_scope_and_group():
    crd = make_crd(group="example", plural="Cron_Tabs", kind="CronTab")
    crd["metadata"]["name"] = "Cron_Tabs.example"
    crd["spec"]["scope"] = "Global"
    crd["spec"]["names"].update(listKind="CronTab", shortNames=["c t"], categories=["all"])
    dns1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
    assert causes(crdschema.validate_crd(crd)) == [
        ("FieldValueInvalid", "spec.group", 'Invalid value: "example": should be a domain with at least one dot'),
        ("FieldValueNotSupported", "spec.scope",
         'Unsupported value: "Global": supported values: "Cluster", "Namespaced"'),
        ("FieldValueInvalid", "spec.names.plural", f'Invalid value: "Cron_Tabs": {dns1035}'),
        ("FieldValueInvalid", "spec.names.shortNames[0]", f'Invalid value: "c t": {dns1035}'),
        ("FieldValueInvalid", "spec.names.listKind", 'Invalid value: "CronTab": kind and listKind may not be the same'),
    ]


def test_versions_need_exactly_one_storage_version_and_unique_names():
    crd = make_crd(versions=[
        {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": CRONTAB_SCHEMA}},
        {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": CRONTAB_SCHEMA}},
        {"name": "V2", "served": True, "storage": False}])
    found = causes(crdschema.validate_crd(crd))
    assert found[0] == ("FieldValueRequired", "spec.versions[2].schema.openAPIV3Schema",
                        "Required value: schemas are required")
    assert found[1][:2] == ("FieldValueInvalid", "spec.versions[2].name")
    assert [(r, f, m.split(": ")[-1]) for r, f, m in found[2:]] == [
        ("FieldValueInvalid", "spec.versions", "must contain unique version names"),
        ("FieldValueInvalid", "spec.versions", "must have exactly one version marked as storage version"),
    ]
    assert found[2][2].startswith('Invalid value: []apiextensions.CustomResourceDefinitionVersion{'
                                  'apiextensions.CustomResourceDefinitionVersion{Name:"v1", Served:true, Storage:true')


def test_no_storage_version_means_nothing_stored_either():
    crd = make_crd()
    crd["spec"]["versions"][0]["storage"] = False
    assert causes(crdschema.validate_crd(crd))[-1] == (
        "FieldValueInvalid", "status.storedVersions",
        "Invalid value: []string(nil): must have at least one stored version")


def test_a_multi_version_crd_keeps_its_stored_versions_served():
    v1beta1 = {"name": "v1beta1", "served": True, "storage": False, "deprecated": True,
               "deprecationWarning": "stable.example.com/v1beta1 CronTab is deprecated; use v1",
               "schema": {"openAPIV3Schema": CRONTAB_SCHEMA}}
    v1 = {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": CRONTAB_SCHEMA}}
    old = make_crd(versions=[copy.deepcopy(v1beta1), {**copy.deepcopy(v1), "storage": False}])
    old["spec"]["versions"][0]["storage"] = True
    old["status"] = {"storedVersions": ["v1beta1"]}
    new = make_crd(versions=[copy.deepcopy(v1beta1), copy.deepcopy(v1)])
    new["spec"]["versions"][0]["storage"] = False
    assert crdschema.validate_crd(new, old) == []
    assert crdschema.stored_versions(new, old) == ["v1beta1", "v1"]
    dropped = make_crd(versions=[copy.deepcopy(v1)])
    assert causes(crdschema.validate_crd(dropped, old)) == [(
        "FieldValueInvalid", "status.storedVersions[0]",
        'Invalid value: "v1beta1": missing from spec.versions; v1beta1 was previously a storage version, and must '
        "remain in spec.versions until a storage migration ensures no data remains persisted in v1beta1 and removes "
        "v1beta1 from status.storedVersions")]


def test_deprecation_warning_needs_a_deprecated_version():
    crd = make_crd(deprecationWarning="old")
    assert causes(crdschema.validate_crd(crd)) == [(
        "FieldValueInvalid", "spec.versions[0].deprecationWarning",
        'Invalid value: "old": can only be set for deprecated versions')]


def test_updates_keep_group_and_plural_and_once_established_scope_and_kind():
    old = make_crd()
    old["status"] = {"conditions": [{"type": "Established", "status": "True"}], "storedVersions": ["v1"]}
    new = make_crd(group="other.example.com")
    new["spec"]["scope"] = "Cluster"
    assert causes(crdschema.validate_crd(new, old)) == [
        ("FieldValueInvalid", "spec.group", 'Invalid value: "other.example.com": field is immutable'),
        ("FieldValueInvalid", "spec.scope", 'Invalid value: "Cluster": field is immutable'),
    ]
    del old["status"]["conditions"]
    assert [c["field"] for c in crdschema.validate_crd(new, old)] == ["spec.group"]


def test_only_the_none_conversion_is_served():
    crd = make_crd()
    crd["spec"]["conversion"] = {"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://conv.example"},
                                                                     "conversionReviewVersions": ["v1"]}}
    assert causes(crdschema.validate_crd(crd)) == [
        ("FieldValueNotSupported", "spec.conversion.strategy",
         'Unsupported value: "Webhook": supported values: "None"')]
    crd["spec"]["conversion"] = {"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"]}}
    assert causes(crdschema.validate_crd(crd)) == [
        ("FieldValueForbidden", "spec.conversion.webhook",
         "Forbidden: should not be set when strategy is not set to Webhook")]


def test_preserve_unknown_fields_at_the_crd_level_is_gone():
    crd = make_crd()
    crd["spec"]["preserveUnknownFields"] = True
    assert causes(crdschema.validate_crd(crd)) == [(
        "FieldValueInvalid", "spec.preserveUnknownFields", "Invalid value: true: cannot set to true, set "
        "x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead")]


def test_protected_groups_need_the_approval_annotation():
    crd = make_crd(group="widgets.k8s.io", plural="widgets", kind="Widget")
    assert causes(crdschema.validate_crd(crd)) == [(
        "FieldValueRequired", "metadata.annotations[api-approved.kubernetes.io]",
        'Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see '
        "https://github.com/kubernetes/enhancements/pull/1111")]
    crd["metadata"]["annotations"] = {"api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/1"}
    assert crdschema.validate_crd(crd) == []
    crd["metadata"]["annotations"] = {"api-approved.kubernetes.io": "unapproved, experimental"}
    assert crdschema.validate_crd(crd) == []


def test_scale_subresource_paths_and_printer_columns():
    crd = make_crd(subresources={"status": {}, "scale": {"specReplicasPath": ".replicas",
                                                         "labelSelectorPath": "status.labelSelector"}},
                   additionalPrinterColumns=[{"name": "Spec", "type": "str", "jsonPath": ".spec.cronSpec"},
                                             {"name": "Age", "type": "date"}])
    at = "spec.versions[0]"
    assert causes(crdschema.validate_crd(crd)) == [
        ("FieldValueInvalid", f"{at}.subresources.scale.specReplicasPath",
         'Invalid value: ".replicas": should be a json path under .spec'),
        ("FieldValueRequired", f"{at}.subresources.scale.statusReplicasPath", "Required value"),
        ("FieldValueInvalid", f"{at}.subresources.scale.labelSelectorPath",
         'Invalid value: "status.labelSelector": must be a simple json path starting with .'),
        ("FieldValueInvalid", f"{at}.additionalPrinterColumns[0].type",
         'Invalid value: "str": must be one of boolean,date,integer,number,string'),
        ("FieldValueRequired", f"{at}.additionalPrinterColumns[1].JSONPath", "Required value"),
    ]
    good = make_crd(subresources={"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                          "statusReplicasPath": ".status.replicas",
                                                          "labelSelectorPath": ".status.labelSelector"}})
    assert crdschema.validate_crd(good) == []


def test_the_root_schema_with_a_status_subresource():
    schema = copy.deepcopy(CRONTAB_SCHEMA)
    schema["nullable"] = True
    found = causes(crdschema.validate_crd(make_crd(schema, subresources={"status": {}})))
    assert [(r, f) for r, f, _ in found] == [("FieldValueInvalid", SCHEMA_PATH),
                                            ("FieldValueForbidden", f"{SCHEMA_PATH}.nullable")]
    assert found[0][2].endswith("fields are allowed at the root of the schema if the status subresource is enabled")
    assert found[1][2] == "Forbidden: nullable cannot be true at the root"


def test_selectable_fields():
    crd = make_crd(selectableFields=[{"jsonPath": ".spec.image"}, {"jsonPath": ".spec.replicas"},
                                     {"jsonPath": ".spec.image"}, {"jsonPath": ".spec.nope"},
                                     {"jsonPath": ".status"}])
    at = "spec.versions[0].selectableFields"
    assert causes(crdschema.validate_crd(crd)) == [
        ("FieldValueDuplicate", f"{at}[2].jsonPath", 'Duplicate value: ".spec.image"'),
        ("FieldValueInvalid", f"{at}[3].jsonPath", 'Invalid value: ".spec.nope": is an invalid path: does not refer '
                                                   "to a valid field"),
        ("FieldValueInvalid", f"{at}[4].jsonPath", 'Invalid value: ".status": must point to a field of type string, '
                                                   "boolean or integer. Enum string fields and strings with formats "
                                                   "are allowed."),
    ]


# --- structural schemas ----------------------------------------------------------------------------

def test_a_field_without_type_is_not_structural():
    schema = copy.deepcopy(CRONTAB_SCHEMA)
    del schema["properties"]["spec"]["type"]
    assert causes(crdschema.validate_crd(make_crd(schema))) == [(
        "FieldValueRequired", f"{SCHEMA_PATH}.properties[spec].type",
        "Required value: must not be empty for specified object fields")]


@pytest.mark.parametrize("change, expected", [
    (lambda s: s.pop("type"), [("FieldValueRequired", f"{SCHEMA_PATH}.type",
                                "Required value: must not be empty at the root")]),
    (lambda s: s["properties"].update(tags={"type": "array", "items": {"description": "no type"}}),
     [("FieldValueRequired", f"{SCHEMA_PATH}.properties[tags].items.type",
       "Required value: must not be empty for specified array items")]),
    (lambda s: s["properties"].update(tags={"type": "array"}),
     [("FieldValueRequired", f"{SCHEMA_PATH}.properties[tags].items", "Required value: must be specified")]),
    (lambda s: s.update(additionalProperties={"type": "string"}),
     [("FieldValueForbidden", f"{SCHEMA_PATH}.additionalProperties", "Forbidden: must not be used at the root"),
      ("FieldValueForbidden", f"{SCHEMA_PATH}.additionalProperties",
       "Forbidden: additionalProperties and properties are mutual exclusive")]),
    (lambda s: s["properties"]["spec"].update(anyOf=[{"type": "object", "required": ["image"]}]),
     [("FieldValueForbidden", f"{SCHEMA_PATH}.properties[spec].anyOf[0].type",
       "Forbidden: must be empty to be structural")]),
    (lambda s: s.update(oneOf=[{"properties": {"spec": {"properties": {"schedule": {"minLength": 1}}}}}]),
     [("FieldValueRequired", f"{SCHEMA_PATH}.properties[spec].properties[schedule]", "Required value: because it is "
       f"defined in {SCHEMA_PATH}.oneOf[0].properties[spec].properties[schedule]")]),
    (lambda s: s["properties"].update(metadata={"type": "object", "properties": {"labels": {"type": "object"}}}),
     [("FieldValueForbidden", f"{SCHEMA_PATH}.properties[metadata]", "Forbidden: must not specify anything other "
       "than name and generateName, but metadata is implicitly specified")]),
    (lambda s: s["properties"]["spec"]["properties"].update(port={"x-kubernetes-int-or-string": True,
                                                                  "x-kubernetes-preserve-unknown-fields": True}),
     [("FieldValueInvalid", f"{SCHEMA_PATH}.properties[spec].properties[port].x-kubernetes-preserve-unknown-fields",
       "Invalid value: true: must be false if x-kubernetes-int-or-string is true")]),
    (lambda s: s["properties"]["spec"].update(additionalProperties={"type": "string"}),
     [("FieldValueForbidden", f"{SCHEMA_PATH}.properties[spec].additionalProperties",
       "Forbidden: additionalProperties and properties are mutual exclusive")]),
    (lambda s: s["properties"]["spec"]["properties"]["image"].update(pattern="^(?!latest)"),
     [("FieldValueInvalid", f"{SCHEMA_PATH}.properties[spec].properties[image].pattern",
       'Invalid value: "^(?!latest)": must be a valid regular expression, but isn\'t: error parsing regexp: invalid '
       "or unsupported Perl syntax: `(?!`")]),
    (lambda s: s["properties"]["spec"]["properties"]["image"].update(type="str"),
     [("FieldValueNotSupported", f"{SCHEMA_PATH}.properties[spec].properties[image].type",
       'Unsupported value: "str": supported values: "array", "boolean", "integer", "number", "object", "string"')]),
    (lambda s: s["properties"]["spec"]["properties"]["image"].update({"$ref": "#/definitions/Image"}),
     [("FieldValueForbidden", f"{SCHEMA_PATH}.properties[spec].properties[image].$ref",
       "Forbidden: $ref is not supported")]),
])
def test_non_structural_schemas_are_refused(change, expected):
    schema = copy.deepcopy(CRONTAB_SCHEMA)
    change(schema)
    assert causes(crdschema.validate_crd(make_crd(schema))) == expected


def test_int_or_string_may_use_the_any_of_pattern():
    port = {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert crdschema.validate_crd(make_crd(schema_with({"port": port}))) == []


def test_list_type_map_keys_must_be_required_scalar_properties():
    ports = {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "name"],
             "items": {"type": "object", "properties": {"port": {"type": "integer"}, "protocol": {"type": "string"}}}}
    at = f"{SCHEMA_PATH}.properties[spec].properties[ports]"
    assert causes(crdschema.validate_crd(make_crd(schema_with({"ports": ports})))) == [
        ("FieldValueInvalid", f"{at}.x-kubernetes-list-map-keys",
         'Invalid value: []string{"port", "name"}: entries must all be names of item properties'),
        ("FieldValueRequired", f"{at}.items.properties[port].default", "Required value: this property is in "
         "x-kubernetes-list-map-keys, so it must have a default or be a required property"),
    ]


def test_set_items_must_be_atomic():
    tags = {"type": "array", "x-kubernetes-list-type": "set",
            "items": {"type": "object", "properties": {"k": {"type": "string"}}}}
    assert causes(crdschema.validate_crd(make_crd(schema_with({"tags": tags})))) == [(
        "FieldValueInvalid", f"{SCHEMA_PATH}.properties[spec].properties[tags].items.x-kubernetes-map-type",
        'Invalid value: "null": must be atomic as item of a list with x-kubernetes-list-type=set')]


def test_defaults_must_validate_and_be_pruned():
    schema = schema_with({
        "mode": {"type": "string", "enum": ["Allow", "Forbid"], "default": "Replace"},
        "limits": {"type": "object", "default": {"cpu": 1, "gpu": 2}, "properties": {"cpu": {"type": "string"}}},
        "containers": {"type": "array", "items": {"type": "object", "properties": {
            "pullPolicy": {"type": "string", "default": 5}}}}})
    schema["properties"]["metadata"] = {"type": "object", "default": {"name": "x"}}
    at = f"{SCHEMA_PATH}.properties[spec].properties"
    assert causes(crdschema.validate_crd(make_crd(schema))) == [
        ("FieldValueNotSupported", f"{at}[mode].default",
         'Unsupported value: "Replace": supported values: "Allow", "Forbid"'),
        ("FieldValueInvalid", f"{at}[limits].default",
         'Invalid value: map[string]interface {}{"cpu":1, "gpu":2}: must not have unknown fields'),
        ("FieldValueTypeInvalid", f"{at}[limits].default.cpu",
         'Invalid value: "integer": cpu in body must be of type string: "integer"'),
        ("FieldValueTypeInvalid", f"{at}[containers].items.properties[pullPolicy].default",
         'Invalid value: "integer":  in body must be of type string: "integer"'),
        ("FieldValueForbidden", f"{SCHEMA_PATH}.properties[metadata].default",
         "Forbidden: must not be set in top-level metadata"),
    ]


# --- CEL rules in the CRD ----------------------------------------------------------------------------

SCALE_RULES = [
    {"rule": "self.minReplicas <= self.replicas", "message": "replicas should be greater than or equal to "
                                                            "minReplicas"},
    {"rule": "self.replicas <= self.maxReplicas", "messageExpression": "'replicas ' + string(self.replicas) + "
                                                                       "' is above maxReplicas'"},
]
CEL_SCHEMA = {"type": "object", "properties": {
    "spec": {"type": "object", "x-kubernetes-validations": SCALE_RULES, "properties": {
        "replicas": {"type": "integer"}, "minReplicas": {"type": "integer"}, "maxReplicas": {"type": "integer"},
        "name": {"type": "string", "x-kubernetes-validations": [
            {"rule": "self.startsWith('a')", "reason": "FieldValueForbidden"}]},
        "storageClass": {"type": "string", "x-kubernetes-validations": [
            {"rule": "self == oldSelf", "message": "Value is immutable"}]},
        "owner": {"type": "string", "x-kubernetes-validations": [
            {"rule": "!oldSelf.hasValue() || self == oldSelf.value()", "optionalOldSelf": True,
             "message": "owner may be set once"}]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10, "x-kubernetes-validations": [
            {"rule": "self.all(t, t.matches('^[a-z]+$'))", "message": "tags are lower case words"},
            {"rule": "size(self) < 5"},
            {"rule": "self.map(t, t.lowerAscii()) == self"}]},
        "ratio": {"type": "number", "x-kubernetes-validations": [{"rule": "self <= 1.0"}]},
        "selector": {"type": "object", "additionalProperties": {"type": "string"}, "x-kubernetes-validations": [
            {"rule": "has(self.app)", "message": "selects on app", "reason": "FieldValueRequired"}]},
        "window": {"type": "object", "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
                   "x-kubernetes-validations": [{"rule": "self.end > self.start", "fieldPath": ".end"}]},
    }}}}


def test_a_crd_with_cel_rules_is_valid():
    assert crdschema.validate_crd(make_crd(CEL_SCHEMA)) == []


def test_rules_that_do_not_compile():
    schema = schema_with({"replicas": {"type": "integer"}}, **{"x-kubernetes-validations": [
        {"rule": "self.replicas >"},
        {"rule": "self.replicas > 0", "messageExpression": "'bad' +"},
        {"rule": "self.replicas > 0", "reason": "FieldValueGone"},
        {"rule": " "},
        {"rule": "self.replicas > 0", "fieldPath": ".nope"}]})
    at = f"{SCHEMA_PATH}.properties[spec].x-kubernetes-validations"
    found = causes(crdschema.validate_crd(make_crd(schema)))
    # Where the rules themselves are wrong, they are not compiled.
    assert found == [
        ("FieldValueNotSupported", f"{at}[2].reason", 'Unsupported value: "FieldValueGone": supported values: '
         '"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"'),
        ("FieldValueRequired", f"{at}[3].rule", "Required value: rule is not specified"),
        ("FieldValueInvalid", f"{at}[4].fieldPath", 'Invalid value: ".nope": fieldPath must be a valid path'),
    ]
    schema["properties"]["spec"]["x-kubernetes-validations"] = [
        {"rule": "self.replicas >"}, {"rule": "self.replicas > 0", "messageExpression": "'bad' +"}]
    found = causes(crdschema.validate_crd(make_crd(schema)))
    assert [(r, f) for r, f, _ in found] == [("FieldValueInvalid", f"{at}[0].rule"),
                                            ("FieldValueInvalid", f"{at}[1].messageExpression")]
    assert found[0][2].startswith('Invalid value: apiextensions.ValidationRule{Rule:"self.replicas >", Message:"", '
                                  'MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), '
                                  'FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: '
                                  "<input>:1:16: Syntax error:")
    assert "messageExpression compilation failed: ERROR: <input>:1:8: Syntax error:" in found[1][2]


def test_old_self_needs_a_part_kube_can_match_up():
    items = {"type": "object", "properties": {"name": {"type": "string"}},
             "x-kubernetes-validations": [{"rule": "self.name == oldSelf.name"}]}
    schema = schema_with({"atomic": {"type": "array", "items": copy.deepcopy(items)},
                          "keyed": {"type": "array", "items": {**copy.deepcopy(items), "required": ["name"]},
                                    "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
                          "once": {"type": "string", "x-kubernetes-validations": [
                              {"rule": "self != ''", "optionalOldSelf": False}]}})
    at = f"{SCHEMA_PATH}.properties[spec].properties"
    assert causes(crdschema.validate_crd(make_crd(schema))) == [
        ("FieldValueInvalid", f"{at}[atomic].items.x-kubernetes-validations[0].rule",
         'Invalid value: "self.name == oldSelf.name": oldSelf cannot be used on the uncorrelatable portion of the '
         f"schema within {at}[atomic]"),
        ("FieldValueInvalid", f"{at}[once].x-kubernetes-validations[0].optionalOldSelf",
         "Invalid value: false: may not be set if oldSelf is not used in rule"),
    ]


# --- custom resources: OpenAPI schema -----------------------------------------------------------------

def crontab(**spec) -> dict:
    return {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "my-new-cron-object", "namespace": "default"},
            "spec": {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image", **spec}}


def test_the_documentations_invalid_crontab():
    found = crdschema.validate(CRONTAB_SCHEMA, crontab(cronSpec="* * * *", replicas=15))
    assert causes(found) == [
        ("FieldValueInvalid", "spec.cronSpec",
         f'Invalid value: "* * * *": spec.cronSpec in body should match \'{CRON_PATTERN}\''),
        ("FieldValueInvalid", "spec.replicas", "Invalid value: 15: spec.replicas in body should be less than or equal "
                                               "to 10"),
    ]
    assert crdschema.validate(CRONTAB_SCHEMA, crontab(replicas=1)) == []


def test_types_nulls_and_required_fields():
    schema = schema_with({"replicas": {"type": "integer"}, "paused": {"type": "boolean"},
                          "note": {"type": "string", "nullable": True},
                          "template": {"type": "object", "properties": {}}}, required=["replicas"])
    found = crdschema.validate(schema, {"spec": {"paused": "yes", "note": None, "template": None}})
    assert causes(found) == [
        ("FieldValueTypeInvalid", "spec.paused",
         'Invalid value: "string": spec.paused in body must be of type boolean: "string"'),
        ("FieldValueTypeInvalid", "spec.template",
         'Invalid value: "null": spec.template in body must be of type object: "null"'),
        ("FieldValueRequired", "spec.replicas", "Required value"),
    ]
    # A float that is a whole number is an integer to kube; 1.5 is not.
    assert crdschema.validate(schema, {"spec": {"replicas": 2.0}}) == []
    assert causes(crdschema.validate(schema, {"spec": {"replicas": 1.5}}))[0][2] == (
        'Invalid value: "number": spec.replicas in body must be of type integer: "number"')


@pytest.mark.parametrize("field, value, expected", [
    ({"type": "string", "maxLength": 3}, "abcd",
     ("FieldValueTooLong", "spec.f", "Too long: may not be more than 3 bytes")),
    ({"type": "string", "minLength": 3}, "ab",
     ("FieldValueInvalid", "spec.f", 'Invalid value: "ab": spec.f in body should be at least 3 chars long')),
    ({"type": "string", "enum": ["a", "b"]}, "c",
     ("FieldValueNotSupported", "spec.f", 'Unsupported value: "c": supported values: "a", "b"')),
    ({"type": "integer", "enum": [1, 2]}, 3,
     ("FieldValueNotSupported", "spec.f", 'Unsupported value: 3: supported values: "1", "2"')),
    ({"type": "integer", "multipleOf": 5}, 7,
     ("FieldValueInvalid", "spec.f", "Invalid value: 7: spec.f in body should be a multiple of 5")),
    ({"type": "number", "minimum": 0.5, "exclusiveMinimum": True}, 0.5,
     ("FieldValueInvalid", "spec.f", "Invalid value: 0.5: spec.f in body should be greater than 0.5")),
    ({"type": "array", "items": {"type": "string"}, "maxItems": 1}, ["a", "b"],
     ("FieldValueTooMany", "spec.f", "Too many: 2: must have at most 1 item")),
    ({"type": "array", "items": {"type": "string"}, "minItems": 1}, [],
     ("FieldValueInvalid", "spec.f", "Invalid value: 0: spec.f in body should have at least 1 items")),
    ({"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 1}, {"a": "1", "b": "2"},
     ("FieldValueTooMany", "spec.f", "Too many: 2: must have at most 1 item")),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, {"a": "1"},
     ("FieldValueTypeInvalid", "spec.f.a", 'Invalid value: "string": spec.f.a in body must be of type integer: '
                                           '"string"')),
    ({"type": "array", "items": {"type": "integer", "minimum": 1}}, [1, 0],
     ("FieldValueInvalid", "spec.f[1]", "Invalid value: 0: spec.f[1] in body should be greater than or equal to 1")),
    ({"type": "string", "format": "date-time"}, "yesterday",
     ("FieldValueTypeInvalid", "spec.f", 'Invalid value: "yesterday": spec.f in body must be of type date-time: '
                                         '"yesterday"')),
    ({"type": "string", "format": "byte"}, "not base64!",
     ("FieldValueTypeInvalid", "spec.f", 'Invalid value: "not base64!": spec.f in body must be of type byte: '
                                         '"not base64!"')),
    ({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}, "10.0.0",
     ("FieldValueInvalid", "<nil>", 'Invalid value: "": "spec.f" must validate at least one schema (anyOf)')),
])
def test_value_constraints(field, value, expected):
    assert causes(crdschema.validate(schema_with({"f": field}), {"spec": {"f": value}}))[0] == expected


def test_formats_kube_does_not_check():
    schema = schema_with({"small": {"type": "integer", "format": "int32"},
                          "at": {"type": "string", "format": "date-time"},
                          "id": {"type": "string", "format": "uuid"}})
    assert crdschema.validate(schema, {"spec": {"small": 2**40, "at": "2024-02-29T12:00:00Z",
                                                "id": "3F2504E0-4F89-11D3-9A0C-0305E82C3301"}}) == []


def test_int_or_string():
    schema = schema_with({"maxUnavailable": {"x-kubernetes-int-or-string": True}})
    assert crdschema.validate(schema, {"spec": {"maxUnavailable": 1}}) == []
    assert crdschema.validate(schema, {"spec": {"maxUnavailable": "25%"}}) == []
    assert causes(crdschema.validate(schema, {"spec": {"maxUnavailable": True}})) == [(
        "FieldValueTypeInvalid", "spec.maxUnavailable",
        'Invalid value: "boolean": spec.maxUnavailable in body must be of type integer,string: "boolean"')]


def test_an_unchanged_invalid_field_is_accepted_on_update():
    old = crontab(replicas=15)
    new = crontab(replicas=15, image="other")
    assert crdschema.validate(CRONTAB_SCHEMA, new, old) == []
    assert [c["field"] for c in crdschema.validate(CRONTAB_SCHEMA, crontab(replicas=11), old)] == ["spec.replicas"]


# --- embedded resources and list types -----------------------------------------------------------------

EMBEDDED_SCHEMA = schema_with({"template": {
    "type": "object", "x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True,
    "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}})


def test_embedded_resources_keep_their_type_and_object_meta():
    obj = {"spec": {"template": {"apiVersion": "v1", "kind": "ConfigMap", "extra": True,
                                 "metadata": {"name": "cm", "labels": {"a": "b"}, "colour": "red"},
                                 "spec": {"size": 1, "shape": "round"}}}}
    assert crdschema.prune(EMBEDDED_SCHEMA, obj, META_FIELDS, is_root=False) == ["spec.template.spec.shape",
                                                                   "spec.template.metadata.colour"]
    assert obj["spec"]["template"] == {"apiVersion": "v1", "kind": "ConfigMap", "extra": True,
                                       "metadata": {"name": "cm", "labels": {"a": "b"}, "creationTimestamp": None},
                                       "spec": {"size": 1}}
    assert crdschema.validate(EMBEDDED_SCHEMA, obj) == []


def test_embedded_resources_need_api_version_and_kind_and_valid_metadata():
    obj = {"spec": {"template": {"kind": "Config Map", "metadata": {"name": "a/b", "labels": {"-x": "y"}}}}}
    found = causes(crdschema.validate(EMBEDDED_SCHEMA, obj))
    assert found[0] == ("FieldValueRequired", "spec.template.apiVersion", "Required value")
    assert found[1][:2] == ("FieldValueInvalid", "spec.template.kind")
    assert found[1][2].startswith('Invalid value: "Config Map": may have mixed case, but should otherwise match: '
                                  "a DNS-1035 label")
    assert found[2] == ("FieldValueInvalid", "spec.template.metadata.name",
                        "Invalid value: \"a/b\": may not contain '/'")
    assert found[3][:2] == ("FieldValueInvalid", "spec.template.metadata.labels")


def test_list_type_set_and_map_duplicates():
    schema = schema_with({
        "finalizers": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "protocol"],
                  "items": {"type": "object", "required": ["port"], "properties": {
                      "port": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"}}}}})
    assert crdschema.validate_crd(make_crd(schema)) == []
    obj = {"spec": {"finalizers": ["a", "b", "a", "a"],
                    "ports": [{"port": 80, "protocol": "TCP"}, {"port": 80, "protocol": "UDP"},
                              {"port": 80, "protocol": "TCP"}]}}
    assert causes(crdschema.validate(schema, obj)) == [
        ("FieldValueDuplicate", "spec.finalizers[2]", 'Duplicate value: "a"'),
        ("FieldValueDuplicate", "spec.ports[2]",
         'Duplicate value: map[string]interface {}{"port":80, "protocol":"TCP"}'),
    ]
    # Duplicates already stored do not block an update.
    assert crdschema.validate(schema, obj, copy.deepcopy(obj)) == []


# --- custom resources: CEL ---------------------------------------------------------------------------

def cel_object(**spec) -> dict:
    return {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "c"},
            "spec": {"replicas": 3, "minReplicas": 1, "maxReplicas": 5, **spec}}


def test_rules_that_hold():
    obj = cel_object(name="alpha", tags=["a", "b"], ratio=1, selector={"app": "web"},
                     window={"start": "08:00", "end": "17:00"})
    assert crdschema.validate(CEL_SCHEMA, obj) == []


def test_rules_that_fail_speak_with_their_message_reason_and_field_path():
    obj = cel_object(replicas=9, minReplicas=10, name="beta", tags=["A", "b", "c", "d", "e"], ratio=2,
                     selector={"tier": "web"}, window={"start": "17:00", "end": "08:00"})
    assert causes(crdschema.validate(CEL_SCHEMA, obj)) == [
        ("FieldValueInvalid", "spec", 'Invalid value: "object": replicas should be greater than or equal to '
                                      "minReplicas"),
        ("FieldValueInvalid", "spec", 'Invalid value: "object": replicas 9 is above maxReplicas'),
        ("FieldValueForbidden", "spec.name", "Forbidden: failed rule: self.startsWith('a')"),
        ("FieldValueInvalid", "spec.tags", 'Invalid value: "array": tags are lower case words'),
        ("FieldValueInvalid", "spec.tags", 'Invalid value: "array": failed rule: size(self) < 5'),
        ("FieldValueInvalid", "spec.tags", 'Invalid value: "array": failed rule: self.map(t, t.lowerAscii()) == '
                                           "self"),
        ("FieldValueInvalid", "spec.ratio", 'Invalid value: "number": failed rule: self <= 1.0'),
        ("FieldValueRequired", "spec.selector", "Required value: selects on app"),
        ("FieldValueInvalid", "spec.window.end", 'Invalid value: "object": failed rule: self.end > self.start'),
    ]


def test_rules_see_values_as_kube_types():
    """Formatted strings are timestamps and durations, numbers are doubles, null fields are absent,
    and property names CEL cannot spell are escaped."""
    schema = schema_with({"since": {"type": "string", "format": "date-time"},
                          "timeout": {"type": "string", "format": "duration"},
                          "weight": {"type": "number"},
                          "note": {"type": "string", "nullable": True},
                          "port-name": {"type": "string"}, "namespace": {"type": "string"}},
                         **{"x-kubernetes-validations": [
                             {"rule": "self.since < timestamp('2030-01-01T00:00:00Z')"},
                             {"rule": "self.timeout <= duration('1h')"},
                             {"rule": "type(self.weight) == double && self.weight == 2.0"},
                             {"rule": "!has(self.note)"},
                             {"rule": "self.port__dash__name == 'http' && self.__namespace__ == 'prod'"}]})
    obj = {"spec": {"since": "2024-05-01T10:00:00Z", "timeout": "90s", "weight": 2, "note": None,
                    "port-name": "http", "namespace": "prod"}}
    assert crdschema.validate(schema, obj) == []
    obj["spec"]["timeout"] = "2h"
    assert [c["message"] for c in crdschema.validate(schema, obj)] == [
        'Invalid value: "object": failed rule: self.timeout <= duration(\'1h\')']


def test_transition_rules_run_on_update_only():
    created = cel_object(storageClass="fast", owner="team-a")
    assert crdschema.validate(CEL_SCHEMA, created) == []
    changed = cel_object(storageClass="slow", owner="team-b")
    assert causes(crdschema.validate(CEL_SCHEMA, changed, created)) == [
        ("FieldValueInvalid", "spec.storageClass", 'Invalid value: "string": Value is immutable'),
        ("FieldValueInvalid", "spec.owner", 'Invalid value: "string": owner may be set once'),
    ]
    # optionalOldSelf: set later for the first time is fine.
    assert crdschema.validate(CEL_SCHEMA, cel_object(owner="team-b"), cel_object()) == []


def test_unchanged_parts_are_not_judged_again_by_rules_without_old_self():
    old = cel_object(name="beta")
    assert crdschema.validate(CEL_SCHEMA, cel_object(name="beta", replicas=4), old) == []
    assert [c["field"] for c in crdschema.validate(CEL_SCHEMA, cel_object(name="gamma"), old)] == ["spec.name"]


def test_rules_wait_for_a_well_formed_object():
    assert causes(crdschema.validate(CEL_SCHEMA, cel_object(replicas="three"))) == [
        ("FieldValueTypeInvalid", "spec.replicas",
         'Invalid value: "string": spec.replicas in body must be of type integer: "string"'),
        ("FieldValueInvalid", "<nil>", 'Invalid value: "null": some validation rules were not checked because the '
                                       "object was invalid; correct the existing errors to complete validation"),
    ]


def test_evaluation_errors_are_reported_with_the_rule():
    obj = cel_object()
    del obj["spec"]["minReplicas"]
    assert causes(crdschema.validate(CEL_SCHEMA, obj)) == [
        ("FieldValueInvalid", "spec", 'Invalid value: "object": no such key: minReplicas evaluating rule: replicas '
                                      "should be greater than or equal to minReplicas")]


def test_root_rules_see_type_and_object_meta():
    schema = copy.deepcopy(CRONTAB_SCHEMA)
    schema["x-kubernetes-validations"] = [
        {"rule": "self.metadata.name.size() <= 5 && self.kind == 'CronTab'", "message": "short names only"},
        {"rule": "!has(self.spec.replicas) || self.spec.replicas % 2 == 1", "fieldPath": ".spec.replicas"}]
    assert causes(crdschema.validate(schema, crontab(replicas=2))) == [
        ("FieldValueInvalid", "<nil>", 'Invalid value: "object": short names only'),
        ("FieldValueInvalid", "spec.replicas", 'Invalid value: "object": failed rule: !has(self.spec.replicas) || '
                                               "self.spec.replicas % 2 == 1"),
    ]


def test_rules_beyond_the_cel_engine_are_accepted_but_not_enforced():
    schema = schema_with({"endpoint": {"type": "string"}}, **{"x-kubernetes-validations": [
        {"rule": "self.?endpoint.orValue('') != 'bad'"},
        {"rule": "isURL(self.endpoint)"}]})
    assert crdschema.validate_crd(make_crd(schema)) == []
    assert crdschema.validate(schema, {"spec": {"endpoint": "bad"}}) == []


def test_a_rule_too_costly_for_its_data_stops_the_rules():
    schema = schema_with({"ids": {"type": "array", "items": {"type": "integer"}, "x-kubernetes-validations": [
        {"rule": "self.all(a, self.all(b, a == b || a != b))"}]}})
    found = causes(crdschema.validate(schema, {"spec": {"ids": list(range(1001))}}))
    assert found == [("FieldValueInvalid", "spec.ids", "Invalid value: \"array\": 'operation cancelled: actual cost "
                      "limit exceeded': no further validation rules will be run due to call cost exceeds limit for "
                      "rule: self.all(a, self.all(b, a == b || a != b))")]
    assert crdschema.validate(schema, {"spec": {"ids": list(range(100))}}) == []


def test_defaults_are_checked_against_the_rules():
    schema = schema_with({"replicas": {"type": "integer", "default": 0, "x-kubernetes-validations": [
        {"rule": "self > 0", "message": "at least one replica"}]}})
    assert causes(crdschema.validate_crd(make_crd(schema))) == [(
        "FieldValueInvalid", f"{SCHEMA_PATH}.properties[spec].properties[replicas].default",
        'Invalid value: "integer": at least one replica')]


# --- pruning and defaulting ----------------------------------------------------------------------------

def test_pruning_reports_unknown_fields_and_keeps_what_the_schema_preserves():
    schema = schema_with({
        "image": {"type": "string"},
        "containers": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                   "properties": {"level": {"type": "object", "properties": {"value": {"type": "integer"}}}}},
        "replicas": {"type": "integer"}})
    obj = {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
           "metadata": {"name": "c", "namespace": "default", "clusterName": "x"},
           "spec": {"image": "nginx", "imagePullPolicy": "Always", "replicas": None,
                    "containers": [{"name": "a", "port": 80}, {"name": "b"}],
                    "config": {"anything": {"goes": True}, "level": {"value": 1, "unit": "x"}}},
           "status": {"phase": "Running"}}
    assert crdschema.prune(schema, obj, META_FIELDS) == ["metadata.clusterName", "spec.imagePullPolicy", "spec.containers[0].port",
                                            "spec.config.level.unit", "status"]
    assert obj == {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
                   "metadata": {"name": "c", "namespace": "default"},
                   "spec": {"image": "nginx", "containers": [{"name": "a"}, {"name": "b"}],
                            "config": {"anything": {"goes": True}, "level": {"value": 1}}}}


def test_defaults_apply_to_missing_fields_nested_in_arrays_and_maps():
    schema = schema_with({
        "containers": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"},
            "pullPolicy": {"type": "string", "default": "IfNotPresent"},
            "ports": {"type": "array", "items": {"type": "object", "properties": {
                "containerPort": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"}}}}}}},
        "strategy": {"type": "object", "default": {}, "properties": {
            "type": {"type": "string", "default": "RollingUpdate"}}},
        "limits": {"type": "object", "additionalProperties": {"type": "string", "default": "1"}},
        "note": {"type": "string", "nullable": True, "default": "none"},
        "paused": {"type": "boolean", "default": False}})
    assert crdschema.validate_crd(make_crd(schema)) == []
    obj = {"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80}]}, {"name": "side",
                                                                                       "pullPolicy": "Always"}],
                    "limits": {"cpu": None}, "note": None, "paused": None}}
    crdschema.prune(schema, obj, META_FIELDS, is_root=False)
    crdschema.apply_defaults(schema, obj)
    assert obj == {"spec": {
        "containers": [{"name": "web", "pullPolicy": "IfNotPresent", "ports": [{"containerPort": 80,
                                                                                "protocol": "TCP"}]},
                       {"name": "side", "pullPolicy": "Always"}],
        "limits": {"cpu": "1"}, "note": None, "paused": False, "strategy": {"type": "RollingUpdate"}}}


def test_nulls_without_a_default_are_dropped_unless_nullable():
    schema = schema_with({"image": {"type": "string"}, "note": {"type": "string", "nullable": True}})
    obj = {"spec": {"image": None, "note": None}}
    assert crdschema.prune(schema, obj, META_FIELDS, is_root=False) == []
    assert obj == {"spec": {"note": None}}


def test_the_cel_runtime_loads_only_when_a_rule_runs():
    # It costs ~30 MB and 0.15 s, which servers whose CRDs carry no rules should not pay.
    check = ("import sys; from admission import crdschema; import vapi.api; assert 'cel' not in sys.modules; "
             "crdschema.validate({'type': 'object', 'x-kubernetes-validations': [{'rule': 'true'}]}, {}); "
             "assert 'cel' in sys.modules")
    subprocess.run([sys.executable, "-c", check], check=True)
