"""The kinds other than pods synced to the host (issue 9): ConfigMaps and Secrets while pods use
them, Services with the host's cluster IP taken back, Endpoints of selectorless Services, PVCs,
and the opt-in kinds; each followed under change (virtual updates, hand edits and deletes on the
host, deletes in the virtual cluster), and two virtual clusters with the same names side by side.

vc1 runs the default configuration; vc2 turns on every opt-in kind and `configMaps.all`.
"""
from __future__ import annotations

import base64
import time

import kubernetes
import pytest

from syncer.names import host_name
from tests.virtual_fixtures import eventually, start_virtual
from vapi.testing import ServerProcess, run_kubectl

HOST_NS = "default"
VC2_CONFIG = """
sync:
  toHost:
    configMaps: {all: true}
    ingresses: {enabled: true}
    networkPolicies: {enabled: true}
    podDisruptionBudgets: {enabled: true}
    serviceAccounts: {enabled: true}
    priorityClasses: {enabled: true}
"""


def api(server: ServerProcess) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))


@pytest.fixture(scope="module")
def vc2(host, tmp_path_factory):
    config = tmp_path_factory.mktemp("vc2") / "config.yaml"
    config.write_text(VC2_CONFIG)
    server = start_virtual(host, "vc2", "--config", str(config))
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def hcore(host):
    return kubernetes.client.CoreV1Api(api(host))


@pytest.fixture(scope="module")
def v1core(vc1):
    return kubernetes.client.CoreV1Api(api(vc1))


@pytest.fixture(scope="module")
def v2core(vc2):
    return kubernetes.client.CoreV1Api(api(vc2))


def read(reader, *args):
    try:
        return reader(*args)
    except kubernetes.client.ApiException as e:
        if e.status == 404:
            return None
        raise


def gone(reader, *args, timeout: float = 20.0) -> bool:
    return eventually(lambda: read(reader, *args) is None, timeout)


def same_address(v1core, hcore, namespace: str, name: str, vc: str = "vc1") -> bool:
    """The virtual Service has its host copy's cluster IP (it is absent for a moment while it is
    made again with it)."""
    virtual = read(v1core.read_namespaced_service, name, namespace)
    copy = read(hcore.read_namespaced_service, host_name(name, namespace, vc), HOST_NS)
    return bool(virtual and copy and virtual.spec.cluster_ip == copy.spec.cluster_ip)


def pod_using(name: str, **spec) -> dict:
    container = {"name": "c", "image": "busybox", "command": ["sleep", "3600"], **spec.pop("container", {})}
    return {"metadata": {"name": name}, "spec": {"containers": [container], **spec}}


# --- ConfigMaps and Secrets ---------------------------------------------------------------------

