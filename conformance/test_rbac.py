"""RBAC as any cluster answers it: users acted as by impersonation (`--as`), so the cases run with
the cluster's admin kubeconfig alone. Bindings, 403 wording, escalation prevention, aggregation,
access and rules reviews, the bootstrap roles, and what anonymous requests may read."""
from __future__ import annotations

import json
import time
import uuid

import pytest
import urllib3


def _wait_can_i(kubectl, *args):
    deadline = time.monotonic() + 10
    while kubectl("auth", "can-i", *args, check=False).stdout.strip() != "yes":
        assert time.monotonic() < deadline, args
        time.sleep(0.05)


def _user():
    return f"conf-{uuid.uuid4().hex[:8]}"


def test_edit_binding_in_one_namespace(kubectl, namespace):
    user = _user()
    kubectl("-n", namespace, "create", "rolebinding", "e", "--clusterrole=edit", f"--user={user}")
    _wait_can_i(kubectl, "create", "pods", "-n", namespace, "--as", user)
    kubectl("-n", namespace, "create", "configmap", "cm", "--as", user)
    assert kubectl("-n", namespace, "get", "secrets", "--as", user).returncode == 0
    proc = kubectl("-n", "default", "get", "configmaps", "--as", user, check=False)
    assert proc.stderr.strip() == (f'Error from server (Forbidden): configmaps is forbidden: User "{user}" cannot list '
                                   'resource "configmaps" in API group "" in the namespace "default"')
    proc = kubectl("-n", namespace, "get", "role", "r", "--as", user, check=False)
    assert proc.stderr.strip() == (f'Error from server (Forbidden): roles.rbac.authorization.k8s.io "r" is forbidden: '
                                   f'User "{user}" cannot get resource "roles" in API group "rbac.authorization.k8s.io" '
                                   f'in the namespace "{namespace}"')
    proc = kubectl("get", "nodes", "--as", user, check=False)
    assert proc.stderr.strip() == (f'Error from server (Forbidden): nodes is forbidden: User "{user}" cannot list '
                                   'resource "nodes" in API group "" at the cluster scope')


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_can_i_across_kubectl_versions(kubectl, namespace, version):
    user = _user()
    kubectl("-n", namespace, "create", "rolebinding", "v", "--clusterrole=view", f"--user={user}")
    _wait_can_i(kubectl, "list", "pods", "-n", namespace, "--as", user)
    can_i = lambda *a: kubectl("auth", "can-i", *a, "-n", namespace, "--as", user, version=version,
                               check=False).stdout.strip()
    assert (can_i("watch", "deployments.apps"), can_i("delete", "pods"), can_i("get", "secrets")) == ("yes", "no", "no")
    out = kubectl("auth", "can-i", "--list", "-n", namespace, "--as", user, version=version).stdout
    assert any(line.startswith("deployments.apps ") and line.rstrip().endswith("[get list watch]")
               for line in out.splitlines())


def test_view_may_not_read_secrets(kubectl, namespace):
    user = _user()
    kubectl("-n", namespace, "create", "rolebinding", "v", "--clusterrole=view", f"--user={user}")
    _wait_can_i(kubectl, "list", "pods", "-n", namespace, "--as", user)
    for verb, resource, want in [("get", "configmaps", "yes"), ("get", "secrets", "no"), ("create", "pods", "no"),
                                 ("get", "pods/log", "yes"), ("list", "roles", "no")]:
        got = kubectl("auth", "can-i", verb, resource, "-n", namespace, "--as", user, check=False).stdout.strip()
        assert got == want, (verb, resource)
    out = kubectl("auth", "can-i", "--list", "-n", namespace, "--as", user).stdout
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if not line.startswith(" ")}
    assert lines["pods"].rstrip().endswith("[get list watch]") and "secrets" not in lines


def test_escalation_is_refused(kubectl, namespace):
    user = _user()
    kubectl("-n", namespace, "create", "rolebinding", "a", "--clusterrole=admin", f"--user={user}")
    _wait_can_i(kubectl, "create", "roles", "-n", namespace, "--as", user)
    proc = kubectl("-n", namespace, "create", "role", "nodes", "--verb=get,list", "--resource=nodes", "--as", user,
                   check=False)
    assert proc.stderr.strip().endswith(
        f'roles.rbac.authorization.k8s.io "nodes" is forbidden: user "{user}" (groups=["system:authenticated"]) is '
        'attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}')
    proc = kubectl("-n", namespace, "create", "rolebinding", "root", "--clusterrole=cluster-admin", f"--user={user}",
                   "--as", user, check=False)
    assert "is attempting to grant RBAC permissions not currently held" in proc.stderr
    kubectl("-n", namespace, "create", "rolebinding", "ok", "--clusterrole=view", "--user=someone", "--as", user)


