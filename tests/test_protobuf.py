"""vapi.wire.protobuf against what real kubectl binaries send.

tests/data/protobuf holds, per command, the body kubectl 1.33 sends (protobuf, <name>.pb) and the one
kubectl 1.31 sends for the same command (JSON, <name>.json); capture.py there regenerates them.
"""
from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import pathlib
import random
import subprocess
import sys

import pytest
import yaml

from admission import schemas
from vapi.wire import protobuf
from vapi.wire.protobuf import (MAGIC, META, ProtobufError, decode_message, decode_object, encode_message,
                           encode_object, encode_openapi_v2)

DATA = pathlib.Path(__file__).parent / "data" / "protobuf"
FIXTURES = sorted(p.stem for p in DATA.glob("*.pb"))
KUBECTL_DIR = "/usr/lib/google-cloud-sdk/bin"

# Go's JSON writes, and decoding drops on purpose (see vapi/wire/protobuf.py), values that mean "unset":
# null for a zero non-pointer Time (metadata.creationTimestamp) and for nil pointers without
# omitempty (TokenRequest spec.boundObjectRef), and "" for strings without omitempty, here:
EMPTY_STRINGS_JSON_KEEPS = {"token": [("status", "token")], "token-bound": [("status", "token")]}


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def kubectl_json(name: str) -> dict:
    obj = _without_nulls(json.loads((DATA / f"{name}.json").read_text()))
    for *parents, key in EMPTY_STRINGS_JSON_KEEPS.get(name, []):
        node = obj
        for p in parents:
            node = node[p]
        assert node.pop(key) == ""
    return obj


def kubectl_protobuf(name: str) -> bytes:
    return (DATA / f"{name}.pb").read_bytes()


def test_json_names_are_the_published_api_field_names():
    """Proto field names are JSON names except for inline structs and a few old spellings
    (vapi.registry.gotypes.INLINE, JSON_NAMES): every key the codec reads or writes must be a property
    of the kind's OpenAPI definition in some release kubernetes-validate ships."""
    published: dict[str, set] = {}
    for version in schemas.available_versions():
        for name, definition in schemas.load(version).definitions.items():
            published.setdefault(name, set()).update(definition.get("properties", {}))
    checked = 0
    for name in protobuf._rows():
        definition = "io.k8s." + name.removeprefix("k8s.io.")
        # flowcontrol v1beta1 got fields after its last release that published it
        if definition not in published or protobuf._message(name).special or ".flowcontrol.v1beta1." in name:
            continue
        assert set(protobuf._json_fields(name)) <= published[definition], name
        checked += 1
    assert checked > 800


def test_fixtures_are_there():
    assert len(FIXTURES) >= 20
    assert all((DATA / f"{name}.json").exists() for name in FIXTURES)


@pytest.mark.parametrize("name", FIXTURES)
def test_kubectl_protobuf_decodes_to_the_json_kubectl_sends(name):
    assert decode_object(kubectl_protobuf(name)) == kubectl_json(name)


def test_what_must_survive_decoding():
    deployment = decode_object(kubectl_protobuf("deployment-replicas0"))
    assert deployment["spec"]["replicas"] == 0
    assert deployment["status"] == {} and deployment["spec"]["strategy"] == {}
    pod = decode_object(kubectl_protobuf("pod-copy"))["spec"]
    assert pod["terminationGracePeriodSeconds"] == 0
    assert pod["automountServiceAccountToken"] is False and pod["enableServiceLinks"] is False
    assert pod["tolerations"][0]["tolerationSeconds"] == 0
    assert pod["volumes"][0] == {"name": "scratch", "emptyDir": {}}
    assert pod["volumes"][2]["configMap"]["optional"] is False
    app = pod["containers"][0]
    assert app["securityContext"]["allowPrivilegeEscalation"] is False
    assert app["securityContext"]["runAsUser"] == 0
    assert app["env"][1] == {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "cm1", "key": "a"}}}
    assert app["livenessProbe"]["httpGet"]["port"] == 80 and app["readinessProbe"]["tcpSocket"]["port"] == "http"
    assert "stdin" not in app and "generation" not in decode_object(kubectl_protobuf("pod-copy"))["metadata"]
    job = decode_object(kubectl_protobuf("job-from-cronjob"))
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] == 0
    assert job["metadata"]["ownerReferences"][0]["controller"] is True
    assert decode_object(kubectl_protobuf("clusterrole"))["rules"][0]["apiGroups"] == [""]
    assert decode_object(kubectl_protobuf("priorityclass-zero"))["value"] == 0
    assert decode_object(kubectl_protobuf("pdb-min-available"))["spec"]["minAvailable"] == 1
    assert decode_object(kubectl_protobuf("pdb-max-unavailable"))["spec"]["maxUnavailable"] == "50%"
    assert decode_object(kubectl_protobuf("token-bound"))["spec"]["boundObjectRef"]["uid"].startswith("0f7e5a8c")


