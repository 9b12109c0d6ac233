"""Virtual mode, pods: a virtual cluster's pods run on a real host `vapi serve` and report back."""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path


from syncer.names import anchor_name, host_name
from vapi.testing import ServerProcess, run_kubectl
from tests.virtual_fixtures import core, eventually


def _pod(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}], **spec}}


def _host_pod(host, name: str, vc: str = "vc1", namespace: str = "default"):
    pods = core(host).list_namespaced_pod("default", label_selector=f"vapi.dev/managed-by={vc}").items
    return next((p for p in pods if p.metadata.name == host_name(name, namespace, vc)), None)


def _running(server, name: str, namespace: str = "default"):
    pod = core(server).read_namespaced_pod(name, namespace)
    return pod if pod.status.phase == "Running" and pod.spec.node_name else None


def test_host_names_follow_vclusters_rule():
    assert host_name("web", "default", "vc1") == "web-x-default-x-vc1"
    exact = "a" * 49   # 49 + len("-x-default-x-vc1") == 65 > 63
    full = f"{exact}-x-default-x-vc1"
    assert host_name(exact, "default", "vc1") == f"{full[:52]}-{hashlib.sha256(full.encode()).hexdigest()[:10]}"
    assert len(host_name(exact, "default", "vc1")) == 63
    assert host_name("a" * 47, "default", "vc1") == "a" * 47 + "-x-default-x-vc1"   # 63: kept whole
    assert host_name("high", None, "vc1") == "high-x-vc1"


