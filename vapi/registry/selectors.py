"""Label and field selectors with kube-apiserver's grammar, matching rules and error messages.

Label selectors follow apimachinery's `labels.Parse` (a small lexer and recursive-descent parser)
and `metav1.LabelSelectorAsSelector`. Field selectors follow `fields.ParseSelector` followed by the
per-kind field label conversion the apiserver applies to every term; the values compared are those
of the kind's selectable field set (its registry strategy's `GetAttrs`). The error texts are the
ones a v1.33 kube-apiserver puts in its 400 BadRequest Status, byte for byte, because clients and
tests compare them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from admission.validation import dig, go_quote, is_label_value, is_qualified_name


class SelectorError(ValueError):
    """A selector the apiserver would reject; str(err) is kube's message."""


# --- Go formatting helpers ------------------------------------------------------------------------

def _go_string_slice(values: list[str] | None) -> str:
    """Go's %#v of a []string, as field.Invalid prints a bad value list."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


def _invalid(path: str, shown_value: str, detail: str) -> str:
    """field.Invalid(...).Error()."""
    return f"{path}: Invalid value: {shown_value}: {detail}"


def _aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error() after field.ErrorList's de-duplication."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64), or None where Go would return an error."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    value = int(text)
    return value if -(1 << 63) <= value < (1 << 63) else None


# --- label selectors ------------------------------------------------------------------------------

IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "in", "notin", "=", "==", "!="
EXISTS, DOES_NOT_EXIST, GREATER_THAN, LESS_THAN = "exists", "!", "gt", "lt"
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...]

    def matches(self, labels: dict) -> bool:
        if self.operator in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if self.operator in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == EXISTS:
            return self.key in labels
        if self.operator == DOES_NOT_EXIST:
            return self.key not in labels
        # Gt and Lt: a missing or non-integer label never matches.
        if self.key not in labels or len(self.values) != 1:
            return False
        have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if self.operator == GREATER_THAN else have < want

    def __str__(self) -> str:
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return "!" + self.key
        op = {IN: " in ", NOT_IN: " notin ", GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator, self.operator)
        values = ",".join(sorted(self.values))
        return f"{self.key}{op}({values})" if self.operator in (IN, NOT_IN) else f"{self.key}{op}{values}"


def _new_requirement(key: str, operator: str, values: list[str] | None) -> Requirement:
    """labels.NewRequirement with no field path, as both the query parser and LabelSelectorAsSelector
    call it; `values` is None where Go passes a nil slice."""
    errs = []
    key_errs = is_qualified_name(key)
    if key_errs:
        errs.append(_invalid("key", go_quote(key), "; ".join(key_errs)))
    vals = values or []
    if operator in (IN, NOT_IN) and not vals:
        errs.append(_invalid("values", _go_string_slice(values),
                             "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS) and len(vals) != 1:
        errs.append(_invalid("values", _go_string_slice(values), "exact-match compatibility requires one single value"))
    elif operator in (EXISTS, DOES_NOT_EXIST) and vals:
        errs.append(_invalid("values", _go_string_slice(values),
                             "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            errs.append(_invalid("values", _go_string_slice(values),
                                 "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, v in enumerate(vals):
            if _parse_int64(v) is None:
                errs.append(_invalid(f"values[{i}]", go_quote(v),
                                     "for 'Gt', 'Lt' operators, the value must be an integer"))
    for i, v in enumerate(vals):
        value_errs = is_label_value(v)
        if value_errs:
            errs.append(_invalid(f"values[{i}][{key}]", go_quote(v), "; ".join(value_errs)))
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, operator, tuple(vals))


class LabelSelector:
    """A parsed label selector: an AND of requirements, or kube's Nothing selector."""

    def __init__(self, requirements: list[Requirement], nothing: bool = False):
        # kube keeps requirements sorted by key so the string form is deterministic.
        self.requirements = sorted(requirements, key=lambda r: r.key)
        self._nothing = nothing

    @property
    def empty(self) -> bool:
        return not self._nothing and not self.requirements

    def matches(self, labels: dict | None) -> bool:
        if self._nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


