"""metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics: answered on each read, never stored.

vapi serves the resource metrics API itself, where a cluster runs metrics-server behind an
APIService: the objects are built from the pods and nodes as stored now and the usage `usage.py`
simulates for them, shaped as metrics-server shapes them (its object metadata: name, namespace,
the time of the read, the measured object's labels; `timestamp` and `window` of the sample).
Pods and nodes are read through the pipeline as given, so label and field selectors mean what
they mean on pods and nodes.
"""
from __future__ import annotations

import dataclasses

from ... import errors
from .. import usage
from .base import Strategy, now_rfc3339

GROUP_VERSION = "metrics.k8s.io/v1beta1"
# metrics-server's default resolution: the span its CPU figures are averaged over.
WINDOW = "15s"


def _node_ready(node: dict) -> bool:
    """A node is measured while its kubelet answers: its Ready condition True."""
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


META = "io.k8s.apimachinery.pkg.apis.meta.v1."
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def _ref(name: str, description: str = "") -> dict:
    return {"$ref": f"#/definitions/{name}", **({"description": description} if description else {})}


def _object(description: str, properties: dict, required: list[str], gvk: tuple | None = None) -> dict:
    schema = {"description": description, "type": "object", "properties": {
        "apiVersion": {"description": "APIVersion defines the versioned schema of this representation of an "
                                      "object.", "type": "string"},
        "kind": {"description": "Kind is a string value representing the REST resource this object represents.",
                 "type": "string"}, **properties}, "required": required}
    if gvk:
        schema["x-kubernetes-group-version-kind"] = [{"group": gvk[0], "version": gvk[1], "kind": gvk[2]}]
    return schema


class MetricsStrategy(Strategy):
    stores = False
    computed = True

    def definitions(self) -> dict[str, dict]:
        """OpenAPI definitions of the kind and its list, named as metrics-server publishes them."""
        name, info = self.info.schema_name, self.info
        group, version = info.group, info.version
        usage = {"description": "The memory and CPU usage measured over the window.", "type": "object",
                 "additionalProperties": _ref(QUANTITY)}
        sample = {"metadata": _ref(META + "ObjectMeta", "Standard object's metadata."),
                  "timestamp": _ref(META + "Time", "The time the usage was measured at, the end of the window."),
                  "window": {"description": "The span the usage was averaged over.", "type": "string"}}
        prefix = name.rsplit(".", 1)[0]
        if info.namespaced:
            definitions = {
                f"{prefix}.ContainerMetrics": {
                    "description": "ContainerMetrics sets resource usage metrics of a container.", "type": "object",
                    "properties": {"name": {"description": "Container name corresponding to the one from pod.spec."
                                            "containers.", "type": "string"}, "usage": usage},
                    "required": ["name", "usage"]},
                name: _object("PodMetrics sets resource usage metrics of a pod.", {
                    **sample, "containers": {"description": "Metrics for all containers are collected within the "
                                             "same time window.", "type": "array",
                                             "items": _ref(f"{prefix}.ContainerMetrics")}},
                    ["timestamp", "window", "containers"], (group, version, info.kind))}
        else:
            definitions = {name: _object("NodeMetrics sets resource usage metrics of a node.",
                                         {**sample, "usage": usage}, ["timestamp", "window", "usage"],
                                         (group, version, info.kind))}
        definitions[name + "List"] = _object(f"{info.kind}List is a list of {info.kind}.", {
            "metadata": _ref(META + "ListMeta", "Standard list metadata."),
            "items": {"description": f"List of {info.kind.lower()}.", "type": "array", "items": _ref(name)}},
            ["items"], (group, version, info.kind + "List"))
        return definitions

    def _meta(self, obj: dict, now: str) -> dict:
        meta = obj["metadata"]
        out = {"name": meta["name"]}
        if self.info.namespaced:
            out["namespace"] = meta.get("namespace")
        out["creationTimestamp"] = now
        if meta.get("labels"):
            out["labels"] = meta["labels"]
        return out

    def _pod_metrics(self, pod: dict, now: str) -> dict:
        return {"kind": self.info.kind, "apiVersion": GROUP_VERSION, "metadata": self._meta(pod, now),
                "timestamp": now, "window": WINDOW,
                "containers": [{"name": name, "usage": usage.render(used)} for name, used in usage.pod_usage(pod)]}

    def _node_metrics(self, node: dict, pods: list[dict], now: str) -> dict:
        return {"kind": self.info.kind, "apiVersion": GROUP_VERSION, "metadata": self._meta(node, now),
                "timestamp": now, "window": WINDOW, "usage": usage.render(usage.node_usage(pods))}

    def _pods(self, api):
        return api.registry.get("", "v1", "pods")

    def _measured(self, api, namespace: str | None, opts) -> list[dict]:
        """The measured objects (pods or nodes) the list selects."""
        plural = "pods" if self.info.namespaced else "nodes"
        # Everything at once, as metrics-server answers from its cache: no pages, no versions.
        opts = dataclasses.replace(opts, limit=0, continue_token="", resource_version="",
                                   resource_version_match="")
        found = api.list(api.registry.get("", "v1", plural), namespace, opts)["items"]
        return [o for o in found if (usage.has_metrics(o) if self.info.namespaced else _node_ready(o))]

    def _on_nodes(self, api, nodes: list[dict]) -> dict[str, list[dict]]:
        wanted = {n["metadata"]["name"]: [] for n in nodes}
        for pod in api.list(self._pods(api), None)["items"]:
            on = (pod.get("spec") or {}).get("nodeName")
            if on in wanted:
                wanted[on].append(pod)
        return wanted

    def _not_found(self, resource: str, name: str) -> errors.StatusError:
        """metrics-server's words: the measured object's own NotFound when it is missing
        (`pods "ns/name"`), the metrics' (`podmetrics.metrics.k8s.io "ns/name"`) when it has none."""
        plural, _, group = resource.partition(".")
        details = {"name": name, "group": group, "kind": plural} if group else {"name": name, "kind": plural}
        return errors.StatusError(404, "NotFound", f'{resource} "{name}" not found', details)

    def read(self, api, namespace: str | None, name: str) -> dict:
        now = now_rfc3339()
        if self.info.namespaced:
            pod = api.lookup(self._pods(api), namespace, name)
            if pod is None:
                raise self._not_found("pods", f"{namespace}/{name}")
            if not usage.has_metrics(pod):
                raise self._not_found("podmetrics.metrics.k8s.io", f"{namespace}/{name}")
            return self._pod_metrics(pod, now)
        node = api.lookup(api.registry.get("", "v1", "nodes"), None, name)
        if node is None:
            raise self._not_found("nodes", name)
        if not _node_ready(node):
            raise self._not_found("nodemetrics.metrics.k8s.io", name)
        return self._node_metrics(node, self._on_nodes(api, [node])[name], now)

    def read_list(self, api, namespace: str | None, opts) -> dict:
        now = now_rfc3339()
        measured = self._measured(api, namespace, opts)
        if self.info.namespaced:
            items = [self._pod_metrics(pod, now) for pod in measured]
        else:
            pods = self._on_nodes(api, measured)
            items = [self._node_metrics(node, pods[node["metadata"]["name"]], now) for node in measured]
        return {"kind": f"{self.info.kind}List", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items}
