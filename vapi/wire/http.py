"""HTTP glue for resource requests: parse the URL and body, call the pipeline, encode the answer.

Nothing here decides what an object becomes; that is `api.py`'s job. This module knows the
wire: URL shapes, media types, query parameters, Table answers and watch streams.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re

import orjson
import yaml
from aiohttp import web

from .. import errors
from ..api import DeleteOptions, ListOptions, WriteOptions
from ..auth.requestinfo import RequestInfo
from ..registry.builtin import SUBRESOURCE_VERBS
from ..writes.patch import PATCH_TYPES
from . import gojson, protobuf, tables

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
MAX_BODY = 3 * 1024 * 1024
INT64 = (-(1 << 63), (1 << 63) - 1)
DEFAULT_WATCH_TIMEOUT = 1800
# What a request leaves for the audit log: its body as read (bytes, media type), and the dict of
# annotations admission fills in on the way.
AUDIT_BODY = web.RequestKey("audit_body", tuple)
AUDIT_ANNOTATIONS = web.RequestKey("audit_annotations", dict)


# --- media types ------------------------------------------------------------------------------

def accepted(request: web.Request) -> list[tuple[str, dict]]:
    """The Accept header as (media type, parameters) pairs, in the client's order."""
    out = []
    for part in request.headers.get("Accept", "").split(","):
        fields = [f.strip() for f in part.split(";")]
        params = {}
        for f in fields[1:]:
            if "=" in f:
                k, v = f.split("=", 1)
                params[k.strip()] = v.strip()
        out.append((fields[0].lower(), params))
    return out


def wants_table(request: web.Request) -> bool:
    for mtype, params in accepted(request):
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and mtype == JSON:
            return True
    return False


def response_type(request: web.Request) -> str:
    for mtype, params in accepted(request):
        if params.get("as"):
            continue
        if mtype in (JSON, "*/*", "application/*", ""):
            return JSON
        if mtype in (YAML, "application/yaml"):
            return YAML
    return JSON


def encode(request: web.Request, body: dict, status: int = 200, *, sort_keys: bool = False) -> web.Response:
    if response_type(request) == YAML:
        return web.Response(body=yaml.safe_dump(body, sort_keys=sort_keys).encode(), status=status,
                            content_type=YAML)
    return web.Response(body=gojson.dumps(body, sort_keys=sort_keys), status=status, content_type=JSON)


async def read_body(request: web.Request, opts: WriteOptions | None = None) -> tuple[object, str]:
    """(decoded body, media type). Malformed bodies are 400s, unknown media types 415s.

    With `opts`, repeated fields are noted in it for the pipeline's field validation."""
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_BODY:
            raise errors.StatusError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY}")
        chunks.append(chunk)
    raw = b"".join(chunks)
    ctype = request.headers.get("Content-Type", JSON).split(";")[0].strip().lower()
    request[AUDIT_BODY] = (raw, ctype)  # the audit log's requestObject, decoded only if the policy wants it
    want_duplicates = opts is not None and opts.field_validation != "Ignore"
    if want_duplicates and ctype == YAML:
        opts.duplicate_fields = duplicate_fields(raw, ctype)
    try:
        if ctype in (JSON, "application/merge-patch+json", "application/strategic-merge-patch+json",
                     "application/json-patch+json"):
            body = orjson.loads(raw)
            # Fewer brackets than the bound cannot nest past it: most bodies skip the walk.
            if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
                _check_depth(body)
            if want_duplicates and ctype == JSON and len(_JSON_KEY.findall(raw)) != _count_keys(body):
                opts.duplicate_fields = duplicate_fields(raw, ctype)
            return body, ctype
        if ctype in (YAML, "application/apply-patch+yaml", "application/x-yaml", "text/yaml"):
            body = yaml.load(raw.decode(), Loader=_BoundedYAML)
            _check_depth(body)
            return body, ctype
        if ctype == PROTOBUF:
            return protobuf.decode_object(raw), ctype
    except RecursionError:
        raise _too_deep() from None
    except (orjson.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise errors.bad_request(f"error decoding request body: {str(e).splitlines()[0]}") from None
    except protobuf.ProtobufError as e:
        raise errors.bad_request(f"error decoding protobuf request body: {e}") from None
    raise errors.unsupported_media_type(ctype)


def decode_quietly(raw: bytes, ctype: str):
    """A body read before, decoded again as it came (or None): for the audit log's requestObject,
    the body as the client sent it, whatever the pipeline made of it since."""
    try:
        if ctype == PROTOBUF:
            return protobuf.decode_object(raw)
        if "yaml" in ctype:
            # What kubectl applies is JSON: read as such when it is, without the YAML reader's cost.
            with contextlib.suppress(ValueError):
                return orjson.loads(raw)
            return yaml.load(raw.decode(), Loader=_BoundedYAML)
        return orjson.loads(raw)
    except (ValueError, yaml.YAMLError, RecursionError, protobuf.ProtobufError, errors.StatusError):
        return None


# Every later step (validation, defaulting, field ownership) walks a body recursively, so bodies are
# bounded in depth where they are read; no Kubernetes object comes near this.
MAX_DEPTH = 200


def _too_deep() -> errors.StatusError:
    return errors.bad_request(f"error decoding request body: exceeded max depth of {MAX_DEPTH}")


def _check_depth(body) -> None:
    stack = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))


