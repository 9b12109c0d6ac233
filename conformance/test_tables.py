"""Table answers, what `kubectl get` asks for: the columns the cluster's own release prints."""
from __future__ import annotations

import json

from .helpers import raw

TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
       "spec": {"template": {"spec": {"restartPolicy": "Never",
                                      "containers": [{"name": "pi", "image": "perl:5.34"}]}}}}
CLAIM = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
         # No class: no provisioner binds it, on any cluster.
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                  "storageClassName": ""}}


def served_minor(api_client) -> int:
    _, version = raw(api_client, "GET", "/version")
    return int(version["minor"].rstrip("+"))


def table(api_client, path: str) -> tuple[list[str], list[dict]]:
    status, body = raw(api_client, "GET", path, headers=TABLE)
    assert status == 200 and body["kind"] == "Table", body
    for row in body["rows"]:
        assert len(row["cells"]) == len(body["columnDefinitions"])
    return [c["name"] for c in body["columnDefinitions"]], body["rows"]


def test_job_and_claim_columns_follow_the_release(api_client, namespace):
    """Jobs print STATUS from 1.30 on, claims VolumeAttributesClass from 1.29 on."""
    for path, obj in ((f"/apis/batch/v1/namespaces/{namespace}/jobs", JOB),
                      (f"/api/v1/namespaces/{namespace}/persistentvolumeclaims", CLAIM)):
        status, body = raw(api_client, "POST", path, json.dumps(obj))
        assert status == 201, body
    minor = served_minor(api_client)
    columns, rows = table(api_client, f"/apis/batch/v1/namespaces/{namespace}/jobs")
    assert columns[:4] == (["Name", "Status", "Completions", "Duration"] if minor >= 30 else
                           ["Name", "Completions", "Duration", "Age"])
    assert [row["cells"][0] for row in rows] == ["pi"]
    columns, rows = table(api_client, f"/api/v1/namespaces/{namespace}/persistentvolumeclaims")
    assert columns[:6] == ["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass"]
    assert ("VolumeAttributesClass" in columns) == (minor >= 29)
    assert [row["cells"][:2] for row in rows] == [["data", "Pending"]]