@pytest.mark.parametrize("name", FIXTURES)
def test_round_trips(name):
    obj = decode_object(kubectl_protobuf(name))
    body = encode_object(obj)
    assert body.startswith(MAGIC)
    assert decode_object(body) == obj
    assert encode_object(decode_object(body)) == body  # canonical: equal objects, equal bytes
    assert decode_object(encode_object(kubectl_json(name))) == obj


def test_json_forms_of_special_messages():
    event = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e", "namespace": "default", "creationTimestamp": "2024-01-02T03:04:05Z",
                     "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                                        "time": "2024-01-02T03:04:05Z", "fieldsType": "FieldsV1",
                                        "fieldsV1": {"f:message": {}, "f:count": {}}}]},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "firstTimestamp": "1999-12-31T23:59:59Z", "lastTimestamp": "1969-07-20T20:17:40Z",
        "eventTime": "2024-01-02T03:04:05.123456Z", "count": -3, "message": "héllo",
        "series": {"count": 2, "lastObservedTime": "2024-01-02T03:04:05.000001Z"},
    }
    assert decode_object(encode_object(event)) == event
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "data": {"bin": "AAECAwT/", "empty": ""}, "type": "Opaque"}
    assert decode_object(encode_object(secret)) == secret
    watch = {"apiVersion": "meta.k8s.io/v1", "kind": "WatchEvent", "type": "ADDED",
             "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}}
    assert decode_object(encode_object(watch)) == watch
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"},
             "spec": {"hard": {"cpu": "1500m", "memory": "1Gi", "pods": "0"}}}
    assert decode_object(encode_object(quota)) == quota
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "metadata": {},
              "status": {"authenticated": True, "user": {"username": "u", "extra": {"scopes": ["a", "b"]}}}}
    assert decode_object(encode_object(review)) == review


