"""Who may do what: kubectl as three users (the admin, an editor bound to `edit` in one namespace,
a viewer bound to `view` cluster-wide) against a real `vapi serve`, with RBAC's answers and kube's
403 wording; escalation prevention, aggregation, access and rules reviews, impersonation, and
anonymous requests."""
from __future__ import annotations

import json
import re
import ssl
import time
import urllib.error
import urllib.request

import pytest
import yaml

from vapi.auth.certs import PKI
from vapi.testing import ServerProcess, run_kubectl

TEAM, OTHER = "team-a", "team-b"
ADMIN = "kubernetes-admin"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("rbac")) as srv:
        yield srv


class Cluster:
    def __init__(self, server, tmp):
        self.server = server
        self.tmp = tmp
        self.pki = PKI(server.data_dir / "pki")
        self.configs = {ADMIN: server.kubeconfig}

    def user(self, name: str, groups=()) -> str:
        cert, key = self.pki.issue_client(name, list(groups))
        path = self.tmp / f"{name}.kubeconfig"
        path.write_bytes(self.pki.kubeconfig(f"https://127.0.0.1:{self.server.port}", cert, key, name))
        self.configs[name] = path
        return name

    def kubectl(self, who: str, *args, input=None):
        return run_kubectl(self.configs[who], *args, input=input, check=False, cache_dir=self.tmp / f"cache-{who}")

    def ok(self, who: str, *args, input=None) -> str:
        proc = self.kubectl(who, *args, input=input)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def forbidden(self, who: str, *args, input=None) -> str:
        """The server's 403 message, however kubectl prefixes it."""
        proc = self.kubectl(who, *args, input=input)
        assert proc.returncode != 0, proc.stdout
        found = re.match(r'(?:Error from server \(Forbidden\): |error: failed to create [a-z]+: )'
                         r'(?:error when creating "STDIN": )?(.*)', proc.stderr, re.DOTALL)
        assert found, proc.stderr
        return found.group(1).strip()

    def until_allowed(self, who: str, *can_i):
        deadline = time.monotonic() + 10
        while self.kubectl(who, "auth", "can-i", *can_i).stdout.strip() != "yes":
            assert time.monotonic() < deadline, f"{who} never got {can_i}"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(server, tmp_path_factory):
    c = Cluster(server, tmp_path_factory.mktemp("users"))
    c.user("eve")      # editor in team-a
    c.user("victor")   # viewer everywhere
    for ns in (TEAM, OTHER):
        c.ok(ADMIN, "create", "namespace", ns)
        c.ok(ADMIN, "-n", ns, "create", "configmap", "cm", "--from-literal=a=b")
        c.ok(ADMIN, "-n", ns, "create", "secret", "generic", "s", "--from-literal=a=b")
        c.ok(ADMIN, "-n", ns, "run", "web", "--image=nginx")
    c.ok(ADMIN, "-n", TEAM, "create", "rolebinding", "eve-edit", "--clusterrole=edit", "--user=eve")
    c.ok(ADMIN, "create", "clusterrolebinding", "victor-view", "--clusterrole=view", "--user=victor")
    c.until_allowed("eve", "delete", "pods", "-n", TEAM)
    c.until_allowed("victor", "list", "pods", "-n", OTHER)
    return c


def _denied(user, verb, resource, group, ns=None, name=None):
    where = f'in the namespace "{ns}"' if ns else "at the cluster scope"
    gr = f"{resource}.{group}" if group else resource
    head = f'{gr} "{name}" is forbidden' if name else f"{gr} is forbidden"
    return f'{head}: User "{user}" cannot {verb} resource "{resource}" in API group "{group}" {where}'


