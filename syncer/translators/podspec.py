"""A virtual pod's spec rewritten to run on the host.

References to other synced objects (ConfigMaps, Secrets, PVCs, ServiceAccounts, PriorityClasses)
take their host names; the pod reaches this server rather than the host's (KUBERNETES_SERVICE_*),
its service-account tokens come from a host Secret the syncer keeps fresh, what the downward API
would say of the host copy (name, namespace, uid) is read from the annotations that name the
virtual pod; affinity and spread selectors are narrowed to this cluster's namespace; images,
tolerations and node selectors follow the configuration.
"""
from __future__ import annotations

import copy

from .. import names
from .common import narrowed

CONTAINER_KINDS = ("initContainers", "containers", "ephemeralContainers")
# The downward API's view of the virtual pod, read from the host copy's annotations.
FIELD_PATHS = {"metadata.name": f"metadata.annotations['{names.OBJECT_NAME}']",
               "metadata.namespace": f"metadata.annotations['{names.OBJECT_NAMESPACE}']",
               "metadata.uid": f"metadata.annotations['{names.OBJECT_UID}']"}
TOKEN_KEY = "token-{}"


def translate_image(image: str, table: dict) -> str:
    """vcluster's translateImage: a whole image, or its name without the tag, mapped."""
    if image in table:
        return table[image]
    name, sep, tag = image.rpartition(":")
    if sep and "/" not in tag and name in table:
        return f"{table[name]}:{tag}"
    return image


def images(spec: dict, table: dict) -> dict[tuple[str, int], str]:
    return {(kind, i): translate_image(c.get("image", ""), table)
            for kind in CONTAINER_KINDS for i, c in enumerate(spec.get(kind) or [])}


def _parse_toleration(text: str) -> dict:
    """`key=value:Effect`, `key:Effect`, `key` (vcluster's enforceTolerations form)."""
    toleration: dict = {}
    head, _, effect = text.partition(":")
    if effect:
        toleration["effect"] = effect
    key, eq, value = head.partition("=")
    toleration["key"] = key
    if eq:
        toleration.update(operator="Equal", value=value)
    else:
        toleration["operator"] = "Exists"
    return toleration


def enforced_tolerations(settings: dict) -> list[dict]:
    return [t if isinstance(t, dict) else _parse_toleration(str(t)) for t in settings.get("enforceTolerations") or []]


