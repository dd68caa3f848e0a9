"""The degradation model: stages in order, growing impacts, rising RMS and temperature, and a
diagnosis that finds the defect it plants."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from shopfloor.acquisition.live.payload import decode_block, decode_scalar
from shopfloor.acquisition.live.simulator import DegradingMotor, FleetSimulator, default_fleet
from shopfloor.assessment.recording_diagnosis import diagnose_signal
from shopfloor.core.errors import InputError

FS = 25_600.0


def test_stages_rms_and_temperature_rise_with_the_defect() -> None:
    m = DegradingMotor("m", onset_s=10, severe_s=40)
    assert [m.stage(t) for t in (0, 20, 50)] == ["healthy", "incipient", "severe"]
    amps = [m.impact_amplitude(t) for t in (0, 10, 20, 30, 40, 60)]
    assert amps[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(amps[1:5]))
    assert amps[-1] == m.impact_max
    rms = [float(np.sqrt(np.mean(m.vibration(t, FS, 1.0, 1) ** 2))) for t in (0, 25, 50)]
    assert rms[0] < rms[1] < rms[2]
    temps = [m.temperature_c(t) for t in (0, 20, 40, 80)]
    assert temps[0] == m.ambient_c
    assert temps == sorted(temps)
    assert temps[-1] > m.ambient_c + 5


@pytest.mark.parametrize(("defect", "label"), [("outer", "outer_race"), ("inner", "inner_race")])
def test_the_planted_defect_is_what_the_physics_diagnosis_finds(defect: str, label: str) -> None:
    m = DegradingMotor("m", defect=defect, onset_s=0, severe_s=1)
    geometry = default_fleet(1).assets[0].components[0].bearing
    severe = diagnose_signal(m.vibration(5, FS, 4.0, 3), FS, m.shaft_hz * 60, geometry)
    healthy = DegradingMotor("m", onset_s=1e9).vibration(0, FS, 4.0, 3)
    assert severe.diagnosis.label.value == label
    assert diagnose_signal(healthy, FS, m.shaft_hz * 60, geometry).diagnosis.label.value == "normal"


def test_blocks_are_consecutive_in_sequence_and_time() -> None:
    fleet = default_fleet(2)
    sim = FleetSimulator(fleet, [DegradingMotor("motor-01", onset_s=0)])
    got: list[tuple[str, bytes]] = []

    async def collect(topic: str, payload: bytes) -> None:
        got.append((topic, payload))

    asyncio.run(sim.run(collect, 2.0, realtime=False))
    blocks = [decode_block(p) for t, p in got if t.endswith("motor-01/de_accel")]
    assert [b.seq for b in blocks] == list(range(20))
    assert all(b.values.size == 2560 for b in blocks)
    assert all(b.start_ns == a.end_ns for a, b in itertools.pairwise(blocks))
    temps = [decode_scalar(p) for t, p in got if t.endswith("motor-01/de_temp")]
    assert len(temps) == 2


def test_block_length_must_be_whole_samples() -> None:
    with pytest.raises(InputError, match="whole number of samples"):
        FleetSimulator(default_fleet(1, fs_hz=1000.5), block_s=0.1)
