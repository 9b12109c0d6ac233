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

from dataclasses import dataclass

import orjson

from ..chain import Attributes, ValidatingPlugin
from ..status import StatusError
from ..webhooks.request import admission_request
from .bindings import BoundPolicies, computed_variables, conditions_hold, params_for
from .expressions import cel_request, evaluate

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


class ValidatingAdmissionPolicy(BoundPolicies, ValidatingPlugin):
    name = "ValidatingAdmissionPolicy"

    async def validate(self, attrs: Attributes) -> None:
        namespace, pairs = await self.matched(attrs)
        if not pairs:
            return
        request = admission_request(attrs)
        failures: list[Failure] = []
        for policy, binding in pairs:
            failures.extend(await self._evaluate(attrs, request, namespace, policy, binding))
        self._enforce(attrs, failures)

    async def _evaluate(self, attrs, request, namespace, policy: dict, binding: dict) -> list[Failure]:
        pspec, bspec = policy.get("spec") or {}, binding.get("spec") or {}
        names = (policy["metadata"]["name"], binding["metadata"]["name"])
        actions = list(bspec.get("validationActions") or [])
        fail = pspec.get("failurePolicy", "Fail") != "Ignore"

        def failure(message: str, reason: str = "Invalid", index: int = 0) -> list[Failure]:
            return [Failure(*names, message, reason, actions, index)] if fail else []

        params = await params_for(self.params, policy, binding, attrs)
        if isinstance(params, str):
            return failure(params)
        variables = {"object": attrs.object, "oldObject": attrs.old_object, "request": cel_request(request),
                     "namespaceObject": namespace}
        out: list[Failure] = []
        for param in params:
            variables["params"] = param
            conditions = conditions_hold(pspec.get("matchConditions"), variables)
            if isinstance(conditions, str):
                out += failure(conditions)
                continue
            if not conditions:
                continue
            variables["variables"] = computed_variables(pspec.get("variables"), variables)
            out += self._validations(pspec, variables, names, actions, fail)
            self._audit_annotations(attrs, pspec, variables, names[0])
        return out

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
