"""Schemas of the built-in kinds, read from kubernetes-validate's definitions.

kubernetes-validate ships, for every Kubernetes release, the API's definitions as JSON Schema
(`type: [T, "null"]`, `$ref: #/$defs/...`, `oneOf` for int-or-string). We turn them back into the
OpenAPI form kube-apiserver publishes (`type: T`, `#/definitions/...`, `format: int-or-string`), so
one normalized copy serves validation, patch strategies, `kubectl explain` and the OpenAPI
documents alike.
"""
from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import orjson

DEFAULT_VERSION = "1.33"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_DIR_RE = re.compile(r"^v(\d+)\.(\d+)\.\d+-local$")

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


@functools.cache
def _schema_root() -> Path:
    # Found, not imported: the package's own code pulls in jsonschema, which nothing here uses.
    spec = importlib.util.find_spec("kubernetes_validate")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


@functools.cache
def available_versions() -> tuple[str, ...]:
    found = []
    for entry in _schema_root().iterdir():
        m = _DIR_RE.match(entry.name)
        if m:
            found.append((int(m.group(1)), int(m.group(2))))
    return tuple(f"{a}.{b}" for a, b in sorted(found))


def _normalize(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "type" and isinstance(value, list):
                value = next(t for t in value if t != "null")
            elif key == "$ref" and isinstance(value, str):
                value = value.replace("#/$defs/", "#/definitions/")
            else:
                value = _normalize(value)
            out[key] = value
        return out
    if isinstance(node, list):
        return [_normalize(v) for v in node]
    return node


class Schemas:
    """The definitions of one Kubernetes release, indexed by group/version/kind."""

    def __init__(self, version: str = DEFAULT_VERSION):
        if version not in available_versions():
            raise ValueError(f"no schemas for Kubernetes {version}; "
                             f"available: {', '.join(available_versions())}")
        self.version = version
        path = _schema_root() / f"v{version}.0-local" / "_definitions.json"
        raw = orjson.loads(path.read_bytes())["$defs"]
        self.definitions: dict[str, dict] = {}
        self._by_gvk: dict[tuple[str, str, str], str] = {}
        for name, schema in raw.items():
            schema = _normalize(schema)
            gvks = schema.get("x-kubernetes-group-version-kind", [])
            for gvk in gvks:
                self._by_gvk[(gvk["group"], gvk["version"], gvk["kind"])] = name
            if len(gvks) == 1:
                # kubernetes-validate pins apiVersion/kind with an enum; the published API does not.
                for field in ("apiVersion", "kind"):
                    schema.get("properties", {}).get(field, {}).pop("enum", None)
            self.definitions[name] = schema
        # The published OpenAPI describes these as strings with a format, not as a oneOf.
        for name, fmt in ((INT_OR_STRING, "int-or-string"), (QUANTITY, None)):
            if name in self.definitions:
                fixed = {"type": "string", "description": self.definitions[name].get("description", "")}
                if fmt:
                    fixed["format"] = fmt
                self.definitions[name] = fixed

    @functools.cached_property
    def object_meta_fields(self) -> frozenset[str]:
        """The fields Go's ObjectMeta has in this release: a custom resource's metadata keeps only these."""
        return frozenset(self.definitions[OBJECT_META]["properties"])

    def name_for(self, group: str, version: str, kind: str) -> str | None:
        return self._by_gvk.get((group, version, kind))

    def for_kind(self, group: str, version: str, kind: str) -> dict | None:
        name = self.name_for(group, version, kind)
        return self.definitions[name] if name else None

    def resolve(self, schema: dict) -> dict:
        """Follow `$ref` (and the single-entry allOf wrapper) to the schema it names."""
        while True:
            ref = schema.get("$ref")
            if ref:
                schema = self.definitions.get(ref.rsplit("/", 1)[-1], {})
                continue
            all_of = schema.get("allOf")
            if all_of and len(all_of) == 1:
                schema = all_of[0]
                continue
            return schema


@functools.cache
def load(version: str = DEFAULT_VERSION) -> Schemas:
    return Schemas(version)
