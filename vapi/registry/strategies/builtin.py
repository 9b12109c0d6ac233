"""The built-in family: strategies assembled from the data tables kube's per-kind code amounts to.

Which kinds count generations, what status a new object starts with, which kinds may write status
on create: data, kept here as tables. Schemas, defaults and validation rules come from the served
Kubernetes version's definitions (`admission`).
"""
from __future__ import annotations

from admission import defaults, validation

from ... import errors
from .. import gotypes
from .base import Strategy

# Kinds whose strategies set metadata.generation (kube's PrepareForCreate sets it to 1 for these).
GENERATION_KINDS = {
    ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
    ("batch", "Job"), ("batch", "CronJob"), ("", "ReplicationController"),
    ("autoscaling", "HorizontalPodAutoscaler"), ("policy", "PodDisruptionBudget"),
    ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "NetworkPolicy"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("", "PersistentVolumeClaim"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
}

# What a freshly created object's status is, where kube's strategy resets it to something other
# than empty. Kinds absent here keep no client-sent status if they have a status subresource.
INITIAL_STATUS = {
    ("", "Pod"): {"phase": "Pending"},
    ("", "Namespace"): {"phase": "Active"},
    ("", "PersistentVolumeClaim"): {"phase": "Pending"},
    ("", "PersistentVolume"): {"phase": "Pending"},
    ("", "Service"): {"loadBalancer": {}},
}

# Kinds whose clients (kubelets, controllers) legitimately write status together with the object.
STATUS_ON_CREATE = {("", "Node"), ("", "Event"), ("events.k8s.io", "Event")}


class BuiltinStrategy(Strategy):
    def __init__(self, info, schemas):
        super().__init__(info, schemas)
        key = (info.group, info.kind)
        self.has_generation = key in GENERATION_KINDS
        self.initial_status = INITIAL_STATUS.get(key)
        self.status_on_create = key in STATUS_ON_CREATE
        self.strategic_merge_kind = (info.group, info.version, info.kind)
        self._message = gotypes.message_for(info.group_version, info.kind)

    def in_wire_order(self, obj: dict) -> dict:
        return gotypes.in_go_order(obj, self._message) if self._message else obj

    def decode(self, obj: dict) -> list[str]:
        info = self.info
        validation.null_map_values(self.schemas, info.group, info.version, info.kind, obj)
        problems = validation.decode_errors(self.schemas, info.group, info.version, info.kind, obj)
        if problems:
            raise errors.bad_request(problems[0])
        return validation.unknown_fields(self.schemas, info.group, info.version, info.kind, obj, drop=True)

    def prepare_for_create(self, obj: dict, user=None) -> None:
        super().prepare_for_create(obj, user)
        if (self.info.group, self.info.kind) == ("batch", "Job"):
            # The selector on the Job's own uid can only be written once the uid exists.
            defaults.generate_job_selector(obj)

    def default(self, obj: dict) -> None:
        defaults.apply_defaults(self.schemas, self.info.group, self.info.version, self.info.kind, obj)

    def validate(self, obj: dict, old: dict | None, subresource: str | None) -> list[dict]:
        info = self.info
        return validation.validate(self.schemas, info.group, info.version, info.kind, obj, old,
                                   namespaced=info.namespaced, subresource=subresource)

    def _schema(self):
        return self.schemas.for_kind(self.info.group, self.info.version, self.info.kind), self.schemas.resolve