# (kubectl arguments, (verb, resource, group, namespace, name) as the 403 names them,
#  who is allowed among admin / editor / viewer)
MATRIX = [
    (("-n", TEAM, "get", "pods"), ("list", "pods", "", TEAM, None), "AEV"),
    (("-n", TEAM, "get", "pod", "web"), ("get", "pods", "", TEAM, "web"), "AEV"),
    (("-n", OTHER, "get", "pods"), ("list", "pods", "", OTHER, None), "AV"),
    (("get", "pods", "-A"), ("list", "pods", "", None, None), "AV"),
    (("-n", TEAM, "delete", "pod", "nothing-here"), ("delete", "pods", "", TEAM, "nothing-here"), "AE"),
    (("-n", OTHER, "delete", "pod", "nothing-here"), ("delete", "pods", "", OTHER, "nothing-here"), "A"),
    (("-n", TEAM, "get", "configmaps"), ("list", "configmaps", "", TEAM, None), "AEV"),
    (("-n", OTHER, "get", "configmap", "cm"), ("get", "configmaps", "", OTHER, "cm"), "AV"),
    (("-n", TEAM, "get", "secret", "s"), ("get", "secrets", "", TEAM, "s"), "AE"),
    (("-n", OTHER, "get", "secrets"), ("list", "secrets", "", OTHER, None), "A"),
    (("-n", TEAM, "get", "roles"), ("list", "roles", "rbac.authorization.k8s.io", TEAM, None), "A"),
    (("-n", TEAM, "get", "rolebindings"), ("list", "rolebindings", "rbac.authorization.k8s.io", TEAM, None), "A"),
    (("get", "clusterroles"), ("list", "clusterroles", "rbac.authorization.k8s.io", None, None), "A"),
    (("get", "namespaces"), ("list", "namespaces", "", None, None), "AV"),
    (("get", "nodes"), ("list", "nodes", "", None, None), "A"),
    (("-n", TEAM, "get", "deployments"), ("list", "deployments", "apps", TEAM, None), "AEV"),
]
USERS = {"A": ADMIN, "E": "eve", "V": "victor"}


@pytest.mark.parametrize("args,denial,allowed", MATRIX, ids=[" ".join(m[0]) for m in MATRIX])
def test_read_matrix(cluster, args, denial, allowed):
    for letter, user in USERS.items():
        proc = cluster.kubectl(user, *args)
        if letter in allowed:
            # allowed: an answer, or (for a name that is not there) NotFound
            assert proc.returncode == 0 or "(NotFound)" in proc.stderr, (user, proc.stderr)
        else:
            assert proc.stderr.strip() == "Error from server (Forbidden): " + _denied(user, *denial), proc.stderr


def test_write_matrix(cluster):
    for ns, editor_may in ((TEAM, True), (OTHER, False)):
        for who, may in ((ADMIN, True), ("eve", editor_may), ("victor", False)):
            name = f"by-{who.split('-')[0]}"
            cm = ("-n", ns, "create", "configmap", name, "--from-literal=k=v")
            pod = ("-n", ns, "run", name, "--image=nginx")
            if may:
                cluster.ok(who, *cm)
                cluster.ok(who, *pod)
                cluster.ok(who, "-n", ns, "delete", "configmap", name)
                cluster.ok(who, "-n", ns, "delete", "pod", name, "--wait=false")
            else:
                assert cluster.forbidden(who, *cm) == _denied(who, "create", "configmaps", "", ns)
                assert cluster.forbidden(who, *pod) == _denied(who, "create", "pods", "", ns)
                assert cluster.forbidden(who, "-n", ns, "delete", "configmap", "cm") == \
                    _denied(who, "delete", "configmaps", "", ns, "cm")
    # Nobody but the admin creates roles; an editor's role binding in its namespace is refused too.
    assert cluster.forbidden("eve", "-n", TEAM, "create", "role", "r", "--verb=get", "--resource=pods") == \
        _denied("eve", "create", "roles", "rbac.authorization.k8s.io", TEAM)
    assert cluster.forbidden("victor", "create", "namespace", "mine") == _denied("victor", "create", "namespaces", "")
    # The editor's and viewer's data was left alone.
    assert cluster.ok(ADMIN, "-n", OTHER, "get", "configmap", "cm", "-o", "jsonpath={.data.a}") == "b"


def test_can_i_list_matches_bindings(cluster):
    def rules(who, ns):
        out = cluster.ok(who, "auth", "can-i", "--list", "-n", ns).splitlines()
        # kubectl merges and orders the rules the server gives; each resource's verbs as a set
        return {line.split()[0]: set(re.findall(r"\[([^\]]*)\]", line)[-1].split())
                for line in out[1:] if not line.startswith(" ")}
    eve = rules("eve", TEAM)
    assert eve["pods"] == eve["secrets"] == {"create", "delete", "deletecollection", "patch", "update", "get",
                                             "list", "watch"}
    assert eve["selfsubjectaccessreviews.authorization.k8s.io"] == {"create"}
    assert "roles.rbac.authorization.k8s.io" not in eve
    assert "pods" not in rules("eve", OTHER)
    victor = rules("victor", OTHER)
    assert victor["pods"] == {"get", "list", "watch"} and "secrets" not in victor
    assert rules(ADMIN, TEAM)["*.*"] == {"*"}
    for who, verb, res, ns, want in [("eve", "create", "pods", TEAM, "yes"), ("eve", "create", "pods", OTHER, "no"),
                                     ("victor", "get", "secrets", TEAM, "no"), ("victor", "watch", "pods", OTHER, "yes"),
                                     ("victor", "get", "pods/log", TEAM, "yes"), ("eve", "get", "pods/status", TEAM, "yes")]:
        assert cluster.kubectl(who, "auth", "can-i", verb, res, "-n", ns).stdout.strip() == want, (who, verb, res, ns)
    # The admin asks for others, by impersonation.
    assert cluster.kubectl(ADMIN, "auth", "can-i", "get", "secrets", "-n", TEAM, "--as", "victor").stdout.strip() == "no"
    assert cluster.kubectl(ADMIN, "auth", "can-i", "get", "secrets", "-n", TEAM, "--as", "eve").stdout.strip() == "yes"


