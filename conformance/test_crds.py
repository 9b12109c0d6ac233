"""CustomResourceDefinitions: served at once, validated, pruned, defaulted, printed, cleaned up."""
from __future__ import annotations

import time
import uuid

import kubernetes
import pytest

from .helpers import expect_status


def crontab_crd(group: str, scope: str = "Namespaced") -> dict:
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "cronSpec": {"type": "string", "pattern": r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$"},
            "image": {"type": "string"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
            "maxReplicas": {"type": "integer", "default": 10},
            "port": {"x-kubernetes-int-or-string": True},
            "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        }, "x-kubernetes-validations": [
            {"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"},
            {"rule": "!has(oldSelf.image) || self.image == oldSelf.image", "message": "image is immutable"},
        ]},
        "status": {"type": "object", "properties": {"replicas": {"type": "integer"},
                                                    "selector": {"type": "string"}}},
    }}
    version = {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema},
               "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                        "statusReplicasPath": ".status.replicas",
                                                        "labelSelectorPath": ".status.selector"}},
               "additionalPrinterColumns": [
                   {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                   {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                   {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"crontabs.{group}"},
            "spec": {"group": group, "scope": scope, "versions": [version],
                     "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab",
                               "shortNames": ["ct"], "categories": ["all"]}}}


@pytest.fixture
def crd(api_client):
    ext = kubernetes.client.ApiextensionsV1Api(api_client)
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    created = ext.create_custom_resource_definition(crontab_crd(group))
    _wait_established(ext, created.metadata.name)
    yield group
    try:
        ext.delete_custom_resource_definition(created.metadata.name)
    except kubernetes.client.ApiException as e:
        if e.status != 404:
            raise


def _wait_established(ext, name, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = ext.read_custom_resource_definition(name).status
        conds = {c.type: c.status for c in ((status and status.conditions) or [])}
        if conds.get("Established") == "True" and conds.get("NamesAccepted") == "True":
            return
        time.sleep(0.05)
    raise AssertionError(f"CRD {name} not established within {timeout}s")


def _objects(api_client):
    return kubernetes.client.CustomObjectsApi(api_client)


def _crontab(name, **spec):
    return {"apiVersion": "v1", "kind": "CronTab", "metadata": {"name": name},
            "spec": {"cronSpec": "* * * * */5", "image": "my-cron-image", **spec}}


def _create(api_client, group, namespace, obj):
    obj = dict(obj, apiVersion=f"{group}/v1")
    return _objects(api_client).create_namespaced_custom_object(group, "v1", namespace, "crontabs", obj)


def test_crd_is_served_and_discoverable(api_client, crd, namespace):
    resources = kubernetes.client.CustomObjectsApi(api_client).get_api_resources(crd, "v1")
    by_name = {r.name: r for r in resources.resources}
    assert by_name["crontabs"].short_names == ["ct"] and by_name["crontabs"].categories == ["all"]
    assert {"crontabs/status", "crontabs/scale"} <= set(by_name)
    made = _create(api_client, crd, namespace, _crontab("first"))
    assert made["metadata"]["uid"] and made["metadata"]["generation"] == 1


def test_defaulting_and_pruning(api_client, crd, namespace):
    made = _create(api_client, crd, namespace, _crontab("d", unknown="x", config={"free": {"form": 1}}))
    assert made["spec"]["replicas"] == 1 and made["spec"]["maxReplicas"] == 10
    assert "unknown" not in made["spec"]
    assert made["spec"]["config"] == {"free": {"form": 1}}


def test_schema_validation(api_client, crd, namespace):
    status = expect_status(lambda: _create(api_client, crd, namespace, _crontab("bad", replicas=50)),
                           422, "Invalid")
    assert any(c["field"] == "spec.replicas" for c in status["details"]["causes"])
    status = expect_status(lambda: _create(api_client, crd, namespace, dict(_crontab("bad2"), spec={
        "cronSpec": "not a cron", "image": "x"})), 422, "Invalid")
    assert "spec.cronSpec" in status["message"]


def test_cel_rules(api_client, crd, namespace):
    status = expect_status(lambda: _create(api_client, crd, namespace, _crontab("cel", replicas=8, maxReplicas=5)),
                           422, "Invalid")
    assert "replicas must not exceed maxReplicas" in status["message"]
    _create(api_client, crd, namespace, _crontab("moving"))
    status = expect_status(lambda: _objects(api_client).patch_namespaced_custom_object(
        crd, "v1", namespace, "crontabs", "moving", {"spec": {"image": "other"}}), 422, "Invalid")
    assert "image is immutable" in status["message"]


def test_status_and_scale_subresources(api_client, crd, namespace):
    objs = _objects(api_client)
    _create(api_client, crd, namespace, _crontab("s", replicas=2))
    objs.patch_namespaced_custom_object_status(crd, "v1", namespace, "crontabs", "s",
                                               {"status": {"replicas": 2, "selector": "app=s"}})
    scale = objs.get_namespaced_custom_object_scale(crd, "v1", namespace, "crontabs", "s")
    assert scale["spec"]["replicas"] == 2 and scale["status"]["selector"] == "app=s"
    objs.patch_namespaced_custom_object_scale(crd, "v1", namespace, "crontabs", "s", {"spec": {"replicas": 4}})
    got = objs.get_namespaced_custom_object(crd, "v1", namespace, "crontabs", "s")
    assert got["spec"]["replicas"] == 4 and got["status"]["replicas"] == 2


def test_name_conflicts_are_refused(api_client, crd):
    ext = kubernetes.client.ApiextensionsV1Api(api_client)
    clash = crontab_crd(crd)
    clash["metadata"]["name"] = f"crontabz.{crd}"
    clash["spec"]["names"].update(plural="crontabz", singular="crontabz", shortNames=["ct"])
    ext.create_custom_resource_definition(clash)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = ext.read_custom_resource_definition(clash["metadata"]["name"]).status
        conds = {c.type: c for c in ((status and status.conditions) or [])}
        if "NamesAccepted" in conds:
            break
        time.sleep(0.05)
    assert conds["NamesAccepted"].status == "False" and conds["Established"].status == "False"
    ext.delete_custom_resource_definition(clash["metadata"]["name"])


def test_non_structural_schema_is_refused(api_client):
    ext = kubernetes.client.ApiextensionsV1Api(api_client)
    bad = crontab_crd("nonstructural.example.com")
    del bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["type"]
    status = expect_status(lambda: ext.create_custom_resource_definition(bad), 422, "Invalid")
    assert "openAPIV3Schema" in status["message"]


def test_deleting_the_crd_deletes_its_objects(api_client, namespace):
    ext = kubernetes.client.ApiextensionsV1Api(api_client)
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    ext.create_custom_resource_definition(crontab_crd(group))
    _wait_established(ext, f"crontabs.{group}")
    _create(api_client, group, namespace, _crontab("doomed"))
    ext.delete_custom_resource_definition(f"crontabs.{group}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            ext.read_custom_resource_definition(f"crontabs.{group}")
        except kubernetes.client.ApiException as e:
            assert e.status == 404
            break
        time.sleep(0.1)
    else:
        raise AssertionError("CRD was never removed")
    expect_status(lambda: _objects(api_client).get_namespaced_custom_object(group, "v1", namespace, "crontabs",
                                                                             "doomed"), 404, "NotFound")


def test_cluster_scoped_crd(api_client):
    ext = kubernetes.client.ApiextensionsV1Api(api_client)
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    ext.create_custom_resource_definition(crontab_crd(group, scope="Cluster"))
    _wait_established(ext, f"crontabs.{group}")
    objs = _objects(api_client)
    objs.create_cluster_custom_object(group, "v1", "crontabs", dict(_crontab("global"), apiVersion=f"{group}/v1"))
    assert objs.get_cluster_custom_object(group, "v1", "crontabs", "global")["spec"]["replicas"] == 1
    ext.delete_custom_resource_definition(f"crontabs.{group}")


def test_kubectl_with_custom_resources(kubectl, crd, namespace, tmp_path):
    manifest = tmp_path / "ct.yaml"
    manifest.write_text(f"apiVersion: {crd}/v1\nkind: CronTab\nmetadata: {{name: nightly}}\n"
                        "spec: {cronSpec: '0 3 * * *', image: backup, replicas: 2}\n")
    for version in ("1.27", "1.33"):
        kubectl("-n", namespace, "apply", "-f", str(manifest), version=version)
        table = kubectl("-n", namespace, "get", f"crontabs.{crd}", version=version).stdout
        header = table.splitlines()[0].split()
        assert header == ["NAME", "SPEC", "REPLICAS", "AGE"], table
        assert "nightly" in table and "0 3 * * *" in table
        every = kubectl("-n", namespace, "get", "all", version=version).stdout
        assert f"crontab.{crd}/nightly" in every
    kubectl("-n", namespace, "scale", f"crontab.{crd}/nightly", "--replicas=3")
    assert "replicas: 3" in kubectl("-n", namespace, "get", f"crontab.{crd}", "nightly", "-o", "yaml").stdout
    explained = kubectl("explain", f"crontabs.{crd}.spec").stdout
    assert "cronSpec" in explained and "replicas" in explained
    assert f"crontabs.{crd}" in kubectl("get", "crd").stdout
    assert "crontabs" in kubectl("api-resources", f"--api-group={crd}").stdout


def test_several_versions_with_none_conversion(api_client, namespace):
    ext = kubernetes.client.ApiextensionsV1Api(api_client)
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    crd = crontab_crd(group)
    v1 = crd["spec"]["versions"][0]
    beta = dict(v1, name="v1beta1", storage=False)
    crd["spec"]["versions"] = [beta, v1]
    ext.create_custom_resource_definition(crd)
    _wait_established(ext, f"crontabs.{group}")
    objs = _objects(api_client)
    objs.create_namespaced_custom_object(group, "v1beta1", namespace, "crontabs",
                                         dict(_crontab("multi"), apiVersion=f"{group}/v1beta1"))
    as_v1 = objs.get_namespaced_custom_object(group, "v1", namespace, "crontabs", "multi")
    as_beta = objs.get_namespaced_custom_object(group, "v1beta1", namespace, "crontabs", "multi")
    assert as_v1["apiVersion"] == f"{group}/v1" and as_beta["apiVersion"] == f"{group}/v1beta1"
    assert as_v1["spec"] == as_beta["spec"]
    assert ext.read_custom_resource_definition(f"crontabs.{group}").status.stored_versions == ["v1"]
    ext.delete_custom_resource_definition(f"crontabs.{group}")


def test_server_side_apply_on_a_custom_resource(kubectl, crd, namespace, tmp_path):
    manifest = tmp_path / "ct.yaml"
    manifest.write_text(f"apiVersion: {crd}/v1\nkind: CronTab\nmetadata: {{name: ssa}}\n"
                        "spec: {cronSpec: '0 3 * * *', image: backup, replicas: 2}\n")
    kubectl("-n", namespace, "apply", "--server-side", "-f", str(manifest))
    kubectl("-n", namespace, "patch", f"crontab.{crd}", "ssa", "--type=merge", "-p", '{"spec":{"replicas":4}}')
    clash = kubectl("-n", namespace, "apply", "--server-side", "-f", str(manifest), check=False)
    assert clash.returncode != 0 and ".spec.replicas" in clash.stderr
    kubectl("-n", namespace, "apply", "--server-side", "--force-conflicts", "-f", str(manifest))
    as_yaml = kubectl("-n", namespace, "get", f"crontab.{crd}", "ssa", "-o", "yaml").stdout
    assert "replicas: 2" in as_yaml and "maxReplicas: 10" in as_yaml  # defaulted, visible to kubectl


def test_garbage_collection_across_custom_resources(api_client, crd, namespace, core):
    owner = _create(api_client, crd, namespace, _crontab("owner"))
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "owned-by-cr", "ownerReferences": [{
        "apiVersion": f"{crd}/v1", "kind": "CronTab", "name": "owner", "uid": owner["metadata"]["uid"]}]}})
    _objects(api_client).delete_namespaced_custom_object(crd, "v1", namespace, "crontabs", "owner")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            core.read_namespaced_config_map("owned-by-cr", namespace)
        except kubernetes.client.ApiException as e:
            assert e.status == 404
            return
        time.sleep(0.1)
    raise AssertionError("the custom resource's dependent was never collected")
