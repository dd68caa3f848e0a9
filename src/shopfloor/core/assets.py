"""Canonical asset model: plant → line → asset → component → channel.

Every later module consumes these models; dataset quirks stop at the loaders. Physical values
are stored in one canonical unit per field (named in the field) and may be given as quantity
strings such as ``"2 hp"`` or ``"0.3126 in"``, which are converted on validation.
See ``docs/data-model.md``.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from shopfloor.core.units import Quantity, check_unit, parse_quantity


def _in_unit(unit: str) -> BeforeValidator:
    """Pydantic validator: accept a number (already in ``unit``) or a quantity string."""

    def convert(value: Any) -> Any:
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            return value
        if isinstance(value, str):
            return parse_quantity(value, unit)
        return value

    return BeforeValidator(convert)


Kilowatts = Annotated[float, _in_unit("kW"), Field(gt=0)]
Rpm = Annotated[float, _in_unit("rpm"), Field(gt=0)]
Hertz = Annotated[float, _in_unit("Hz"), Field(gt=0)]
Millimetres = Annotated[float, _in_unit("mm"), Field(gt=0)]
Degrees = Annotated[float, _in_unit("degree"), Field(ge=0, lt=90)]


class Model(BaseModel):
    """Base of the data model: strict about unknown fields, so typos in configs are errors."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)


class AssetKind(StrEnum):
    INDUCTION_MOTOR = "induction_motor"
    PUMP = "pump"
    FAN = "fan"
    COMPRESSOR = "compressor"
    GEARBOX = "gearbox"
    TURBOFAN = "turbofan"
    BEARING_TEST_RIG = "bearing_test_rig"
    MOTOR_PUMP = "motor_pump"
    OTHER = "other"


class Criticality(StrEnum):
    """How much a failure hurts (ABC classification used in maintenance planning)."""

    A = "A"  # stops production or is a safety risk
    B = "B"  # degrades production
    C = "C"  # little consequence


class ComponentKind(StrEnum):
    ROLLING_BEARING = "rolling_bearing"
    SHAFT = "shaft"
    ROTOR = "rotor"
    STATOR = "stator"
    IMPELLER = "impeller"
    COUPLING = "coupling"
    GEAR = "gear"
    VALVE = "valve"
    COMPRESSOR_STAGE = "compressor_stage"
    FAN_STAGE = "fan_stage"
    OTHER = "other"


class Direction(StrEnum):
    """Measurement direction of a sensor relative to the shaft."""

    RADIAL_VERTICAL = "radial_vertical"
    RADIAL_HORIZONTAL = "radial_horizontal"
    RADIAL = "radial"
    AXIAL = "axial"
    NONE = "none"


class Nameplate(Model):
    """Motor or machine nameplate data. Every field is optional: plants rarely have all."""

    rated_power_kw: Kilowatts | None = None
    rated_speed_rpm: Rpm | None = None
    poles: int | None = Field(default=None, ge=2, le=64)
    supply_frequency_hz: Hertz | None = None
    manufacturer: str | None = None
    model: str | None = None

    @model_validator(mode="after")
    def _even_poles(self) -> Nameplate:
        if self.poles is not None and self.poles % 2:
            raise ValueError(f"poles must be even, got {self.poles}")
        return self