def test_subject_access_review_reason(cluster):
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
              "spec": {"user": "eve", "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": TEAM}}}
    out = json.loads(cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", "-o", "json", input=json.dumps(review)))
    assert out["status"] == {"allowed": True, "reason": 'RBAC: allowed by RoleBinding "eve-edit/team-a" of '
                                                        'ClusterRole "edit" to User "eve"'}
    review["spec"]["resourceAttributes"]["namespace"] = OTHER
    out = json.loads(cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", "-o", "json", input=json.dumps(review)))
    assert out["status"] == {"allowed": False}
    # A SubjectAccessReview is the auth-delegator's to ask, not the editor's.
    assert cluster.forbidden("eve", "create", "--validate=false", "-f", "-", input=json.dumps(review)) == _denied(
        "eve", "create", "subjectaccessreviews", "authorization.k8s.io")


def test_missing_role_is_the_reason(cluster):
    cluster.user("mia")
    cluster.ok(ADMIN, "-n", TEAM, "create", "rolebinding", "mia-ghost", "--role=ghost", "--user=mia")
    cluster.ok(ADMIN, "create", "clusterrolebinding", "mia-ghost", "--clusterrole=ghost", "--user=mia")
    deadline = time.monotonic() + 10
    while True:
        err = cluster.forbidden("mia", "-n", TEAM, "get", "pods")
        if "RBAC" in err or time.monotonic() > deadline:
            break
    assert err == _denied("mia", "list", "pods", "", TEAM) + \
        ': RBAC: [clusterrole.rbac.authorization.k8s.io "ghost" not found, ' \
        'role.rbac.authorization.k8s.io "ghost" not found]'
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": TEAM}}
    status = json.loads(cluster.ok("mia", "create", "--validate=false", "-f", "-", "-o", "json",
                                   input=json.dumps(review)))["status"]
    assert status["evaluationError"] == ('[clusterrole.rbac.authorization.k8s.io "ghost" not found, '
                                         'role.rbac.authorization.k8s.io "ghost" not found]')
    assert status["incomplete"] is False
    proc = cluster.kubectl("mia", "create", "--validate=false", "-f", "-", input=json.dumps(dict(review, spec={})))
    assert proc.stderr.strip() == 'Error from server (BadRequest): error when creating "STDIN": no namespace on request'
    assert {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]} in status["resourceRules"]


def test_escalation_prevention(cluster):
    cluster.user("nadia")  # namespace admin of team-a
    cluster.ok(ADMIN, "-n", TEAM, "create", "rolebinding", "nadia-admin", "--clusterrole=admin", "--user=nadia")
    cluster.until_allowed("nadia", "create", "roles", "-n", TEAM)
    cluster.ok("nadia", "-n", TEAM, "create", "role", "pod-reader", "--verb=get,list", "--resource=pods")
    err = cluster.forbidden("nadia", "-n", TEAM, "create", "role", "node-reader", "--verb=get", "--resource=nodes,pods")
    assert err == ('roles.rbac.authorization.k8s.io "node-reader" is forbidden: '
                   'user "nadia" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
                   'currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}')
    err = cluster.forbidden("nadia", "-n", TEAM, "create", "rolebinding", "grab", "--clusterrole=cluster-admin",
                            "--user=nadia")
    assert err == ('rolebindings.rbac.authorization.k8s.io "grab" is forbidden: '
                   'user "nadia" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
                   'currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n'
                   '{NonResourceURLs:["*"], Verbs:["*"]}')
    err = cluster.forbidden("nadia", "-n", TEAM, "create", "rolebinding", "ghost", "--role=ghost", "--user=nadia")
    assert err.endswith('rolebindings.rbac.authorization.k8s.io "ghost" is forbidden: '
                        'roles.rbac.authorization.k8s.io "ghost" not found')
    # What she holds she may hand on: edit in her namespace, and her own role.
    cluster.ok("nadia", "-n", TEAM, "create", "rolebinding", "hand-on", "--clusterrole=edit", "--user=zed")
    cluster.ok("nadia", "-n", TEAM, "create", "rolebinding", "readers", "--role=pod-reader", "--group=readers")
    # Widening her role by update is an escalation too; nothing changed.
    role = json.loads(cluster.ok("nadia", "-n", TEAM, "get", "role", "pod-reader", "-o", "json"))
    role["rules"][0]["resources"].append("nodes")
    assert "attempting to grant RBAC permissions not currently held" in \
        cluster.forbidden("nadia", "replace", "-f", "-", input=json.dumps(role))
    assert json.loads(cluster.ok(ADMIN, "-n", TEAM, "get", "role", "pod-reader", "-o", "json"))["rules"] == \
        [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    for name in ("node-reader", "grab"):
        assert cluster.kubectl(ADMIN, "-n", TEAM, "get", "role,rolebinding", name).returncode != 0
    # roleRef cannot change.
    binding = json.loads(cluster.ok(ADMIN, "-n", TEAM, "get", "rolebinding", "readers", "-o", "json"))
    binding["roleRef"]["name"] = "other"
    proc = cluster.kubectl(ADMIN, "replace", "-f", "-", input=json.dumps(binding))
    assert 'The RoleBinding "readers" is invalid: roleRef: Invalid value: ' \
           'rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef' \
           in proc.stderr


def test_escalate_and_bind_verbs(cluster):
    cluster.user("bea")
    cluster.ok(ADMIN, "create", "clusterrole", "binder", "--verb=bind", "--resource=clusterroles",
               "--resource-name=cluster-admin")
    cluster.ok(ADMIN, "create", "clusterrole", "escalator", "--verb=escalate,create", "--resource=roles")
    cluster.ok(ADMIN, "create", "clusterrole", "rb-writer", "--verb=create", "--resource=rolebindings")
    for role in ("binder", "escalator", "rb-writer"):
        cluster.ok(ADMIN, "-n", OTHER, "create", "rolebinding", f"bea-{role}", f"--clusterrole={role}", "--user=bea")
    cluster.until_allowed("bea", "bind", "clusterroles/cluster-admin", "-n", OTHER)
    cluster.until_allowed("bea", "create", "rolebindings", "-n", OTHER)
    cluster.until_allowed("bea", "escalate", "roles", "-n", OTHER)
    # bind is granted for cluster-admin only.
    assert "attempting to grant RBAC permissions not currently held" in cluster.forbidden(
        "bea", "-n", OTHER, "create", "rolebinding", "x", "--clusterrole=edit", "--user=bea")
    cluster.ok("bea", "-n", OTHER, "create", "rolebinding", "bea-root", "--clusterrole=cluster-admin", "--user=bea")
    cluster.ok("bea", "-n", OTHER, "create", "role", "anything", "--verb=*", "--resource=nodes")


def test_aggregation_follows_labels(cluster):
    rule = {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list"]}
    cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", input=json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "widget-viewer"},
        "rules": [rule]}))
    cluster.ok(ADMIN, "label", "clusterrole", "widget-viewer", "rbac.authorization.k8s.io/aggregate-to-view=true")

    def rules_of(name):
        return json.loads(cluster.ok(ADMIN, "get", "clusterrole", name, "-o", "json"))["rules"]
    deadline = time.monotonic() + 10
    while not all(rule in rules_of(r) for r in ("view", "edit", "admin")):
        assert time.monotonic() < deadline, rules_of("admin")
        time.sleep(0.1)
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
        "user": "victor", "resourceAttributes": {"verb": "list", "group": "example.com", "resource": "widgets"}}}
    out = json.loads(cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", "-o", "json", input=json.dumps(review)))
    assert out["status"]["reason"] == 'RBAC: allowed by ClusterRoleBinding "victor-view" of ClusterRole "view" to User "victor"'

    cluster.ok(ADMIN, "delete", "clusterrole", "widget-viewer")
    while any(rule in rules_of(r) for r in ("view", "edit", "admin")):
        assert time.monotonic() < deadline + 10
        time.sleep(0.1)
    # The editor may not aggregate: it needs every permission there is.
    err = cluster.forbidden(ADMIN, "create", "--validate=false", "-f", "-", "--as", "nadia", input=json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}}))
    assert 'clusterroles.rbac.authorization.k8s.io is forbidden: User "nadia" cannot create' in err


