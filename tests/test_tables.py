"""Server-side printing: the Table cells kubectl shows for each kind, as a real cluster prints them."""
from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import datetime, timedelta, timezone

import kubernetes
import orjson
import pytest

from admission import schemas
from vapi.registry.builtin import BUILTIN, COMPUTED
from vapi.testing import ServerProcess, kubectl_path, run_kubectl
from vapi.wire import tables

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def build_table(*args, version: str = schemas.DEFAULT_VERSION, **kwargs) -> dict:
    """The Table a server of release `version` (the default release unless named) answers."""
    return tables.build_table(*args, schemas=schemas.load(version), **kwargs)


def ago(**delta) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, namespace: str | None = "default", age: dict | None = None, **extra) -> dict:
    m = {"name": name, "uid": f"uid-{name}", "resourceVersion": "42",
         "creationTimestamp": ago(**(age or {"minutes": 5})), **extra}
    if namespace:
        m["namespace"] = namespace
    return m


def cells(group: str, resource: str, obj: dict, version: str = schemas.DEFAULT_VERSION) -> list:
    table = build_table(group, resource, [obj], now=NOW, version=version)
    assert len(table["rows"]) == 1
    assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"])
    return table["rows"][0]["cells"]


def headers(group: str, resource: str, version: str = schemas.DEFAULT_VERSION) -> list[tuple[str, str, int]]:
    table = build_table(group, resource, [], now=NOW, version=version)
    return [(c["name"], c["type"], c["priority"]) for c in table["columnDefinitions"]]


# --- HumanDuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("delta,text", [
    (timedelta(seconds=-3), "<invalid>"), (timedelta(seconds=-2), "<invalid>"),
    (timedelta(seconds=-1), "0s"), (timedelta(milliseconds=-1500), "0s"), (timedelta(0), "0s"),
    (timedelta(seconds=5), "5s"), (timedelta(seconds=119), "119s"), (timedelta(minutes=2), "2m"),
    (timedelta(minutes=2, seconds=30), "2m30s"), (timedelta(minutes=9, seconds=59), "9m59s"),
    (timedelta(minutes=10, seconds=30), "10m"), (timedelta(minutes=179), "179m"), (timedelta(hours=3), "3h"),
    (timedelta(hours=3, minutes=5, seconds=9), "3h5m"), (timedelta(hours=7, minutes=59), "7h59m"),
    (timedelta(hours=8, minutes=30), "8h"), (timedelta(hours=47, minutes=59), "47h"), (timedelta(hours=48), "2d"),
    (timedelta(days=2, hours=3), "2d3h"), (timedelta(days=7, hours=23), "7d23h"), (timedelta(days=8, hours=5), "8d"),
    (timedelta(days=729), "729d"), (timedelta(days=730), "2y"), (timedelta(days=740), "2y10d"),
    (timedelta(days=365 * 8 + 100), "8y"),
])
def test_human_duration(delta, text):
    assert tables.human_duration(delta) == text


def test_since_unknown_for_unset_and_zero_times():
    assert tables.since(None, NOW) == "<unknown>"
    assert tables.since("0001-01-01T00:00:00Z", NOW) == "<unknown>"
    assert tables.since("not a time", NOW) == "<unknown>"
    assert tables.since(ago(hours=26), NOW) == "26h"
    assert tables.since("2025-03-01T11:59:30.123456Z", NOW) == "29s"


# --- pods ---------------------------------------------------------------------------------------

def container(name="web", ready=True, restarts=0, state=None, last=None, **extra):
    s = {"name": name, "image": "nginx:1.27", "imageID": "", "ready": ready, "restartCount": restarts,
         "started": ready, "state": state or {"running": {"startedAt": ago(minutes=4)}}, **extra}
    if last:
        s["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": last}}
    return s


def pod(statuses=None, phase="Running", init=None, init_statuses=None, conditions=None, spec_extra=None,
        status_extra=None, **meta_extra):
    spec = {"containers": [{"name": s["name"], "image": "nginx:1.27"} for s in statuses or [container()]],
            "nodeName": "node-1", "restartPolicy": "Always", **(spec_extra or {})}
    if init is not None:
        spec["initContainers"] = init
    status = {"phase": phase, "hostIP": "192.168.1.10", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}],
              "startTime": ago(minutes=5), "qosClass": "BestEffort",
              "conditions": conditions if conditions is not None else
              [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"},
               {"type": "PodScheduled", "status": "True"}],
              "containerStatuses": statuses if statuses is not None else [container()], **(status_extra or {})}
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta("web-1", **meta_extra), "spec": spec, "status": status}


def test_pod_columns():
    assert headers("", "pods") == [
        ("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0),
        ("Age", "string", 0), ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1)]


def test_pod_running_restarted_twice():
    obj = pod([container(restarts=2, last=ago(minutes=5))])
    assert cells("", "pods", obj) == ["web-1", "1/1", "Running", "2 (5m ago)", "5m", "10.0.0.5", "node-1",
                                      "<none>", "<none>"]


def test_pod_pending_without_status():
    obj = {"metadata": meta("new", age={"seconds": 3}), "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
           "status": {"phase": "Pending"}}
    assert cells("", "pods", obj) == ["new", "0/2", "Pending", "0", "3s", "<none>", "<none>", "<none>", "<none>"]


@pytest.mark.parametrize("state,ready,status", [
    ({"waiting": {"reason": "ContainerCreating"}}, False, "ContainerCreating"),
    ({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}}, False, "CrashLoopBackOff"),
    ({"waiting": {"reason": "ImagePullBackOff"}}, False, "ImagePullBackOff"),
    ({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}, False, "OOMKilled"),
    ({"terminated": {"exitCode": 2}}, False, "ExitCode:2"),
    ({"terminated": {"exitCode": 0, "signal": 9}}, False, "Signal:9"),
])
def test_pod_status_from_container_state(state, ready, status):
    row = cells("", "pods", pod([container(ready=ready, state=state)]))
    assert row[1:3] == ["0/1", status]


def test_pod_completed_has_row_condition():
    done = container(ready=False, state={"terminated": {"exitCode": 0, "reason": "Completed",
                                                        "finishedAt": ago(minutes=1)}})
    obj = pod([done], phase="Succeeded")
    table = build_table("", "pods", [obj], now=NOW)
    assert table["rows"][0]["cells"][1:4] == ["0/1", "Completed", "0"]
    assert table["rows"][0]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                               "message": "The pod has completed successfully."}]
    running = build_table("", "pods", [pod()], now=NOW)["rows"][0]
    assert "conditions" not in running


def test_pod_completed_container_beside_a_running_one():
    done = container("job", ready=False, state={"terminated": {"exitCode": 0, "reason": "Completed"}})
    statuses = [done, container("web")]
    assert cells("", "pods", pod(statuses))[1:3] == ["1/2", "Running"]
    not_ready = [{"type": "Ready", "status": "False"}]
    assert cells("", "pods", pod(statuses, conditions=not_ready))[1:3] == ["1/2", "NotReady"]


