"""Decoding checks, strict-field reports and per-kind validation, in kube-apiserver's words.

Manifests are the Kubernetes documentation's examples. Objects go through the same steps as in the
request pipeline: decode checks, then defaults, then validation.
"""
from __future__ import annotations

import copy

import pytest

from admission import defaults, schemas, validation

SCHEMAS = schemas.load("1.33")
RBAC = "rbac.authorization.k8s.io"
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "namespace": "default"},
       "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}]}}
DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "nginx-deployment", "namespace": "default", "labels": {"app": "nginx"}},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
             "template": {"metadata": {"labels": {"app": "nginx"}},
                          "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2",
                                                   "ports": [{"containerPort": 80}]}]}}}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "my-service", "namespace": "default"},
           "spec": {"selector": {"app.kubernetes.io/name": "MyApp"},
                    "ports": [{"protocol": "TCP", "port": 80, "targetPort": 9376}]}}
JOB = {"apiVersion": "batch/v1", "kind": "Job",
       "metadata": {"name": "pi", "namespace": "default", "uid": "9c4c8e4e-2b3c-4c6e-9a55-1b7e6f0c2d11"},
       "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34.0",
                                                      "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]}],
                                      "restartPolicy": "Never"}},
                "backoffLimit": 4}}
CRONJOB = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello", "namespace": "default"},
           "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
               "containers": [{"name": "hello", "image": "busybox:1.28", "imagePullPolicy": "IfNotPresent",
                               "command": ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"]}],
               "restartPolicy": "OnFailure"}}}}}}
INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "minimal-ingress", "namespace": "default",
                        "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"}},
           "spec": {"ingressClassName": "nginx-example", "rules": [{"http": {"paths": [
               {"path": "/testpath", "pathType": "Prefix",
                "backend": {"service": {"name": "test", "port": {"number": 80}}}}]}}]}}
ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"namespace": "default", "name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]}]}
ROLE_BINDING = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "read-pods", "namespace": "default"},
                "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}],
                "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"}}
CLUSTER_ROLE_BINDING = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": {"name": "read-secrets-global"},
                        "subjects": [{"kind": "Group", "name": "manager", "apiGroup": "rbac.authorization.k8s.io"}],
                        "roleRef": {"kind": "ClusterRole", "name": "secret-reader",
                                    "apiGroup": "rbac.authorization.k8s.io"}}
STATEFUL_SET = {
    "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "default"},
    "spec": {"selector": {"matchLabels": {"app": "nginx"}}, "serviceName": "nginx", "replicas": 3,
             "minReadySeconds": 10,
             "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {
                 "terminationGracePeriodSeconds": 10,
                 "containers": [{"name": "nginx", "image": "registry.k8s.io/nginx-slim:0.24",
                                 "ports": [{"containerPort": 80, "name": "web"}],
                                 "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]}},
             "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                 "accessModes": ["ReadWriteOnce"], "storageClassName": "my-storage-class",
                 "resources": {"requests": {"storage": "1Gi"}}}}]}}
DAEMON_SET = {
    "apiVersion": "apps/v1", "kind": "DaemonSet",
    "metadata": {"name": "fluentd-elasticsearch", "namespace": "kube-system", "labels": {"k8s-app": "fluentd-logging"}},
    "spec": {"selector": {"matchLabels": {"name": "fluentd-elasticsearch"}},
             "template": {"metadata": {"labels": {"name": "fluentd-elasticsearch"}}, "spec": {
                 "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                  "effect": "NoSchedule"}],
                 "containers": [{"name": "fluentd-elasticsearch",
                                 "image": "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
                                 "resources": {"limits": {"memory": "200Mi"},
                                               "requests": {"cpu": "100m", "memory": "200Mi"}},
                                 "volumeMounts": [{"name": "varlog", "mountPath": "/var/log"}]}],
                 "terminationGracePeriodSeconds": 30,
                 "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}]}}}}
PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "myclaim", "namespace": "default"},
       "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                "resources": {"requests": {"storage": "8Gi"}}, "storageClassName": "slow"}}
PV = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv0003"},
      "spec": {"capacity": {"storage": "5Gi"}, "volumeMode": "Filesystem", "accessModes": ["ReadWriteOnce"],
               "persistentVolumeReclaimPolicy": "Recycle", "storageClassName": "slow",
               "mountOptions": ["hard", "nfsvers=4.1"], "nfs": {"path": "/tmp", "server": "172.17.0.2"}}}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "game-demo", "namespace": "default"},
              "data": {"player_initial_lives": "3", "ui_properties_file_name": "user-interface.properties",
                       "game.properties": "enemy.types=aliens,monsters\nplayer.maximum-lives=5\n"}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dotfile-secret", "namespace": "default"},
          "data": {".secret-file": "dmFsdWUtMg0KDQo="}}
EVENT = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "nginx.17a1b2c3", "namespace": "default"},
         "involvedObject": {"kind": "Pod", "name": "nginx", "namespace": "default"},
         "reason": "Scheduled", "message": "Successfully assigned default/nginx to node-1", "type": "Normal"}
LEASE = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
         "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
         "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40}}