# Lexer tokens. IDENTIFIER covers keys and values; "in"/"notin" become identifiers where a value
# is expected, so `x in (in)` parses.
_ERROR, _END, _CLOSE, _COMMA, _NOT, _DOUBLE_EQ, _EQ, _GT, _IDENT, _IN, _LT, _NOT_EQ, _NOT_IN, _OPEN = range(14)
_STRING_TO_TOKEN = {")": _CLOSE, ",": _COMMA, "!": _NOT, "==": _DOUBLE_EQ, "=": _EQ, ">": _GT, "in": _IN,
                    "<": _LT, "!=": _NOT_EQ, "notin": _NOT_IN, "(": _OPEN}
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")
# An identifier runs to the next special or blank character, or a NUL (which ends the input, as in Go).
_IDENTIFIER_RUN = re.compile(r"[^=!(),>< \t\r\n\0]*")


class _Lexer:
    """labels' byte lexer. Go reads a NUL byte and the end of input alike, so this one does too."""

    def __init__(self, text: str):
        self.s, self.pos = text, 0

    def _read(self) -> str:
        if self.pos < len(self.s):
            self.pos += 1
            return self.s[self.pos - 1]
        return "\0"

    def lex(self) -> tuple[int, str]:
        ch = self._read()
        while ch in _WHITESPACE:
            ch = self._read()
        if ch == "\0":
            return _END, ""
        self.pos -= 1
        if ch in _SPECIAL:
            return self._special()
        return self._identifier()

    def _identifier(self) -> tuple[int, str]:
        # One regular-expression step per identifier, not one Python step per character: a
        # megabyte of selector is read in milliseconds.
        end = _IDENTIFIER_RUN.match(self.s, self.pos).end()
        text, self.pos = self.s[self.pos:end], end
        return _STRING_TO_TOKEN.get(text, _IDENT), text

    def _special(self) -> tuple[int, str]:
        # Longest run of symbols that still spells an operator: "!=" rather than "!" then "=".
        buf, last = "", None
        while True:
            ch = self._read()
            if ch == "\0":
                break
            if ch not in _SPECIAL:
                self.pos -= 1
                break
            buf += ch
            if buf in _STRING_TO_TOKEN:
                last = (_STRING_TO_TOKEN[buf], buf)
            elif last is not None:
                self.pos -= 1
                break
        if last is None:
            return _ERROR, f"error expected: keyword found '{buf}'"
        return last


