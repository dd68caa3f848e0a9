"""Physical units, validated and converted with pint.

Units in the data model are strings such as ``"m/s**2"``, ``"g"`` (standard gravity, not gram,
for acceleration), ``"degC"`` or ``"psi"``. They are parsed by pint and checked against the
physical quantity of the channel, so a temperature channel given in ``"bar"`` is an error, not
a silent mislabel.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

import numpy as np
import pint

from shopfloor.core.errors import UnitError


class Quantity(StrEnum):
    """Physical quantity a channel measures. The value names its SI dimensionality."""

    ACCELERATION = "acceleration"
    VELOCITY = "velocity"
    DISPLACEMENT = "displacement"
    TEMPERATURE = "temperature"
    PRESSURE = "pressure"
    CURRENT = "current"
    VOLTAGE = "voltage"
    POWER = "power"
    ROTATIONAL_SPEED = "rotational_speed"
    FREQUENCY = "frequency"
    VOLUME_FLOW = "volume_flow"
    MASS_FLOW = "mass_flow"
    MASS_FLOW_PER_PRESSURE = "mass_flow_per_pressure"  # e.g. C-MAPSS phi, fuel flow / Ps30
    FORCE = "force"
    TORQUE = "torque"
    LENGTH = "length"
    ANGLE = "angle"
    DIMENSIONLESS = "dimensionless"


# Dimensionality each quantity must have, written as a reference unit.
_REFERENCE_UNIT: dict[Quantity, str] = {
    Quantity.ACCELERATION: "m/s**2",
    Quantity.VELOCITY: "m/s",
    Quantity.DISPLACEMENT: "m",
    Quantity.TEMPERATURE: "kelvin",
    Quantity.PRESSURE: "Pa",
    Quantity.CURRENT: "A",
    Quantity.VOLTAGE: "V",
    Quantity.POWER: "W",
    Quantity.ROTATIONAL_SPEED: "rpm",
    Quantity.FREQUENCY: "Hz",
    Quantity.VOLUME_FLOW: "m**3/s",
    Quantity.MASS_FLOW: "kg/s",
    Quantity.MASS_FLOW_PER_PRESSURE: "kg/s/Pa",
    Quantity.FORCE: "N",
    Quantity.TORQUE: "N*m",
    Quantity.LENGTH: "m",
    Quantity.ANGLE: "degree",
    Quantity.DIMENSIONLESS: "dimensionless",
}


@cache
def registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    """The process-wide unit registry, built on first use (not at import)."""
    ureg: pint.UnitRegistry = pint.UnitRegistry(  # type: ignore[type-arg]
        autoconvert_offset_to_baseunit=True, on_redefinition="ignore"
    )
    # In vibration work "g" is standard gravity; pint's "g" is gram. Accelerometers are far more
    # common in our data than scales, so "g" and "mg" mean acceleration here.
    ureg.define("g_accel = 9.80665 m/s**2 = g_n")
    ureg.define("milli_g_accel = 1e-3 g_accel = mg_n")
    # pint's rpm is 2*pi rad/min, so 30 Hz would become 286 rpm. On a shaft, Hz means
    # revolutions per second: 30 Hz is 1800 rpm. Redefine rpm as a plain rate.
    ureg.define("revolutions_per_minute = 1 / minute = rpm = RPM")
    return ureg


_ALIASES = {
    "g": "g_accel",
    "mg": "milli_g_accel",
    "°C": "degC",
    "°F": "degF",
    "°R": "degR",
    "psia": "psi",
    "percent": "percent",
    "%": "percent",
}


def _pint_name(unit: str) -> str:
    text = unit.strip()
    return _ALIASES.get(text, text)


def parse_unit(unit: str, *, field: str | None = None) -> pint.Unit:
    """Parse a unit string, raising :class:`UnitError` that names ``field`` when unknown.

    >>> str(parse_unit("mm/s"))
    'millimeter / second'
    """
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"empty unit {unit!r}", column=field)
    try:
        parsed = registry().parse_units(_pint_name(unit))
    except Exception as exc:  # pint's parser raises many unrelated types (tokenize, syntax...)
        raise UnitError(f"unknown unit {unit!r} ({exc})", column=field) from exc
    return parsed


def check_unit(unit: str, quantity: Quantity, *, field: str | None = None) -> str:
    """Return ``unit`` unchanged if it is a valid unit of ``quantity``, else raise UnitError.

    >>> check_unit("g", Quantity.ACCELERATION)
    'g'
    >>> check_unit("bar", Quantity.TEMPERATURE)
    Traceback (most recent call last):
    ...
    shopfloor.core.errors.UnitError: column 'unit': unit 'bar' is not a temperature ...
    """
    parsed = parse_unit(unit, field=field or "unit")
    reference = registry().parse_units(_REFERENCE_UNIT[quantity])
    if parsed.dimensionality != reference.dimensionality:
        raise UnitError(
            f"unit {unit!r} is not {'an' if quantity.value[0] in 'aeiou' else 'a'} "
            f"{quantity.value} unit (expected something like "
            f"{_REFERENCE_UNIT[quantity]!r}, got dimensionality {parsed.dimensionality})",
            column=field or "unit",
        )
    return unit


def convert(values: Any, from_unit: str, to_unit: str) -> Any:
    """Convert a scalar or array from one unit to another (offset units such as degC included).

    >>> float(convert(1.0, "g", "m/s**2"))
    9.80665
    >>> float(round(convert(518.67, "degR", "degC"), 2))
    15.0
    """
    ureg = registry()
    src, dst = parse_unit(from_unit), parse_unit(to_unit)
    try:
        q = ureg.Quantity(np.asarray(values, dtype=float), src).to(dst)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: {exc}") from exc
    magnitude = q.magnitude
    return float(magnitude) if np.ndim(magnitude) == 0 else magnitude


def parse_quantity(text: str | float | int, unit: str, *, field: str | None = None) -> float:
    """Parse ``"2 hp"`` or a bare number into a float in ``unit``.

    >>> round(parse_quantity("2 hp", "kW"), 3)
    1.491
    >>> parse_quantity(1797, "rpm")
    1797.0
    """
    if isinstance(text, bool):
        raise UnitError(f"expected a quantity, got {text!r}", column=field)
    if isinstance(text, int | float):
        return float(text)
    ureg = registry()
    try:
        q: Any = ureg.Quantity(text)
    except Exception as exc:  # pint raises many parser error types
        raise UnitError(f"cannot read quantity {text!r} ({exc})", column=field) from exc
    if isinstance(q, int | float):
        return float(q)
    try:
        return float(q.to(parse_unit(unit, field=field)).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"{text!r} cannot be expressed in {unit!r}", column=field) from exc