def test_a_configmap_goes_to_the_host_while_a_pod_uses_it(hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "cms"}})
    v1core.create_namespaced_config_map("cms", {"metadata": {"name": "conf", "labels": {"team": "a"}},
                                                "data": {"k": "v"}, "binaryData": {"b": "AAE="}})
    hname = host_name("conf", "cms", "vc1")
    # Nothing uses it yet: it stays virtual.
    assert not eventually(lambda: read(hcore.read_namespaced_config_map, hname, HOST_NS), timeout=1.5)

    v1core.create_namespaced_pod("cms", pod_using("user", volumes=[{"name": "v", "configMap": {"name": "conf"}}]))
    copy = eventually(lambda: read(hcore.read_namespaced_config_map, hname, HOST_NS))
    assert copy is not None
    assert copy.data == {"k": "v"} and copy.binary_data == {"b": "AAE="}
    assert copy.metadata.labels == {"team": "a", "vapi.dev/managed-by": "vc1", "vapi.dev/namespace": "cms"}
    assert copy.metadata.annotations["vapi.dev/object-name"] == "conf"
    assert copy.metadata.owner_references[0].name == "vapi-vc1"
    # The projected token volume mounts kube-root-ca.crt: it goes too.
    root = eventually(lambda: read(hcore.read_namespaced_config_map, host_name("kube-root-ca.crt", "cms", "vc1"),
                                   HOST_NS))
    assert root is not None and "ca.crt" in root.data

    # An update in the virtual cluster reaches the host.
    v1core.patch_namespaced_config_map("conf", "cms", {"data": {"k": "v2", "new": "x"}})
    assert eventually(lambda: hcore.read_namespaced_config_map(hname, HOST_NS).data == {"k": "v2", "new": "x"})
    # A hand edit on the host is put back.
    hcore.patch_namespaced_config_map(hname, HOST_NS, {"data": {"k": "hand"}})
    assert eventually(lambda: hcore.read_namespaced_config_map(hname, HOST_NS).data == {"k": "v2", "new": "x"})
    # binaryData removed in the virtual cluster is removed on the host.
    v1core.replace_namespaced_config_map("conf", "cms", {"metadata": {"name": "conf", "labels": {"team": "a"}},
                                                         "data": {"k": "v3"}})
    assert eventually(lambda: (lambda c: c.data == {"k": "v3"} and not c.binary_data)(
        hcore.read_namespaced_config_map(hname, HOST_NS)))
    # A hand delete on the host is undone.
    uid = hcore.read_namespaced_config_map(hname, HOST_NS).metadata.uid
    hcore.delete_namespaced_config_map(hname, HOST_NS)
    assert eventually(lambda: (read(hcore.read_namespaced_config_map, hname, HOST_NS) or
                               kubernetes.client.V1ConfigMap(metadata=kubernetes.client.V1ObjectMeta(uid=uid)))
                      .metadata.uid != uid)

    # No pod uses it any more: it leaves the host.
    v1core.delete_namespaced_pod("user", "cms", grace_period_seconds=0)
    assert gone(hcore.read_namespaced_config_map, hname, HOST_NS)


def test_a_configmap_deleted_in_the_virtual_cluster_leaves_the_host(hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "cmdel"}})
    v1core.create_namespaced_config_map("cmdel", {"metadata": {"name": "env"}, "data": {"A": "1"}})
    v1core.create_namespaced_pod("cmdel", pod_using("user", container={"envFrom": [{"configMapRef": {"name": "env"}}]}))
    hname = host_name("env", "cmdel", "vc1")
    assert eventually(lambda: read(hcore.read_namespaced_config_map, hname, HOST_NS))
    v1core.delete_namespaced_config_map("env", "cmdel")
    assert gone(hcore.read_namespaced_config_map, hname, HOST_NS)


