"""The built-in printers, one per resource, as data: their columns in order."""
from __future__ import annotations

from datetime import timedelta, timezone

from .cells import (AGE, Cell, Column, Doc, META, NAME, NONE, Printer, UNKNOWN, UNSET, ZERO_TIME,
                    access_modes, annotation_of, bool_word, condition_of, condition_true, count, field,
                    format_label_selector, go_label_selector, human_duration, label_selector_string,
                    labels_at, list_with_more, load_balancer, name_of, parse_time, quantity, ready_of,
                    selector_at, since, since_or_none, template_columns, value_at)
from .pods import POD


# --- services, ingresses, endpoints --------------------------------------------------------------

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


def _slice_port(p: dict) -> str:
    if p.get("port") is not None:
        return str(p["port"])
    return p["name"] if p.get("name") is not None else "*"


# --- nodes ---------------------------------------------------------------------------------------

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


# --- events --------------------------------------------------------------------------------------

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


def _core_event(e: dict) -> dict:
    """An events.k8s.io/v1 Event in the core/v1 shape the event printer reads."""
    return {"metadata": e.get("metadata", {}), "type": e.get("type", ""), "reason": e.get("reason", ""),
            "involvedObject": e.get("regarding") or {}, "message": e.get("note", ""),
            "source": e.get("deprecatedSource") or {}, "firstTimestamp": e.get("deprecatedFirstTimestamp"),
            "lastTimestamp": e.get("deprecatedLastTimestamp"), "count": e.get("deprecatedCount", 0),
            "eventTime": e.get("eventTime"), "series": e.get("series"),
            "reportingComponent": e.get("reportingController", ""),
            "reportingInstance": e.get("reportingInstance", "")}


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


# --- workloads -----------------------------------------------------------------------------------

