"""Kubernetes protobuf bodies and the OpenAPI v2 protobuf document, with one table-driven codec.

No generated classes: vapi/data/k8s-protobuf-fields.json and openapi-v2-protobuf-fields.json describe
every message as [number, jsonName, label, type] rows; they are read (once) on first use so that
importing this module costs nothing at start-up.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import functools
import json
import re
import struct

from admission.gotime import parse_rfc3339

from ..registry import gotypes
from ..registry.gotypes import META

MAGIC = b"k8s\x00"

V2 = "openapi.v2"
_UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
_UNKNOWN_FIELDS = {1: "k8s.io.apimachinery.pkg.runtime.TypeMeta", 2: "bytes", 3: "string", 4: "string"}
_OPENAPI_TABLE = "openapi-v2-protobuf-fields.json"


class ProtobufError(ValueError):
    """A body that is not a well-formed protobuf message of a known kind."""


# --- JSON form rules ------------------------------------------------------------------------------

# How decoding normalizes, and why. Kubernetes' gogo marshallers write every non-pointer field, zero
# or not, and a pointer field only when it is set; Go's JSON leaves out `omitempty` fields that are
# zero or nil. The tables know neither pointers nor omitempty, so the rule is:
# - "" and the zero Time are dropped: they are (nearly) always unset non-pointer fields (name,
#   namespace, generateName, creationTimestamp...) that JSON omits or writes as null, and the API
#   treats "" as unset. A pointer string set to "" is lost; no client sends one in a create.
# - Empty messages stay {}: Go's JSON never omits a struct either ("status": {}, "resources": {}),
#   and an empty one can mean something (a volume's "emptyDir": {}).
# - false and 0 stay: pointer fields reach the wire only when a client set them, and then an explicit
#   zero differs from unset (spec.replicas: 0, allowPrivilegeEscalation: false,
#   terminationGracePeriodSeconds: 0), and required fields stay present (PriorityClass value: 0).
#   Exception: the fields below, which kubectl 1.33's protobuf bodies carry as zero where kubectl
#   1.31's JSON for the same command leaves them out (tests/data/protobuf). That proves them
#   non-pointer omitempty fields, for which zero and unset are the same thing, so dropping them is
#   exact. A non-pointer zero missing from this list stays in the object: noise, never a change of
#   meaning.
# - Empty lists and maps cannot occur: an empty repeated field puts nothing on the wire.
_OMITTED_ZEROS = frozenset({
    "ObjectMeta.generation",
    "PodSpec.hostNetwork", "PodSpec.hostPID", "PodSpec.hostIPC", "PodStatus.observedGeneration",
    "Container.stdin", "Container.stdinOnce", "Container.tty", "ContainerPort.hostPort", "VolumeMount.readOnly",
    "Probe.initialDelaySeconds", "Probe.timeoutSeconds", "Probe.periodSeconds", "Probe.successThreshold",
    "Probe.failureThreshold", "PersistentVolumeClaimVolumeSource.readOnly",
    "ServiceSpec.healthCheckNodePort", "ServiceSpec.publishNotReadyAddresses", "ServicePort.nodePort",
    "DeploymentSpec.minReadySeconds", "DeploymentSpec.paused", "DeploymentStatus.observedGeneration",
    "DeploymentStatus.replicas", "DeploymentStatus.updatedReplicas", "DeploymentStatus.readyReplicas",
    "DeploymentStatus.availableReplicas", "DeploymentStatus.unavailableReplicas",
    "JobStatus.active", "JobStatus.succeeded", "JobStatus.failed",
    "PodDisruptionBudgetStatus.observedGeneration", "PriorityClass.globalDefault",
    "SubjectAccessReviewStatus.denied",
})


# --- tables -------------------------------------------------------------------------------------

_WIRE = {"int32": 0, "int64": 0, "bool": 0, "double": 1}
_SCALARS = frozenset(_WIRE) | {"string", "bytes"}


class _Field:
    __slots__ = ("number", "name", "label", "type", "key_type", "wire", "proto3", "inline", "omit_zero")

    def __init__(self, message: str, number: int, name: str, label: str, type_: str, proto3: bool):
        name = name if proto3 else gotypes.json_name(name)
        self.number, self.name, self.label, self.proto3 = number, name, label, proto3
        self.key_type, _, self.type = type_.rpartition(",") if label == "map" else (None, "", type_)
        self.wire = _WIRE.get(self.type, 2)
        self.inline = gotypes.is_inline(message, name)
        self.omit_zero = f"{message.rpartition('.')[2]}.{name}" in _OMITTED_ZEROS


class _Message:
    __slots__ = ("name", "fields", "by_number", "special")

    def __init__(self, name: str, rows: list, proto3: bool):
        self.name = name
        self.fields = [_Field(name, *row, proto3) for row in sorted(rows)]
        self.by_number = {f.number: f for f in self.fields}
        self.special = _SPECIAL.get(name) or (_LIST_WRAPPER if name.endswith(".ExtraValue") else None)


@functools.cache
def _rows() -> dict[str, tuple[list, bool]]:
    out = {name: (rows, False) for name, rows in gotypes.messages().items()}
    table = json.loads((gotypes.DATA / _OPENAPI_TABLE).read_bytes())
    out.update((name, (rows, True)) for name, rows in table["messages"].items())
    return out


@functools.cache
def _message(name: str) -> _Message:
    try:
        rows, proto3 = _rows()[name]
    except KeyError:
        raise ProtobufError(f"no protobuf message {name}") from None
    return _Message(name, rows, proto3)


@functools.cache
def _json_fields(name: str) -> dict[str, _Field]:
    """JSON key -> the field that carries it (an inline field for the keys it spreads)."""
    out = {}
    for f in _message(name).fields:
        if f.inline:
            out.update(dict.fromkeys(_json_fields(f.type), f))
        else:
            out[f.name] = f
    return out


# --- wire format ----------------------------------------------------------------------------------

_U64 = (1 << 64) - 1


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint too long")


def _put_varint(out: bytearray, value: int) -> None:
    value &= _U64  # negative int32/int64 go on the wire as 10-byte two's complement
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _fields(buf: bytes):
    """Yield (field number, wire type, value): an int for varints, a bytes slice otherwise."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos)
        else:
            if wire == 2:
                size, pos = _varint(buf, pos)
            elif wire in (1, 5):
                size = 8 if wire == 1 else 4
            else:
                raise ProtobufError(f"unsupported wire type {wire}")
            if pos + size > end:
                raise ProtobufError("truncated field")
            value, pos = buf[pos:pos + size], pos + size
        yield number, wire, value


