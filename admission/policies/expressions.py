"""CEL for admission: matchConditions, validations, messageExpressions, variables and audit
annotations, compiled and run on the engine x-kubernetes-validations use (crdschema/celrules), with
its cost bound. The variables are kube's: object, oldObject, request, params, namespaceObject,
variables (authorizer is not offered).
"""
from __future__ import annotations

import re

from ..crdschema import celrules

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


def cel_request(request: dict) -> dict:
    """The AdmissionRequest as CEL's `request`: without the objects, which are variables of their own."""
    return {k: v for k, v in request.items() if k not in ("object", "oldObject")}


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")
_STRING = re.compile(r"""[rRbB]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^\\'])*'|"(?:\\.|[^\\"])*")""",
                     re.DOTALL)
STRUCT_TYPES = ("Object", "JSONPatch")


def struct_literals_as_maps(expression: str) -> str:
    """MutatingAdmissionPolicy's typed literals (`Object{spec: Object.spec{...}}`,
    `JSONPatch{op: "add", ...}`) written as the maps they stand for, which the engine evaluates:
    the type name goes and each field name becomes a quoted key."""
    out, stack, i = [], [], 0
    expect_field = False
    while i < len(expression):
        ch = expression[i]
        string = _STRING.match(expression, i) if ch in "'\"rRbB" else None
        if string and (ch in "'\"" or string.group(0)[-1] in "'\""):
            out.append(string.group(0))
            i, expect_field = string.end(), False
            continue
        ident = _IDENT.match(expression, i) if ch.isalpha() or ch == "_" else None
        if ident:
            after = expression[ident.end():].lstrip()
            name = ident.group(0)
            if name.split(".")[0].strip() in STRUCT_TYPES and after.startswith("{"):
                i = expression.index("{", ident.end()) + 1
                out.append("{")
                stack.append("struct")
                expect_field = True
                continue
            if expect_field and after.startswith(":") and "." not in name:
                out.append(f'"{name}"')
            else:
                out.append(name)
            i, expect_field = ident.end(), False
            continue
        if ch in "{([":
            stack.append({"{": "map", "(": "paren", "[": "list"}[ch])
        elif ch in "})]" and stack:
            stack.pop()
        if ch == "," and stack and stack[-1] == "struct":
            expect_field = True
        elif not ch.isspace():
            expect_field = False
        out.append(ch)
        i += 1
    return "".join(out)
