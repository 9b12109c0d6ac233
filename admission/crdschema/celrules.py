"""x-kubernetes-validations: the CEL rules of a CRD's schema, run on a custom resource.

CEL runs on common-expression-language (the cel-rust interpreter): it compiles and evaluates fast
enough to run on every write, and it has cel-go's cross-type numeric equality, optionals for
optionalOldSelf, and most of the string and list extensions Kubernetes enables. It has no type
checker, so a rule is only parsed when a CRD is written; a rule kube would refuse for its types
(`self.nosuchfield`) fails when it runs instead. What cel-rust cannot do at all (optional syntax,
some Kubernetes libraries) is not enforced. Rule cost is judged at run time only, roughly: the
rule's tokens times the largest collection to the power of how deeply the rule nests
comprehensions, against kube's per-call limit, and all calls on one object against kube's
per-object budget. The runtime is imported on first use, so servers without rules never load it.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import cel

from admission.crdschema.errors import Errors
from admission.crdschema.formats import formatted_value
from admission.crdschema.schemanodes import (ABSENT, additional_of, is_embedded, items_of, preserves, properties_of,
                                             same, subschemas)
from admission.crdschema.values import correlated_item
from admission.validation.fielderrors import child, keyed
from admission.validation.objects import as_dict, as_list

PER_CALL_LIMIT = 1_000_000
# kube's RuntimeCELCostBudget: what all of one object's rules may cost together.
RUNTIME_BUDGET = 10_000_000
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S")
_MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024
_CEL_RESERVED = frozenset(("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
                           "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void",
                           "while"))
_CEL_IDENTIFIER = re.compile(r"[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*")
_MACRO = re.compile(r"\.\s*(all|exists_one|exists|map|filter)\s*\(")
BLOCKING = frozenset(("FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany",
                      "FieldValueTypeInvalid"))
VALIDATION_REASONS = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"]


def _index_of(target, value, offset: int = 0) -> int:
    """indexOf of Kubernetes' lists library, and of the strings library (from an offset)."""
    if isinstance(target, str):
        return target.find(value, offset)
    return next((i for i, v in enumerate(target) if same(v, value)), -1)


def _last_index_of(target, value, offset: int | None = None) -> int:
    if isinstance(target, str):
        return target.rfind(value, 0, len(target) if offset is None else offset + len(value))
    return next((i for i in reversed(range(len(target))) if same(target[i], value)), -1)