def test_bootstrap_policy(cluster):
    role = json.loads(cluster.ok(ADMIN, "get", "clusterrole", "cluster-admin", "-o", "json"))
    assert role["metadata"]["labels"] == {"kubernetes.io/bootstrapping": "rbac-defaults"}
    assert role["metadata"]["annotations"] == {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    binding = json.loads(cluster.ok(ADMIN, "get", "clusterrolebinding", "cluster-admin", "-o", "json"))
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]
    names = cluster.ok(ADMIN, "get", "clusterroles", "-o", "name").split()
    for name in ("admin", "edit", "view", "system:basic-user", "system:discovery", "system:public-info-viewer",
                 "system:auth-delegator", "system:aggregate-to-view", "system:controller:namespace-controller"):
        assert f"clusterrole.rbac.authorization.k8s.io/{name}" in names


@pytest.fixture(scope="module")
def ivy(cluster):
    """A user who may impersonate victor and the group viewers, nothing else."""
    cluster.user("ivy")
    cluster.ok(ADMIN, "create", "clusterrole", "imp", "--verb=impersonate", "--resource=users,groups",
               "--resource-name=victor", "--resource-name=viewers")
    cluster.ok(ADMIN, "create", "clusterrolebinding", "ivy-imp", "--clusterrole=imp", "--user=ivy")
    cluster.until_allowed("ivy", "impersonate", "users/victor")
    return "ivy"