def test_pod_init_containers():
    waiting = container("web", ready=False, state={"waiting": {"reason": "PodInitializing"}})
    init = [{"name": "setup", "image": "busybox"}, {"name": "migrate", "image": "busybox"}]
    first_running = [container("setup", ready=False), container("migrate", ready=False,
                                                                 state={"waiting": {"reason": "PodInitializing"}})]
    obj = pod([waiting], phase="Pending", init=init, init_statuses=first_running, conditions=[])
    assert cells("", "pods", obj)[1:4] == ["0/1", "Init:0/2", "0"]

    crashing = [container("setup", ready=False, state={"terminated": {"exitCode": 0, "reason": "Completed"}}),
                container("migrate", ready=False, restarts=3, last=ago(seconds=40),
                          state={"waiting": {"reason": "CrashLoopBackOff"}})]
    obj = pod([waiting], phase="Pending", init=init, init_statuses=crashing, conditions=[])
    assert cells("", "pods", obj)[1:4] == ["0/1", "Init:CrashLoopBackOff", "3 (40s ago)"]

    failed = [container("setup", ready=False, state={"terminated": {"exitCode": 1}})]
    obj = pod([waiting], phase="Pending", init=init[:1], init_statuses=failed, conditions=[])
    assert cells("", "pods", obj)[2] == "Init:ExitCode:1"


def test_pod_sidecar_counts_as_a_container():
    init = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    sidecar = container("proxy", restarts=1, last=ago(minutes=3))
    obj = pod([container(restarts=1, last=ago(minutes=2))], init=init, init_statuses=[sidecar])
    assert cells("", "pods", obj)[1:4] == ["2/2", "Running", "2 (2m ago)"]


def test_pod_terminating_and_scheduling_gated():
    obj = pod(deletionTimestamp=ago(seconds=10), deletionGracePeriodSeconds=30)
    assert cells("", "pods", obj)[2] == "Terminating"
    gone = pod(deletionTimestamp=ago(seconds=10), status_extra={"reason": "NodeLost"})
    assert cells("", "pods", gone)[2] == "Unknown"
    gated = {"metadata": meta("gated"), "spec": {"containers": [{"name": "a"}], "schedulingGates": [{"name": "x"}]},
             "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                            "reason": "SchedulingGated"}]}}
    assert cells("", "pods", gated)[2] == "SchedulingGated"


def test_pod_wide_columns():
    obj = pod(spec_extra={"readinessGates": [{"conditionType": "example.com/lb"},
                                             {"conditionType": "example.com/dns"}]},
              status_extra={"nominatedNodeName": "node-2"})
    obj["status"]["conditions"].append({"type": "example.com/lb", "status": "True"})
    assert cells("", "pods", obj)[5:] == ["10.0.0.5", "node-1", "node-2", "1/2"]


# --- workloads ----------------------------------------------------------------------------------

TEMPLATE = {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "fluent"}]}}
SELECTOR = {"matchLabels": {"app": "web", "tier": "front"}}