def test_access_reviews(kubectl, namespace):
    user = _user()
    kubectl("-n", namespace, "create", "rolebinding", "e", "--clusterrole=edit", f"--user={user}")
    _wait_can_i(kubectl, "get", "pods", "-n", namespace, "--as", user)
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
        "user": user, "resourceAttributes": {"verb": "delete", "resource": "pods", "namespace": namespace}}}
    out = json.loads(kubectl("create", "--validate=false", "-o", "json", "-f", "-", input=json.dumps(review)).stdout)
    assert out["status"] == {"allowed": True, "reason": f'RBAC: allowed by RoleBinding "e/{namespace}" of '
                                                        f'ClusterRole "edit" to User "{user}"'}
    review["spec"]["nonResourceAttributes"] = {"verb": "get", "path": "/apis/apps"}
    del review["spec"]["resourceAttributes"]
    out = json.loads(kubectl("create", "--validate=false", "-o", "json", "-f", "-", input=json.dumps(review)).stdout)
    assert out["status"]["allowed"] is False  # a user without system:authenticated has no discovery
    review["spec"]["groups"] = ["system:authenticated"]
    out = json.loads(kubectl("create", "--validate=false", "-o", "json", "-f", "-", input=json.dumps(review)).stdout)
    assert out["status"] == {"allowed": True, "reason": 'RBAC: allowed by ClusterRoleBinding "system:discovery" of '
                                                        'ClusterRole "system:discovery" to Group "system:authenticated"'}


def test_aggregation(kubectl):
    name = _user()
    rule = {"apiGroups": ["conformance.example.com"], "resources": [name], "verbs": ["get"]}
    kubectl("create", "--validate=false", "-f", "-", input=json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
        "rules": [rule]}))
    try:
        deadline = time.monotonic() + 10
        while True:
            edit, view, admin = (json.loads(kubectl("get", "clusterrole", r, "-o", "json").stdout)["rules"]
                                 for r in ("edit", "view", "admin"))
            if rule in edit and rule in admin:
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert rule not in view
    finally:
        kubectl("delete", "clusterrole", name)


def test_bootstrap_roles(kubectl):
    for name in ("cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
                 "system:public-info-viewer", "system:auth-delegator"):
        role = json.loads(kubectl("get", "clusterrole", name, "-o", "json").stdout)
        assert role["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
        assert role["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] == "true"
    view = json.loads(kubectl("get", "clusterrole", "view", "-o", "json").stdout)
    assert view["aggregationRule"] == {"clusterRoleSelectors": [
        {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]}
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    masters = json.loads(kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "json").stdout)
    assert masters["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                    "name": "system:masters"}]


def test_impersonation_needs_the_verb(kubectl, namespace):
    user = _user()
    kubectl("-n", namespace, "create", "rolebinding", "e", "--clusterrole=edit", f"--user={user}")
    _wait_can_i(kubectl, "get", "pods", "-n", namespace, "--as", user)
    # edit lets a user act as its namespace's service accounts, and as nobody else.
    for resource, ns, want in [("users", namespace, "no"), ("groups", namespace, "no"),
                               ("serviceaccounts", namespace, "yes"), ("serviceaccounts", "default", "no")]:
        got = kubectl("auth", "can-i", "impersonate", resource, "-n", ns, "--as", user, check=False).stdout.strip()
        assert got == want, (resource, ns)
    # The admin may, and the groups asked for are the user's, with system:authenticated added.
    whoami = json.loads(kubectl("auth", "whoami", "-o", "json", "--as", user, "--as-group", "team").stdout)
    assert whoami["status"]["userInfo"]["groups"] == ["team", "system:authenticated"]


def test_anonymous_reads_public_info_only(api_client):
    pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=api_client.configuration.ssl_ca_cert)
    host = api_client.configuration.host
    for path in ("/healthz", "/livez", "/readyz", "/version"):
        assert pool.request("GET", host + path).status == 200, path
    resp = pool.request("GET", host + "/apis")
    body = json.loads(resp.data)
    assert (resp.status, body["reason"], body["message"]) == (
        403, "Forbidden", 'forbidden: User "system:anonymous" cannot get path "/apis"')


def test_no_client_certificates_for_system_masters(kubectl):
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters")])
    pem = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(
        ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    name = _user()
    proc = kubectl("create", "-f", "-", check=False, input=json.dumps({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
        "spec": {"request": base64.b64encode(pem).decode(), "usages": ["client auth"],
                 "signerName": "kubernetes.io/kube-apiserver-client"}}))
    assert proc.stderr.strip() == (
        f'Error from server (Forbidden): error when creating "STDIN": certificatesigningrequests.certificates.k8s.io '
        f'"{name}" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not '
        'allowed')