NODE = {"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
        "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}

KINDS = {"Pod": ("", "v1", "Pod"), "Deployment": ("apps", "v1", "Deployment"), "Service": ("", "v1", "Service"),
         "Job": ("batch", "v1", "Job"), "CronJob": ("batch", "v1", "CronJob"),
         "Ingress": ("networking.k8s.io", "v1", "Ingress"), "Role": (RBAC, "v1", "Role"),
         "RoleBinding": (RBAC, "v1", "RoleBinding"), "ClusterRoleBinding": (RBAC, "v1", "ClusterRoleBinding"),
         "StatefulSet": ("apps", "v1", "StatefulSet"), "DaemonSet": ("apps", "v1", "DaemonSet"),
         "PersistentVolumeClaim": ("", "v1", "PersistentVolumeClaim"),
         "PersistentVolume": ("", "v1", "PersistentVolume"), "ConfigMap": ("", "v1", "ConfigMap"),
         "Secret": ("", "v1", "Secret"), "Event": ("", "v1", "Event"), "Lease": ("coordination.k8s.io", "v1", "Lease"),
         "Node": ("", "v1", "Node"), "Namespace": ("", "v1", "Namespace"),
         "ClusterRole": (RBAC, "v1", "ClusterRole")}
CLUSTER_SCOPED = {"ClusterRoleBinding", "PersistentVolume", "Node", "Namespace", "ClusterRole"}


def prepared(obj: dict) -> dict:
    """The object as the pipeline hands it to validation: decoded, then defaulted."""
    obj = copy.deepcopy(obj)
    group, version, kind = KINDS[obj["kind"]]
    assert validation.decode_errors(SCHEMAS, group, version, kind, obj) == []
    defaults.apply_defaults(SCHEMAS, group, version, kind, obj)
    return obj


def causes(obj: dict, old: dict | None = None, **options) -> list[dict]:
    group, version, kind = KINDS[obj["kind"]]
    return validation.validate(SCHEMAS, group, version, kind, prepared(obj), old and prepared(old),
                               namespaced=obj["kind"] not in CLUSTER_SCOPED, **options)


def messages(obj: dict, old: dict | None = None) -> list[str]:
    return [f"{c['field']}: {c['message']}" for c in causes(obj, old)]


def changed(obj: dict, change) -> dict:
    obj = copy.deepcopy(obj)
    change(obj)
    return obj


# --- valid documentation manifests ---------------------------------------------------------------

@pytest.mark.parametrize("manifest", [POD, DEPLOYMENT, SERVICE, JOB, CRONJOB, INGRESS, ROLE, ROLE_BINDING,
                                      CLUSTER_ROLE_BINDING, STATEFUL_SET, DAEMON_SET, PVC, PV, CONFIG_MAP, SECRET,
                                      EVENT, LEASE, NODE], ids=lambda m: m["kind"])
def test_documentation_manifests_are_valid(manifest):
    assert causes(manifest) == []


def test_valid_manifests_stay_valid_when_replaced_unchanged():
    for manifest in (DEPLOYMENT, SERVICE, JOB, CRONJOB, INGRESS, ROLE_BINDING, STATEFUL_SET, PVC, CONFIG_MAP):
        stored = prepared(manifest)
        assert causes(stored, stored) == [], manifest["kind"]


# --- decoding ------------------------------------------------------------------------------------

def decode(obj: dict) -> list[str]:
    group, version, kind = KINDS[obj["kind"]]
    return validation.decode_errors(SCHEMAS, group, version, kind, obj)


@pytest.mark.parametrize("change,expected", [
    (lambda o: o["spec"].update(containers="nginx"),
     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container"),
    (lambda o: o["spec"]["containers"][0]["ports"][0].update(containerPort="80"),
     "json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort "
     "of type int32"),
    (lambda o: o["spec"]["containers"][0]["ports"][0].update(containerPort=80.5),
     "json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.containers.ports.containerPort "
     "of type int32"),
    (lambda o: o["metadata"].update(labels={"app": 5}),
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"),
    (lambda o: o["spec"].update(hostNetwork="yes"),
     "json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool"),
    (lambda o: o["spec"].update(volumes={"name": "data"}),
     "json: cannot unmarshal object into Go struct field PodSpec.spec.volumes of type []v1.Volume"),
    (lambda o: o.update(spec=[]), "json: cannot unmarshal array into Go struct field Pod.spec of type v1.PodSpec"),
    (lambda o: o["spec"]["containers"][0].update(resources={"limits": {"cpu": "1 core"}}),
     "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    (lambda o: o["spec"]["containers"][0].update(resources={"limits": {"memory": "1Gb"}}),
     "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    (lambda o: o["spec"]["containers"][0].update(resources={"limits": {"memory": "1kk"}}),
     "unable to parse quantity's suffix"),
    (lambda o: o["metadata"].update(creationTimestamp="yesterday"),
     'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'),
    (lambda o: o["metadata"].update(creationTimestamp="2024-13-01T00:00:00Z"),
     'parsing time "2024-13-01T00:00:00Z": month out of range'),
    (lambda o: o["metadata"].update(creationTimestamp="2024-05-01 10:00:00Z"),
     'parsing time "2024-05-01 10:00:00Z" as "2006-01-02T15:04:05Z07:00": cannot parse " 10:00:00Z" as "T"'),
])
def test_decode_errors_name_the_go_field(change, expected):
    assert decode(changed(POD, change)) == [f'Pod in version "v1" cannot be handled as a Pod: {expected}']


def test_decode_accepts_both_forms_of_int_or_string_and_quantities():
    svc = changed(SERVICE, lambda o: o["spec"]["ports"].append({"name": "web", "port": 8080, "targetPort": "http"}))
    assert decode(svc) == []
    pod = changed(POD, lambda o: o["spec"]["containers"][0].update(
        resources={"limits": {"cpu": 1, "memory": "128Mi"}, "requests": {"cpu": 0.5, "memory": "1e6"}}))
    assert decode(pod) == []


def test_decode_rejects_a_boolean_port():
    svc = changed(SERVICE, lambda o: o["spec"]["ports"][0].update(targetPort=True))
    assert decode(svc) == ['Service in version "v1" cannot be handled as a Service: json: cannot unmarshal bool '
                           'into Go struct field ServicePort.spec.ports.targetPort of type int32']


@pytest.mark.parametrize("data,expected", [
    ("hello world", "illegal base64 data at input byte 5"),
    ("abc", "illegal base64 data at input byte 0"),
    ("YQ=", "illegal base64 data at input byte 3"),
    ("YQ==YQ==", "illegal base64 data at input byte 4"),
])
def test_secret_data_must_be_base64(data, expected):
    secret = changed(SECRET, lambda o: o.update(data={"key": data}))
    assert decode(secret) == [f'Secret in version "v1" cannot be handled as a Secret: {expected}']


def test_secret_data_with_line_breaks_decodes():
    assert decode(changed(SECRET, lambda o: o.update(data={"key": "dmFs\ndWUt\nMg=="}))) == []


def test_micro_time_needs_its_six_fraction_digits():
    event = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
             "eventTime": "2024-01-01T00:00:00Z"}
    assert validation.decode_errors(SCHEMAS, "events.k8s.io", "v1", "Event", event) == [
        'Event in version "v1" cannot be handled as a Event: parsing time "2024-01-01T00:00:00Z" as '
        '"2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"']
    event["eventTime"] = "2024-01-01T00:00:00.123456Z"
    assert validation.decode_errors(SCHEMAS, "events.k8s.io", "v1", "Event", event) == []


def test_a_custom_unmarshaler_error_wins_over_an_earlier_type_error():
    pod = changed(POD, lambda o: (o["metadata"].update(labels={"a": 1}),
                                  o["spec"]["containers"][0].update(resources={"limits": {"cpu": "x"}})))
    assert decode(pod)[0].endswith("quantities must match the regular expression "
                                   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_decode_ignores_unknown_fields_and_open_values():
    assert decode(changed(POD, lambda o: o["spec"].update(bogus={"x": 1}))) == []
    revision = {"metadata": {"name": "r"}, "revision": 1, "data": {"anything": [1, "two", {"three": 3}]}}
    assert validation.decode_errors(SCHEMAS, "apps", "v1", "ControllerRevision", revision) == []


def test_unknown_fields_in_document_order():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "foo": 1},
           "spec": {"containers": [{"name": "a", "image": "b", "bogus": 1}], "extra": True}, "status": {}}
    assert validation.unknown_fields(SCHEMAS, "", "v1", "Pod", pod) == [
        "metadata.foo", "spec.containers[0].bogus", "spec.extra"]


def test_unknown_fields_ignores_maps_and_raw_extensions():
    assert validation.unknown_fields(SCHEMAS, "", "v1", "ConfigMap", CONFIG_MAP) == []
    revision = {"metadata": {"name": "r"}, "revision": 1, "data": {"spec": {"anything": True}}}
    assert validation.unknown_fields(SCHEMAS, "apps", "v1", "ControllerRevision", revision) == []
    assert validation.unknown_fields(SCHEMAS, "example.com", "v1", "Widget", {"spec": {"x": 1}}) == []


# --- metadata ------------------------------------------------------------------------------------

def test_invalid_name_in_kube_words():
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(name="Foo_bar"))
    found = causes(cm)
    assert found == [{"reason": "FieldValueInvalid", "field": "metadata.name",
                      "message": f'Invalid value: "Foo_bar": {SUBDOMAIN_MSG}'}]
    assert validation.invalid_message("ConfigMap", "Foo_bar", found) == (
        f'ConfigMap "Foo_bar" is invalid: metadata.name: Invalid value: "Foo_bar": {SUBDOMAIN_MSG}')


