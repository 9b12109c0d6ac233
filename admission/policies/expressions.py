"""CEL for admission: matchConditions, validations, messageExpressions, variables and audit
annotations, compiled and run on the engine x-kubernetes-validations use (crdschema/celrules), with
its cost bound. The variables are kube's: object, oldObject, request, params, namespaceObject,
variables (authorizer is not offered).
"""
from __future__ import annotations

from ..crdschema import celrules
from ..validation.fielderrors import child

COST_EXCEEDED = "operation cancelled: actual cost limit exceeded"


def compile_error(expression: str) -> str:
    """"" when the expression compiles, else kube's "compilation failed: ..." report."""
    program, error = celrules.compile_rule(expression)
    if program is None and not celrules.beyond_the_engine(error):
        return f"compilation failed: {error}"
    return ""


def evaluate(expression: str, variables: dict) -> tuple[object, str]:
    """(result, "") or (None, why it failed). Expressions the engine cannot run count as failed."""
    program, error = celrules.compile_rule(expression)
    if program is None:
        return None, f"compilation failed: {error}"
    largest = celrules._largest([v for k, v in variables.items() if k != "variables"])
    if largest ** celrules._comprehension_depth(expression) > celrules.PER_CALL_LIMIT:
        return None, COST_EXCEEDED
    return celrules._evaluate(program, variables)


def check_expressions(c, items, path: str, fields: tuple[str, ...]) -> None:
    """A cause for each of `fields` of `items` (a list of objects) that does not compile."""
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            continue
        for name in fields:
            text = item.get(name)
            if isinstance(text, str) and text:
                error = compile_error(text)
                if error:
                    c.invalid(child(path, i, name), text, error)


def cel_request(request: dict) -> dict:
    """The AdmissionRequest as CEL's `request`: without the objects, which are variables of their own."""
    return {k: v for k, v in request.items() if k not in ("object", "oldObject")}
