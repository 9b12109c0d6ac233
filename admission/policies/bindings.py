"""What ValidatingAdmissionPolicy and MutatingAdmissionPolicy share: which (policy, binding) pairs
a request meets, the binding's parameters, matchConditions and variables."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..chain import Attributes
from ..webhooks.matching import is_configuration, resources_match
from .expressions import evaluate

# (apiVersion, kind, namespace or None, name or None, label selector or None) -> objects, or None
# when the kind is not served.
Params = Callable[[str, str, str | None, str | None, dict | None], Awaitable[list[dict] | None]]
Configs = Callable[[], list[dict]]
Namespace = Callable[[str], Awaitable[dict | None]]

NO_PARAMS = "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"


def bound(policies: list[dict], bindings: list[dict], attrs: Attributes, namespace: dict | None) -> list[tuple[dict, dict]]:
    """(policy, binding) for each binding (by name) whose policy exists and which both match."""
    by_name = {p["metadata"]["name"]: p for p in policies}
    pairs = []
    for binding in sorted(bindings, key=lambda b: b["metadata"]["name"]):
        spec = binding.get("spec") or {}
        policy = by_name.get(spec.get("policyName") or "")
        if policy is None:
            continue
        if resources_match((policy.get("spec") or {}).get("matchConstraints") or {}, attrs, namespace) and \
                resources_match(spec.get("matchResources"), attrs, namespace):
            pairs.append((policy, binding))
    return pairs


async def params_for(params: Params, policy: dict, binding: dict, attrs: Attributes) -> list | str:
    """The parameters to evaluate the policy with: [None] when it takes none, [] when none are
    found and the binding allows that, or why the binding cannot be used."""
    kind = (policy.get("spec") or {}).get("paramKind")
    if not kind:
        return [None]
    ref = (binding.get("spec") or {}).get("paramRef")
    if not ref:
        return "failed to configure binding: paramRef is required when paramKind is set"
    found = await params(str(kind.get("apiVersion") or ""), str(kind.get("kind") or ""),
                         ref.get("namespace") or attrs.namespace or None, ref.get("name"), ref.get("selector"))
    if found is None:
        return f"failed to configure policy: paramKind {kind.get('apiVersion')}, Kind={kind.get('kind')} is not served"
    if not found and (ref.get("parameterNotFoundAction") or "Deny") == "Deny":
        return NO_PARAMS
    return found


def conditions_hold(conditions, variables: dict) -> bool | str:
    """matchConditions: all true, one false, or why one could not be evaluated."""
    for condition in conditions or []:
        result, error = evaluate(str(condition.get("expression") or ""), variables)
        if error:
            return f"failed to evaluate match condition {condition.get('name', '')!r}: {error}"
        if result is not True:
            return False
    return True


def computed_variables(declared, variables: dict) -> dict:
    """Each variable in order, seeing those before it; one that fails is left out, so the
    expressions using it fail in turn."""
    values: dict = {}
    for var in declared or []:
        result, error = evaluate(str(var.get("expression") or ""), {**variables, "variables": values})
        if not error:
            values[str(var.get("name"))] = result
    return values


class BoundPolicies:
    """A policy plugin's sources: `policies()` and `bindings()` list the configurations (informer
    caches), `namespace(name)` reads a namespace, `params(...)` finds parameter objects."""

    def __init__(self, policies: Configs, bindings: Configs, namespace: Namespace, params: Params):
        self.policies = policies
        self.bindings = bindings
        self.namespace = namespace
        self.params = params

    async def matched(self, attrs: Attributes) -> tuple[dict | None, list[tuple[dict, dict]]]:
        """(the request's namespace, the (policy, binding) pairs it meets)."""
        bindings = [] if is_configuration(attrs) else self.bindings()
        if not bindings:
            return None, []
        namespace = await self.namespace(attrs.namespace) if attrs.namespace else None
        return namespace, bound(self.policies(), bindings, attrs, namespace)