def test_name_is_required_unless_generated():
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].pop("name"))
    assert causes(cm) == [{"reason": "FieldValueRequired", "field": "metadata.name",
                           "message": "Required value: name or generateName is required"}]


def test_generate_name_is_checked_as_a_prefix():
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(generateName="game-", name="game-x7k2p"))
    assert causes(cm) == []
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(generateName="Game-", name="Game-x7k2p"))
    assert [c["field"] for c in causes(cm)] == ["metadata.generateName", "metadata.name"]


@pytest.mark.parametrize("manifest,name,expected", [
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {}}, "team.dev", "must not contain dots"),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {}}, "Dev", LABEL_MSG),
    (SERVICE, "1st-service",
     "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
     "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
     "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"),
    (STATEFUL_SET, "web.v1", "must not contain dots"),
    (ROLE, "pods/reader", "may not contain '/'"),
    (ROLE, "..", "may not be '..'"),
    (DEPLOYMENT, "x" * 254, "must be no more than 253 characters"),
])
def test_name_format_per_kind(manifest, name, expected):
    obj = changed(manifest, lambda o: o["metadata"].update(name=name))
    assert f'metadata.name: Invalid value: "{name}": {expected}' in messages(obj)


def test_rbac_names_may_hold_colons_and_capitals():
    assert causes(changed(ROLE, lambda o: o["metadata"].update(name="system:Pod-Reader"))) == []


