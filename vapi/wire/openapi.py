"""The OpenAPI documents kube-apiserver publishes, built from the registry.

`/openapi/v2` is one Swagger 2.0 document for everything served; `/openapi/v3` indexes one
OpenAPI 3.0 document per group-version (plus the discovery roots), each named by a content hash so
clients may cache it for good. kubectl needs them: `apply`/`create` check that the PATCH operation of
a kind takes `fieldValidation` (else they validate client-side against v2), and `explain` walks the
v3 document of the resource's group-version.

Both are built the way kube builds them from its routes: one Swagger operation per route, then
the v3 operation derived from it; definitions are exactly those reachable from the paths. Nothing
is built until first asked for, and everything built is kept until the registry's generation moves
(a CustomResourceDefinition added, changed or removed).
"""
from __future__ import annotations

import hashlib

import orjson

from admission.schemas import INT_OR_STRING, QUANTITY

from ..registry import GenerationCache
from ..registry.builtin import SUBRESOURCE_VERBS

V2_PREFIX = "#/definitions/"
V3_PREFIX = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META = META + "ObjectMeta"
LIST_META = META + "ListMeta"
STATUS = META + "Status"
DELETE_OPTIONS = META + "DeleteOptions"
PATCH = META + "Patch"
WATCH_EVENT = META + "WatchEvent"
VERSION_INFO = "io.k8s.apimachinery.pkg.version.Info"
# Operations whose response is not an object (logs, exec streams) answer a bare string.
STRING = "string"

JSON, YAML, PROTOBUF = "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"
BUILTIN_MEDIA = [JSON, YAML, PROTOBUF]
WATCH_MEDIA = [JSON + ";stream=watch", PROTOBUF + ";stream=watch"]
# Custom resources have no protobuf form, nor a strategic merge patch (no Go struct tags to drive it).
CRD_MEDIA = [JSON, YAML]
CRD_WATCH_MEDIA = [JSON + ";stream=watch"]
BUILTIN_PATCH = ["application/json-patch+json", "application/merge-patch+json",
                 "application/strategic-merge-patch+json", "application/apply-patch+yaml"]
CRD_PATCH = [t for t in BUILTIN_PATCH if "strategic" not in t]

# Query parameters: name -> (type, description).
PARAMETERS = {
    "pretty": ("string", "If 'true', then the output is pretty printed."),
    "dryRun": ("string", "When present, indicates that modifications should not be persisted. "
                         "The only valid value is All: all dry run stages will be processed."),
    "fieldManager": ("string", "A name associated with the actor or entity that is making these "
                               "changes; at most 128 printable characters."),
    "fieldValidation": ("string", "How the server treats unknown or duplicate fields in the object: "
                                  "Ignore drops them, Warn drops them with a warning per field, "
                                  "Strict fails the request."),
    "force": ("boolean", "Force is going to \"force\" Apply requests: the request re-acquires "
                         "conflicting fields owned by other managers. Only for apply patches."),
    "allowWatchBookmarks": ("boolean", "Requests watch events with type \"BOOKMARK\"; servers may "
                                       "send them at their discretion."),
    "continue": ("string", "The continue token a previous, limited list call returned, to fetch "
                           "the next page of results."),
    "fieldSelector": ("string", "A selector to restrict the list of returned objects by their "
                                "fields. Defaults to everything."),
    "labelSelector": ("string", "A selector to restrict the list of returned objects by their "
                                "labels. Defaults to everything."),
    "limit": ("integer", "The maximum number of objects to return for a list call; more are then "
                         "fetched with the continue token."),
    "resourceVersion": ("string", "A constraint on which resource versions a request may be served "
                                  "from; for watches, the version to start from."),
    "resourceVersionMatch": ("string", "How resourceVersion applies to list calls: Exact or "
                                       "NotOlderThan."),
    "sendInitialEvents": ("boolean", "With watch=true, start the watch with synthetic events for "
                                     "the current objects, then a bookmark."),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call, regardless of any activity or "
                                  "inactivity."),
    "watch": ("boolean", "Watch for changes to the described resources and return them as a "
                         "stream of add, update, and remove notifications."),
    "container": ("string", "The container to use; defaults to the only container if there is one."),
    "follow": ("boolean", "Follow the log stream of the pod."),
    "previous": ("boolean", "Return the logs of the previous terminated container."),
    "sinceSeconds": ("integer", "Only return logs newer than this many seconds."),
    "tailLines": ("integer", "The number of lines from the end of the logs to show."),
    "timestamps": ("boolean", "Prefix every line of log output with an RFC3339 timestamp."),
    "limitBytes": ("integer", "The number of bytes to read from the server before ending the log."),
    "command": ("string", "The command to execute, one argument per parameter."),
    "stdin": ("boolean", "Redirect the standard input stream of the container."),
    "stdout": ("boolean", "Redirect the standard output stream of the container."),
    "stderr": ("boolean", "Redirect the standard error stream of the container."),
    "tty": ("boolean", "Allocate a terminal for the call."),
    "ports": ("integer", "The ports to forward to."),
    "path": ("string", "The path to the resource to proxy to."),
}
LIST_PARAMS = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
               "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds",
               "watch")
WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
# Delete's query parameters mirror DeleteOptions fields, so they follow the served release's schema.
DELETE_FIELDS = ("gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
                 "orphanDependents", "propagationPolicy")
DELETECOLLECTION_PARAMS = ("continue", "dryRun", "fieldSelector", *DELETE_FIELDS, "labelSelector",
                           "limit", "resourceVersion", "resourceVersionMatch", "sendInitialEvents",
                           "timeoutSeconds")
SUBRESOURCE_PARAMS = {
    "log": ("container", "follow", "limitBytes", "previous", "sinceSeconds", "tailLines", "timestamps"),
    "exec": ("command", "container", "stderr", "stdin", "stdout", "tty"),
    "attach": ("container", "stderr", "stdin", "stdout", "tty"),
    "portforward": ("ports",),
    "proxy": ("path",),
}
# Streaming subresources are "connect" routes; kube tags them with an options kind, not the parent's
# kind, so they never pass for the kind's own PATCH when kubectl looks for `fieldValidation`.
CONNECT_OPTIONS = {"exec": "ExecOptions", "attach": "AttachOptions",
                   "portforward": "PortForwardOptions", "proxy": "ProxyOptions"}

# What kube's CRD OpenAPI builder writes for the metadata it adds to custom resource schemas.
CRD_METADATA = "Standard object's metadata. More info: " \
               "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
CRD_LIST_METADATA = "Standard list metadata. More info: " \
                    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
EMBEDDED_API_VERSION = "apiVersion defines the versioned schema of this representation of an object. " \
                       "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/" \
                       "api-conventions.md#resources"
EMBEDDED_KIND = "kind is a string value representing the type of this object. In CamelCase. More info: " \
                "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]

# Types whose JSON is either of two scalars: Swagger 2.0 calls them strings, v3 says which.
V3_ONE_OF = {INT_OR_STRING: ("integer", "string"), QUANTITY: ("string", "number")}

SECURITY_DEFINITIONS = {"BearerToken": {"type": "apiKey", "description": "Bearer Token authentication",
                                        "name": "authorization", "in": "header"}}
SECURITY = [{"BearerToken": []}]
UNAUTHORIZED = {"description": "Unauthorized"}


def content_hash(body: bytes) -> str:
    """kube-apiserver's OpenAPI hash: SHA-512 of the served bytes, upper-case hex."""
    return hashlib.sha512(body).hexdigest().upper()


def _dumps(doc: dict) -> bytes:
    # Sorted keys make the bytes, hence the hash, depend on the content alone.
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


# --- schema walking ----------------------------------------------------------------------------

