"""Jobs run to completion (the upstream [sig-apps] Job cases classed CONTROLLERS): pods per
parallelism, Indexed completion with hostnames, the lifecycle through suspend and resume, a
success policy, status writes, and deletion taking the pods along. Pods end through
`played_kubelet`: run by the cluster's kubelets when it has nodes, played by the case otherwise.
"""
from __future__ import annotations

import kubernetes
import pytest

from .helpers import eventually
from .played_kubelet import exits, pod_template

INDEX = "batch.kubernetes.io/job-completion-index"


@pytest.fixture
def batch(api_client):
    return kubernetes.client.BatchV1Api(api_client)


def _job(name, template, **spec):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": template, **spec}}


def _pods(core, namespace, job):
    return core.list_namespaced_pod(namespace, label_selector=f"batch.kubernetes.io/job-name={job}").items


def _running(core, namespace, job):
    return [p for p in _pods(core, namespace, job)
            if p.status.phase not in ("Succeeded", "Failed") and not p.metadata.deletion_timestamp]


def _conditions(batch, namespace, name):
    job = batch.read_namespaced_job_status(name, namespace)
    return [(c.type, c.status, c.reason) for c in (job.status and job.status.conditions) or []]


def _complete(batch, namespace, name, timeout=60):
    return eventually(lambda: ("Complete", "True") in [c[:2] for c in _conditions(batch, namespace, name)], timeout)


def test_job_should_delete_a_job(core, batch, namespace):
    template = pod_template(core)
    template["spec"]["containers"][0]["command"] = ["sleep", "1000000"]
    batch.create_namespaced_job(namespace, _job("foo", template, parallelism=2, completions=4))
    assert eventually(lambda: len(_running(core, namespace, "foo")) == 2)
    assert eventually(lambda: getattr(batch.read_namespaced_job("foo", namespace).status, "active", None) == 2)
    batch.delete_namespaced_job("foo", namespace, propagation_policy="Background")
    assert eventually(lambda: _pods(core, namespace, "foo") == [], 60)


def test_indexed_job_completion_indexes_and_hostnames(core, batch, namespace):
    batch.create_namespaced_job(namespace, _job("indexed-job", pod_template(core), parallelism=2, completions=4,
                                                completionMode="Indexed"))
    seen = {}
    while len(seen) < 4:
        # (A cluster's kubelet may have run a pod to its end already: finished ones count too.)
        pods = eventually(lambda: [p for p in _pods(core, namespace, "indexed-job")
                                   if p.metadata.name not in seen and p.status.phase != "Failed"
                                   and not p.metadata.deletion_timestamp])
        assert pods, "the next indexes were not started"
        for pod in pods:
            index = pod.metadata.annotations[INDEX]
            assert pod.spec.hostname == f"indexed-job-{index}"
            seen[pod.metadata.name] = int(index)
            exits(core, namespace, pod)
    assert sorted(seen.values()) == [0, 1, 2, 3]
    assert _complete(batch, namespace, "indexed-job")
    job = batch.read_namespaced_job_status("indexed-job", namespace)
    assert job.status.completed_indexes == "0-3" and job.status.succeeded == 4


def test_job_lifecycle_suspended_then_resumed_to_completion(core, batch, namespace):
    job = _job("e2e-lifecycle", pod_template(core), suspend=True, parallelism=1, completions=1)
    job["metadata"]["labels"] = {"e2e-job-label": "e2e-lifecycle"}
    batch.create_namespaced_job(namespace, job)
    assert eventually(lambda: ("Suspended", "True", "JobSuspended") in _conditions(batch, namespace, "e2e-lifecycle"))
    assert _pods(core, namespace, "e2e-lifecycle") == []
    before = batch.read_namespaced_job("e2e-lifecycle", namespace).metadata.resource_version
    patched = batch.patch_namespaced_job("e2e-lifecycle", namespace, {"metadata": {"labels": {"e2e-patched": "yes"}}})
    assert int(patched.metadata.resource_version) > int(before)
    current = batch.read_namespaced_job("e2e-lifecycle", namespace)
    current.spec.suspend = False
    batch.replace_namespaced_job("e2e-lifecycle", namespace, current)
    pod = eventually(lambda: _running(core, namespace, "e2e-lifecycle"))[0]
    assert eventually(lambda: ("Suspended", "False", "JobResumed") in _conditions(batch, namespace, "e2e-lifecycle"))
    exits(core, namespace, pod)
    assert _complete(batch, namespace, "e2e-lifecycle")
    batch.delete_collection_namespaced_job(namespace, label_selector="e2e-job-label=e2e-lifecycle",
                                           propagation_policy="Background")
    assert eventually(lambda: batch.list_namespaced_job(namespace).items == [])


def test_success_policy_when_all_indexes_succeeded(core, batch, namespace):
    batch.create_namespaced_job(namespace, _job("with-success-policy", pod_template(core), parallelism=2,
                                                completions=2, completionMode="Indexed",
                                                successPolicy={"rules": [{"succeededCount": 2}]}))
    pods = eventually(lambda: len(p := _running(core, namespace, "with-success-policy")) == 2 and p)
    for pod in pods:
        exits(core, namespace, pod)
    assert _complete(batch, namespace, "with-success-policy")
    assert [c for c in _conditions(batch, namespace, "with-success-policy") if c[0] != "Suspended"] == [
        ("SuccessCriteriaMet", "True", "SuccessPolicy"), ("Complete", "True", "SuccessPolicy")]


def test_job_status_can_be_patched_and_updated(core, batch, namespace):
    template = pod_template(core)
    template["spec"]["containers"][0]["command"] = ["sleep", "1000000"]
    batch.create_namespaced_job(namespace, _job("e2e-status", template, parallelism=2))
    assert eventually(lambda: (batch.read_namespaced_job_status("e2e-status", namespace).status or {}) and
                      batch.read_namespaced_job_status("e2e-status", namespace).status.start_time)
    patched = batch.patch_namespaced_job_status("e2e-status", namespace, {
        "status": {"conditions": [{"type": "StatusPatched", "status": "True", "message": "patched"}]}})
    assert ("StatusPatched", "True") in [(c.type, c.status) for c in patched.status.conditions]
    job = batch.read_namespaced_job_status("e2e-status", namespace)
    job.status.conditions = [c for c in job.status.conditions if c.type != "StatusPatched"] + [
        kubernetes.client.V1JobCondition(type="StatusUpdated", status="True", message="updated")]
    updated = batch.replace_namespaced_job_status("e2e-status", namespace, job)
    assert ("StatusUpdated", "True") in [(c.type, c.status) for c in updated.status.conditions]


def test_job_stops_when_failed_indexes_exceed_max_failed_indexes(core, batch, namespace):
    batch.create_namespaced_job(namespace, _job("with-max-failed", pod_template(core, exit_code=1), parallelism=1,
                                                completions=4, completionMode="Indexed", backoffLimitPerIndex=0,
                                                maxFailedIndexes=0))
    pod = eventually(lambda: _running(core, namespace, "with-max-failed"))[0]
    exits(core, namespace, pod, code=1)
    assert eventually(lambda: ("Failed", "True", "MaxFailedIndexesExceeded")
                      in _conditions(batch, namespace, "with-max-failed"), 60)
    job = batch.read_namespaced_job_status("with-max-failed", namespace)
    assert job.status.failed_indexes == "0" and job.status.failed == 1