def _scalar(type_: str, wire: int, value):
    expected = _WIRE.get(type_, 2)
    if wire != expected:
        raise ProtobufError(f"{type_} field with wire type {wire}")
    if type_ == "string":
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise ProtobufError("string field is not UTF-8") from None
    if type_ == "bytes":
        return bytes(value)
    if type_ == "bool":
        return value != 0
    if type_ == "double":
        return struct.unpack("<d", value)[0]
    if type_ == "int32":
        value &= 0xFFFFFFFF
        return value - (1 << 32) if value >> 31 else value
    return value - (1 << 64) if value >> 63 else value  # int64


def _value(type_: str, wire: int, value):
    if type_ in _SCALARS:
        return _scalar(type_, wire, value)
    if wire != 2:
        raise ProtobufError(f"{type_} field with wire type {wire}")
    return _decode(type_, value)


def _packed(f: _Field, buf: bytes):
    """Repeated numbers as proto3 packs them (Kubernetes' proto2 messages do not, but may)."""
    pos = 0
    while pos < len(buf):
        if f.wire == 0:
            value, pos = _varint(buf, pos)
        else:
            value, pos = buf[pos:pos + 8], pos + 8
            if len(value) != 8:
                raise ProtobufError("truncated packed field")
        yield _scalar(f.type, f.wire, value)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _decode(name: str, buf: bytes):
    """A message in its JSON form (normalized as described above _OMITTED_ZEROS)."""
    msg = _message(name)
    raw = msg.special is not None  # special converters want the fields as they are, bytes and all
    out: dict = {}
    for number, wire, data in _fields(buf):
        f = msg.by_number.get(number)
        if f is None:
            continue  # a field newer than the tables: protobuf's rule is to skip it
        if f.label == "map":
            if wire != 2:
                raise ProtobufError(f"map field {f.name} with wire type {wire}")
            key, value = "", None
            for n, w, v in _fields(data):
                if n == 1:
                    key = _scalar(f.key_type, w, v)
                elif n == 2:
                    value = _value(f.type, w, v)
            if value is None:
                value = _value(f.type, 2, b"")
            out.setdefault(f.name, {})[key] = _b64(value) if isinstance(value, bytes) and not raw else value
        elif f.label == "repeated":
            items = out.setdefault(f.name, [])
            if wire == 2 and f.wire != 2:
                items.extend(_packed(f, data))
            else:
                value = _value(f.type, wire, data)
                items.append(_b64(value) if isinstance(value, bytes) and not raw else value)
        else:
            value = _value(f.type, wire, data)
            if f.inline:
                out.update(value)
            elif raw:
                out[f.name] = value
            elif value == "" or value is None or value == b"" or (f.omit_zero and not value):
                out.pop(f.name, None)
            else:
                out[f.name] = _b64(value) if isinstance(value, bytes) else value
    return msg.special[0](out) if raw else out


