"""The rules of admissionregistration.k8s.io (pkg/apis/admissionregistration/validation) that the
schema cannot express: webhooks' timeouts, side effects and review versions, and every CEL
expression of webhooks and policies compiled when the object is written ("compilation failed").
"""
from __future__ import annotations

from admission.policies import expressions  # the module: it imports validation in turn
from admission.validation.fielderrors import Causes, child
from admission.validation.objects import as_dict, as_list

SIDE_EFFECTS = ["None", "NoneOnDryRun"]


def check_expressions(c: Causes, items, path: str, fields: tuple[str, ...]) -> None:
    """A cause for each of `fields` of `items` (a list of objects) that does not compile."""
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            continue
        for name in fields:
            text = item.get(name)
            if isinstance(text, str) and text:
                error = expressions.compile_error(text)
                if error:
                    c.invalid(child(path, i, name), text, error)


def _validate_webhooks(c: Causes, obj: dict) -> None:
    for i, hook in enumerate(as_list(obj.get("webhooks"))):
        hook, at = as_dict(hook), child("webhooks", i)
        timeout = hook.get("timeoutSeconds")
        if isinstance(timeout, int) and not 1 <= timeout <= 30:
            c.invalid(child(at, "timeoutSeconds"), timeout, "the timeout value must be between 1 and 30 seconds")
        effects = hook.get("sideEffects")
        if effects not in SIDE_EFFECTS:
            if effects:
                c.not_supported(child(at, "sideEffects"), effects, SIDE_EFFECTS)
            else:
                c.required(child(at, "sideEffects"), "must specify one of None, NoneOnDryRun")
        versions = as_list(hook.get("admissionReviewVersions"))
        if not versions:
            c.required(child(at, "admissionReviewVersions"),
                       "must specify one of v1, v1beta1")
        elif not any(v in ("v1", "v1beta1") for v in versions):
            c.invalid(child(at, "admissionReviewVersions"), versions,
                      "must include at least one of v1, v1beta1")
        config = as_dict(hook.get("clientConfig"))
        if bool(config.get("url")) == bool(config.get("service")):
            c.required(child(at, "clientConfig"), "exactly one of url or service is required")
        check_expressions(c, as_list(hook.get("matchConditions")), child(at, "matchConditions"), ("expression",))


def validate_validating_webhook_configuration(c: Causes, obj: dict, old: dict | None) -> None:
    _validate_webhooks(c, obj)


def validate_mutating_webhook_configuration(c: Causes, obj: dict, old: dict | None) -> None:
    _validate_webhooks(c, obj)


def validate_validating_admission_policy(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    if not spec.get("validations") and not spec.get("auditAnnotations"):
        c.required("spec.validations", "validations or auditAnnotations must contain at least one item")
    check_expressions(c, as_list(spec.get("validations")), "spec.validations", ("expression", "messageExpression"))
    check_expressions(c, as_list(spec.get("variables")), "spec.variables", ("expression",))
    check_expressions(c, as_list(spec.get("matchConditions")), "spec.matchConditions", ("expression",))
    check_expressions(c, as_list(spec.get("auditAnnotations")), "spec.auditAnnotations", ("valueExpression",))


def validate_validating_admission_policy_binding(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    if not spec.get("policyName"):
        c.required("spec.policyName")
    actions = as_list(spec.get("validationActions"))
    if not actions:
        c.required("spec.validationActions", "at least one validation action is required")
    for i, action in enumerate(actions):
        if action not in ("Deny", "Warn", "Audit"):
            c.not_supported(child("spec.validationActions", i), action, ["Audit", "Deny", "Warn"])
    if "Deny" in actions and "Warn" in actions:
        c.invalid("spec.validationActions", actions, "must not contain both Deny and Warn (repeating the same "
                                                     "validation failure information in the API response and "
                                                     "headers serves no purpose)")


def validate_mutating_admission_policy(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    mutations = as_list(spec.get("mutations"))
    if not mutations:
        c.required("spec.mutations", "mutations must contain at least one item")
    for i, mutation in enumerate(mutations):
        mutation, at = as_dict(mutation), child("spec.mutations", i)
        kind = mutation.get("patchType")
        c.one_of(child(at, "patchType"), kind, ["ApplyConfiguration", "JSONPatch"])
        field = {"ApplyConfiguration": "applyConfiguration", "JSONPatch": "jsonPatch"}.get(kind)
        text = as_dict(mutation.get(field)).get("expression") if field else None
        if field and not text:
            c.required(child(at, field, "expression"))
        elif field:
            error = expressions.compile_error(expressions.struct_literals_as_maps(str(text)))
            if error:
                c.invalid(child(at, field, "expression"), text, error)
    check_expressions(c, as_list(spec.get("variables")), "spec.variables", ("expression",))
    check_expressions(c, as_list(spec.get("matchConditions")), "spec.matchConditions", ("expression",))


def validate_mutating_admission_policy_binding(c: Causes, obj: dict, old: dict | None) -> None:
    if not as_dict(obj.get("spec")).get("policyName"):
        c.required("spec.policyName")
