"""The printers of networking.k8s.io and discovery.k8s.io."""
from __future__ import annotations

from .cells import (AGE, Column, Doc, NAME, NONE, Printer, field, format_label_selector, list_with_more,
                    load_balancer, printer, value_at)


def _ingress_hosts(o, now):
    rules = value_at(o, "spec.rules") or []
    hosts, more = [], False
    # Upstream stops at three hosts, then counts every rule past the third, hosted or not.
    for rule in rules:
        more = more or len(hosts) == 3
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    return f"{','.join(hosts)} + {len(rules) - 3} more..." if more else ",".join(hosts)


def _ingress_class_parameters(o, now):
    params = value_at(o, "spec.parameters")
    if not params:
        return NONE
    kind = params.get("kind", "") + (f".{params['apiGroup']}" if params.get("apiGroup") is not None else "")
    return f"{kind}/{params.get('name', '')}"


def _slice_port(p: dict) -> str:
    if p.get("port") is not None:
        return str(p["port"])
    return p["name"] if p.get("name") is not None else "*"


def _ip_parent(o, now):
    ref = value_at(o, "spec.parentRef")
    if not ref:
        return NONE
    resource = ref.get("resource", "") + (f".{ref['group']}" if ref.get("group") else "")
    namespace = f"/{ref['namespace']}" if ref.get("namespace") else ""
    return f"{resource.lower()}{namespace}/{ref.get('name', '')}"


PRINTERS: dict[tuple[str, str], Printer] = {
    ("networking.k8s.io", "ingresses"): printer(
        NAME, Column("Class", field("spec.ingressClassName", NONE),
                     "The name of the IngressClass resource that should be used for additional configuration"),
        Column("Hosts", _ingress_hosts, "Hosts that incoming requests are matched against before the ingress rule"),
        Column("Address", lambda o, now: load_balancer(value_at(o, "status.loadBalancer")),
               "Address is a list containing ingress points for the load-balancer"),
        Column("Ports", lambda o, now: "80, 443" if value_at(o, "spec.tls") else "80",
               "Ports of TLS configurations that open"),
        AGE),
    ("networking.k8s.io", "ingressclasses"): printer(
        NAME, Column("Controller", field("spec.controller"),
                     "Controller that is responsible for handling this class"),
        Column("Parameters", _ingress_class_parameters, "A reference to a resource with additional parameters"),
        AGE),
    ("networking.k8s.io", "networkpolicies"): printer(
        NAME, Column("Pod-Selector", lambda o, now: format_label_selector(value_at(o, "spec.podSelector") or {}),
                     Doc("networking.v1.NetworkPolicySpec", "podSelector")), AGE),
    ("networking.k8s.io", "servicecidrs"): printer(
        NAME, Column("CIDRs", lambda o, now: ",".join(value_at(o, "spec.cidrs") or []),
                     Doc("networking.v1.ServiceCIDRSpec", "cidrs")), AGE),
    ("networking.k8s.io", "ipaddresses"): printer(
        NAME, Column("ParentRef", _ip_parent, Doc("networking.v1.IPAddressSpec", "parentRef"))),
    ("discovery.k8s.io", "endpointslices"): printer(
        NAME, Column("AddressType", field("addressType"), Doc("discovery.v1.EndpointSlice", "addressType")),
        Column("Ports", lambda o, now: list_with_more([_slice_port(p) for p in o.get("ports") or []]),
               Doc("discovery.v1.EndpointSlice", "ports")),
        Column("Endpoints", lambda o, now: list_with_more([a for e in o.get("endpoints") or []
                                                         for a in e.get("addresses") or []]),
               Doc("discovery.v1.EndpointSlice", "endpoints")), AGE),
}
