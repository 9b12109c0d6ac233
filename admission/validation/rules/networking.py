"""The rules of networking.k8s.io (pkg/apis/networking/validation): Ingresses, their hosts, paths
and backends.
"""
from __future__ import annotations

from admission.gofmt import Go
from admission.validation.fielderrors import Causes, child
from admission.validation.names import (is_dns1035_label, is_dns1123_subdomain, is_ip, is_valid_port_name,
                                        is_valid_port_num, is_wildcard_dns1123_subdomain)
from admission.validation.objects import as_dict, as_list

_INGRESS_PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]


def _ingress_host(c: Causes, host: str, path: str) -> None:
    check = is_wildcard_dns1123_subdomain if "*" in host else is_dns1123_subdomain
    c.check(path, host, check)


def _ingress_backend(c: Causes, backend: dict, path: str) -> None:
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        c.invalid(path, "", "cannot set both resource and service backends")
        return
    if resource is not None:
        resource = as_dict(resource)
        for field in ("kind", "name"):
            if not resource.get(field):
                c.required(child(path, "resource", field))
        return
    if service is None:
        c.invalid(path, "", "resource or service backend is required")
        return
    service = as_dict(service)
    if not service.get("name"):
        c.required(child(path, "service", "name"))
    else:
        c.check(child(path, "service", "name"), service["name"], is_dns1035_label)
    port = as_dict(service.get("port"))
    if port.get("name") and port.get("number"):
        c.invalid(path, "", "cannot set both port name & port number")
    elif port.get("name"):
        c.check(child(path, "service", "port", "name"), port["name"], is_valid_port_name)
    elif port.get("number"):
        c.check(child(path, "service", "port", "number"), port["number"], is_valid_port_num)
    else:
        c.required(path, "port name or number is required")


def _ingress_path(c: Causes, item: dict, path: str) -> None:
    kind, value = item.get("pathType"), item.get("path") or ""
    if kind is None:
        c.required(child(path, "pathType"), "pathType must be specified")
        return
    if kind in ("Exact", "Prefix"):
        if not value.startswith("/"):
            c.invalid(child(path, "path"), value, "must be an absolute path")
        for bad in ("//", "/./", "/../", "%2f", "%2F"):
            if bad in value:
                c.invalid(child(path, "path"), value, f"must not contain '{bad}'")
        for bad in ("/..", "/."):
            if value.endswith(bad):
                c.invalid(child(path, "path"), value, f"cannot end with '{bad}'")
    elif kind == "ImplementationSpecific":
        if value and not value.startswith("/"):
            c.invalid(child(path, "path"), value, "must be an absolute path")
    else:
        c.not_supported(child(path, "pathType"), kind, _INGRESS_PATH_TYPES)
    _ingress_backend(c, as_dict(item.get("backend")), child(path, "backend"))


def validate_ingress(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    rules = as_list(spec.get("rules"))
    if not rules and spec.get("defaultBackend") is None:
        shown = "[]networking.IngressRule(nil)" if spec.get("rules") is None else "[]networking.IngressRule{}"
        c.invalid("spec", Go(shown), "either `defaultBackend` or `rules` must be specified")
    if isinstance(spec.get("defaultBackend"), dict):
        _ingress_backend(c, spec["defaultBackend"], "spec.defaultBackend")
    for i, rule in enumerate(rules):
        rule, at = as_dict(rule), child("spec.rules", i)
        host = rule.get("host") or ""
        if host:
            if is_ip(host):
                c.invalid(child(at, "host"), host, "must be a DNS name, not an IP address")
            _ingress_host(c, host, child(at, "host"))
        http = rule.get("http")
        if isinstance(http, dict):
            paths = as_list(http.get("paths"))
            if not paths:
                c.required(child(at, "http", "paths"))
            for j, item in enumerate(paths):
                _ingress_path(c, as_dict(item), child(at, "http", "paths", j))
    for i, tls in enumerate(as_list(spec.get("tls"))):
        for j, host in enumerate(as_list(as_dict(tls).get("hosts"))):
            _ingress_host(c, str(host), child("spec.tls", i, "hosts", j))
    if spec.get("ingressClassName") is not None:
        c.check("spec.ingressClassName", spec["ingressClassName"], is_dns1123_subdomain)