def test_deployment():
    obj = {"metadata": meta("web", age={"hours": 3, "minutes": 2}, generation=2),
           "spec": {"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
           "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}}
    assert headers("apps", "deployments")[:5] == [("Name", "string", 0), ("Ready", "string", 0),
                                                  ("Up-to-date", "string", 0), ("Available", "string", 0),
                                                  ("Age", "string", 0)]
    assert cells("apps", "deployments", obj) == ["web", "2/3", 3, 2, "3h2m", "web,log", "nginx:1.27,fluent",
                                                 "app=web,tier=front"]
    fresh = {"metadata": meta("new", age={"seconds": 1}), "spec": {"replicas": 1, "template": TEMPLATE,
                                                                  "selector": {"matchLabels": {"app": "new"}}},
             "status": {}}
    assert cells("apps", "deployments", fresh)[:5] == ["new", "0/1", 0, 0, "1s"]


def test_replicaset_statefulset_daemonset():
    rs = {"metadata": meta("web-5d9c"), "spec": {"replicas": 2, "selector": SELECTOR, "template": TEMPLATE},
          "status": {"replicas": 2, "readyReplicas": 1}}
    assert cells("apps", "replicasets", rs) == ["web-5d9c", 2, 2, 1, "5m", "web,log", "nginx:1.27,fluent",
                                                "app=web,tier=front"]
    sts = {"metadata": meta("db"), "spec": {"replicas": 3, "serviceName": "db", "selector": SELECTOR,
                                            "template": TEMPLATE}, "status": {"replicas": 3, "readyReplicas": 3}}
    assert cells("apps", "statefulsets", sts) == ["db", "3/3", "5m", "web,log", "nginx:1.27,fluent"]
    ds = {"metadata": meta("agent"), "spec": {"selector": {"matchLabels": {"app": "agent"},
                                                           "matchExpressions": [{"key": "tier", "operator": "In",
                                                                                 "values": ["b", "a"]}]},
                                              "template": {**TEMPLATE, "spec": {**TEMPLATE["spec"],
                                                                                "nodeSelector": {"os": "linux"}}}},
          "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1,
                     "updatedNumberScheduled": 2, "numberAvailable": 1}}
    assert cells("apps", "daemonsets", ds) == ["agent", 2, 2, 1, 2, 1, "os=linux", "5m", "web,log",
                                               "nginx:1.27,fluent", "app=agent,tier in (a,b)"]


def test_replication_controller_and_pod_template():
    rc = {"metadata": meta("old"), "spec": {"replicas": 2, "selector": {"app": "old"}, "template": TEMPLATE},
          "status": {"replicas": 2, "readyReplicas": 2}}
    assert cells("", "replicationcontrollers", rc) == ["old", 2, 2, 2, "5m", "web,log", "nginx:1.27,fluent",
                                                       "app=old"]
    pt = {"metadata": meta("tpl"), "template": TEMPLATE}
    assert headers("", "podtemplates") == [("Name", "string", 0), ("Containers", "string", 0),
                                           ("Images", "string", 0), ("Pod Labels", "string", 0)]
    assert cells("", "podtemplates", pt) == ["tpl", "web,log", "nginx:1.27,fluent", "app=web"]


def test_jobs():
    done = {"metadata": meta("pi", age={"minutes": 8}),
            "spec": {"completions": 1, "parallelism": 1, "selector": {"matchLabels": {
                "batch.kubernetes.io/controller-uid": "abc"}}, "template": TEMPLATE},
            "status": {"succeeded": 1, "startTime": ago(minutes=8), "completionTime": ago(minutes=7, seconds=48),
                       "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                                      {"type": "Complete", "status": "True"}]}}
    assert headers("batch", "jobs")[:5] == [("Name", "string", 0), ("Status", "string", 0),
                                            ("Completions", "string", 0), ("Duration", "string", 0),
                                            ("Age", "string", 0)]
    assert cells("batch", "jobs", done) == ["pi", "Complete", "1/1", "12s", "8m", "web,log", "nginx:1.27,fluent",
                                            "batch.kubernetes.io/controller-uid=abc"]
    running = {"metadata": meta("work"), "spec": {"parallelism": 3, "template": TEMPLATE},
               "status": {"active": 3, "succeeded": 1, "startTime": ago(minutes=2, seconds=30)}}
    assert cells("batch", "jobs", running)[:5] == ["work", "Running", "1/1 of 3", "2m30s", "5m"]
    failed = {"metadata": meta("bad"), "spec": {"completions": 2, "template": TEMPLATE},
              "status": {"failed": 7, "startTime": ago(minutes=4), "conditions": [{"type": "Failed",
                                                                                     "status": "True"}]}}
    assert cells("batch", "jobs", failed)[1:4] == ["Failed", "0/2", "4m"]
    suspended = {"metadata": meta("later"), "spec": {"suspend": True, "template": TEMPLATE},
                 "status": {"conditions": [{"type": "Suspended", "status": "True"}]}}
    assert cells("batch", "jobs", suspended)[1:4] == ["Suspended", "0/1", ""]


def test_jobs_print_as_their_release_does():
    """STATUS came with 1.30; 1.34 tells a job whose success policy is met from a running one."""
    assert [h[0] for h in headers("batch", "jobs", "1.29")[:4]] == ["Name", "Completions", "Duration", "Age"]
    assert [h[0] for h in headers("batch", "jobs", "1.30")[:5]] == ["Name", "Status", "Completions", "Duration",
                                                                    "Age"]
    met = {"metadata": meta("pi"), "spec": {"completions": 3, "template": TEMPLATE},
           "status": {"succeeded": 1, "active": 2, "startTime": ago(minutes=1),
                      "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}]}}
    assert cells("batch", "jobs", met, "1.29")[:4] == ["pi", "1/3", "60s", "5m"]
    assert cells("batch", "jobs", met, "1.33")[:2] == ["pi", "Running"]
    assert cells("batch", "jobs", met, "1.34")[:2] == ["pi", "SuccessCriteriaMet"]
    assert [h[0] for h in headers("batch", "jobs", "1.34")].count("Status") == 1


def test_cronjob():
    obj = {"metadata": meta("backup", age={"days": 3}),
           "spec": {"schedule": "*/5 * * * *", "suspend": False, "concurrencyPolicy": "Allow",
                    "jobTemplate": {"spec": {"template": TEMPLATE}}},
           "status": {"active": [{"kind": "Job", "name": "backup-1"}], "lastScheduleTime": ago(minutes=3)}}
    assert headers("batch", "cronjobs")[:7] == [
        ("Name", "string", 0), ("Schedule", "string", 0), ("Timezone", "string", 0), ("Suspend", "boolean", 0),
        ("Active", "integer", 0), ("Last Schedule", "string", 0), ("Age", "string", 0)]
    assert cells("batch", "cronjobs", obj) == ["backup", "*/5 * * * *", "<none>", "False", 1, "3m", "3d",
                                               "web,log", "nginx:1.27,fluent", "<none>"]
    never = {"metadata": meta("tz"), "spec": {"schedule": "0 3 * * *", "timeZone": "Europe/Paris", "suspend": True,
                                              "jobTemplate": {"spec": {"template": TEMPLATE}}}, "status": {}}
    assert cells("batch", "cronjobs", never)[:7] == ["tz", "0 3 * * *", "Europe/Paris", "True", 0, "<none>", "5m"]


def test_hpa():
    obj = {"metadata": meta("web"),
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "minReplicas": 1, "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": 80}}}]},
           "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": [
               {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 23,
                                                                            "averageValue": "23m"}}}]}}
    assert cells("autoscaling", "horizontalpodautoscalers", obj) == ["web", "Deployment/web", "cpu: 23%/80%",
                                                                     "1", 10, 2, "5m"]
    obj["status"] = {}
    obj["spec"]["metrics"] += [
        {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue",
                                                                        "averageValue": "100"}}},
        {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "5"}}}]
    assert cells("autoscaling", "horizontalpodautoscalers", obj)[2] == \
        "cpu: <unknown>/80%, <unknown>/100 + 1 more..."


def test_pdb_and_controller_revision():
    pdb = {"metadata": meta("web"), "spec": {"minAvailable": "50%", "selector": SELECTOR},
           "status": {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2}}
    assert cells("policy", "poddisruptionbudgets", pdb) == ["web", "50%", "N/A", 1, "5m"]
    cr = {"metadata": meta("db-7f9", ownerReferences=[{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db",
                                                       "uid": "u", "controller": True}]),
          "data": {}, "revision": 2}
    assert cells("apps", "controllerrevisions", cr) == ["db-7f9", "statefulset.apps/db", 2, "5m"]


# --- services and networking --------------------------------------------------------------------

