"""The conformance cases of workloads (and of streams), run against a virtual cluster on a host.

Controllers run unchanged in virtual mode: the same cases that pass on a standalone cluster must
pass when the host's kubelets run the pods and the syncer reports them back. (Scheduling and
node cases are left out: in virtual mode the host schedules, and the virtual nodes stand for the
host's, without leases of their own.)
"""
from __future__ import annotations

import os
import subprocess
import sys

MODULES = ("test_deployments.py", "test_replicasets.py", "test_jobs.py", "test_statefulsets.py",
           "test_garbage_collection.py", "test_streaming.py")


def test_workload_conformance_passes_on_a_virtual_cluster(vc1, tmp_path):
    env = {**os.environ, "KUBECONFIG": str(vc1.kubeconfig)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                          *(f"conformance/{m}" for m in MODULES)],
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.splitlines()[-1]