class _Fields(dict):
    """A decoded JSON/YAML object that remembers which of its keys appeared more than once."""
    repeated: tuple = ()


def _remember(pairs) -> _Fields:
    obj, repeated = _Fields(), []
    for key, value in pairs:
        if key in obj:
            repeated.append(key)
        obj[key] = value
    obj.repeated = tuple(repeated)
    return obj


# An alias names a node already read, so a few hundred bytes of nested aliases can stand for
# billions of nodes (the "billion laughs" document, CVE-2019-11253). PyYAML shares the aliased
# objects, but everything that walks the result afterwards would visit each expansion; such a
# document is refused before anything is built from it, as kube-apiserver's YAML decoder does.
MAX_EXPANDED_NODES = 100_000
EXCESSIVE_ALIASING = "yaml: document contains excessive aliasing"


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document would have with every alias written out, counted without
    writing them out (each distinct node once, with its children's sizes remembered)."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if not children_done and id(node) in entered:
            raise yaml.YAMLError("yaml: anchor value contains itself")
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        items = [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else node.value
        if children_done:
            sizes[id(node)] = 1 + sum(sizes[id(item)] for item in items)
            if sizes[id(node)] > MAX_EXPANDED_NODES:
                raise yaml.YAMLError(EXCESSIVE_ALIASING)
        else:
            entered.add(id(node))
            stack.append((node, True))
            stack.extend((item, False) for item in items if id(item) not in sizes)
    return sizes[id(root)]


class _BoundedYAML(yaml.SafeLoader):
    """The safe loader, refusing documents whose aliases expand past MAX_EXPANDED_NODES, and
    documents nested past MAX_DEPTH as soon as the composer gets there (reading all of a deep
    document first would hold the server for as long as it takes to fail)."""
    _depth = 0

    def fetch_flow_collection_start(self, token_class):
        # The scanner looks ahead across open brackets, each look at every bracket still open:
        # deep flow nesting is refused as it is scanned, before that costs anything.
        if self.flow_level >= MAX_DEPTH:
            raise _too_deep()
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _too_deep()
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        if node is not None:
            _expanded_size(node)
        return node


class _YAMLFields(_BoundedYAML):
    def construct_mapping(self, node, deep=False):
        self.flatten_mapping(node)
        return _remember((self.construct_object(k, deep=deep), self.construct_object(v, deep=deep))
                         for k, v in node.value)


_YAMLFields.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _YAMLFields.construct_mapping)


# Every key of a JSON object is a string followed by a colon. A body with as many such strings as
# its parsed objects have keys cannot have repeated any key; only a body that fails this cheap test
# (a repeat, or a string value that itself contains `":`) pays for the second, remembering parse.
_JSON_KEY = re.compile(rb'"(?:[^"\\]|\\.)*"\s*:')


def _count_keys(node) -> int:
    if isinstance(node, dict):
        return len(node) + sum(_count_keys(v) for v in node.values())
    if isinstance(node, list):
        return sum(_count_keys(v) for v in node)
    return 0


def duplicate_fields(raw: bytes, ctype: str) -> list[str]:
    """Paths of repeated keys, as kube's strict decoding reports them (`duplicate field "spec.a"`).

    orjson keeps the last of repeated keys silently, so a second, remembering parse finds them;
    it runs only when the request's fieldValidation wants to hear about them.
    """
    try:
        if ctype == YAML:
            doc = yaml.load(raw.decode(), Loader=_YAMLFields)
        else:
            doc = json.loads(raw, object_pairs_hook=_remember)
    except (ValueError, yaml.YAMLError, RecursionError, errors.StatusError):
        return []  # the body's own decoding reports what is wrong with it
    found = []

    def walk(node, path):
        if isinstance(node, _Fields):
            found.extend(f"{path}.{key}" if path else key for key in node.repeated)
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")
    walk(doc, "")
    return found


def dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise errors.bad_request(f'dryRun: Unsupported value: "{v}": supported values: "All"')
    return bool(values)


def write_options(request: web.Request, *, apply: bool = False) -> WriteOptions:
    validation = request.query.get("fieldValidation") or "Warn"
    if validation not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(f"fieldValidation: Unsupported value: \"{validation}\": supported values: "
                                 '"Ignore", "Strict", "Warn"')
    # Without a fieldManager kube names the writer after its User-Agent's product token, except for
    # applies, which must name their manager (the pipeline refuses them otherwise).
    manager = request.query.get("fieldManager", "")
    if not manager and not apply:
        manager = request.headers.get("User-Agent", "").split("/")[0]
    opts = WriteOptions(dry_run=dry_run(request), field_manager=manager, field_validation=validation,
                        user=request.get("user"))
    request[AUDIT_ANNOTATIONS] = opts.audit_annotations  # filled by admission on the way
    return opts


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def with_warnings(response: web.StreamResponse, opts: WriteOptions) -> web.StreamResponse:
    # kube's warning recorder sends each text once (a write retried on a conflict runs admission again).
    for text in dict.fromkeys(opts.warnings):
        # A field name may carry CR or LF; in a header they would end it, so they become spaces.
        text = _CONTROL.sub(" ", text).replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{text}"')
    return response


def _int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    # Go's ParseInt: ASCII digits with an optional minus, within int64.
    if re.fullmatch(r"-?[0-9]+", value) is None or not INT64[0] <= int(value) <= INT64[1]:
        raise errors.bad_request(f"invalid {name}: {value!r} is not an integer")
    return int(value)


def list_options(request: web.Request) -> ListOptions:
    q = request.query
    return ListOptions(label_selector=q.get("labelSelector", ""), field_selector=q.get("fieldSelector", ""),
                       limit=_int_param(request, "limit") or 0, continue_token=q.get("continue", ""),
                       resource_version=q.get("resourceVersion", ""),
                       resource_version_match=q.get("resourceVersionMatch", ""))


_MATCHES = ("Exact", "NotOlderThan")


def _list_option_errors(opts: ListOptions, watch: bool, send_initial_events: bool) -> list[tuple[str, str]]:
    """ValidateListOptions' findings, as (cause reason, message) of the resourceVersionMatch field."""
    match, found = opts.resource_version_match, []
    if not match:
        return found
    if watch:
        if not send_initial_events:
            found.append(("FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden for watch unless "
                                                 "sendInitialEvents is provided"))
        if match != "NotOlderThan":
            found.append(("FieldValueNotSupported", f'Unsupported value: "{match}": supported values: "NotOlderThan"'))
    else:
        if not opts.resource_version:
            found.append(("FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden unless "
                                                 "resourceVersion is provided"))
        if match not in _MATCHES:
            found.append(("FieldValueNotSupported", f'Unsupported value: "{match}": supported values: "Exact", '
                                                    '"NotOlderThan", ""'))
        if match == "Exact" and opts.resource_version == "0":
            found.append(("FieldValueForbidden", 'Forbidden: resourceVersionMatch "exact" is forbidden for '
                                                 'resourceVersion "0"'))
    if opts.continue_token:
        found.append(("FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden when continue is provided"))
    return found


def validate_list_options(opts: ListOptions, *, watch: bool = False, send_initial_events: bool = False) -> None:
    """A list or watch's options judged as kube's ValidateListOptions does: 422 on ListOptions."""
    found = _list_option_errors(opts, watch, send_initial_events)
    if not found:
        return
    texts = [f"resourceVersionMatch: {message}" for _, message in found]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    raise errors.StatusError(422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: {joined}', {
        "group": "meta.k8s.io", "kind": "ListOptions",
        "causes": [{"reason": reason, "message": message, "field": "resourceVersionMatch"} for reason, message in found]})


