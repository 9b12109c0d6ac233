"""Go's float printing, which patch errors, table cells, field errors, CRD schema messages and
decode errors share: each caller's cases, checked against what Go prints."""
from __future__ import annotations

import random
import struct

import pytest

from admission.gofmt import go_float, go_value

# %v, as kubectl's table cells (client-go's JSONPath printer) and patch errors print a float64.
PERCENT_V = [(1.0, "1"), (0.5, "0.5"), (123456.0, "123456"), (1234567.0, "1.234567e+06"), (1e6, "1e+06"),
             (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.5e-7, "-2.5e-07"), (12.125, "12.125"),
             (0.0, "0"), (-0.0, "-0"), (100000.0, "100000"), (123456789.0, "1.23456789e+08"), (1e21, "1e+21"),
             (-1.5, "-1.5"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
             (float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf")]


@pytest.mark.parametrize("value,text", PERCENT_V)
def test_go_float_prints_as_percent_v(value, text):
    assert go_float(value) == text


# encoding/json: the literal a Go client sends, which quantities and decode errors quote.
@pytest.mark.parametrize("value,text", [(1e6, "1000000"), (3e9, "3000000000"), (1.5, "1.5"), (0.0, "0"),
                                        (-0.0, "-0"), (1.5e-5, "0.000015"), (1e-6, "0.000001"), (1e-7, "1e-7"),
                                        (2.5e-7, "2.5e-7"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
                                        (-1.25e22, "-1.25e+22"), (123456789.125, "123456789.125")])
def test_go_float_json_is_the_literal_a_go_client_sends(value, text):
    assert go_float(value, "json") == text


@pytest.mark.parametrize("value,fmt,text", [(0.0, "e", "0e+00"), (1.0, "e", "1e+00"), (123.0, "e", "1.23e+02"),
                                            (1e21, "f", "1000000000000000000000"), (1e-7, "f", "0.0000001"),
                                            (2.5e20, "f", "250000000000000000000")])
def test_go_float_e_and_f(value, fmt, text):
    assert go_float(value, fmt) == text


def test_go_float_reads_back_as_the_same_float():
    rng = random.Random(7)
    values = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(2000)]
    values += [rng.uniform(-1e7, 1e7) for _ in range(2000)]
    for value in (v for v in values if v == v and abs(v) != float("inf")):
        for fmt in ("g", "e", "f", "json"):
            assert float(go_float(value, fmt)) == value, (value, fmt)


def test_field_errors_print_floats_with_percent_v():
    # field.Error prints a float64 bad value with %v, as custom resources' number fields show it.
    assert go_value(2.5) == "2.5"
    assert go_value(1e6) == "1e+06"
    assert go_value(3) == "3"
