"""Field errors as custom resources get them: a nil path prints "<nil>", values print as decoded
JSON prints in Go, and type, size and count errors have reasons of their own.
"""
from __future__ import annotations

from admission.gofmt import Go, go_interface, go_value
from admission.validation.fielderrors import Causes, with_detail
from admission.validation.names import is_dns1035_label


class Errors(Causes):
    """Field errors as custom resources get them: a nil path prints "<nil>", and type, size and
    count errors have their own reasons."""

    def add(self, reason: str, field: str, message: str) -> None:
        super().add(reason, field or "<nil>", message)

    def type_invalid(self, field: str, value, detail: str) -> None:
        self.add("FieldValueTypeInvalid", field, with_detail(f"Invalid value: {go_value(value)}", detail))

    def too_many(self, field: str, actual: int, limit: int) -> None:
        self.add("FieldValueTooMany", field, f"Too many: {actual}: must have at most {limit} "
                                             f"{'item' if limit == 1 else 'items'}")


def cr_value(value):
    """A decoded JSON value as a field error prints it (nil is the string "null")."""
    if value is None:
        return Go('"null"')
    if isinstance(value, (dict, list)):
        return Go(go_interface(value))
    return value


def dns1035(c: Errors, field: str, value, mixed_case: bool = False) -> None:
    errs = is_dns1035_label(str(value).lower() if mixed_case else str(value))
    if errs:
        c.invalid(field, value, ("may have mixed case, but should otherwise match: " if mixed_case else "")
                  + ",".join(errs))
