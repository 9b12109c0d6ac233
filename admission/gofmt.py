"""Values as Go prints them, for messages that must read as kube-apiserver's own.

Clients and people compare kube's messages to the letter, and those messages embed values printed
by Go's fmt: %q for strings, %v and %#v for the rest, strconv's shortest digits for floats. Field
errors, decode errors, patch errors, CRD schema errors and kubectl's table cells all print through
here, so that one value reads the same in each of them.
"""
from __future__ import annotations

from decimal import Decimal



class Go(str):
    """Text already printed as Go prints the value (a String method or %#v): shown as is."""


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               '"': '\\"', "\\": "\\\\"}


def go_quote(text: str) -> str:
    """Go's %q."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def go_float(value: float, fmt: str = "g") -> str:
    """strconv.FormatFloat(value, fmt, -1, 64): the fewest digits that read back as `value`.

    fmt "g" is what %v and %#v print: exponent form below 1e-4 and from 1e6, with at least two
    exponent digits ("1e+06", "1.5e-07"). "e" and "f" are always and never in exponent form.
    "json" is encoding/json's choice, the literal a Go client sends: "f" from 1e-6 up to 1e21,
    "e" beyond, with a one-digit negative exponent left unpadded ("1e-7", "1e+21").
    """
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if fmt == "json":
        text = go_float(value, "f" if value == 0 or 1e-6 <= abs(value) < 1e21 else "e")
        return text[:-2] + text[-1] if text[-4:-1] == "e-0" else text
    # Python's repr holds the same shortest digits as Go's; only the layout differs.
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    power = 0 if value == 0 else len(digits) + exponent - 1
    minus = "-" if sign else ""
    if fmt == "g":
        fmt = "e" if power < -4 or power >= 6 else "f"
    if fmt == "e":
        head = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        return f"{minus}{head}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if power < 0:
        return f"{minus}0.{'0' * (-power - 1)}{mantissa}"
    whole = mantissa[:power + 1].ljust(power + 1, "0")
    return minus + whole + ("." + mantissa[power + 1:] if len(mantissa) > power + 1 else "")


def go_value(value) -> str:
    """How a field.Error prints its bad value: simple types plainly, strings quoted, the rest %#v."""
    if isinstance(value, Go):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return go_string_map(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return go_string_list(value)
    return go_interface(value)


def go_interface(value) -> str:
    """%#v of decoded JSON held as interface{}: what kube shows for values we hold untyped."""
    if value is None:
        return "interface {}(nil)"
    if isinstance(value, dict):
        return "map[string]interface {}{" + ", ".join(
            f"{go_quote(k)}:{go_interface(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(go_interface(v) for v in value) + "}"
    return go_value(value)


def go_string_map(value: dict | None) -> Go:
    if value is None:
        return Go("map[string]string(nil)")
    return Go("map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(str(v))}"
                                               for k, v in sorted(value.items())) + "}")


def go_string_list(value: list | None) -> Go:
    if value is None:
        return Go("[]string(nil)")
    return Go("[]string{" + ", ".join(go_quote(str(v)) for v in value) + "}")