def _map_schema(schema, visit):
    """Rebuild a schema top-down: `visit` gets a copy of each (sub)schema before its children."""
    if not isinstance(schema, dict):
        return schema
    node = visit(dict(schema))
    for key in ("properties", "patternProperties"):
        if isinstance(node.get(key), dict):
            node[key] = {name: _map_schema(sub, visit) for name, sub in node[key].items()}
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            node[key] = [_map_schema(sub, visit) for sub in node[key]]
    for key in ("items", "additionalProperties", "not"):
        if key in node:
            node[key] = _map_schema(node[key], visit)
    return node


def _refs(node, found: set[str]) -> set[str]:
    """Names of every definition `node` refers to, anywhere inside it."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _v3_node(node: dict) -> dict:
    ref = node.get("$ref")
    if ref is None:
        return node
    target = {"$ref": V3_PREFIX + ref.rsplit("/", 1)[-1]}
    if len(node) == 1:
        return target
    # OpenAPI 3.0 ignores siblings of $ref, so kube moves the reference into a one-entry allOf.
    del node["$ref"]
    node["allOf"] = [target, *node.get("allOf", [])]
    return node


def to_v3_schema(schema: dict) -> dict:
    return _map_schema(schema, _v3_node)


def _v3_definition(name: str, schema: dict) -> dict:
    types = V3_ONE_OF.get(name)
    if types:
        schema = {**{k: v for k, v in schema.items() if k != "type"}, "oneOf": [{"type": t} for t in types]}
    return to_v3_schema(schema)


def _v2_node(node: dict) -> dict:
    """One step of kube's ToStructuralOpenAPIV2: drop what Swagger 2.0 and kubectl's v2 validation
    cannot take (junctors, nullable, typed values with unknown fields)."""
    for key in ("allOf", "anyOf", "oneOf", "not"):
        node.pop(key, None)
    if node.pop("nullable", False):
        for key in ("type", "items", "properties"):
            node.pop(key, None)
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if preserve:
        node.pop("items", None)
        node.pop("properties", None)
    if (node.get("type") == "array" and "items" not in node) or (preserve and node.get("type") == "object"):
        node.pop("type")
    props = node.get("properties", {})
    required = [f for f in node.get("required", ()) if not props.get(f, {}).get("nullable")]
    additional = node.get("additionalProperties")
    if isinstance(additional, dict) and additional.get("nullable"):
        required = []
    if "required" in node:
        if required:
            node["required"] = required
        else:
            del node["required"]
    return node


def _unfold_int_or_string(node: dict) -> dict:
    """kube's Unfold: an x-kubernetes-int-or-string value is spelled out as anyOf integer/string."""
    if node.get("x-kubernetes-int-or-string") is not True or node.get("anyOf") == INT_OR_STRING_ANY_OF:
        return node
    if "anyOf" in node:
        node["allOf"] = [{"anyOf": INT_OR_STRING_ANY_OF}, *node.get("allOf", [])]
    else:
        node["anyOf"] = INT_OR_STRING_ANY_OF
    return node


# --- naming ------------------------------------------------------------------------------------

def _camel(text: str, capitalize: bool) -> str:
    """kube's ToValidOperationID: drop separators, capitalizing the letter after each."""
    out, upper = [], capitalize
    for ch in text:
        if ch.isalnum():
            out.append(ch.upper() if upper else ch)
            upper = False
        else:
            upper = True
    return "".join(out)


def _group_words(group: str, version: str | None, capitalize: bool) -> str:
    """`apps`,`v1` -> AppsV1 (operation ids) or apps_v1 (tags); the core group is called `core`."""
    name = _camel(group.removesuffix(".k8s.io") if group else "core", capitalize)
    if version is None:
        return name
    return name + (_camel(version, True) if capitalize else "_" + version)


def _article(kind: str) -> str:
    return "an" if kind[:1].lower() in "aeiou" else "a"


