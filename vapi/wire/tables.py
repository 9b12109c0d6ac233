"""Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for.

kube-apiserver answers a Table request with one of four convertors, and so do we:

- the built-in printers (kubernetes `pkg/printers/internalversion`), always run as for `-o wide`:
  every column is sent, and kubectl hides those of priority 1 unless asked for `-o wide`;
- kube-aggregator's own convertor for APIServices;
- the default convertor (Name, Created At) for stores that register no printer: Roles,
  ClusterRoles, LimitRanges, CSIStorageCapacities, CustomResourceDefinitions;
- the CustomResourceDefinition convertor: Name, then the CRD's `additionalPrinterColumns`
  evaluated with JSONPath, or Name and Age when it defines none.

Each printer is data: its columns in order, each with the function that computes its cell from the
object as served (the printers upstream read the internal type, so the cells read the v1 fields
that convert to what they read). Cells keep their JSON types: integer columns hold numbers.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from admission import schemas
from admission.gofmt import go_float
from admission.gotime import parse_rfc3339
from admission.validation import dig

from ..registry.builtin import BUILTIN

TABLE_API_VERSION = "meta.k8s.io/v1"
NONE = "<none>"
UNKNOWN = "<unknown>"
UNSET = "<unset>"

_MICROSECOND = timedelta(microseconds=1)
_ZERO_TIME = datetime(1, 1, 1, tzinfo=timezone.utc)


# --- time ----------------------------------------------------------------------------------------

def parse_time(value) -> datetime | None:
    """A timestamp field; None when unset, zero or unreadable (all print as `<unknown>`)."""
    try:
        parsed = parse_rfc3339(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return None if parsed is None or parsed <= _ZERO_TIME else parsed


def _go_div(a: int, b: int) -> int:
    """Go's integer division truncates toward zero, Python's floors."""
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def human_duration(d: timedelta) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration: two or three significant figures."""
    us = d // _MICROSECOND
    seconds = _go_div(us, 1_000_000)
    # Up to a second in the future is clock skew between machines: "now".
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m" if seconds % 60 == 0 else f"{minutes}m{seconds % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return f"{days // 365}y" if days % 365 == 0 else f"{days // 365}y{days % 365}d"
    return f"{days // 365}y"


def since(value, now: datetime) -> str:
    """translateTimestampSince: the age of a timestamp, `<unknown>` when it is unset."""
    when = value if isinstance(value, datetime) else parse_time(value)
    return UNKNOWN if when is None else human_duration(now - when)


# --- shared formatting ---------------------------------------------------------------------------

def _dig(obj, path: str, default=None):
    value = dig(obj, path)
    return default if value is None else value


def format_labels(labels) -> str:
    """labels.FormatLabels: `k=v` pairs sorted as strings, or `<none>`."""
    return ",".join(sorted(f"{k}={v}" for k, v in (labels or {}).items())) or NONE


def label_selector_string(selector) -> str | None:
    """metav1.LabelSelectorAsSelector(selector).String(); None when the selector is invalid."""
    if not selector:
        return ""
    requirements = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), expr.get("values") or []
        if op in ("In", "NotIn") and values:
            joined = values[0] if len(values) == 1 else ",".join(sorted(values))
            requirements.append((key, f"{key} {op.lower()} ({joined})"))
        elif op in ("Exists", "DoesNotExist") and not values:
            requirements.append((key, key if op == "Exists" else "!" + key))
        else:
            return None
    # Selector.Add sorts by key; an insertion sort at these sizes, so ties keep their order.
    return ",".join(text for _, text in sorted(requirements, key=lambda r: r[0]))


def format_label_selector(selector) -> str:
    """metav1.FormatLabelSelector."""
    text = label_selector_string(selector)
    return "<error>" if text is None else text or NONE


def _go_label_selector(selector: dict) -> str:
    """The generated (*metav1.LabelSelector).String(), which one printer shows as is."""
    labels = selector.get("matchLabels") or {}
    exprs = "".join(f"LabelSelectorRequirement{{Key:{e.get('key', '')},Operator:{e.get('operator', '')},"
                    f"Values:[{' '.join(e.get('values') or [])}],}},"
                    for e in selector.get("matchExpressions") or [])
    pairs = "".join(f"{k}: {labels[k]}," for k in sorted(labels))
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{pairs}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}")


def _list_with_more(items: list[str]) -> str:
    shown = ",".join(items[:3])
    return f"{shown} + {len(items) - 3} more..." if len(items) > 3 else shown or UNSET


