"""What every printer is built from: time and value formatting, and the column model."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from admission.gotime import parse_rfc3339
from admission.validation import dig


TABLE_API_VERSION = "meta.k8s.io/v1"
NONE = "<none>"
UNKNOWN = "<unknown>"
UNSET = "<unset>"

_MICROSECOND = timedelta(microseconds=1)
ZERO_TIME = datetime(1, 1, 1, tzinfo=timezone.utc)


# --- time ----------------------------------------------------------------------------------------

def parse_time(value) -> datetime | None:
    """A timestamp field; None when unset, zero or unreadable (all print as `<unknown>`)."""
    try:
        parsed = parse_rfc3339(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return None if parsed is None or parsed <= ZERO_TIME else parsed


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

def value_at(obj, path: str, default=None):
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


def go_label_selector(selector: dict) -> str:
    """The generated (*metav1.LabelSelector).String(), which one printer shows as is."""
    labels = selector.get("matchLabels") or {}
    exprs = "".join(f"LabelSelectorRequirement{{Key:{e.get('key', '')},Operator:{e.get('operator', '')},"
                    f"Values:[{' '.join(e.get('values') or [])}],}},"
                    for e in selector.get("matchExpressions") or [])
    pairs = "".join(f"{k}: {labels[k]}," for k in sorted(labels))
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{pairs}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}")


def list_with_more(items: list[str]) -> str:
    shown = ",".join(items[:3])
    return f"{shown} + {len(items) - 3} more..." if len(items) > 3 else shown or UNSET


def load_balancer(status) -> str:
    """The sorted, distinct IPs (else hostnames) of a load balancer status, never clipped: the
    server always prints as for `-o wide`."""
    found = {i.get("ip") or i.get("hostname") for i in (status or {}).get("ingress") or []}
    return ",".join(sorted(found - {None, ""}))


def quantity(value) -> str:
    """(*resource.Quantity).String() of an optional quantity."""
    return "<nil>" if value is None else str(value)


def bool_word(value) -> str:
    return UNSET if value is None else "True" if value else "False"


def condition_of(conditions, kind: str) -> dict | None:
    return next((c for c in conditions or [] if c.get("type") == kind), None)


def condition_true(conditions, kind: str) -> bool:
    """Whether the first condition of that type is True."""
    return (condition_of(conditions, kind) or {}).get("status") == "True"


_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                 ("ReadWriteOncePod", "RWOP"))


def access_modes(modes) -> str:
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


def release(version: str) -> tuple[int, int]:
    """A Kubernetes release ("1.29") as a number pair that compares in release order."""
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


@dataclass(frozen=True)
class Column:
    name: str
    cell: Cell
    doc: str | Doc = ""
    type: str = "string"
    priority: int = 0
    format: str = ""
    # Upstream's printers gain columns from one release to the next: a column is printed from
    # release `since` on and, with `until`, no longer from that release on.
    since: str = ""
    until: str = ""

    def printed_in(self, version: str) -> bool:
        served = release(version)
        return ((not self.since or release(self.since) <= served)
                and (not self.until or served < release(self.until)))


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    # The shape the printer reads, when the served object differs (events.k8s.io Events).
    adapt: Callable[[dict], dict] | None = None
    # Row conditions (pods report Completed).
    conditions: Callable[[dict], list] | None = None
    # Lists upstream prints in an order of their own.
    sort_key: Callable[[dict], Any] | None = None

    def columns_in(self, version: str) -> tuple[Column, ...]:
        """The columns the printer of release `version` prints."""
        return tuple(c for c in self.columns if c.printed_in(version))


def printer(*columns: Column, **kw) -> Printer:
    return Printer(tuple(columns), **kw)


def field(path: str, default: Any = "") -> Cell:
    return lambda o, now: value_at(o, path, default)


def count(*paths: str) -> Cell:
    return lambda o, now: sum(len(value_at(o, p) or ()) for p in paths)


def ready_of(desired: str) -> Cell:
    """READY as ready/desired replicas; spec.replicas defaults to 1."""
    return lambda o, now: f"{value_at(o, 'status.readyReplicas', 0)}/{value_at(o, desired, 1)}"


def labels_at(path: str) -> Cell:
    return lambda o, now: format_labels(value_at(o, path))


def selector_at(path: str) -> Cell:
    return lambda o, now: format_label_selector(value_at(o, path))


def since_or_none(path: str) -> Cell:
    return lambda o, now: since(value_at(o, path), now) if value_at(o, path) else NONE


def name_of(o, now):
    return value_at(o, "metadata.name", "")


def _age(o, now):
    return since(value_at(o, "metadata.creationTimestamp"), now)


def annotation_of(o, key: str):
    return value_at(o, "metadata.annotations", {}).get(key)


META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
NAME = Column("Name", name_of, Doc(META, "name"), format="name")
AGE = Column("Age", _age, Doc(META, "creationTimestamp"))


def template_columns(template: str, selector: tuple[Cell, Doc] | None = None,
                     priority: int = 1) -> tuple[Column, ...]:
    """The Containers, Images (and Selector) columns of the kinds that hold a pod template."""
    def each(key: str) -> Cell:
        return lambda o, now: ",".join(c.get(key, "") for c in value_at(o, f"{template}.spec.containers", []))

    cols = (Column("Containers", each("name"), "Names of each container in the template.", priority=priority),
            Column("Images", each("image"), "Images referenced by each container in the template.",
                   priority=priority))
    if selector is None:
        return cols
    return cols + (Column("Selector", selector[0], selector[1], priority=priority),)
