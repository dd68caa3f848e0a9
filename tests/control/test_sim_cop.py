"""The simulator's efficiency model on synthetic cabins with a known answer: a constant-COP
machine is identified as constant, a heat pump's COP as falling with lift (and that pays off in
held-out energy), the controller's mode follows the cabin against its setpoint, and replaying
outside the logged ambients says it is extrapolating."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopfloor.control.sim_data import LOG_COLUMNS, accuracy, to_steps
from shopfloor.control.sim_features import cop_relative, fit_cop_shape, heating_mode
from shopfloor.control.simulator import CabinSimulator, ExtrapolationWarning
from shopfloor.control.synthetic import rc_cabin_log
from shopfloor.core.errors import InputError

TRAIN_AMBIENTS = (-15.0, -5.0, 5.0, 15.0, 30.0, 40.0)
HELD_AMBIENTS = (-10.0, 0.0, 10.0, 25.0)


def _logs(ambients: tuple[float, ...], seed0: int, heat_pump: bool) -> pd.DataFrame:
    return pd.concat(
        [rc_cabin_log(a, seed0 + k, heat_pump=heat_pump) for k, a in enumerate(ambients)]
    )


@pytest.fixture(scope="module")
def heat_pump_train() -> pd.DataFrame:
    return _logs(TRAIN_AMBIENTS, 0, heat_pump=True)


def test_cop_relative_known_answer() -> None:
    s = {
        "cabin_now": np.array([20.0, 20.0, 26.85]),
        "setpoint": np.array([22.0, 22.0, 22.0]),
        "ambient": np.array([20.0, -9.3, 56.85]),
    }
    # heating at zero lift, heating at 29.3 K lift (x = 0.1), cooling at 30 K lift (x = 0.1)
    np.testing.assert_allclose(cop_relative(s, (10.0, 30.0)), [1.0, 0.5, 0.25], rtol=1e-3)
    np.testing.assert_array_equal(heating_mode(s), [1.0, 1.0, 0.0])


def test_constant_cop_machine_is_identified_as_constant() -> None:
    # the default synthetic cabin: COP 1 heating, 2.5 cooling, whatever the lift
    log = _logs(TRAIN_AMBIENTS, 0, heat_pump=False)
    sim = CabinSimulator(n_estimators=50).fit(log[list(LOG_COLUMNS)])
    assert sim.cop_shape_ == (0.0, 0.0)


def test_heat_pump_cop_falls_with_lift_and_pays_off_on_held_out(
    heat_pump_train: pd.DataFrame,
) -> None:
    sim = CabinSimulator(n_estimators=100).fit(heat_pump_train[list(LOG_COLUMNS)])
    # 30 % of Carnot capped at COP 10: 1/COP = 0.1·max(1, x/0.03), i.e. r ≈ 33 in both modes
    r_heat, r_cool = sim.cop_shape_
    assert 10.0 <= r_heat <= 100.0
    assert 10.0 <= r_cool <= 100.0
    held = _logs(HELD_AMBIENTS, 100, heat_pump=True)
    learned = accuracy(sim.simulate_log(held))
    # the same model with a constant COP (the previous simulator's assumption)
    constant = CabinSimulator(n_estimators=100, cop="constant")
    constant.fit(heat_pump_train[list(LOG_COLUMNS)])
    assert constant.cop_shape_ == (0.0, 0.0)
    flat = accuracy(constant.simulate_log(held))
    assert learned["energy_error_pct_mean_abs"] < 5.0
    assert learned["energy_error_pct_mean_abs"] < 0.5 * flat["energy_error_pct_mean_abs"]
    assert learned["cabin_rmse_k"] < 0.5


def test_fit_cop_shape_prefers_the_true_shape(heat_pump_train: pd.DataFrame) -> None:
    s = to_steps(heat_pump_train[list(LOG_COLUMNS)].to_numpy(dtype=float), 30)
    # a grid without any lift dependence can only return it; with it, the heat pump's shows
    assert fit_cop_shape(s, s["power"], grid=(0.0,)) == (0.0, 0.0)
    r_heat, r_cool = fit_cop_shape(s, s["power"])
    assert r_heat > 0.0
    assert r_cool > 0.0


def test_raised_setpoint_on_a_warm_day_heats(heat_pump_train: pd.DataFrame) -> None:
    sim = CabinSimulator(n_estimators=100).fit(heat_pump_train[list(LOG_COLUMNS)])
    # 30 °C outside, cabin at 22 °C, setpoint raised to 25 °C: the machine heats (the synthetic
    # logs do this after every upward setpoint step), it does not coast on the ambient alone
    cabin, power = sim.rollout(
        22.0, 25.0, 0.0, np.array([[25.0] * 4, [22.0] * 4]), np.full(4, 30.0), np.full(4, 10.0)
    )
    assert power[0, 0] > 0.0
    assert cabin[0, 0] > cabin[1, 0] + 0.5


def test_replaying_outside_the_logged_ambients_says_it_extrapolates(
    heat_pump_train: pd.DataFrame,
) -> None:
    sim = CabinSimulator(n_estimators=20).fit(heat_pump_train[list(LOG_COLUMNS)])
    hot = rc_cabin_log(48.0, 7, n=600, heat_pump=True)
    with pytest.warns(ExtrapolationWarning, match="extrapolating"):
        replay = sim.simulate_log(hot)
    # stated fallback: the replay still runs, on the model's extrapolation
    assert len(replay) == 19
    assert np.isfinite(replay["cabin_pred"]).all()


def test_a_simulator_saved_before_the_cop_model_is_refused(
    heat_pump_train: pd.DataFrame,
) -> None:
    sim = CabinSimulator(n_estimators=20).fit(heat_pump_train[list(LOG_COLUMNS)])
    del sim.cop_shape_  # as unpickled from a model saved by the previous release
    with pytest.raises(InputError, match=r"older shopfloor.*re-learn"):
        sim.rollout(22.0, 20.0, 0.0, np.full((1, 2), 22.0), np.full(2, 10.0), np.zeros(2))


def test_unknown_cop_option_is_refused(heat_pump_train: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="cop"):
        CabinSimulator(cop="carnot").fit(heat_pump_train[list(LOG_COLUMNS)])
