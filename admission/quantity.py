"""Resource quantities as values that add, compare and print as kube's resource.Quantity does.

Parsing is `validation.formats.parse_quantity` (kube's own grammar and messages); this adds the
format a quantity keeps (binary `Ki`, decimal `k`/`m`) and its canonical text, which is what kube
prints in quota and limit messages and in a ResourceQuota's status (`2Ki`, `1500m`, `2k`, `0`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .validation.formats import parse_quantity, quantity_text

_DECIMAL = ((18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k"), (0, ""), (-3, "m"), (-6, "u"), (-9, "n"))
_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_NANO = Fraction(1, 10 ** 9)


@dataclass(frozen=True, slots=True)
class Quantity:
    value: Fraction
    binary: bool = False

    @classmethod
    def parse(cls, raw) -> "Quantity":
        text = quantity_text(raw)
        return cls(parse_quantity(text), text.rstrip("0123456789+-").endswith("i"))

    def __add__(self, other: "Quantity") -> "Quantity":
        # kube's Add keeps the receiver's format, unless the receiver is a zero it started from.
        binary = other.binary if self.value == 0 else self.binary
        return Quantity(self.value + other.value, binary)

    def __sub__(self, other: "Quantity") -> "Quantity":
        return Quantity(self.value - other.value, self.binary)

    def __str__(self) -> str:
        return canonical(self.value, self.binary)

    def milli(self) -> int:
        """kube's MilliValue: rounded up to a whole thousandth."""
        return math.ceil(self.value * 1000)


ZERO = Quantity(Fraction(0))


def canonical(value: Fraction, binary: bool = False) -> str:
    """Quantity.String(): the largest suffix that keeps the number whole; binary suffixes only for
    whole numbers of bytes, with a decimal form for everything else (kube rounds up to nanos)."""
    if value < 0:
        return "-" + canonical(-value, binary)
    value = Fraction(math.ceil(value / _NANO)) * _NANO
    if value == 0:
        return "0"
    if binary and value.denominator == 1 and value >= 1024:
        number, step = int(value), 0
        while number % 1024 == 0 and step < len(_BINARY) - 1:
            number //= 1024
            step += 1
        return f"{number}{_BINARY[step]}"
    for exponent, suffix in _DECIMAL:
        scaled = value / Fraction(10) ** exponent
        if scaled.denominator == 1:
            return f"{scaled.numerator}{suffix}"
    return f"{value}"  # unreachable: every value is whole in nanos


def resource_list(raw: dict | None) -> dict[str, Quantity]:
    """A ResourceList (name -> quantity text) as Quantities; unparsable entries are left out (the
    schema refuses them before any plugin runs)."""
    out = {}
    for name, value in (raw or {}).items():
        try:
            out[name] = Quantity.parse(value)
        except (ValueError, TypeError):
            continue
    return out


def add_lists(a: dict[str, Quantity], b: dict[str, Quantity]) -> dict[str, Quantity]:
    out = dict(a)
    for name, q in b.items():
        out[name] = out[name] + q if name in out else q
    return out


def render_list(items: dict[str, Quantity]) -> dict[str, str]:
    return {name: str(q) for name, q in sorted(items.items())}