def _load_balancer(status) -> str:
    """The sorted, distinct IPs (else hostnames) of a load balancer status, never clipped: the
    server always prints as for `-o wide`."""
    found = {i.get("ip") or i.get("hostname") for i in (status or {}).get("ingress") or []}
    return ",".join(sorted(found - {None, ""}))


def _qty(value) -> str:
    """(*resource.Quantity).String() of an optional quantity."""
    return "<nil>" if value is None else str(value)


def _bool_word(value) -> str:
    return UNSET if value is None else "True" if value else "False"


def _condition(conditions, kind: str) -> dict | None:
    return next((c for c in conditions or [] if c.get("type") == kind), None)


def _condition_true(conditions, kind: str) -> bool:
    """Whether the first condition of that type is True."""
    return (_condition(conditions, kind) or {}).get("status") == "True"


_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                 ("ReadWriteOncePod", "RWOP"))


def _access_modes(modes) -> str:
    return ",".join(short for mode, short in _ACCESS_MODES if mode in (modes or ()))


# --- the column model ----------------------------------------------------------------------------

Cell = Callable[[dict, datetime], Any]


@dataclass(frozen=True)
class Doc:
    """A column description taken from the API's own field documentation, as upstream does."""
    definition: str
    field: str

    def text(self, definitions: dict) -> str:
        name = self.definition if self.definition.startswith("io.") else "io.k8s.api." + self.definition
        prop = definitions.get(name, {}).get("properties", {}).get(self.field, {})
        return prop.get("description", "")


@dataclass(frozen=True)
class Column:
    name: str
    cell: Cell
    doc: str | Doc = ""
    type: str = "string"
    priority: int = 0
    format: str = ""


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    # The shape the printer reads, when the served object differs (events.k8s.io Events).
    adapt: Callable[[dict], dict] | None = None
    # Row conditions (pods report Completed).
    conditions: Callable[[dict], list] | None = None
    # Lists upstream prints in an order of their own.
    sort_key: Callable[[dict], Any] | None = None


def field(path: str, default: Any = "") -> Cell:
    return lambda o, now: _dig(o, path, default)


def count(*paths: str) -> Cell:
    return lambda o, now: sum(len(_dig(o, p) or ()) for p in paths)


def ready_of(desired: str) -> Cell:
    """READY as ready/desired replicas; spec.replicas defaults to 1."""
    return lambda o, now: f"{_dig(o, 'status.readyReplicas', 0)}/{_dig(o, desired, 1)}"


def labels_at(path: str) -> Cell:
    return lambda o, now: format_labels(_dig(o, path))


def selector_at(path: str) -> Cell:
    return lambda o, now: format_label_selector(_dig(o, path))


def since_or_none(path: str) -> Cell:
    return lambda o, now: since(_dig(o, path), now) if _dig(o, path) else NONE


def _name(o, now):
    return _dig(o, "metadata.name", "")


def _age(o, now):
    return since(_dig(o, "metadata.creationTimestamp"), now)


def _annotation(o, key: str):
    return _dig(o, "metadata.annotations", {}).get(key)


META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
NAME = Column("Name", _name, Doc(META, "name"), format="name")
AGE = Column("Age", _age, Doc(META, "creationTimestamp"))


def template_columns(template: str, selector: tuple[Cell, Doc] | None = None,
                     priority: int = 1) -> tuple[Column, ...]:
    """The Containers, Images (and Selector) columns of the kinds that hold a pod template."""
    def each(key: str) -> Cell:
        return lambda o, now: ",".join(c.get(key, "") for c in _dig(o, f"{template}.spec.containers", []))

    cols = (Column("Containers", each("name"), "Names of each container in the template.", priority=priority),
            Column("Images", each("image"), "Images referenced by each container in the template.",
                   priority=priority))
    if selector is None:
        return cols
    return cols + (Column("Selector", selector[0], selector[1], priority=priority),)


# --- pods ----------------------------------------------------------------------------------------

def _later(current: datetime | None, status: dict) -> datetime | None:
    finished = parse_time(_dig(status, "lastState.terminated.finishedAt"))
    return finished if finished and (current is None or finished > current) else current


