"""ValidatingAdmissionPolicy: CEL validations bound to requests by ValidatingAdmissionPolicyBindings.

A binding names its policy and how failures are enforced (validationActions Deny, Warn, Audit),
may narrow what it matches (matchResources) and names the parameters (paramRef) of the policy's
paramKind. Each validation that is false is a failure, worded by its messageExpression, its
message or the expression itself; an expression that cannot be evaluated is a failure when the
policy's failurePolicy is Fail. Denials are kube's: 422 Invalid unless the validation gives
another reason, `<resource> "<name>" is forbidden: ValidatingAdmissionPolicy '<p>' with binding
'<b>' denied request: <message>`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from ..chain import Attributes, ValidatingPlugin
from ..status import StatusError
from ..webhooks.matching import is_configuration, resources_match
from ..webhooks.request import admission_request
from .expressions import cel_request, evaluate

# (apiVersion, kind, namespace or None, name or None, label selector or None) -> objects, or None
# when the kind is not served.
Params = Callable[[str, str, str | None, str | None, dict | None], Awaitable[list[dict] | None]]
Configs = Callable[[], list[dict]]
Namespace = Callable[[str], Awaitable[dict | None]]

AUDIT_KEY = "validation.policy.admission.k8s.io/validation_failure"
_CODES = {"Forbidden": 403, "Unauthorized": 401, "RequestEntityTooLarge": 413, "Invalid": 422}


@dataclass
class Failure:
    policy: str
    binding: str
    message: str
    reason: str
    actions: list[str]
    index: int


class ValidatingAdmissionPolicy(ValidatingPlugin):
    name = "ValidatingAdmissionPolicy"

    def __init__(self, policies: Configs, bindings: Configs, namespace: Namespace, params: Params):
        self.policies = policies
        self.bindings = bindings
        self.namespace = namespace
        self.params = params

    async def validate(self, attrs: Attributes) -> None:
        if is_configuration(attrs):
            return
        bindings = self.bindings()
        if not bindings:
            return
        policies = {p["metadata"]["name"]: p for p in self.policies()}
        namespace = await self.namespace(attrs.namespace) if attrs.namespace else None
        request = admission_request(attrs)
        failures: list[Failure] = []
        for binding in sorted(bindings, key=lambda b: b["metadata"]["name"]):
            spec = binding.get("spec") or {}
            policy = policies.get(spec.get("policyName") or "")
            if policy is None:
                continue
            pspec = policy.get("spec") or {}
            if not resources_match(pspec.get("matchConstraints") or {}, attrs, namespace) or \
                    not resources_match(spec.get("matchResources"), attrs, namespace):
                continue
            failures.extend(await self._evaluate(attrs, request, namespace, policy, binding))
        self._enforce(attrs, failures)

    async def _evaluate(self, attrs, request, namespace, policy: dict, binding: dict) -> list[Failure]:
        pspec, bspec = policy.get("spec") or {}, binding.get("spec") or {}
        names = (policy["metadata"]["name"], binding["metadata"]["name"])
        actions = list(bspec.get("validationActions") or [])
        fail = pspec.get("failurePolicy", "Fail") != "Ignore"

        def failure(message: str, reason: str = "Invalid", index: int = 0) -> list[Failure]:
            return [Failure(*names, message, reason, actions, index)] if fail else []

        params: list = [None]
        if pspec.get("paramKind"):
            found = await self._params(pspec["paramKind"], bspec.get("paramRef"), attrs)
            if isinstance(found, str):
                return failure(found)
            if not found:
                if ((bspec.get("paramRef") or {}).get("parameterNotFoundAction") or "Deny") == "Deny":
                    return failure("failed to configure binding: no params found for policy binding with "
                                   "`Deny` parameterNotFoundAction")
                return []
            params = found
        variables = {"object": attrs.object, "oldObject": attrs.old_object, "request": cel_request(request),
                     "namespaceObject": namespace}
        out: list[Failure] = []
        for param in params:
            variables["params"] = param
            conditions = self._conditions(pspec.get("matchConditions"), variables)
            if isinstance(conditions, str):
                out += failure(conditions)
                continue
            if not conditions:
                continue
            variables["variables"] = self._variables(pspec.get("variables"), variables)
            out += self._validations(pspec, variables, names, actions, fail)
            self._audit_annotations(attrs, pspec, variables, names[0])
        return out

    async def _params(self, kind: dict, ref: dict | None, attrs: Attributes) -> list[dict] | str:
        if not ref:
            return "failed to configure binding: paramRef is required when paramKind is set"
        namespace = ref.get("namespace") or attrs.namespace or None
        found = await self.params(str(kind.get("apiVersion") or ""), str(kind.get("kind") or ""), namespace,
                                  ref.get("name"), ref.get("selector"))
        if found is None:
            return f"failed to configure policy: paramKind {kind.get('apiVersion')}, Kind={kind.get('kind')} is not served"
        return found

    @staticmethod
    def _conditions(conditions, variables: dict) -> bool | str:
        for condition in conditions or []:
            result, error = evaluate(str(condition.get("expression") or ""), variables)
            if error:
                return f"failed to evaluate match condition {condition.get('name', '')!r}: {error}"
            if result is not True:
                return False
        return True

    @staticmethod
    def _variables(declared, variables: dict) -> dict:
        """Each variable in order, seeing those before it; one that fails is left out, so the
        expressions using it fail in turn."""
        values: dict = {}
        for var in declared or []:
            result, error = evaluate(str(var.get("expression") or ""), {**variables, "variables": values})
            if not error:
                values[str(var.get("name"))] = result
        return values

    @staticmethod
    def _validations(pspec: dict, variables: dict, names, actions, fail: bool) -> list[Failure]:
        out = []
        for index, rule in enumerate(pspec.get("validations") or []):
            expression = str(rule.get("expression") or "")
            result, error = evaluate(expression, variables)
            if error:
                if fail:
                    out.append(Failure(*names, f"expression '{expression}' resulted in error: {error}",
                                       "Invalid", actions, index))
                continue
            if result is True:
                continue
            message = ""
            if rule.get("messageExpression"):
                text, error = evaluate(str(rule["messageExpression"]), variables)
                if not error and isinstance(text, str) and text.strip() and "\n" not in text.strip():
                    message = text.strip()
            message = message or str(rule.get("message") or "").strip() or f"failed expression: {expression}"
            out.append(Failure(*names, message, str(rule.get("reason") or "Invalid"), actions, index))
        return out

    @staticmethod
    def _audit_annotations(attrs: Attributes, pspec: dict, variables: dict, policy: str) -> None:
        for annotation in pspec.get("auditAnnotations") or []:
            value, error = evaluate(str(annotation.get("valueExpression") or ""), variables)
            if not error and isinstance(value, str):
                attrs.audit_annotations[f"{policy}/{annotation.get('key')}"] = value

    @staticmethod
    def _enforce(attrs: Attributes, failures: list[Failure]) -> None:
        audited = []
        for f in failures:
            if "Warn" in f.actions:
                attrs.warnings.append(f"Validation failed for ValidatingAdmissionPolicy '{f.policy}' with binding "
                                      f"'{f.binding}': {f.message}")
            if "Audit" in f.actions:
                audited.append({"message": f.message, "policy": f.policy, "binding": f.binding,
                                "expressionIndex": f.index, "validationActions": f.actions})
        if audited:
            attrs.audit_annotations[AUDIT_KEY] = orjson.dumps(audited).decode()
        denied = next((f for f in failures if "Deny" in f.actions), None)
        if denied is None:
            return
        message = f"ValidatingAdmissionPolicy '{denied.policy}' with binding '{denied.binding}' denied request: " \
                  f"{denied.message}"
        err: StatusError = attrs.forbidden(message)
        err.reason, err.code = denied.reason, _CODES.get(denied.reason, 422)
        err.details = {**(err.details or {}), "causes": [{"message": message}]}
        raise err
