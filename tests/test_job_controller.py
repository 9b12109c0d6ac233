"""The Job controller end to end: a real server, the official client, and the test playing
kubelet (pod status written through pods/status, as a kubelet writes it)."""
from __future__ import annotations

import threading
import time
import uuid

import kubernetes
import pytest

from conformance.kubelet import terminated_status
from conformance.played_kubelet import PLAYED_NODE
from vapi.testing import ServerProcess, run_kubectl

TRACKING = "batch.kubernetes.io/job-tracking"


@pytest.fixture(scope="module")
def server(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("VAPI_JOB_BACKOFF_SECONDS", "0.2")
    # The test is the kubelet of a node that does not exist: pod GC must not take its pods away
    # (kube's quarantine for a missing node is the node-monitor grace period, 40 s).
    with ServerProcess(tmp_path_factory.mktemp("jobs"), extra_args=("--node-monitor-grace-period", "1h")) as srv:
        yield srv


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def client(server):
    api = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    yield api
    api.close()


@pytest.fixture
def ns(client):
    core = kubernetes.client.CoreV1Api(client)
    name = f"j-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    return name


def job_body(name, **spec):
    # Bound to a node no kubelet owns: the test is the kubelet.
    template = {"spec": {"restartPolicy": "Never", "nodeName": PLAYED_NODE,
                         "containers": [{"name": "main", "image": "busybox"}]}}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": template, **spec}}


def finish(core, ns, pod, code=0):
    """What a kubelet writes when the pod's container exits."""
    name = pod.metadata.name if hasattr(pod, "metadata") else pod["metadata"]["name"]
    core.patch_namespaced_pod_status(name, ns, {"status": terminated_status("main", "busybox", code)})


def pods_of(core, ns, job):
    return core.list_namespaced_pod(ns, label_selector=f"batch.kubernetes.io/job-name={job}").items


def wait_for(what, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = what()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def conditions(batch, ns, name):
    job = batch.read_namespaced_job_status(name, ns)
    return [(c.type, c.status, c.reason, c.message) for c in (job.status and job.status.conditions) or []], job


def active_pods(pods):
    return [p for p in pods if p.status.phase not in ("Succeeded", "Failed") and not p.metadata.deletion_timestamp]


def test_completions_5_parallelism_2_never_more_than_2_active(client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    most = [0]
    running: dict[str, bool] = {}

    def watch():
        try:
            for event in kubernetes.watch.Watch().stream(core.list_namespaced_pod, ns, timeout_seconds=30):
                pod = event["object"]
                running[pod.metadata.name] = event["type"] != "DELETED" and \
                    pod.status.phase not in ("Succeeded", "Failed")
                most[0] = max(most[0], sum(running.values()))
        except Exception:  # noqa: BLE001 - the stream ends with the server at teardown
            pass
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(0.3)
    batch.create_namespaced_job(ns, job_body("five", completions=5, parallelism=2))
    done = 0
    while done < 5:
        pods = wait_for(lambda: active_pods(pods_of(core, ns, "five")))
        assert len(pods) <= 2
        for pod in pods:
            assert TRACKING in pod.metadata.finalizers
            assert pod.metadata.labels["batch.kubernetes.io/controller-uid"]
            assert pod.metadata.labels["job-name"] == "five"
            finish(core, ns, pod)
            done += 1
    conds, job = wait_for(lambda: (c := conditions(batch, ns, "five"))[0][-1:] and
                          c[0][-1][0] == "Complete" and c)
    assert [c[:2] for c in conds] == [("SuccessCriteriaMet", "True"), ("Complete", "True")]
    assert conds[0][2:] == ("CompletionsReached", "Reached expected number of succeeded pods")
    assert job.status.succeeded == 5 and not job.status.failed and job.status.active in (0, None)
    assert job.status.completion_time and job.status.start_time
    assert not (job.status.uncounted_terminated_pods.succeeded or [])
    # Counted pods lose their finalizer; exactly five were ever created.
    pods = wait_for(lambda: (ps := pods_of(core, ns, "five")) and
                    all(TRACKING not in (p.metadata.finalizers or []) for p in ps) and ps)
    assert len(pods) == 5
    watcher.join(1)
    assert most[0] <= 2
    reasons = {(e.reason, e.message) for e in core.list_namespaced_event(ns).items}
    assert ("Completed", "Job completed") in reasons
    assert any(r == "SuccessfulCreate" and m.startswith("Created pod: five-") for r, m in reasons)


def test_failing_job_stops_at_its_backoff_limit(server, client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    batch.create_namespaced_job(ns, job_body("fails", backoffLimit=2))
    for _ in range(3):
        pod = wait_for(lambda: active_pods(pods_of(core, ns, "fails")))[0]
        finish(core, ns, pod, code=1)
    conds, job = wait_for(lambda: (c := conditions(batch, ns, "fails"))[0][-1:] and
                          c[0][-1][0] == "Failed" and c)
    assert conds == [("FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                     ("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]
    assert job.status.failed == 3 and not job.status.succeeded
    time.sleep(0.5)
    assert len(pods_of(core, ns, "fails")) == 3   # no fourth attempt
    events = {(e.type, e.reason, e.message) for e in core.list_namespaced_event(ns).items}
    assert ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit") in events
    out = run_kubectl(server.kubeconfig, "get", "job", "fails", "-n", ns)
    assert "Failed" in out.stdout


def test_indexed_job(client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    batch.create_namespaced_job(ns, job_body("idx", completions=3, parallelism=3, completionMode="Indexed"))
    pods = wait_for(lambda: len(ps := active_pods(pods_of(core, ns, "idx"))) == 3 and ps)
    by_index = {p.metadata.annotations["batch.kubernetes.io/job-completion-index"]: p for p in pods}
    assert sorted(by_index) == ["0", "1", "2"]
    for index, pod in by_index.items():
        assert pod.metadata.labels["batch.kubernetes.io/job-completion-index"] == index
        assert pod.spec.hostname == f"idx-{index}"
        assert pod.metadata.name.startswith(f"idx-{index}-")
        env = {e.name: e.value_from.field_ref.field_path for e in pod.spec.containers[0].env}
        assert env["JOB_COMPLETION_INDEX"] == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    finish(core, ns, by_index["0"])
    finish(core, ns, by_index["2"])
    wait_for(lambda: batch.read_namespaced_job_status("idx", ns).status.completed_indexes == "0,2")
    finish(core, ns, by_index["1"], code=1)      # index 1 fails and is run again
    again = wait_for(lambda: active_pods(pods_of(core, ns, "idx")))
    assert [p.metadata.annotations["batch.kubernetes.io/job-completion-index"] for p in again] == ["1"]
    finish(core, ns, again[0])
    job = wait_for(lambda: (j := batch.read_namespaced_job_status("idx", ns)).status.completion_time and j)
    assert job.status.completed_indexes == "0-2" and job.status.succeeded == 3 and job.status.failed == 1


def test_suspend_and_resume(client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    batch.create_namespaced_job(ns, job_body("sus", suspend=True, parallelism=2, completions=2))
    conds, job = wait_for(lambda: (c := conditions(batch, ns, "sus"))[0] and c)
    assert conds == [("Suspended", "True", "JobSuspended", "Job suspended")]
    assert job.status.start_time is None and pods_of(core, ns, "sus") == []
    batch.patch_namespaced_job("sus", ns, {"spec": {"suspend": False}})
    pods = wait_for(lambda: len(ps := active_pods(pods_of(core, ns, "sus"))) == 2 and ps)
    conds, job = conditions(batch, ns, "sus")
    assert conds == [("Suspended", "False", "JobResumed", "Job resumed")] and job.status.start_time
    batch.patch_namespaced_job("sus", ns, {"spec": {"suspend": True}})
    wait_for(lambda: not active_pods(pods_of(core, ns, "sus")))
    conds, job = wait_for(lambda: (c := conditions(batch, ns, "sus"))[0][0][1] == "True" and c)
    assert conds == [("Suspended", "True", "JobSuspended", "Job suspended")]
    assert not job.status.failed       # pods removed by suspension are no failures
    events = [(e.reason, e.message) for e in core.list_namespaced_event(ns).items]
    assert ("Resumed", "Job resumed") in events and ("Suspended", "Job suspended") in events
    assert any(r == "SuccessfulDelete" for r, _ in events)
    del pods


def test_pod_failure_policy_fails_the_job_at_once(client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    policy = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}},
                        {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In",
                                                              "values": [42]}}]}
    batch.create_namespaced_job(ns, job_body("pfp", backoffLimit=6, podFailurePolicy=policy))
    pod = wait_for(lambda: active_pods(pods_of(core, ns, "pfp")))[0]
    finish(core, ns, pod, code=3)            # ignored: not counted, replaced
    pod = wait_for(lambda: active_pods(pods_of(core, ns, "pfp")))[0]
    finish(core, ns, pod, code=42)
    conds, job = wait_for(lambda: (c := conditions(batch, ns, "pfp"))[0][-1:] and c[0][-1][0] == "Failed" and c)
    message = f"Container main for pod {ns}/{pod.metadata.name} failed with exit code 42 matching FailJob rule at index 1"
    assert conds == [("FailureTarget", "True", "PodFailurePolicy", message), ("Failed", "True", "PodFailurePolicy", message)]
    assert job.status.failed == 1


def test_active_deadline(client, ns):
    batch = kubernetes.client.BatchV1Api(client)
    batch.create_namespaced_job(ns, job_body("late", activeDeadlineSeconds=1))
    conds, job = wait_for(lambda: (c := conditions(batch, ns, "late"))[0][-1:] and c[0][-1][0] == "Failed" and c)
    assert conds[-1] == ("Failed", "True", "DeadlineExceeded", "Job was active longer than specified deadline")


def test_ttl_after_finished_deletes_the_job_and_its_pods(client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    batch.create_namespaced_job(ns, job_body("ttl", ttlSecondsAfterFinished=1))
    finish(core, ns, wait_for(lambda: active_pods(pods_of(core, ns, "ttl")))[0])
    wait_for(lambda: batch.read_namespaced_job("ttl", ns).status.completion_time)

    def gone():
        try:
            batch.read_namespaced_job("ttl", ns)
        except kubernetes.client.ApiException as e:
            return e.status == 404
        return False
    wait_for(gone, timeout=15)
    wait_for(lambda: pods_of(core, ns, "ttl") == [], timeout=15)


def test_kubectl_create_job_from_cronjob(server, client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    template = {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "nodeName": PLAYED_NODE,
                                               "containers": [{"name": "main", "image": "busybox"}]}}}}
    batch.create_namespaced_cron_job(ns, {"metadata": {"name": "nightly"},
                                          "spec": {"schedule": "0 3 * * *", "jobTemplate": template}})
    out = run_kubectl(server.kubeconfig, "create", "job", "now", "--from=cronjob/nightly", "-n", ns)
    assert out.stdout.strip() == "job.batch/now created"
    job = batch.read_namespaced_job("now", ns)
    assert job.metadata.annotations["cronjob.kubernetes.io/instantiate"] == "manual"
    assert job.metadata.owner_references[0].kind == "CronJob"
    finish(core, ns, wait_for(lambda: active_pods(pods_of(core, ns, "now")))[0])
    wait_for(lambda: batch.read_namespaced_job("now", ns).status.completion_time)
    out = run_kubectl(server.kubeconfig, "get", "job", "now", "-n", ns)
    assert "Complete" in out.stdout and "1/1" in out.stdout


@pytest.mark.slow
def test_a_real_one_minute_schedule(server, client, ns):
    """The only slow case: a CronJob on `*/1 * * * *` makes a Job within a minute of real time."""
    batch = kubernetes.client.BatchV1Api(client)
    template = {"spec": {"template": {"spec": {"restartPolicy": "Never",
                                               "containers": [{"name": "main", "image": "busybox"}]}}}}
    batch.create_namespaced_cron_job(ns, {"metadata": {"name": "minutely"},
                                          "spec": {"schedule": "*/1 * * * *", "jobTemplate": template}})
    jobs = wait_for(lambda: batch.list_namespaced_job(ns).items, timeout=75, interval=0.5)
    job = jobs[0]
    scheduled = job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    minute = int(time.mktime(time.strptime(scheduled, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone) // 60
    assert job.metadata.name == f"minutely-{minute}"
    cron = wait_for(lambda: (c := batch.read_namespaced_cron_job("minutely", ns)).status.active and c)
    assert cron.status.active[0].name == job.metadata.name
    assert cron.status.last_schedule_time.strftime("%Y-%m-%dT%H:%M:%SZ") == scheduled


def test_backoff_limit_per_index(client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    batch.create_namespaced_job(ns, job_body("per", completions=3, parallelism=3, completionMode="Indexed",
                                             backoffLimitPerIndex=1))
    index_of = lambda p: p.metadata.annotations["batch.kubernetes.io/job-completion-index"]  # noqa: E731
    pods = wait_for(lambda: len(ps := active_pods(pods_of(core, ns, "per"))) == 3 and ps)
    assert {p.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] for p in pods} == {"0"}
    for pod in pods:
        finish(core, ns, pod, code=1 if index_of(pod) == "1" else 0)
    retry = wait_for(lambda: active_pods(pods_of(core, ns, "per")))
    assert [index_of(p) for p in retry] == ["1"]
    assert retry[0].metadata.annotations["batch.kubernetes.io/job-index-failure-count"] == "1"
    finish(core, ns, retry[0], code=1)
    conds, job = wait_for(lambda: (c := conditions(batch, ns, "per"))[0][-1:] and c[0][-1][0] == "Failed" and c)
    assert conds[-1] == ("Failed", "True", "FailedIndexes", "Job has failed indexes")
    assert job.status.failed_indexes == "1" and job.status.completed_indexes == "0,2" and job.status.failed == 2


def test_max_failed_indexes(client, ns):
    core, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.BatchV1Api(client)
    batch.create_namespaced_job(ns, job_body("maxf", completions=4, parallelism=1, completionMode="Indexed",
                                             backoffLimitPerIndex=0, maxFailedIndexes=0))
    finish(core, ns, wait_for(lambda: active_pods(pods_of(core, ns, "maxf")))[0], code=1)
    conds, job = wait_for(lambda: (c := conditions(batch, ns, "maxf"))[0][-1:] and c[0][-1][0] == "Failed" and c)
    assert conds == [("FailureTarget", "True", "MaxFailedIndexesExceeded",
                      "Job has exceeded the specified maximal number of failed indexes"),
                     ("Failed", "True", "MaxFailedIndexesExceeded",
                      "Job has exceeded the specified maximal number of failed indexes")]
    assert job.status.failed_indexes == "0" and job.status.failed == 1


def test_releases_before_1_31_finish_without_interim_conditions(tmp_path):
    with ServerProcess(tmp_path, extra_args=("--kubernetes-version", "1.28")) as srv:
        api = kubernetes.config.new_client_from_config(config_file=str(srv.kubeconfig))
        core, batch = kubernetes.client.CoreV1Api(api), kubernetes.client.BatchV1Api(api)
        batch.create_namespaced_job("default", job_body("old"))
        finish(core, "default", wait_for(lambda: active_pods(pods_of(core, "default", "old")))[0])
        conds, job = wait_for(lambda: (c := conditions(batch, "default", "old"))[0] and c)
        assert conds == [("Complete", "True", None, None)]
        assert job.status.terminating is None and job.status.ready == 0
        api.close()