def _find(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    return match.group(0) if match else ""


def _find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    found = [m.group(0) for m in re.finditer(pattern, text)]
    return found if limit < 0 else found[:limit]


@functools.cache
def _cel():
    """The CEL runtime, loaded on first use: the package imports its command-line tool too
    (~30 MB and 0.15 s), which only servers whose CRDs carry rules should pay for."""
    import cel
    return cel


@functools.cache
def _functions() -> dict:
    """Kubernetes' CEL libraries beyond what cel-rust and its stdlib module have, or have for strings only."""
    from cel import stdlib
    context = _cel().Context()
    stdlib.add_stdlib_to_context(context)
    return {
        **context.functions,
        "isSorted": lambda values: all(a <= b for a, b in zip(values, values[1:])),
        "indexOf": _index_of,
        "lastIndexOf": _last_index_of,
        "find": _find,
        "findAll": _find_all,
    }


@functools.lru_cache(maxsize=4096)
def compile_rule(expression: str) -> tuple[cel.Program | None, str]:
    """The compiled expression, or cel-go's report of why it does not parse."""
    try:
        return _cel().compile(expression), ""
    except (ValueError, RuntimeError) as e:
        text = str(e)
        text = text[text.find("ERROR:"):] if "ERROR:" in text else text
        return None, "\n".join(" " + line if line.startswith("|") else line for line in text.splitlines())


def beyond_the_engine(error: str) -> bool:
    """Errors of what cel-go takes and cel-rust does not: optional syntax (`self.?field`) and the
    libraries we lack (url, ip, quantity, cel.bind...). Such a rule is accepted and not enforced,
    rather than refusing CRDs a cluster takes."""
    return error.startswith("Undefined variable or function") or "unsupported syntax" in error


def uses_old_self(program: cel.Program) -> bool:
    return "oldSelf" in program.variables()


@functools.lru_cache(maxsize=4096)
def _comprehension_depth(expression: str) -> int:
    """How deeply the rule nests macros (all, exists, map, filter): its cost is about the largest
    collection raised to that power."""
    depth, stack, quote, i = 0, [], "", 0
    while i < len(expression):
        ch = expression[i]
        if quote:
            i += 2 if ch == "\\" else 1
            quote = "" if ch == quote else quote
            continue
        macro = _MACRO.match(expression, i)
        if macro:
            stack.append(True)
            depth = max(depth, stack.count(True))
            i = macro.end()
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            stack.append(False)
        elif ch in ")]}" and stack:
            stack.pop()
        i += 1
    return depth


@functools.lru_cache(maxsize=4096)
def _steps(expression: str) -> int:
    """What one evaluation costs before comprehensions multiply it: about one step per token, as
    cel-go charges about one per node it visits."""
    return max(1, len(_TOKEN.findall(expression)))


def _largest(value) -> int:
    if isinstance(value, dict):
        return max([len(value), *map(_largest, value.values())])
    if isinstance(value, list):
        return max([len(value), *map(_largest, value)])
    return 0


def _cel_escape(name: str) -> str | None:
    """How a property is named in CEL; None when it cannot be."""
    if name in _CEL_RESERVED:
        return f"__{name}__"
    if not _CEL_IDENTIFIER.fullmatch(name):
        return None
    return (name.replace("__", "__underscores__").replace(".", "__dot__").replace("-", "__dash__")
            .replace("/", "__slash__"))


def _to_cel(value, s: dict | None, resource: bool = False):
    """UnstructuredToVal: the value as CEL sees it through its schema. Objects show their declared
    properties (null ones as absent), numbers are doubles, formatted strings are timestamps,
    durations or bytes; a resource also shows apiVersion, kind, metadata.name and generateName."""
    if value is None or s is None:
        return value
    kind = s.get("type")
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "string" and isinstance(value, str):
        return formatted_value(value, s.get("format") or "")
    if isinstance(value, list):
        return [_to_cel(v, items_of(s), is_embedded(items_of(s))) for v in value]
    if not isinstance(value, dict) or kind != "object":
        return value
    props, extra = properties_of(s), additional_of(s)
    if not props and extra is not None:
        return {k: _to_cel(v, extra, is_embedded(extra)) for k, v in value.items()}
    if not props and (preserves(s) or not resource):
        return value
    out = {}
    for k, v in value.items():
        escaped = _cel_escape(k)
        if v is None or escaped is None:
            continue
        if resource and k == "metadata" and isinstance(v, dict):
            out[k] = {m: v[m] for m in ("name", "generateName") if isinstance(v.get(m), str)}
        elif resource and k in ("apiVersion", "kind"):
            out[k] = v
        elif k in props:
            out[escaped] = _to_cel(v, props[k], is_embedded(props[k]))
    return out


def _evaluate(program: cel.Program, variables: dict) -> tuple[object, str]:
    """The result, or the error as cel-go words it."""
    try:
        return program.execute(_cel().Context(variables, _functions())), ""
    except KeyError as e:
        return None, f"no such key: {e.args[0] if e.args else ''}"
    except ZeroDivisionError:
        return None, "division by zero"
    except OverflowError:
        return None, "integer overflow"
    except TypeError:
        return None, "no such overload"
    except (IndexError, ValueError, RuntimeError) as e:
        return None, str(e)


def _rule_message(rule: dict) -> str:
    message = str(rule.get("message") or "").strip()
    return message or str(rule.get("rule") or "").strip()


class CelRun:
    """One object's x-kubernetes-validations, walked as cel.Validator walks them. With `ratchet`
    (updates), a failed rule that is not about oldSelf, on a part left as it was, only warns in
    kube; we leave it out."""

    def __init__(self, c: Errors, schema: dict, ratchet: bool):
        self.c = c
        self.ratchet = ratchet
        self.with_rules: set[int] = set()  # the schema nodes with rules at or below them
        self._find_rules(schema)
        self.stopped = False
        self.spent = 0

    def _find_rules(self, s: dict) -> bool:
        below = [self._find_rules(sub) for sub in subschemas(s)]
        if any(below) or s.get("x-kubernetes-validations"):
            self.with_rules.add(id(s))
            return True
        return False

    def walk(self, s: dict | None, value, old, path: str, resource: bool, unchanged: bool) -> None:
        """Rules run on non-null values, then on the parts below. `old` is the correlated old value
        (_ABSENT when there is none); `unchanged` says the nearest correlated part is as it was."""
        if s is None or value is None or id(s) not in self.with_rules or self.stopped:
            return
        if old is not ABSENT:
            unchanged = same(value, old)
        if s.get("x-kubernetes-validations"):
            self._rules(s, value, old, path, resource, unchanged)
        if isinstance(value, list):
            item = items_of(s)
            for i, v in enumerate(value):
                self.walk(item, v, correlated_item(s, v, old) if s.get("x-kubernetes-list-type") == "map" else ABSENT,
                          f"{path}[{i}]", is_embedded(item), unchanged)
        elif isinstance(value, dict):
            old_map = old if isinstance(old, dict) and s.get("x-kubernetes-map-type") != "atomic" else {}
            props, extra = properties_of(s), additional_of(s)
            for k, v in value.items():
                sub, at = (props[k], child(path, k)) if k in props else (extra, keyed(path, k))
                self.walk(sub, v, old_map.get(k, ABSENT), at, is_embedded(sub), unchanged)

    def _rules(self, s: dict, value, old, path: str, resource: bool, unchanged: bool) -> None:
        kind = "object" if resource else s.get("type") or ""
        variables = {"self": _to_cel(value, s, resource)}
        old_value = None if old is ABSENT else _to_cel(old, s, resource)
        largest = _largest([value, None if old is ABSENT else old])
        for rule in as_list(s.get("x-kubernetes-validations")):
            rule = as_dict(rule)
            program, error = compile_rule(str(rule.get("rule") or ""))
            if program is None:
                if not beyond_the_engine(error):
                    self.c.invalid(path, kind, f"rule compile error: compilation failed: {error}")
                continue
            uses_old = uses_old_self(program)
            if rule.get("optionalOldSelf"):
                variables["oldSelf"] = _cel().OptionalValue.none() if old_value is None else _cel().OptionalValue.of(
                    old_value)
            elif uses_old and old_value is None:
                continue
            else:
                variables["oldSelf"] = old_value
            expression = str(rule.get("rule"))
            cost = _steps(expression) * max(1, largest ** _comprehension_depth(expression))
            if cost > PER_CALL_LIMIT:
                self.c.invalid(path, kind, "'operation cancelled: actual cost limit exceeded': no further validation "
                                           "rules will be run due to call cost exceeds limit for rule: "
                                           + _rule_message(rule))
                self.stopped = True
                return
            self.spent += cost
            if self.spent > RUNTIME_BUDGET:
                # Every rule on every item of a huge list adds up: the object's budget bounds the whole walk.
                self.c.invalid(path, kind, "validation failed due to running out of cost budget, no further "
                                           "validation rules will be run")
                self.stopped = True
                return
            result, error = _evaluate(program, variables)
            if beyond_the_engine(error):
                continue
            if error.startswith("no such overload"):
                self.c.invalid(path, kind, f"'{error}': call arguments did not match a supported operator, function "
                                           f"or macro signature for rule: {_rule_message(rule)}")
            elif error:
                self.c.invalid(path, kind, f"{error} evaluating rule: {_rule_message(rule)}")
            elif result is not True and not (self.ratchet and unchanged and not uses_old):
                self._failed(s, rule, variables, kind, path)

    def _failed(self, s: dict, rule: dict, variables: dict, kind: str, path: str) -> None:
        field_path = str(rule.get("fieldPath") or "").strip()
        if field_path:
            try:
                path = child(path, resolve_field_path(field_path, s)[0])
            except ValueError:
                pass  # refused when the CRD was written; a stored CRD from elsewhere keeps the rule's own path
        detail = self._message_expression(rule, variables) or (
            str(rule["message"]).strip() if rule.get("message") else f"failed rule: {_rule_message(rule)}")
        reason = rule.get("reason")
        if reason == "FieldValueForbidden":
            self.c.forbidden(path, detail)
        elif reason == "FieldValueRequired":
            self.c.required(path, detail)
        elif reason == "FieldValueDuplicate":
            self.c.duplicate(path, kind)
        else:
            self.c.invalid(path, kind, detail)

    @staticmethod
    def _message_expression(rule: dict, variables: dict) -> str:
        """The evaluated messageExpression; "" when it fails, so that the message stands in."""
        program, _ = compile_rule(str(rule.get("messageExpression") or ""))
        if program is None or not rule.get("messageExpression"):
            return ""
        result, error = _evaluate(program, variables)
        if error or not isinstance(result, str):
            return ""
        text = result.strip()
        return "" if "\n" in text or len(text.encode()) > _MAX_MESSAGE_EXPRESSION_BYTES else text


def _field_path_tokens(text: str) -> Iterator[str]:
    """The tokens of a rule's fieldPath: '.', '[', ']', single-quoted strings and names."""
    i = 0
    while i < len(text):
        if text[i] in ".[]":
            yield text[i]
            i += 1
        elif text[i] == "'":
            end = i + 1
            while end < len(text) and (text[end] != "'" or text[end - 1] == "\\"):
                end += 1
            yield text[i:end + 1]
            i = end + 1
        else:
            end = i
            while end < len(text) and text[end] not in ".[]":
                end += 1
            yield text[i:end]
            i = end


def _unescape_single_quoted(text: str) -> str:
    escapes = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "'": "'", "\\": "\\"}

    def replace(m: re.Match) -> str:
        if m.group(1) not in escapes:
            raise ValueError(f"invalid string literal: invalid escape char {m.group(0)}")
        return escapes[m.group(1)]
    return re.sub(r"\\(.)", replace, text)