def test_a_deployment_runs_on_the_host_and_reports_back(host, vc1):
    run_kubectl(vc1.kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=3")
    run_kubectl(vc1.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    virtual = core(vc1).list_namespaced_pod("default", label_selector="app=web").items
    assert len(virtual) == 3
    anchor = core(host).read_namespaced_config_map(anchor_name("vc1"), "default")
    for pod in virtual:
        copy = _host_pod(host, pod.metadata.name)
        assert copy is not None and copy.status.phase == "Running"
        # the virtual pod shows where and how the host runs it
        assert (pod.spec.node_name, pod.status.pod_ip, pod.status.host_ip) == \
            (copy.spec.node_name, copy.status.pod_ip, copy.status.host_ip)
        assert copy.metadata.labels["app"] == "web"
        assert copy.metadata.labels["vapi.dev/managed-by"] == "vc1"
        assert copy.metadata.labels["vapi.dev/namespace"] == "default"
        assert copy.metadata.annotations["vapi.dev/object-name"] == pod.metadata.name
        assert copy.metadata.annotations["vapi.dev/object-uid"] == pod.metadata.uid
        assert [(o.kind, o.name, o.uid) for o in copy.metadata.owner_references] == \
            [("ConfigMap", anchor_name("vc1"), anchor.metadata.uid)]
    nodes = {n.metadata.name: n for n in core(vc1).list_node().items}
    assert set(nodes) == {p.spec.node_name for p in virtual}
    assert all(c.status == "True" for n in nodes.values() for c in n.status.conditions if c.type == "Ready")
    run_kubectl(vc1.kubeconfig, "delete", "deployment", "web")
    assert eventually(lambda: not core(host).list_namespaced_pod(
        "default", label_selector="vapi.dev/managed-by=vc1,app=web").items)
    assert eventually(lambda: not core(vc1).list_namespaced_pod("default", label_selector="app=web").items)
    # no pod is bound to them any more: the stand-in nodes go too
    assert eventually(lambda: not core(vc1).list_node().items)


def test_the_host_copy_is_rewritten_to_reach_the_virtual_cluster(host, vc1):
    core(vc1).create_namespaced_pod("default", _pod("rewritten"))
    assert eventually(lambda: _running(vc1, "rewritten"))
    spec = _host_pod(host, "rewritten").spec
    env = {e.name: e.value for e in spec.containers[0].env}
    assert env["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == str(vc1.port)
    assert spec.automount_service_account_token is False and spec.enable_service_links is False
    assert spec.hostname == "rewritten"
    token_volume = next(v for v in spec.volumes if v.name.startswith("kube-api-access-"))
    sources = token_volume.projected.sources
    assert not any(s.service_account_token for s in sources)
    secret_source = next(s.secret for s in sources if s.secret)
    assert secret_source.name == host_name("rewritten", "default", "vc1") + "-sa-token"
    assert [(i.key, i.path) for i in secret_source.items] == [("token-0", "token")]
    assert next(s.config_map for s in sources if s.config_map).name == host_name("kube-root-ca.crt", "default", "vc1")
    core(vc1).delete_namespaced_pod("rewritten", "default")
    assert eventually(lambda: _host_pod(host, "rewritten") is None)
    # its token Secret goes with it
    assert eventually(lambda: not [s for s in core(host).list_namespaced_secret("default").items
                                   if s.metadata.name.startswith(host_name("rewritten", "default", "vc1"))])


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _as_token(vc, token: str, *args, check: bool = True):
    """`kubectl auth whoami` with nothing but the token, as a process in the host pod has."""
    return run_kubectl(Path("/dev/null"), f"--server=https://127.0.0.1:{vc.port}",
                       f"--certificate-authority={vc.data_dir / 'pki' / 'ca.crt'}", f"--token={token}",
                       "auth", "whoami", *args, check=check)


def _token(host, pod: str, vc: str = "vc1") -> str:
    secret = core(host).read_namespaced_secret(host_name(pod, "default", vc) + "-sa-token", "default")
    return base64.b64decode(secret.data["token-0"]).decode()


def test_a_pods_token_works_against_the_virtual_cluster_expires_and_is_refreshed(host, virtual_cluster, tmp_path):
    config = tmp_path / "sync.yaml"
    # a refresh after 1% of a 600 s token's life (6 s), where the kubelet's rule waits 80%
    config.write_text("sync:\n  toHost:\n    pods:\n      serviceAccountTokens:\n        refreshAfter: 0.01\n")
    vc = virtual_cluster("tokens", "--config", str(config))
    core(vc).create_namespaced_pod("default", _pod("reader", volumes=[{"name": "short", "projected": {"sources": [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 600}}]}}]))
    assert eventually(lambda: _running(vc, "reader"))
    pod = core(vc).read_namespaced_pod("reader", "default")
    secret = host_name("reader", "default", "tokens") + "-sa-token"
    first = eventually(lambda: _token(host, "reader", "tokens"))
    claims = _claims(first)
    assert claims["sub"] == "system:serviceaccount:default:default"
    assert claims["kubernetes.io"]["pod"] == {"name": "reader", "uid": pod.metadata.uid}
    # the short token's life is what the pod asked for; the kube-api-access one's is kube's
    keys = [i.key for v in _host_pod(host, "reader", "tokens").spec.volumes if v.projected
            for s in v.projected.sources if s.secret and s.secret.name == secret for i in s.secret.items]
    assert sorted(keys) == ["token-0", "token-1"]
    lives = {}
    data = core(host).read_namespaced_secret(secret, "default").data
    for key in keys:
        c = _claims(base64.b64decode(data[key]).decode())
        lives[key] = c["exp"] - c["iat"]
    assert 600 in lives.values()
    # a process of the pod on the host uses it against the virtual cluster
    whoami = _as_token(vc, first, "-o", "json")
    assert json.loads(whoami.stdout)["status"]["userInfo"]["username"] == "system:serviceaccount:default:default"
    assert eventually(lambda: _token(host, "reader", "tokens") != first, timeout=30)
    second = _token(host, "reader", "tokens")
    assert _claims(second)["iat"] > claims["iat"]
    # bound to the pod: once the pod is gone the token is refused
    core(vc).delete_namespaced_pod("reader", "default")
    assert eventually(lambda: not core(vc).list_namespaced_pod("default", field_selector="metadata.name=reader").items)
    gone = _as_token(vc, second, check=False)
    assert gone.returncode != 0 and "Unauthorized" in gone.stderr


def test_labels_follow_the_documented_rule_and_hand_edits_are_put_back(host, vc1):
    core(vc1).create_namespaced_pod("default", _pod("edited"))
    assert eventually(lambda: _running(vc1, "edited"))
    name = host_name("edited", "default", "vc1")
    core(host).patch_namespaced_pod(name, "default", {"metadata": {"labels": {"app": "evil", "host-added": "yes"}}})
    # a key the virtual pod has is put back; a key added on the host reaches the virtual pod
    assert eventually(lambda: _host_pod(host, "edited").metadata.labels["app"] == "edited")
    assert eventually(lambda: core(vc1).read_namespaced_pod("edited", "default").metadata.labels.get("host-added")
                      == "yes")
    core(vc1).patch_namespaced_pod("edited", "default", {"metadata": {"labels": {"app": None, "tier": "front"}}})
    assert eventually(lambda: (labels := _host_pod(host, "edited").metadata.labels).get("tier") == "front"
                      and "app" not in labels)
    # an image change reaches the running host pod as an update it accepts
    core(vc1).patch_namespaced_pod("edited", "default", {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}})
    assert eventually(lambda: _host_pod(host, "edited").spec.containers[0].image == "nginx:1.27")


