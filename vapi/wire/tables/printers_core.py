"""The printers of the core API group, and of events.k8s.io Events, which print as core Events."""
from __future__ import annotations

from .cells import (AGE, Cell, Column, Doc, META, NAME, NONE, Printer, UNKNOWN, UNSET, access_modes,
                    annotation_of, condition_of, count, field, labels_at, load_balancer, name_of, parse_time,
                    printer, since, template_columns, value_at)
from .pods import POD
from ...registry.strategies.event import as_core


def _cluster_ip(o, now):
    ips = value_at(o, "spec.clusterIPs") or [value_at(o, "spec.clusterIP")]
    return ips[0] or NONE


def _external_ip(o, now):
    spec = o.get("spec") or {}
    external = spec.get("externalIPs") or []
    kind = spec.get("type", "ClusterIP")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if kind == "LoadBalancer":
        balancer = load_balancer(value_at(o, "status.loadBalancer"))
        if external:
            return ",".join(([balancer] if balancer else []) + external)
        return balancer or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return UNKNOWN


def _service_ports(o, now):
    pieces = []
    for p in value_at(o, "spec.ports") or []:
        node_port = f":{p['nodePort']}" if p.get("nodePort") else ""
        pieces.append(f"{p.get('port', 0)}{node_port}/{p.get('protocol', 'TCP')}")
    return ",".join(pieces) or NONE


def _join_host_port(host: str, port) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoints(o, now):
    subsets = o.get("subsets") or []
    if not subsets:
        return NONE
    shown: list[str] = []
    total = 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        # Headless services may list addresses with no ports.
        for port in subset.get("ports") or [None]:
            total += len(addresses)
            for a in addresses:
                if len(shown) < 3:
                    ip = a.get("ip", "")
                    shown.append(ip if port is None else _join_host_port(ip, port.get("port", 0)))
    text = ",".join(shown)
    return f"{text} + {total - 3} more..." if total > 3 else text


def _node_status(o, now):
    ready = None
    # Upstream indexes the conditions by type: the last Ready condition wins.
    for condition in value_at(o, "status.conditions") or []:
        if condition.get("type") == "Ready":
            ready = condition
    words = ["Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"]
    if value_at(o, "spec.unschedulable"):
        words.append("SchedulingDisabled")
    return ",".join(words)


def _node_roles(o, now):
    roles = set()
    for key, value in value_at(o, "metadata.labels", {}).items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or NONE


def _node_address(kind: str) -> Cell:
    def cell(o, now):
        return next((a.get("address") for a in value_at(o, "status.addresses") or [] if a.get("type") == kind), NONE)
    return cell


def _node_info(key: str) -> Cell:
    return lambda o, now: value_at(o, f"status.nodeInfo.{key}") or UNKNOWN


def _event_first_seen(e, now):
    first = e.get("firstTimestamp")
    return since(first if parse_time(first) else e.get("eventTime"), now)


def _event_last_seen(e, now):
    if e.get("series") is not None:
        return since(value_at(e, "series.lastObservedTime"), now)
    last = e.get("lastTimestamp")
    return since(last, now) if parse_time(last) else _event_first_seen(e, now)


def _event_count(e, now):
    if e.get("series") is not None:
        return value_at(e, "series.count", 0)
    # Singleton events of the events.k8s.io API carry no count.
    return e.get("count") or 1


def _event_object(e, now):
    kind, name = value_at(e, "involvedObject.kind", "").lower(), value_at(e, "involvedObject.name")
    return f"{kind}/{name}" if name else kind


def _event_source(e, now):
    component = value_at(e, "source.component") or e.get("reportingComponent") or ""
    instance = value_at(e, "source.host") or e.get("reportingInstance") or ""
    return f"{component}, {instance}" if instance else component



