"""Offset-free prediction: the disturbance observer, the disturbed rollout, the MPC's wiring of
both, the gain measured on the in-log validation split, and the small-move validation drives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopfloor.control.comfort import ComfortSpec
from shopfloor.control.mpc import SamplingMPC
from shopfloor.control.mpc_guard import (
    MPCGuard,
    calibrate_guard,
    gains_from_metrics,
    table_metrics,
)
from shopfloor.control.observer import DisturbanceObserver, disturbed_rollout, estimates_along
from shopfloor.control.simulator import LOG_COLUMNS, CabinSimulator
from shopfloor.control.synthetic import rc_cabin_log
from shopfloor.core.errors import InputError


@pytest.fixture(scope="module")
def synthetic_log() -> pd.DataFrame:
    return pd.concat(
        [rc_cabin_log(a, s, n=2400) for a in (-10.0, -5.0, 0.0, 5.0, 30.0, 35.0) for s in (1, 2)],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def sim(synthetic_log: pd.DataFrame) -> CabinSimulator:
    return CabinSimulator(n_estimators=30).fit(synthetic_log[list(LOG_COLUMNS)])


def test_estimate_converges_geometrically_to_a_constant_bias() -> None:
    # the undisturbed model is 0.3 K short every interval: estimate = 0.3 (1 − (1 − L)^k)
    for gain in (0.2, 0.5, 1.0):
        est = estimates_along(np.full(12, 0.3), gain)
        k = np.arange(12)
        assert est == pytest.approx(0.3 * (1.0 - (1.0 - gain) ** k), abs=1e-12)
    assert np.all(estimates_along(np.full(5, 0.3), 0.0) == 0.0)  # gain 0: never corrects


def test_observer_skips_missing_readings_and_refuses_bad_gains() -> None:
    obs = DisturbanceObserver(0.5)
    obs.update(0.4)
    assert obs.update(float("nan")) == pytest.approx(0.2)
    for bad in (-0.1, 1.5):
        with pytest.raises(InputError, match="observer gain"):
            DisturbanceObserver(bad)


def test_disturbed_rollout_adds_the_disturbance_inside_the_model(sim: CabinSimulator) -> None:
    sp = np.array([[22.0] * 6, [23.0] * 6])
    amb, spd = np.full(6, 30.0), np.full(6, 10.0)
    plain = sim.rollout(23.0, 30.0, 0.0, sp, amb, spd, warn=False)
    same = disturbed_rollout(sim, 23.0, 30.0, 0.0, sp, amb, spd, 0.0)
    assert np.array_equal(plain[0], same[0])
    assert np.array_equal(plain[1], same[1])
    cab, _ = disturbed_rollout(sim, 23.0, 30.0, 0.0, sp, amb, spd, 0.2)
    # the first interval starts from the same state: exactly the bias apart
    assert cab[:, 0] == pytest.approx(plain[0][:, 0] + 0.2, abs=1e-9)
    # later intervals carry it through the model (the simulated PID reacts), so they differ
    # from the undisturbed rollout by more than nothing and less than the bias summed
    gap = cab[:, -1] - plain[0][:, -1]
    assert np.all(gap > 0.0)
    assert np.all(gap <= 6 * 0.2 + 1e-9)


def test_mpc_identifies_a_constant_plant_disturbance(sim: CabinSimulator) -> None:
    """A plant that is the simulator plus 0.15 K per interval: the MPC's estimate, from the
    measured cabin alone, follows 0.15 (1 − (1 − L)^k) exactly."""
    gain, true_d = 0.5, 0.15
    guard = MPCGuard(dwell_steps=1, observer_gains={"cooling": gain})
    mpc = SamplingMPC(sim, ComfortSpec(), margin_k=0.05, guard=guard)
    mpc.reset()
    future = {"ambient_temp": np.full(240, 30.0), "speed": np.full(240, 10.0)}
    cabin, battery, z = 22.4, 30.0, 0.0
    a = np.exp(-30 / 600.0)
    seen = []
    for _ in range(8):
        obs = {"cabin_temp": cabin, "battery_temp": battery, "ambient_temp": 30.0, "speed": 10.0}
        sp = mpc.act(obs, future).setpoint_c
        seen.append(mpc._d)
        step = disturbed_rollout(
            sim, cabin, battery, z, np.array([[sp]]), np.full(1, 30.0), np.full(1, 10.0), true_d
        )
        z = a * z + (1.0 - a) * (sp - cabin)
        cabin = float(step[0][0, 0])  # the pack is held: the estimate concerns the cabin
    k = np.arange(8)
    assert seen == pytest.approx(true_d * (1.0 - (1.0 - gain) ** k), abs=1e-6)


def test_no_gain_keeps_the_uncorrected_mpc(sim: CabinSimulator) -> None:
    future = {"ambient_temp": np.full(240, 30.0), "speed": np.full(240, 10.0)}
    obs = {"cabin_temp": 22.4, "battery_temp": 30.0, "ambient_temp": 30.0, "speed": 10.0}
    mpc = SamplingMPC(sim, ComfortSpec(), guard=MPCGuard(observer_gains={"heating": 0.5}))
    mpc.reset()
    for _ in range(4):  # cooling: no gain for this mode
        mpc.act(obs, {**future})
        obs["cabin_temp"] += 0.3
    assert mpc._d == 0.0


def test_calibration_chooses_the_gain_per_mode_on_the_validation_split(
    synthetic_log: pd.DataFrame,
) -> None:
    kw = {"validation_ambients_c": (-5.0, 30.0), "simulator_params": {"n_estimators": 30}}
    log = synthetic_log[list(LOG_COLUMNS)]
    guard = calibrate_guard(log, gains=(0.0, 0.5), **kw)
    by_gain = guard.how["observer_error_by_gain"]
    for mode in ("heating", "cooling"):
        errors = by_gain[mode]
        assert set(errors) == {"0", "0.5"}
        assert guard.observer_gains[mode] == float(min(errors, key=errors.__getitem__))
    # the relaxing-step distance is the largest validation error (a hard comfort constraint):
    # the pooled error is the largest row of the per-move table
    top = max(r["error_k"] for r in guard.cabin_error_table)
    assert guard.cabin_error_k == pytest.approx(top, abs=1e-4)
    plain = calibrate_guard(log, gains=(0.0,), **kw)
    assert plain.observer_gains == {"heating": 0.0, "cooling": 0.0}
    # validation-only drives add rollouts to the table, never to the fit
    extra = rc_cabin_log(30.0, 9, n=2400)[list(LOG_COLUMNS)]
    more = calibrate_guard(log, gains=(0.0,), validation_log=extra, **kw)
    count = sum(r["rollouts"] for r in more.cabin_error_table)
    assert count > sum(r["rollouts"] for r in plain.cabin_error_table)
    assert "plus 1 validation-only drives" in more.how["split"]
    assert gains_from_metrics(table_metrics(guard)) == guard.observer_gains


@pytest.mark.usefixtures("fastsim_available")
def test_validation_drives_step_by_the_mpc_move_sizes(tmp_path: Path) -> None:
    from shopfloor.control.logs import VALIDATION_EXCITATION, record_validation_logs

    paths = record_validation_logs("bolt", tmp_path)
    assert {p.name.split(".")[1] for p in paths} == {"m5C", "p25C"}
    assert all("excited" in p.name for p in paths)
    lo, hi = VALIDATION_EXCITATION.range_c
    for p in paths:
        sp = pd.read_csv(p)["setpoint"].to_numpy()
        steps = np.abs(np.diff(sp))
        steps = steps[steps > 0]
        assert steps.size >= 3
        # the CSV keeps 6 significant digits
        assert np.all((steps >= 0.25 - 1e-3) & (steps <= 1.0 + 1e-3))
        assert sp.min() >= lo - 1e-3
        assert sp.max() <= hi + 1e-3


# --- the stock loop's settled offset ---------------------------------------------------------
def _settled_log(ambient: float, offset: float, wobble: float, n: int = 1200) -> pd.DataFrame:
    """A stock drive (setpoint 22 throughout) whose cabin warms up linearly from ambient to
    22 + offset in 300 s, then holds it ± ``wobble``."""
    t = np.arange(n, dtype=float)
    target = 22.0 + offset
    cab = np.where(t < 300, ambient + (target - ambient) * t / 300.0, target)
    cab = cab + np.where(t >= 300, wobble * np.sin(t / 20.0), 0.0)
    return pd.DataFrame(
        {
            "time_s": t,
            "cabin_temp": cab,
            "battery_temp": ambient,
            "ambient_temp": ambient,
            "speed": 10.0,
            "hvac_power": 1000.0,
            "setpoint": 22.0,
        }
    )


def test_steady_offsets_known_answer() -> None:
    from shopfloor.control.steady import offset_bounds, steady_offsets

    excited = _settled_log(5.0, -2.0, 0.0)
    excited.loc[600:, "setpoint"] = 23.0  # a drive whose setpoint moves is not read
    log = pd.concat(
        [_settled_log(5.0, -0.5, 0.05), _settled_log(15.0, -0.4, 0.02), excited],
        ignore_index=True,
    )
    rows = steady_offsets(log, tau_s=40.0)
    assert [(r["ambient_c"], r["mode"]) for r in rows] == [(5.0, "heating"), (15.0, "heating")]
    assert rows[0]["low_k"] == pytest.approx(-0.55, abs=1e-3)
    assert rows[0]["high_k"] == pytest.approx(-0.45, abs=1e-3)
    # the settled part starts 3 tau after the cabin first came within 1 K of the setpoint
    first_in = int(np.ceil(300 * 16.0 / 16.5))  # the ramp from 5 °C reaches 21 °C here
    assert rows[0]["seconds"] == 1200 - (first_in + 120)
    assert offset_bounds(rows, 15.2) == (rows[1]["low_k"], rows[1]["high_k"])
    # between two logged ambients: the union of both, never narrower than either
    assert offset_bounds(rows, 10.0) == (rows[0]["low_k"], rows[1]["high_k"])
    assert offset_bounds(rows, 0.0) is None  # no extrapolation
    assert offset_bounds([], 10.0) is None


def test_settled_offset_lets_a_relaxing_step_through_only_inside_the_band() -> None:
    from shopfloor.control.mpc import choose_guarded

    spec = ComfortSpec()
    # heating; held 22 (row -2) and stock 22 (row -1); candidate 21.75 relaxes, predicted at
    # 21.3 over the horizon: too close to the edge for a 0.6 K model error
    cands = np.array([21.75, 21.25, 22.0, 22.0])
    cabin = np.array([[21.3] * 4, [21.2] * 4, [21.5] * 4, [21.5] * 4])
    power = np.array([[800.0] * 4, [700.0] * 4, [1000.0] * 4, [1000.0] * 4])
    rows = [{"ambient_c": 15.0, "mode": "heating", "low_k": -0.56, "high_k": -0.5, "seconds": 600}]
    guard = MPCGuard(cabin_error_k=0.6, saving_error_frac=0.05, steady_offsets=rows)
    kw = {"heating": True}
    assert choose_guarded(cands, cabin, power, spec, 0.05, guard, **kw)[0] == 22.0
    # at 15 °C the settled cabin at 21.75 is 21.19..21.25 (inside by the margin): taken; at
    # 21.25 it would be 20.69: refused although cheaper
    assert choose_guarded(cands, cabin, power, spec, 0.05, guard, ambient_c=15.0, **kw)[0] == 21.75
    # a predicted horizon point outside the margin still refuses it
    cabin[0, 2] = 21.02
    assert choose_guarded(cands, cabin, power, spec, 0.05, guard, ambient_c=15.0, **kw)[0] == 22.0
    # no logged neighbour on one side: no settled-offset route
    assert choose_guarded(cands, cabin, power, spec, 0.05, guard, ambient_c=30.0, **kw)[0] == 22.0


def test_no_relaxing_toward_an_edge_that_settled_stock_already_reaches() -> None:
    from shopfloor.control.mpc import choose_guarded

    spec = ComfortSpec()
    # cooling; candidate 22.25 relaxes (cheaper), predicted well inside the band (22.6 °C) and a
    # model error that allows it; held 22 and stock 22
    cands = np.array([22.25, 22.0, 22.0])
    cabin = np.array([[22.6] * 4, [22.5] * 4, [22.5] * 4])
    power = np.array([[800.0] * 4, [1000.0] * 4, [1000.0] * 4])
    rows = [
        {"ambient_c": 35.0, "mode": "cooling", "low_k": 0.49, "high_k": 0.84, "seconds": 600},
        {"ambient_c": 40.0, "mode": "cooling", "low_k": 0.48, "high_k": 1.06, "seconds": 600},
    ]
    guard = MPCGuard(cabin_error_k=0.1, saving_error_frac=0.05, steady_offsets=rows)
    kw = {"heating": False}
    # at 35 °C settled stock tops out at 22.84 °C: there is slack, the relaxing step is taken
    assert choose_guarded(cands, cabin, power, spec, 0.05, guard, ambient_c=35.0, **kw)[0] == 22.25
    # at 40 °C settled stock reaches 23.06 °C, past the edge: no slack toward the upper edge
    assert choose_guarded(cands, cabin, power, spec, 0.05, guard, ambient_c=40.0, **kw)[0] == 22.0
    # between them the union of both neighbours (conservative, as for the settled route)
    assert choose_guarded(cands, cabin, power, spec, 0.05, guard, ambient_c=37.5, **kw)[0] == 22.0
    # without the ambient there are no settled offsets: judged by the model error alone
    assert choose_guarded(cands, cabin, power, spec, 0.05, guard, **kw)[0] == 22.25


def test_steady_offsets_round_trip_through_registry_metrics() -> None:
    from shopfloor.control.mpc_guard import steady_from_metrics

    rows = [
        {"ambient_c": -5.0, "mode": "heating", "low_k": -1.5, "high_k": -0.6, "seconds": 0},
        {"ambient_c": 35.0, "mode": "cooling", "low_k": 0.52, "high_k": 0.8, "seconds": 0},
    ]
    guard = MPCGuard(steady_offsets=rows)
    assert steady_from_metrics(table_metrics(guard)) == rows
