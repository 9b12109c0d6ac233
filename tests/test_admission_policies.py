"""ValidatingAdmissionPolicy and its bindings on a real server: denials in kube's words (as
kubectl shows them), Warn and Audit actions, messageExpression and reason, variables, params, and
expressions that do not compile refused when the policy is written."""
from __future__ import annotations

import json
import os
import uuid

import kubernetes
import pytest

from conformance.helpers import eventually, expect_status, raw
from vapi.testing import ServerProcess

REG = "admissionregistration.k8s.io/v1"


@pytest.fixture
def policies(api_client):
    """policy(spec) / bind(policy, namespace, actions, **spec): written now, deleted after the case."""
    api = kubernetes.client.AdmissionregistrationV1Api(api_client)
    made: list[tuple[str, str]] = []

    class Policies:
        def policy(self, validations: list[dict], **spec) -> str:
            name = f"p-{uuid.uuid4().hex[:8]}"
            api.create_validating_admission_policy({"apiVersion": REG, "kind": "ValidatingAdmissionPolicy",
                                                    "metadata": {"name": name}, "spec": {
                "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                        "operations": ["CREATE", "UPDATE"],
                                                        "resources": ["configmaps"]}]},
                "validations": validations, **spec}})
            made.append(("policy", name))
            return name

        def bind(self, policy: str, namespace: str, actions: list[str], **spec) -> str:
            name = f"b-{uuid.uuid4().hex[:8]}"
            api.create_validating_admission_policy_binding({
                "apiVersion": REG, "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": name},
                "spec": {"policyName": policy, "validationActions": actions, "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}, **spec}})
            made.append(("binding", name))
            return name
    Policies.api = api
    yield Policies()
    for kind, name in reversed(made):
        (api.delete_validating_admission_policy_binding if kind == "binding"
         else api.delete_validating_admission_policy)(name)


def cm(name: str, data: dict | None = None, labels: dict | None = None) -> dict:
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data or {}}


def refused(core, namespace: str, data: dict, code: int = 422) -> dict:
    """Creates ConfigMaps with `data` until one is refused (a new binding takes a moment to reach the
    plugin's cache); the Status."""
    def attempt():
        try:
            core.create_namespaced_config_map(namespace, cm(f"probe-{uuid.uuid4().hex[:6]}", data))
        except kubernetes.client.ApiException as e:
            assert e.status == code, e.body
            return json.loads(e.body)
        return None
    status = eventually(attempt, timeout=10)
    assert status, "the policy never took effect"
    return status


def test_policy_denies_with_its_message(core, namespace, policies, kubectl):
    p = policies.policy([{"expression": "size(object.data) <= 1", "message": "at most one key"}])
    b = policies.bind(p, namespace, ["Deny"])
    status = refused(core, namespace, {"a": "1", "b": "2"})
    why = f"ValidatingAdmissionPolicy '{p}' with binding '{b}' denied request: at most one key"
    name = status["details"]["name"]
    assert status["message"] == f'configmaps "{name}" is forbidden: {why}'
    assert (status["reason"], status["code"]) == ("Invalid", 422)
    assert status["details"] == {"name": name, "kind": "configmaps", "causes": [{"message": why}]}
    out = kubectl("-n", namespace, "create", "configmap", "big", "--from-literal=a=1", "--from-literal=b=2",
                  check=False)
    assert out.returncode != 0
    assert f'configmaps "big" is forbidden: ValidatingAdmissionPolicy \'{p}\' with binding \'{b}\' denied request: ' \
           "at most one key" in out.stderr
    core.create_namespaced_config_map(namespace, cm("small", {"a": "1"}))
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items
            if c.metadata.name.startswith(("big", "probe"))] == []


def test_warn_action_gives_a_warning_and_lets_the_write_through(core, namespace, policies, kubectl):
    p = policies.policy([{"expression": "!('forbidden' in object.data)",
                          "messageExpression": "'key forbidden is set in ' + object.metadata.name"}])
    b = policies.bind(p, namespace, ["Warn", "Audit"])
    expected = f"Warning: Validation failed for ValidatingAdmissionPolicy '{p}' with binding '{b}': key forbidden is set in"
    assert eventually(lambda: expected in kubectl("-n", namespace, "create", "configmap", f"w{uuid.uuid4().hex[:6]}",
                                                  "--from-literal=forbidden=1").stderr, timeout=10)
    out = kubectl("-n", namespace, "create", "configmap", "warned", "--from-literal=forbidden=1")
    assert f"{expected} warned" in out.stderr
    assert core.read_namespaced_config_map("warned", namespace).data == {"forbidden": "1"}


def test_reason_failed_expression_and_variables(core, namespace, policies):
    p = policies.policy([{"expression": "variables.keys <= 2", "reason": "Forbidden"}],
                        variables=[{"name": "keys", "expression": "size(object.data)"}])
    b = policies.bind(p, namespace, ["Deny"])
    status = refused(core, namespace, {"a": "1", "b": "2", "c": "3"}, 403)
    assert status["reason"] == "Forbidden"
    assert status["message"].endswith(f"ValidatingAdmissionPolicy '{p}' with binding '{b}' denied request: "
                                      "failed expression: variables.keys <= 2")