def service(type_="ClusterIP", ports=None, status=None, **spec):
    return {"metadata": meta("web"), "spec": {"type": type_, "clusterIP": "10.96.12.7", "clusterIPs": ["10.96.12.7"],
                                              "ports": ports if ports is not None else
                                              [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
                                              "selector": {"app": "web"}, **spec},
            "status": status or {"loadBalancer": {}}}


def test_services():
    assert headers("", "services") == [("Name", "string", 0), ("Type", "string", 0), ("Cluster-IP", "string", 0),
                                       ("External-IP", "string", 0), ("Port(s)", "string", 0),
                                       ("Age", "string", 0), ("Selector", "string", 1)]
    assert cells("", "services", service()) == ["web", "ClusterIP", "10.96.12.7", "<none>", "80/TCP", "5m",
                                                "app=web"]
    node_port = service("NodePort", [{"port": 80, "protocol": "TCP", "nodePort": 30080},
                                     {"name": "tls", "port": 443, "protocol": "TCP", "nodePort": 30000}])
    assert cells("", "services", node_port)[3:5] == ["<none>", "80:30080/TCP,443:30000/TCP"]
    assert cells("", "services", service("LoadBalancer"))[3] == "<pending>"
    lb = service("LoadBalancer", status={"loadBalancer": {"ingress": [{"hostname": "lb.example.com"},
                                                                      {"ip": "203.0.113.9"}]}})
    assert cells("", "services", lb)[3] == "203.0.113.9,lb.example.com"
    lb["spec"]["externalIPs"] = ["198.51.100.1"]
    assert cells("", "services", lb)[3] == "203.0.113.9,lb.example.com,198.51.100.1"
    headless = service(clusterIP="None", clusterIPs=["None"], ports=[])
    assert cells("", "services", headless)[2:5] == ["None", "<none>", "<none>"]
    external = {"metadata": meta("db"), "spec": {"type": "ExternalName", "externalName": "db.example.com"}}
    assert cells("", "services", external) == ["db", "ExternalName", "<none>", "db.example.com", "<none>", "5m",
                                               "<none>"]


def test_endpoints_and_slices():
    ep = {"metadata": meta("web"), "subsets": [{"addresses": [{"ip": "10.0.0.5"}, {"ip": "10.0.0.6"}],
                                                "ports": [{"port": 8080, "protocol": "TCP"},
                                                          {"name": "m", "port": 9090, "protocol": "TCP"}]}]}
    assert cells("", "endpoints", ep) == ["web", "10.0.0.5:8080,10.0.0.6:8080,10.0.0.5:9090 + 1 more...", "5m"]
    v6 = {"metadata": meta("v6"), "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]}
    assert cells("", "endpoints", v6)[1] == "[fd00::1]:80"
    assert cells("", "endpoints", {"metadata": meta("none")})[1] == "<none>"
    headless = {"metadata": meta("h"), "subsets": [{"addresses": [{"ip": "10.0.0.7"}]}]}
    assert cells("", "endpoints", headless)[1] == "10.0.0.7"

    es = {"metadata": meta("web-abcde"), "addressType": "IPv4",
          "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "", "protocol": "TCP"}],
          "endpoints": [{"addresses": ["10.0.0.5"], "conditions": {"ready": True}},
                        {"addresses": ["10.0.0.6"], "conditions": {"ready": True}}]}
    assert cells("discovery.k8s.io", "endpointslices", es) == ["web-abcde", "IPv4", "8080,", "10.0.0.5,10.0.0.6",
                                                               "5m"]
    empty = {"metadata": meta("empty"), "addressType": "IPv4", "endpoints": None, "ports": None}
    assert cells("discovery.k8s.io", "endpointslices", empty)[2:4] == ["<unset>", "<unset>"]


def test_ingress_and_ingress_class():
    ing = {"metadata": meta("web"), "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.example.com"]}],
                                             "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}]},
           "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}
    assert cells("networking.k8s.io", "ingresses", ing) == ["web", "nginx", "a.example.com,b.example.com",
                                                            "203.0.113.10", "80, 443", "5m"]
    many = {"metadata": meta("many"), "spec": {"rules": [{"host": f"h{i}.example.com"} for i in range(5)]},
            "status": {"loadBalancer": {}}}
    assert cells("networking.k8s.io", "ingresses", many)[1:5] == [
        "<none>", "h0.example.com,h1.example.com,h2.example.com + 2 more...", "", "80"]
    default_backend = {"metadata": meta("all"), "spec": {"defaultBackend": {"service": {"name": "web"}}}}
    assert cells("networking.k8s.io", "ingresses", default_backend)[2] == "*"
    cls = {"metadata": meta("nginx", namespace=None), "spec": {
        "controller": "k8s.io/ingress-nginx", "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters",
                                                             "name": "external-lb"}}}
    assert cells("networking.k8s.io", "ingressclasses", cls) == [
        "nginx", "k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/external-lb", "5m"]


def test_network_policy():
    deny = {"metadata": meta("deny-all"), "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    assert cells("networking.k8s.io", "networkpolicies", deny) == ["deny-all", "<none>", "5m"]
    some = {"metadata": meta("db"), "spec": {"podSelector": {"matchExpressions": [
        {"key": "role", "operator": "NotIn", "values": ["web"]}, {"key": "db", "operator": "Exists"}]}}}
    assert cells("networking.k8s.io", "networkpolicies", some)[1] == "db,role notin (web)"


# --- cluster objects ----------------------------------------------------------------------------

def test_namespace_configmap_secret_serviceaccount():
    ns = {"metadata": meta("demo", namespace=None, age={"days": 12}), "spec": {"finalizers": ["kubernetes"]},
          "status": {"phase": "Active"}}
    assert cells("", "namespaces", ns) == ["demo", "Active", "12d"]
    cm = {"metadata": meta("settings"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert cells("", "configmaps", cm) == ["settings", 3, "5m"]
    secret = {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "eA==", "tls.key": "eA=="}}
    assert headers("", "secrets") == [("Name", "string", 0), ("Type", "string", 0), ("Data", "string", 0),
                                      ("Age", "string", 0)]
    assert cells("", "secrets", secret) == ["tls", "kubernetes.io/tls", 2, "5m"]
    sa = {"metadata": meta("default", age={"hours": 50})}
    assert cells("", "serviceaccounts", sa) == ["default", 0, "2d2h"]


def test_nodes():
    node = {"metadata": meta("node-1", namespace=None, age={"days": 40}, labels={
                "kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/worker": "", "kubernetes.io/role": "infra"}),
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "192.168.1.10"},
                                     {"type": "Hostname", "address": "node-1"}],
                       "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Ubuntu 24.04 LTS",
                                    "kernelVersion": "6.8.0", "containerRuntimeVersion": "containerd://2.0.5"}}}
    assert cells("", "nodes", node) == ["node-1", "Ready,SchedulingDisabled", "control-plane,infra,worker", "40d",
                                        "v1.33.1", "192.168.1.10", "<none>", "Ubuntu 24.04 LTS", "6.8.0",
                                        "containerd://2.0.5"]
    bare = {"metadata": meta("new", namespace=None), "spec": {}, "status": {}}
    assert cells("", "nodes", bare) == ["new", "Unknown", "<none>", "5m", "", "<none>", "<none>", "<unknown>",
                                        "<unknown>", "<unknown>"]
    bare["status"]["conditions"] = [{"type": "Ready", "status": "Unknown"}]
    assert cells("", "nodes", bare)[1] == "NotReady"


def test_core_events():
    event = {"metadata": meta("web-1.17f0"), "involvedObject": {"kind": "Pod", "namespace": "default",
                                                                "name": "web-1", "fieldPath": "spec.containers{web}"},
             "reason": "BackOff", "message": "Back-off restarting failed container\n", "type": "Warning",
             "source": {"component": "kubelet", "host": "node-1"}, "count": 7,
             "firstTimestamp": ago(minutes=30), "lastTimestamp": ago(seconds=20)}
    assert [h[0] for h in headers("", "events")] == ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source",
                                                     "Message", "First Seen", "Count", "Name"]
    assert headers("", "events")[-1] == ("Name", "string", 1)
    assert cells("", "events", event) == ["20s", "Warning", "BackOff", "pod/web-1", "spec.containers{web}",
                                          "kubelet, node-1", "Back-off restarting failed container", "30m", 7,
                                          "web-1.17f0"]
    fresh = {"metadata": meta("x"), "involvedObject": {"kind": "Node"}, "reason": "Starting", "type": "Normal",
             "message": "", "eventTime": "2025-03-01T11:59:00.000001Z", "reportingComponent": "kube-proxy",
             "reportingInstance": "node-1", "source": {}}
    # 59.999999s: Go truncates to whole seconds.
    assert cells("", "events", fresh)[:9] == ["59s", "Normal", "Starting", "node", "", "kube-proxy, node-1", "",
                                              "59s", 1]