def test_impersonation(cluster, ivy):
    # Forged: the editor may not act as the admin, nor join system:masters.
    assert cluster.forbidden("eve", "get", "pods", "--as", ADMIN) == (
        'users "kubernetes-admin" is forbidden: User "eve" cannot impersonate '
        'resource "users" in API group "" at the cluster scope')
    assert cluster.forbidden("eve", "get", "nodes", "--as", "eve", "--as-group", "system:masters").endswith(
        'cannot impersonate resource "users" in API group "" at the cluster scope')
    # edit lets her impersonate service accounts of her namespace, and act with their rights only.
    assert cluster.forbidden("eve", "-n", TEAM, "get", "pods", "--as", f"system:serviceaccount:{TEAM}:default") == \
        _denied(f"system:serviceaccount:{TEAM}:default", "list", "pods", "", TEAM)
    assert cluster.forbidden("eve", "-n", OTHER, "get", "pods", "--as", f"system:serviceaccount:{OTHER}:default") == (
        'serviceaccounts "default" is forbidden: User "eve" cannot impersonate '
        'resource "serviceaccounts" in API group "" in the namespace "team-b"')
    # The admin may impersonate anyone, with groups, uid and extras.
    who = json.loads(cluster.ok(ADMIN, "auth", "whoami", "-o", "json", "--as", "sam", "--as-group", "g1",
                                "--as-uid", "1234"))
    assert who["status"]["userInfo"] == {"username": "sam", "uid": "1234",
                                         "groups": ["g1", "system:authenticated"]}
    assert cluster.forbidden(ADMIN, "-n", TEAM, "get", "secrets", "--as", "victor") == \
        _denied("victor", "list", "secrets", "", TEAM)
    # ivy may act as victor, and as nobody and in no group else.
    assert cluster.ok("ivy", "-n", TEAM, "get", "pods", "--as", "victor", "-o", "name") == "pod/web\n"
    assert cluster.forbidden("ivy", "-n", TEAM, "get", "pods", "--as", "victor", "--as-group", "admins").endswith(
        'groups "admins" is forbidden: User "ivy" cannot impersonate resource "groups" in API group "" '
        'at the cluster scope')
    assert cluster.forbidden("ivy", "-n", TEAM, "get", "pods", "--as", "victor", "--as-uid", "1").endswith(
        'uids.authentication.k8s.io "1" is forbidden: User "ivy" cannot impersonate resource "uids" in API group '
        '"authentication.k8s.io" at the cluster scope')


def _anonymous(server, path):
    ctx = ssl.create_default_context(cafile=str(server.data_dir / "pki" / "ca.crt"))
    ctx.check_hostname = False
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{server.port}{path}", context=ctx) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_anonymous_gets_public_info_only(server):
    for path in ("/healthz", "/livez", "/readyz", "/version"):
        assert _anonymous(server, path)[0] == 200, path
    for path, message in [
            ("/api", 'forbidden: User "system:anonymous" cannot get path "/api"'),
            ("/healthz/ping", 'forbidden: User "system:anonymous" cannot get path "/healthz/ping"'),
            ("/api/v1/namespaces/default/pods", 'pods is forbidden: User "system:anonymous" cannot list resource '
                                                '"pods" in API group "" in the namespace "default"')]:
        status, body = _anonymous(server, path)
        assert (status, body["reason"], body["message"]) == (403, "Forbidden", message)