def test_namespace_required_for_namespaced_and_forbidden_for_cluster_scoped():
    assert messages(changed(CONFIG_MAP, lambda o: o["metadata"].pop("namespace"))) == [
        "metadata.namespace: Required value"]
    assert messages(changed(CLUSTER_ROLE_BINDING, lambda o: o["metadata"].update(namespace="default"))) == [
        "metadata.namespace: Forbidden: not allowed on this type"]
    assert messages(changed(CONFIG_MAP, lambda o: o["metadata"].update(namespace="Dev"))) == [
        f'metadata.namespace: Invalid value: "Dev": {LABEL_MSG}']


def test_label_keys_and_values():
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(labels={"app/tier/x": "web", "-bad": "ok",
                                                                     "tier": "front end"}))
    assert messages(cm) == [
        "metadata.labels: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
        "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        "metadata.labels: Invalid value: \"app/tier/x\": a qualified name must consist of alphanumeric characters, "
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
        "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional "
        "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        "metadata.labels: Invalid value: \"front end\": a valid label must be an empty string or consist of "
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
        "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]


def test_label_value_length():
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(labels={"app": "x" * 64}))
    assert messages(cm) == [f'metadata.labels: Invalid value: "{"x" * 64}": must be no more than 63 characters']


def test_annotation_keys_ignore_case_and_total_size_is_bounded():
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(annotations={"Example.COM/Owner": "me"}))
    assert causes(cm) == []
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(annotations={"big": "x" * (256 * 1024)}))
    assert causes(cm) == [{"reason": "FieldValueTooLong", "field": "metadata.annotations",
                           "message": "Too long: may not be more than 262144 bytes"}]


def test_finalizer_names():
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(finalizers=["example.com/cleanup", "cleanup"]))
    assert messages(cm) == ['metadata.finalizers[1]: Invalid value: "cleanup": name is neither a standard '
                            'finalizer name nor is it fully qualified']


def test_owner_references():
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet"}
    cm = changed(CONFIG_MAP, lambda o: o["metadata"].update(ownerReferences=[owner]))
    assert messages(cm) == ['metadata.ownerReferences.name: Invalid value: "": must not be empty',
                            'metadata.ownerReferences.uid: Invalid value: "": must not be empty']


def test_metadata_immutable_on_update():
    stored = prepared(CONFIG_MAP)
    renamed = changed(stored, lambda o: o["metadata"].update(name="other-demo"))
    assert messages(renamed, stored) == ['metadata.name: Invalid value: "other-demo": field is immutable']


def test_no_new_finalizers_while_deleting():
    stored = changed(CONFIG_MAP, lambda o: o["metadata"].update(deletionTimestamp="2024-05-01T10:00:00Z",
                                                                 finalizers=["example.com/a"]))
    update = changed(stored, lambda o: o["metadata"].update(finalizers=["example.com/a", "example.com/b"]))
    assert messages(update, stored) == [
        'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new '
        'finalizers []string{"example.com/b"}']


def test_subresource_writes_are_judged_on_metadata_only():
    stored = prepared(POD)
    status_write = changed(stored, lambda o: o["spec"]["containers"][0].update(name="Changed"))
    group, version, kind = KINDS["Pod"]
    assert validation.validate(SCHEMAS, group, version, kind, status_write, stored, namespaced=True,
                               subresource="status") == []