def _write(out: bytearray, name: str, type_: str, number: int, value) -> None:
    _put_varint(out, number << 3 | _WIRE.get(type_, 2))
    if type_ in ("int32", "int64"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        bits = 31 if type_ == "int32" else 63
        if not isinstance(value, int) or isinstance(value, bool) or not -(1 << bits) <= value < 1 << bits:
            raise ProtobufError(f"{name}: expected an {type_}, got {value!r}")
        _put_varint(out, value)
        return
    if type_ == "bool":
        if not isinstance(value, bool):
            raise ProtobufError(f"{name}: expected a boolean, got {value!r}")
        out.append(value)
        return
    if type_ == "double":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ProtobufError(f"{name}: expected a number, got {value!r}")
        out += struct.pack("<d", value)
        return
    if type_ == "string":
        if not isinstance(value, str):
            raise ProtobufError(f"{name}: expected a string, got {value!r}")
        data = value.encode()
    elif type_ == "bytes":
        data = value if isinstance(value, bytes) else _unb64(name, value)
    else:
        data = _encode(type_, value)
    _put_varint(out, len(data))
    out += data


def _unb64(name: str, value) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ProtobufError(f"{name}: expected base64 data, got {value!r}") from None


def _encode(name: str, value) -> bytes:
    msg = _message(name)
    if msg.special:
        value = msg.special[1](value)
    elif isinstance(value, dict):
        fields: dict = {}
        by_json = _json_fields(name)
        for key, v in value.items():
            f = by_json.get(key)
            if f is None:
                raise ProtobufError(f"{name} has no field {key!r}")
            if f.inline:
                fields.setdefault(f.name, {})[key] = v
            else:
                fields[f.name] = v
        value = fields
    if not isinstance(value, dict):
        raise ProtobufError(f"{name}: expected an object, got {value!r}")
    out = bytearray()
    for f in msg.fields:
        v = value.get(f.name)
        if v is None or (f.proto3 and not v and not isinstance(v, (dict, list))):
            continue  # proto3 leaves zero scalars off the wire
        if f.label == "map":
            if not isinstance(v, dict):
                raise ProtobufError(f"{f.name}: expected an object, got {v!r}")
            for key in sorted(v):  # as Go's marshallers do: equal objects, equal bytes
                entry = bytearray()
                _write(entry, f.name, f.key_type, 1, key)
                _write(entry, f.name, f.type, 2, v[key])
                _put_varint(out, f.number << 3 | 2)
                _put_varint(out, len(entry))
                out += entry
        elif f.label == "repeated":
            if not isinstance(v, list):
                raise ProtobufError(f"{f.name}: expected a list, got {v!r}")
            for item in v:
                _write(out, f.name, f.type, f.number, item)
        else:
            _write(out, f.name, f.type, f.number, v)
    return bytes(out)


# --- messages whose JSON form is not an object ------------------------------------------------------

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _time_from(fields: dict, micro: bool):
    if not fields:
        return None  # Go marshals the zero Time as an empty message
    try:
        t = _EPOCH + datetime.timedelta(seconds=fields.get("seconds", 0),
                                        microseconds=fields.get("nanos", 0) // 1000)
    except OverflowError:
        raise ProtobufError("time out of range") from None
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{text}.{t.microsecond:06d}Z" if micro else text + "Z"


def _time_to(value) -> dict:
    try:
        t = parse_rfc3339(value)
    except (TypeError, ValueError):
        raise ProtobufError(f"invalid time {value!r}") from None
    delta = t - _EPOCH
    return {"seconds": delta.days * 86400 + delta.seconds, "nanos": delta.microseconds * 1000}


_DURATION_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
                   "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)")


def _duration_from(fields: dict) -> str:
    """Go's time.Duration.String()."""
    ns = fields.get("duration", 0)
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)

    def fraction(value: int, digits: int) -> str:
        whole, rest = divmod(value, 10**digits)
        return f"{whole}.{rest:0{digits}d}".rstrip("0") if rest else str(whole)
    if ns < 1000:
        return f"{sign}{ns}ns"
    if ns < 10**6:
        return f"{sign}{fraction(ns, 3)}µs"
    if ns < 10**9:
        return f"{sign}{fraction(ns, 6)}ms"
    minutes, rest = divmod(ns, 60 * 10**9)
    text = fraction(rest, 9) + "s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        text = (f"{hours}h" if hours else "") + f"{minutes}m" + text
    return sign + text