def resolve_field_path(json_path: str, schema: dict, allow_arrays: bool = True) -> tuple[str, dict | None]:
    """cel.ValidFieldPath: a rule's fieldPath or a selectable field as a field path, with the
    schema it leads to. Raises ValueError with kube's reason."""
    path, tokens = "", _field_path_tokens(json_path)

    def step(name: str) -> str:
        nonlocal schema
        if schema is None:
            raise ValueError("does not refer to a valid field")
        if properties_of(schema):
            if name not in properties_of(schema):
                raise ValueError("does not refer to a valid field")
            schema = properties_of(schema)[name]
            return child(path, name)
        if "additionalProperties" not in schema:
            raise ValueError("does not refer to a valid field")
        schema = additional_of(schema)
        return keyed(path, name)

    for token in tokens:
        if token == "[":
            if not allow_arrays:
                raise ValueError("array notation is not allowed")
            quoted = next(tokens, None)
            if quoted is None:
                raise ValueError("unexpected end of JSON path")
            if len(quoted) < 2 or quoted[0] != "'" or quoted[-1] != "'":
                raise ValueError(f"expected single quoted string but got {quoted}")
            path = step(_unescape_single_quoted(quoted[1:-1]))
            closing = next(tokens, None)
            if closing is None:
                raise ValueError("unexpected end of JSON path")
            if closing != "]":
                raise ValueError(f"expected ] but got {closing}")
        elif token == ".":
            name = next(tokens, None)
            if name is None:
                raise ValueError("unexpected end of JSON path")
            path = step(name)
        else:
            raise ValueError(f"expected [ or . but got: {token}")
    return path, schema
