"""ISO 10816 velocity severity: integration, units and zone boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopfloor.core.errors import InputError
from shopfloor.manipulation.severity import (
    Foundation,
    machine_group,
    severity_zone,
    velocity_rms_mm_s,
)

FS = 10_000.0
T = np.arange(20_000) / FS


@given(st.floats(min_value=12.0, max_value=900.0), st.floats(min_value=0.1, max_value=50.0))
@settings(max_examples=30, deadline=None)
def test_sine_velocity_is_recovered_from_acceleration(freq: float, v_peak_mm_s: float) -> None:
    freq = round(freq * 2) / 2  # on a bin: leakage is not what is tested here
    acc = 2 * np.pi * freq * v_peak_mm_s / 1000 * np.cos(2 * np.pi * freq * T)
    got = velocity_rms_mm_s(acc, FS)[0]
    assert got == pytest.approx(v_peak_mm_s / np.sqrt(2), rel=1e-3)


def test_units_are_converted_and_out_of_band_ignored() -> None:
    acc_g = np.cos(2 * np.pi * 100 * T) / 9.80665  # 1 m/s² amplitude written in g
    ref = velocity_rms_mm_s(np.cos(2 * np.pi * 100 * T), FS)[0]
    assert velocity_rms_mm_s(acc_g, FS, unit="g")[0] == pytest.approx(ref)
    assert velocity_rms_mm_s(np.cos(2 * np.pi * 3000 * T), FS)[0] < 1e-6  # above 1 kHz


@pytest.mark.parametrize(
    ("v", "group", "foundation", "zone"),
    [
        (0.7, "class_I", Foundation.RIGID, "A"),
        (1.0, "class_I", Foundation.RIGID, "B"),
        (3.1, "group_2", Foundation.RIGID, "C"),
        (3.1, "group_2", Foundation.FLEXIBLE, "B"),
        (12.0, "group_1", Foundation.FLEXIBLE, "D"),
    ],
)
def test_zone_boundaries(v: float, group: str, foundation: Foundation, zone: str) -> None:
    assert severity_zone(v, group, foundation) == zone


def test_group_from_nameplate_and_bad_input() -> None:
    assert machine_group(1.5) == "class_I"
    assert machine_group(15.0) == "class_I"
    assert machine_group(75.0) == "group_2"
    assert machine_group(1200.0) == "group_1"
    with pytest.raises(InputError, match="rated power unknown"):
        machine_group(None)
    with pytest.raises(InputError, match="too low"):
        velocity_rms_mm_s(np.zeros(2048), 1500.0)
    with pytest.raises(InputError, match="unknown ISO machine group"):
        severity_zone(1.0, "group_9")
    with pytest.raises(InputError, match="non-negative"):
        severity_zone(float("nan"), "group_2")
