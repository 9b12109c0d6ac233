"""Defaulting of built-in objects, as kube-apiserver's generated defaulters do it.

kube defaults per Go type wherever the type appears (a PodSpec in a Pod, a Deployment or a CronJob
alike), then per kind for what depends on the whole object. We do the same: `TYPE_DEFAULTS` is
keyed by schema definition and applied while walking the object with its schema; `KIND_DEFAULTS`
runs first, on the object itself. Each default is checked against kube's `pkg/apis/*/v1/defaults.go`
so that `kubectl get -o yaml` after a create reads as it does on a real cluster, and clients that
dereference defaulted pointers (`kubectl describe` and Deployment's spec.replicas) find them set.
"""
from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable

from admission.schemas import Schemas
from admission.validation import RBAC, walk

CORE = "io.k8s.api.core.v1."


def _fill(obj: dict, defaults: dict, *, zero_is_unset: bool = False) -> None:
    """Sets each default the object leaves unset: absent or null, "" for Go strings, and 0 for
    the Go integers that are not pointers (zero_is_unset), which kube cannot tell from unset."""
    for key, value in defaults.items():
        current = obj.get(key)
        if current is None or (isinstance(value, str) and current == "") or (zero_is_unset and current == 0):
            obj[key] = value


def _sub(obj: dict, key: str) -> dict:
    """The object at obj[key], created empty when unset (kube's defaulters allocate such structs)."""
    if not isinstance(obj.get(key), dict):
        obj[key] = {}
    return obj[key]


# --- per type ------------------------------------------------------------------------------------

_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::([\w][\w.-]{{0,127}}))?"
                              r"(@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?")


def _image_tag(image: str) -> str:
    """The tag kube's parsers.ParseImageName finds: "latest" when there is neither tag nor digest,
    "" when there is a digest only or the reference does not parse."""
    match = _IMAGE_REFERENCE.fullmatch(image)
    if match is None:
        return ""
    tag, digest = match.groups()
    return tag or ("" if digest else "latest")


def _container(container: dict) -> None:
    if not container.get("imagePullPolicy"):
        latest = _image_tag(container.get("image") or "") == "latest"
        container["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    _fill(container, {"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                      "resources": {}})


def _pod_spec(spec: dict) -> None:
    _fill(spec, {"dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {},
                 "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler"})


def _volume(volume: dict) -> None:
    if not any(isinstance(v, dict) for k, v in volume.items() if k != "name"):
        volume["emptyDir"] = {}


def _service_port(port: dict) -> None:
    _fill(port, {"protocol": "TCP"})
    if port.get("targetPort") in (None, 0, ""):
        port["targetPort"] = port.get("port")


def _subject(subject: dict) -> None:
    if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
        subject["apiGroup"] = RBAC


def _persistent_volume_claim(claim: dict) -> None:
    _fill(_sub(claim, "status"), {"phase": "Pending"})


def _setter(defaults: dict, **options) -> Callable[[dict], None]:
    return lambda obj: _fill(obj, defaults, **options)