def _job_completions(o, now):
    succeeded = value_at(o, "status.succeeded", 0)
    completions = value_at(o, "spec.completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = value_at(o, "spec.parallelism", 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(o, now):
    start = parse_time(value_at(o, "status.startTime"))
    if start is None:
        return ""
    return human_duration((parse_time(value_at(o, "status.completionTime")) or now) - start)


def _job_status(*pending: str) -> Cell:
    """STATUS: finished, then being deleted, then the first of the `pending` conditions that holds
    (1.34 added SuccessCriteriaMet to them), else Running."""
    def cell(o, now):
        conditions = value_at(o, "status.conditions")
        if condition_true(conditions, "Complete"):
            return "Complete"
        if condition_true(conditions, "Failed"):
            return "Failed"
        if value_at(o, "metadata.deletionTimestamp"):
            return "Terminating"
        return next((kind for kind in pending if condition_true(conditions, kind)), "Running")
    return cell


def _deployment_selector(o, now):
    text = label_selector_string(value_at(o, "spec.selector"))
    return "<invalid>" if text is None else text


def _controller_of(o, now):
    ref = next((r for r in value_at(o, "metadata.ownerReferences", []) if r.get("controller")), None)
    if ref is None:
        return NONE
    api_version, kind = ref.get("apiVersion", ""), ref.get("kind", "")
    group = api_version.split("/")[0] if "/" in api_version else ""
    group_kind = f"{kind}.{group}" if group else kind
    return f"{group_kind.lower()}/{ref.get('name', '')}" if group_kind else ref.get("name", "")


_METRIC_SOURCES = {"External": "external", "Pods": "pods", "Object": "object", "Resource": "resource",
                   "ContainerResource": "containerResource"}


def _hpa_metric(spec: dict, status: dict | None) -> str:
    kind = spec.get("type")
    key = _METRIC_SOURCES.get(kind)
    if key is None:
        return "<unknown type>"
    source = spec.get(key) or {}
    target = source.get("target") or {}
    # The status at the same index reports this metric only if it has the same source.
    reported = (status or {}).get(key)
    current = (reported or {}).get("current") or {}

    def now_(name: str, required: bool = False) -> str:
        missing = reported is None or (required and current.get(name) is None)
        return UNKNOWN if missing else quantity(current.get(name))

    if kind == "Pods":
        return f"{now_('averageValue')}/{quantity(target.get('averageValue'))}"
    if kind in ("External", "Object"):
        if target.get("averageValue") is not None:
            return f"{now_('averageValue', required=True)}/{target['averageValue']} (avg)"
        return f"{now_('value')}/{quantity(target.get('value'))}"
    named = f"{source.get('name', '')}: "
    if target.get("averageValue") is not None:
        return f"{named}{now_('averageValue')}/{target['averageValue']}"
    used = now_("averageUtilization", required=True)
    used = used if used == UNKNOWN else f"{used}%"
    wanted = "<auto>" if target.get("averageUtilization") is None else f"{target['averageUtilization']}%"
    return f"{named}{used}/{wanted}"


def _hpa_targets(o, now):
    specs = value_at(o, "spec.metrics") or []
    if not specs:
        return NONE
    statuses = value_at(o, "status.currentMetrics") or []
    shown = [_hpa_metric(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs[:2])]
    more = f" + {len(specs) - 2} more..." if len(specs) > 2 else ""
    return ", ".join(shown) + more


# --- storage -------------------------------------------------------------------------------------

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


def _default_marked(*annotations: str) -> Cell:
    def cell(o, now):
        default = any(annotation_of(o, a) == "true" for a in annotations)
        return name_of(o, now) + (" (default)" if default else "")
    return cell


def _quota(limits: bool) -> Cell:
    def cell(o, now):
        hard, used = value_at(o, "status.hard") or {}, value_at(o, "status.used") or {}
        return ", ".join(f"{r}: {used.get(r, '0')}/{hard[r]}" for r in sorted(hard)
                         if (r.split(".")[0] == "limits" and "." in r) == limits)
    return cell


def _token_requests(o, now):
    requests = value_at(o, "spec.tokenRequests")
    return UNSET if requests is None else ",".join(t.get("audience", "") for t in requests)


# --- the rest ------------------------------------------------------------------------------------

def _int_or_string(path: str) -> Cell:
    return lambda o, now: "N/A" if value_at(o, path) is None else str(value_at(o, path))


def _subjects(kind: str) -> Cell:
    def cell(o, now):
        return ", ".join(f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount"
                         else s.get("name", "") for s in o.get("subjects") or [] if s.get("kind") == kind)
    return cell


def _csr_condition(o, now):
    kinds = {c.get("type") for c in value_at(o, "status.conditions") or []}
    words = ["Denied" if "Denied" in kinds else "Approved" if "Approved" in kinds else "Pending"]
    words += ["Failed"] * ("Failed" in kinds) + ["Issued"] * bool(value_at(o, "status.certificate"))
    return ",".join(words)


def _csr_duration(o, now):
    seconds = value_at(o, "spec.expirationSeconds")
    return NONE if seconds is None else human_duration(timedelta(seconds=seconds))


def _component_status(o, now):
    healthy = condition_of(o.get("conditions"), "Healthy")
    if healthy is None:
        return "Unknown"
    return "Healthy" if healthy.get("status") == "True" else "Unhealthy"


def _component_condition(key: str) -> Cell:
    return lambda o, now: (condition_of(o.get("conditions"), "Healthy") or {}).get(key, "")


def _param_kind(o, now):
    kind = value_at(o, "spec.paramKind")
    return f"{kind.get('apiVersion', '')}/{kind.get('kind', '')}" if kind else UNSET


def _param_ref(o, now):
    ref = value_at(o, "spec.paramRef")
    if not ref:
        return UNSET
    if ref.get("name"):
        # Unnamed namespaces read as "*": the printer cannot tell whether the param is cluster-scoped.
        return f"{ref.get('namespace') or '*'}/{ref['name']}"
    return go_label_selector(ref["selector"]) if ref.get("selector") is not None else UNSET


def _flow_schema_dangling(o, now):
    dangling = condition_of(value_at(o, "status.conditions"), "Dangling")
    return "?" if dangling is None else dangling.get("status", "")


def _limited(path: str) -> Cell:
    """A number of a Limited priority level, `<none>` where the level has no such setting."""
    def cell(o, now):
        found = value_at(o, f"spec.limited.{path}")
        if found is not None:
            return found
        # Unset numbers of a level that exists read as Go's zero value.
        parent = value_at(o, "spec.limited." + path.rpartition(".")[0]) if "." in path else value_at(o, "spec.limited")
        return NONE if parent is None else 0
    return cell


def _ip_parent(o, now):
    ref = value_at(o, "spec.parentRef")
    if not ref:
        return NONE
    resource = ref.get("resource", "") + (f".{ref['group']}" if ref.get("group") else "")
    namespace = f"/{ref['namespace']}" if ref.get("namespace") else ""
    return f"{resource.lower()}{namespace}/{ref.get('name', '')}"


def _apiservice_available(o, now):
    condition = condition_of(value_at(o, "status.conditions"), "Available")
    if condition is None:
        return "Unknown"
    status = condition.get("status", "")
    return f"{status} ({condition['reason']})" if status != "True" and condition.get("reason") else status


def _apiservice_service(o, now):
    service = value_at(o, "spec.service")
    return f"{service.get('namespace', '')}/{service.get('name', '')}" if service else "Local"


# --- the printers --------------------------------------------------------------------------------

def _p(*columns: Column, **kw) -> Printer:
    return Printer(tuple(columns), **kw)


def _webhooks():
    return _p(NAME, Column("Webhooks", count("webhooks"),
                           "Webhooks indicates the number of webhooks registered in this configuration",
                           "integer"), AGE)


def _binding(kind: str):
    doc = f"the {kind[0].lower() + kind[1:]}"
    return _p(NAME, Column("Role", lambda o, now: f"{value_at(o, 'roleRef.kind', '')}/{value_at(o, 'roleRef.name', '')}",
                           Doc(f"rbac.v1.{kind}", "roleRef")), AGE,
              Column("Users", _subjects("User"), f"Users in {doc}", priority=1),
              Column("Groups", _subjects("Group"), f"Groups in {doc}", priority=1),
              Column("ServiceAccounts", _subjects("ServiceAccount"), f"ServiceAccounts in {doc}", priority=1))


_REPLICAS = "Number of the pod with ready state"

PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "pods"): POD,
    ("", "podtemplates"): _p(
        NAME, *template_columns("template", priority=0),
        Column("Pod Labels", labels_at("template.metadata.labels"), "The labels for the pod template.")),
    ("", "replicationcontrollers"): _p(
        NAME, Column("Desired", field("spec.replicas", 1), Doc("core.v1.ReplicationControllerSpec", "replicas"),
                     "integer"),
        Column("Current", field("status.replicas", 0), Doc("core.v1.ReplicationControllerStatus", "replicas"),
               "integer"),
        Column("Ready", field("status.readyReplicas", 0), Doc("core.v1.ReplicationControllerStatus", "readyReplicas"),
               "integer"),
        AGE, *template_columns("spec.template", (labels_at("spec.selector"),
                                                 Doc("core.v1.ReplicationControllerSpec", "selector")))),
    ("", "services"): _p(
        NAME, Column("Type", field("spec.type", "ClusterIP"), Doc("core.v1.ServiceSpec", "type")),
        Column("Cluster-IP", _cluster_ip, Doc("core.v1.ServiceSpec", "clusterIP")),
        Column("External-IP", _external_ip, Doc("core.v1.ServiceSpec", "externalIPs")),
        Column("Port(s)", _service_ports, Doc("core.v1.ServiceSpec", "ports")), AGE,
        Column("Selector", labels_at("spec.selector"), Doc("core.v1.ServiceSpec", "selector"), priority=1)),
    ("", "endpoints"): _p(NAME, Column("Endpoints", _endpoints, Doc("core.v1.Endpoints", "subsets")), AGE),
    ("", "nodes"): _p(
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
    ("", "events"): _p(*EVENT_COLUMNS),
    ("events.k8s.io", "events"): _p(*EVENT_COLUMNS, adapt=_core_event),
    ("", "namespaces"): _p(NAME, Column("Status", field("status.phase"), "The status of the namespace"), AGE),
    ("", "secrets"): _p(NAME, Column("Type", field("type"), Doc("core.v1.Secret", "type")),
                        Column("Data", count("data"), Doc("core.v1.Secret", "data")), AGE),
    ("", "serviceaccounts"): _p(NAME, Column("Secrets", count("secrets"), Doc("core.v1.ServiceAccount", "secrets")),
                                AGE),
    ("", "persistentvolumes"): _p(
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
    ("", "persistentvolumeclaims"): _p(
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
    ("", "componentstatuses"): _p(
        NAME, Column("Status", _component_status, "Status of the component conditions"),
        Column("Message", _component_condition("message"), "Message of the component conditions"),
        Column("Error", _component_condition("error"), "Error of the component conditions")),
    ("", "configmaps"): _p(NAME, Column("Data", count("data", "binaryData"), Doc("core.v1.ConfigMap", "data")), AGE),
    ("", "resourcequotas"): _p(
        NAME, Column("Request", _quota(limits=False),
                     "Request represents a minimum amount of cpu/memory that a container may consume."),
        Column("Limit", _quota(limits=True), "Limits control the maximum amount of cpu/memory that a container may "
                                          "use independent of contention on the node."), AGE),
    ("apps", "deployments"): _p(
        NAME, Column("Ready", ready_of("spec.replicas"), _REPLICAS),
        Column("Up-to-date", field("status.updatedReplicas", 0),
               Doc("apps.v1.DeploymentStatus", "updatedReplicas")),
        Column("Available", field("status.availableReplicas", 0),
               Doc("apps.v1.DeploymentStatus", "availableReplicas")),
        AGE, *template_columns("spec.template", (_deployment_selector, Doc("apps.v1.DeploymentSpec", "selector")))),
    ("apps", "replicasets"): _p(
        NAME, Column("Desired", field("spec.replicas", 1), Doc("apps.v1.ReplicaSetSpec", "replicas"), "integer"),
        Column("Current", field("status.replicas", 0), Doc("apps.v1.ReplicaSetStatus", "replicas"), "integer"),
        Column("Ready", field("status.readyReplicas", 0), Doc("apps.v1.ReplicaSetStatus", "readyReplicas"),
               "integer"),
        AGE, *template_columns("spec.template", (selector_at("spec.selector"),
                                                 Doc("apps.v1.ReplicaSetSpec", "selector")))),
    ("apps", "statefulsets"): _p(
        NAME, Column("Ready", ready_of("spec.replicas"), _REPLICAS), AGE,
        *template_columns("spec.template")),
    ("apps", "daemonsets"): _p(
        NAME, *(Column(title, field(f"status.{key}", 0), Doc("apps.v1.DaemonSetStatus", key), "integer")
                for title, key in (("Desired", "desiredNumberScheduled"), ("Current", "currentNumberScheduled"),
                                   ("Ready", "numberReady"), ("Up-to-date", "updatedNumberScheduled"),
                                   ("Available", "numberAvailable"))),
        Column("Node Selector", labels_at("spec.template.spec.nodeSelector"), Doc("core.v1.PodSpec", "nodeSelector")),
        AGE, *template_columns("spec.template", (selector_at("spec.selector"),
                                                 Doc("apps.v1.DaemonSetSpec", "selector")))),
    ("apps", "controllerrevisions"): _p(
        NAME, Column("Controller", _controller_of, "Controller of the object"),
        Column("Revision", field("revision", 0), Doc("apps.v1.ControllerRevision", "revision")), AGE),
    ("batch", "jobs"): _p(
        NAME, Column("Status", _job_status("Suspended", "FailureTarget"), "Status of the job.", since="1.30",
                     until="1.34"),
        Column("Status", _job_status("Suspended", "FailureTarget", "SuccessCriteriaMet"), "Status of the job.",
               since="1.34"),
        Column("Completions", _job_completions, Doc("batch.v1.JobStatus", "succeeded")),
        Column("Duration", _job_duration, "Time required to complete the job."), AGE,
        *template_columns("spec.template", (selector_at("spec.selector"), Doc("batch.v1.JobSpec", "selector")))),
    ("batch", "cronjobs"): _p(
        NAME, Column("Schedule", field("spec.schedule"), Doc("batch.v1.CronJobSpec", "schedule")),
        Column("Timezone", field("spec.timeZone", NONE), Doc("batch.v1.CronJobSpec", "timeZone")),
        Column("Suspend", lambda o, now: bool_word(value_at(o, "spec.suspend")), Doc("batch.v1.CronJobSpec", "suspend"),
               "boolean"),
        Column("Active", count("status.active"), Doc("batch.v1.CronJobStatus", "active"), "integer"),
        Column("Last Schedule", since_or_none("status.lastScheduleTime"), Doc("batch.v1.CronJobStatus",
                                                                             "lastScheduleTime")),
        AGE, *template_columns("spec.jobTemplate.spec.template", (selector_at("spec.jobTemplate.spec.selector"),
                                                                  Doc("batch.v1.JobSpec", "selector")))),
    ("autoscaling", "horizontalpodautoscalers"): _p(
        NAME, Column("Reference", lambda o, now: f"{value_at(o, 'spec.scaleTargetRef.kind', '')}/"
                                              f"{value_at(o, 'spec.scaleTargetRef.name', '')}",
                     Doc("autoscaling.v2.HorizontalPodAutoscalerSpec", "scaleTargetRef")),
        Column("Targets", _hpa_targets, Doc("autoscaling.v2.HorizontalPodAutoscalerSpec", "metrics")),
        Column("MinPods", lambda o, now: str(value_at(o, "spec.minReplicas", UNSET)),
               Doc("autoscaling.v2.HorizontalPodAutoscalerSpec", "minReplicas")),
        Column("MaxPods", field("spec.maxReplicas", 0), Doc("autoscaling.v2.HorizontalPodAutoscalerSpec",
                                                          "maxReplicas")),
        Column("Replicas", field("status.currentReplicas", 0),
               Doc("autoscaling.v2.HorizontalPodAutoscalerStatus", "currentReplicas")), AGE),
    ("policy", "poddisruptionbudgets"): _p(
        NAME, Column("Min Available", _int_or_string("spec.minAvailable"),
                     "The minimum number of pods that must be available."),
        Column("Max Unavailable", _int_or_string("spec.maxUnavailable"),
               "The maximum number of pods that may be unavailable."),
        Column("Allowed Disruptions", field("status.disruptionsAllowed", 0),
               "Calculated number of pods that may be disrupted at this time.", "integer"), AGE),
    ("networking.k8s.io", "ingresses"): _p(
        NAME, Column("Class", field("spec.ingressClassName", NONE),
                     "The name of the IngressClass resource that should be used for additional configuration"),
        Column("Hosts", _ingress_hosts, "Hosts that incoming requests are matched against before the ingress rule"),
        Column("Address", lambda o, now: load_balancer(value_at(o, "status.loadBalancer")),
               "Address is a list containing ingress points for the load-balancer"),
        Column("Ports", lambda o, now: "80, 443" if value_at(o, "spec.tls") else "80",
               "Ports of TLS configurations that open"),
        AGE),
    ("networking.k8s.io", "ingressclasses"): _p(
        NAME, Column("Controller", field("spec.controller"),
                     "Controller that is responsible for handling this class"),
        Column("Parameters", _ingress_class_parameters, "A reference to a resource with additional parameters"),
        AGE),
    ("networking.k8s.io", "networkpolicies"): _p(
        NAME, Column("Pod-Selector", lambda o, now: format_label_selector(value_at(o, "spec.podSelector") or {}),
                     Doc("networking.v1.NetworkPolicySpec", "podSelector")), AGE),
    ("networking.k8s.io", "servicecidrs"): _p(
        NAME, Column("CIDRs", lambda o, now: ",".join(value_at(o, "spec.cidrs") or []),
                     Doc("networking.v1.ServiceCIDRSpec", "cidrs")), AGE),
    ("networking.k8s.io", "ipaddresses"): _p(
        NAME, Column("ParentRef", _ip_parent, Doc("networking.v1.IPAddressSpec", "parentRef"))),
    ("discovery.k8s.io", "endpointslices"): _p(
        NAME, Column("AddressType", field("addressType"), Doc("discovery.v1.EndpointSlice", "addressType")),
        Column("Ports", lambda o, now: list_with_more([_slice_port(p) for p in o.get("ports") or []]),
               Doc("discovery.v1.EndpointSlice", "ports")),
        Column("Endpoints", lambda o, now: list_with_more([a for e in o.get("endpoints") or []
                                                         for a in e.get("addresses") or []]),
               Doc("discovery.v1.EndpointSlice", "endpoints")), AGE),
    ("rbac.authorization.k8s.io", "rolebindings"): _binding("RoleBinding"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): _binding("ClusterRoleBinding"),
    ("certificates.k8s.io", "certificatesigningrequests"): _p(
        NAME, AGE, Column("SignerName", field("spec.signerName", NONE),
                          Doc("certificates.v1.CertificateSigningRequestSpec", "signerName")),
        Column("Requestor", field("spec.username"), Doc("certificates.v1.CertificateSigningRequestSpec", "request")),
        Column("RequestedDuration", _csr_duration, Doc("certificates.v1.CertificateSigningRequestSpec",
                                                    "expirationSeconds")),
        Column("Condition", _csr_condition, Doc("certificates.v1.CertificateSigningRequestStatus", "conditions"))),
    ("coordination.k8s.io", "leases"): _p(
        NAME, Column("Holder", field("spec.holderIdentity"), Doc("coordination.v1.LeaseSpec", "holderIdentity")),
        AGE),
    ("storage.k8s.io", "storageclasses"): _p(
        Column("Name", _default_marked("storageclass.kubernetes.io/is-default-class",
                                    "storageclass.beta.kubernetes.io/is-default-class"), Doc(META, "name"),
               format="name"),
        Column("Provisioner", field("provisioner"), Doc("storage.v1.StorageClass", "provisioner")),
        Column("ReclaimPolicy", field("reclaimPolicy", "Delete"), Doc("storage.v1.StorageClass", "reclaimPolicy")),
        Column("VolumeBindingMode", field("volumeBindingMode", "Immediate"),
               Doc("storage.v1.StorageClass", "volumeBindingMode")),
        Column("AllowVolumeExpansion", field("allowVolumeExpansion", False),
               Doc("storage.v1.StorageClass", "allowVolumeExpansion")), AGE),
    ("storage.k8s.io", "volumeattributesclasses"): _p(
        Column("Name", _default_marked("volumeattributesclass.alpha.kubernetes.io/is-default-class"),
               Doc(META, "name"), format="name"),
        Column("DriverName", field("driverName"), Doc("storage.v1beta1.VolumeAttributesClass", "driverName")), AGE),
    ("storage.k8s.io", "volumeattachments"): _p(
        NAME, Column("Attacher", field("spec.attacher"), Doc("storage.v1.VolumeAttachmentSpec", "attacher"),
                     format="name"),
        Column("PV", field("spec.source.persistentVolumeName"),
               Doc("storage.v1.VolumeAttachmentSource", "persistentVolumeName")),
        Column("Node", field("spec.nodeName"), Doc("storage.v1.VolumeAttachmentSpec", "nodeName")),
        Column("Attached", field("status.attached", False), Doc("storage.v1.VolumeAttachmentStatus", "attached"),
               "boolean"), AGE),
    ("storage.k8s.io", "csinodes"): _p(
        NAME, Column("Drivers", count("spec.drivers"),
                     "Drivers indicates the number of CSI drivers registered on the node", "integer"), AGE),
    ("storage.k8s.io", "csidrivers"): _p(
        NAME, *(Column(title, field(f"spec.{key}", default), Doc("storage.v1.CSIDriverSpec", key), "boolean")
                for title, key, default in (("AttachRequired", "attachRequired", True),
                                            ("PodInfoOnMount", "podInfoOnMount", False),
                                            ("StorageCapacity", "storageCapacity", False))),
        Column("TokenRequests", _token_requests, Doc("storage.v1.CSIDriverSpec", "tokenRequests")),
        Column("RequiresRepublish", field("spec.requiresRepublish", False),
               Doc("storage.v1.CSIDriverSpec", "requiresRepublish"), "boolean"),
        Column("Modes", lambda o, now: ",".join(value_at(o, "spec.volumeLifecycleModes") or []) or NONE,
               Doc("storage.v1.CSIDriverSpec", "volumeLifecycleModes")), AGE),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): _webhooks(),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): _webhooks(),
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"): _p(
        NAME, Column("Validations", count("spec.validations"),
                     "Validations indicates the number of validation rules defined in this configuration",
                     "integer"),
        Column("ParamKind", _param_kind,
               "ParamKind specifies the kind of resources used to parameterize this policy"), AGE),
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"): _p(
        NAME, Column("PolicyName", field("spec.policyName"),
                     "PolicyName indicates the policy definition which the policy binding binded to"),
        Column("ParamRef", _param_ref, "ParamRef indicates the param resource which sets the configration param"),
        AGE),
    ("scheduling.k8s.io", "priorityclasses"): _p(
        NAME, Column("Value", field("value", 0), Doc("scheduling.v1.PriorityClass", "value"), "integer"),
        Column("Global-Default", field("globalDefault", False), Doc("scheduling.v1.PriorityClass", "globalDefault"),
               "boolean"),
        AGE, Column("PreemptionPolicy", field("preemptionPolicy"), Doc("scheduling.v1.PriorityClass",
                                                                    "preemptionPolicy"))),
    # Upstream documents Handler with an ObjectMeta field that does not exist: an empty text.
    ("node.k8s.io", "runtimeclasses"): _p(NAME, Column("Handler", field("handler")), AGE),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): _p(
        NAME, Column("PriorityLevel", field("spec.priorityLevelConfiguration.name"),
                     Doc("flowcontrol.v1.PriorityLevelConfigurationReference", "name")),
        Column("MatchingPrecedence", field("spec.matchingPrecedence", 0),
               Doc("flowcontrol.v1.FlowSchemaSpec", "matchingPrecedence")),
        Column("DistinguisherMethod", field("spec.distinguisherMethod.type", NONE),
               Doc("flowcontrol.v1.FlowSchemaSpec", "distinguisherMethod")), AGE,
        Column("MissingPL", _flow_schema_dangling, "references a broken or non-existent PriorityLevelConfiguration"),
        sort_key=lambda o: (value_at(o, "spec.matchingPrecedence", 0), name_of(o, None))),
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): _p(
        NAME, Column("Type", field("spec.type"), Doc("flowcontrol.v1.PriorityLevelConfigurationSpec", "type")),
        Column("NominalConcurrencyShares", _limited("nominalConcurrencyShares"),
               Doc("flowcontrol.v1.LimitedPriorityLevelConfiguration", "nominalConcurrencyShares")),
        *(Column(title, _limited(f"limitResponse.queuing.{key}"), Doc("flowcontrol.v1.QueuingConfiguration", key))
          for title, key in (("Queues", "queues"), ("HandSize", "handSize"),
                             ("QueueLengthLimit", "queueLengthLimit"))),
        AGE),
    # kube-aggregator's convertor, not a printer of kube-apiserver's.
    ("apiregistration.k8s.io", "apiservices"): _p(
        NAME, Column("Service", _apiservice_service, "The reference to the service that hosts this API endpoint."),
        Column("Available", _apiservice_available, "Whether this service is available."), AGE),
}


def _created_at(o, now):
    created = parse_time(value_at(o, "metadata.creationTimestamp")) or ZERO_TIME
    # Not strftime: it writes year 1 (Go's zero time) as "1", where RFC 3339 wants "0001".
    return created.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Stores that register kube's default convertor (or no printer at all): NAME and CREATED AT.
DEFAULT_PRINTER = _p(NAME, Column("Created At", _created_at, Doc(META, "creationTimestamp"), "date"))