def _query(name: str) -> dict:
    kind, description = PARAMETERS[name]
    return {"name": name, "in": "query", "description": description, "type": kind, "uniqueItems": True}


def _path_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "description": description, "required": True,
            "type": "string", "uniqueItems": True}


def _ref(name: str) -> dict:
    return {"$ref": V2_PREFIX + name}


def _body(name: str, required: bool = True) -> dict:
    return {"name": "body", "in": "body", "required": required, "schema": _ref(name)}


def _gvk(group: str, version: str, kind: str) -> dict:
    return {"group": group, "version": version, "kind": kind}


# --- v2 operations to v3 -----------------------------------------------------------------------

def _v3_parameter(param: dict) -> dict:
    out = {"name": param["name"], "in": param["in"], "description": param["description"]}
    if param.get("required"):
        out["required"] = True
    out["schema"] = {"type": param["type"], "uniqueItems": True}
    return out


def _content(schema: dict, media: list[str]) -> dict:
    v3_schema = to_v3_schema(schema)
    return {"content": {m: {"schema": v3_schema} for m in media}}


def _v3_operation(op: dict) -> dict:
    """A Swagger operation in OpenAPI 3.0: the body becomes requestBody, media types move into it
    and into each response."""
    out = {key: value for key, value in op.items()
           if key not in ("parameters", "responses", "consumes", "produces", "schemes")}
    params = []
    for param in op["parameters"]:
        if param["in"] == "body":
            out["requestBody"] = {**_content(param["schema"], op["consumes"]), "required": param["required"]}
        else:
            params.append(_v3_parameter(param))
    if params:
        out["parameters"] = params
    out["responses"] = {code: {"description": response["description"],
                               **(_content(response["schema"], op["produces"]) if "schema" in response else {})}
                        for code, response in op["responses"].items()}
    return out


def _v3_path_item(item: dict) -> dict:
    return {key: [_v3_parameter(p) for p in value] if key == "parameters" else _v3_operation(value)
            for key, value in item.items()}