def test_params_from_a_config_map(core, namespace, policies):
    p = policies.policy([{"expression": "size(object.data) <= int(params.data.max)",
                          "messageExpression": "'at most ' + params.data.max + ' keys'"}],
                        paramKind={"apiVersion": "v1", "kind": "ConfigMap"})
    core.create_namespaced_config_map(namespace, cm("limits", {"max": "2"}))
    b = policies.bind(p, namespace, ["Deny"], paramRef={"name": "limits", "namespace": namespace,
                                                        "parameterNotFoundAction": "Deny"})
    status = refused(core, namespace, {"a": "1", "b": "2", "c": "3"})
    assert status["message"].endswith(f"with binding '{b}' denied request: at most 2 keys")
    core.create_namespaced_config_map(namespace, cm("two", {"a": "1", "b": "2"}))
    core.delete_namespaced_config_map("limits", namespace)
    status = refused(core, namespace, {})
    assert status["message"].endswith("denied request: failed to configure binding: no params found for policy "
                                      "binding with `Deny` parameterNotFoundAction")


def test_expressions_that_do_not_compile_are_refused(policies):
    body = {"apiVersion": REG, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "broken"}, "spec": {
        "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                                "resources": ["configmaps"]}]},
        "validations": [{"expression": "object.data.size( > 1"}]}}
    status = expect_status(lambda: policies.api.create_validating_admission_policy(body), 422, "Invalid")
    assert status["message"].startswith('ValidatingAdmissionPolicy.admissionregistration.k8s.io "broken" is invalid: '
                                        'spec.validations[0].expression: Invalid value: "object.data.size( > 1": '
                                        "compilation failed: ERROR: <input>:1:")
    binding = {"apiVersion": REG, "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "nothing"},
               "spec": {"policyName": "x", "validationActions": []}}
    status = expect_status(lambda: policies.api.create_validating_admission_policy_binding(binding), 422, "Invalid")
    assert "spec.validationActions: Required value: at least one validation action is required" in status["message"]


# --- MutatingAdmissionPolicy (served from Kubernetes 1.36) ------------------------------------

@pytest.fixture(scope="module")
def server_136(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("vapi-136"), extra_args=("--kubernetes-version", "1.36")).start()
    client = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    yield client
    client.close()
    server.stop()


def test_mutating_admission_policy_only_where_served(api_client, server_136):
    def served(client):
        return raw(client, "GET", "/apis/admissionregistration.k8s.io/v1")[1]
    names = {r["name"] for r in served(server_136)["resources"]}
    assert {"mutatingadmissionpolicies", "mutatingadmissionpolicybindings"} <= names
    if not os.environ.get("KUBECONFIG"):  # the shared server runs the default release, 1.33
        assert "mutatingadmissionpolicies" not in {r["name"] for r in served(api_client)["resources"]}


def test_mutating_admission_policy_applies_and_patches(server_136):
    client = server_136
    core = kubernetes.client.CoreV1Api(client)
    objects = kubernetes.client.CustomObjectsApi(client)
    group, version = "admissionregistration.k8s.io", "v1"
    rules = {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                "resources": ["configmaps"]}]}
    objects.create_cluster_custom_object(group, version, "mutatingadmissionpolicies", {
        "apiVersion": f"{group}/{version}", "kind": "MutatingAdmissionPolicy", "metadata": {"name": "label"},
        "spec": {"matchConstraints": rules, "variables": [{"name": "owner", "expression": "'team-' + object.metadata.name"}],
                 "mutations": [
                     {"patchType": "ApplyConfiguration", "applyConfiguration": {
                         "expression": "Object{metadata: Object.metadata{labels: {'owner': variables.owner}}}"}},
                     {"patchType": "JSONPatch", "jsonPatch": {
                         "expression": "[JSONPatch{op: 'add', path: '/data/stamped', value: 'yes'}]"}}]}})
    objects.create_cluster_custom_object(group, version, "mutatingadmissionpolicybindings", {
        "apiVersion": f"{group}/{version}", "kind": "MutatingAdmissionPolicyBinding", "metadata": {"name": "label"},
        "spec": {"policyName": "label", "matchResources": {"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "default"}}}}})
    policy = objects.get_cluster_custom_object(group, version, "mutatingadmissionpolicies", "label")
    assert (policy["spec"]["failurePolicy"], policy["spec"]["reinvocationPolicy"]) == ("Fail", "Never")

    def mutated():
        name = f"m{uuid.uuid4().hex[:6]}"
        made = core.create_namespaced_config_map("default", cm(name, {"a": "1"}, {"app": "x"}))
        return made if made.metadata.labels.get("owner") else None
    made = eventually(mutated, timeout=10)
    assert made, "the policy never took effect"
    assert made.metadata.labels == {"app": "x", "owner": f"team-{made.metadata.name}"}
    assert made.data == {"a": "1", "stamped": "yes"}
    broken = {"apiVersion": f"{group}/{version}", "kind": "MutatingAdmissionPolicy", "metadata": {"name": "broken"},
              "spec": {"matchConstraints": rules, "mutations": [{"patchType": "JSONPatch", "jsonPatch": {
                  "expression": "[JSONPatch{op: 'add',"}}]}}
    status = expect_status(lambda: objects.create_cluster_custom_object(group, version, "mutatingadmissionpolicies",
                                                                        broken), 422, "Invalid")
    assert "spec.mutations[0].jsonPatch.expression: Invalid value:" in status["message"]
    assert "compilation failed: ERROR: <input>:1:" in status["message"]
