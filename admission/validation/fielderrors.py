"""Field errors as kube builds them (k8s.io/apimachinery/pkg/util/validation/field): the
StatusCauses of a 422, their field paths, and the Status message that sums them up.

Each constructor words its cause as kube's does, the bad value printed as Go prints it, because
kubectl shows these messages as they are and people compare them with a real cluster's.
"""
from __future__ import annotations

from collections.abc import Callable

from admission.gofmt import go_quote, go_value

NONNEGATIVE = "must be greater than or equal to 0"
IMMUTABLE = "field is immutable"


def with_detail(text: str, detail: str) -> str:
    return f"{text}: {detail}" if detail else text


class Causes:
    """A field.ErrorList: kube's constructors, producing StatusCause dicts."""

    def __init__(self):
        self.items: list[dict] = []

    def add(self, reason: str, field: str, message: str) -> None:
        self.items.append({"reason": reason, "message": message, "field": field})

    def required(self, field: str, detail: str = "") -> None:
        self.add("FieldValueRequired", field, with_detail("Required value", detail))

    def invalid(self, field: str, value, detail: str) -> None:
        self.add("FieldValueInvalid", field, with_detail(f"Invalid value: {go_value(value)}", detail))

    def invalid_each(self, field: str, value, messages: list[str]) -> None:
        for msg in messages:
            self.invalid(field, value, msg)

    def check(self, field: str, value, fmt: Callable[..., list[str]]) -> None:
        """A value against a format check (`names`), each complaint an Invalid."""
        self.invalid_each(field, value, fmt(value))

    def not_supported(self, field: str, value, supported: list[str]) -> None:
        detail = "supported values: " + ", ".join(go_quote(v) for v in supported) if supported else ""
        self.add("FieldValueNotSupported", field, with_detail(f"Unsupported value: {go_value(value)}", detail))

    def forbidden(self, field: str, detail: str) -> None:
        self.add("FieldValueForbidden", field, with_detail("Forbidden", detail))

    def duplicate(self, field: str, value, detail: str = "") -> None:
        self.add("FieldValueDuplicate", field, with_detail(f"Duplicate value: {go_value(value)}", detail))

    def not_found(self, field: str, value) -> None:
        self.add("FieldValueNotFound", field, f"Not found: {go_value(value)}")

    def too_long(self, field: str, limit: int) -> None:
        self.add("FieldValueTooLong", field, f"Too long: may not be more than {limit} bytes")

    def nonnegative(self, field: str, value) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            self.invalid(field, value, NONNEGATIVE)

    def has(self, field: str) -> bool:
        return any(cause["field"] == field for cause in self.items)

    def one_of(self, field: str, value, supported: list[str]) -> None:
        """kube's enum switch: empty is Required, anything else outside the list NotSupported."""
        if not value:
            self.required(field)
        elif value not in supported:
            self.not_supported(field, value, supported)

    def exactly_one(self, obj: dict, keys: tuple[str, ...], path: str, what: str) -> str | None:
        """kube's union checks: the first member set counts, the others are forbidden, none is required."""
        chosen = None
        for key in keys:
            if obj.get(key) is None:
                continue
            if chosen:
                self.forbidden(child(path, key), f"may not specify more than 1 {what}")
            else:
                chosen = key
        if chosen is None:
            self.required(path, f"must specify a {what}")
        return chosen


def child(base: str, *parts) -> str:
    """field.Path: Child for names, Index for ints."""
    for part in parts:
        if isinstance(part, int):
            base = f"{base}[{part}]"
        else:
            base = f"{base}.{part}" if base else part
    return base


def keyed(base: str, key: str) -> str:
    return f"{base}[{key}]"


def invalid_message(kind: str, name: str, causes: list[dict], group: str = "") -> str:
    """The 422 Status message: `Deployment.apps "web" is invalid: <field>: <message>`, several in brackets."""
    qualified = f"{kind}.{group}" if group else kind
    seen = []
    for cause in causes:
        text = f"{cause.get('field', '')}: {cause['message']}"
        if text not in seen:
            seen.append(text)
    if not seen:
        return f"{qualified} {go_quote(name)} is invalid"
    joined = seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"
    return f"{qualified} {go_quote(name)} is invalid: {joined}"