def test_events_k8s_io_events_print_like_core_events():
    event = {"metadata": meta("web-1.17f1"), "eventTime": "2025-03-01T11:50:00.000000Z",
             "series": {"count": 4, "lastObservedTime": "2025-03-01T11:58:00.000000Z"},
             "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-cp-1",
             "action": "Scheduling", "reason": "FailedScheduling", "type": "Warning",
             "regarding": {"kind": "Pod", "namespace": "default", "name": "web-1"},
             "note": "0/3 nodes are available"}
    assert headers("events.k8s.io", "events") == headers("", "events")
    assert cells("events.k8s.io", "events", event) == [
        "2m", "Warning", "FailedScheduling", "pod/web-1", "", "default-scheduler, default-scheduler-cp-1",
        "0/3 nodes are available", "10m", 4, "web-1.17f1"]
    assert build_table("events.k8s.io", "events", [event], include_object="Object",
                              now=NOW)["rows"][0]["object"] is event


def test_rbac():
    rb = {"metadata": meta("admins"), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                  "name": "admin"},
          "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "ops"},
                       {"kind": "User", "name": "bob"}, {"kind": "ServiceAccount", "namespace": "ci", "name": "deployer"}]}
    assert headers("rbac.authorization.k8s.io", "rolebindings") == [
        ("Name", "string", 0), ("Role", "string", 0), ("Age", "string", 0), ("Users", "string", 1),
        ("Groups", "string", 1), ("ServiceAccounts", "string", 1)]
    assert cells("rbac.authorization.k8s.io", "rolebindings", rb) == ["admins", "ClusterRole/admin", "5m",
                                                                      "alice, bob", "ops", "ci/deployer"]
    crb = {"metadata": meta("cluster-admin", namespace=None), "roleRef": {"kind": "ClusterRole",
                                                                          "name": "cluster-admin"},
           "subjects": [{"kind": "Group", "name": "system:masters"}]}
    assert cells("rbac.authorization.k8s.io", "clusterrolebindings", crb) == [
        "cluster-admin", "ClusterRole/cluster-admin", "5m", "", "system:masters", ""]


@pytest.mark.parametrize("group,resource", [
    ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"), ("", "limitranges"),
    ("apiextensions.k8s.io", "customresourcedefinitions"), ("storage.k8s.io", "csistoragecapacities")])
def test_default_convertor_prints_created_at(group, resource):
    obj = {"metadata": meta("thing", creationTimestamp="2025-02-28T09:15:00+01:00")}
    assert headers(group, resource) == [("Name", "string", 0), ("Created At", "date", 0)]
    assert cells(group, resource, obj) == ["thing", "2025-02-28T08:15:00Z"]
    assert cells(group, resource, {"metadata": {"name": "unset"}}) == ["unset", "0001-01-01T00:00:00Z"]


# --- storage ------------------------------------------------------------------------------------

def test_persistent_volume_claims_and_volumes():
    bound = {"metadata": meta("data"), "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-1",
                                                "storageClassName": "standard", "volumeMode": "Filesystem",
                                                "resources": {"requests": {"storage": "1Gi"}}},
             "status": {"phase": "Bound", "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                        "capacity": {"storage": "10Gi"}}}
    assert [h[0] for h in headers("", "persistentvolumeclaims")] == [
        "Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass", "VolumeAttributesClass", "Age",
        "VolumeMode"]
    assert cells("", "persistentvolumeclaims", bound) == ["data", "Bound", "pv-1", "10Gi", "RWO,RWX", "standard",
                                                          "<unset>", "5m", "Filesystem"]
    pending = {"metadata": meta("wait", annotations={"volume.beta.kubernetes.io/storage-class": "old"}),
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                        "storageClassName": "standard"}, "status": {"phase": "Pending"}}
    assert cells("", "persistentvolumeclaims", pending) == ["wait", "Pending", "", "", "", "old", "<unset>", "5m",
                                                            "<unset>"]
    # VolumeAttributesClass came with 1.29, the release whose claims and volumes have the field.
    assert cells("", "persistentvolumeclaims", bound, "1.28") == ["data", "Bound", "pv-1", "10Gi", "RWO,RWX",
                                                                  "standard", "5m", "Filesystem"]
    assert "VolumeAttributesClass" not in [h[0] for h in headers("", "persistentvolumes", "1.28")]
    assert "VolumeAttributesClass" in [h[0] for h in headers("", "persistentvolumes", "1.29")]
    pv = {"metadata": meta("pv-1", namespace=None, deletionTimestamp=ago(seconds=1)),
          "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOncePod", "ReadOnlyMany"],
                   "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "standard",
                   "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data"},
                   "volumeMode": "Filesystem", "hostPath": {"path": "/data"}},
          "status": {"phase": "Bound"}}
    assert cells("", "persistentvolumes", pv) == ["pv-1", "10Gi", "ROX,RWOP", "Retain", "Terminating",
                                                  "default/data", "standard", "<unset>", "", "5m", "Filesystem"]