def _duration_to(value) -> dict:
    """Go's time.ParseDuration."""
    text = value if isinstance(value, str) else ""
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return {"duration": 0}
    total = pos = 0
    for m in _DURATION_PART.finditer(body):
        if m.start() != pos or m.group(1) in ("", "."):
            break
        whole, _, frac = m.group(1).partition(".")
        unit = _DURATION_UNITS[m.group(2)]
        total += int(whole or 0) * unit + int(frac or 0) * unit // 10 ** len(frac)
        pos = m.end()
    if not body or pos != len(body):
        raise ProtobufError(f"invalid duration {value!r}")
    return {"duration": sign * total}


def _int_or_string_from(fields: dict):
    return fields.get("strVal", "") if fields.get("type") == 1 else fields.get("intVal", 0)


def _int_or_string_to(value) -> dict:
    return {"type": 1, "strVal": value} if isinstance(value, str) else {"type": 0, "intVal": value}


def _embedded_from(key: str):
    def convert(fields: dict):
        raw = fields.get(key, b"")
        if raw.startswith(MAGIC):  # an embedded object in protobuf rather than JSON
            return decode_object(raw)
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise ProtobufError("embedded object is neither JSON nor protobuf") from None
    return convert


def _embedded_to(key: str):
    return lambda value: {key: json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()}


_LIST_WRAPPER = (lambda fields: fields.get("items", []), lambda value: {"items": value})
_QUANTITY = (lambda fields: fields.get("string", ""), lambda value: {"string": str(value)})