class BearingGeometry(Model):
    """Rolling-element bearing geometry, enough for its characteristic defect frequencies.

    Attributes
    ----------
    n_elements: number of rolling elements.
    element_diameter_mm: rolling-element (ball) diameter, mm.
    pitch_diameter_mm: pitch-circle diameter, mm.
    contact_angle_deg: contact angle, degrees (0 for deep-groove ball bearings under radial load).
    """

    designation: str | None = None
    n_elements: int = Field(ge=3, le=200)
    element_diameter_mm: Millimetres
    pitch_diameter_mm: Millimetres
    contact_angle_deg: Degrees = 0.0

    @model_validator(mode="after")
    def _element_fits(self) -> BearingGeometry:
        if self.element_diameter_mm >= self.pitch_diameter_mm:
            raise ValueError(
                f"element_diameter_mm ({self.element_diameter_mm}) must be smaller than "
                f"pitch_diameter_mm ({self.pitch_diameter_mm})"
            )
        return self

    def defect_orders(self) -> dict[str, float]:
        """Defect frequencies in orders of shaft speed (multiply by shaft Hz to get Hz).

        Outer ring fixed, inner ring rotating; BSF is the ball spin rate (one ball defect
        strikes a race at 2×BSF).

        >>> g = BearingGeometry(n_elements=9, element_diameter_mm="0.3126 in",
        ...                     pitch_diameter_mm="1.537 in")
        >>> {k: round(v, 4) for k, v in g.defect_orders().items()}
        {'ftf': 0.3983, 'bpfo': 3.5848, 'bpfi': 5.4152, 'bsf': 2.3567}
        """
        ratio = (
            self.element_diameter_mm
            / self.pitch_diameter_mm
            * math.cos(math.radians(self.contact_angle_deg))
        )
        n = self.n_elements
        return {
            "ftf": 0.5 * (1 - ratio),
            "bpfo": 0.5 * n * (1 - ratio),
            "bpfi": 0.5 * n * (1 + ratio),
            "bsf": self.pitch_diameter_mm / (2 * self.element_diameter_mm) * (1 - ratio**2),
        }


class Component(Model):
    """A part of an asset that can fail: a bearing, the rotor, an impeller, a valve."""

    id: str = Field(min_length=1)
    kind: ComponentKind
    location: str | None = Field(default=None, description="e.g. 'drive end', 'fan end'")
    bearing: BearingGeometry | None = None

    @model_validator(mode="after")
    def _bearing_only_for_bearings(self) -> Component:
        if self.bearing is not None and self.kind != ComponentKind.ROLLING_BEARING:
            raise ValueError(f"component {self.id!r}: bearing geometry given for kind {self.kind}")
        return self


class Channel(Model):
    """One measured signal: its quantity, unit, sample rate and where the sensor sits.

    ``unit`` is checked against ``quantity`` with pint (``"g"`` is standard gravity).
    ``sample_rate_hz`` is None for irregular or per-cycle data.
    """

    id: str = Field(min_length=1)
    quantity: Quantity
    unit: str
    sample_rate_hz: Hertz | None = None
    component_id: str | None = None
    location: str | None = None
    direction: Direction = Direction.NONE
    description: str | None = None

    @model_validator(mode="after")
    def _unit_fits_quantity(self) -> Channel:
        check_unit(self.unit, self.quantity, field=f"channels[{self.id}].unit")
        return self


class ExternalIds(Model):
    """Where the same asset is known outside shopfloor."""

    cmms_id: str | None = Field(default=None, description="CMMS/ERP asset number")
    opcua_node: str | None = None
    mqtt_topic: str | None = None


class Asset(Model):
    """A machine: a motor, pump, fan, turbofan engine or test rig."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str | None = None
    kind: AssetKind
    nameplate: Nameplate = Field(default_factory=Nameplate)
    criticality: Criticality = Criticality.B
    external_ids: ExternalIds = Field(default_factory=ExternalIds)
    components: list[Component] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> Asset:
        comp_ids = [c.id for c in self.components]
        chan_ids = [c.id for c in self.channels]
        for ids, what in ((comp_ids, "component"), (chan_ids, "channel")):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"asset {self.id!r}: duplicate {what} ids {dupes}")
        for ch in self.channels:
            if ch.component_id is not None and ch.component_id not in comp_ids:
                raise ValueError(
                    f"asset {self.id!r}: channel {ch.id!r} refers to unknown component "
                    f"{ch.component_id!r}"
                )
        return self

    def channel(self, channel_id: str) -> Channel:
        for ch in self.channels:
            if ch.id == channel_id:
                return ch
        raise KeyError(f"asset {self.id!r} has no channel {channel_id!r}")

    def component(self, component_id: str) -> Component:
        for comp in self.components:
            if comp.id == component_id:
                return comp
        raise KeyError(f"asset {self.id!r} has no component {component_id!r}")


class Line(Model):
    id: str = Field(min_length=1)
    name: str | None = None
    assets: list[Asset] = Field(default_factory=list)


class Plant(Model):
    id: str = Field(min_length=1)
    name: str | None = None
    lines: list[Line] = Field(default_factory=list)