def test_secrets_pods_use_go_to_the_host_and_token_secrets_never(hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "sec"}})
    v1core.create_namespaced_secret("sec", {"metadata": {"name": "pw"}, "type": "Opaque",
                                            "stringData": {"password": "s3cret"}})
    v1core.create_namespaced_secret("sec", {"metadata": {"name": "pull"}, "type": "kubernetes.io/dockerconfigjson",
                                            "stringData": {".dockerconfigjson": '{"auths":{}}'}})
    v1core.create_namespaced_service_account("sec", {"metadata": {"name": "robot"}})
    v1core.create_namespaced_secret("sec", {"metadata": {"name": "robot-token", "annotations": {
        "kubernetes.io/service-account.name": "robot"}}, "type": "kubernetes.io/service-account-token"})
    v1core.create_namespaced_pod("sec", pod_using(
        "user", imagePullSecrets=[{"name": "pull"}],
        volumes=[{"name": "t", "secret": {"secretName": "robot-token"}}],
        container={"env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "pw", "key": "password"}}}]}))
    pw = eventually(lambda: read(hcore.read_namespaced_secret, host_name("pw", "sec", "vc1"), HOST_NS))
    assert pw is not None and base64.b64decode(pw.data["password"]) == b"s3cret" and pw.type == "Opaque"
    pull = eventually(lambda: read(hcore.read_namespaced_secret, host_name("pull", "sec", "vc1"), HOST_NS))
    assert pull is not None and pull.type == "kubernetes.io/dockerconfigjson"
    # The pod's own token Secret (the pods translator's) is there; the token-type Secret is not.
    host_pod = host_name("user", "sec", "vc1")
    assert eventually(lambda: read(hcore.read_namespaced_secret, f"{host_pod}-sa-token", HOST_NS))
    assert read(hcore.read_namespaced_secret, host_name("robot-token", "sec", "vc1"), HOST_NS) is None

    v1core.patch_namespaced_secret("pw", "sec", {"stringData": {"password": "changed"}})
    assert eventually(lambda: base64.b64decode(hcore.read_namespaced_secret(
        host_name("pw", "sec", "vc1"), HOST_NS).data["password"]) == b"changed")
    v1core.delete_namespaced_pod("user", "sec", grace_period_seconds=0)
    assert gone(hcore.read_namespaced_secret, host_name("pw", "sec", "vc1"), HOST_NS)
    assert gone(hcore.read_namespaced_secret, host_name("pull", "sec", "vc1"), HOST_NS)


def test_configmaps_all_syncs_unused_ones(hcore, v2core):
    v2core.create_namespace({"metadata": {"name": "every"}})
    v2core.create_namespaced_config_map("every", {"metadata": {"name": "unused"}, "data": {"a": "b"}})
    copy = eventually(lambda: read(hcore.read_namespaced_config_map, host_name("unused", "every", "vc2"), HOST_NS))
    assert copy is not None and copy.data == {"a": "b"}


# --- Services and Endpoints ---------------------------------------------------------------------

def test_a_service_follows_and_takes_the_host_cluster_ip(hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "svc"}})
    v1core.create_namespaced_service("svc", {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        "sessionAffinity": "ClientIP"}})
    hname = host_name("web", "svc", "vc1")
    copy = eventually(lambda: read(hcore.read_namespaced_service, hname, HOST_NS))
    assert copy is not None
    assert copy.spec.selector == {"app": "web", "vapi.dev/managed-by": "vc1", "vapi.dev/namespace": "svc"}
    assert copy.spec.session_affinity == "ClientIP"
    assert [(p.port, p.target_port) for p in copy.spec.ports] == [(80, 8080)]
    # The virtual Service is made again with the host's address.
    assert eventually(lambda: same_address(v1core, hcore, "svc", "web"))
    virtual = v1core.read_namespaced_service("web", "svc")
    assert virtual.spec.cluster_ips == [virtual.spec.cluster_ip]

    v1core.patch_namespaced_service("web", "svc", {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}})
    assert eventually(lambda: [(p.port, p.target_port) for p in hcore.read_namespaced_service(hname, HOST_NS)
                               .spec.ports] == [(80, 9090)])
    hcore.patch_namespaced_service(hname, HOST_NS, {"spec": {"selector": {"app": "other"}}})
    assert eventually(lambda: hcore.read_namespaced_service(hname, HOST_NS).spec.selector
                      == {"app": "web", "vapi.dev/managed-by": "vc1", "vapi.dev/namespace": "svc"})

    # Deleted by hand on the host: made again, and the virtual Service takes the new address.
    old = hcore.read_namespaced_service(hname, HOST_NS).metadata.uid
    hcore.delete_namespaced_service(hname, HOST_NS)
    assert eventually(lambda: (read(hcore.read_namespaced_service, hname, HOST_NS)
                               or kubernetes.client.V1Service(metadata=kubernetes.client.V1ObjectMeta(uid=old)))
                      .metadata.uid != old)
    assert eventually(lambda: same_address(v1core, hcore, "svc", "web"))

    v1core.delete_namespaced_service("web", "svc")
    assert gone(hcore.read_namespaced_service, hname, HOST_NS)