# message -> (wire fields to JSON value, JSON value to wire fields); also every *.ExtraValue (a list).
_SPECIAL = {
    f"{META}.Time": (lambda fields: _time_from(fields, False), _time_to),
    f"{META}.MicroTime": (lambda fields: _time_from(fields, True), _time_to),
    f"{META}.Duration": (_duration_from, _duration_to),
    f"{META}.FieldsV1": (_embedded_from("Raw"), _embedded_to("Raw")),
    f"{META}.Verbs": _LIST_WRAPPER,
    "k8s.io.apimachinery.pkg.runtime.RawExtension": (_embedded_from("raw"), _embedded_to("raw")),
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": (_int_or_string_from, _int_or_string_to),
    "k8s.io.apimachinery.pkg.api.resource.Quantity": _QUANTITY,
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue": _QUANTITY,
}


# --- envelope -----------------------------------------------------------------------------------

# API groups whose proto package is not k8s.io.api.<first label of the group>.
def _message_for(api_version: str, kind: str) -> str:
    name = gotypes.message_for(api_version, kind)
    if name is None:
        raise ProtobufError(f"no protobuf message for {api_version or '<no apiVersion>'} {kind or '<no kind>'}")
    return name


def decode_object(body: bytes) -> dict:
    """A Kubernetes protobuf body (magic + runtime.Unknown) as the object's JSON form."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    unknown = {}  # runtime.Unknown, read by hand: its raw bytes must not become base64
    for number, wire, data in _fields(body[len(MAGIC):]):
        if number in _UNKNOWN_FIELDS:
            unknown[number] = _value(_UNKNOWN_FIELDS[number], wire, data)
    if unknown.get(3):
        raise ProtobufError(f"unsupported content encoding {unknown[3]!r}")
    if unknown.get(4, "") not in ("", "application/vnd.kubernetes.protobuf"):
        raise ProtobufError(f"unsupported content type {unknown[4]!r}")
    type_meta = unknown.get(1, {})
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    try:
        obj = _decode(_message_for(api_version, kind), unknown.get(2, b""))
    except RecursionError:  # objects embedded in objects (RawExtension), ad infinitum
        raise ProtobufError("objects nested too deeply") from None
    return {"apiVersion": api_version, "kind": kind, **obj}


def encode_object(obj: dict) -> bytes:
    """The inverse of decode_object: a JSON-form object as a Kubernetes protobuf body."""
    if not isinstance(obj, dict):
        raise ProtobufError("expected an object")
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise ProtobufError("apiVersion and kind must be strings")
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    raw = _encode(_message_for(api_version, kind), body)
    return MAGIC + _encode(_UNKNOWN, {"typeMeta": {"apiVersion": api_version, "kind": kind}, "raw": raw})


def decode_message(name: str, data: bytes):
    """One message, by its full name, in its JSON form (no envelope): nested parts, tests."""
    return _decode(name, data)


def encode_message(name: str, value) -> bytes:
    """The inverse of decode_message."""
    return _encode(name, value)


# --- OpenAPI v2 ---------------------------------------------------------------------------------

_SECURITY = {("basic", None): "basic_authentication_security", ("apiKey", None): "api_key_security",
             ("oauth2", "implicit"): "oauth2_implicit_security",
             ("oauth2", "password"): "oauth2_password_security",
             ("oauth2", "application"): "oauth2_application_security",
             ("oauth2", "accessCode"): "oauth2_access_code_security"}
_NON_BODY = {"header": "header_parameter_sub_schema", "formData": "form_data_parameter_sub_schema",
             "query": "query_parameter_sub_schema", "path": "path_parameter_sub_schema"}
_RESPONSE_CODE = re.compile(r"^([0-9]{3}|default)$")


@functools.cache
def _json_key(proto_name: str) -> str:
    """gnostic's proto field names are its JSON keys in snake case, `$ref` being `_ref`."""
    if proto_name == "_ref":
        return "$ref"
    head, *rest = proto_name.split("_")
    return head + "".join(word.title() for word in rest)


