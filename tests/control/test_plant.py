"""The FASTSim plant adapter: chained co-simulation windows reproduce one run exactly; what it
logs is what a car's logger records; bad vehicles, cycles and ambients are clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopfloor.control.plant import CHANNELS, CabinPlant, Command, load_cycle, load_vehicle
from shopfloor.core.errors import InputError

pytestmark = pytest.mark.usefixtures("fastsim_available")


def _run(plant: CabinPlant, cycle: str, amb: float, setpoints: list[float]) -> None:
    plant.reset(cycle, amb)
    k = 0
    while not plant.done:
        plant.step(Command(setpoints[k % len(setpoints)]))
        k += 1


@pytest.mark.parametrize(("vehicle", "ambient"), [("bolt", -10.0), ("model3", 35.0)])
def test_chained_windows_reproduce_one_run_exactly(vehicle: str, ambient: float) -> None:
    chained = CabinPlant(vehicle, step_s=30)
    _run(chained, "udds", ambient, [22.0])
    single = CabinPlant(vehicle, step_s=10_000)
    _run(single, "udds", ambient, [22.0])
    a, b = chained.episode, single.episode
    assert len(a.log["cabin_temp"]) == 1370
    for key in a.log:
        np.testing.assert_array_equal(a.log[key], b.log[key], err_msg=key)
    assert a.battery_energy_j == b.battery_energy_j
    assert a.distance_m == b.distance_m
    # the run did something: the cabin left its soak temperature towards the setpoint
    assert abs(a.log["cabin_temp"][-1] - 22.0) < 2.0 < abs(ambient - 22.0)


def test_commands_take_effect_and_observations_are_logger_channels() -> None:
    plant = CabinPlant("bolt", step_s=60)
    obs = plant.reset("udds", 30.0)
    assert set(obs) == set(CHANNELS)
    _run(plant, "udds", 30.0, [20.0])
    cool = plant.episode.log["hvac_power"].sum()
    _run(plant, "udds", 30.0, [24.0])
    warm = plant.episode.log["hvac_power"].sum()
    assert cool > warm > 0  # cooling to 20 °C costs more than to 24 °C
    assert set(plant.episode.log) == {*CHANNELS, "setpoint"}


def test_udds4_is_four_udds_back_to_back() -> None:
    one = load_cycle("udds", 0.0)
    four = load_cycle("udds4", 0.0)
    assert len(four["time_seconds"]) == 4 * (len(one["time_seconds"]) - 1) + 1
    assert four["time_seconds"][-1] == 4 * one["time_seconds"][-1]
    assert np.all(np.diff(four["time_seconds"]) > 0)


def test_missing_vehicle_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "no such car.yaml"
    with pytest.raises(InputError, match="vehicle file not found") as err:
        load_vehicle(str(missing))
    assert str(missing) in str(err.value)
    with pytest.raises(InputError, match="unknown vehicle 'trabant'"):
        CabinPlant("trabant")


def test_bad_cycle_and_ambient_profile_are_clear_errors() -> None:
    with pytest.raises(InputError, match="unknown drive cycle 'us06'"):
        load_cycle("us06", 20.0)
    with pytest.raises(InputError, match="ambient profile has 3 values"):
        load_cycle("udds", np.array([1.0, 2.0, 3.0]))
    profile = np.full(1370, 5.0)
    profile[7] = np.nan
    with pytest.raises(InputError, match="NaN"):
        load_cycle("udds", profile)
    plant = CabinPlant("bolt")
    plant.reset("hwfet", 10.0)
    with pytest.raises(InputError, match="setpoint must be a finite"):
        plant.step(Command(float("nan")))


def test_pack_cap_and_gain_scale_reach_the_vehicle() -> None:
    plant = CabinPlant("bolt", step_s=60)
    assert plant.pack_window_c == (7.0, 37.0)
    plant.reset("udds", -10.0)
    plant.step(Command(22.0), seconds=300)
    full = plant.episode.hvac_battery_power.copy()
    plant.reset("udds", -10.0)
    plant.step(Command(22.0, pack_cap_w=1000.0), seconds=300)
    capped = plant.episode.hvac_battery_power
    assert full.max() > 4000.0
    assert capped.max() <= 1000.0 + 1e-6
    plant.reset("udds", -10.0)
    with pytest.raises(InputError, match="gain_scale must be a positive number"):
        plant.step(Command(22.0, gain_scale=0.0))