def test_storage_classes_and_csi():
    sc = {"metadata": meta("standard", namespace=None, annotations={
              "storageclass.kubernetes.io/is-default-class": "true"}),
          "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}
    assert cells("storage.k8s.io", "storageclasses", sc) == ["standard (default)", "rancher.io/local-path", "Delete",
                                                             "WaitForFirstConsumer", False, "5m"]
    driver = {"metadata": meta("csi.example.com", namespace=None),
              "spec": {"attachRequired": False, "podInfoOnMount": True, "volumeLifecycleModes": ["Persistent",
                                                                                                "Ephemeral"],
                       "fsGroupPolicy": "File", "storageCapacity": False, "requiresRepublish": False}}
    assert cells("storage.k8s.io", "csidrivers", driver) == ["csi.example.com", False, True, False, "<unset>",
                                                             False, "Persistent,Ephemeral", "5m"]
    node = {"metadata": meta("node-1", namespace=None), "spec": {"drivers": [{"name": "csi.example.com",
                                                                              "nodeID": "node-1"}]}}
    assert cells("storage.k8s.io", "csinodes", node) == ["node-1", 1, "5m"]
    va = {"metadata": meta("csi-123", namespace=None), "spec": {
        "attacher": "csi.example.com", "nodeName": "node-1", "source": {"persistentVolumeName": "pv-1"}},
          "status": {"attached": True}}
    assert cells("storage.k8s.io", "volumeattachments", va) == ["csi-123", "csi.example.com", "pv-1", "node-1",
                                                                True, "5m"]


def test_resource_quota():
    quota = {"metadata": meta("compute"), "spec": {"hard": {}},
             "status": {"hard": {"requests.cpu": "2", "limits.memory": "4Gi", "pods": "10", "limits.cpu": "4"},
                        "used": {"requests.cpu": "500m", "pods": "3", "limits.cpu": "1"}}}
    assert cells("", "resourcequotas", quota) == ["compute", "pods: 3/10, requests.cpu: 500m/2",
                                                  "limits.cpu: 1/4, limits.memory: 0/4Gi", "5m"]


# --- other kinds --------------------------------------------------------------------------------

def test_lease_priority_class_runtime_class():
    lease = {"metadata": meta("kube-scheduler", namespace="kube-system"),
             "spec": {"holderIdentity": "cp-1_1234", "leaseDurationSeconds": 15}}
    assert cells("coordination.k8s.io", "leases", lease) == ["kube-scheduler", "cp-1_1234", "5m"]
    pc = {"metadata": meta("system-node-critical", namespace=None, age={"days": 400}), "value": 2000001000,
          "globalDefault": False, "preemptionPolicy": "PreemptLowerPriority"}
    assert headers("scheduling.k8s.io", "priorityclasses") == [
        ("Name", "string", 0), ("Value", "integer", 0), ("Global-Default", "boolean", 0), ("Age", "string", 0),
        ("PreemptionPolicy", "string", 0)]
    assert cells("scheduling.k8s.io", "priorityclasses", pc) == ["system-node-critical", 2000001000, False, "400d",
                                                                 "PreemptLowerPriority"]
    rc = {"metadata": meta("gvisor", namespace=None), "handler": "runsc"}
    assert cells("node.k8s.io", "runtimeclasses", rc) == ["gvisor", "runsc", "5m"]


def test_certificate_signing_request():
    csr = {"metadata": meta("csr-abc", namespace=None),
           "spec": {"request": "LS0t", "signerName": "kubernetes.io/kube-apiserver-client", "username": "alice",
                    "expirationSeconds": 86400, "usages": ["client auth"]},
           "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0t"}}
    assert cells("certificates.k8s.io", "certificatesigningrequests", csr) == [
        "csr-abc", "5m", "kubernetes.io/kube-apiserver-client", "alice", "24h", "Approved,Issued"]
    csr["spec"].pop("expirationSeconds")
    csr["status"] = {}
    assert cells("certificates.k8s.io", "certificatesigningrequests", csr)[4:] == ["<none>", "Pending"]


def test_admission_and_api_services():
    hooks = {"metadata": meta("policy", namespace=None), "webhooks": [{"name": "a.example.com"},
                                                                      {"name": "b.example.com"}]}
    for resource in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations"):
        assert cells("admissionregistration.k8s.io", resource, hooks) == ["policy", 2, "5m"]
    vap = {"metadata": meta("replicas", namespace=None),
           "spec": {"paramKind": {"apiVersion": "example.com/v1", "kind": "Limits"}, "validations": [
               {"expression": "object.spec.replicas <= 5"}]}}
    assert cells("admissionregistration.k8s.io", "validatingadmissionpolicies", vap) == [
        "replicas", 1, "example.com/v1/Limits", "5m"]
    binding = {"metadata": meta("replicas-prod", namespace=None),
               "spec": {"policyName": "replicas", "paramRef": {"name": "prod"}, "validationActions": ["Deny"]}}
    assert cells("admissionregistration.k8s.io", "validatingadmissionpolicybindings", binding) == [
        "replicas-prod", "replicas", "*/prod", "5m"]
    binding["spec"]["paramRef"] = {"selector": {"matchLabels": {"env": "prod"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["a", "b"]}]}}
    # Upstream prints the selector's Go struct as is.
    assert cells("admissionregistration.k8s.io", "validatingadmissionpolicybindings", binding)[2] == (
        "&LabelSelector{MatchLabels:map[string]string{env: prod,},MatchExpressions:[]LabelSelectorRequirement{"
        "LabelSelectorRequirement{Key:tier,Operator:In,Values:[a b],},},}")
    local = {"metadata": meta("v1.apps", namespace=None, age={"days": 9}),
             "spec": {"group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15},
             "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}}
    assert headers("apiregistration.k8s.io", "apiservices") == [
        ("Name", "string", 0), ("Service", "string", 0), ("Available", "string", 0), ("Age", "string", 0)]
    assert cells("apiregistration.k8s.io", "apiservices", local) == ["v1.apps", "Local", "True", "9d"]
    remote = {"metadata": meta("v1beta1.metrics.k8s.io", namespace=None),
              "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
              "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}}
    assert cells("apiregistration.k8s.io", "apiservices", remote)[1:3] == [
        "kube-system/metrics-server", "False (MissingEndpoints)"]


def test_flow_control():
    def fs(name, precedence):
        return {"metadata": meta(name, namespace=None),
                "spec": {"priorityLevelConfiguration": {"name": "workload-low"}, "matchingPrecedence": precedence,
                         "distinguisherMethod": {"type": "ByUser"}},
                "status": {"conditions": [{"type": "Dangling", "status": "False"}]}}
    table = build_table("flowcontrol.apiserver.k8s.io", "flowschemas",
                               [fs("service-accounts", 9000), fs("exempt", 1), fs("catch-all", 10000),
                                fs("b", 9000)], now=NOW)
    assert [r["cells"][0] for r in table["rows"]] == ["exempt", "b", "service-accounts", "catch-all"]
    assert table["rows"][0]["cells"] == ["exempt", "workload-low", 1, "ByUser", "5m", "False"]
    limited = {"metadata": meta("workload-low", namespace=None),
               "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 100, "limitResponse": {
                   "type": "Queue", "queuing": {"queues": 128, "handSize": 6, "queueLengthLimit": 50}}}}}
    assert cells("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", limited) == [
        "workload-low", "Limited", 100, 128, 6, 50, "5m"]
    exempt = {"metadata": meta("exempt", namespace=None), "spec": {"type": "Exempt", "exempt": {}}}
    assert cells("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", exempt) == [
        "exempt", "Exempt", "<none>", "<none>", "<none>", "<none>", "5m"]


# --- table shape --------------------------------------------------------------------------------

