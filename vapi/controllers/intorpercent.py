"""An IntOrString such as maxUnavailable or maxSurge, scaled against a total (kube's
intstr.GetScaledValueFromIntOrPercent)."""
from __future__ import annotations

import math


def scaled_value(value: int | str | None, total: int, round_up: bool, default: int | str = 0) -> int:
    if value is None:
        value = default
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    share = int(text[:-1]) * total / 100
    return math.ceil(share) if round_up else math.floor(share)
