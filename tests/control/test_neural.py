"""The GRU peer simulator on the synthetic RC cabin (known answer): open-loop quality floor on
held-out ambients, the contract (deterministic, save/load), extrapolation and bad input. Skips
with the reason when the optional torch extra is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopfloor.control.simulator import LOG_COLUMNS, ExtrapolationWarning, accuracy
from shopfloor.control.synthetic import rc_cabin_log
from shopfloor.core import persistence
from shopfloor.core.errors import InputError, NotFittedError

pytest.importorskip("torch", reason="PyTorch not installed (optional extra shopfloor[torch])")

from shopfloor.control.neural import NeuralCabinSimulator


@pytest.fixture(scope="module")
def fitted() -> NeuralCabinSimulator:
    train = pd.concat([rc_cabin_log(a, k, n=1200) for k, a in enumerate((-15, -5, 5, 15, 30, 40))])
    return NeuralCabinSimulator(steps=400, window=20).fit(train[list(LOG_COLUMNS)])


def test_open_loop_beats_holding_the_start_on_held_out_ambients(
    fitted: NeuralCabinSimulator,
) -> None:
    held = pd.concat([rc_cabin_log(a, 100 + k, n=1200) for k, a in enumerate((-10, 0, 10, 25))])
    replay = fitted.simulate_log(held)
    acc = accuracy(replay)
    # Holding each drive's first cabin temperature (no model) is tens of K off after warm-up.
    first = held.groupby("run", sort=False)["cabin_temp"].transform("first")
    naive = float(np.sqrt(np.mean((first - held["cabin_temp"]) ** 2)))
    assert acc["cabin_rmse_k"] < 2.0 < naive
    assert acc["energy_error_pct_mean_abs"] < 50.0
    assert fitted.predict(held[list(LOG_COLUMNS)]).shape == (len(held),)


def test_deterministic_and_persistent(fitted: NeuralCabinSimulator, tmp_path: Path) -> None:
    log = rc_cabin_log(0.0, 7, n=600)[list(LOG_COLUMNS)]
    small = {"steps": 20, "window": 8, "hidden": 8}
    a = NeuralCabinSimulator(**small).fit(log).predict(log)
    b = NeuralCabinSimulator(**small).fit(log).predict(log)
    np.testing.assert_array_equal(a, b)
    persistence.save(fitted, tmp_path / "gru.sfmodel")
    loaded = persistence.load(tmp_path / "gru.sfmodel", trusted=True)
    np.testing.assert_allclose(loaded.predict(log), fitted.predict(log))


def test_extrapolation_and_bad_input(fitted: NeuralCabinSimulator) -> None:
    with pytest.warns(ExtrapolationWarning, match="outside the logged range"):
        fitted.simulate_log(rc_cabin_log(48.0, 3, n=300))
    bad = rc_cabin_log(0.0, 3, n=300)
    bad.loc[40, "hvac_power"] = np.nan
    with pytest.raises(InputError, match="row 40"):
        fitted.simulate_log(bad)
    with pytest.raises(NotFittedError):
        NeuralCabinSimulator().simulate_log(bad)