def delete_options(request: web.Request, body) -> DeleteOptions:
    body = body if isinstance(body, dict) else {}
    grace = body.get("gracePeriodSeconds")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int)):
        raise _cannot_unmarshal(grace, "DeleteOptions.gracePeriodSeconds", "int64")
    if not isinstance(body.get("preconditions") or {}, dict):
        raise _cannot_unmarshal(body["preconditions"], "DeleteOptions.preconditions", "v1.Preconditions")
    if grace is None:
        grace = _int_param(request, "gracePeriodSeconds")
    policy = body.get("propagationPolicy") or request.query.get("propagationPolicy")
    if policy is None and body.get("orphanDependents") is not None:
        policy = "Orphan" if body["orphanDependents"] else "Background"
    if policy not in (None, "Orphan", "Background", "Foreground"):
        raise errors.bad_request(f'propagationPolicy: Unsupported value: "{policy}": supported values: '
                                 '"Foreground", "Background", "Orphan"')
    run = dry_run(request) or body.get("dryRun") == ["All"]
    return DeleteOptions(grace_period_seconds=grace, propagation_policy=policy,
                         preconditions=body.get("preconditions"), dry_run=run, user=request.get("user"))


def _cannot_unmarshal(value, field: str, go_type: str) -> errors.StatusError:
    """kube's answer to DeleteOptions that do not decode, in encoding/json's words."""
    kind = {str: "string", bool: "bool", list: "array", dict: "object"}.get(type(value), "number")
    return errors.bad_request(f"json: cannot unmarshal {kind} into Go struct field {field} of type {go_type}")


