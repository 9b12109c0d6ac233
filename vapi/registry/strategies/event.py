"""events.k8s.io/v1 Events: another view of the core/v1 Events, stored once.

kube keeps one Event type and serves it through both APIs, so an event recorded through either
(the scheduler's through events.k8s.io, the controllers' through core/v1) is listed, watched and
described through both. Here the core/v1 shape is the stored one; this strategy renames fields on
the way in and out, as kube's events/v1 conversion does.
"""
from __future__ import annotations

from admission.validation.rules.events import EVENTS_V1_TO_CORE, core_event

from .builtin import BuiltinStrategy

TO_V1 = {core: v1 for v1, core in EVENTS_V1_TO_CORE.items()}


def as_core(event: dict) -> dict:
    """An events.k8s.io/v1 Event in core/v1's shape."""
    out = core_event(event)
    out["apiVersion"], out["kind"] = "v1", "Event"
    return out


def as_events_v1(event: dict) -> dict:
    out = {TO_V1.get(k, k): v for k, v in event.items()}
    out["apiVersion"], out["kind"] = "events.k8s.io/v1", "Event"
    out.setdefault("eventTime", None)  # not omitempty in events.k8s.io/v1
    return out


class EventsV1Strategy(BuiltinStrategy):
    stored_as = ("", "events")

    def served(self, obj: dict) -> dict:
        return self.in_wire_order(as_events_v1(obj))

    def stored(self, obj: dict) -> dict:
        return as_core(obj)