def test_a_host_pod_deleted_by_hand_comes_back_on_its_node(host, vc1):
    core(vc1).create_namespaced_pod("default", _pod("sturdy"))
    running = eventually(lambda: _running(vc1, "sturdy"))
    first = _host_pod(host, "sturdy")
    core(host).delete_namespaced_pod(first.metadata.name, "default", grace_period_seconds=0)
    again = eventually(lambda: (p := _host_pod(host, "sturdy")) is not None and p.metadata.uid != first.metadata.uid
                       and p.status.phase == "Running" and p)
    assert again.spec.node_name == running.spec.node_name
    assert len(core(host).list_namespaced_pod("default", label_selector="app=sturdy").items) == 1
    assert core(vc1).read_namespaced_pod("sturdy", "default").metadata.uid == running.metadata.uid


def test_two_virtual_clusters_with_the_same_names_never_collide(host, vc1, virtual_cluster):
    vc2 = virtual_cluster("vc2")
    for vc in (vc1, vc2):
        core(vc).create_namespaced_pod("default", _pod("twin"))
    for vc in (vc1, vc2):
        assert eventually(lambda: _running(vc, "twin"))
    twins = core(host).list_namespaced_pod("default", label_selector="app=twin").items
    assert sorted(p.metadata.name for p in twins) == ["twin-x-default-x-vc1", "twin-x-default-x-vc2"]
    core(vc1).delete_namespaced_pod("twin", "default")
    assert eventually(lambda: [p.metadata.name for p in core(host).list_namespaced_pod(
        "default", label_selector="app=twin").items] == ["twin-x-default-x-vc2"])
    assert _running(vc2, "twin")


def _in_step(host, vc, vc_name: str, label: str) -> bool:
    """Exactly one host copy per virtual pod, and no other."""
    virtual = {p.metadata.name for p in core(vc).list_namespaced_pod("default", label_selector=label).items}
    copies = [p.metadata.name for p in core(host).list_namespaced_pod(
        "default", label_selector=f"vapi.dev/managed-by={vc_name},{label}").items]
    return sorted(copies) == sorted(host_name(n, "default", vc_name) for n in virtual)


def test_kill_9_mid_sync_and_a_restart_leave_no_duplicate_or_orphan(host, virtual_cluster, tmp_path):
    vc = virtual_cluster("crashy", data_dir=tmp_path / "crashy")
    api = core(vc)
    for i in range(12):
        api.create_namespaced_pod("default", {**_pod(f"burst-{i}"), "metadata": {"name": f"burst-{i}",
                                                                                 "labels": {"set": "burst"}}})
    vc.kill()   # mid-sync: some host copies made, some not
    for p in core(host).list_namespaced_pod("default", label_selector="vapi.dev/managed-by=crashy").items[:2]:
        core(host).delete_namespaced_pod(p.metadata.name, "default", grace_period_seconds=0)
    vc.start()
    core(vc).delete_namespaced_pod("burst-0", "default")
    assert eventually(lambda: _in_step(host, vc, "crashy", "set=burst") and len(
        core(vc).list_namespaced_pod("default", label_selector="set=burst").items) == 11, timeout=60)
    assert eventually(lambda: all(p.status.phase == "Running" for p in core(vc).list_namespaced_pod(
        "default", label_selector="set=burst").items), timeout=60)
    # an orphan on the host (its virtual pod deleted while the syncer was down) is removed
    vc.kill()
    vc.data_dir.joinpath("state.db")   # the store survives
    orphan = host_name("burst-1", "default", "crashy")
    vc.start()
    core(vc).delete_namespaced_pod("burst-1", "default", grace_period_seconds=0)
    assert eventually(lambda: _host_pod(host, "burst-1", "crashy") is None and orphan)


def test_while_the_host_is_down_nothing_is_lost(host, vc1):
    host.stop()
    try:
        time.sleep(1)
        for i in range(3):
            core(vc1).create_namespaced_pod("default", {**_pod(f"patient-{i}"), "metadata": {
                "name": f"patient-{i}", "labels": {"set": "patient"}}})
        time.sleep(9)   # the host is away for 10 s in all
    finally:
        host.start()
    assert eventually(lambda: _in_step(host, vc1, "vc1", "set=patient") and all(
        p.status.phase == "Running" for p in core(vc1).list_namespaced_pod("default", label_selector="set=patient").items)
        and len(core(vc1).list_namespaced_pod("default", label_selector="set=patient").items) == 3, timeout=60)