class OpenAPI:
    def __init__(self, registry):
        self.registry = registry
        self.schemas = registry.schemas
        self._info = {"title": "Kubernetes", "version": f"v{self.schemas.version}.0"}
        self._cache = GenerationCache(registry)
        self._cached = self._cache.get

    # --- public API ----------------------------------------------------------------------------

    def v2_document(self) -> dict:
        return self._cached("v2", self._build_v2)

    def v2_json(self) -> tuple[bytes, str]:
        def build():
            body = _dumps(self.v2_document())
            return body, f'"{content_hash(body)}"'
        return self._cached("v2 json", build)

    def v3_index(self) -> dict:
        def build():
            return {"paths": {key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={self.v3_document(key)[1]}"}
                              for key in sorted(self._paths())}}
        return self._cached("v3 index", build)

    def v3_document(self, path: str) -> tuple[bytes, str] | None:
        key = path.strip("/")
        if key not in self._paths():
            return None

        def build():
            body = _dumps(self._build_v3(key))
            return body, content_hash(body)
        return self._cached(("v3", key), build)

    # --- definitions ---------------------------------------------------------------------------

    def _definitions(self, v2: bool) -> dict[str, dict]:
        """Every definition by name, custom resources' in the flavour of the document asked for."""
        def build():
            defs = dict(self.schemas.definitions)
            for info in self.registry.all():
                if info.crd is not None:
                    defs.update(self._crd_definitions(info, v2))
                elif info.strategy.computed:
                    defs.update(info.strategy.definitions())
            return defs
        return self._cached(("definitions", v2), build)

    def _reachable(self, roots: set[str], v2: bool) -> list[str]:
        defs = self._definitions(v2)
        direct = self._cached(("refs", v2), dict)
        seen, todo = set(), [r for r in roots if r in defs]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name not in direct:
                direct[name] = _refs(defs[name], set())
            todo.extend(r for r in direct[name] if r in defs and r not in seen)
        return sorted(seen)

    def _type_meta(self) -> dict:
        """apiVersion and kind as every kind's schema describes them (TypeMeta)."""
        props = self.schemas.definitions[STATUS]["properties"]
        return {"apiVersion": props["apiVersion"], "kind": props["kind"]}

    def _embed(self, v2: bool):
        """kube adds TypeMeta and ObjectMeta to values marked x-kubernetes-embedded-resource."""
        type_meta = self._type_meta()

        def visit(node: dict) -> dict:
            if node.get("x-kubernetes-embedded-resource") is not True:
                return node
            if v2 and node.get("x-kubernetes-preserve-unknown-fields") is True:
                # kubectl's v2 validation would then reject every other field of the object.
                return node
            node["properties"] = {
                **node.get("properties", {}),
                "apiVersion": {**type_meta["apiVersion"], "description": EMBEDDED_API_VERSION},
                "kind": {**type_meta["kind"], "description": EMBEDDED_KIND},
                "metadata": {**_ref(OBJECT_META), "description": CRD_METADATA},
            }
            required = list(node.get("required", ()))
            node["required"] = required + [f for f in ("kind", "apiVersion") if f not in required]
            return node
        return visit

    def _crd_definitions(self, info, v2: bool) -> dict[str, dict]:
        """A custom resource's schema and its list's, as kube's CRD OpenAPI builder makes them."""
        gvk = [_gvk(info.group, info.version, info.kind)]
        type_meta = self._type_meta()
        schema = (info.crd.get("schema") or {}).get("openAPIV3Schema")
        if schema is None or v2 and schema.get("x-kubernetes-preserve-unknown-fields") is True:
            # Without a schema (or when v2 cannot express it), any object goes.
            kind_schema = {"type": "object", "x-kubernetes-group-version-kind": gvk}
        else:
            kind_schema = _map_schema(schema, _unfold_int_or_string)
            if v2:
                kind_schema = _map_schema(kind_schema, _v2_node)
            kind_schema = _map_schema(kind_schema, self._embed(v2))
            kind_schema["properties"] = {
                **kind_schema.get("properties", {}),
                "metadata": {**_ref(OBJECT_META), "description": CRD_METADATA},
                **type_meta,
            }
            kind_schema["x-kubernetes-group-version-kind"] = gvk
        list_kind = info.kind + "List"
        list_schema = {
            "description": f"{list_kind} is a list of {info.kind}",
            "type": "object",
            "required": ["items"],
            "properties": {
                **type_meta,
                "items": {"type": "array", "items": _ref(info.schema_name),
                          "description": f"List of {info.plural}. More info: "
                                         "https://git.k8s.io/community/contributors/devel/"
                                         "sig-architecture/api-conventions.md"},
                "metadata": {**_ref(LIST_META), "description": CRD_LIST_METADATA},
            },
            "x-kubernetes-group-version-kind": [_gvk(info.group, info.version, list_kind)],
        }
        return {info.schema_name: kind_schema, self._list_name(info): list_schema}

    def _list_name(self, info) -> str | None:
        if info.crd is not None:
            # kube names custom resource definitions by reverse group, version and kind.
            return f"{info.schema_name.rsplit('.', 1)[0]}.{info.kind}List"
        if info.strategy.computed:
            return info.schema_name + "List"
        return self.schemas.name_for(info.group, info.version, info.kind + "List")

    # --- paths ---------------------------------------------------------------------------------

    def _paths(self) -> dict[str, dict[str, dict]]:
        """Swagger path items by the v3 document they belong to ("api/v1", "apis/apps", ...)."""
        return self._cached("paths", self._build_paths)

    def _build_paths(self) -> dict[str, dict[str, dict]]:
        docs: dict[str, dict[str, dict]] = {
            "version": {"/version/": {"get": _discovery_op(
                "getCodeVersion", ["version"], "get the code version", VERSION_INFO, [JSON])}},
        }
        groups = self.registry.groups()
        if any(group == "" for group, _ in groups):
            docs["api"] = {"/api/": {"get": _discovery_op(
                "getCoreAPIVersions", ["core"], "get available API versions", META + "APIVersions")}}
        if any(group for group, _ in groups):
            docs["apis"] = {"/apis/": {"get": _discovery_op(
                "getAPIVersions", ["apis"], "get available API versions", META + "APIGroupList")}}
        for group, versions in groups:
            prefix = f"/apis/{group}" if group else "/api"
            if group:
                docs[f"apis/{group}"] = {f"{prefix}/": {"get": _discovery_op(
                    f"get{_group_words(group, None, True)}APIGroup", [_group_words(group, None, False)],
                    "get information of a group", META + "APIGroup")}}
            for version in versions:
                items = {f"{prefix}/{version}/": {"get": _discovery_op(
                    f"get{_group_words(group, version, True)}APIResources",
                    [_group_words(group, version, False)], "get available resources",
                    META + "APIResourceList")}}
                for info in sorted(self.registry.in_group_version(group, version), key=lambda i: i.plural):
                    for path, method, op in _ResourceRoutes(self, info).routes():
                        items.setdefault(path, {})[method] = op
                docs[prefix.lstrip("/") + "/" + version] = {p: _hoist_common(item) for p, item in items.items()}
        return docs

    # --- documents -----------------------------------------------------------------------------

    def _build_v2(self) -> dict:
        paths = {}
        for items in self._paths().values():
            paths.update(items)
        defs = self._definitions(v2=True)
        names = self._reachable(_refs(paths, set()), v2=True)
        return {
            "swagger": "2.0",
            "info": self._info,
            "paths": dict(sorted(paths.items())),
            "definitions": {name: defs[name] for name in names},
            "securityDefinitions": SECURITY_DEFINITIONS,
            "security": SECURITY,
        }

    def _build_v3(self, key: str) -> dict:
        items = self._paths()[key]
        converted = self._cached("v3 schemas", dict)
        defs = self._definitions(v2=False)
        schemas = {}
        for name in self._reachable(_refs(items, set()), v2=False):
            if name not in converted:
                converted[name] = _v3_definition(name, defs[name])
            schemas[name] = converted[name]
        return {
            "openapi": "3.0.0",
            "info": self._info,
            "paths": {path: _v3_path_item(item) for path, item in sorted(items.items())},
            "components": {"schemas": schemas, "securitySchemes": SECURITY_DEFINITIONS},
            "security": SECURITY,
        }