# --- pods ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("change,expected", [
    (lambda o: o["spec"].pop("containers"), ["spec.containers: Required value"]),
    (lambda o: o["spec"]["containers"][0].pop("image"), ["spec.containers[0].image: Required value"]),
    (lambda o: o["spec"]["containers"][0].pop("name"), ["spec.containers[0].name: Required value"]),
    (lambda o: o["spec"]["containers"][0].update(name="Web"),
     [f'spec.containers[0].name: Invalid value: "Web": {LABEL_MSG}']),
    (lambda o: o["spec"]["containers"].append({"name": "nginx", "image": "busybox"}),
     ['spec.containers[1].name: Duplicate value: "nginx"']),
    (lambda o: o["spec"]["containers"][0]["ports"][0].update(containerPort=70000),
     ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]),
    (lambda o: o["spec"]["containers"][0]["ports"][0].update(protocol="HTTP"),
     ['spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']),
    (lambda o: o["spec"].update(restartPolicy="Sometimes"),
     ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']),
    (lambda o: o["spec"].update(dnsPolicy="Google"),
     ['spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", '
      '"ClusterFirst", "Default", "None"']),
    (lambda o: o["spec"]["containers"][0].update(imagePullPolicy="Sometimes"),
     ['spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", '
      '"IfNotPresent", "Never"']),
    (lambda o: o["spec"]["containers"][0].update(image=" nginx"),
     ['spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace']),
    (lambda o: o["spec"]["containers"][0].update(volumeMounts=[{"name": "data", "mountPath": "/data"}]),
     ['spec.containers[0].volumeMounts[0].name: Not found: "data"']),
    (lambda o: o["spec"].update(volumes=[{"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}}]),
     ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"]),
    (lambda o: o["spec"].update(volumes=[{"name": "cfg", "configMap": {}}]),
     ["spec.volumes[0].configMap.name: Required value"]),
    (lambda o: o["spec"]["containers"][0].update(env=[{"name": "A=B", "value": "x"}]),
     ['spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist '
      "only of printable ASCII characters other than '='"]),
    (lambda o: o["spec"]["containers"][0].update(env=[{"name": "NODE", "valueFrom": {}}]),
     ['spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, '
      '`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`']),
    (lambda o: o["spec"]["containers"][0].update(
        env=[{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.restartPolicy"}}}]),
     ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.restartPolicy": supported '
      'values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", '
      '"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"']),
    (lambda o: o["spec"]["containers"][0].update(resources={"limits": {"cpu": "500m"}, "requests": {"cpu": "1"}}),
     ['spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m']),
    (lambda o: o["spec"]["containers"][0].update(resources={"requests": {"gpu": "1"}}),
     ['spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or '
      'fully qualified',
      'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for '
      'containers']),
    (lambda o: o["spec"]["containers"][0].update(resources={"requests": {"nvidia.com/gpu": "1"}}),
     ["spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"]),
    (lambda o: o["spec"]["containers"][0].update(livenessProbe={"httpGet": {"port": 0}, "successThreshold": 2}),
     ["spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
      "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"]),
    (lambda o: o["spec"]["containers"][0].update(readinessProbe={"periodSeconds": 5}),
     ["spec.containers[0].readinessProbe: Required value: must specify a handler type"]),
    (lambda o: o["spec"].update(tolerations=[{"operator": "Equal", "value": "x"}]),
     ['spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
      'which means "match all values and all keys"']),
    (lambda o: o["spec"].update(initContainers=[{"name": "nginx", "image": "busybox", "readinessProbe": {
        "exec": {"command": ["true"]}}}]),
     ['spec.initContainers[0].name: Duplicate value: "nginx"',
      "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without "
      "restartPolicy=Always"]),
    (lambda o: o["spec"].update(activeDeadlineSeconds=0),
     ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"]),
])
def test_pod_rules(change, expected):
    assert messages(changed(POD, change)) == expected


def test_pod_update_may_change_images_only():
    stored = prepared(POD)
    assert causes(changed(stored, lambda o: o["spec"]["containers"][0].update(image="nginx:1.16")), stored) == []
    moved = changed(stored, lambda o: o["spec"]["containers"][0]["ports"][0].update(containerPort=81))
    assert messages(moved, stored) == [
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)\n-\tcontainers[0].ports[0].containerPort: 80\n+\tcontainers[0].ports[0].containerPort: 81"]
    added = changed(stored, lambda o: o["spec"]["containers"].append({"name": "sidecar", "image": "busybox"}))
    assert messages(added, stored) == ["spec.containers: Forbidden: pod updates may not add or remove containers"]


def test_pod_update_may_add_tolerations():
    stored = prepared(POD)
    tolerated = changed(stored, lambda o: o["spec"].update(tolerations=[{"key": "k", "operator": "Exists"}]))
    assert causes(tolerated, stored) == []


# --- workloads -----------------------------------------------------------------------------------

def test_deployment_without_selector():
    deploy = changed(DEPLOYMENT, lambda o: o["spec"].pop("selector"))
    found = causes(deploy)
    assert validation.invalid_message("Deployment", "nginx-deployment", found, group="apps") == (
        'Deployment.apps "nginx-deployment" is invalid: [spec.selector: Required value, '
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: '
        '`selector` does not match template `labels`]')


@pytest.mark.parametrize("manifest", [DEPLOYMENT, STATEFUL_SET, DAEMON_SET], ids=lambda m: m["kind"])
def test_selector_must_match_template_labels(manifest):
    obj = changed(manifest, lambda o: o["spec"]["template"]["metadata"].update(labels={"app": "web"}))
    assert 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not ' \
           'match template `labels`' in messages(obj)


def test_workload_rules():
    assert messages(changed(DEPLOYMENT, lambda o: o["spec"].update(replicas=-1))) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
    assert messages(changed(DEPLOYMENT, lambda o: o["spec"]["selector"].update(matchLabels={}))) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
    assert messages(changed(DEPLOYMENT, lambda o: o["spec"]["template"]["spec"].update(restartPolicy="Never"))) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']
    assert messages(changed(DEPLOYMENT, lambda o: o["spec"].update(strategy={"type": "BlueGreen"}))) == [
        'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", '
        'RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"']
    assert messages(changed(DEPLOYMENT, lambda o: o["spec"].update(strategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}))) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0%: may not be 0 when `maxSurge` is 0"]
    assert messages(changed(DEPLOYMENT, lambda o: o["spec"]["template"]["metadata"]["labels"].update(
        {"version": "v" * 64}))) == [
        f'spec.template.labels: Invalid value: "{"v" * 64}": must be no more than 63 characters']
    assert messages(changed(DAEMON_SET, lambda o: o["spec"].update(updateStrategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}))) == [
        "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"]


def test_deployment_selector_is_immutable():
    stored = prepared(DEPLOYMENT)
    relabelled = changed(stored, lambda o: (o["spec"]["selector"].update(matchLabels={"app": "web"}),
                                            o["spec"]["template"]["metadata"].update(labels={"app": "web"})))
    assert messages(relabelled, stored) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, '
        'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable']
    assert causes(changed(stored, lambda o: o["spec"].update(replicas=5)), stored) == []


def test_stateful_set_spec_is_frozen_but_for_a_few_fields():
    stored = prepared(STATEFUL_SET)
    assert causes(changed(stored, lambda o: o["spec"].update(replicas=5, minReadySeconds=0)), stored) == []
    resized = changed(stored, lambda o: o["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"].update(
        storage="2Gi"))
    assert messages(resized, stored) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]


def test_stateful_set_rules():
    assert messages(changed(STATEFUL_SET, lambda o: o["spec"].update(podManagementPolicy="Random"))) == [
        "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"]


def test_replication_controller_template_restart_policy():
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "nginx", "namespace": "default"},
          "spec": {"replicas": 3, "selector": {"app": "nginx"}, "template": {
              "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
              "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "nginx", "image": "nginx"}]}}}}
    obj = copy.deepcopy(rc)
    defaults.apply_defaults(SCHEMAS, "", "v1", "ReplicationController", obj)
    assert [c["message"] for c in validation.validate(SCHEMAS, "", "v1", "ReplicationController", obj,
                                                       namespaced=True)] == [
        'Unsupported value: "OnFailure": supported values: "Always"']


# --- jobs ----------------------------------------------------------------------------------------

def test_job_restart_policy():
    job = changed(JOB, lambda o: o["spec"]["template"]["spec"].pop("restartPolicy"))
    assert messages(job) == ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
                             '"OnFailure", "Never"']


def test_job_template_and_selector_are_immutable():
    stored = prepared(JOB)
    upgraded = changed(stored, lambda o: o["spec"]["template"]["spec"]["containers"][0].update(image="perl:5.36"))
    found = messages(upgraded, stored)
    assert len(found) == 1 and found[0].startswith("spec.template: Invalid value: ")
    assert found[0].endswith(": field is immutable")
    reselected = changed(stored, lambda o: o["spec"]["selector"]["matchLabels"].update(extra="x"))
    assert messages(reselected, stored)[-1].startswith(
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{")
    assert causes(changed(stored, lambda o: o["spec"].update(backoffLimit=2)), stored) == []


def test_suspended_job_may_change_scheduling_directives():
    stored = prepared(changed(JOB, lambda o: o["spec"].update(suspend=True)))
    moved = changed(stored, lambda o: o["spec"]["template"]["spec"].update(nodeSelector={"disk": "ssd"}))
    assert causes(moved, stored) == []


def test_manual_job_selector():
    job = changed(JOB, lambda o: o["spec"].update(manualSelector=True))
    assert messages(job) == ["spec.selector: Required value",
                             "spec.template.metadata.labels: Invalid value: map[string]string(nil): "
                             "`selector` does not match template `labels`"]


@pytest.mark.parametrize("schedule,expected", [
    ("*/5 * * *", "expected exactly 5 fields, found 4: [*/5 * * *]"),
    ("61 * * * *", "end of range (61) above maximum (59): 61"),
    ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
    ("a * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'),
    ("5-2 * * * *", "beginning of range (5) beyond end of range (2): 5-2"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
])
def test_cron_job_schedule(schedule, expected):
    cron = changed(CRONJOB, lambda o: o["spec"].update(schedule=schedule))
    assert messages(cron) == [f'spec.schedule: Invalid value: "{schedule}": {expected}']


@pytest.mark.parametrize("schedule", ["@hourly", "@daily", "@every 1h30m", "0 9 * * MON-FRI", "*/15 0-6 1,15 JAN *"])
def test_cron_job_schedules_that_parse(schedule):
    assert causes(changed(CRONJOB, lambda o: o["spec"].update(schedule=schedule))) == []


def test_cron_job_rules():
    assert messages(changed(CRONJOB, lambda o: o["spec"].pop("schedule"))) == ["spec.schedule: Required value"]
    assert messages(changed(CRONJOB, lambda o: o["metadata"].update(name="n" * 53))) == [
        f'metadata.name: Invalid value: "{"n" * 53}": must be no more than 52 characters']
    assert messages(changed(CRONJOB, lambda o: o["spec"].update(schedule="TZ=UTC 0 * * * *"))) == [
        'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone '
        'field instead']
    assert messages(changed(CRONJOB, lambda o: o["spec"].update(timeZone="Mars/Olympus"))) == [
        'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']
    assert causes(changed(CRONJOB, lambda o: o["spec"].update(timeZone="Europe/Paris"))) == []
    assert messages(changed(CRONJOB, lambda o: o["spec"].update(concurrencyPolicy="Sometimes"))) == [
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']


# --- services ------------------------------------------------------------------------------------

def test_service_rules():
    two_ports = changed(SERVICE, lambda o: o["spec"]["ports"].append({"port": 443}))
    assert messages(two_ports) == ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]
    assert messages(changed(SERVICE, lambda o: o["spec"]["ports"][0].update(port=0))) == [
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]
    assert messages(changed(SERVICE, lambda o: o["spec"].update(type="Internal"))) == [
        'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
        '"NodePort"']
    assert messages(changed(SERVICE, lambda o: o["spec"].pop("ports"))) == ["spec.ports: Required value"]
    assert messages(changed(SERVICE, lambda o: o["spec"]["ports"][0].update(nodePort=30080))) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
    assert messages(changed(SERVICE, lambda o: o["spec"]["ports"][0].update(targetPort="http_port"))) == [
        'spec.ports[0].targetPort: Invalid value: "http_port": must contain only alpha-numeric characters (a-z, '
        '0-9), and hyphens (-)']
    duplicated = changed(SERVICE, lambda o: o["spec"]["ports"].extend([{"name": "b", "port": 80}]))
    duplicated["spec"]["ports"][0]["name"] = "a"
    assert messages(duplicated) == [
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
        'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}']


def test_service_cluster_ip_is_immutable():
    stored = prepared(changed(SERVICE, lambda o: o["spec"].update(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"])))
    moved = changed(stored, lambda o: o["spec"].update(clusterIP="10.96.0.11"))
    assert causes(moved, stored) == [{"reason": "FieldValueInvalid", "field": "spec.clusterIPs[0]",
                                      "message": 'Invalid value: []string{"10.96.0.11"}: may not change once set'}]
    assert causes(SERVICE, stored) == []


def test_external_name_service():
    svc = changed(SERVICE, lambda o: o.update(spec={"type": "ExternalName", "externalName": "my.database.example.com"}))
    assert causes(svc) == []
    assert messages(changed(svc, lambda o: o["spec"].pop("externalName"))) == ["spec.externalName: Required value"]


def test_headless_load_balancer():
    svc = changed(SERVICE, lambda o: o["spec"].update(type="LoadBalancer", clusterIP="None"))
    assert messages(svc) == ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
                             "LoadBalancer services"]


# --- config --------------------------------------------------------------------------------------

def test_config_map_and_secret_keys():
    cm = changed(CONFIG_MAP, lambda o: o["data"].update({"bad key": "x"}))
    assert messages(cm) == [
        "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, "
        "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')"]
    secret = changed(SECRET, lambda o: o["data"].update({"..hidden": "eA=="}))
    assert messages(secret) == ["data[..hidden]: Invalid value: \"..hidden\": must not start with '..'"]


def test_immutable_config_map_and_secret():
    stored = prepared(changed(CONFIG_MAP, lambda o: o.update(immutable=True)))
    assert messages(changed(stored, lambda o: o["data"].update(player_initial_lives="5")), stored) == [
        "data: Forbidden: field is immutable when `immutable` is set"]
    assert messages(changed(stored, lambda o: o.pop("immutable")), stored) == [
        "immutable: Forbidden: field is immutable when `immutable` is set"]
    stored = prepared(changed(SECRET, lambda o: o.update(immutable=True)))
    assert messages(changed(stored, lambda o: o["data"].update(extra="eA==")), stored) == [
        "data: Forbidden: field is immutable when `immutable` is set"]


def test_secret_type_is_immutable_and_typed_secrets_need_their_keys():
    stored = prepared(SECRET)
    retyped = changed(stored, lambda o: o.update(type="kubernetes.io/tls"))
    assert messages(retyped, stored) == ["data[tls.crt]: Required value", "data[tls.key]: Required value",
                                         'type: Invalid value: "kubernetes.io/tls": field is immutable']


def test_secret_string_data_keys_are_checked_as_data():
    secret = changed(SECRET, lambda o: o.update(stringData={"bad key": "x"}))
    assert [c["field"] for c in causes(secret)] == ["data[bad key]"]


# --- rbac ----------------------------------------------------------------------------------------

def test_role_rules():
    assert messages(changed(ROLE, lambda o: o["rules"][0].update(verbs=[]))) == [
        "rules[0].verbs: Required value: verbs must contain at least one value"]
    assert messages(changed(ROLE, lambda o: o["rules"][0].update(apiGroups=[], resources=[]))) == [
        "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
        "rules[0].resources: Required value: resource rules must supply at least one resource"]
    urls = changed(ROLE, lambda o: o["rules"].append({"nonResourceURLs": ["/healthz"], "verbs": ["get"]}))
    assert messages(urls) == ['rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules '
                              'cannot apply to non-resource URLs']


def test_role_binding_rules():
    unbound = changed(ROLE_BINDING, lambda o: (o.pop("roleRef"), o["subjects"][0].update(kind="Robot")))
    assert messages(unbound) == [
        'roleRef.kind: Unsupported value: "": supported values: "Role", "ClusterRole"',
        "roleRef.name: Required value",
        'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"']
    to_role = changed(CLUSTER_ROLE_BINDING, lambda o: o["roleRef"].update(kind="Role"))
    assert messages(to_role) == ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']
    service_account = changed(CLUSTER_ROLE_BINDING, lambda o: o.update(subjects=[{"kind": "ServiceAccount",
                                                                                   "name": "default"}]))
    assert messages(service_account) == ["subjects[0].namespace: Required value"]


def test_role_binding_role_ref_is_immutable():
    stored = prepared(ROLE_BINDING)
    rebound = changed(stored, lambda o: o.update(roleRef={"kind": "ClusterRole", "name": "admin",
                                                          "apiGroup": "rbac.authorization.k8s.io"}))
    assert messages(rebound, stored) == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", '
        'Name:"admin"}: cannot change roleRef']


# --- ingress -------------------------------------------------------------------------------------

def test_ingress_rules():
    path = changed(INGRESS, lambda o: o["spec"]["rules"][0]["http"]["paths"][0].pop("pathType"))
    assert messages(path) == ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]
    regex = changed(INGRESS, lambda o: o["spec"]["rules"][0]["http"]["paths"][0].update(pathType="Regex"))
    assert messages(regex) == ['spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported '
                               'values: "Exact", "ImplementationSpecific", "Prefix"']
    host = changed(INGRESS, lambda o: o["spec"]["rules"][0].update(host="Foo.example.com"))
    assert messages(host) == [f'spec.rules[0].host: Invalid value: "Foo.example.com": {SUBDOMAIN_MSG}']
    assert causes(changed(INGRESS, lambda o: o["spec"]["rules"][0].update(host="*.example.com"))) == []
    relative = changed(INGRESS, lambda o: o["spec"]["rules"][0]["http"]["paths"][0].update(path="testpath"))
    assert messages(relative) == ['spec.rules[0].http.paths[0].path: Invalid value: "testpath": must be an '
                                  'absolute path']
    assert messages(changed(INGRESS, lambda o: o.update(spec={}))) == [
        "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"]
    portless = changed(INGRESS, lambda o: o["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].pop("port"))
    assert messages(portless) == ["spec.rules[0].http.paths[0].backend: Required value: port name or number is "
                                  "required"]


# --- storage, nodes, events, leases --------------------------------------------------------------

def test_persistent_volume_claim_rules():
    claim = changed(PVC, lambda o: (o["spec"].update(accessModes=[]), o["spec"].pop("resources")))
    assert messages(claim) == ["spec.accessModes: Required value: at least 1 access mode is required",
                               "spec.resources[storage]: Required value"]


def test_persistent_volume_claim_spec_is_immutable_but_bound_claims_may_grow():
    stored = prepared(PVC)
    reclassed = changed(stored, lambda o: o["spec"].update(storageClassName="fast"))
    assert messages(reclassed, stored) == [
        "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName "
        'for bound claims\n-\tstorageClassName: "slow"\n+\tstorageClassName: "fast"']
    bound = changed(stored, lambda o: o["status"].update(phase="Bound"))
    grown = changed(bound, lambda o: o["spec"]["resources"]["requests"].update(storage="10Gi"))
    assert causes(grown, bound) == []


def test_persistent_volume_rules():
    assert messages(changed(PV, lambda o: o["spec"].pop("nfs"))) == ["spec: Required value: must specify a volume type"]
    assert messages(changed(PV, lambda o: o["spec"].update(hostPath={"path": "/data"}))) == [
        "spec.nfs: Forbidden: may not specify more than 1 volume type"]
    assert messages(changed(PV, lambda o: o["spec"].update(persistentVolumeReclaimPolicy="Keep"))) == [
        'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", '
        '"Retain"']


def test_node_taints():
    node = changed(NODE, lambda o: o["spec"]["taints"].append({"key": "dedicated", "effect": "NoFly"}))
    assert messages(node) == ['metadata.taints[1].effect: Unsupported value: "NoFly": supported values: '
                              '"NoSchedule", "PreferNoSchedule", "NoExecute"']
    stored = prepared(changed(NODE, lambda o: o["spec"].update(podCIDRs=["10.244.0.0/24"])))
    moved = changed(stored, lambda o: o["spec"].update(podCIDRs=["10.244.1.0/24"]))
    assert messages(moved, stored) == ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from '
                                       '"" to valid']


def test_event_involved_object_namespace_must_match():
    event = changed(EVENT, lambda o: o["involvedObject"].update(namespace="kube-system"))
    assert messages(event) == ['involvedObject.namespace: Invalid value: "kube-system": does not match '
                               'event.namespace']


def test_core_event_names_are_path_segments():
    assert causes(changed(EVENT, lambda o: o["metadata"].update(name="Pod:nginx.17a1b2c3"))) == []
    assert messages(changed(EVENT, lambda o: o["metadata"].update(name="a/b"))) == [
        "metadata.name: Invalid value: \"a/b\": may not contain '/'"]


def test_events_v1_event():
    event = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
             "eventTime": "2024-05-01T10:00:00.000000Z", "reportingController": "example.com/ctl",
             "reportingInstance": "ctl-1", "action": "Scheduling", "reason": "Scheduled", "type": "Normal",
             "regarding": {"kind": "Pod", "namespace": "default", "name": "nginx"}}
    assert validation.validate(SCHEMAS, "events.k8s.io", "v1", "Event", event, namespaced=True) == []
    bad = dict(event, type="Bad", deprecatedCount=3)
    assert [f"{c['field']}: {c['message']}" for c in validation.validate(
        SCHEMAS, "events.k8s.io", "v1", "Event", bad, namespaced=True)] == [
        'type: Invalid value: "": has invalid value: Bad', 'count: Invalid value: "": needs to be unset']


def test_lease():
    assert messages(changed(LEASE, lambda o: o["spec"].update(leaseDurationSeconds=0))) == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]


def test_namespace_finalizers():
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}, "spec": {"finalizers": ["custom"]}}
    assert messages(ns) == ['spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name '
                            'nor is it fully qualified']


def test_schema_required_fields_back_up_the_kind_rules():
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny", "namespace": "default"},
              "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}}
    assert validation.validate(SCHEMAS, "networking.k8s.io", "v1", "NetworkPolicy", policy, namespaced=True) == []
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "web", "namespace": "default"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment"}, "maxReplicas": 3}}
    assert validation.validate(SCHEMAS, "autoscaling", "v2", "HorizontalPodAutoscaler", hpa, namespaced=True) == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.scaleTargetRef.name"}]


# --- messages and formats ------------------------------------------------------------------------

def test_invalid_message_aggregates_like_kube():
    one = {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"}
    two = {"reason": "FieldValueInvalid", "message": 'Invalid value: -1: must be greater than or equal to 0',
           "field": "spec.replicas"}
    assert validation.invalid_message("Deployment", "web", [one], group="apps") == (
        'Deployment.apps "web" is invalid: spec.selector: Required value')
    assert validation.invalid_message("Deployment", "web", [one, two, one], group="apps") == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, '
        'spec.replicas: Invalid value: -1: must be greater than or equal to 0]')
    assert validation.invalid_message("Pod", "x", []) == 'Pod "x" is invalid'


@pytest.mark.parametrize("text,value", [("500m", "1/2"), ("1Gi", str(2**30)), ("1.5", "3/2"), ("2e3", "2000"),
                                        ("-1k", "-1000"), ("0.1Ki", "512/5"), (".5", "1/2")])
def test_parse_quantity(text, value):
    assert str(validation.parse_quantity(text)) == value


def test_go_quoting():
    assert validation.go_quote('a"b\\c\nd\x01é') == '"a\\"b\\\\c\\nd\\x01é"'