def load_capture():
    spec = importlib.util.spec_from_file_location("protobuf_capture", DATA / "capture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not os.path.exists(f"{KUBECTL_DIR}/kubectl.1.33"), reason="needs kubectl 1.33")
def test_kubectl_reads_back_what_encode_object_writes():
    """kubectl 1.33 prints, for `create -o json`, the server's answer decoded by Go: answered with
    encode_object(decode_object(its request)), it must print the very object it built itself
    (--dry-run=client)."""
    capture = load_capture()
    names = [n for n, args in capture.COMMANDS.items() if args[0] == "create" and args[1] != "token"]

    async def run():
        async with capture.Session(KUBECTL_DIR, echo=lambda body: encode_object(decode_object(body))) as session:
            for name in names:
                answered = json.loads(await session.kubectl("1.33", name, "-o", "json"))
                built = json.loads(await session.kubectl("1.33", name, "-o", "json", "--dry-run=client"))
                assert answered == built, name
    assert len(names) >= 20
    asyncio.run(run())


@pytest.mark.parametrize("obj", [
    # meta kinds belong to every group version
    {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0, "propagationPolicy": "Foreground",
     "preconditions": {"uid": "u"}, "dryRun": ["All"]},
    {"apiVersion": "apps/v1", "kind": "DeleteOptions", "orphanDependents": False},
    {"apiVersion": "meta.k8s.io/v1", "kind": "Status", "metadata": {}, "status": "Failure", "code": 404,
     "reason": "NotFound", "details": {"name": "x", "causes": [{"field": "f", "message": "m"}]}},
    {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p", "namespace": "default"},
     "deleteOptions": {"gracePeriodSeconds": 0}},
    # groups whose package is not named after them, fields whose proto name is not their JSON name
    {"apiVersion": "internal.apiserver.k8s.io/v1alpha1", "kind": "StorageVersion", "metadata": {"name": "s"},
     "spec": {}, "status": {"commonEncodingVersion": "v1"}},
    {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
     "metadata": {"name": "v"}, "webhooks": [{
         "name": "w.example.com", "clientConfig": {"url": "https://x"}, "sideEffects": "None",
         "admissionReviewVersions": ["v1"],
         "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
                    "scope": "*"}]}]},
    {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"},
     "spec": {"variables": [{"name": "n", "expression": "1"}], "validations": [{"expression": "true"}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "c"},
     "spec": {"controller": "x", "parameters": {"apiGroup": "g", "kind": "K", "name": "n"}}},
    {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration",
     "metadata": {"name": "p"}, "spec": {"type": "Limited", "limited": {
         "nominalConcurrencyShares": 0, "limitResponse": {"type": "Queue", "queuing": {"queues": 64}}}}},
    {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv"},
     "spec": {"hostPath": {"path": "/x"}, "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}},
])
def test_kinds_of_every_sort_round_trip(obj):
    assert decode_object(encode_object(obj)) == obj


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


def test_time_on_the_wire():
    wire = b"\x08" + _varint(1704164645) + b"\x10" + _varint(123456789)
    assert decode_message(f"{META}.Time", wire) == "2024-01-02T03:04:05Z"
    assert decode_message(f"{META}.MicroTime", wire) == "2024-01-02T03:04:05.123456Z"
    assert decode_message(f"{META}.Time", b"") is None  # Go's zero Time
    assert decode_message(f"{META}.Time", b"\x08\x00") == "1970-01-01T00:00:00Z"
    assert encode_message(f"{META}.Time", "2024-01-02T03:04:05Z") == b"\x08" + _varint(1704164645) + b"\x10\x00"
    assert decode_message(f"{META}.Time", encode_message(f"{META}.Time", "2024-01-02T05:04:05+02:00")) == \
        "2024-01-02T03:04:05Z"


@pytest.mark.parametrize("nanoseconds, text", [
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (100_000_000, "100ms"), (1_500_000_000, "1.5s"),
    (90 * 10**9, "1m30s"), (3600 * 10**9, "1h0m0s"), (5400 * 10**9 + 1, "1h30m0.000000001s"), (-10**9, "-1s"),
])
def test_durations_are_go_duration_strings(nanoseconds, text):
    wire = b"\x08" + _varint(nanoseconds)
    assert decode_message(f"{META}.Duration", wire) == text
    assert decode_message(f"{META}.Duration", encode_message(f"{META}.Duration", text)) == text


def test_go_duration_spellings_parse():
    assert encode_message(f"{META}.Duration", "1h30m") == encode_message(f"{META}.Duration", "5400s")
    assert encode_message(f"{META}.Duration", "1.5h") == encode_message(f"{META}.Duration", "90m")
    assert encode_message(f"{META}.Duration", "300us") == encode_message(f"{META}.Duration", "0.3ms")
    for bad in ("", "1", "1x", "h", "1h 2m", 5):
        with pytest.raises(ProtobufError):
            encode_message(f"{META}.Duration", bad)


def test_int_or_string():
    for value in (0, 8080, -1, "http", "50%", ""):
        wire = encode_message("k8s.io.apimachinery.pkg.util.intstr.IntOrString", value)
        assert decode_message("k8s.io.apimachinery.pkg.util.intstr.IntOrString", wire) == value


def test_negative_numbers_and_packed_repeated_numbers():
    # kube's proto2 messages repeat numbers unpacked, but a proto3 writer may pack them
    requirement = "k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement"
    unpacked = encode_message(requirement, {"operator": "In", "values": [1, -2, 300]})
    packed_values = _varint(1) + _varint(-2) + _varint(300)
    packed = b"\x12\x02In" + b"\x1a" + _varint(len(packed_values)) + packed_values
    assert decode_message(requirement, unpacked) == decode_message(requirement, packed) == \
        {"operator": "In", "values": [1, -2, 300]}


def test_unknown_fields_are_skipped():
    # newer kubectl versions may send fields the tables do not know yet
    cm = {"metadata": {"name": "x"}, "data": {"a": "b"}}
    extra = b"\xf8\x07\x01" + b"\x82\x08\x03abc" + b"\x8d\x08\x01\x02\x03\x04" + b"\x89\x08" + bytes(8)
    raw = encode_message("k8s.io.api.core.v1.ConfigMap", cm)
    body = envelope("v1", "ConfigMap", extra + raw + extra)
    assert decode_object(body) == {"apiVersion": "v1", "kind": "ConfigMap", **cm}


def envelope(api_version: str, kind: str, raw: bytes, content_encoding: str = "") -> bytes:
    type_meta = (b"\x0a" + _varint(len(api_version)) + api_version.encode()
                 + b"\x12" + _varint(len(kind)) + kind.encode())
    body = b"\x0a" + _varint(len(type_meta)) + type_meta + b"\x12" + _varint(len(raw)) + raw
    if content_encoding:
        body += b"\x1a" + _varint(len(content_encoding)) + content_encoding.encode()
    return MAGIC + body


@pytest.mark.parametrize("body", [
    b"", b"{}", b'{"kind": "ConfigMap"}', b"k8s", b"k8s\x01" + bytes(4),
    envelope("v1", "NoSuchKind", b""),
    envelope("example.com/v1", "Widget", b""),  # custom resources have no protobuf form
    envelope("", "ConfigMap", b""),
    envelope("v1", "", b""),
    envelope("v1", "Time", b""),  # a message, but not an object
    envelope("v1", "ConfigMap", b"", content_encoding="gzip"),
    envelope("v1", "ConfigMap", b"\x0a\x05\x0a\x03ab"),  # truncated nested message
    envelope("v1", "ConfigMap", b"\x0a\x80"),  # truncated varint
    envelope("v1", "ConfigMap", b"\x0a" + b"\xff" * 11),  # varint too long
    envelope("v1", "ConfigMap", b"\x08\x01"),  # metadata (a message) as a varint
    envelope("v1", "ConfigMap", b"\x0a\x04\x0a\x02\xff\xfe"),  # name is not UTF-8
    envelope("v1", "ConfigMap", b"\x0b"),  # group wire types are not used by Kubernetes
    envelope("v1", "ConfigMap", b"\x00\x00"),  # field number 0
    envelope("v1", "ConfigMap", b"\x12\x03\x0a\x01a\x12\x01\x08"),  # data: a map entry holding a varint key
    envelope("v1", "ConfigMap", b"\x20\x01" + b"\x21" + bytes(3)),  # truncated fixed64
    MAGIC + b"\x0a\x02\x08\x01",  # typeMeta.apiVersion as a varint
    MAGIC + b"\x12\x05abc",  # raw longer than the body
])
def test_malformed_bodies_are_protobuf_errors(body):
    with pytest.raises(ProtobufError):
        decode_object(body)


def test_protobuf_error_is_a_value_error():
    assert issubclass(ProtobufError, ValueError)


@pytest.mark.parametrize("name", ["pod-copy", "deployment-replicas3", "ingress", "token-bound", "secret-tls"])
def test_damaged_bodies_fail_cleanly(name):
    body = kubectl_protobuf(name)
    rng = random.Random(name)
    damaged = [body[:n] for n in range(len(body))]
    for _ in range(300):
        b = bytearray(body)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(MAGIC), len(b))] = rng.randrange(256)
        damaged.append(bytes(b))
    for b in damaged:
        try:
            assert isinstance(decode_object(b), dict)
        except ProtobufError:
            pass


