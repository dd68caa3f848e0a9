"""The canonical data model: validation, unit handling, references, labels."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shopfloor.core.assets import (
    Asset,
    BearingGeometry,
    Channel,
    Component,
    Line,
    Nameplate,
    Plant,
)
from shopfloor.core.errors import UnitError
from shopfloor.core.labels import AnomalyInterval, FaultLabel, LifeLabel
from shopfloor.core.recording import Recording, TimeBase

SKF_6205 = {
    "designation": "SKF 6205-2RS JEM",
    "n_elements": 9,
    "element_diameter_mm": "0.3126 in",
    "pitch_diameter_mm": "1.537 in",
}


def motor() -> Asset:
    return Asset(
        id="P-101-M",
        name="Cooling pump motor",
        kind="induction_motor",
        criticality="A",
        nameplate=Nameplate(
            rated_power_kw="15 kW", rated_speed_rpm=1475, poles=4, supply_frequency_hz="60 Hz"
        ),
        external_ids={
            "cmms_id": "EQ-00123",
            "opcua_node": "ns=2;s=Pump101.Motor",
            "mqtt_topic": "plant/line1/p101/motor",
        },
        components=[
            Component(
                id="de_bearing",
                kind="rolling_bearing",
                location="drive end",
                bearing=BearingGeometry(**SKF_6205),
            )
        ],
        channels=[
            Channel(
                id="de_acc",
                quantity="acceleration",
                unit="g",
                sample_rate_hz=12000,
                component_id="de_bearing",
                direction="radial_vertical",
            )
        ],
    )


def test_full_hierarchy_round_trips_through_json() -> None:
    plant = Plant(id="busan-1", lines=[Line(id="L1", assets=[motor()])])
    back = Plant.model_validate_json(plant.model_dump_json())
    assert back == plant
    assert back.lines[0].assets[0].nameplate.supply_frequency_hz == 60.0


def test_cwru_defect_orders_match_published_values() -> None:
    orders = BearingGeometry(**SKF_6205).defect_orders()
    # CWRU's page: BPFI 5.4152, BPFO 3.5848, FTF 0.39828, BSF 2.3567 (x shaft speed)
    assert orders["bpfi"] == pytest.approx(5.4152, abs=1e-4)
    assert orders["bpfo"] == pytest.approx(3.5848, abs=1e-4)
    assert orders["ftf"] == pytest.approx(0.39828, abs=1e-4)
    assert orders["bsf"] == pytest.approx(2.3567, abs=1e-4)


def test_quantity_strings_convert_to_field_units() -> None:
    np_ = Nameplate(rated_power_kw="2 hp", rated_speed_rpm="30 Hz")
    assert np_.rated_power_kw == pytest.approx(1.4914, rel=1e-4)
    assert np_.rated_speed_rpm == pytest.approx(1800.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"unit": "bar"}, "not an acceleration unit"), ({"unit": "bananas"}, "unknown unit")],
)
def test_channel_unit_must_fit_quantity(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises((ValidationError, UnitError), match=message):
        Channel(id="x", quantity="acceleration", **kwargs)


def test_bad_values_name_their_field() -> None:
    with pytest.raises(ValidationError, match="poles"):
        Nameplate(poles=3)
    with pytest.raises(ValidationError, match="rated_power_kw"):
        Nameplate(rated_power_kw="3 bar")
    with pytest.raises(ValidationError, match="smaller than pitch"):
        BearingGeometry(n_elements=9, element_diameter_mm=40, pitch_diameter_mm=39)
    with pytest.raises(ValidationError, match="extra"):
        Asset(id="a", kind="pump", colour="red")  # type: ignore[call-arg]


def test_references_must_resolve() -> None:
    with pytest.raises(ValidationError, match="unknown component"):
        Asset(
            id="a",
            kind="pump",
            channels=[Channel(id="c", quantity="temperature", unit="degC", component_id="nope")],
        )
    with pytest.raises(ValidationError, match="duplicate channel"):
        Asset(
            id="a",
            kind="pump",
            channels=[
                Channel(id="c", quantity="temperature", unit="degC"),
                Channel(id="c", quantity="current", unit="A"),
            ],
        )


def test_labels_are_a_discriminated_union() -> None:
    rec = Recording(
        id="r",
        asset_id="a",
        channel_ids=["c"],
        n_samples=10,
        time_base=TimeBase(kind="cycles"),
        labels=[
            {"kind": "life", "unit": "cycles", "life": 200, "observed_until": 150},
            {"kind": "fault", "location": "inner_race", "size_mm": 0.1778},
            {"kind": "anomaly", "start_s": 10, "end_s": 20},
        ],
    )
    assert isinstance(rec.labels[0], LifeLabel)
    assert rec.labels[0].rul_at_end == 50
    assert isinstance(rec.fault(), FaultLabel)
    assert isinstance(rec.labels[2], AnomalyInterval)
    with pytest.raises(ValidationError, match="exceeds life"):
        LifeLabel(unit="s", life=10, observed_until=20)


def test_time_base_requires_what_its_kind_needs() -> None:
    with pytest.raises(ValidationError, match="needs sample_rate_hz"):
        TimeBase(kind="uniform")
    with pytest.raises(ValidationError, match="burst_length"):
        TimeBase(kind="bursts", sample_rate_hz=25600)
    tb = TimeBase(kind="bursts", sample_rate_hz=25600, burst_length=2560, burst_interval_s=10)
    rec = Recording(id="r", asset_id="a", channel_ids=["h"], n_samples=2560 * 3, time_base=tb)
    assert rec.duration_s == 30.0
