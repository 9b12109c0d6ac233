"""Events of both API versions, core/v1 and events.k8s.io/v1, judged as kube judges them
(pkg/apis/core/validation/events.go): in the internal form, which names fields as core/v1 does.
"""
from __future__ import annotations

from admission.validation.fielderrors import Causes, IMMUTABLE
from admission.validation.names import is_dns1123_subdomain, is_path_segment_name, is_qualified_name
from admission.validation.objects import as_dict, semantic
from admission.validation.rules.meta import validate_object_meta

# events.k8s.io/v1 field -> core/v1 field, as kube's conversion renames them (the rest keep their
# names). Both are one type inside kube, whose validation names fields as core/v1 does except for
# reportingController.
EVENTS_V1_TO_CORE = {"note": "message", "regarding": "involvedObject", "deprecatedSource": "source",
                     "deprecatedFirstTimestamp": "firstTimestamp", "deprecatedLastTimestamp": "lastTimestamp",
                     "deprecatedCount": "count", "reportingController": "reportingComponent"}
_EVENT_IMMUTABLE = ("involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
                    "type", "eventTime", "action", "related", "reportingController", "reportingInstance")


def core_event(obj: dict) -> dict:
    """An events.k8s.io/v1 Event's fields under their core/v1 names."""
    return {EVENTS_V1_TO_CORE.get(k, k): v for k, v in obj.items()}


def _internal(core: dict) -> dict:
    return {("reportingController" if k == "reportingComponent" else k): v for k, v in core.items()}


def _legacy_event(c: Causes, event: dict) -> None:
    namespace = as_dict(event.get("metadata")).get("namespace") or ""
    involved = as_dict(event.get("involvedObject")).get("namespace") or ""
    if not event.get("eventTime"):
        if (not involved and namespace not in ("", "default")) or (involved and namespace != involved):
            c.invalid("involvedObject.namespace", involved, "does not match event.namespace")
    else:
        if not involved and namespace not in ("default", "kube-system"):
            c.invalid("involvedObject.namespace", involved, "does not match event.namespace")
        controller = event.get("reportingController") or ""
        if not controller:
            c.required("reportingController")
        c.check("reportingController", controller, is_qualified_name)
        for field, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128), ("message", 1024)):
            if not event.get(field) and field != "message":
                c.required(field)
            if len(event.get(field) or "") > limit:
                c.invalid(field, "", f"can have at most {limit} characters")
    c.check("namespace", namespace, is_dns1123_subdomain)


def validate_event(c: Causes, obj: dict, old: dict | None) -> None:
    _legacy_event(c, _internal(obj))
    if old is None and not c.items:
        # What every create then checks, after the kind's own rules pass.
        validate_object_meta(c, as_dict(obj.get("metadata")), is_path_segment_name, namespaced=True)


def validate_events_v1_event(c: Causes, obj: dict, old: dict | None) -> None:
    event = _internal(core_event(obj))
    _legacy_event(c, event)
    series = as_dict(event.get("series"))
    if series and (old is None or series != as_dict(old.get("series"))):
        if (series.get("count") or 0) < 2:
            c.invalid("series.count", "", "should be at least 2")
        if not series.get("lastObservedTime"):
            c.required("series.lastObservedTime")
    if old is not None:
        previous = _internal(core_event(old))
        for field in _EVENT_IMMUTABLE:
            if semantic(event.get(field)) != semantic(previous.get(field)):
                c.invalid(field, event.get(field), IMMUTABLE)
        return
    if not event.get("eventTime"):
        c.required("eventTime")
    if event.get("type") not in ("Normal", "Warning"):
        c.invalid("type", "", f"has invalid value: {event.get('type') or ''}")
    for field in ("firstTimestamp", "lastTimestamp", "count"):
        if event.get(field):
            c.invalid(field, "", "needs to be unset")
    if any(as_dict(event.get("source")).get(k) for k in ("component", "host")):
        c.invalid("source", "", "needs to be unset")