def test_controllers_act_as_their_users(cluster):
    # The namespace controller empties and releases a namespace as its own service account, which
    # RBAC allows; the root CA and default service account are seeded as theirs.
    cluster.ok(ADMIN, "create", "namespace", "short-lived")
    deadline = time.monotonic() + 10
    while cluster.kubectl(ADMIN, "-n", "short-lived", "get", "configmap", "kube-root-ca.crt").returncode:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    cluster.ok(ADMIN, "-n", "short-lived", "create", "configmap", "x")
    cluster.ok(ADMIN, "delete", "namespace", "short-lived", "--timeout=20s")
    sa = "system:serviceaccount:kube-system:namespace-controller"
    assert cluster.kubectl(ADMIN, "auth", "can-i", "deletecollection", "pods", "-n", TEAM, "--as", sa).stdout.strip() == "yes"
    assert cluster.kubectl(ADMIN, "auth", "can-i", "create", "pods", "-n", TEAM, "--as", sa).stdout.strip() == "no"


def _raw(cluster, who, path, headers, method="GET", body=None):
    import kubernetes
    client = kubernetes.config.new_client_from_config(config_file=str(cluster.configs[who]))
    try:
        resp = client.rest_client.pool_manager.request(
            method, client.configuration.host + path, headers={"Content-Type": "application/json", **headers},
            body=json.dumps(body) if body is not None else None)
        return resp.status, resp.data.decode(), resp.headers.get("Content-Type")
    finally:
        client.close()


def test_impersonating_extras(cluster, ivy):
    whoami = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    status, body, _ = _raw(cluster, ADMIN, path, {"Impersonate-User": "sam", "Impersonate-Extra-Scopes": "a, b",
                                                  "Impersonate-Extra-Reason%2Fwhy": "test"}, "POST", whoami)
    assert status == 201, body
    assert json.loads(body)["status"]["userInfo"] == {"username": "sam", "groups": ["system:authenticated"],
                                                      "extra": {"scopes": ["a, b"], "reason/why": ["test"]}}
    # ivy may impersonate victor but not his extras.
    status, body, _ = _raw(cluster, "ivy", path, {"Impersonate-User": "victor", "Impersonate-Extra-Scopes": "x"},
                           "POST", whoami)
    assert status == 403 and json.loads(body)["message"] == (
        'userextras.authentication.k8s.io "x" is forbidden: User "ivy" cannot impersonate resource '
        '"userextras/scopes" in API group "authentication.k8s.io" at the cluster scope')
    # Groups without a user: kube's filter answers a plain-text 500, and nothing is done.
    status, body, content_type = _raw(cluster, ADMIN, "/api/v1/namespaces", {"Impersonate-Group": "g"})
    assert (status, body, content_type) == (
        500, 'Internal Server Error: "/api/v1/namespaces": requested [{Group  g    }] without impersonating a user\n',
        "text/plain; charset=utf-8")


def test_bootstrap_policy_is_reconciled_at_start(tmp_path):
    with ServerProcess(tmp_path / "srv") as srv:
        kc = srv.kubeconfig
        run_kubectl(kc, "patch", "clusterrole", "system:basic-user", "--type=json",
                    "-p", '[{"op":"remove","path":"/rules/1"},{"op":"add","path":"/metadata/labels/mine","value":"x"}]')
        run_kubectl(kc, "patch", "clusterrolebinding", "system:public-info-viewer", "--type=json",
                    "-p", '[{"op":"remove","path":"/subjects/1"}]')
        run_kubectl(kc, "annotate", "--overwrite", "clusterrole", "system:discovery",
                    "rbac.authorization.kubernetes.io/autoupdate=false")
        run_kubectl(kc, "patch", "clusterrole", "system:discovery", "--type=json",
                    "-p", '[{"op":"replace","path":"/rules","value":[{"verbs":["get"],"nonResourceURLs":["/api"]}]}]')
        srv.restart()
        role = json.loads(run_kubectl(kc, "get", "clusterrole", "system:basic-user", "-o", "json").stdout)
        assert role["rules"][-1] == {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"],
                                     "verbs": ["create"]}
        assert role["metadata"]["labels"] == {"kubernetes.io/bootstrapping": "rbac-defaults", "mine": "x"}
        binding = json.loads(run_kubectl(kc, "get", "clusterrolebinding", "system:public-info-viewer",
                                         "-o", "json").stdout)
        assert [s["name"] for s in binding["subjects"]] == ["system:authenticated", "system:unauthenticated"]
        assert _anonymous(srv, "/healthz")[0] == 200
        discovery = json.loads(run_kubectl(kc, "get", "clusterrole", "system:discovery", "-o", "json").stdout)
        assert discovery["rules"] == [{"verbs": ["get"], "nonResourceURLs": ["/api"]}]  # marked not to update


