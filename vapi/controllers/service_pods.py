"""What a Service's endpoints are made of, answered once for the Endpoints and EndpointSlice
controllers (kube's `endpointutil` and `podutil.FindPort`): which services select a pod, which
pods belong in endpoints, the port a service port reaches on a pod, and when the set last changed.
"""
from __future__ import annotations

from collections.abc import Iterable

from .. import errors
from ..registry import selectors
from .pods import pod_condition

SERVICE_NAME = "kubernetes.io/service-name"
HEADLESS = "service.kubernetes.io/headless"
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"


def service_selector(svc: dict) -> selectors.LabelSelector | None:
    """The pods a Service picks, or None for a Service without a selector (its endpoints are the
    user's business) and for ExternalName services."""
    spec = svc.get("spec") or {}
    if not spec.get("selector") or spec.get("type") == "ExternalName":
        return None
    return selectors.label_selector_from_object({"matchLabels": spec["selector"]})


def services_selecting(services: Iterable[dict], pod: dict) -> Iterable[tuple[str, str]]:
    """Keys of the services whose selector matches `pod`'s labels."""
    labels = pod["metadata"].get("labels") or {}
    for svc in services:
        selector = service_selector(svc)
        if selector is not None and selector.matches(labels):
            yield svc["metadata"]["namespace"], svc["metadata"]["name"]


def watch_selected_pods(reconciler) -> None:
    """Have a Service reconciler hear of every change of the pods its Services select (before
    and after the change)."""
    services = reconciler.cache("", "v1", "services")
    reconciler.watch("", "v1", "pods", lambda pod: services_selecting(services.list(pod["metadata"]["namespace"]), pod))


def selected_pods(pods: Iterable[dict], svc: dict) -> list[dict]:
    selector = service_selector(svc)
    if selector is None:
        return []
    return sorted((p for p in pods if selector.matches(p["metadata"].get("labels") or {})),
                  key=lambda p: p["metadata"]["name"])


def pod_ip(pod: dict) -> str:
    status = pod.get("status") or {}
    return status.get("podIP") or next((ip.get("ip") for ip in status.get("podIPs") or [] if ip.get("ip")), "")


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def should_be_in_endpoints(pod: dict, include_terminating: bool) -> bool:
    """A pod with an IP that has not finished; one being deleted only when asked for."""
    if is_terminal(pod) or not pod_ip(pod):
        return False
    return include_terminating or not pod["metadata"].get("deletionTimestamp")


def should_set_hostname(pod: dict, svc: dict) -> bool:
    spec = pod.get("spec") or {}
    return bool(spec.get("hostname")) and spec.get("subdomain") == svc["metadata"]["name"] and \
        pod["metadata"].get("namespace") == svc["metadata"].get("namespace")


def find_port(pod: dict, svc_port: dict) -> int | None:
    """The pod port a service port's targetPort names: a number as it is, a name looked up among
    the containers' ports of the same protocol; None when the pod has no such named port."""
    target = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = svc_port.get("protocol") or "TCP"
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return port.get("containerPort")
    return None


def served_ports(pod: dict, svc: dict) -> list[dict]:
    """The service's ports whose target resolves on `pod`, as {name, port, protocol, appProtocol?}
    with the pod's port number; a port the pod lacks is left out."""
    ports = []
    for svc_port in (svc.get("spec") or {}).get("ports") or []:
        number = find_port(pod, svc_port)
        if number is None:
            continue
        port = {"name": svc_port.get("name", ""), "port": number, "protocol": svc_port.get("protocol") or "TCP"}
        if svc_port.get("appProtocol"):
            port["appProtocol"] = svc_port["appProtocol"]
        ports.append(port)
    return ports


def target_ref(pod: dict) -> dict:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}


def trigger_time(svc: dict, pods: Iterable[dict]) -> str:
    """When the endpoints last had cause to change: the latest Ready transition of a selected pod
    or the Service's creation (kube's trigger-time tracker, as one value)."""
    times = [svc["metadata"].get("creationTimestamp") or ""]
    for pod in pods:
        ready = pod_condition(pod, "Ready")
        times.append((ready or {}).get("lastTransitionTime") or pod["metadata"].get("creationTimestamp") or "")
    return max(times)


def endpoint_labels(svc: dict) -> dict:
    """The Service's labels, marked headless for a Service without a cluster IP."""
    labels = dict(svc["metadata"].get("labels") or {})
    if (svc.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS] = ""
    return labels


async def create_unless_terminating(api, info, namespace: str, obj: dict, namespaces) -> dict | None:
    """Create `obj`; None when its namespace is being deleted (creates there keep failing, so the
    work is dropped, as kube's endpoint controllers drop it)."""
    try:
        return await api.create(info, namespace, obj)
    except errors.StatusError as e:
        ns = namespaces.get(None, namespace)
        if e.code == 403 and (ns is None or ns["metadata"].get("deletionTimestamp")):
            return None
        raise
