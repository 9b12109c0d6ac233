"""Defaults as kube-apiserver's defaulters set them, checked on the documentation's manifests."""
from __future__ import annotations

import copy

import pytest

from admission import defaults, schemas

SCHEMAS = schemas.load("1.33")
RBAC = "rbac.authorization.k8s.io"

CONTAINER_DEFAULTS = {"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                      "terminationMessagePolicy": "File", "resources": {}}
POD_SPEC_DEFAULTS = {"dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {},
                     "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler"}
NGINX = {"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}
DEFAULTED_NGINX = {"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                   **CONTAINER_DEFAULTS}


def defaulted(group: str, version: str, kind: str, obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    defaults.apply_defaults(SCHEMAS, group, version, kind, obj)
    return obj


def pod(**spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "namespace": "default"},
            "spec": {"containers": [copy.deepcopy(NGINX)], **spec}}


def template(labels: dict, **spec) -> dict:
    return {"metadata": {"labels": labels}, "spec": {"containers": [copy.deepcopy(NGINX)], **spec}}


# --- pods ----------------------------------------------------------------------------------------

def test_pod():
    assert defaulted("", "v1", "Pod", pod())["spec"] == {
        "containers": [DEFAULTED_NGINX], "enableServiceLinks": True, **POD_SPEC_DEFAULTS}


@pytest.mark.parametrize("image,policy", [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"), ("nginx:latest@sha256:" + "a" * 64, "Always"),
    ("registry.example.com:5000/team/app", "Always"), ("registry.example.com:5000/team/app:v2", "IfNotPresent"),
    ("localhost:5000/app:latest", "Always"), ("Nginx", "IfNotPresent"), ("", "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image, policy):
    obj = pod()
    obj["spec"]["containers"][0]["image"] = image
    assert defaulted("", "v1", "Pod", obj)["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_explicit_values_are_kept():
    obj = pod(restartPolicy="Never", terminationGracePeriodSeconds=0, enableServiceLinks=False)
    obj["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    spec = defaulted("", "v1", "Pod", obj)["spec"]
    assert (spec["restartPolicy"], spec["terminationGracePeriodSeconds"], spec["enableServiceLinks"]) == (
        "Never", 0, False)
    assert spec["containers"][0]["imagePullPolicy"] == "Never"


def test_pod_requests_default_to_limits():
    obj = pod()
    obj["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "500m", "memory": "128Mi"},
                                                 "requests": {"cpu": "250m"}}
    assert defaulted("", "v1", "Pod", obj)["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m", "memory": "128Mi"}}


def test_host_network_pods_publish_their_ports_on_the_host():
    spec = defaulted("", "v1", "Pod", pod(hostNetwork=True))["spec"]
    assert spec["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP", "hostPort": 80}]


def test_probes_and_handlers():
    obj = pod()
    obj["spec"]["containers"][0].update(
        livenessProbe={"httpGet": {"port": 8080}, "initialDelaySeconds": 3},
        readinessProbe={"grpc": {"port": 2379}, "periodSeconds": 5},
        lifecycle={"preStop": {"httpGet": {"port": 80, "path": "/drain"}}})
    container = defaulted("", "v1", "Pod", obj)["spec"]["containers"][0]
    assert container["livenessProbe"] == {"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
                                          "initialDelaySeconds": 3, "timeoutSeconds": 1, "periodSeconds": 10,
                                          "successThreshold": 1, "failureThreshold": 3}
    assert container["readinessProbe"] == {"grpc": {"port": 2379, "service": ""}, "periodSeconds": 5,
                                           "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
    assert container["lifecycle"] == {"preStop": {"httpGet": {"port": 80, "path": "/drain", "scheme": "HTTP"}}}


def test_volumes():
    obj = pod(volumes=[
        {"name": "scratch"},
        {"name": "config", "configMap": {"name": "game-demo"}},
        {"name": "secret", "secret": {"secretName": "dotfile-secret"}},
        {"name": "logs", "hostPath": {"path": "/var/log"}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "claim", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}},
    ])
    assert defaulted("", "v1", "Pod", obj)["spec"]["volumes"] == [
        {"name": "scratch", "emptyDir": {}},
        {"name": "config", "configMap": {"name": "game-demo", "defaultMode": 420}},
        {"name": "secret", "secret": {"secretName": "dotfile-secret", "defaultMode": 420}},
        {"name": "logs", "hostPath": {"path": "/var/log", "type": ""}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels",
                                                                                   "apiVersion": "v1"}}],
                                         "defaultMode": 420}},
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token",
                                                                             "expirationSeconds": 3600}}],
                                        "defaultMode": 420}},
        {"name": "claim", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                                                         "volumeMode": "Filesystem"}}}},
    ]


