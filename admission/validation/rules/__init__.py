"""Which of kube's hand-written rules apply to which kind: the validation of each kind (its
`pkg/apis/<group>/validation`), the format its name must have, and the fields an update may not
change beyond what the kind's rules judge. The rules themselves live with their API group.
"""
from __future__ import annotations

from collections.abc import Callable

from admission.gofmt import go_value
from admission.validation.fielderrors import Causes
from admission.validation.names import is_dns1035_label, is_dns1123_label, is_path_segment_name
from admission.validation.rules import (admissionregistration, apiextensions, apps, batch, coordination, core, events,
                                        networking, rbac, scheduling)
from admission.validation.rules.meta import go_label_selector, NameFn
from admission.validation.rules.rbac import RBAC

Rule = Callable[[Causes, dict, dict | None], None]

# Each takes the causes, the object and the stored object on update (None on create).
KIND_RULES: dict[tuple[str, str, str], Rule] = {
    ("", "v1", "Pod"): core.validate_pod,
    ("", "v1", "PodTemplate"): core.validate_pod_template,
    ("", "v1", "ReplicationController"): core.validate_replication_controller,
    ("", "v1", "Service"): core.validate_service,
    ("", "v1", "ConfigMap"): core.validate_config_map,
    ("", "v1", "Secret"): core.validate_secret,
    ("", "v1", "Namespace"): core.validate_namespace,
    ("", "v1", "Node"): core.validate_node,
    ("", "v1", "PersistentVolume"): core.validate_persistent_volume,
    ("", "v1", "PersistentVolumeClaim"): core.validate_persistent_volume_claim,
    ("", "v1", "Event"): events.validate_event,
    ("events.k8s.io", "v1", "Event"): events.validate_events_v1_event,
    ("apps", "v1", "Deployment"): apps.validate_deployment,
    ("apps", "v1", "ReplicaSet"): apps.validate_replica_set,
    ("apps", "v1", "StatefulSet"): apps.validate_stateful_set,
    ("apps", "v1", "DaemonSet"): apps.validate_daemon_set,
    ("apps", "v1", "ControllerRevision"): apps.validate_controller_revision,
    ("batch", "v1", "Job"): batch.validate_job,
    ("batch", "v1", "CronJob"): batch.validate_cron_job,
    ("coordination.k8s.io", "v1", "Lease"): coordination.validate_lease,
    (RBAC, "v1", "Role"): rbac.validate_role,
    (RBAC, "v1", "ClusterRole"): rbac.validate_cluster_role,
    (RBAC, "v1", "RoleBinding"): rbac.validate_role_binding,
    (RBAC, "v1", "ClusterRoleBinding"): rbac.validate_cluster_role_binding,
    ("networking.k8s.io", "v1", "Ingress"): networking.validate_ingress,
    ("scheduling.k8s.io", "v1", "PriorityClass"): scheduling.validate_priority_class,
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): apiextensions.validate_custom_resource_definition,
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration"):
        admissionregistration.validate_validating_webhook_configuration,
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration"):
        admissionregistration.validate_mutating_webhook_configuration,
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy"):
        admissionregistration.validate_validating_admission_policy,
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding"):
        admissionregistration.validate_validating_admission_policy_binding,
    ("admissionregistration.k8s.io", "v1", "MutatingAdmissionPolicy"):
        admissionregistration.validate_mutating_admission_policy,
    ("admissionregistration.k8s.io", "v1", "MutatingAdmissionPolicyBinding"):
        admissionregistration.validate_mutating_admission_policy_binding,
}

# How each kind's name is checked (each kind's ValidateXName in kube); the rest are DNS subdomains.
NAME_FORMATS: dict[tuple[str, str], NameFn] = {
    ("", "Namespace"): is_dns1123_label,
    ("", "Service"): is_dns1035_label,
    ("apps", "StatefulSet"): is_dns1123_label,
    ("", "Event"): is_path_segment_name,
    (RBAC, "Role"): is_path_segment_name,
    (RBAC, "ClusterRole"): is_path_segment_name,
    (RBAC, "RoleBinding"): is_path_segment_name,
    (RBAC, "ClusterRoleBinding"): is_path_segment_name,
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): is_path_segment_name,
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): is_path_segment_name,
}

# Kinds whose own rules run the metadata checks, in their own way.
OWN_METADATA = {("", "Event")}

# Fields an update may not change, beyond those the kind rules judge; with how kube prints them.
IMMUTABLE_FIELDS: dict[tuple[str, str], tuple[tuple[str, Callable], ...]] = {
    ("apps", "Deployment"): (("spec.selector", go_label_selector),),
    ("apps", "ReplicaSet"): (("spec.selector", go_label_selector),),
    ("apps", "DaemonSet"): (("spec.selector", go_label_selector),),
    ("batch", "Job"): (("spec.selector", go_label_selector), ("spec.completionMode", go_value),
                       ("spec.podFailurePolicy", go_value), ("spec.backoffLimitPerIndex", go_value),
                       ("spec.managedBy", go_value), ("spec.successPolicy", go_value)),
    ("", "Secret"): (("type", go_value),),
}
