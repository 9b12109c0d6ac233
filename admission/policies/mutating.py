"""MutatingAdmissionPolicy (admissionregistration.k8s.io/v1 from Kubernetes 1.36): CEL mutations
bound to requests by MutatingAdmissionPolicyBindings, run before the mutating webhooks.

A mutation is an ApplyConfiguration (`Object{...}`, merged into the object: maps key by key, lists
of objects with a `name` by name, other lists replaced; kube merges by each field's list type) or a
JSONPatch (`[JSONPatch{op, path, value}, ...]`, applied in order). The typed literals are run as
the maps they stand for. The object is then decoded and defaulted again, as after a webhook's
patch. Policies with reinvocationPolicy IfNeeded run once more when a later policy changed the
object. A mutation that fails refuses the request under failurePolicy Fail.
"""
from __future__ import annotations

import copy

import jsonpatch

from ..chain import Attributes, MutatingPlugin
from ..mutation import adopt, run_steps
from ..status import StatusError
from ..webhooks.request import admission_request
from .bindings import BoundPolicies, computed_variables, conditions_hold, params_for
from .expressions import cel_request, evaluate, struct_literals_as_maps


class MutationFailed(Exception):
    pass


def merge_applied(target: dict, applied: dict) -> None:
    """An apply configuration merged into `target`, in place."""
    for key, value in applied.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merge_applied(current, value)
        elif isinstance(value, list) and isinstance(current, list) and value and \
                all(isinstance(v, dict) and "name" in v for v in value + current):
            by_name = {item["name"]: item for item in current}
            for item in value:
                if item["name"] in by_name:
                    merge_applied(by_name[item["name"]], item)
                else:
                    current.append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _mutate(obj: dict, mutation: dict, variables: dict) -> dict:
    kind = mutation.get("patchType")
    source = mutation.get("applyConfiguration" if kind == "ApplyConfiguration" else "jsonPatch") or {}
    expression = str(source.get("expression") or "")
    result, error = evaluate(struct_literals_as_maps(expression), variables)
    if error:
        raise MutationFailed(f"expression '{expression}' resulted in error: {error}")
    if kind == "ApplyConfiguration":
        if not isinstance(result, dict):
            raise MutationFailed(f"expression '{expression}' must evaluate to an Object")
        merged = copy.deepcopy(obj)
        merge_applied(merged, result)
        return merged
    if not isinstance(result, list):
        raise MutationFailed(f"expression '{expression}' must evaluate to a list of JSONPatch")
    try:
        return jsonpatch.JsonPatch(result).apply(copy.deepcopy(obj))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as e:
        raise MutationFailed(f"JSON Patch: {e}") from None


class MutatingAdmissionPolicy(BoundPolicies, MutatingPlugin):
    name = "MutatingAdmissionPolicy"

    async def admit(self, attrs: Attributes) -> None:
        if attrs.object is None:
            return
        namespace, pairs = await self.matched(attrs)
        await run_steps(attrs, pairs, lambda pair: self._apply(attrs, namespace, *pair),
                        lambda pair: (pair[0].get("spec") or {}).get("reinvocationPolicy") == "IfNeeded")

    async def _apply(self, attrs: Attributes, namespace, policy: dict, binding: dict) -> None:
        spec = policy.get("spec") or {}
        try:
            params = await params_for(self.params, policy, binding, attrs)
            if isinstance(params, str):
                raise MutationFailed(params)
            for param in params:
                variables = {"object": attrs.object, "oldObject": attrs.old_object, "params": param,
                             "request": cel_request(admission_request(attrs)), "namespaceObject": namespace}
                held = conditions_hold(spec.get("matchConditions"), variables)
                if isinstance(held, str):
                    raise MutationFailed(held)
                if not held:
                    continue
                variables["variables"] = computed_variables(spec.get("variables"), variables)
                obj = attrs.object
                for mutation in spec.get("mutations") or []:
                    obj = _mutate(obj, mutation, {**variables, "object": obj})
                adopt(attrs, obj)
        except MutationFailed as e:
            if spec.get("failurePolicy", "Fail") == "Ignore":
                return
            message = (f"policy '{policy['metadata']['name']}' with binding '{binding['metadata']['name']}' "
                       f"denied request: {e}")
            raise StatusError(500, "InternalError", f"Internal error occurred: {message}",
                              {"causes": [{"message": message}]}) from None
