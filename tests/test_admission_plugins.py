"""The built-in admission plugins on a real server, as users meet them through kubectl and the
client: LimitRanger, ServiceAccount, DefaultTolerationSeconds, PodSecurity, ResourceQuota."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import kubernetes
import pytest

from conformance.helpers import eventually, expect_status


def pod(name: str, **container) -> dict:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx", **container}]}}


def labelled_namespace(core, namespace: str, labels: dict) -> None:
    core.patch_namespace(namespace, {"metadata": {"labels": labels}})


def quota(core, namespace: str, name: str, hard: dict, **spec) -> dict:
    core.create_namespaced_resource_quota(namespace, {"metadata": {"name": name}, "spec": {"hard": hard, **spec}})
    assert eventually(lambda: ((core.read_namespaced_resource_quota(name, namespace).status or
                              kubernetes.client.V1ResourceQuotaStatus()).hard or {}) == hard), \
        "the quota controller never filled in the quota's status"
    return core.read_namespaced_resource_quota(name, namespace)


# --- PodSecurity ---------------------------------------------------------------------------

RESTRICTED_OK = {"securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                                     "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}}


def test_restricted_names_each_setter_and_supersedes_baseline(core, namespace):
    """(The privileged pod of the issue's acceptance is conformance/test_admission_plugins.py's.)"""
    labelled_namespace(core, namespace, {"pod-security.kubernetes.io/enforce": "restricted"})
    body = pod("p", securityContext={**RESTRICTED_OK["securityContext"], "runAsNonRoot": False, "runAsUser": 0,
                                     "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}})
    body["spec"]["initContainers"] = [{"name": "i", "image": "busybox", **RESTRICTED_OK}]
    body["spec"]["securityContext"] = {"runAsUser": 0, "seccompProfile": {"type": "Unconfined"}}
    body["spec"]["volumes"] = [{"name": "h", "hostPath": {"path": "/"}}, {"name": "e", "emptyDir": {}}]
    status = expect_status(lambda: core.create_namespaced_pod(namespace, body), 403, "Forbidden")
    assert status["message"] == (
        'pods "p" is forbidden: violates PodSecurity "restricted:latest": '
        'unrestricted capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add), '
        'restricted volume types (volumes ["h"] have restricted types), '
        'runAsNonRoot != true (container "c" must not set securityContext.runAsNonRoot=false), '
        'runAsUser=0 (pod and container "c" must not set runAsUser=0), '
        'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")')
    assert status["details"] == {"name": "p", "kind": "pods"}
    assert core.list_namespaced_pod(namespace).items == []
    core.create_namespaced_pod(namespace, pod("ok", **RESTRICTED_OK))


def test_baseline_names_host_namespaces_paths_ports_and_sysctls(core, namespace):
    labelled_namespace(core, namespace, {"pod-security.kubernetes.io/enforce": "baseline",
                                         "pod-security.kubernetes.io/enforce-version": "v1.30"})
    body = pod("p", ports=[{"containerPort": 80, "hostPort": 8080}],
               securityContext={"capabilities": {"add": ["NET_ADMIN", "CHOWN"]}})
    body["spec"].update(hostNetwork=True, hostPID=True,
                        volumes=[{"name": "h", "hostPath": {"path": "/etc"}}],
                        securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]})
    status = expect_status(lambda: core.create_namespaced_pod(namespace, body), 403, "Forbidden")
    assert status["message"] == (
        'pods "p" is forbidden: violates PodSecurity "baseline:v1.30": '
        'non-default capabilities (container "c" must not include "NET_ADMIN" in securityContext.capabilities.add), '
        'host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "h"), '
        'hostPort (container "c" uses hostPort 8080), forbidden sysctls (kernel.msgmax)')


def test_warn_and_workloads_get_warnings_only(kubectl, core, namespace):
    labelled_namespace(core, namespace, {"pod-security.kubernetes.io/warn": "restricted",
                                         "pod-security.kubernetes.io/enforce": "baseline"})
    out = kubectl("-n", namespace, "run", "w", "--image=nginx")
    assert ('Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
            '(container "w" must set securityContext.allowPrivilegeEscalation=false)') in out.stderr
    assert core.read_namespaced_pod("w", namespace).metadata.name == "w"
    labelled_namespace(core, namespace, {"pod-security.kubernetes.io/enforce": "restricted"})
    out = kubectl("-n", namespace, "create", "deployment", "d", "--image=nginx")
    assert 'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false' in out.stderr
    assert out.stderr.count("would violate PodSecurity") == 1
    assert "deployment.apps/d created" in out.stdout


def test_stricter_enforce_label_warns_about_existing_pods(kubectl, core, namespace):
    for name in ("b", "a"):
        core.create_namespaced_pod(namespace, pod(name))
    core.create_namespaced_pod(namespace, pod("h", securityContext={"privileged": True}))
    core.create_namespaced_pod(namespace, pod("fine", **RESTRICTED_OK))
    out = kubectl("label", "ns", namespace, "pod-security.kubernetes.io/enforce=restricted")
    assert out.stderr.splitlines() == [
        f'Warning: existing pods in namespace "{namespace}" violate the new PodSecurity enforce level '
        '"restricted:latest"',
        "Warning: a (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, "
        "runAsNonRoot != true, seccompProfile",
        "Warning: h: privileged, allowPrivilegeEscalation != false, unrestricted capabilities, "
        "runAsNonRoot != true, seccompProfile"]
    out = kubectl("label", "ns", namespace, "pod-security.kubernetes.io/warn=baseline")
    assert out.stderr == ""  # the enforce level did not change


# --- ResourceQuota -------------------------------------------------------------------------

def test_quota_refuses_past_its_limit_and_reports_usage(core, kubectl, namespace):
    quota(core, namespace, "q", {"pods": "2", "requests.cpu": "1", "requests.memory": "1Gi"})
    for name in ("a", "b"):
        core.create_namespaced_pod(namespace, pod(name, resources={"requests": {"cpu": "300m", "memory": "128Mi"}}))
    status = expect_status(lambda: core.create_namespaced_pod(
        namespace, pod("c", resources={"requests": {"cpu": "300m", "memory": "128Mi"}})), 403, "Forbidden")
    assert status["message"] == 'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2'
    used = core.read_namespaced_resource_quota("q", namespace).status.used
    assert used == {"pods": "2", "requests.cpu": "600m", "requests.memory": "256Mi"}
    described = kubectl("-n", namespace, "describe", "quota", "q").stdout
    rows = [line.split() for line in described.splitlines()]
    assert ["pods", "2", "2"] in rows and ["requests.cpu", "600m", "1"] in rows
    assert ["requests.memory", "256Mi", "1Gi"] in rows
    core.delete_namespaced_pod("a", namespace, grace_period_seconds=0)
    assert eventually(lambda: core.read_namespaced_resource_quota("q", namespace).status.used["pods"] == "1")
    assert core.read_namespaced_resource_quota("q", namespace).status.used["requests.cpu"] == "300m"
    status = expect_status(lambda: core.create_namespaced_pod(
        namespace, pod("big", resources={"requests": {"cpu": "800m", "memory": "1"}})), 403, "Forbidden")
    assert status["message"] == ('pods "big" is forbidden: exceeded quota: q, requested: requests.cpu=800m, '
                                 'used: requests.cpu=300m, limited: requests.cpu=1')


def test_quota_on_limits_requires_them(core, namespace):
    quota(core, namespace, "compute", {"limits.cpu": "2", "limits.memory": "1Gi"})
    status = expect_status(lambda: core.create_namespaced_pod(namespace, pod("p")), 403, "Forbidden")
    assert status["message"] == ('pods "p" is forbidden: failed quota: compute: must specify limits.cpu for: c; '
                                 'limits.memory for: c')


def test_quota_counts_objects_and_services(core, namespace):
    quota(core, namespace, "objects", {"count/secrets": "1", "services.nodeports": "1", "services": "5"})
    core.create_namespaced_secret(namespace, {"metadata": {"name": "s1"}})
    status = expect_status(lambda: core.create_namespaced_secret(namespace, {"metadata": {"name": "s2"}}),
                           403, "Forbidden")
    assert status["message"] == ('secrets "s2" is forbidden: exceeded quota: objects, requested: count/secrets=1, '
                                 'used: count/secrets=1, limited: count/secrets=1')
    svc = {"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81, "name": "b"}]}}
    svc["spec"]["ports"][0]["name"] = "a"
    status = expect_status(lambda: core.create_namespaced_service(namespace, svc), 403, "Forbidden")
    assert status["message"] == ('services "np" is forbidden: exceeded quota: objects, requested: '
                                 'services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1')
    core.create_namespaced_service(namespace, {"metadata": {"name": "ip"}, "spec": {"ports": [{"port": 80}]}})
    assert eventually(lambda: core.read_namespaced_resource_quota("objects", namespace).status.used ==
                    {"count/secrets": "1", "services": "1", "services.nodeports": "0"})


def test_scoped_quota_counts_only_the_pods_it_selects(core, namespace):
    quota(core, namespace, "best-effort", {"pods": "1"}, scopes=["BestEffort"])
    core.create_namespaced_pod(namespace, pod("be1"))
    status = expect_status(lambda: core.create_namespaced_pod(namespace, pod("be2")), 403, "Forbidden")
    assert status["message"] == ('pods "be2" is forbidden: exceeded quota: best-effort, requested: pods=1, '
                                 'used: pods=1, limited: pods=1')
    core.create_namespaced_pod(namespace, pod("burstable", resources={"requests": {"cpu": "10m"}}))
    assert core.read_namespaced_resource_quota("best-effort", namespace).status.used == {"pods": "1"}


def test_quota_counts_any_resource_by_group(apps, core, namespace):
    quota(core, namespace, "apps", {"count/deployments.apps": "1"})
    deployment = {"metadata": {"name": "d1"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
        "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    apps.create_namespaced_deployment(namespace, deployment)
    deployment["metadata"]["name"] = "d2"
    status = expect_status(lambda: apps.create_namespaced_deployment(namespace, deployment), 403, "Forbidden")
    assert status["message"] == ('deployments.apps "d2" is forbidden: exceeded quota: apps, requested: '
                                 'count/deployments.apps=1, used: count/deployments.apps=1, limited: '
                                 'count/deployments.apps=1')
    apps.delete_namespaced_deployment("d1", namespace)
    assert eventually(lambda: core.read_namespaced_resource_quota("apps", namespace).status.used ==
                      {"count/deployments.apps": "0"})
    apps.create_namespaced_deployment(namespace, deployment)


def test_racing_creates_never_both_take_the_last_unit(api_client, core, namespace):
    quota(core, namespace, "race", {"secrets": "3"})

    def create(i):
        try:
            core.create_namespaced_secret(namespace, {"metadata": {"name": f"s{i}"}})
            return 201
        except kubernetes.client.ApiException as e:
            return e.status
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(create, range(12)))
    assert sorted(codes) == [201] * 3 + [403] * 9
    assert len(core.list_namespaced_secret(namespace).items) == 3
    assert core.read_namespaced_resource_quota("race", namespace).status.used == {"secrets": "3"}


def test_dry_run_is_checked_but_not_charged(core, namespace):
    quota(core, namespace, "q", {"count/configmaps": "5"})
    used = core.read_namespaced_resource_quota("q", namespace).status.used["count/configmaps"]
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "dry"}}, dry_run="All")
    assert core.read_namespaced_resource_quota("q", namespace).status.used["count/configmaps"] == used


# --- LimitRanger ---------------------------------------------------------------------------

def test_limit_range_defaults_and_refuses(core, namespace):
    core.create_namespaced_limit_range(namespace, {"metadata": {"name": "lr"}, "spec": {"limits": [
        {"type": "Container", "max": {"cpu": "1"}, "defaultRequest": {"cpu": "100m", "memory": "64Mi"},
         "default": {"memory": "128Mi"}}, {"type": "Pod", "max": {"cpu": "1500m"}}]}})
    created = core.create_namespaced_pod(namespace, pod("p"))
    resources = created.spec.containers[0].resources
    assert resources.requests == {"cpu": "100m", "memory": "64Mi"}
    assert resources.limits == {"cpu": "1", "memory": "128Mi"}
    assert created.metadata.annotations["kubernetes.io/limit-ranger"] == \
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c"
    two = pod("two", resources={"limits": {"cpu": "1"}})
    two["spec"]["containers"].append({"name": "d", "image": "nginx", "resources": {"limits": {"cpu": "1"}}})
    status = expect_status(lambda: core.create_namespaced_pod(namespace, two), 403, "Forbidden")
    assert status["message"] == 'pods "two" is forbidden: maximum cpu usage per Pod is 1500m, but limit is 2'


def test_limit_range_ratio_min_and_claims(core, namespace):
    core.create_namespaced_limit_range(namespace, {"metadata": {"name": "lr"}, "spec": {"limits": [
        {"type": "Container", "min": {"memory": "32Mi"}, "maxLimitRequestRatio": {"cpu": "2"}},
        {"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}]}})
    status = expect_status(lambda: core.create_namespaced_pod(namespace, pod(
        "p", resources={"requests": {"cpu": "100m", "memory": "16Mi"}, "limits": {"cpu": "500m"}})), 403, "Forbidden")
    assert status["message"] == ('pods "p" is forbidden: [minimum memory usage per Container is 32Mi, but request '
                                 'is 16Mi, cpu max limit to request ratio per Container is 2, but provided ratio is '
                                 '5.000000]')
    claim = {"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                 "resources": {"requests": {"storage": "2Gi"}}}}
    status = expect_status(lambda: core.create_namespaced_persistent_volume_claim(namespace, claim), 403, "Forbidden")
    assert status["message"] == ('persistentvolumeclaims "c" is forbidden: maximum storage usage per '
                                 'PersistentVolumeClaim is 1Gi, but request is 2Gi')


# --- ServiceAccount and DefaultTolerationSeconds -------------------------------------------

def test_pods_get_their_service_account_token_and_tolerations(api_client, core, namespace):
    created = core.create_namespaced_pod(namespace, {"metadata": {"name": "p"}, "spec": {
        "initContainers": [{"name": "i", "image": "busybox"}], "containers": [{"name": "c", "image": "nginx"}]}})
    raw = api_client.sanitize_for_serialization(created)
    spec = raw["spec"]
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    volume = spec["volumes"][0]
    assert volume["name"].startswith("kube-api-access-") and len(volume["name"]) == len("kube-api-access-") + 5
    assert volume["projected"] == {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                     "fieldPath": "metadata.namespace"}}]}},
    ], "defaultMode": 420}
    mount = {"name": volume["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
    assert spec["containers"][0]["volumeMounts"] == [mount]
    assert spec["initContainers"][0]["volumeMounts"] == [mount]
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300}]


def test_service_account_must_exist_and_may_opt_out(core, namespace):
    status = expect_status(lambda: core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"serviceAccountName": "ghost",
                                                        "containers": [{"name": "c", "image": "nginx"}]}}),
        403, "Forbidden")
    assert status["message"] == ('pods "p" is forbidden: error looking up service account '
                                 f'{namespace}/ghost: serviceaccount "ghost" not found')
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "quiet"},
                                                       "automountServiceAccountToken": False})
    created = core.create_namespaced_pod(namespace, {"metadata": {"name": "q"}, "spec": {
        "serviceAccountName": "quiet", "containers": [{"name": "c", "image": "nginx"}],
        "tolerations": [{"operator": "Exists"}]}})
    assert created.spec.volumes is None and created.spec.containers[0].volume_mounts is None
    assert [t.to_dict()["operator"] for t in created.spec.tolerations] == ["Exists"]


def test_mirror_pods_may_not_use_service_accounts(core, namespace):
    body = {"metadata": {"name": "m", "annotations": {"kubernetes.io/config.mirror": "x"}},
            "spec": {"serviceAccountName": "default", "containers": [{"name": "c", "image": "nginx"}]}}
    status = expect_status(lambda: core.create_namespaced_pod(namespace, body), 403, "Forbidden")
    assert status["message"] == 'pods "m" is forbidden: a mirror pod may not reference service accounts'
    del body["spec"]["serviceAccountName"]
    created = core.create_namespaced_pod(namespace, body)
    assert created.spec.volumes is None


@pytest.mark.parametrize("unused", [None])
def test_status_json_is_kube_shaped(api_client, namespace, unused):
    from conformance.helpers import raw
    code, body = raw(api_client, "POST", f"/api/v1/namespaces/{namespace}/pods",
                     json.dumps({"metadata": {"name": "p"}, "spec": {"serviceAccountName": "nope",
                                                                     "containers": [{"name": "c", "image": "x"}]}}))
    assert code == 403 and body["reason"] == "Forbidden" and body["details"] == {"name": "p", "kind": "pods"}


def test_audit_annotations_reach_the_request(tmp_path):
    """What the audit log will record: PodSecurity's audit mode notes violations on the write."""
    from tests.test_pipeline import serve
    from vapi.api import WriteOptions

    async def scenario(server, kubectl):
        await kubectl("create", "namespace", "audited")
        await kubectl("label", "namespace", "audited", "pod-security.kubernetes.io/audit=baseline",
                      "pod-security.kubernetes.io/enforce=privileged")
        opts = WriteOptions()
        await server.api.create(server.registry.get("", "v1", "pods"), "audited",
                                {"metadata": {"name": "p"}, "spec": {"hostPID": True, "containers": [
                                    {"name": "c", "image": "nginx"}]}}, opts)
        assert opts.audit_annotations == {
            "pod-security.kubernetes.io/enforce-policy": "privileged:latest",
            "pod-security.kubernetes.io/audit-violations":
                'would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)'}
        assert opts.warnings == []
    serve(tmp_path, scenario)