def test_deep_nesting_is_a_protobuf_error():
    body = b""
    for _ in range(5000):  # a WatchEvent whose object is a WatchEvent whose object is...
        raw = b"\x12" + _varint(len(body)) + body if body else b""
        body = envelope("meta.k8s.io/v1", "WatchEvent", raw)
    with pytest.raises(ProtobufError):
        decode_object(body)


@pytest.mark.parametrize("obj", [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "nope": 1},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 5}},
    {"apiVersion": "v1", "kind": "ConfigMap", "data": ["a"]},
    {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": 1}},
    {"apiVersion": "v1", "kind": "ConfigMap", "immutable": "yes"},
    {"apiVersion": "v1", "kind": "Secret", "data": {"a": "not base64!"}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": True}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 1 << 31}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"containers": {}}}}},
    {"apiVersion": "v1", "kind": "Event", "firstTimestamp": "yesterday"},
    {"apiVersion": "example.com/v1", "kind": "Widget"},
    {"kind": "ConfigMap"},
    ["not", "an", "object"],
])
def test_unencodable_objects_are_protobuf_errors(obj):
    with pytest.raises(ProtobufError):
        encode_object(obj)


def test_importing_reads_no_table():
    code = "import vapi.wire.protobuf as p; assert p._rows.cache_info().currsize == 0, 'tables loaded at import'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=pathlib.Path(__file__).parent.parent)