class _Parser:
    def __init__(self, text: str):
        lexer = _Lexer(text)
        self.items: list[tuple[int, str]] = []
        while True:
            item = lexer.lex()
            self.items.append(item)
            if item[0] == _END:
                break
        self.position = 0

    def _peek(self, values: bool = True) -> tuple[int, str]:
        tok, lit = self.items[self.position]
        return (_IDENT if values and tok in (_IN, _NOT_IN) else tok), lit

    def _next(self, values: bool = True) -> tuple[int, str]:
        item = self._peek(values)
        self.position += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements = []
        while True:
            tok, lit = self._peek()
            if tok == _END:
                return requirements
            if tok not in (_IDENT, _NOT):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self._requirement())
            except SelectorError as err:
                raise SelectorError(f"unable to parse requirement: {err}") from None
            tok, lit = self._next()
            if tok == _END:
                return requirements
            if tok != _COMMA:
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self._peek()
            if tok not in (_IDENT, _NOT):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        operator = None
        tok, lit = self._next()
        if tok == _NOT:
            operator = DOES_NOT_EXIST
            tok, lit = self._next()
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key = lit
        key_errs = is_qualified_name(key)
        if key_errs:
            # The parser validates the key against a nil field path, which Go prints as "<nil>".
            raise SelectorError(_invalid("<nil>", go_quote(key), "; ".join(key_errs)))
        if operator is None and self._peek()[0] in (_END, _COMMA):
            operator = EXISTS
        if operator is not None:
            return _new_requirement(key, operator, [])
        tok, lit = self._next(values=False)
        operator = {_IN: IN, _EQ: EQUALS, _DOUBLE_EQ: DOUBLE_EQUALS, _GT: GREATER_THAN, _LT: LESS_THAN,
                    _NOT_IN: NOT_IN, _NOT_EQ: NOT_EQUALS}.get(tok)
        if operator is None:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        values = self._value_set() if operator in (IN, NOT_IN) else self._exact_value()
        # The parser collects values in a string set, so they arrive de-duplicated and sorted.
        return _new_requirement(key, operator, sorted(values))

    def _value_set(self) -> set[str]:
        tok, lit = self._next()
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._peek()
        if tok == _CLOSE:
            self._next()
            return {""}
        if tok not in (_IDENT, _COMMA):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values = self._identifier_list()
        self._next()
        return values

    def _identifier_list(self) -> set[str]:
        # Empty entries ("(,a", "a,,b", "a,)") stand for the empty value.
        values: set[str] = set()
        while True:
            tok, lit = self._next()
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self._peek()
                if tok2 == _CLOSE:
                    return values
                if tok2 != _COMMA:
                    raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            elif tok == _COMMA:
                if not values:
                    values.add("")
                tok2, _ = self._peek()
                if tok2 == _CLOSE:
                    values.add("")
                    return values
                if tok2 == _COMMA:
                    values.add("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        tok, _ = self._peek()
        if tok in (_END, _COMMA):
            return {""}
        tok, lit = self._next()
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        return {lit}


def parse_label_selector(text: str) -> LabelSelector:
    """The labelSelector query parameter, as labels.Parse reads it."""
    return LabelSelector(_Parser(text).parse())


_OBJECT_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def label_selector_from_object(sel: dict | None) -> LabelSelector:
    """A metav1.LabelSelector as LabelSelectorAsSelector reads it: None selects nothing, an empty
    selector selects everything."""
    if sel is None:
        return LabelSelector([], nothing=True)
    match_labels = sel.get("matchLabels") or {}
    expressions = sel.get("matchExpressions") or []
    requirements = [_new_requirement(k, EQUALS, [v]) for k, v in match_labels.items()]
    for expr in expressions:
        operator = _OBJECT_OPERATORS.get(expr.get("operator", ""))
        if operator is None:
            raise SelectorError(f"{go_quote(expr.get('operator', ''))} is not a valid label selector operator")
        requirements.append(_new_requirement(expr.get("key", ""), operator, list(expr.get("values") or []) or None))
    return LabelSelector(requirements)


# --- field values ---------------------------------------------------------------------------------

def _render(value) -> str:
    """A field's value as the apiserver's field sets hold it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # strconv.FormatFloat(v, 'f', -1, 64): shortest form, never an exponent.
        return format(Decimal(repr(value)).normalize(), "f")
    return ""


def field_value(obj: dict, field: str) -> str:
    """The value at dotted path `field` of obj as kube renders selectable fields: strings as they
    are, booleans "true"/"false", integers in decimal, anything missing as ""."""
    return _render(dig(obj, field))


Getter = Callable[[dict], str]


def _at(path: str, zero: str = "") -> Getter:
    # A Go struct field is never absent: a missing bool reads "false", a missing int "0".
    return lambda obj: field_value(obj, path) or zero


def _first_of(*paths: str) -> Getter:
    return lambda obj: next((v for v in (field_value(obj, p) for p in paths) if v), "")


def _first_pod_ip(obj: dict) -> str:
    # Converting a v1 Pod makes status.podIP, when set, the first of the internal podIPs.
    ips = (obj.get("status") or {}).get("podIPs") or []
    return field_value(obj, "status.podIP") or (field_value(ips[0], "ip") if ips and isinstance(ips[0], dict) else "")


@dataclass(frozen=True)
class FieldSet:
    """What a resource's field label conversion accepts, the value each accepted label selects,
    and how the conversion words a refusal. Each kind's strategy holds its own."""
    fields: dict[str, Getter]
    reject: Callable[[str], str]


_NAME = {"metadata.name": _at("metadata.name")}
_NAME_NAMESPACE = {**_NAME, "metadata.namespace": _at("metadata.namespace")}


def _not_supported(label: str) -> str:
    return f"field label not supported: {label}"


def _not_known(label: str) -> str:
    return f'{go_quote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"'


# Kinds without a registered conversion get DefaultMetaV1FieldSelectorConversion; for a cluster-scoped
# kind metadata.namespace is accepted but its field set has no such field, so it reads "".
_DEFAULT = FieldSet(_NAME_NAMESPACE, _not_known)

_INVOLVED_OBJECT = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

_BUILTIN: dict[tuple[str, str], FieldSet] = {
    ("", "pods"): FieldSet({
        **_NAME_NAMESPACE,
        "spec.nodeName": _at("spec.nodeName"),
        # v1 clients of old sent spec.host; the conversion renames it to spec.nodeName.
        "spec.host": _at("spec.nodeName"),
        "spec.restartPolicy": _at("spec.restartPolicy"),
        "spec.schedulerName": _at("spec.schedulerName"),
        # serviceAccount is the deprecated alias conversion falls back to.
        "spec.serviceAccountName": _first_of("spec.serviceAccountName", "spec.serviceAccount"),
        "spec.hostNetwork": _at("spec.hostNetwork", "false"),
        "status.phase": _at("status.phase"),
        "status.podIP": _first_pod_ip,
        # Accepted by the conversion, but absent from the pod's field set: it only ever equals "".
        "status.podIPs": lambda obj: "",
        "status.nominatedNodeName": _at("status.nominatedNodeName"),
    }, _not_supported),
    ("", "nodes"): FieldSet({**_NAME, "spec.unschedulable": _at("spec.unschedulable", "false")}, _not_supported),
    ("", "replicationcontrollers"): FieldSet(
        {**_NAME_NAMESPACE, "status.replicas": _at("status.replicas", "0")}, _not_supported),
    ("", "events"): FieldSet({
        **_NAME_NAMESPACE,
        **{f"involvedObject.{f}": _at(f"involvedObject.{f}") for f in _INVOLVED_OBJECT},
        "reason": _at("reason"),
        "reportingComponent": _at("reportingComponent"),
        "source": _first_of("source.component", "reportingComponent"),
        "type": _at("type"),
    }, _not_supported),
    ("", "namespaces"): FieldSet({**_NAME, "status.phase": _at("status.phase")}, _not_supported),
    ("", "secrets"): FieldSet({**_NAME_NAMESPACE, "type": _at("type")}, _not_supported),
    ("", "services"): FieldSet({**_NAME_NAMESPACE, "spec.clusterIP": _at("spec.clusterIP"),
                             "spec.type": _at("spec.type")}, _not_supported),
    ("batch", "jobs"): FieldSet({**_NAME_NAMESPACE, "status.successful": _at("status.succeeded", "0")},
                             lambda label: f"field label {go_quote(label)} not supported for batchv1.Job"),
    ("certificates.k8s.io", "certificatesigningrequests"): FieldSet(
        {**_NAME, "spec.signerName": _at("spec.signerName")}, _not_supported),
    # events.k8s.io/v1 shares the core event field set under its own names.
    ("events.k8s.io", "events"): FieldSet({
        **_NAME_NAMESPACE,
        **{f"regarding.{f}": _at(f"regarding.{f}") for f in _INVOLVED_OBJECT},
        "reason": _at("reason"),
        "reportingController": _at("reportingController"),
        "source": _first_of("deprecatedSource.component", "reportingController"),
        "type": _at("type"),
    }, _not_supported),
}

def builtin_field_set(group: str, resource: str) -> FieldSet:
    return _BUILTIN.get((group, resource), _DEFAULT)


def custom_field_set(fields: dict[str, str], namespaced: bool = True) -> FieldSet:
    """A custom resource's field selectors as apiextensions-apiserver serves them: metadata.name,
    metadata.namespace when namespaced, and the CRD's selectableFields (field name -> JSON path such
    as ".spec.color")."""
    accepted = dict(_NAME_NAMESPACE if namespaced else _NAME)
    for name, path in fields.items():
        accepted[name] = _at(path.lstrip("."))
    return FieldSet(accepted, _not_supported)


# --- field selectors ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Term:
    get: Getter
    equal: bool
    value: str

    def matches(self, obj: dict) -> bool:
        return (self.get(obj) == self.value) == self.equal


class FieldSelector:
    """An AND of field terms, each already resolved against its resource's field set."""

    def __init__(self, terms: list[_Term]):
        self.terms = terms

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, obj: dict) -> bool:
        return all(t.matches(obj) for t in self.terms)


def _split_terms(text: str) -> list[str]:
    # Commas split terms unless backslash-escaped; the escape stays in the term for unescaping later.
    terms, start, escaped = [], 0, False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    # The left-hand side cannot be escaped, so the first operator found is the split point; "!="
    # and "==" are tried before "=" at each position.
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def _unescape(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out, escaped = [], False
    for c in value:
        if escaped:
            if c not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in ",=":
            # Go prints the offending rune with %v, i.e. as its code point number.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(text: str, kind: FieldSet) -> FieldSelector:
    """The fieldSelector query parameter for a list or watch: parsed as fields.ParseSelector does,
    then every term passed through the kind's field label conversion."""
    parsed = []
    # kube sorts the raw terms first, so the first bad term in sorted order is the one reported.
    for part in sorted(_split_terms(text)) if text else []:
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        label, op, raw = split
        parsed.append((label, op != "!=", _unescape(raw)))
    terms = []
    for label, equal, value in parsed:
        get = kind.fields.get(label)
        if get is None:
            raise SelectorError(kind.reject(label))
        terms.append(_Term(get, equal, value))
    return FieldSelector(terms)
