"""The printers of the cluster's own machinery: RBAC, certificates, leases, admission, scheduling,
runtime classes, API priority and fairness, and aggregated APIs."""
from __future__ import annotations

from datetime import timedelta

from admission.quantity import ZERO, Quantity

from .cells import (AGE, Cell, Column, Doc, NAME, NONE, Printer, UNSET, condition_of, count, field,
                    go_label_selector, human_duration, name_of, printer, value_at)


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


def _apiservice_available(o, now):
    condition = condition_of(value_at(o, "status.conditions"), "Available")
    if condition is None:
        return "Unknown"
    status = condition.get("status", "")
    return f"{status} ({condition['reason']})" if status != "True" and condition.get("reason") else status


def _apiservice_service(o, now):
    service = value_at(o, "spec.service")
    return f"{service.get('namespace', '')}/{service.get('name', '')}" if service else "Local"


def _webhooks():
    return printer(NAME, Column("Webhooks", count("webhooks"),
                                "Webhooks indicates the number of webhooks registered in this configuration",
                                "integer"), AGE)


def _binding(kind: str):
    doc = f"the {kind[0].lower() + kind[1:]}"
    return printer(
        NAME, Column("Role", lambda o, now: f"{value_at(o, 'roleRef.kind', '')}/{value_at(o, 'roleRef.name', '')}",
                     Doc(f"rbac.v1.{kind}", "roleRef")), AGE,
        Column("Users", _subjects("User"), f"Users in {doc}", priority=1),
        Column("Groups", _subjects("Group"), f"Groups in {doc}", priority=1),
        Column("ServiceAccounts", _subjects("ServiceAccount"), f"ServiceAccounts in {doc}", priority=1))



def _usage(resource: str) -> Cell:
    """A metrics object's usage of `resource`, summed over its containers for a pod."""
    def cell(o, now):
        parts = [c.get("usage", {}).get(resource) for c in value_at(o, "containers", [])] if "containers" in o \
            else [value_at(o, f"usage.{resource}")]
        total = ZERO
        for part in parts:
            if part is not None:
                total = total + Quantity.parse(part)
        return str(total)
    return cell


# metrics-server's convertor: the name, each resource's usage, the window.
_METRICS = printer(Column("Name", name_of, "Name of the resource", format="name"),
                   Column("cpu", _usage("cpu"), format="quantity"),
                   Column("memory", _usage("memory"), format="quantity"),
                   Column("Window", field("window", ""), format="duration"))

PRINTERS: dict[tuple[str, str], Printer] = {
    ("metrics.k8s.io", "pods"): _METRICS,
    ("metrics.k8s.io", "nodes"): _METRICS,
    ("rbac.authorization.k8s.io", "rolebindings"): _binding("RoleBinding"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): _binding("ClusterRoleBinding"),
    ("certificates.k8s.io", "certificatesigningrequests"): printer(
        NAME, AGE, Column("SignerName", field("spec.signerName", NONE),
                          Doc("certificates.v1.CertificateSigningRequestSpec", "signerName")),
        Column("Requestor", field("spec.username"), Doc("certificates.v1.CertificateSigningRequestSpec", "request")),
        Column("RequestedDuration", _csr_duration, Doc("certificates.v1.CertificateSigningRequestSpec",
                                                    "expirationSeconds")),
        Column("Condition", _csr_condition, Doc("certificates.v1.CertificateSigningRequestStatus", "conditions"))),
    ("coordination.k8s.io", "leases"): printer(
        NAME, Column("Holder", field("spec.holderIdentity"), Doc("coordination.v1.LeaseSpec", "holderIdentity")),
        AGE),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): _webhooks(),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): _webhooks(),
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"): printer(
        NAME, Column("Validations", count("spec.validations"),
                     "Validations indicates the number of validation rules defined in this configuration",
                     "integer"),
        Column("ParamKind", _param_kind,
               "ParamKind specifies the kind of resources used to parameterize this policy"), AGE),
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"): printer(
        NAME, Column("PolicyName", field("spec.policyName"),
                     "PolicyName indicates the policy definition which the policy binding binded to"),
        Column("ParamRef", _param_ref, "ParamRef indicates the param resource which sets the configration param"),
        AGE),
    ("scheduling.k8s.io", "priorityclasses"): printer(
        NAME, Column("Value", field("value", 0), Doc("scheduling.v1.PriorityClass", "value"), "integer"),
        Column("Global-Default", field("globalDefault", False), Doc("scheduling.v1.PriorityClass", "globalDefault"),
               "boolean"),
        AGE, Column("PreemptionPolicy", field("preemptionPolicy"), Doc("scheduling.v1.PriorityClass",
                                                                    "preemptionPolicy"))),
    # Upstream documents Handler with an ObjectMeta field that does not exist: an empty text.
    ("node.k8s.io", "runtimeclasses"): printer(NAME, Column("Handler", field("handler")), AGE),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): printer(
        NAME, Column("PriorityLevel", field("spec.priorityLevelConfiguration.name"),
                     Doc("flowcontrol.v1.PriorityLevelConfigurationReference", "name")),
        Column("MatchingPrecedence", field("spec.matchingPrecedence", 0),
               Doc("flowcontrol.v1.FlowSchemaSpec", "matchingPrecedence")),
        Column("DistinguisherMethod", field("spec.distinguisherMethod.type", NONE),
               Doc("flowcontrol.v1.FlowSchemaSpec", "distinguisherMethod")), AGE,
        Column("MissingPL", _flow_schema_dangling, "references a broken or non-existent PriorityLevelConfiguration"),
        sort_key=lambda o: (value_at(o, "spec.matchingPrecedence", 0), name_of(o, None))),
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): printer(
        NAME, Column("Type", field("spec.type"), Doc("flowcontrol.v1.PriorityLevelConfigurationSpec", "type")),
        Column("NominalConcurrencyShares", _limited("nominalConcurrencyShares"),
               Doc("flowcontrol.v1.LimitedPriorityLevelConfiguration", "nominalConcurrencyShares")),
        *(Column(title, _limited(f"limitResponse.queuing.{key}"), Doc("flowcontrol.v1.QueuingConfiguration", key))
          for title, key in (("Queues", "queues"), ("HandSize", "handSize"),
                             ("QueueLengthLimit", "queueLengthLimit"))),
        AGE),
    # kube-aggregator's convertor, not a printer of kube-apiserver's.
    ("apiregistration.k8s.io", "apiservices"): printer(
        NAME, Column("Service", _apiservice_service, "The reference to the service that hosts this API endpoint."),
        Column("Available", _apiservice_available, "Whether this service is available."), AGE),
}