EVENT_COLUMNS = (
    Column("Last Seen", _event_last_seen, Doc("core.v1.Event", "lastTimestamp")),
    Column("Type", field("type"), Doc("core.v1.Event", "type")),
    Column("Reason", field("reason"), Doc("core.v1.Event", "reason")),
    Column("Object", _event_object, Doc("core.v1.Event", "involvedObject")),
    Column("Subobject", field("involvedObject.fieldPath"), Doc("core.v1.ObjectReference", "fieldPath"), priority=1),
    Column("Source", _event_source, Doc("core.v1.Event", "source"), priority=1),
    Column("Message", lambda e, now: (e.get("message") or "").strip(), Doc("core.v1.Event", "message")),
    Column("First Seen", _event_first_seen, Doc("core.v1.Event", "firstTimestamp"), priority=1),
    Column("Count", _event_count, Doc("core.v1.Event", "count"), priority=1),
    Column("Name", name_of, Doc(META, "name"), priority=1, format="name"),
)


def _storage_class_of(path: str) -> Cell:
    def cell(o, now):
        beta = annotation_of(o, "volume.beta.kubernetes.io/storage-class")
        return beta if beta is not None else value_at(o, path, "")
    return cell


def _phase(o, now):
    return "Terminating" if value_at(o, "metadata.deletionTimestamp") else value_at(o, "status.phase", "")


def _claim_ref(o, now):
    ref = value_at(o, "spec.claimRef")
    return f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""


def _bound(cell: Cell) -> Cell:
    """A claim shows what it got only once bound to a volume."""
    return lambda o, now: cell(o, now) if value_at(o, "spec.volumeName") else ""


def _quota(limits: bool) -> Cell:
    def cell(o, now):
        hard, used = value_at(o, "status.hard") or {}, value_at(o, "status.used") or {}
        return ", ".join(f"{r}: {used.get(r, '0')}/{hard[r]}" for r in sorted(hard)
                         if (r.split(".")[0] == "limits" and "." in r) == limits)
    return cell


def _component_status(o, now):
    healthy = condition_of(o.get("conditions"), "Healthy")
    if healthy is None:
        return "Unknown"
    return "Healthy" if healthy.get("status") == "True" else "Unhealthy"