def test_env_field_ref_api_version():
    obj = pod()
    obj["spec"]["containers"][0]["env"] = [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    env = defaulted("", "v1", "Pod", obj)["spec"]["containers"][0]["env"]
    assert env == [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName", "apiVersion": "v1"}}}]


# --- workloads -----------------------------------------------------------------------------------

def test_deployment():
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx-deployment"},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
                       "template": template({"app": "nginx"})}}
    assert defaulted("apps", "v1", "Deployment", deploy)["spec"] == {
        "replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
        "template": {"metadata": {"labels": {"app": "nginx"}},
                     "spec": {"containers": [DEFAULTED_NGINX], **POD_SPEC_DEFAULTS}},
        "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}}


def test_deployment_keeps_zero_replicas_and_a_recreate_strategy():
    deploy = {"spec": {"replicas": 0, "strategy": {"type": "Recreate"}}}
    spec = defaulted("apps", "v1", "Deployment", deploy)["spec"]
    assert (spec["replicas"], spec["strategy"]) == (0, {"type": "Recreate"})


def test_replica_set_and_replication_controller():
    replica_set = defaulted("apps", "v1", "ReplicaSet", {"spec": {"template": template({"app": "web"})}})
    assert replica_set["spec"]["replicas"] == 1
    rc = defaulted("", "v1", "ReplicationController", {"metadata": {"name": "nginx"},
                                                        "spec": {"template": template({"app": "nginx"})}})
    assert (rc["metadata"]["labels"], rc["spec"]["selector"], rc["spec"]["replicas"]) == (
        {"app": "nginx"}, {"app": "nginx"}, 1)


def test_stateful_set():
    sts = {"spec": {"serviceName": "nginx", "selector": {"matchLabels": {"app": "nginx"}},
                    "template": template({"app": "nginx"}),
                    "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
    spec = defaulted("apps", "v1", "StatefulSet", sts)["spec"]
    assert {k: v for k, v in spec.items() if k not in ("selector", "template", "serviceName")} == {
        "replicas": 1, "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "www"},
                                  "spec": {"accessModes": ["ReadWriteOnce"],
                                           "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"},
                                  "status": {"phase": "Pending"}}]}


def test_daemon_set():
    spec = defaulted("apps", "v1", "DaemonSet", {"spec": {"template": template({"name": "fluentd"})}})["spec"]
    assert (spec["updateStrategy"], spec["revisionHistoryLimit"]) == (
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}, 10)
    on_delete = defaulted("apps", "v1", "DaemonSet", {"spec": {"updateStrategy": {"type": "OnDelete"}}})
    assert on_delete["spec"]["updateStrategy"] == {"type": "OnDelete"}


UID = "9c4c8e4e-2b3c-4c6e-9a55-1b7e6f0c2d11"


def job(**spec) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "namespace": "default", "uid": UID},
            "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34.0"}],
                                           "restartPolicy": "Never"}}, **spec}}


