"""The built-in resources, written once as data.

One line per resource: group, versions (preferred first), plural, kind, scope, short names,
categories, subresources, and the verbs where they differ from the usual eight. Which of these a
server serves is decided against the schemas of the Kubernetes version it runs: a resource whose
kind has no definition in that release (say networking.k8s.io/v1 IPAddress before 1.33) is left
out, as that release's kube-apiserver would leave it out.
"""
from __future__ import annotations

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)
NO_COLLECTION = ("create", "delete", "get", "list", "patch", "update", "watch")

# Subresources: name -> (group, version, kind) of what they take and return, or None when they
# speak the parent's own kind (status).
STATUS = {"status": None}
SCALE = {"status": None, "scale": ("autoscaling", "v1", "Scale")}

# (group, versions, plural, kind, namespaced, short names, categories, subresources, verbs)
BUILTIN = [
    ("", ("v1",), "bindings", "Binding", True, (), (), {}, CREATE_ONLY),
    ("", ("v1",), "componentstatuses", "ComponentStatus", False, ("cs",), (), {}, ("get", "list")),
    ("", ("v1",), "configmaps", "ConfigMap", True, ("cm",), (), {}, ALL_VERBS),
    ("", ("v1",), "endpoints", "Endpoints", True, ("ep",), (), {}, ALL_VERBS),
    ("", ("v1",), "events", "Event", True, ("ev",), (), {}, ALL_VERBS),
    ("", ("v1",), "limitranges", "LimitRange", True, ("limits",), (), {}, ALL_VERBS),
    ("", ("v1",), "namespaces", "Namespace", False, ("ns",), (),
     {"status": None, "finalize": None}, NO_COLLECTION),
    ("", ("v1",), "nodes", "Node", False, ("no",), (), {"status": None, "proxy": None}, ALL_VERBS),
    ("", ("v1",), "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), (), STATUS, ALL_VERBS),
    ("", ("v1",), "persistentvolumes", "PersistentVolume", False, ("pv",), (), STATUS, ALL_VERBS),
    ("", ("v1",), "pods", "Pod", True, ("po",), ("all",),
     {"status": None, "binding": ("", "v1", "Binding"), "eviction": ("policy", "v1", "Eviction"),
      "ephemeralcontainers": None, "resize": None, "log": None, "exec": None, "attach": None,
      "portforward": None, "proxy": None}, ALL_VERBS),
    ("", ("v1",), "podtemplates", "PodTemplate", True, (), (), {}, ALL_VERBS),
    ("", ("v1",), "replicationcontrollers", "ReplicationController", True, ("rc",), ("all",), SCALE, ALL_VERBS),
    ("", ("v1",), "resourcequotas", "ResourceQuota", True, ("quota",), (), STATUS, ALL_VERBS),
    ("", ("v1",), "secrets", "Secret", True, (), (), {}, ALL_VERBS),
    ("", ("v1",), "serviceaccounts", "ServiceAccount", True, ("sa",), (),
     {"token": ("authentication.k8s.io", "v1", "TokenRequest")}, ALL_VERBS),
    ("", ("v1",), "services", "Service", True, ("svc",), ("all",), {"status": None, "proxy": None}, ALL_VERBS),
    ("admissionregistration.k8s.io", ("v1",), "mutatingwebhookconfigurations",
     "MutatingWebhookConfiguration", False, (), ("api-extensions",), {}, ALL_VERBS),
    ("admissionregistration.k8s.io", ("v1",), "validatingwebhookconfigurations",
     "ValidatingWebhookConfiguration", False, (), ("api-extensions",), {}, ALL_VERBS),
    ("admissionregistration.k8s.io", ("v1",), "mutatingadmissionpolicies",
     "MutatingAdmissionPolicy", False, (), ("api-extensions",), {}, ALL_VERBS),
    ("admissionregistration.k8s.io", ("v1",), "mutatingadmissionpolicybindings",
     "MutatingAdmissionPolicyBinding", False, (), ("api-extensions",), {}, ALL_VERBS),
    ("admissionregistration.k8s.io", ("v1",), "validatingadmissionpolicies",
     "ValidatingAdmissionPolicy", False, (), ("api-extensions",), STATUS, ALL_VERBS),
    ("admissionregistration.k8s.io", ("v1",), "validatingadmissionpolicybindings",
     "ValidatingAdmissionPolicyBinding", False, (), ("api-extensions",), {}, ALL_VERBS),
    ("apiextensions.k8s.io", ("v1",), "customresourcedefinitions", "CustomResourceDefinition", False,
     ("crd", "crds"), ("api-extensions",), STATUS, ALL_VERBS),
    ("apiregistration.k8s.io", ("v1",), "apiservices", "APIService", False, (), ("api-extensions",),
     STATUS, ALL_VERBS),
    ("apps", ("v1",), "controllerrevisions", "ControllerRevision", True, (), (), {}, ALL_VERBS),
    ("apps", ("v1",), "daemonsets", "DaemonSet", True, ("ds",), ("all",), STATUS, ALL_VERBS),
    ("apps", ("v1",), "deployments", "Deployment", True, ("deploy",), ("all",), SCALE, ALL_VERBS),
    ("apps", ("v1",), "replicasets", "ReplicaSet", True, ("rs",), ("all",), SCALE, ALL_VERBS),
    ("apps", ("v1",), "statefulsets", "StatefulSet", True, ("sts",), ("all",), SCALE, ALL_VERBS),
    ("authentication.k8s.io", ("v1",), "selfsubjectreviews", "SelfSubjectReview", False, (), (), {}, CREATE_ONLY),
    ("authentication.k8s.io", ("v1",), "tokenreviews", "TokenReview", False, (), (), {}, CREATE_ONLY),
    ("authorization.k8s.io", ("v1",), "localsubjectaccessreviews", "LocalSubjectAccessReview", True,
     (), (), {}, CREATE_ONLY),
    ("authorization.k8s.io", ("v1",), "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
     (), (), {}, CREATE_ONLY),
    ("authorization.k8s.io", ("v1",), "selfsubjectrulesreviews", "SelfSubjectRulesReview", False,
     (), (), {}, CREATE_ONLY),
    ("authorization.k8s.io", ("v1",), "subjectaccessreviews", "SubjectAccessReview", False,
     (), (), {}, CREATE_ONLY),
    ("autoscaling", ("v2", "v1"), "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ("hpa",),
     ("all",), STATUS, ALL_VERBS),
    ("batch", ("v1",), "cronjobs", "CronJob", True, ("cj",), ("all",), STATUS, ALL_VERBS),
    ("batch", ("v1",), "jobs", "Job", True, (), ("all",), STATUS, ALL_VERBS),
    ("certificates.k8s.io", ("v1",), "certificatesigningrequests", "CertificateSigningRequest", False,
     ("csr",), (), {"status": None, "approval": None}, ALL_VERBS),
    ("coordination.k8s.io", ("v1",), "leases", "Lease", True, (), (), {}, ALL_VERBS),
    ("discovery.k8s.io", ("v1",), "endpointslices", "EndpointSlice", True, (), (), {}, ALL_VERBS),
    ("events.k8s.io", ("v1",), "events", "Event", True, ("ev",), (), {}, ALL_VERBS),
    ("flowcontrol.apiserver.k8s.io", ("v1",), "flowschemas", "FlowSchema", False, (), (), STATUS, ALL_VERBS),
    ("flowcontrol.apiserver.k8s.io", ("v1",), "prioritylevelconfigurations", "PriorityLevelConfiguration",
     False, (), (), STATUS, ALL_VERBS),
    ("networking.k8s.io", ("v1",), "ingressclasses", "IngressClass", False, (), (), {}, ALL_VERBS),
    ("networking.k8s.io", ("v1",), "ingresses", "Ingress", True, ("ing",), (), STATUS, ALL_VERBS),
    ("networking.k8s.io", ("v1",), "ipaddresses", "IPAddress", False, ("ip",), (), {}, ALL_VERBS),
    ("networking.k8s.io", ("v1",), "networkpolicies", "NetworkPolicy", True, ("netpol",), (), {}, ALL_VERBS),
    ("networking.k8s.io", ("v1",), "servicecidrs", "ServiceCIDR", False, (), (), STATUS, ALL_VERBS),
    ("node.k8s.io", ("v1",), "runtimeclasses", "RuntimeClass", False, (), (), {}, ALL_VERBS),
    ("policy", ("v1",), "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), (), STATUS, ALL_VERBS),
    ("rbac.authorization.k8s.io", ("v1",), "clusterrolebindings", "ClusterRoleBinding", False, (), (), {}, ALL_VERBS),
    ("rbac.authorization.k8s.io", ("v1",), "clusterroles", "ClusterRole", False, (), (), {}, ALL_VERBS),
    ("rbac.authorization.k8s.io", ("v1",), "rolebindings", "RoleBinding", True, (), (), {}, ALL_VERBS),
    ("rbac.authorization.k8s.io", ("v1",), "roles", "Role", True, (), (), {}, ALL_VERBS),
    ("scheduling.k8s.io", ("v1",), "priorityclasses", "PriorityClass", False, ("pc",), (), {}, ALL_VERBS),
    ("storage.k8s.io", ("v1",), "csidrivers", "CSIDriver", False, (), (), {}, ALL_VERBS),
    ("storage.k8s.io", ("v1",), "csinodes", "CSINode", False, (), (), {}, ALL_VERBS),
    ("storage.k8s.io", ("v1",), "csistoragecapacities", "CSIStorageCapacity", True, (), (), {}, ALL_VERBS),
    ("storage.k8s.io", ("v1",), "storageclasses", "StorageClass", False, ("sc",), (), {}, ALL_VERBS),
    ("storage.k8s.io", ("v1",), "volumeattachments", "VolumeAttachment", False, (), (), STATUS, ALL_VERBS),
    ("storage.k8s.io", ("v1",), "volumeattributesclasses", "VolumeAttributesClass", False, ("vac",), (),
     {}, ALL_VERBS),
]

# Resources computed on each read and never stored, served without a schema of the release: the
# resource metrics API, which vapi answers itself where a cluster runs metrics-server.
READ_ONLY = ("get", "list")
# Their OpenAPI definitions are named after the Go package serving them, as metrics-server's are.
COMPUTED_SCHEMA_PACKAGES = {"metrics.k8s.io": "io.k8s.metrics.pkg.apis.metrics"}
COMPUTED = [
    ("metrics.k8s.io", ("v1beta1",), "nodes", "NodeMetrics", False, (), (), {}, READ_ONLY),
    ("metrics.k8s.io", ("v1beta1",), "pods", "PodMetrics", True, (), (), {}, READ_ONLY),
]

# Subresources every client may call but whose verbs differ from the parent's.
SUBRESOURCE_VERBS = {
    "status": ("get", "patch", "update"),
    "scale": ("get", "patch", "update"),
    "finalize": ("update",),
    "approval": ("get", "patch", "update"),
    "ephemeralcontainers": ("get", "patch", "update"),
    "resize": ("get", "patch", "update"),
    "binding": ("create",),
    "eviction": ("create",),
    "token": ("create",),
    "log": ("get",),
    "exec": ("create", "get"),
    "attach": ("create", "get"),
    "portforward": ("create", "get"),
    "proxy": ("create", "delete", "get", "patch", "update"),
}