def _component_condition(key: str) -> Cell:
    return lambda o, now: (condition_of(o.get("conditions"), "Healthy") or {}).get(key, "")


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "pods"): POD,
    ("", "podtemplates"): printer(
        NAME, *template_columns("template", priority=0),
        Column("Pod Labels", labels_at("template.metadata.labels"), "The labels for the pod template.")),
    ("", "replicationcontrollers"): printer(
        NAME, Column("Desired", field("spec.replicas", 1), Doc("core.v1.ReplicationControllerSpec", "replicas"),
                     "integer"),
        Column("Current", field("status.replicas", 0), Doc("core.v1.ReplicationControllerStatus", "replicas"),
               "integer"),
        Column("Ready", field("status.readyReplicas", 0), Doc("core.v1.ReplicationControllerStatus", "readyReplicas"),
               "integer"),
        AGE, *template_columns("spec.template", (labels_at("spec.selector"),
                                                 Doc("core.v1.ReplicationControllerSpec", "selector")))),
    ("", "services"): printer(
        NAME, Column("Type", field("spec.type", "ClusterIP"), Doc("core.v1.ServiceSpec", "type")),
        Column("Cluster-IP", _cluster_ip, Doc("core.v1.ServiceSpec", "clusterIP")),
        Column("External-IP", _external_ip, Doc("core.v1.ServiceSpec", "externalIPs")),
        Column("Port(s)", _service_ports, Doc("core.v1.ServiceSpec", "ports")), AGE,
        Column("Selector", labels_at("spec.selector"), Doc("core.v1.ServiceSpec", "selector"), priority=1)),
    ("", "endpoints"): printer(NAME, Column("Endpoints", _endpoints, Doc("core.v1.Endpoints", "subsets")), AGE),
    ("", "nodes"): printer(
        NAME, Column("Status", _node_status, "The status of the node"),
        Column("Roles", _node_roles, "The roles of the node"), AGE,
        Column("Version", field("status.nodeInfo.kubeletVersion"), Doc("core.v1.NodeSystemInfo", "kubeletVersion")),
        Column("Internal-IP", _node_address("InternalIP"), Doc("core.v1.NodeStatus", "addresses"), priority=1),
        Column("External-IP", _node_address("ExternalIP"), Doc("core.v1.NodeStatus", "addresses"), priority=1),
        Column("OS-Image", _node_info("osImage"), Doc("core.v1.NodeSystemInfo", "osImage"), priority=1),
        Column("Kernel-Version", _node_info("kernelVersion"), Doc("core.v1.NodeSystemInfo", "kernelVersion"),
               priority=1),
        Column("Container-Runtime", _node_info("containerRuntimeVersion"),
               Doc("core.v1.NodeSystemInfo", "containerRuntimeVersion"), priority=1)),
    ("", "events"): printer(*EVENT_COLUMNS),
    ("events.k8s.io", "events"): printer(*EVENT_COLUMNS, adapt=as_core),
    ("", "namespaces"): printer(NAME, Column("Status", field("status.phase"), "The status of the namespace"), AGE),
    ("", "secrets"): printer(NAME, Column("Type", field("type"), Doc("core.v1.Secret", "type")),
                             Column("Data", count("data"), Doc("core.v1.Secret", "data")), AGE),
    ("", "serviceaccounts"): printer(
        NAME, Column("Secrets", count("secrets"), Doc("core.v1.ServiceAccount", "secrets")), AGE),
    ("", "persistentvolumes"): printer(
        NAME, Column("Capacity", field("spec.capacity.storage", "0"),
                     Doc("core.v1.PersistentVolumeSpec", "capacity")),
        Column("Access Modes", lambda o, now: access_modes(value_at(o, "spec.accessModes")),
               Doc("core.v1.PersistentVolumeSpec", "accessModes")),
        Column("Reclaim Policy", field("spec.persistentVolumeReclaimPolicy"),
               Doc("core.v1.PersistentVolumeSpec", "persistentVolumeReclaimPolicy")),
        Column("Status", _phase, Doc("core.v1.PersistentVolumeStatus", "phase")),
        Column("Claim", _claim_ref, Doc("core.v1.PersistentVolumeSpec", "claimRef")),
        Column("StorageClass", _storage_class_of("spec.storageClassName"), "StorageClass of the pv"),
        Column("VolumeAttributesClass", field("spec.volumeAttributesClassName", UNSET),
               "VolumeAttributesClass of the pv", since="1.29"),
        Column("Reason", field("status.reason"), Doc("core.v1.PersistentVolumeStatus", "reason")), AGE,
        Column("VolumeMode", field("spec.volumeMode", UNSET), Doc("core.v1.PersistentVolumeSpec", "volumeMode"),
               priority=1)),
    ("", "persistentvolumeclaims"): printer(
        NAME, Column("Status", _phase, Doc("core.v1.PersistentVolumeClaimStatus", "phase")),
        Column("Volume", field("spec.volumeName"), Doc("core.v1.PersistentVolumeClaimSpec", "volumeName")),
        Column("Capacity", _bound(field("status.capacity.storage", "0")),
               Doc("core.v1.PersistentVolumeClaimStatus", "capacity")),
        Column("Access Modes", _bound(lambda o, now: access_modes(value_at(o, "status.accessModes"))),
               Doc("core.v1.PersistentVolumeClaimStatus", "accessModes")),
        Column("StorageClass", _storage_class_of("spec.storageClassName"), "StorageClass of the pvc"),
        Column("VolumeAttributesClass", field("spec.volumeAttributesClassName", UNSET),
               "VolumeAttributesClass of the pvc", since="1.29"), AGE,
        Column("VolumeMode", field("spec.volumeMode", UNSET), Doc("core.v1.PersistentVolumeClaimSpec", "volumeMode"),
               priority=1)),
    ("", "componentstatuses"): printer(
        NAME, Column("Status", _component_status, "Status of the component conditions"),
        Column("Message", _component_condition("message"), "Message of the component conditions"),
        Column("Error", _component_condition("error"), "Error of the component conditions")),
    ("", "configmaps"): printer(
        NAME, Column("Data", count("data", "binaryData"), Doc("core.v1.ConfigMap", "data")), AGE),
    ("", "resourcequotas"): printer(
        NAME, Column("Request", _quota(limits=False),
                     "Request represents a minimum amount of cpu/memory that a container may consume."),
        Column("Limit", _quota(limits=True), "Limits control the maximum amount of cpu/memory that a container may "
                                          "use independent of contention on the node."), AGE),
}