def test_namespace_controller_needs_its_role(cluster):
    # Without its binding the namespace controller may not empty a namespace; given it back, it does.
    saved = json.loads(cluster.ok(ADMIN, "get", "clusterrolebinding", "system:controller:namespace-controller",
                                  "-o", "json"))
    cluster.ok(ADMIN, "create", "namespace", "stuck")
    cluster.ok(ADMIN, "-n", "stuck", "create", "configmap", "x")
    cluster.ok(ADMIN, "delete", "clusterrolebinding", "system:controller:namespace-controller")
    cluster.ok(ADMIN, "delete", "namespace", "stuck", "--wait=false")
    time.sleep(1.5)
    assert cluster.ok(ADMIN, "-n", "stuck", "get", "configmap", "x", "-o", "name") == "configmap/x\n"
    assert cluster.ok(ADMIN, "get", "namespace", "stuck", "-o", "jsonpath={.status.phase}") == "Terminating"
    for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
        saved["metadata"].pop(key, None)
    cluster.ok(ADMIN, "create", "-f", "-", input=json.dumps(saved))
    deadline = time.monotonic() + 15
    while cluster.kubectl(ADMIN, "get", "namespace", "stuck").returncode == 0:
        assert time.monotonic() < deadline, "namespace never went"
        time.sleep(0.2)


def test_rule_forms_and_subjects(cluster):
    """resourceNames, `*/sub`, `resource/sub`, trailing-`*` URLs; Group and ServiceAccount subjects."""
    cluster.user("rita", ["auditors"])
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "forms"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cm"], "verbs": ["get"]},
                      {"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["get"]},
                      {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
                      {"nonResourceURLs": ["/metrics*"], "verbs": ["get"]}]}
    cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", input=json.dumps(role))
    cluster.ok(ADMIN, "create", "clusterrolebinding", "auditors", "--clusterrole=forms", "--group=auditors")
    cluster.ok(ADMIN, "-n", OTHER, "create", "rolebinding", "sa-view", "--clusterrole=view",
               f"--serviceaccount={OTHER}:default")
    cluster.until_allowed("rita", "get", "configmaps/cm", "-n", OTHER)
    for args, want in [(("get", "configmaps/cm"), "yes"), (("get", "configmaps/other"), "no"),
                       (("list", "configmaps"), "no"), (("get", "deployments.apps", "--subresource=status"), "yes"),
                       (("get", "pods", "--subresource=status"), "yes"), (("get", "pods"), "no"),
                       (("get", "pods", "--subresource=log"), "yes"), (("get", "pods", "--subresource=exec"), "no"), (("get", "/metrics"), "yes"), (("get", "/metrics/slis"), "yes"),
                       (("get", "/metric"), "no"), (("post", "/metrics"), "no")]:
        assert cluster.kubectl("rita", "auth", "can-i", *args, "-n", OTHER).stdout.strip() == want, args
    assert cluster.ok("rita", "-n", OTHER, "get", "configmap", "cm", "-o", "name") == "configmap/cm\n"
    # resourceNames allow reading that one object, never the list
    assert cluster.forbidden("rita", "-n", OTHER, "get", "configmaps") == _denied("rita", "list", "configmaps", "", OTHER)
    sa = f"system:serviceaccount:{OTHER}:default"
    cluster.until_allowed(ADMIN, "list", "pods", "-n", OTHER, "--as", sa)
    assert cluster.kubectl(ADMIN, "auth", "can-i", "list", "pods", "-n", TEAM, "--as", sa).stdout.strip() == "no"
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
        "user": sa, "resourceAttributes": {"verb": "list", "resource": "pods", "namespace": OTHER}}}
    out = json.loads(cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", "-o", "json", input=json.dumps(review)))
    assert out["status"]["reason"] == ('RBAC: allowed by RoleBinding "sa-view/team-b" of ClusterRole "view" to '
                                       'ServiceAccount "default/team-b"')


def test_service_account_tokens_get_their_bindings(cluster):
    token = cluster.ok(ADMIN, "-n", OTHER, "create", "token", "default").strip()
    config = yaml.safe_load(cluster.configs[ADMIN].read_text())
    config["users"][0]["user"] = {"token": token}
    path = cluster.tmp / "sa.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    cluster.configs["sa"] = path
    sa = f"system:serviceaccount:{OTHER}:default"
    assert cluster.forbidden("sa", "-n", OTHER, "get", "secrets") == _denied(sa, "list", "secrets", "", OTHER)
    cluster.ok(ADMIN, "-n", OTHER, "create", "rolebinding", "sa-secrets", "--clusterrole=edit",
               "--serviceaccount", f"{OTHER}:default")
    cluster.until_allowed("sa", "list", "secrets", "-n", OTHER)
    assert cluster.ok("sa", "-n", OTHER, "get", "secret", "s", "-o", "name") == "secret/s\n"
    # Its groups are the service accounts' own, with system:authenticated.
    who = json.loads(cluster.ok("sa", "auth", "whoami", "-o", "json"))["status"]["userInfo"]
    assert who["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{OTHER}", "system:authenticated"]


def _csr(name: str, cn: str, orgs: list[str]) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] +
                        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs])
    pem = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM)
    import base64
    return json.dumps({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
                       "metadata": {"name": name},
                       "spec": {"request": base64.b64encode(pem).decode(), "usages": ["client auth"],
                                "signerName": "kubernetes.io/kube-apiserver-client"}})