def _exit_reason(terminated: dict, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def pod_summary(pod: dict, now: datetime) -> tuple[str, str, str]:
    """READY, STATUS and RESTARTS, as printPod derives them from the container statuses."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions")
    init_specs = spec.get("initContainers") or []
    # Sidecars: init containers that keep running, counted as containers of the pod.
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + sum(c.get("restartPolicy") == "Always" for c in init_specs)
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions or []):
        reason = "SchedulingGated"

    ready = restarts = sidecar_restarts = 0
    last = sidecar_last = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += cs.get("restartCount", 0)
        last = _later(last, cs)
        sidecar = cs.get("name") in sidecars
        if sidecar:
            sidecar_restarts += cs.get("restartCount", 0)
            sidecar_last = _later(sidecar_last, cs)
        terminated, waiting = _dig(cs, "state.terminated"), _dig(cs, "state.waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += bool(cs.get("ready"))
            continue
        if terminated is not None:
            reason = _exit_reason(terminated, "Init:")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts, last = sidecar_restarts, sidecar_last
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount", 0)
            last = _later(last, cs)
            terminated, waiting = _dig(cs, "state.terminated"), _dig(cs, "state.waiting")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _exit_reason(terminated)
            elif cs.get("ready") and _dig(cs, "state.running") is not None:
                has_running = True
                ready += 1
        # A container that completed while another still runs does not make the pod Completed.
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if _dig(pod, "metadata.deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restart_text = str(restarts)
    if restarts and last is not None:
        restart_text = f"{restarts} ({since(last, now)} ago)"
    return f"{ready}/{total}", reason, restart_text


def _pod_ip(o, now):
    ips = _dig(o, "status.podIPs") or []
    return (ips[0].get("ip") if ips else _dig(o, "status.podIP")) or NONE


def _readiness_gates(o, now):
    gates = _dig(o, "spec.readinessGates") or []
    if not gates:
        return NONE
    conditions = _dig(o, "status.conditions") or []
    passed = sum(_condition_true(conditions, g.get("conditionType")) for g in gates)
    return f"{passed}/{len(gates)}"


_POD_CONDITIONS = {
    "Succeeded": [{"type": "Completed", "status": "True", "reason": "Succeeded",
                   "message": "The pod has completed successfully."}],
    "Failed": [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}],
}

POD = Printer((
    NAME,
    Column("Ready", lambda o, now: pod_summary(o, now)[0],
           "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", lambda o, now: pod_summary(o, now)[1], "The aggregate status of the containers in this pod."),
    Column("Restarts", lambda o, now: pod_summary(o, now)[2],
           "The number of times the containers in this pod have been restarted and when the last container "
           "in this pod has restarted."),
    AGE,
    Column("IP", _pod_ip, Doc("core.v1.PodStatus", "podIP"), priority=1),
    Column("Node", lambda o, now: _dig(o, "spec.nodeName") or NONE, Doc("core.v1.PodSpec", "nodeName"), priority=1),
    Column("Nominated Node", lambda o, now: _dig(o, "status.nominatedNodeName") or NONE,
           Doc("core.v1.PodStatus", "nominatedNodeName"), priority=1),
    Column("Readiness Gates", _readiness_gates, Doc("core.v1.PodSpec", "readinessGates"), priority=1),
), conditions=lambda o: _POD_CONDITIONS.get(_dig(o, "status.phase"), []))


# --- services, ingresses, endpoints --------------------------------------------------------------

def _cluster_ip(o, now):
    ips = _dig(o, "spec.clusterIPs") or [_dig(o, "spec.clusterIP")]
    return ips[0] or NONE


def _external_ip(o, now):
    spec = o.get("spec") or {}
    external = spec.get("externalIPs") or []
    kind = spec.get("type", "ClusterIP")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if kind == "LoadBalancer":
        balancer = _load_balancer(_dig(o, "status.loadBalancer"))
        if external:
            return ",".join(([balancer] if balancer else []) + external)
        return balancer or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return UNKNOWN


def _service_ports(o, now):
    pieces = []
    for p in _dig(o, "spec.ports") or []:
        node_port = f":{p['nodePort']}" if p.get("nodePort") else ""
        pieces.append(f"{p.get('port', 0)}{node_port}/{p.get('protocol', 'TCP')}")
    return ",".join(pieces) or NONE


def _ingress_hosts(o, now):
    rules = _dig(o, "spec.rules") or []
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
    params = _dig(o, "spec.parameters")
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
    for condition in _dig(o, "status.conditions") or []:
        if condition.get("type") == "Ready":
            ready = condition
    words = ["Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"]
    if _dig(o, "spec.unschedulable"):
        words.append("SchedulingDisabled")
    return ",".join(words)


def _node_roles(o, now):
    roles = set()
    for key, value in _dig(o, "metadata.labels", {}).items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or NONE


def _node_address(kind: str) -> Cell:
    def cell(o, now):
        return next((a.get("address") for a in _dig(o, "status.addresses") or [] if a.get("type") == kind), NONE)
    return cell


def _node_info(key: str) -> Cell:
    return lambda o, now: _dig(o, f"status.nodeInfo.{key}") or UNKNOWN


# --- events --------------------------------------------------------------------------------------

def _event_first_seen(e, now):
    first = e.get("firstTimestamp")
    return since(first if parse_time(first) else e.get("eventTime"), now)


def _event_last_seen(e, now):
    if e.get("series") is not None:
        return since(_dig(e, "series.lastObservedTime"), now)
    last = e.get("lastTimestamp")
    return since(last, now) if parse_time(last) else _event_first_seen(e, now)


def _event_count(e, now):
    if e.get("series") is not None:
        return _dig(e, "series.count", 0)
    # Singleton events of the events.k8s.io API carry no count.
    return e.get("count") or 1


def _event_object(e, now):
    kind, name = _dig(e, "involvedObject.kind", "").lower(), _dig(e, "involvedObject.name")
    return f"{kind}/{name}" if name else kind


def _event_source(e, now):
    component = _dig(e, "source.component") or e.get("reportingComponent") or ""
    instance = _dig(e, "source.host") or e.get("reportingInstance") or ""
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
    Column("Name", _name, Doc(META, "name"), priority=1, format="name"),
)


# --- workloads -----------------------------------------------------------------------------------

def _job_completions(o, now):
    succeeded = _dig(o, "status.succeeded", 0)
    completions = _dig(o, "spec.completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = _dig(o, "spec.parallelism", 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(o, now):
    start = parse_time(_dig(o, "status.startTime"))
    if start is None:
        return ""
    return human_duration((parse_time(_dig(o, "status.completionTime")) or now) - start)


def _job_status(o, now):
    conditions = _dig(o, "status.conditions")
    if _condition_true(conditions, "Complete"):
        return "Complete"
    if _condition_true(conditions, "Failed"):
        return "Failed"
    if _dig(o, "metadata.deletionTimestamp"):
        return "Terminating"
    return next((kind for kind in ("Suspended", "FailureTarget") if _condition_true(conditions, kind)), "Running")


def _deployment_selector(o, now):
    text = label_selector_string(_dig(o, "spec.selector"))
    return "<invalid>" if text is None else text


def _controller_of(o, now):
    ref = next((r for r in _dig(o, "metadata.ownerReferences", []) if r.get("controller")), None)
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
        return UNKNOWN if missing else _qty(current.get(name))

    if kind == "Pods":
        return f"{now_('averageValue')}/{_qty(target.get('averageValue'))}"
    if kind in ("External", "Object"):
        if target.get("averageValue") is not None:
            return f"{now_('averageValue', required=True)}/{target['averageValue']} (avg)"
        return f"{now_('value')}/{_qty(target.get('value'))}"
    named = f"{source.get('name', '')}: "
    if target.get("averageValue") is not None:
        return f"{named}{now_('averageValue')}/{target['averageValue']}"
    used = now_("averageUtilization", required=True)
    used = used if used == UNKNOWN else f"{used}%"
    wanted = "<auto>" if target.get("averageUtilization") is None else f"{target['averageUtilization']}%"
    return f"{named}{used}/{wanted}"


def _hpa_targets(o, now):
    specs = _dig(o, "spec.metrics") or []
    if not specs:
        return NONE
    statuses = _dig(o, "status.currentMetrics") or []
    shown = [_hpa_metric(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs[:2])]
    more = f" + {len(specs) - 2} more..." if len(specs) > 2 else ""
    return ", ".join(shown) + more


# --- storage -------------------------------------------------------------------------------------

def _storage_class_of(path: str) -> Cell:
    def cell(o, now):
        beta = _annotation(o, "volume.beta.kubernetes.io/storage-class")
        return beta if beta is not None else _dig(o, path, "")
    return cell


def _phase(o, now):
    return "Terminating" if _dig(o, "metadata.deletionTimestamp") else _dig(o, "status.phase", "")


def _claim_ref(o, now):
    ref = _dig(o, "spec.claimRef")
    return f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""


def _bound(cell: Cell) -> Cell:
    """A claim shows what it got only once bound to a volume."""
    return lambda o, now: cell(o, now) if _dig(o, "spec.volumeName") else ""


def _default_marked(*annotations: str) -> Cell:
    def cell(o, now):
        default = any(_annotation(o, a) == "true" for a in annotations)
        return _name(o, now) + (" (default)" if default else "")
    return cell


def _quota(limits: bool) -> Cell:
    def cell(o, now):
        hard, used = _dig(o, "status.hard") or {}, _dig(o, "status.used") or {}
        return ", ".join(f"{r}: {used.get(r, '0')}/{hard[r]}" for r in sorted(hard)
                         if (r.split(".")[0] == "limits" and "." in r) == limits)
    return cell


def _token_requests(o, now):
    requests = _dig(o, "spec.tokenRequests")
    return UNSET if requests is None else ",".join(t.get("audience", "") for t in requests)


# --- the rest ------------------------------------------------------------------------------------

def _int_or_string(path: str) -> Cell:
    return lambda o, now: "N/A" if _dig(o, path) is None else str(_dig(o, path))


def _subjects(kind: str) -> Cell:
    def cell(o, now):
        return ", ".join(f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount"
                         else s.get("name", "") for s in o.get("subjects") or [] if s.get("kind") == kind)
    return cell


def _csr_condition(o, now):
    kinds = {c.get("type") for c in _dig(o, "status.conditions") or []}
    words = ["Denied" if "Denied" in kinds else "Approved" if "Approved" in kinds else "Pending"]
    words += ["Failed"] * ("Failed" in kinds) + ["Issued"] * bool(_dig(o, "status.certificate"))
    return ",".join(words)


def _csr_duration(o, now):
    seconds = _dig(o, "spec.expirationSeconds")
    return NONE if seconds is None else human_duration(timedelta(seconds=seconds))


def _component_status(o, now):
    healthy = _condition(o.get("conditions"), "Healthy")
    if healthy is None:
        return "Unknown"
    return "Healthy" if healthy.get("status") == "True" else "Unhealthy"


def _component_condition(key: str) -> Cell:
    return lambda o, now: (_condition(o.get("conditions"), "Healthy") or {}).get(key, "")


def _param_kind(o, now):
    kind = _dig(o, "spec.paramKind")
    return f"{kind.get('apiVersion', '')}/{kind.get('kind', '')}" if kind else UNSET


def _param_ref(o, now):
    ref = _dig(o, "spec.paramRef")
    if not ref:
        return UNSET
    if ref.get("name"):
        # Unnamed namespaces read as "*": the printer cannot tell whether the param is cluster-scoped.
        return f"{ref.get('namespace') or '*'}/{ref['name']}"
    return _go_label_selector(ref["selector"]) if ref.get("selector") is not None else UNSET


def _flow_schema_dangling(o, now):
    dangling = _condition(_dig(o, "status.conditions"), "Dangling")
    return "?" if dangling is None else dangling.get("status", "")


def _limited(path: str) -> Cell:
    """A number of a Limited priority level, `<none>` where the level has no such setting."""
    def cell(o, now):
        found = _dig(o, f"spec.limited.{path}")
        if found is not None:
            return found
        # Unset numbers of a level that exists read as Go's zero value.
        parent = _dig(o, "spec.limited." + path.rpartition(".")[0]) if "." in path else _dig(o, "spec.limited")
        return NONE if parent is None else 0
    return cell


def _ip_parent(o, now):
    ref = _dig(o, "spec.parentRef")
    if not ref:
        return NONE
    resource = ref.get("resource", "") + (f".{ref['group']}" if ref.get("group") else "")
    namespace = f"/{ref['namespace']}" if ref.get("namespace") else ""
    return f"{resource.lower()}{namespace}/{ref.get('name', '')}"


def _apiservice_available(o, now):
    condition = _condition(_dig(o, "status.conditions"), "Available")
    if condition is None:
        return "Unknown"
    status = condition.get("status", "")
    return f"{status} ({condition['reason']})" if status != "True" and condition.get("reason") else status


def _apiservice_service(o, now):
    service = _dig(o, "spec.service")
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
    return _p(NAME, Column("Role", lambda o, now: f"{_dig(o, 'roleRef.kind', '')}/{_dig(o, 'roleRef.name', '')}",
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
        Column("Access Modes", lambda o, now: _access_modes(_dig(o, "spec.accessModes")),
               Doc("core.v1.PersistentVolumeSpec", "accessModes")),
        Column("Reclaim Policy", field("spec.persistentVolumeReclaimPolicy"),
               Doc("core.v1.PersistentVolumeSpec", "persistentVolumeReclaimPolicy")),
        Column("Status", _phase, Doc("core.v1.PersistentVolumeStatus", "phase")),
        Column("Claim", _claim_ref, Doc("core.v1.PersistentVolumeSpec", "claimRef")),
        Column("StorageClass", _storage_class_of("spec.storageClassName"), "StorageClass of the pv"),
        Column("VolumeAttributesClass", field("spec.volumeAttributesClassName", UNSET),
               "VolumeAttributesClass of the pv"),
        Column("Reason", field("status.reason"), Doc("core.v1.PersistentVolumeStatus", "reason")), AGE,
        Column("VolumeMode", field("spec.volumeMode", UNSET), Doc("core.v1.PersistentVolumeSpec", "volumeMode"),
               priority=1)),
    ("", "persistentvolumeclaims"): _p(
        NAME, Column("Status", _phase, Doc("core.v1.PersistentVolumeClaimStatus", "phase")),
        Column("Volume", field("spec.volumeName"), Doc("core.v1.PersistentVolumeClaimSpec", "volumeName")),
        Column("Capacity", _bound(field("status.capacity.storage", "0")),
               Doc("core.v1.PersistentVolumeClaimStatus", "capacity")),
        Column("Access Modes", _bound(lambda o, now: _access_modes(_dig(o, "status.accessModes"))),
               Doc("core.v1.PersistentVolumeClaimStatus", "accessModes")),
        Column("StorageClass", _storage_class_of("spec.storageClassName"), "StorageClass of the pvc"),
        Column("VolumeAttributesClass", field("spec.volumeAttributesClassName", UNSET),
               "VolumeAttributesClass of the pvc"), AGE,
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
        NAME, Column("Status", _job_status, "Status of the job."),
        Column("Completions", _job_completions, Doc("batch.v1.JobStatus", "succeeded")),
        Column("Duration", _job_duration, "Time required to complete the job."), AGE,
        *template_columns("spec.template", (selector_at("spec.selector"), Doc("batch.v1.JobSpec", "selector")))),
    ("batch", "cronjobs"): _p(
        NAME, Column("Schedule", field("spec.schedule"), Doc("batch.v1.CronJobSpec", "schedule")),
        Column("Timezone", field("spec.timeZone", NONE), Doc("batch.v1.CronJobSpec", "timeZone")),
        Column("Suspend", lambda o, now: _bool_word(_dig(o, "spec.suspend")), Doc("batch.v1.CronJobSpec", "suspend"),
               "boolean"),
        Column("Active", count("status.active"), Doc("batch.v1.CronJobStatus", "active"), "integer"),
        Column("Last Schedule", since_or_none("status.lastScheduleTime"), Doc("batch.v1.CronJobStatus",
                                                                             "lastScheduleTime")),
        AGE, *template_columns("spec.jobTemplate.spec.template", (selector_at("spec.jobTemplate.spec.selector"),
                                                                  Doc("batch.v1.JobSpec", "selector")))),
    ("autoscaling", "horizontalpodautoscalers"): _p(
        NAME, Column("Reference", lambda o, now: f"{_dig(o, 'spec.scaleTargetRef.kind', '')}/"
                                              f"{_dig(o, 'spec.scaleTargetRef.name', '')}",
                     Doc("autoscaling.v2.HorizontalPodAutoscalerSpec", "scaleTargetRef")),
        Column("Targets", _hpa_targets, Doc("autoscaling.v2.HorizontalPodAutoscalerSpec", "metrics")),
        Column("MinPods", lambda o, now: str(_dig(o, "spec.minReplicas", UNSET)),
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
        Column("Address", lambda o, now: _load_balancer(_dig(o, "status.loadBalancer")),
               "Address is a list containing ingress points for the load-balancer"),
        Column("Ports", lambda o, now: "80, 443" if _dig(o, "spec.tls") else "80",
               "Ports of TLS configurations that open"),
        AGE),
    ("networking.k8s.io", "ingressclasses"): _p(
        NAME, Column("Controller", field("spec.controller"),
                     "Controller that is responsible for handling this class"),
        Column("Parameters", _ingress_class_parameters, "A reference to a resource with additional parameters"),
        AGE),
    ("networking.k8s.io", "networkpolicies"): _p(
        NAME, Column("Pod-Selector", lambda o, now: format_label_selector(_dig(o, "spec.podSelector") or {}),
                     Doc("networking.v1.NetworkPolicySpec", "podSelector")), AGE),
    ("networking.k8s.io", "servicecidrs"): _p(
        NAME, Column("CIDRs", lambda o, now: ",".join(_dig(o, "spec.cidrs") or []),
                     Doc("networking.v1.ServiceCIDRSpec", "cidrs")), AGE),
    ("networking.k8s.io", "ipaddresses"): _p(
        NAME, Column("ParentRef", _ip_parent, Doc("networking.v1.IPAddressSpec", "parentRef"))),
    ("discovery.k8s.io", "endpointslices"): _p(
        NAME, Column("AddressType", field("addressType"), Doc("discovery.v1.EndpointSlice", "addressType")),
        Column("Ports", lambda o, now: _list_with_more([_slice_port(p) for p in o.get("ports") or []]),
               Doc("discovery.v1.EndpointSlice", "ports")),
        Column("Endpoints", lambda o, now: _list_with_more([a for e in o.get("endpoints") or []
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
        Column("Modes", lambda o, now: ",".join(_dig(o, "spec.volumeLifecycleModes") or []) or NONE,
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
        sort_key=lambda o: (_dig(o, "spec.matchingPrecedence", 0), _name(o, None))),
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
    created = parse_time(_dig(o, "metadata.creationTimestamp")) or _ZERO_TIME
    # Not strftime: it writes year 1 (Go's zero time) as "1", where RFC 3339 wants "0001".
    return created.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Stores that register kube's default convertor (or no printer at all): NAME and CREATED AT.
DEFAULT_PRINTER = _p(NAME, Column("Created At", _created_at, Doc(META, "creationTimestamp"), "date"))

# A CustomResourceDefinition without printer columns gets this one (apiextensions'
# serveDefaultColumnsIfEmpty).
CRD_DEFAULT_COLUMNS = ({"name": "Age", "type": "date", "description": Doc(META, "creationTimestamp"),
                        "jsonPath": ".metadata.creationTimestamp"},)


# --- CustomResourceDefinition printer columns ----------------------------------------------------

class JSONPathError(ValueError):
    pass


# The subset of client-go's JSONPath that printer columns use: `.field` (with `\.` escapes),
# `['field']`, `[index]`, `[*]` and `[?(@.a.b == literal)]` / `!=`.
_STEP = re.compile(r"""
    \.(?P<field>(?:\\.|[^.\[\]\\])+)
  | \[\s*(?P<quote>['"])(?P<key>.*?)(?P=quote)\s*\]
  | \[\s*(?P<index>-?\d+)\s*\]
  | \[\s*(?P<star>\*)\s*\]
  | \[\s*\?\(\s*@(?P<lhs>(?:\.[^.\s=!()\[\]]+)+)\s*(?P<op>==|!=)\s*(?P<rhs>"[^"]*"|'[^']*'|[^)\s]+)\s*\)\s*\]
""", re.VERBOSE)


@functools.lru_cache(maxsize=256)
def parse_jsonpath(path: str) -> tuple[tuple, ...]:
    """The steps of a printer column's JSONPath, as ("field", key), ("index", i), ("all",) and
    ("filter", keys, op, literal)."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    text = text.removeprefix("$")
    steps, pos = [], 0
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None:
            raise JSONPathError(f"unrecognized column definition {path!r}")
        pos = m.end()
        if m["field"] is not None:
            steps.append(("field", m["field"].replace("\\.", ".")))
        elif m["key"] is not None:
            steps.append(("field", m["key"]))
        elif m["index"] is not None:
            steps.append(("index", int(m["index"])))
        elif m["star"]:
            steps.append(("all",))
        else:
            rhs = m["rhs"]
            try:
                literal = rhs[1:-1] if rhs[0] in "'\"" else json.loads(rhs)
            except ValueError:
                raise JSONPathError(f"unrecognized filter value {rhs!r} in {path!r}") from None
            steps.append(("filter", tuple(m["lhs"][1:].split(".")), m["op"], literal))
    return tuple(steps)


def _filter_passes(item, keys: tuple[str, ...], op: str, literal) -> bool:
    for key in keys:
        # An element without the compared field is left out, whatever the operator.
        if not isinstance(item, dict) or key not in item:
            return False
        item = item[key]
    # Python's True == 1; JSON's true is no number.
    same = item is literal if isinstance(item, bool) or isinstance(literal, bool) else item == literal
    return same if op == "==" else not same


def jsonpath_values(obj, steps) -> list:
    """Every value the path reaches; missing keys and out-of-range indexes reach nothing."""
    values = [obj]
    for step in steps:
        found = []
        for v in values:
            if step[0] == "field" and isinstance(v, dict) and step[1] in v:
                found.append(v[step[1]])
            elif step[0] == "index" and isinstance(v, list) and -len(v) <= step[1] < len(v):
                found.append(v[step[1]])
            elif step[0] == "all" and isinstance(v, list):
                found.extend(v)
            elif step[0] == "filter" and isinstance(v, list):
                found.extend(item for item in v if _filter_passes(item, *step[1:]))
        values = found
    return values


def _go_text(value) -> str:
    """How client-go's JSONPath prints a value: objects and arrays as JSON, the rest as Go's %v."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def _typed_cell(kind: str, value, now: datetime):
    """cellForJSONValue of apiextensions' table convertor: a value of the column's type, or null."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer" and number:
        return int(value)
    if kind == "number" and number:
        return float(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, str):
        if value in ("", "null"):
            return UNKNOWN
        try:
            parse_rfc3339(value)
        except ValueError:
            return "<invalid>"
        return since(value, now)
    return None


def _jsonpath_cell(steps: tuple, kind: str) -> Cell:
    def cell(o, now):
        found = jsonpath_values(o, steps)
        # Upstream takes the first value only, even of a [*] path.
        if not found or found[0] is None:
            return None
        return _go_text(found[0]) if kind == "string" else _typed_cell(kind, found[0], now)
    return cell


def crd_printer(columns) -> Printer:
    """apiextensions' table convertor over a CRD version's additionalPrinterColumns."""
    made = [NAME]
    for spec in columns or CRD_DEFAULT_COLUMNS:
        try:
            steps = parse_jsonpath(spec["jsonPath"])
        except JSONPathError:
            # Upstream keeps the columns before the first it cannot parse.
            break
        kind = spec.get("type") or "string"
        doc = spec.get("description") or f"Custom resource definition column (in JSONPath format): {spec['jsonPath']}"
        made.append(Column(spec["name"], _jsonpath_cell(steps, kind), doc, kind, spec.get("priority") or 0,
                           spec.get("format") or ""))
    return Printer(tuple(made))


# --- the Table -----------------------------------------------------------------------------------

_BUILTIN_RESOURCES = frozenset((group, plural) for group, _, plural, *_ in BUILTIN)


def printer_for(group: str, resource: str) -> Printer:
    """The printer kube-apiserver uses for a built-in resource; a custom resource without printer
    columns gets NAME and AGE."""
    found = PRINTERS.get((group, resource))
    if found is not None:
        return found
    return DEFAULT_PRINTER if (group, resource) in _BUILTIN_RESOURCES else crd_printer(())


def column_definitions(printer: Printer) -> list[dict]:
    definitions = schemas.load().definitions
    return [{"name": c.name, "type": c.type, "format": c.format,
             "description": c.doc.text(definitions) if isinstance(c.doc, Doc) else c.doc,
             "priority": c.priority} for c in printer.columns]


def _row_object(obj: dict, include_object: str):
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": TABLE_API_VERSION, "metadata": obj.get("metadata", {})}


def build_table(group: str, resource: str, objects: list[dict], *, list_meta: dict | None = None,
                include_object: str = "Metadata", now: datetime | None = None,
                columns: list[dict] | None = None) -> dict:
    """The Table kube-apiserver answers for these objects of `group`/`resource`.

    `columns` are a CustomResourceDefinition's additionalPrinterColumns; given (even empty), they
    replace the built-in printer. `include_object` is the includeObject query parameter: "None"
    leaves each row's object null (as upstream serializes it), "Object" sends the whole object,
    anything else its metadata as a PartialObjectMetadata. Without `list_meta`, the Table of a
    single object (a watch event) carries that object's resourceVersion, as upstream's does.
    """
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    printer = crd_printer(columns) if columns is not None else printer_for(group, resource)
    if printer.sort_key is not None:
        objects = sorted(objects, key=printer.sort_key)
    rows = []
    for obj in objects:
        shown = printer.adapt(obj) if printer.adapt else obj
        row: dict = {"cells": [c.cell(shown, now) for c in printer.columns]}
        conditions = printer.conditions(obj) if printer.conditions else None
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object)
        rows.append(row)
    if list_meta is None:
        rv = objects[0].get("metadata", {}).get("resourceVersion") if len(objects) == 1 else None
        list_meta = {"resourceVersion": rv} if rv else {}
    return {"kind": "Table", "apiVersion": TABLE_API_VERSION, "metadata": list_meta,
            "columnDefinitions": column_definitions(printer), "rows": rows}