class PodSpec:
    def __init__(self, ctx, settings: dict):
        self.ctx, self.settings = ctx, settings

    def _name(self, name: str, namespace: str) -> str:
        return self.ctx.host_name(name, namespace)

    def host_spec(self, pod: dict, token_secret: str | None, token_sources: list[tuple[int, int]]) -> dict:
        """The host copy's spec; `token_sources` are the (volume, source) positions of the
        serviceAccountToken sources the token Secret holds, in its key order."""
        namespace = pod["metadata"]["namespace"]
        spec = copy.deepcopy(pod.get("spec") or {})
        for key in ("serviceAccount", "priority", "preemptionPolicy", "schedulerName", "runtimeClassName"):
            spec.pop(key, None)
        sa = spec.pop("serviceAccountName", None)
        if sa and self.ctx.config.enabled("toHost", "serviceAccounts"):
            spec["serviceAccountName"] = self._name(sa, namespace)
        spec["automountServiceAccountToken"] = False   # the host's own token must not reach the pod
        spec["enableServiceLinks"] = False             # nor the host's services' variables
        priority_class = spec.pop("priorityClassName", None)
        if priority_class and (priority_class.startswith("system-")
                               or self.ctx.config.enabled("toHost", "priorityClasses")):
            spec["priorityClassName"] = priority_class if priority_class.startswith("system-") \
                else self.ctx.host_name(priority_class, None)
        spec.setdefault("hostname", pod["metadata"]["name"][:63].rstrip("-."))
        for secret in spec.get("imagePullSecrets") or []:
            if secret.get("name"):
                secret["name"] = self._name(secret["name"], namespace)
        table = self.settings.get("translateImage") or {}
        for kind in CONTAINER_KINDS:
            for container in spec.get(kind) or []:
                container["image"] = translate_image(container.get("image", ""), table)
                self._container(container, namespace)
        tokens = dict(((v, s), i) for i, (v, s) in enumerate(token_sources))
        for v, volume in enumerate(spec.get("volumes") or []):
            self._volume(volume, namespace, v, tokens, token_secret)
        self._placement(spec, namespace)
        self._dns(spec, namespace)
        return spec

    def _container(self, container: dict, namespace: str) -> None:
        host, port = self.ctx.advertise
        env = [e for e in container.get("env") or [] if not e.get("name", "").startswith("KUBERNETES_")]
        for e in env:
            source = e.get("valueFrom") or {}
            for ref_kind in ("configMapKeyRef", "secretKeyRef"):
                if source.get(ref_kind, {}).get("name"):
                    source[ref_kind]["name"] = self._name(source[ref_kind]["name"], namespace)
            field = source.get("fieldRef")
            if field and field.get("fieldPath") in FIELD_PATHS:
                field["fieldPath"] = FIELD_PATHS[field["fieldPath"]]
        # The virtual pod's view of its API server: this server, as the host's pods reach it.
        env.extend([{"name": "KUBERNETES_SERVICE_HOST", "value": host},
                    {"name": "KUBERNETES_SERVICE_PORT", "value": str(port)},
                    {"name": "KUBERNETES_SERVICE_PORT_HTTPS", "value": str(port)},
                    {"name": "KUBERNETES_PORT", "value": f"tcp://{host}:{port}"},
                    {"name": f"KUBERNETES_PORT_{port}_TCP", "value": f"tcp://{host}:{port}"},
                    {"name": f"KUBERNETES_PORT_{port}_TCP_PROTO", "value": "tcp"},
                    {"name": f"KUBERNETES_PORT_{port}_TCP_PORT", "value": str(port)},
                    {"name": f"KUBERNETES_PORT_{port}_TCP_ADDR", "value": host}])
        container["env"] = env
        for source in container.get("envFrom") or []:
            for ref_kind in ("configMapRef", "secretRef"):
                if source.get(ref_kind, {}).get("name"):
                    source[ref_kind]["name"] = self._name(source[ref_kind]["name"], namespace)

    def _volume(self, volume: dict, namespace: str, index: int, tokens: dict, token_secret: str | None) -> None:
        if volume.get("configMap", {}).get("name"):
            volume["configMap"]["name"] = self._name(volume["configMap"]["name"], namespace)
        if volume.get("secret", {}).get("secretName"):
            volume["secret"]["secretName"] = self._name(volume["secret"]["secretName"], namespace)
        if volume.get("persistentVolumeClaim", {}).get("claimName"):
            claim = volume["persistentVolumeClaim"]
            claim["claimName"] = self._name(claim["claimName"], namespace)
        for item in (volume.get("downwardAPI") or {}).get("items") or []:
            self._field_item(item)
        sources = (volume.get("projected") or {}).get("sources") or []
        for s, source in enumerate(sources):
            if source.get("configMap", {}).get("name"):
                source["configMap"]["name"] = self._name(source["configMap"]["name"], namespace)
            if source.get("secret", {}).get("name"):
                source["secret"]["name"] = self._name(source["secret"]["name"], namespace)
            for item in (source.get("downwardAPI") or {}).get("items") or []:
                self._field_item(item)
            if "serviceAccountToken" in source and (index, s) in tokens and token_secret:
                token = source.pop("serviceAccountToken")
                source["secret"] = {"name": token_secret, "items": [
                    {"key": TOKEN_KEY.format(tokens[(index, s)]), "path": token.get("path", "token")}]}

    @staticmethod
    def _field_item(item: dict) -> None:
        field = item.get("fieldRef")
        if field and field.get("fieldPath") in FIELD_PATHS:
            field["fieldPath"] = FIELD_PATHS[field["fieldPath"]]

    def _placement(self, spec: dict, namespace: str) -> None:
        enforced = enforced_tolerations(self.settings)
        if enforced:
            spec["tolerations"] = [*(spec.get("tolerations") or []),
                                   *(t for t in enforced if t not in (spec.get("tolerations") or []))]
        selector = self.settings.get("enforceNodeSelector") or {}
        if selector:
            spec["nodeSelector"] = {**(spec.get("nodeSelector") or {}), **selector}
        # Selectors of other pods mean this virtual namespace's pods, not the host namespace's;
        # a term about other namespaces keeps its own reach.
        affinity = spec.get("affinity") or {}
        terms = []
        for kind in ("podAffinity", "podAntiAffinity"):
            given = affinity.get(kind) or {}
            terms += given.get("requiredDuringSchedulingIgnoredDuringExecution") or []
            terms += [w["podAffinityTerm"] for w in given.get("preferredDuringSchedulingIgnoredDuringExecution") or []
                      if w.get("podAffinityTerm")]
        for term in terms:
            if not term.get("namespaces") and term.get("namespaceSelector") is None:
                term["labelSelector"] = narrowed(term.get("labelSelector"), self.ctx.vc, namespace)
        for constraint in spec.get("topologySpreadConstraints") or []:
            if constraint.get("labelSelector") is not None:
                constraint["labelSelector"] = narrowed(constraint["labelSelector"], self.ctx.vc, namespace)

    def _dns(self, spec: dict, namespace: str) -> None:
        nameservers = (self.settings.get("dns") or {}).get("nameservers") or []
        if not nameservers or spec.get("dnsPolicy", "ClusterFirst") not in ("ClusterFirst", "ClusterFirstWithHostNet"):
            return
        given = spec.get("dnsConfig") or {}
        spec["dnsPolicy"] = "None"
        spec["dnsConfig"] = {
            "nameservers": [*nameservers, *(given.get("nameservers") or [])][:3],
            "searches": [f"{namespace}.svc.cluster.local", "svc.cluster.local", "cluster.local",
                         *(given.get("searches") or [])],
            "options": given.get("options") or [{"name": "ndots", "value": "5"}]}


def token_sources(pod: dict) -> list[tuple[int, int, dict]]:
    """(volume index, source index, serviceAccountToken) of every projected token the pod asks for."""
    found = []
    for v, volume in enumerate((pod.get("spec") or {}).get("volumes") or []):
        for s, source in enumerate((volume.get("projected") or {}).get("sources") or []):
            if "serviceAccountToken" in source:
                found.append((v, s, source["serviceAccountToken"]))
    return found