def test_table_shape_and_partial_object_metadata():
    obj = pod()
    table = build_table("", "pods", [obj], list_meta={"resourceVersion": "99", "continue": "abc"}, now=NOW)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "99", "continue": "abc"}
    assert set(table["columnDefinitions"][0]) == {"name", "type", "format", "description", "priority"}
    assert table["columnDefinitions"][0]["format"] == "name"
    assert table["columnDefinitions"][0]["description"].startswith("Name must be unique within a namespace.")
    assert table["columnDefinitions"][4]["description"].startswith("CreationTimestamp is a timestamp")
    assert table["rows"][0]["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                          "metadata": obj["metadata"]}
    assert build_table("", "pods", [obj], include_object="Object", now=NOW)["rows"][0]["object"] is obj
    assert build_table("", "pods", [obj], include_object="None", now=NOW)["rows"][0]["object"] is None
    # A watch event's Table: one row, carrying the object's resourceVersion.
    assert build_table("", "pods", [obj], now=NOW)["metadata"] == {"resourceVersion": "42"}
    assert build_table("", "pods", [], now=NOW) == {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
        "columnDefinitions": build_table("", "pods", [], now=NOW)["columnDefinitions"], "rows": []}
    orjson.dumps(table)


def test_every_printer_is_for_a_served_resource_and_every_description_resolves():
    served = {(group, plural) for group, _, plural, *_ in BUILTIN + COMPUTED}
    definitions = schemas.load().definitions
    for key, printer in tables.PRINTERS.items():
        assert key in served, key
        for column in printer.columns:
            if isinstance(column.doc, tables.Doc):
                assert column.doc.text(definitions), (key, column.name)
    assert build_table("node.k8s.io", "runtimeclasses", [], now=NOW)["columnDefinitions"][1][
        "description"] == ""


def test_cells_survive_sparse_objects():
    """Objects fresh from a create, before any controller wrote status, print without errors."""
    for (group, resource) in tables.PRINTERS:
        obj = {"metadata": {"name": "bare", "creationTimestamp": ago(seconds=30)}}
        row = cells(group, resource, obj)
        assert "bare" in row[0] or "bare" in row


# --- custom resources ---------------------------------------------------------------------------

WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget",
          "metadata": meta("w1", labels={"app": "shop"}),
          "spec": {"replicas": 3, "ratio": 0.25, "big": 2e6, "enabled": True, "note": None,
                   "items": [{"name": "a", "size": 1}, {"name": "b", "size": 2}],
                   "selector": {"k": "v"}},
          "status": {"conditions": [{"type": "Synced", "status": "True"}, {"type": "Ready", "status": "False",
                                                                           "lastTransitionTime": ago(hours=2)}]}}


def column(name, json_path, type_="string", **kw):
    return {"name": name, "type": type_, "jsonPath": json_path, **kw}


def test_crd_printer_columns():
    columns = [column("Replicas", ".spec.replicas", "integer"),
               column("App", ".metadata.labels.app", description="The app", priority=1),
               column("Ready", '.status.conditions[?(@.type=="Ready")].status'),
               column("Item", ".spec.items[*].name"), column("First", ".spec.items[0]"),
               column("Last", ".spec.items[-1].size", "integer"),
               column("Ratio", ".spec.ratio", "number"), column("RatioText", ".spec.ratio"),
               column("Big", ".spec.big"), column("On", ".spec.enabled", "boolean"),
               column("Missing", ".spec.nothing"), column("Null", ".spec.note"),
               column("Since", '.status.conditions[?(@.type == "Ready")].lastTransitionTime', "date"),
               column("Age", ".metadata.creationTimestamp", "date")]
    table = build_table("example.com", "widgets", [WIDGET], columns=columns, now=NOW)
    assert table["columnDefinitions"][0] == {"name": "Name", "type": "string", "format": "name", "priority": 0,
                                             "description": table["columnDefinitions"][0]["description"]}
    assert table["columnDefinitions"][1] == {
        "name": "Replicas", "type": "integer", "format": "", "priority": 0,
        "description": "Custom resource definition column (in JSONPath format): .spec.replicas"}
    assert table["columnDefinitions"][2]["description"] == "The app"
    assert table["columnDefinitions"][2]["priority"] == 1
    assert table["rows"][0]["cells"] == ["w1", 3, "shop", "False", "a", '{"name":"a","size":1}', 2, 0.25, "0.25",
                                         "2e+06", True, None, None, "120m", "5m"]


def test_crd_without_printer_columns_shows_name_and_age():
    for given in ([], None):
        table = build_table("example.com", "widgets", [WIDGET], columns=given, now=NOW)
        assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
        assert table["columnDefinitions"][1]["type"] == "date"
        assert table["columnDefinitions"][1]["description"].startswith("CreationTimestamp is a timestamp")
        assert table["rows"][0]["cells"] == ["w1", "5m"]


def test_crd_columns_type_mismatches_and_bad_paths():
    columns = [column("Text", ".spec.replicas", "integer"), column("Num", ".spec.enabled", "integer"),
               column("When", ".spec.items[0].name", "date"), column("Broken", ".spec[?(@.x ~ 1)]"),
               column("Never", ".spec.replicas")]
    table = build_table("example.com", "widgets", [WIDGET], columns=columns, now=NOW)
    # Upstream keeps the columns before the first whose path it cannot parse.
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Text", "Num", "When"]
    assert table["rows"][0]["cells"] == ["w1", 3, None, "<invalid>"]


@pytest.mark.parametrize("path,steps", [
    (".spec.replicas", (("field", "spec"), ("field", "replicas"))),
    ("{.metadata.annotations.example\\.com/x}", (("field", "metadata"), ("field", "annotations"),
                                                  ("field", "example.com/x"))),
    (".metadata.labels['app.kubernetes.io/name']", (("field", "metadata"), ("field", "labels"),
                                                     ("field", "app.kubernetes.io/name"))),
    (".a[*].b", (("field", "a"), ("all",), ("field", "b"))),
    (".a[?(@.x.y!=3)]", (("field", "a"), ("filter", ("x", "y"), "!=", 3))),
])
def test_parse_jsonpath(path, steps):
    assert tables.parse_jsonpath(path) == steps


# --- what kubectl makes of it -------------------------------------------------------------------

def now_ago(**delta) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


