"""The built-in admission plugins every cluster runs: what they add to a pod and how they refuse."""
from __future__ import annotations

import kubernetes

from .helpers import eventually, expect_status


def _pod(name: str, **container) -> dict:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx", **container}]}}


def test_pod_security_restricted_refuses_privileged_pod(core, namespace):
    core.patch_namespace(namespace, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
    status = expect_status(lambda: core.create_namespaced_pod(
        namespace, _pod("p", securityContext={"privileged": True})), 403, "Forbidden")
    assert status["message"] == (
        'pods "p" is forbidden: violates PodSecurity "restricted:latest": '
        'privileged (container "c" must not set securityContext.privileged=true), '
        'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or '
        '"Localhost")')


def test_pod_security_warns_through_kubectl(kubectl, core, namespace):
    core.patch_namespace(namespace, {"metadata": {"labels": {"pod-security.kubernetes.io/warn": "baseline"}}})
    out = kubectl("-n", namespace, "run", "h", "--image=nginx", "--overrides",
                  '{"spec": {"hostNetwork": true}}')
    assert 'Warning: would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)' in out.stderr


def test_resource_quota_refuses_and_reports_usage(core, namespace):
    core.create_namespaced_resource_quota(namespace, {"metadata": {"name": "q"}, "spec": {"hard": {"secrets": "1"}}})

    def status():
        s = core.read_namespaced_resource_quota("q", namespace).status
        return s if s is not None and s.used is not None and "secrets" in s.used else None
    assert eventually(status)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "one"}})
    refused = expect_status(lambda: core.create_namespaced_secret(namespace, {"metadata": {"name": "two"}}),
                            403, "Forbidden")
    assert refused["message"] == ('secrets "two" is forbidden: exceeded quota: q, requested: secrets=1, '
                                  'used: secrets=1, limited: secrets=1')
    assert eventually(lambda: core.read_namespaced_resource_quota("q", namespace).status.used == {"secrets": "1"})
    core.delete_namespaced_secret("one", namespace)
    assert eventually(lambda: core.read_namespaced_resource_quota("q", namespace).status.used == {"secrets": "0"})


def test_limit_range_defaults_container_resources(core, namespace):
    core.create_namespaced_limit_range(namespace, {"metadata": {"name": "lr"}, "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "250m"}, "max": {"cpu": "1"}}]}})
    created = core.create_namespaced_pod(namespace, _pod("p"))
    assert created.spec.containers[0].resources.limits == {"cpu": "500m"}
    assert created.spec.containers[0].resources.requests == {"cpu": "250m"}
    assert created.metadata.annotations["kubernetes.io/limit-ranger"] == \
        "LimitRanger plugin set: cpu request for container c; cpu limit for container c"
    refused = expect_status(lambda: core.create_namespaced_pod(
        namespace, _pod("big", resources={"limits": {"cpu": "2"}})), 403, "Forbidden")
    assert refused["message"] == 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2'


def test_pod_gets_service_account_token_volume_and_tolerations(core, namespace):
    created = core.create_namespaced_pod(namespace, _pod("p"))
    assert created.spec.service_account_name == "default"
    volume = created.spec.volumes[0]
    assert volume.name.startswith("kube-api-access-")
    sources = volume.projected.sources
    assert sources[0].service_account_token.expiration_seconds == 3607
    assert sources[1].config_map.name == "kube-root-ca.crt"
    assert sources[2].downward_api.items[0].field_ref.field_path == "metadata.namespace"
    mount = created.spec.containers[0].volume_mounts[0]
    assert (mount.name, mount.mount_path, mount.read_only) == (
        volume.name, "/var/run/secrets/kubernetes.io/serviceaccount", True)
    assert {(t.key, t.effect, t.toleration_seconds) for t in created.spec.tolerations} >= {
        ("node.kubernetes.io/not-ready", "NoExecute", 300), ("node.kubernetes.io/unreachable", "NoExecute", 300)}


def test_missing_service_account_is_refused(core, namespace):
    body = _pod("p")
    body["spec"]["serviceAccountName"] = "ghost"
    status = expect_status(lambda: core.create_namespaced_pod(namespace, body), 403, "Forbidden")
    assert status["message"] == (f'pods "p" is forbidden: error looking up service account {namespace}/ghost: '
                                 'serviceaccount "ghost" not found')
    assert isinstance(core.list_namespaced_pod(namespace).items, list) and not core.list_namespaced_pod(namespace).items
    assert kubernetes.client.CoreV1Api  # the typed client decodes every answer above