def test_headless_external_name_and_node_port_services(hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "kinds"}})
    v1core.create_namespaced_service("kinds", {"metadata": {"name": "db"}, "spec": {
        "clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]}})
    v1core.create_namespaced_service("kinds", {"metadata": {"name": "ext"}, "spec": {
        "type": "ExternalName", "externalName": "example.invalid"}})
    v1core.create_namespaced_service("kinds", {"metadata": {"name": "np"}, "spec": {
        "type": "NodePort", "selector": {"app": "np"}, "externalTrafficPolicy": "Local",
        "ports": [{"port": 80, "nodePort": 31234}]}})
    db = eventually(lambda: read(hcore.read_namespaced_service, host_name("db", "kinds", "vc1"), HOST_NS))
    assert db is not None and db.spec.cluster_ip == "None"
    ext = eventually(lambda: read(hcore.read_namespaced_service, host_name("ext", "kinds", "vc1"), HOST_NS))
    assert ext is not None and ext.spec.type == "ExternalName" and ext.spec.external_name == "example.invalid"
    np = eventually(lambda: read(hcore.read_namespaced_service, host_name("np", "kinds", "vc1"), HOST_NS))
    assert np is not None and np.spec.ports[0].node_port == 31234 and np.spec.external_traffic_policy == "Local"
    assert eventually(lambda: same_address(v1core, hcore, "kinds", "np"))
    assert v1core.read_namespaced_service("np", "kinds").spec.ports[0].node_port == 31234
    assert v1core.read_namespaced_service("db", "kinds").spec.cluster_ip == "None"


def test_expose_makes_a_host_service_selecting_exactly_the_namespace_pods(host, vc1, hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "exp"}})
    v1core.create_namespace({"metadata": {"name": "exp2"}})
    for namespace in ("exp", "exp2"):
        run_kubectl(vc1.kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", namespace)
    run_kubectl(vc1.kubeconfig, "expose", "deployment", "web", "--port=80", "-n", "exp")
    hname = host_name("web", "exp", "vc1")

    def host_pod_ips():
        pods = hcore.list_namespaced_pod(HOST_NS, label_selector="vapi.dev/managed-by=vc1,vapi.dev/namespace=exp,"
                                                                 "app=web").items
        return sorted(p.status.pod_ip for p in pods if p.status.pod_ip)

    def endpoint_ips():
        endpoints = read(hcore.read_namespaced_endpoints, hname, HOST_NS)
        return sorted(a.ip for s in (endpoints.subsets or []) for a in s.addresses or []) if endpoints else []
    assert eventually(lambda: len(host_pod_ips()) == 2 and endpoint_ips() == host_pod_ips()), \
        (host_pod_ips(), endpoint_ips())
    # The other namespace's pods of the same labels are not among them, and the virtual
    # Endpoints hold the same addresses.
    def virtual_ips():
        endpoints = read(v1core.read_namespaced_endpoints, "web", "exp")
        return sorted(a.ip for s in (endpoints.subsets or []) for a in s.addresses or []) if endpoints else []
    assert eventually(lambda: virtual_ips() == host_pod_ips()), (virtual_ips(), host_pod_ips())
    assert eventually(lambda: same_address(v1core, hcore, "exp", "web"))


def test_endpoints_of_a_selectorless_service_go_to_the_host(hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "manual"}})
    v1core.create_namespaced_service("manual", {"metadata": {"name": "outside"}, "spec": {"ports": [{"port": 80}]}})
    v1core.create_namespaced_endpoints("manual", {"metadata": {"name": "outside"}, "subsets": [
        {"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]})
    hname = host_name("outside", "manual", "vc1")
    copy = eventually(lambda: read(hcore.read_namespaced_endpoints, hname, HOST_NS))
    assert copy is not None and copy.subsets[0].addresses[0].ip == "10.1.2.3"
    assert copy.metadata.annotations["vapi.dev/object-kind"] == "Endpoints"
    v1core.patch_namespaced_endpoints("outside", "manual", {"subsets": [
        {"addresses": [{"ip": "10.1.2.4"}], "ports": [{"port": 80}]}]})
    assert eventually(lambda: hcore.read_namespaced_endpoints(hname, HOST_NS).subsets[0].addresses[0].ip
                      == "10.1.2.4")
    # Endpoints the endpoints controller deletes while the Service is made again with the host's
    # address are put back for a moment after; a user's deletion after that stands.
    assert eventually(lambda: same_address(v1core, hcore, "manual", "outside"))
    time.sleep(1.5)
    v1core.delete_namespaced_endpoints("outside", "manual")
    assert gone(hcore.read_namespaced_endpoints, hname, HOST_NS)


# --- PersistentVolumeClaims ---------------------------------------------------------------------

def test_a_claim_goes_to_the_host_grows_and_takes_its_status_back(hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "pvc"}})
    v1core.create_namespaced_persistent_volume_claim("pvc", {"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "volumeName": "pv-virtual",
        "resources": {"requests": {"storage": "1Gi"}}}})
    hname = host_name("data", "pvc", "vc1")
    copy = eventually(lambda: read(hcore.read_namespaced_persistent_volume_claim, hname, HOST_NS))
    assert copy is not None
    assert copy.spec.storage_class_name == "fast" and copy.spec.volume_name is None
    assert copy.spec.resources.requests == {"storage": "1Gi"}
    # The host binds it (here by hand): the virtual claim shows it.
    status = {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}
    hcore.patch_namespaced_persistent_volume_claim_status(hname, HOST_NS, {"status": status})
    assert eventually(lambda: v1core.read_namespaced_persistent_volume_claim("data", "pvc").status.phase == "Bound")
    assert v1core.read_namespaced_persistent_volume_claim("data", "pvc").status.capacity == {"storage": "1Gi"}
    # A bound claim may grow: the host copy asks for more too.
    v1core.patch_namespaced_persistent_volume_claim("data", "pvc", {"spec": {"resources": {"requests": {
        "storage": "2Gi"}}}})
    assert eventually(lambda: hcore.read_namespaced_persistent_volume_claim(hname, HOST_NS)
                      .spec.resources.requests == {"storage": "2Gi"})
    v1core.delete_namespaced_persistent_volume_claim("data", "pvc")
    assert gone(hcore.read_namespaced_persistent_volume_claim, hname, HOST_NS)


# --- the opt-in kinds (vc2) ---------------------------------------------------------------------

def test_opt_in_kinds_stay_virtual_by_default(hcore, v1core):
    v1core.create_namespace({"metadata": {"name": "optin"}})
    v1core.create_namespaced_service_account("optin", {"metadata": {"name": "robot"}})
    # The default ServiceAccount and the new one: neither reaches the host.
    assert not eventually(lambda: hcore.list_namespaced_service_account(
        HOST_NS, label_selector="vapi.dev/managed-by=vc1").items, timeout=1.5)


def test_ingress_policy_pdb_account_and_priority_class_in_vc2(host, vc2, hcore, v2core):
    client = api(vc2)
    networking = kubernetes.client.NetworkingV1Api(client)
    policy = kubernetes.client.PolicyV1Api(client)
    scheduling = kubernetes.client.SchedulingV1Api(client)
    hclient = api(host)
    hnetworking = kubernetes.client.NetworkingV1Api(hclient)
    v2core.create_namespace({"metadata": {"name": "app"}})
    v2core.create_namespace({"metadata": {"name": "mon", "labels": {"role": "monitoring"}}})
    v2core.create_namespaced_secret("app", {"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {
        "tls.crt": "", "tls.key": ""}})
    networking.create_namespaced_ingress("app", {"metadata": {"name": "web"}, "spec": {
        "tls": [{"hosts": ["web.example"], "secretName": "tls"}],
        "rules": [{"host": "web.example", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": "web", "port": {"number": 80}}}}]}}]}})
    ingress = eventually(lambda: read(hnetworking.read_namespaced_ingress, host_name("web", "app", "vc2"), HOST_NS))
    assert ingress is not None
    assert ingress.spec.rules[0].http.paths[0].backend.service.name == host_name("web", "app", "vc2")
    assert ingress.spec.tls[0].secret_name == host_name("tls", "app", "vc2")
    assert eventually(lambda: read(hcore.read_namespaced_secret, host_name("tls", "app", "vc2"), HOST_NS))

    networking.create_namespaced_network_policy("app", {"metadata": {"name": "only-mon"}, "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"role": "monitoring"}}},
                              {"podSelector": {"matchLabels": {"app": "client"}}},
                              {"namespaceSelector": {"matchLabels": {"role": "none"}}}]}]}})
    hpolicy = eventually(lambda: read(hnetworking.read_namespaced_network_policy,
                                      host_name("only-mon", "app", "vc2"), HOST_NS))
    assert hpolicy is not None
    own = {"vapi.dev/managed-by": "vc2", "vapi.dev/namespace": "app"}
    assert hpolicy.spec.pod_selector.match_labels == {"app": "web", **own}
    peers = hpolicy.spec.ingress[0].var_from
    assert peers[0].namespace_selector is None
    assert peers[0].pod_selector.match_labels == {"vapi.dev/managed-by": "vc2"}
    assert [(e.key, e.operator, e.values) for e in peers[0].pod_selector.match_expressions] == [
        ("vapi.dev/namespace", "In", ["mon"])]
    assert peers[1].pod_selector.match_labels == {"app": "client", **own}
    assert peers[2].pod_selector.match_expressions[0].values == [""]
    # A namespace that gains the label is let in.
    v2core.patch_namespace("app", {"metadata": {"labels": {"role": "monitoring"}}})
    assert eventually(lambda: hnetworking.read_namespaced_network_policy(host_name("only-mon", "app", "vc2"), HOST_NS)
                      .spec.ingress[0].var_from[0].pod_selector.match_expressions[0].values == ["app", "mon"])

    policy.create_namespaced_pod_disruption_budget("app", {"metadata": {"name": "web"}, "spec": {
        "minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}})
    pdb = eventually(lambda: read(kubernetes.client.PolicyV1Api(hclient).read_namespaced_pod_disruption_budget,
                                  host_name("web", "app", "vc2"), HOST_NS))
    assert pdb is not None and pdb.spec.selector.match_labels == {"app": "web", **own}

    v2core.create_namespaced_service_account("app", {"metadata": {"name": "robot"}})
    account = eventually(lambda: read(hcore.read_namespaced_service_account, host_name("robot", "app", "vc2"),
                                      HOST_NS))
    assert account is not None and account.automount_service_account_token is False

    scheduling.create_priority_class({"metadata": {"name": "high"}, "value": 1000, "globalDefault": True})
    hscheduling = kubernetes.client.SchedulingV1Api(hclient)
    priority = eventually(lambda: read(hscheduling.read_priority_class, "high-x-vc2"))
    assert priority is not None and priority.value == 1000 and not priority.global_default
    assert priority.metadata.labels["vapi.dev/managed-by"] == "vc2" and not priority.metadata.owner_references
    assert read(hscheduling.read_priority_class, "system-node-critical-x-vc2") is None
    scheduling.delete_priority_class("high")
    assert gone(hscheduling.read_priority_class, "high-x-vc2")


# --- two virtual clusters -----------------------------------------------------------------------

def test_two_virtual_clusters_with_the_same_names_never_collide(host, vc1, vc2, hcore, v1core, v2core):
    for core in (v1core, v2core):
        core.create_namespace({"metadata": {"name": "twin"}})
        core.create_namespaced_config_map("twin", {"metadata": {"name": "conf"}, "data": {"who": "x"}})
        core.create_namespaced_service("twin", {"metadata": {"name": "web"}, "spec": {
            "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    for vc, core in (("vc1", v1core), ("vc2", v2core)):
        run_kubectl(vc1.kubeconfig if vc == "vc1" else vc2.kubeconfig, "create", "deployment", "web",
                    "--image=nginx", "--replicas=1", "-n", "twin")
        core.create_namespaced_pod("twin", pod_using("user", volumes=[{"name": "v", "configMap": {"name": "conf"}}]))
    v2core.patch_namespaced_config_map("conf", "twin", {"data": {"who": "vc2"}})
    v1core.patch_namespaced_config_map("conf", "twin", {"data": {"who": "vc1"}})
    for vc, core in (("vc1", v1core), ("vc2", v2core)):
        assert eventually(lambda: (read(hcore.read_namespaced_config_map, host_name("conf", "twin", vc), HOST_NS)
                                   or kubernetes.client.V1ConfigMap(data={})).data == {"who": vc})
        assert eventually(lambda: same_address(core, hcore, "twin", "web", vc))

        def endpoints_match():
            pods = hcore.list_namespaced_pod(HOST_NS, label_selector=f"vapi.dev/managed-by={vc},"
                                                                     "vapi.dev/namespace=twin,app=web").items
            ips = sorted(p.status.pod_ip for p in pods if p.status.pod_ip)
            endpoints = read(hcore.read_namespaced_endpoints, host_name("web", "twin", vc), HOST_NS)
            listed = sorted(a.ip for s in (endpoints.subsets or []) for a in s.addresses or []) if endpoints else []
            return len(ips) == 1 and listed == ips
        assert eventually(endpoints_match)
    assert v1core.read_namespaced_service("web", "twin").spec.cluster_ip != \
        v2core.read_namespaced_service("web", "twin").spec.cluster_ip