WIDGETS_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "additionalPrinterColumns": [column("Replicas", ".spec.replicas", "integer"),
                                                        column("Ready", '.status.conditions[?(@.type=="Ready")].status')],
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    """A real `vapi serve` holding the objects the kubectl cases print: pods whose kubelet status
    is written through the status subresource, a cluster role, and a custom resource with printer
    columns."""
    try:
        kubectl_path("1.33")
    except FileNotFoundError:
        pytest.skip("kubectl 1.33 is not installed")
    server = ServerProcess(tmp_path_factory.mktemp("tables")).start()
    api = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    core = kubernetes.client.CoreV1Api(api)
    crashing = container(ready=False, restarts=5, last=now_ago(minutes=1),
                         state={"waiting": {"reason": "CrashLoopBackOff"}})
    for name, statuses in (("web-1", [container(restarts=2, last=now_ago(minutes=5))]), ("web-2", [crashing])):
        obj = pod(statuses)
        obj["metadata"] = {"name": name}
        core.create_namespaced_pod("default", {k: obj[k] for k in ("metadata", "spec")})
        core.patch_namespaced_pod_status(name, "default", {"status": obj["status"]})
    kubernetes.client.RbacAuthorizationV1Api(api).create_cluster_role({"metadata": {"name": "view-tables"}})
    kubernetes.client.ApiextensionsV1Api(api).create_custom_resource_definition(WIDGETS_CRD)
    custom = kubernetes.client.CustomObjectsApi(api)
    deadline = time.monotonic() + 10
    while True:
        try:
            custom.create_namespaced_custom_object("example.com", "v1", "default", "widgets", {
                "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"replicas": 3}})
            break
        except kubernetes.client.ApiException as e:
            assert e.status == 404 and time.monotonic() < deadline, e
            time.sleep(0.05)
    custom.patch_namespaced_custom_object_status("example.com", "v1", "default", "widgets", "w1",
                                                  {"status": WIDGET["status"]})
    server.home = tmp_path_factory.mktemp("kube")
    yield server
    api.close()
    server.cleanup()


def kubectl_lines(server, *args) -> list[list[str]]:
    out = run_kubectl(server.kubeconfig, *args, version="1.33", cache_dir=server.home / "cache").stdout
    return [line.split() for line in out.splitlines()]


AGE = re.compile(r"\d+s")
# The restarts happened 5 minutes and 60 seconds before the fixture ran; the server reads its own
# clock, seconds later, so the seconds part of "(5m12s" and the count in "(63s" grow with the run.
FIVE_MINUTES_AGO = re.compile(r"\(5m(\d+s)?")
A_MINUTE_AGO = re.compile(r"\((6\d|[7-9]\d|1[01]\d)s")


def test_kubectl_get_pods(real_server):
    header, web1, web2 = kubectl_lines(real_server, "get", "pods")
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert web1[:4] == ["web-1", "1/1", "Running", "2"] and FIVE_MINUTES_AGO.fullmatch(web1[4])
    assert web1[5] == "ago)" and AGE.fullmatch(web1[6]) and len(web1) == 7
    assert web2[:4] == ["web-2", "0/1", "CrashLoopBackOff", "5"] and A_MINUTE_AGO.fullmatch(web2[4])
    assert web2[5] == "ago)" and AGE.fullmatch(web2[6]) and len(web2) == 7
    wide = kubectl_lines(real_server, "get", "pods", "-o", "wide")
    assert wide[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS",
                       "GATES"]
    assert wide[1][:4] == ["web-1", "1/1", "Running", "2"] and FIVE_MINUTES_AGO.fullmatch(wide[1][4])
    assert wide[1][5] == "ago)" and wide[1][7:] == ["10.0.0.5", "node-1", "<none>", "<none>"]


def test_kubectl_get_default_and_custom_columns(real_server):
    header, *rows = kubectl_lines(real_server, "get", "clusterroles", "view-tables")
    assert header == ["NAME", "CREATED", "AT"]
    assert rows[0][0] == "view-tables" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[0][1])
    assert kubectl_lines(real_server, "get", "widgets") == [["NAME", "REPLICAS", "READY"], ["w1", "3", "False"]]


def test_table_watch_sends_column_definitions_once(real_server):
    """The Table watch kubectl get -w reads: the first event defines the columns, later ones only rows."""
    api = kubernetes.config.new_client_from_config(config_file=str(real_server.kubeconfig))
    try:
        resp = api.rest_client.pool_manager.request(
            "GET", api.configuration.host + "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1",
            headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}, timeout=10)
        events = [json.loads(line) for line in resp.data.splitlines()]
    finally:
        api.close()
    assert [e["type"] for e in events] == ["ADDED", "ADDED"]
    first, second = (e["object"] for e in events)
    assert first["kind"] == "Table" and [c["name"] for c in first["columnDefinitions"]][:3] == ["Name", "Ready", "Status"]
    assert second["columnDefinitions"] == []
    assert first["rows"][0]["cells"][:3] == ["web-1", "1/1", "Running"]
    assert second["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_kubectl_get_watch_prints_the_header_once(real_server):
    proc = subprocess.Popen([kubectl_path("1.33"), f"--kubeconfig={real_server.kubeconfig}",
                             f"--cache-dir={real_server.home / 'cache'}", "get", "pods", "-w", "--request-timeout=3s"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [line[0] for line in lines[1:3]] == ["web-1", "web-2"]


JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
       "spec": {"template": {"spec": {"restartPolicy": "Never",
                                      "containers": [{"name": "pi", "image": "perl:5.34"}]}}}}
CLAIM = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
CLAIM_HEADER = ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS"]


@pytest.mark.parametrize("release,job_header,claim_header", [
    ("1.28", ["NAME", "COMPLETIONS", "DURATION", "AGE"], CLAIM_HEADER + ["AGE"]),
    ("1.29", ["NAME", "COMPLETIONS", "DURATION", "AGE"], CLAIM_HEADER + ["VOLUMEATTRIBUTESCLASS", "AGE"]),
    ("1.30", ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], CLAIM_HEADER + ["VOLUMEATTRIBUTESCLASS", "AGE"]),
])
def test_tables_print_what_the_served_release_prints(tmp_path, release, job_header, claim_header):
    """A server of an older release prints that release's columns (Jobs gained STATUS in 1.30, claims
    VOLUMEATTRIBUTESCLASS in 1.29) and describes them in that release's words, not the default's."""
    try:
        kubectl_path(release)
    except FileNotFoundError:
        pytest.skip(f"kubectl {release} is not installed")
    server = ServerProcess(tmp_path / "server", extra_args=("--kubernetes-version", release)).start()
    try:
        api = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
        kubernetes.client.BatchV1Api(api).create_namespaced_job("default", JOB)
        kubernetes.client.CoreV1Api(api).create_namespaced_persistent_volume_claim("default", CLAIM)
        resp = api.rest_client.pool_manager.request(
            "GET", api.configuration.host + "/apis/apps/v1/deployments",
            headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}, timeout=10)
        api.close()
        described = {c["name"]: c["description"] for c in json.loads(resp.data)["columnDefinitions"]}
        jobs, claims = ([line.split() for line in run_kubectl(server.kubeconfig, "get", resource, version=release,
                                                               cache_dir=tmp_path / "cache").stdout.splitlines()]
                        for resource in ("jobs", "pvc"))
    finally:
        server.cleanup()
    assert jobs[0] == job_header and jobs[1][0] == "pi" and len(jobs) == 2
    assert claims[0] == claim_header and claims[1][:2] == ["data", "Pending"] and len(claims) == 2
    up_to_date = "io.k8s.api.apps.v1.DeploymentStatus", "updatedReplicas"
    assert described["Up-to-date"] == tables.Doc(*up_to_date).text(schemas.load(release).definitions)
    assert described["Up-to-date"].startswith("Total number of non-terminated pods targeted by this deployment")
    assert described["Up-to-date"] != tables.Doc(*up_to_date).text(schemas.load().definitions)