# --- OpenAPI v2 -------------------------------------------------------------------------------------

GVK = {"group": "", "kind": "ConfigMap", "version": "v1"}
SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "Kubernetes", "version": "v1.33.0"},
    "paths": {
        "/api/v1/namespaces/{namespace}/configmaps": {
            "parameters": [{"$ref": "#/parameters/namespace-vgWSWtn3"},
                           {"name": "pretty", "in": "query", "type": "string", "uniqueItems": True}],
            "post": {
                "operationId": "createCoreV1NamespacedConfigMap",
                "consumes": ["*/*"], "produces": ["application/json"], "schemes": ["https"], "tags": ["core_v1"],
                "parameters": [
                    {"name": "body", "in": "body", "required": True,
                     "schema": {"$ref": "#/definitions/io.k8s.api.core.v1.ConfigMap"}},
                    {"name": "X-Trace", "in": "header", "type": "string"},
                ],
                "responses": {
                    "200": {"description": "OK", "schema": {"$ref": "#/definitions/io.k8s.api.core.v1.ConfigMap"}},
                    "401": {"description": "Unauthorized"},
                    "default": {"$ref": "#/responses/error"},
                },
                "x-kubernetes-action": "post",
                "x-kubernetes-group-version-kind": GVK,
            },
        },
        "x-paths-note": "ignored by kubectl",
    },
    "definitions": {
        "io.k8s.api.core.v1.ConfigMap": {
            "description": "ConfigMap holds configuration data.",
            "type": "object",
            "properties": {
                "data": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
                "binaryData": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
                "immutable": {"type": "boolean"},
                "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                             "description": "Standard object's metadata."},
                "finalizers": {"type": "array", "items": {"type": "string"},
                               "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"},
                "ports": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.core.v1.ContainerPort"},
                          "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                          "x-kubernetes-list-type": "map", "x-kubernetes-patch-merge-key": "containerPort",
                          "x-kubernetes-patch-strategy": "merge"},
                "anything": {"type": "object", "additionalProperties": True},
                "size": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 10.5, "enum": [1, 2, 3]},
            },
            "required": ["metadata"],
            "x-kubernetes-group-version-kind": [{"group": "", "kind": "ConfigMap", "version": "v1"}],
        },
        "io.k8s.api.core.v1.ContainerPort": {"type": "object", "properties": {
            "containerPort": {"type": "integer", "format": "int32"}}},
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
    },
    "parameters": {"namespace-vgWSWtn3": {"name": "namespace", "in": "path", "required": True,
                                          "type": "string", "uniqueItems": True}},
    "responses": {"error": {"description": "error", "schema": {"type": "file"}}},
    "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                                            "description": "Bearer Token authentication"}},
    "security": [{"BearerToken": []}],
}


def named(entries: list, name: str):
    return next(e["value"] for e in entries if e["name"] == name)


def extensions(message: dict) -> dict:
    return {e["name"]: yaml.safe_load(e["value"]["yaml"]) for e in message.get("vendor_extension", [])}