def test_certificate_approval_needs_the_signer(cluster):
    cluster.user("carl")
    cluster.ok(ADMIN, "create", "clusterrole", "csr-approver", "--verb=get,list,create",
               "--resource=certificatesigningrequests")
    cluster.ok(ADMIN, "create", "clusterrole", "csr-approval", "--verb=update",
               "--resource=certificatesigningrequests/approval")
    for role in ("csr-approver", "csr-approval"):
        cluster.ok(ADMIN, "create", "clusterrolebinding", f"carl-{role}", f"--clusterrole={role}", "--user=carl")
    cluster.until_allowed("carl", "update", "certificatesigningrequests", "--subresource=approval")
    # Nobody asks the API server's client signer for system:masters, not even the admin.
    assert cluster.forbidden(ADMIN, "create", "-f", "-", input=_csr("root", "evil", ["system:masters"])) == (
        'certificatesigningrequests.certificates.k8s.io "root" is forbidden: use of '
        'kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed')
    cluster.ok("carl", "create", "-f", "-", input=_csr("carl-csr", "carl2", ["team"]))
    assert cluster.forbidden("carl", "certificate", "approve", "carl-csr") == (
        'certificatesigningrequests.certificates.k8s.io "carl-csr" is forbidden: user not permitted to approve '
        'requests with signerName "kubernetes.io/kube-apiserver-client"')
    cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", input=json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "signer-approver"},
        "rules": [{"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "verbs": ["approve"],
                   "resourceNames": ["kubernetes.io/*"]}]}))
    cluster.ok(ADMIN, "create", "clusterrolebinding", "carl-signer", "--clusterrole=signer-approver", "--user=carl")
    deadline = time.monotonic() + 10
    while "forbidden" in cluster.kubectl("carl", "certificate", "approve", "carl-csr").stderr:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    while not cluster.ok(ADMIN, "get", "csr", "carl-csr", "-o", "jsonpath={.status.certificate}"):
        assert time.monotonic() < deadline, "the certificate controller never signed"
        time.sleep(0.1)


def test_local_subject_access_review(cluster):
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "LocalSubjectAccessReview",
              "metadata": {"namespace": TEAM},
              "spec": {"user": "eve", "resourceAttributes": {"verb": "create", "resource": "secrets",
                                                             "namespace": TEAM}}}
    out = json.loads(cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", "-o", "json",
                                input=json.dumps(review)))
    assert out["status"] == {"allowed": True, "reason": 'RBAC: allowed by RoleBinding "eve-edit/team-a" of '
                                                        'ClusterRole "edit" to User "eve"'}
    del review["spec"]["resourceAttributes"]["namespace"]
    proc = cluster.kubectl(ADMIN, "create", "--validate=false", "-f", "-", input=json.dumps(review))
    assert proc.stderr.strip() == ('The LocalSubjectAccessReview "" is invalid: spec.resourceAttributes.namespace: '
                                   'Invalid value: "": must match metadata.namespace')


def test_allow_reason_names_the_first_matching_subject(cluster):
    cluster.ok(ADMIN, "create", "clusterrole", "node-lister", "--verb=list", "--resource=nodes")
    cluster.ok(ADMIN, "create", "-f", "-", input=json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "nodes-for-all"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "node-lister"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"},
                     {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "victor"}]}))
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
        "user": "victor", "groups": ["system:authenticated"], "resourceAttributes": {"verb": "list", "resource": "nodes"}}}
    deadline = time.monotonic() + 10
    while True:
        out = json.loads(cluster.ok(ADMIN, "create", "--validate=false", "-f", "-", "-o", "json",
                                    input=json.dumps(review)))
        if out["status"]["allowed"] or time.monotonic() > deadline:
            break
    assert out["status"]["reason"] == ('RBAC: allowed by ClusterRoleBinding "nodes-for-all" of ClusterRole '
                                       '"node-lister" to Group "system:authenticated"')
    cluster.ok(ADMIN, "delete", "clusterrolebinding", "nodes-for-all")