_FILE_MODE = {"defaultMode": 0o644}
ADMISSION = "io.k8s.api.admissionregistration.v1."
_MATCH = {"matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {}}
_WEBHOOK = {"failurePolicy": "Fail", **_MATCH, "timeoutSeconds": 10}

TYPE_DEFAULTS: dict[str, Callable[[dict], None]] = {
    CORE + "PodSpec": _pod_spec,
    CORE + "Container": _container,
    CORE + "EphemeralContainer": _container,
    CORE + "ContainerPort": _setter({"protocol": "TCP"}),
    CORE + "Probe": _setter({"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                             "failureThreshold": 3}, zero_is_unset=True),
    CORE + "HTTPGetAction": _setter({"path": "/", "scheme": "HTTP"}),
    CORE + "GRPCAction": _setter({"service": ""}),
    CORE + "Volume": _volume,
    CORE + "HostPathVolumeSource": _setter({"type": ""}),
    CORE + "SecretVolumeSource": _setter(_FILE_MODE),
    CORE + "ConfigMapVolumeSource": _setter(_FILE_MODE),
    CORE + "DownwardAPIVolumeSource": _setter(_FILE_MODE),
    CORE + "ProjectedVolumeSource": _setter(_FILE_MODE),
    CORE + "ServiceAccountTokenProjection": _setter({"expirationSeconds": 3600}),
    CORE + "ObjectFieldSelector": _setter({"apiVersion": "v1"}),
    CORE + "PersistentVolumeClaimSpec": _setter({"volumeMode": "Filesystem"}),
    CORE + "PersistentVolumeClaim": _persistent_volume_claim,
    CORE + "ServicePort": _service_port,
    CORE + "EndpointPort": _setter({"protocol": "TCP"}),
    "io.k8s.api.discovery.v1.EndpointPort": _setter({"protocol": "TCP", "name": ""}),
    "io.k8s.api.networking.v1.NetworkPolicyPort": _setter({"protocol": "TCP"}),
    "io.k8s.api.rbac.v1.Subject": _subject,
    ADMISSION + "ValidatingWebhook": _setter(_WEBHOOK),
    ADMISSION + "MutatingWebhook": _setter({**_WEBHOOK, "reinvocationPolicy": "Never"}),
    ADMISSION + "RuleWithOperations": _setter({"scope": "*"}),
    ADMISSION + "NamedRuleWithOperations": _setter({"scope": "*"}),
    ADMISSION + "ServiceReference": _setter({"port": 443}),
    ADMISSION + "ValidatingAdmissionPolicySpec": _setter({"failurePolicy": "Fail"}),
    ADMISSION + "MutatingAdmissionPolicySpec": _setter({"failurePolicy": "Fail", "reinvocationPolicy": "Never"}),
    ADMISSION + "MatchResources": _setter(_MATCH),
    ADMISSION + "ParamRef": _setter({"parameterNotFoundAction": "Deny"}),
}


def _defaulted(t) -> bool:
    return t.ref in TYPE_DEFAULTS


# --- per kind ------------------------------------------------------------------------------------

def _pod(pod: dict) -> None:
    spec = _sub(pod, "spec")
    _fill(spec, {"enableServiceLinks": True})
    for field in ("containers", "initContainers"):
        for container in spec.get(field) or []:
            resources = container.get("resources") or {}
            # A Pod (not a template) requests what it limits unless it says otherwise.
            if isinstance(resources.get("limits"), dict):
                container["resources"] = resources
                _fill(_sub(resources, "requests"), dict(resources["limits"]))
            if spec.get("hostNetwork"):
                for port in container.get("ports") or []:
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")


def _replication_controller(rc: dict) -> None:
    spec = _sub(rc, "spec")
    labels = _template_labels(spec)
    if labels:
        _fill(spec, {"selector": labels})
        meta = _sub(rc, "metadata")
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    _fill(spec, {"replicas": 1})


def _service(svc: dict) -> None:
    spec = _sub(svc, "spec")
    _fill(spec, {"sessionAffinity": "None", "type": "ClusterIP"})
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif not (((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")):
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    kind = spec["type"]
    if kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and spec.get("externalIPs")):
        _fill(spec, {"externalTrafficPolicy": "Cluster"})
    if kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        _fill(spec, {"internalTrafficPolicy": "Cluster"})
    if kind == "LoadBalancer":
        _fill(spec, {"allocateLoadBalancerNodePorts": True})
    if kind != "ExternalName":
        # The single-stack IPv4 families kube's allocator gives; a headless service without a
        # selector may take any family, which kube marks RequireDualStack.
        headless = spec.get("clusterIP") == "None" or (spec.get("clusterIPs") or [None])[0] == "None"
        policy = "RequireDualStack" if headless and not spec.get("selector") else "SingleStack"
        _fill(spec, {"ipFamilyPolicy": policy, "ipFamilies": ["IPv4"]})


def _secret(secret: dict) -> None:
    # stringData is write-only: kube's conversion folds it into data, which it overwrites.
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = secret["data"] = dict(secret.get("data") or {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    _fill(secret, {"type": "Opaque"})


def _namespace(ns: dict) -> None:
    spec = _sub(ns, "spec")
    # The namespace strategy gives a new namespace its finalizer; once the finalize subresource
    # has emptied the list, the list stays empty.
    if "finalizers" not in spec:
        spec["finalizers"] = ["kubernetes"]
    _fill(_sub(ns, "status"), {"phase": "Active"})


def _persistent_volume(pv: dict) -> None:
    _fill(_sub(pv, "spec"), {"persistentVolumeReclaimPolicy": "Retain", "volumeMode": "Filesystem"})
    _fill(_sub(pv, "status"), {"phase": "Pending"})


def _node(node: dict) -> None:
    status = node.get("status")
    if isinstance(status, dict) and isinstance(status.get("capacity"), dict):
        _fill(status, {"allocatable": dict(status["capacity"])})


def _rolling_strategy(strategy: dict, rolling: dict) -> None:
    if strategy.get("type") == "RollingUpdate":
        _fill(_sub(strategy, "rollingUpdate"), rolling)


def _deployment(deploy: dict) -> None:
    spec = _sub(deploy, "spec")
    _fill(spec, {"replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600})
    strategy = _sub(spec, "strategy")
    _fill(strategy, {"type": "RollingUpdate"})
    _rolling_strategy(strategy, {"maxUnavailable": "25%", "maxSurge": "25%"})


def _replica_set(rs: dict) -> None:
    _fill(_sub(rs, "spec"), {"replicas": 1})


def _daemon_set(ds: dict) -> None:
    spec = _sub(ds, "spec")
    _fill(spec, {"revisionHistoryLimit": 10})
    strategy = _sub(spec, "updateStrategy")
    _fill(strategy, {"type": "RollingUpdate"})
    _rolling_strategy(strategy, {"maxUnavailable": 1, "maxSurge": 0})


def _stateful_set(sts: dict) -> None:
    spec = _sub(sts, "spec")
    _fill(spec, {"podManagementPolicy": "OrderedReady", "replicas": 1, "revisionHistoryLimit": 10})
    strategy = _sub(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        _sub(strategy, "rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(strategy.get("rollingUpdate"), dict):
        _fill(strategy["rollingUpdate"], {"partition": 0})
    _fill(_sub(spec, "persistentVolumeClaimRetentionPolicy"), {"whenDeleted": "Retain", "whenScaled": "Retain"})
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):
            _fill(claim, {"apiVersion": "v1", "kind": "PersistentVolumeClaim"})


def _template_labels(spec: dict) -> dict:
    return dict(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})


def _job(job: dict) -> None:
    spec = _sub(job, "spec")
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    _fill(spec, {"parallelism": 1, "backoffLimit": 2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6,
                 "completionMode": "NonIndexed", "suspend": False,
                 "podReplacementPolicy": "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"})
    meta = _sub(job, "metadata")
    if not meta.get("labels"):
        meta["labels"] = _template_labels(spec)
    if spec.get("manualSelector") is not True:
        _generate_job_selector(meta, spec)
        if not meta.get("uid"):
            # Before the Job has its uid the selector is only a placeholder for it.
            for labels in (spec["template"]["metadata"]["labels"], spec["selector"]["matchLabels"]):
                for key in ("batch.kubernetes.io/controller-uid", "controller-uid"):
                    if labels.get(key) == "":
                        del labels[key]
    if not meta.get("labels"):
        # kube defaults again when it reads the Job back, by then from the generated labels.
        meta["labels"] = _template_labels(spec)
    if not meta["labels"]:
        del meta["labels"]


def generate_job_selector(job: dict) -> None:
    """The selector on the Job's uid, once it has one (the Job strategy's generateSelector runs
    after the uid is assigned)."""
    spec = job.get("spec")
    if isinstance(spec, dict) and spec.get("manualSelector") is not True:
        meta = _sub(job, "metadata")
        _generate_job_selector(meta, spec)
        labels = meta.get("labels") or {}
        if labels.get("batch.kubernetes.io/job-name") == meta.get("name"):
            # Labels defaulted from the template take its uid labels too.
            for key in ("batch.kubernetes.io/controller-uid", "controller-uid"):
                labels.setdefault(key, meta["uid"])


def _generate_job_selector(meta: dict, spec: dict) -> None:
    """The Job strategy's generateSelector: labels unique to this Job and a selector on its uid.
    It runs before validation in kube; here it is the one place that sees every Job first."""
    uid, name = meta.get("uid") or "", meta.get("name") or ""
    labels = _sub(_sub(_sub(spec, "template"), "metadata"), "labels")
    for key, value in (("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", name),
                       ("controller-uid", uid), ("job-name", name)):
        labels.setdefault(key, value)
    _sub(_sub(spec, "selector"), "matchLabels").setdefault("batch.kubernetes.io/controller-uid", uid)


def _cron_job(cron: dict) -> None:
    _fill(_sub(cron, "spec"), {"concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3,
                               "failedJobsHistoryLimit": 1})


def _network_policy(policy: dict) -> None:
    spec = _sub(policy, "spec")
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


_SCALE_UP = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
             "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                          {"type": "Percent", "value": 100, "periodSeconds": 15}]}
_SCALE_DOWN = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _hpa_v2(hpa: dict) -> None:
    spec = _sub(hpa, "spec")
    _fill(spec, {"minReplicas": 1})
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        for key, rules in (("scaleUp", _SCALE_UP), ("scaleDown", _SCALE_DOWN)):
            _fill(_sub(behavior, key), copy.deepcopy(rules))


def _binding(binding: dict) -> None:
    # roleRef is a struct, not a pointer, in Go: it is there to default even when the body omits it.
    _fill(_sub(binding, "roleRef"), {"apiGroup": RBAC})


def _hpa_v1(hpa: dict) -> None:
    _fill(_sub(hpa, "spec"), {"minReplicas": 1})


def _custom_resource_definition(crd: dict) -> None:
    """apiextensions' defaulters: names derived from the kind, and no conversion."""
    spec = _sub(crd, "spec")
    names = _sub(spec, "names")
    if names.get("kind"):
        _fill(names, {"singular": names["kind"].lower(), "listKind": names["kind"] + "List"})
    _fill(_sub(spec, "conversion"), {"strategy": "None"})


KIND_DEFAULTS: dict[tuple[str, str, str], Callable[[dict], None]] = {
    ("", "v1", "Pod"): _pod,
    ("", "v1", "ReplicationController"): _replication_controller,
    ("", "v1", "Service"): _service,
    ("", "v1", "Secret"): _secret,
    ("", "v1", "Namespace"): _namespace,
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): _custom_resource_definition,
    ("", "v1", "PersistentVolume"): _persistent_volume,
    ("", "v1", "Node"): _node,
    ("apps", "v1", "Deployment"): _deployment,
    ("apps", "v1", "ReplicaSet"): _replica_set,
    ("apps", "v1", "DaemonSet"): _daemon_set,
    ("apps", "v1", "StatefulSet"): _stateful_set,
    ("batch", "v1", "Job"): _job,
    ("batch", "v1", "CronJob"): _cron_job,
    ("networking.k8s.io", "v1", "NetworkPolicy"): _network_policy,
    (RBAC, "v1", "RoleBinding"): _binding,
    (RBAC, "v1", "ClusterRoleBinding"): _binding,
    ("autoscaling", "v2", "HorizontalPodAutoscaler"): _hpa_v2,
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): _hpa_v1,
    ("scheduling.k8s.io", "v1", "PriorityClass"): _setter({"preemptionPolicy": "PreemptLowerPriority"}),
    ("storage.k8s.io", "v1", "StorageClass"): _setter({"reclaimPolicy": "Delete",
                                                            "volumeBindingMode": "Immediate"}),
}


def apply_defaults(schemas: Schemas, group: str, version: str, kind: str, obj: dict) -> None:
    """Sets, in place, what kube-apiserver's defaulters set on this kind."""
    kind_defaults = KIND_DEFAULTS.get((group, version, kind))
    if kind_defaults:
        kind_defaults(obj)
    definition = schemas.name_for(group, version, kind)
    if definition is None:
        return
    for node in walk(schemas, definition, obj, only=_defaulted):
        if isinstance(node.value, dict):
            TYPE_DEFAULTS[node.ref](node.value)
