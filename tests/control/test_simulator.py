"""The learned cabin simulator on a synthetic RC cabin with a known answer, its contract, and
its bad-input behaviour (NaN, gaps, missing columns, extrapolation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from shopfloor.control.simulator import (
    LOG_COLUMNS,
    CabinSimulator,
    ExtrapolationWarning,
    accuracy,
    check_log,
)
from shopfloor.control.synthetic import rc_cabin_log
from shopfloor.core import persistence
from shopfloor.core.errors import InputError, NotFittedError


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return pd.concat([rc_cabin_log(a, k) for k, a in enumerate((-15, -5, 5, 15, 30, 40))])


@pytest.fixture(scope="module")
def fitted(train: pd.DataFrame) -> CabinSimulator:
    return CabinSimulator(n_estimators=100).fit(train[list(LOG_COLUMNS)])


def test_open_loop_accuracy_on_held_out_ambients(fitted: CabinSimulator) -> None:
    held_out = pd.concat([rc_cabin_log(a, 100 + k) for k, a in enumerate((-10, 0, 10, 25))])
    acc = accuracy(fitted.simulate_log(held_out))
    assert acc["cabin_rmse_k"] < 0.5
    # 25 °C lies between logged 15 and 30 °C where the synthetic cabin both heats and cools
    assert acc["energy_error_pct_mean_abs"] < 15.0
    assert fitted.ambient_range_ == (-15.0, 40.0)
    assert 0.0 < fitted.cabin_rmse_k_ < 0.5
    per_row = fitted.predict(held_out[list(LOG_COLUMNS)])
    assert per_row.shape == (len(held_out),)
    assert np.sqrt(np.mean((per_row - held_out["cabin_temp"].to_numpy()) ** 2)) < 0.5


def test_rollout_orders_setpoints_physically(fitted: CabinSimulator) -> None:
    cabin, power = fitted.rollout(
        20.0, 5.0, 0.0, np.array([[20.0] * 6, [23.0] * 6]), np.full(6, 5.0), np.full(6, 10.0)
    )
    assert cabin.shape == power.shape == (2, 6)
    assert cabin[1, -1] > cabin[0, -1] + 1.0  # a higher heating setpoint ends warmer
    assert power[1].sum() > power[0].sum()  # and costs more


def test_extrapolation_is_announced(fitted: CabinSimulator) -> None:
    with pytest.warns(ExtrapolationWarning, match="outside the logged range"):
        fitted.rollout(20.0, 20.0, 0.0, np.full((1, 3), 22.0), np.full(3, 48.0), np.zeros(3))
    assert fitted.extrapolating(np.array([-30.0]))
    assert not fitted.extrapolating(np.array([0.0, 39.9]))


def test_contract_clone_params_not_fitted_and_persistence(
    fitted: CabinSimulator, train: pd.DataFrame, tmp_path: Path
) -> None:
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params()
    assert not hasattr(fresh, "power_model_")
    with pytest.raises(NotFittedError):
        fresh.rollout(20.0, 20.0, 0.0, np.full((1, 2), 22.0), np.zeros(2), np.zeros(2))
    path = tmp_path / "sim.sfmodel"
    persistence.save(fitted, path)
    loaded = persistence.load(path, trusted=True)
    log = train[train["run"] == train["run"].iloc[0]]
    pd.testing.assert_frame_equal(loaded.simulate_log(log), fitted.simulate_log(log))
    again = CabinSimulator(n_estimators=100).fit(train[list(LOG_COLUMNS)])  # deterministic
    pd.testing.assert_frame_equal(again.simulate_log(log), fitted.simulate_log(log))


def test_nan_in_log_names_row_and_column(train: pd.DataFrame) -> None:
    bad = train.copy()
    bad.iloc[5, bad.columns.get_loc("hvac_power")] = np.nan
    with pytest.raises(InputError, match=r"row 5") as err:
        check_log(bad)
    assert err.value.column == "hvac_power"
    with pytest.raises(InputError, match="NaN"):
        CabinSimulator().fit(bad[list(LOG_COLUMNS)])


def test_gap_in_log_is_refused_with_its_time() -> None:
    log = rc_cabin_log(0.0, 1, n=400)
    gappy = log.drop(index=range(100, 160)).reset_index(drop=True)
    with pytest.raises(InputError, match=r"gap or step of 61 s after t=99 s \(row 99\)"):
        CabinSimulator().fit(gappy[list(LOG_COLUMNS)])
    with pytest.raises(InputError, match=r"lacks columns \['setpoint'\]"):
        check_log(log.drop(columns="setpoint"))
    with pytest.raises(InputError, match="needs the 7 log columns"):
        CabinSimulator().fit(log[list(LOG_COLUMNS[:-1])])
    with pytest.raises(InputError, match="no drive longer than two"):
        CabinSimulator().fit(log[list(LOG_COLUMNS)].iloc[:40])
