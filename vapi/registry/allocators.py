"""Service cluster IPs and node ports, allocated as kube-apiserver's allocators do.

The set in use is read from the stored services at allocation time: a small cluster has few
services, and reading them avoids a second source of truth that could drift after a crash.
"""
from __future__ import annotations

import ipaddress
import random

from .. import errors

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
KUBERNETES_SERVICE_IP = "10.96.0.1"
NODE_PORT_RANGE = (30000, 32767)


def _in_use(api) -> tuple[set[str], set[int]]:
    ips, ports = set(), set()
    for svc in api.each(api.registry.get("", "v1", "services"))[1]:
        spec = svc.get("spec", {})
        ips.update(spec.get("clusterIPs") or [spec.get("clusterIP")])
        ports.update(p.get("nodePort") for p in spec.get("ports", []) if p.get("nodePort"))
    return ips, ports


def _invalid(api, obj, field, value, why):
    info = api.registry.get("", "v1", "services")
    name = obj["metadata"].get("name", "")
    cause = {"reason": "FieldValueInvalid", "message": f"Invalid value: {value!r}: {why}".replace("'", '"'),
             "field": field}
    return errors.invalid(info, "Service", name, [cause],
                          f'Service "{name}" is invalid: {field}: {cause["message"]}')


def allocate_service(api, svc: dict) -> None:
    spec = svc.setdefault("spec", {})
    svc_type = spec.get("type", "ClusterIP")
    if svc_type == "ExternalName":
        return
    ips, ports = _in_use(api)
    wanted = spec.get("clusterIP")
    if wanted == "None":
        spec["clusterIPs"] = ["None"]
    elif wanted:
        try:
            in_range = ipaddress.ip_address(wanted) in SERVICE_CIDR
        except ValueError:
            in_range = False
        if not in_range:
            raise _invalid(api, svc, "spec.clusterIPs", wanted,
                           f"failed to allocate IP {wanted}: the provided IP ({wanted}) is not in the "
                           f"valid range. The range of valid IPs is {SERVICE_CIDR}")
        if wanted in ips:
            raise _invalid(api, svc, "spec.clusterIPs", [wanted],
                           f"failed to allocate IP {wanted}: provided IP is already allocated")
        spec["clusterIPs"] = [wanted]
    else:
        # Skip the network address and the address reserved for the `kubernetes` service.
        size = SERVICE_CIDR.num_addresses
        for _ in range(64):
            candidate = str(SERVICE_CIDR[random.randrange(2, size - 1)])
            if candidate not in ips:
                break
        else:
            candidate = next(str(SERVICE_CIDR[i]) for i in range(2, size - 1) if str(SERVICE_CIDR[i]) not in ips)
        spec["clusterIP"] = candidate
        spec["clusterIPs"] = [candidate]
    if svc_type in ("NodePort", "LoadBalancer"):
        for port in spec.get("ports", []):
            if port.get("nodePort"):
                if port["nodePort"] in ports:
                    raise _invalid(api, svc, "spec.ports[].nodePort", port["nodePort"],
                                   "provided port is already allocated")
                continue
            free = [p for p in range(*NODE_PORT_RANGE) if p not in ports]
            port["nodePort"] = random.choice(free)
            ports.add(port["nodePort"])
