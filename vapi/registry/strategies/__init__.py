"""One strategy per served resource: everything that differs between kinds, behind one interface.

`for_resource` is the single place that picks a kind's strategy: custom resources get theirs from
their CRD, built-in kinds the built-in family, specialised where kube's own per-kind strategy does
more than its data tables say (`pod.py`, `service.py`, …, one file per kind).
"""
from __future__ import annotations

from ...auth.reviews import REVIEWS
from .base import ScalePaths, Strategy, micro_rfc3339, now_rfc3339, rfc3339
from .builtin import BuiltinStrategy
from .certificates import CSRStrategy
from .crd import CLEANUP_FINALIZER, CRDStrategy
from .custom import CustomResourceStrategy
from .event import EventsV1Strategy
from .hpa import HPAv1Strategy
from .metrics import MetricsStrategy
from .namespace import NamespaceStrategy
from .pod import PodStrategy
from .review import ReviewStrategy
from .service import ServiceStrategy

PER_KIND = {
    ("", "Pod"): PodStrategy,
    ("", "Namespace"): NamespaceStrategy,
    ("", "Service"): ServiceStrategy,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): CRDStrategy,
    ("certificates.k8s.io", "CertificateSigningRequest"): CSRStrategy,
    ("events.k8s.io", "Event"): EventsV1Strategy,
    ("metrics.k8s.io", "PodMetrics"): MetricsStrategy,
    ("metrics.k8s.io", "NodeMetrics"): MetricsStrategy,
}

# Versions served as views of another stored version.
PER_VERSION = {
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): HPAv1Strategy,
}


def for_resource(info, schemas) -> Strategy:
    if info.crd is not None:
        return CustomResourceStrategy(info, schemas)
    if (info.group, info.plural) in REVIEWS:
        return ReviewStrategy(info, schemas)
    strategy = PER_VERSION.get((info.group, info.version, info.kind)) or \
        PER_KIND.get((info.group, info.kind), BuiltinStrategy)
    return strategy(info, schemas)


__all__ = ["CLEANUP_FINALIZER", "ScalePaths", "Strategy", "for_resource", "micro_rfc3339", "now_rfc3339", "rfc3339"]