# --- handlers ---------------------------------------------------------------------------------

class ResourceHandler:
    def __init__(self, api, registry):
        self.api = api
        self.registry = registry
        # subresource -> async (request, info, request_info, namespace, name): those that stream
        # (pods/log, exec, attach, portforward), served by the server's wire/streams.py
        self.connect: dict = {}

    def _info(self, ri: RequestInfo):
        if len(ri.parts) > 3:
            raise errors.path_not_found()
        info = self.registry.get(ri.group, ri.version, ri.resource)
        if info is None:
            raise errors.path_not_found()
        if ri.subresource and ri.subresource not in info.subresources:
            raise errors.path_not_found()
        # A namespace's own path names it; any other cluster-scoped resource under a namespace is unrouted.
        if ri.namespace and not info.namespaced and ri.parts[:2] != ("namespaces", ri.namespace):
            raise errors.path_not_found()
        verbs = info.verbs
        if ri.subresource:
            verbs = SUBRESOURCE_VERBS[ri.subresource]
        # Updates and patches name an object; creates name a collection (or a subresource of an object).
        misplaced = (ri.verb in ("update", "patch") and not ri.name) or \
            (ri.verb == "create" and bool(ri.name) != bool(ri.subresource))
        if ri.verb not in verbs or misplaced:
            raise errors.method_not_allowed()
        return info

    async def handle(self, request: web.Request, ri: RequestInfo) -> web.StreamResponse:
        info = self._info(ri)
        ns = ri.namespace if info.namespaced and ri.namespace else None
        # A list or watch may carry a name read off its field selector (for RBAC); it stays a list.
        name = ri.name if len(ri.parts) > 1 else None
        if ri.verb in ("get", "update", "patch", "delete") and not name:
            raise errors.method_not_allowed()
        if ri.subresource in self.connect and name:
            return await self.connect[ri.subresource](request, info, ri, ns, name)
        if ri.verb == "get":
            obj = self.api.get(info, ns, name, request.query.get("resourceVersion", ""), ri.subresource or None)
            return self._object_response(request, info, obj)
        if ri.verb == "list":
            opts = list_options(request)
            validate_list_options(opts)
            result = self.api.list(info, ns, opts)
            if wants_table(request):
                return encode_table(request, info, result["items"], result["metadata"])
            return encode(request, result, sort_keys=info.strategy.unstructured)
        if ri.verb == "watch":
            return await self.watch(request, info, ns, name)
        if ri.verb == "create":
            opts = write_options(request)
            body, _ = await read_body(request, opts)
            if ri.subresource:
                obj = await self.api.create_subresource(info, ns, name, ri.subresource, body, opts)
                return with_warnings(encode(request, obj, 201), opts)
            obj = await self.api.create(info, ns, body, opts)
            return with_warnings(self._object_response(request, info, obj, 201), opts)
        if ri.verb == "update":
            opts = write_options(request)
            body, _ = await read_body(request, opts)
            obj = await self.api.update(info, ns, name, body, subresource=ri.subresource or None, opts=opts)
            return with_warnings(self._object_response(request, info, obj), opts)
        if ri.verb == "patch":
            return await self.patch(request, info, ri, ns, name)
        if ri.verb == "delete":
            body = None
            if request.can_read_body:
                body, _ = await read_body(request)
            obj, finished = await self.api.delete(info, ns, name, delete_options(request, body))
            return self._object_response(request, info, obj, 200 if finished else 202)
        if ri.verb == "deletecollection":
            body = None
            if request.can_read_body:
                body, _ = await read_body(request)
            result = await self.api.delete_collection(info, ns, list_options(request),
                                                      delete_options(request, body))
            return encode(request, result, sort_keys=info.strategy.unstructured)
        raise errors.method_not_allowed()

    def _object_response(self, request, info, obj, status=200):
        # A subresource may speak another kind (Scale), which is typed even for custom resources.
        own_kind = obj.get("kind") == info.kind
        if wants_table(request) and own_kind:
            return encode_table(request, info, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                                status=status)
        return encode(request, obj, status, sort_keys=own_kind and info.strategy.unstructured)

    async def patch(self, request: web.Request, info, ri: RequestInfo, ns, name) -> web.Response:
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in PATCH_TYPES:
            raise errors.unsupported_media_type(ctype)
        patch, _ = await read_body(request)
        opts = write_options(request, apply=ctype == "application/apply-patch+yaml")
        obj = await self.api.patch(info, ns, name, ctype, patch, subresource=ri.subresource or None,
                                   opts=opts, force=request.query.get("force") in ("true", "1"))
        return with_warnings(self._object_response(request, info, obj), opts)

    async def watch(self, request: web.Request, info, ns, name=None) -> web.StreamResponse:
        opts = list_options(request)
        validate_list_options(opts, watch=True, send_initial_events="sendInitialEvents" in request.query)
        if name:
            # The deprecated /watch/.../NAME form watches one object, as its field selector would.
            opts.field_selector = ",".join(filter(None, (opts.field_selector, f"metadata.name={name}")))
        events = self.api.watch(info, ns, opts,
                                send_initial_events=request.query.get("sendInitialEvents") in ("true", "1"),
                                bookmarks=request.query.get("allowWatchBookmarks") in ("true", "1"),
                                timeout=_int_param(request, "timeoutSeconds") or DEFAULT_WATCH_TIMEOUT)
        as_table = wants_table(request)
        include_object = request.query.get("includeObject", "Metadata")
        response = web.StreamResponse(headers={"Content-Type": JSON, "Cache-Control": "no-cache"})
        response.enable_chunked_encoding()
        first_row = True
        try:
            await response.prepare(request)
            async for event_type, obj in events:
                is_object = event_type not in ("BOOKMARK", "ERROR")
                if as_table and is_object:
                    obj = tables.build_table(info.group, info.plural, [obj], schemas=info.strategy.schemas,
                                             include_object=include_object, columns=info.strategy.printer_columns)
                    if not first_row:
                        obj["columnDefinitions"] = []
                    first_row = False
                await response.write(gojson.event(event_type, obj, sort_keys=info.strategy.unstructured
                                                  and is_object and not as_table))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            await events.aclose()
        return response


def encode_table(request, info, items, list_meta, status=200) -> web.Response:
    table = tables.build_table(info.group, info.plural, items, schemas=info.strategy.schemas,
                               list_meta=list_meta,
                               include_object=request.query.get("includeObject", "Metadata"),
                               columns=info.strategy.printer_columns)
    return web.Response(body=gojson.dumps(table), status=status, content_type=JSON)