def test_a_copy_the_host_refuses_is_reported_on_the_virtual_pod_and_tried_again(host, virtual_cluster):
    core(host).create_namespace({"metadata": {"name": "tight"}})
    core(host).create_namespaced_resource_quota("tight", {"metadata": {"name": "no-pods"},
                                                          "spec": {"hard": {"pods": "0"}}})
    vc = virtual_cluster("tight", "--host-namespace", "tight")
    core(vc).create_namespaced_pod("default", _pod("refused"))
    events = eventually(lambda: [e for e in core(vc).list_namespaced_event(
        "default", field_selector="involvedObject.name=refused").items if e.reason == "SyncError"])
    assert events[0].type == "Warning" and "exceeded quota: no-pods" in events[0].message
    assert events[0].source.component == "vapi-syncer"
    core(host).patch_namespaced_resource_quota("no-pods", "tight", {"spec": {"hard": {"pods": "10"}}})
    assert eventually(lambda: _running(vc, "refused"), timeout=30)
    assert [p.metadata.name for p in core(host).list_namespaced_pod("tight").items] == ["refused-x-default-x-tight"]


def test_a_token_secret_left_behind_is_removed(host, vc1):
    # as a syncer killed between deleting a host pod and its token Secret leaves it
    copy = host_name("long-gone", "default", "vc1")
    core(host).create_namespaced_secret("default", {"metadata": {
        "name": f"{copy}-sa-token", "labels": {"vapi.dev/managed-by": "vc1"},
        "annotations": {"vapi.dev/token-of": copy, "vapi.dev/token-pod": "default/long-gone"}}})
    assert eventually(lambda: not [s for s in core(host).list_namespaced_secret(
        "default", label_selector="vapi.dev/managed-by=vc1").items if s.metadata.name == f"{copy}-sa-token"])


def test_a_namespace_admins_rights_on_the_host_are_enough(host, tmp_path):
    minted = subprocess.run([sys.executable, "-m", "vapi", "kubeconfig", "--data-dir", str(host.data_dir),
                             "--user", "tenant"], capture_output=True, text=True, check=True)
    kubeconfig = tmp_path / "tenant.yaml"
    kubeconfig.write_text(minted.stdout)
    core(host).create_namespace({"metadata": {"name": "tenant-ns"}})
    run_kubectl(host.kubeconfig, "create", "rolebinding", "tenant-admin", "--clusterrole=admin", "--user=tenant",
                "-n", "tenant-ns")
    assert run_kubectl(kubeconfig, "auth", "can-i", "list", "nodes", check=False).stdout.strip() == "no"
    vc = ServerProcess(extra_args=("--host-kubeconfig", str(kubeconfig), "--name", "limited",
                                   "--host-namespace", "tenant-ns")).start()
    try:
        run_kubectl(vc.kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=2")
        run_kubectl(vc.kubeconfig, "expose", "deployment", "web", "--port=80")
        run_kubectl(vc.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
        copies = core(host).list_namespaced_pod("tenant-ns", label_selector="vapi.dev/managed-by=limited").items
        assert len(copies) == 2 and all(p.status.phase == "Running" for p in copies)
        assert core(host).read_namespaced_service(host_name("web", "default", "limited"), "tenant-ns")
    finally:
        vc.stop()
    said = "".join(vc.output)
    assert "Traceback" not in said and "forbidden" not in said.lower(), said
    # asking for what a namespace admin may not have (the host's real nodes) is said once, not each second
    config = tmp_path / "nodes.yaml"
    config.write_text("sync:\n  fromHost:\n    nodes:\n      enabled: true\n")
    greedy = ServerProcess(extra_args=("--host-kubeconfig", str(kubeconfig), "--name", "greedy",
                                       "--host-namespace", "tenant-ns", "--config", str(config))).start()
    try:
        time.sleep(4)
    finally:
        greedy.stop()
    refusals = [line for line in greedy.output if "forbidden" in line]
    assert len(refusals) == 1 and 'cannot list resource "nodes"' in refusals[0], greedy.output


def test_other_pods_selectors_are_narrowed_to_the_virtual_namespace(host, vc1):
    term = {"labelSelector": {"matchLabels": {"app": "spread"}}, "topologyKey": "kubernetes.io/hostname"}
    elsewhere = {**term, "namespaces": ["other"]}
    core(vc1).create_namespaced_pod("default", _pod("spread", affinity={"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [term],
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": elsewhere}]}},
        topologySpreadConstraints=[{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                    "whenUnsatisfiable": "ScheduleAnyway",
                                    "labelSelector": {"matchLabels": {"app": "spread"}}}]))
    assert eventually(lambda: _running(vc1, "spread"))
    spec = _host_pod(host, "spread").spec
    marks = {"app": "spread", "vapi.dev/managed-by": "vc1", "vapi.dev/namespace": "default"}
    anti = spec.affinity.pod_anti_affinity
    assert anti.required_during_scheduling_ignored_during_execution[0].label_selector.match_labels == marks
    assert anti.preferred_during_scheduling_ignored_during_execution[0].pod_affinity_term.label_selector \
        .match_labels == {"app": "spread"}
    assert spec.topology_spread_constraints[0].label_selector.match_labels == marks