# Object verbs: verb -> (HTTP method, operation id verb, x-kubernetes-action, description verb).
OBJECT_VERBS = {
    "get": ("get", "read", "get", "read"),
    "update": ("put", "replace", "put", "replace"),
    "patch": ("patch", "patch", "patch", "partially update"),
    "create": ("post", "create", "post", "create"),
    "delete": ("delete", "delete", "delete", "delete"),
}


class _ResourceRoutes:
    """The routes kube-apiserver installs for one resource, as Swagger operations."""

    def __init__(self, api: OpenAPI, info):
        self.info = info
        self.schemas = api.schemas
        self.list_schema = api._list_name(info)
        custom = info.crd is not None
        self.media = CRD_MEDIA if custom else BUILTIN_MEDIA
        self.watch_media = CRD_WATCH_MEDIA if custom else WATCH_MEDIA
        self.patch_media = CRD_PATCH if custom else BUILTIN_PATCH
        self.write_media = CRD_MEDIA if custom else ["*/*"]
        self.delete_fields = self.schemas.definitions[DELETE_OPTIONS]["properties"]
        self.base = f"/apis/{info.group}/{info.version}" if info.group else f"/api/{info.version}"
        self.scope = "/namespaces/{namespace}" if info.namespaced else ""
        self.ns_word = "Namespaced" if info.namespaced else ""
        self.item_params = [_path_param("name", f"name of the {info.kind}")]
        if info.namespaced:
            self.item_params.append(_path_param(
                "namespace", "object name and auth scope, such as for teams and projects"))

    def routes(self):
        """(path, method, operation) for every route."""
        info, verbs = self.info, set(self.info.verbs)
        root = f"{self.base}{self.scope}/{info.plural}"
        watch_root = f"{self.base}/watch{self.scope}/{info.plural}"
        collection_params = self.item_params[1:]
        kind_words = self.ns_word + info.kind
        listing = f"list or watch objects of kind {info.kind}"
        if info.namespaced and "list" in verbs:
            yield f"{self.base}/{info.plural}", "get", self._op(
                "list", info.kind + "ForAllNamespaces", listing, "list", LIST_PARAMS,
                {"200": ("OK", self.list_schema)}, watch=True)
        if info.namespaced and "watch" in verbs:
            yield f"{self.base}/watch/{info.plural}", "get", self._watch(
                info.kind + "ListForAllNamespaces", True, ())
        if "list" in verbs:
            yield root, "get", self._op("list", kind_words, listing, "list", LIST_PARAMS,
                                        {"200": ("OK", self.list_schema)}, collection_params, watch=True)
        if "create" in verbs:
            yield root, *self._object("create", "", self.info.schema_name, collection_params)
        if "deletecollection" in verbs:
            yield root, "delete", self._op(
                "delete", "Collection" + kind_words, f"delete collection of {info.kind}", "deletecollection",
                DELETECOLLECTION_PARAMS, {"200": ("OK", STATUS)}, collection_params, body=DELETE_OPTIONS)
        for verb in ("get", "update", "patch", "delete"):
            if verb in verbs:
                yield root + "/{name}", *self._object(verb, "", self.info.schema_name, self.item_params)
        if "watch" in verbs:
            yield watch_root, "get", self._watch(kind_words + "List", True, collection_params)
            yield watch_root + "/{name}", "get", self._watch(kind_words, False, self.item_params)
        for sub, speaks in info.subresources.items():
            yield from self._subresource(root + "/{name}/" + sub, sub, speaks)

    def _subresource(self, path, sub, speaks):
        info = self.info
        verbs = SUBRESOURCE_VERBS.get(sub, ())
        words = self.ns_word + info.kind + sub.capitalize()
        if sub in CONNECT_OPTIONS:
            options = _gvk("", "v1", info.kind + CONNECT_OPTIONS[sub])
            variants = [(path, "", self.item_params, SUBRESOURCE_PARAMS[sub])]
            if sub == "proxy":
                variants.append((path + "/{path}", "WithPath",
                                 [*self.item_params, _path_param("path", "path to the resource")], ()))
            for where, suffix, params, query in variants:
                for verb in verbs:
                    method = OBJECT_VERBS[verb][0]
                    yield where, method, self._op(
                        "connect", method.capitalize() + words + suffix,
                        f"connect {method.upper()} requests to {sub} of {info.kind}", "connect", query,
                        {"200": ("OK", STRING)}, params, gvk=options, produces=["*/*"], consumes=["*/*"])
        elif sub == "log":
            yield path, "get", self._op("read", words, f"read {sub} of the specified {info.kind}", "get",
                                        SUBRESOURCE_PARAMS[sub], {"200": ("OK", STRING)}, self.item_params,
                                        produces=["text/plain", *BUILTIN_MEDIA])
        else:
            group, version, kind = speaks or (info.group, info.version, info.kind)
            schema = self.schemas.name_for(group, version, kind) if speaks else info.schema_name
            for verb in ("get", "update", "patch", "create"):
                if verb in verbs:
                    yield path, *self._object(verb, sub, schema, self.item_params, _gvk(group, version, kind))

    def _object(self, verb, sub, schema, params, gvk=None):
        """(method, operation) of a verb on one object (or, for create, on its collection)."""
        method, op_verb, action, doing = OBJECT_VERBS[verb]
        kind = self.info.kind
        sub_of = f" {sub} of" if sub else ""
        which = _article(kind) if verb in ("create", "delete") else "the specified"
        words = self.ns_word + kind + sub.capitalize()
        description = f"{doing}{sub_of} {which} {kind}"
        if verb == "get":
            return method, self._op(op_verb, words, description, action, (), {"200": ("OK", schema)},
                                    params, gvk=gvk)
        if verb == "delete":
            return method, self._op(op_verb, words, description, action, ("dryRun", *DELETE_FIELDS),
                                    {"200": ("OK", STATUS), "202": ("Accepted", STATUS)}, params,
                                    body=DELETE_OPTIONS, gvk=gvk)
        responses = {"200": ("OK", schema), "201": ("Created", schema)}
        if verb == "create":
            responses["202"] = ("Accepted", schema)
        query = (*WRITE_PARAMS, "force") if verb == "patch" else WRITE_PARAMS
        return method, self._op(op_verb, words, description, action, query, responses, params,
                                body=PATCH if verb == "patch" else schema, gvk=gvk)

    def _watch(self, words, many, params):
        kind = self.info.kind
        if many:
            text = (f"watch individual changes to a list of {kind}. deprecated: use the 'watch' "
                    "parameter with a list operation instead.")
        else:
            text = (f"watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with "
                    "a list operation instead, filtered to a single item with the 'fieldSelector' parameter.")
        return self._op("watch", words, text, "watchlist" if many else "watch", LIST_PARAMS,
                        {"200": ("OK", WATCH_EVENT)}, params, watch=True)

    def _parameter(self, name: str) -> dict:
        if name in DELETE_FIELDS:
            field = self.delete_fields[name]
            return {"name": name, "in": "query", "description": field.get("description", ""),
                    "type": field["type"], "uniqueItems": True}
        return _query(name)

    def _op(self, verb, words, description, action, query, responses, path_params=(), *, body=None,
            gvk=None, watch=False, produces=None, consumes=None):
        info = self.info
        params = [*path_params, _query("pretty"),
                  *(self._parameter(n) for n in query if n not in DELETE_FIELDS or n in self.delete_fields)]
        if body:
            params.insert(0, _body(body, required=body != DELETE_OPTIONS))
        out = {code: {"description": text, "schema": {"type": STRING} if schema == STRING else _ref(schema)}
               for code, (text, schema) in responses.items()}
        out["401"] = UNAUTHORIZED
        return {
            "description": description,
            "consumes": consumes or (self.patch_media if verb == "patch" else self.write_media),
            "produces": list(produces or self.media) + (self.watch_media if watch else []),
            "schemes": ["https"],
            "tags": [_group_words(info.group, info.version, False)],
            "operationId": f"{verb}{_group_words(info.group, info.version, True)}{words}",
            "parameters": params,
            "responses": out,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk or _gvk(info.group, info.version, info.kind),
        }


def _discovery_op(op_id: str, tags: list[str], description: str, schema: str,
                  media: list[str] = BUILTIN_MEDIA) -> dict:
    return {"description": description, "consumes": media, "produces": media, "schemes": ["https"],
            "tags": tags, "operationId": op_id, "parameters": [],
            "responses": {"200": {"description": "OK", "schema": _ref(schema)}, "401": UNAUTHORIZED}}


def _hoist_common(item: dict) -> dict:
    """Move the non-body parameters every operation of a path shares to the path, as kube does."""
    ops = list(item.values())
    first = [p for p in ops[0]["parameters"] if p["in"] != "body"]
    common = [p for p in first if all(p in op["parameters"] for op in ops[1:])]
    if not common:
        return item
    out = {method: {**op, "parameters": [p for p in op["parameters"] if p not in common]}
           for method, op in item.items()}
    out["parameters"] = sorted(common, key=lambda p: (p["in"] != "path", p["name"]))
    return out