def test_job_defaults_and_generated_selector():
    obj = defaulted("batch", "v1", "Job", job(backoffLimit=4))
    generated = {"batch.kubernetes.io/controller-uid": UID, "batch.kubernetes.io/job-name": "pi",
                 "controller-uid": UID, "job-name": "pi"}
    assert obj["metadata"]["labels"] == generated
    spec = obj["spec"]
    assert spec["template"]["metadata"] == {"labels": generated}
    assert {k: v for k, v in spec.items() if k != "template"} == {
        "backoffLimit": 4, "completions": 1, "parallelism": 1, "completionMode": "NonIndexed", "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}}
    assert defaulted("batch", "v1", "Job", obj) == obj


def test_job_labels_come_from_the_template_the_user_wrote():
    labelled = job()
    labelled["spec"]["template"]["metadata"] = {"labels": {"app": "pi"}}
    obj = defaulted("batch", "v1", "Job", labelled)
    assert obj["metadata"]["labels"] == {"app": "pi"}
    assert obj["spec"]["template"]["metadata"]["labels"]["app"] == "pi"


def test_job_with_manual_selector_or_parallelism():
    manual = defaulted("batch", "v1", "Job", job(manualSelector=True, parallelism=3))
    assert "selector" not in manual["spec"] and "labels" not in manual["metadata"]
    assert (manual["spec"]["parallelism"], manual["spec"].get("completions")) == (3, None)
    with_policy = defaulted("batch", "v1", "Job", job(podFailurePolicy={"rules": []}))
    assert with_policy["spec"]["podReplacementPolicy"] == "Failed"


def test_cron_job():
    cron = {"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template({})}}}}
    spec = defaulted("batch", "v1", "CronJob", cron)["spec"]
    assert {k: v for k, v in spec.items() if k not in ("schedule", "jobTemplate")} == {
        "concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1}
    # The job template is a JobSpec, which kube does not default; its pod template it does.
    assert spec["jobTemplate"]["spec"].keys() == {"template"}
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Always"


# --- services ------------------------------------------------------------------------------------

def service(**spec) -> dict:
    return {"metadata": {"name": "my-service"}, "spec": {"selector": {"app.kubernetes.io/name": "MyApp"},
                                                         "ports": [{"port": 80, "targetPort": 9376}], **spec}}


def test_cluster_ip_service():
    assert defaulted("", "v1", "Service", service())["spec"] == {
        "selector": {"app.kubernetes.io/name": "MyApp"},
        "ports": [{"port": 80, "targetPort": 9376, "protocol": "TCP"}],
        "type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]}


def test_service_target_port_defaults_to_port():
    obj = service(ports=[{"name": "http", "port": 80}, {"name": "web", "port": 8080, "targetPort": "http-alt"}])
    assert [p["targetPort"] for p in defaulted("", "v1", "Service", obj)["spec"]["ports"]] == [80, "http-alt"]


def test_node_port_and_load_balancer_services():
    node_port = defaulted("", "v1", "Service", service(type="NodePort"))["spec"]
    assert (node_port["externalTrafficPolicy"], "allocateLoadBalancerNodePorts" in node_port) == ("Cluster", False)
    balancer = defaulted("", "v1", "Service", service(type="LoadBalancer"))["spec"]
    assert (balancer["externalTrafficPolicy"], balancer["allocateLoadBalancerNodePorts"]) == ("Cluster", True)


def test_external_name_service_gets_no_families():
    spec = defaulted("", "v1", "Service", {"spec": {"type": "ExternalName", "externalName": "db.example.com"}})["spec"]
    assert spec == {"type": "ExternalName", "externalName": "db.example.com", "sessionAffinity": "None"}


def test_client_ip_affinity_and_headless_services():
    sticky = defaulted("", "v1", "Service", service(sessionAffinity="ClientIP"))["spec"]
    assert sticky["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    headless = defaulted("", "v1", "Service", {"spec": {"clusterIP": "None", "ports": [{"port": 80}]}})["spec"]
    assert (headless["ipFamilyPolicy"], headless["ipFamilies"]) == ("RequireDualStack", ["IPv4"])


# --- config, namespaces, storage -----------------------------------------------------------------

def test_secret_type_and_string_data():
    secret = {"metadata": {"name": "s"}, "data": {"a": "eA==", "b": "eQ=="}, "stringData": {"b": "two", "c": "3"}}
    assert defaulted("", "v1", "Secret", secret) == {
        "metadata": {"name": "s"}, "data": {"a": "eA==", "b": "dHdv", "c": "Mw=="}, "type": "Opaque"}
    assert defaulted("", "v1", "Secret", {"type": "kubernetes.io/tls"})["type"] == "kubernetes.io/tls"


def test_namespace():
    assert defaulted("", "v1", "Namespace", {"metadata": {"name": "dev"}}) == {
        "metadata": {"name": "dev"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    finalized = {"metadata": {"name": "dev"}, "spec": {"finalizers": []}, "status": {"phase": "Terminating"}}
    assert defaulted("", "v1", "Namespace", finalized) == finalized


def test_persistent_volumes_and_claims():
    claim = defaulted("", "v1", "PersistentVolumeClaim", {"spec": {"accessModes": ["ReadWriteOnce"]}})
    assert claim == {"spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
                     "status": {"phase": "Pending"}}
    volume = defaulted("", "v1", "PersistentVolume", {"spec": {"nfs": {"server": "nfs", "path": "/x"}}})
    assert volume == {"spec": {"nfs": {"server": "nfs", "path": "/x"}, "persistentVolumeReclaimPolicy": "Retain",
                               "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}


def test_node_allocatable_defaults_to_capacity():
    node = defaulted("", "v1", "Node", {"status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
    assert node["status"]["allocatable"] == {"cpu": "4", "memory": "8Gi", "pods": "110"}


# --- rbac, networking, autoscaling ---------------------------------------------------------------

def test_binding_subjects_and_role_ref():
    binding = {"subjects": [{"kind": "User", "name": "jane"}, {"kind": "Group", "name": "dev"},
                            {"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"}],
               "roleRef": {"kind": "ClusterRole", "name": "view"}}
    obj = defaulted(RBAC, "v1", "ClusterRoleBinding", binding)
    assert [s.get("apiGroup") for s in obj["subjects"]] == [RBAC, RBAC, None]
    assert obj["roleRef"] == {"kind": "ClusterRole", "name": "view", "apiGroup": RBAC}


def test_network_policy():
    policy = {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}],
                       "egress": [{"ports": [{"port": 53}]}]}}
    spec = defaulted("networking.k8s.io", "v1", "NetworkPolicy", policy)["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert [spec["ingress"][0]["ports"][0]["protocol"], spec["egress"][0]["ports"][0]["protocol"]] == ["TCP", "TCP"]
    ingress_only = defaulted("networking.k8s.io", "v1", "NetworkPolicy", {"spec": {"podSelector": {}}})
    assert ingress_only["spec"]["policyTypes"] == ["Ingress"]


def test_horizontal_pod_autoscaler_v2():
    hpa = {"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "maxReplicas": 10, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}}}
    spec = defaulted("autoscaling", "v2", "HorizontalPodAutoscaler", hpa)["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    assert spec["behavior"] == {
        "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                      "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
        "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                    "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                 {"type": "Percent", "value": 100, "periodSeconds": 15}]}}
    assert "behavior" not in defaulted("autoscaling", "v2", "HorizontalPodAutoscaler", {"spec": {}})["spec"]


def test_kinds_without_defaults_are_left_alone():
    lease = {"metadata": {"name": "node-1"}, "spec": {"holderIdentity": "node-1"}}
    assert defaulted("coordination.k8s.io", "v1", "Lease", lease) == lease
    widget = {"spec": {"size": 1}}
    assert defaulted("example.com", "v1", "Widget", widget) == widget


@pytest.mark.parametrize("group,version,kind,obj", [
    ("", "v1", "Pod", pod(volumes=[{"name": "scratch"}])),
    ("apps", "v1", "Deployment", {"spec": {"template": template({"app": "x"})}}),
    ("", "v1", "Service", service(type="LoadBalancer")),
    ("batch", "v1", "Job", job()),
    ("", "v1", "Namespace", {"metadata": {"name": "dev"}}),
])
def test_defaulting_twice_changes_nothing(group, version, kind, obj):
    once = defaulted(group, version, kind, obj)
    assert defaulted(group, version, kind, once) == once