def test_openapi_v2_as_gnostic_document():
    doc = decode_message("openapi.v2.Document", encode_openapi_v2(SWAGGER))
    assert doc["swagger"] == "2.0" and doc["info"] == {"title": "Kubernetes", "version": "v1.33.0"}
    assert doc["security"] == [{"additional_properties": [{"name": "BearerToken", "value": {}}]}]
    assert named(doc["security_definitions"]["additional_properties"], "BearerToken") == {"api_key_security": {
        "type": "apiKey", "name": "authorization", "in": "header", "description": "Bearer Token authentication"}}
    assert named(doc["parameters"]["additional_properties"], "namespace-vgWSWtn3") == {"non_body_parameter": {
        "path_parameter_sub_schema": {"required": True, "in": "path", "name": "namespace", "type": "string",
                                      "unique_items": True}}}
    assert named(doc["responses"]["additional_properties"], "error") == {
        "description": "error", "schema": {"file_schema": {"type": "file"}}}

    paths = doc["paths"]
    assert extensions(paths) == {"x-paths-note": "ignored by kubectl"}
    item = named(paths["path"], "/api/v1/namespaces/{namespace}/configmaps")
    assert item["parameters"] == [
        {"json_reference": {"_ref": "#/parameters/namespace-vgWSWtn3"}},
        {"parameter": {"non_body_parameter": {"query_parameter_sub_schema": {
            "in": "query", "name": "pretty", "type": "string", "unique_items": True}}}}]
    post = item["post"]
    assert post["operation_id"] == "createCoreV1NamespacedConfigMap" and post["tags"] == ["core_v1"]
    assert post["consumes"] == ["*/*"] and post["schemes"] == ["https"]
    assert post["parameters"] == [
        {"parameter": {"body_parameter": {"name": "body", "in": "body", "required": True,
                                          "schema": {"_ref": "#/definitions/io.k8s.api.core.v1.ConfigMap"}}}},
        {"parameter": {"non_body_parameter": {"header_parameter_sub_schema": {
            "in": "header", "name": "X-Trace", "type": "string"}}}}]
    responses = post["responses"]["response_code"]
    assert [r["name"] for r in responses] == ["200", "401", "default"]
    assert named(responses, "200") == {"response": {
        "description": "OK", "schema": {"schema": {"_ref": "#/definitions/io.k8s.api.core.v1.ConfigMap"}}}}
    assert named(responses, "default") == {"json_reference": {"_ref": "#/responses/error"}}
    assert extensions(post) == {"x-kubernetes-action": "post",
                                "x-kubernetes-group-version-kind": GVK}

    definitions = doc["definitions"]["additional_properties"]
    assert [d["name"] for d in definitions] == list(SWAGGER["definitions"])
    cm = named(definitions, "io.k8s.api.core.v1.ConfigMap")
    assert cm["type"] == {"value": ["object"]} and cm["required"] == ["metadata"]
    assert extensions(cm) == {"x-kubernetes-group-version-kind": [GVK]}
    props = cm["properties"]["additional_properties"]
    assert [p["name"] for p in props] == list(SWAGGER["definitions"]["io.k8s.api.core.v1.ConfigMap"]["properties"])
    assert named(props, "data")["additional_properties"] == {"schema": {
        "type": {"value": ["string"]}, "default": {"yaml": '""\n'}}}
    assert named(props, "anything")["additional_properties"] == {"boolean": True}
    assert named(props, "metadata") == {"_ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                                        "description": "Standard object's metadata."}
    ports = named(props, "ports")
    assert ports["items"] == {"schema": [{"_ref": "#/definitions/io.k8s.api.core.v1.ContainerPort"}]}
    assert extensions(ports) == {"x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                                 "x-kubernetes-list-type": "map", "x-kubernetes-patch-merge-key": "containerPort",
                                 "x-kubernetes-patch-strategy": "merge"}
    assert extensions(named(props, "finalizers")) == {"x-kubernetes-list-type": "set",
                                                      "x-kubernetes-patch-strategy": "merge"}
    size = named(props, "size")
    assert "minimum" not in size  # proto3 leaves zeros off the wire
    assert size["maximum"] == 10.5 and size["format"] == "int32"
    assert [yaml.safe_load(e["yaml"]) for e in size["enum"]] == [1, 2, 3]


def test_openapi_v2_rejects_what_gnostic_cannot_type():
    with pytest.raises(ProtobufError):
        encode_openapi_v2({**SWAGGER, "parameters": {"p": {"name": "p", "in": "cookie", "type": "string"}}})


def test_the_codec_and_the_type_catalogue_agree_on_opaque_messages():
    # Messages the codec converts specially are the ones whose JSON the field order leaves alone.
    from vapi.registry import gotypes
    assert set(protobuf._SPECIAL) == gotypes.OPAQUE