def _any(value) -> dict:
    # gnostic keeps free-form values (x-… extensions, default, example, enum) as YAML text, which
    # kube-openapi reads back with yaml.Unmarshal. JSON is YAML, exact and fast to write.
    return {"yaml": json.dumps(value, ensure_ascii=False) + "\n"}


def _named(entries, value_type: str) -> list:
    if value_type == "string":
        return [{"name": k, "value": v} for k, v in entries]
    return [{"name": k, "value": _gnostic(value_type, v)} for k, v in entries]


def _one_of(name: str, field: str, value) -> dict:
    """The field of a oneof wrapper message that holds the value."""
    return {field: _gnostic(next(f.type for f in _message(name).fields if f.name == field), value)}


def _gnostic(name: str, value):
    """A Swagger 2.0 JSON value as the field dict of gnostic's message `name`, by gnostic's rules."""
    short = name[len(V2) + 1:]
    if short == "Any":
        return _any(value)
    if short in ("TypeItem", "StringArray"):
        return {"value": [value] if isinstance(value, str) else value}
    if short == "ItemsItem":
        return {"schema": [_gnostic(f"{V2}.Schema", s) for s in ([value] if isinstance(value, dict) else value)]}
    if short == "AdditionalPropertiesItem":
        return {"boolean": value} if isinstance(value, bool) else _one_of(name, "schema", value)
    if not isinstance(value, dict):
        raise ProtobufError(f"OpenAPI {short}: expected an object, got {value!r}")
    if short in ("ParametersItem", "ResponseValue"):
        if "$ref" in value:
            return _one_of(name, "json_reference", value)
        return _one_of(name, "parameter" if short == "ParametersItem" else "response", value)
    if short == "Parameter":
        return _one_of(name, "body_parameter" if value.get("in") == "body" else "non_body_parameter", value)
    if short == "SchemaItem":
        return _one_of(name, "file_schema" if value.get("type") == "file" else "schema", value)
    if short in ("NonBodyParameter", "SecurityDefinitionsItem"):
        field = (_NON_BODY.get(value.get("in")) if short == "NonBodyParameter" else
                 _SECURITY.get((value.get("type"), value.get("flow") if value.get("type") == "oauth2" else None)))
        if field is None:
            raise ProtobufError(f"OpenAPI {short}: cannot tell its kind from {value!r}")
        return _one_of(name, field, value)
    fields = _message(name).fields
    if [f.name for f in fields] == ["additional_properties"]:  # a JSON object kept as named entries
        entry = next(f.type for f in _message(fields[0].type).fields if f.name == "value")
        return {"additional_properties": _named(value.items(), entry)}
    extensions = _named([(k, v) for k, v in value.items() if k.startswith("x-")], f"{V2}.Any")
    if short == "Paths":
        return {"vendor_extension": extensions,
                "path": _named([(k, v) for k, v in value.items() if not k.startswith("x-")], f"{V2}.PathItem")}
    if short == "Responses":
        return {"vendor_extension": extensions,
                "response_code": _named([(k, v) for k, v in value.items() if _RESPONSE_CODE.match(k)],
                                        f"{V2}.ResponseValue")}
    out = {}
    for f in fields:
        if f.name == "vendor_extension":
            out[f.name] = extensions
            continue
        v = value.get(_json_key(f.name))
        if v is None or f.type in _SCALARS:
            out[f.name] = v
        elif f.label == "repeated":
            out[f.name] = [_gnostic(f.type, item) for item in v]
        else:
            out[f.name] = _gnostic(f.type, v)
    return out


def encode_openapi_v2(doc: dict) -> bytes:
    """A Swagger 2.0 document as gnostic's openapi.v2.Document, as kube-apiserver serves /openapi/v2."""
    return _encode(f"{V2}.Document", _gnostic(f"{V2}.Document", doc))
