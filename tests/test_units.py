"""Units: parsing, checking against quantities, conversion (property-based where it pays)."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopfloor.core.errors import UnitError
from shopfloor.core.units import Quantity, check_unit, convert, parse_quantity, parse_unit


@pytest.mark.parametrize(
    ("unit", "quantity"),
    [
        ("g", Quantity.ACCELERATION),
        ("m/s**2", Quantity.ACCELERATION),
        ("mm/s", Quantity.VELOCITY),
        ("um", Quantity.DISPLACEMENT),
        ("degC", Quantity.TEMPERATURE),
        ("°C", Quantity.TEMPERATURE),
        ("degR", Quantity.TEMPERATURE),
        ("bar", Quantity.PRESSURE),
        ("psia", Quantity.PRESSURE),
        ("A", Quantity.CURRENT),
        ("V", Quantity.VOLTAGE),
        ("kW", Quantity.POWER),
        ("rpm", Quantity.ROTATIONAL_SPEED),
        ("RPM", Quantity.ROTATIONAL_SPEED),
        ("Hz", Quantity.FREQUENCY),
        ("L/min", Quantity.VOLUME_FLOW),
        ("lb/s", Quantity.MASS_FLOW),
    ],
)
def test_field_units_fit_their_quantity(unit: str, quantity: Quantity) -> None:
    assert check_unit(unit, quantity) == unit


@pytest.mark.parametrize(
    ("unit", "quantity"),
    [
        ("bar", Quantity.TEMPERATURE),
        ("mm/s", Quantity.ACCELERATION),
        ("kg", Quantity.ACCELERATION),
        ("A", Quantity.VOLTAGE),
    ],
)
def test_wrong_dimension_is_refused_naming_field(unit: str, quantity: Quantity) -> None:
    with pytest.raises(UnitError, match=r"channels\[x\]\.unit.*not a"):
        check_unit(unit, quantity, field="channels[x].unit")


@pytest.mark.parametrize("unit", ["bananas per hour", "", "   ", "m/s**", "g/"])
def test_unknown_unit_is_refused(unit: str) -> None:
    with pytest.raises(UnitError):
        parse_unit(unit, field="unit")


def test_g_is_standard_gravity_not_gram() -> None:
    assert convert(1.0, "g", "m/s**2") == pytest.approx(9.80665)
    assert convert(1000.0, "mg", "g") == pytest.approx(1.0)


def test_offset_temperatures_convert_correctly() -> None:
    assert convert(518.67, "degR", "degC") == pytest.approx(15.0, abs=1e-6)
    assert convert(100.0, "degC", "degF") == pytest.approx(212.0)


def test_quantity_strings() -> None:
    assert parse_quantity("2 hp", "kW") == pytest.approx(1.4914, rel=1e-4)
    assert parse_quantity("0.3126 in", "mm") == pytest.approx(7.94004)
    with pytest.raises(UnitError, match="cannot be expressed"):
        parse_quantity("3 bar", "kW", field="rated_power_kw")
    with pytest.raises(UnitError):
        parse_quantity(True, "kW")  # type: ignore[arg-type]


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(finite)
def test_conversion_round_trips(value: float) -> None:
    for a, b in (("g", "m/s**2"), ("mm/s", "in/s"), ("degC", "degF"), ("bar", "psi")):
        back = convert(convert(value, a, b), b, a)
        assert math.isclose(back, value, rel_tol=1e-9, abs_tol=1e-6)


@given(st.text(max_size=12))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    # Either a unit comes back or a UnitError: never another exception type.
    with contextlib.suppress(UnitError):
        parse_unit(text)
