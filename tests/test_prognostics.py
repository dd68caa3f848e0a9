"""Remaining-life contract, preprocessing and models on generated fleets with known answers.

The contract kit (``tests/test_components.py``) runs the common and prognostics checks on every
RUL model; here: the unit-sequence input kind and its bad-input cases, regimes, sensor
selection, windows, conformal calibration and a quality floor per model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopfloor.core.base import RULPredictor as ExportedRULPredictor
from shopfloor.core.errors import InputError
from shopfloor.core.prognostics import (
    RemainingLife,
    RULPredictor,
    as_unit_sequences,
    run_to_failure_rul,
)
from shopfloor.prognostics.boosted import GradientBoostedRUL
from shopfloor.prognostics.conformal import NormalisedScores, grouped_folds, weighted_quantile
from shopfloor.prognostics.preprocessing import (
    RegimeNormalizer,
    cap_rul,
    sensor_trends,
    window_features,
)
from shopfloor.testing.prognostics import degradation_fleet


def test_core_base_exports_the_contract() -> None:
    assert ExportedRULPredictor is RULPredictor


# --- bad input (issue 15 goals) -------------------------------------------------------------


def test_non_monotone_cycle_counter_names_unit_and_row() -> None:
    x = degradation_fleet(3, 0)
    x.loc[10, "time"] = 5.0
    with pytest.raises(InputError, match=r"unit 1 does not increase at row 10 .*non-monotone"):
        as_unit_sequences(x)


def test_missing_sensor_columns_are_named() -> None:
    x = degradation_fleet(3, 0)
    with pytest.raises(InputError, match=r"missing channel columns \['c1'\]"):
        as_unit_sequences(x.drop(columns=["c1"]), channels=["c0", "c1", "c2"])
    with pytest.raises(InputError, match="need a 'unit' column"):
        as_unit_sequences(x.drop(columns=["unit"]))


def test_nan_is_an_error_naming_unit_time_and_channel() -> None:
    x = degradation_fleet(3, 0)
    x.loc[x.index[x["unit"] == 2][4], "c2"] = np.nan
    with pytest.raises(InputError, match=r"c2.*first in unit 2 at time 5"):
        as_unit_sequences(x)
    y = degradation_fleet(3, 0)
    y.loc[3, "unit"] = np.nan
    with pytest.raises(InputError, match="unit is nan"):
        as_unit_sequences(y)


def test_units_must_be_contiguous() -> None:
    x = degradation_fleet(3, 0)
    shuffled = pd.concat([x[x.unit == 1].iloc[:5], x[x.unit == 2], x[x.unit == 1].iloc[5:]])
    with pytest.raises(InputError, match="rows of unit 1 are not contiguous"):
        as_unit_sequences(shuffled)


def test_short_unit_is_an_explicit_fallback_stated_in_the_output() -> None:
    model = GradientBoostedRUL(window=30, n_estimators=30, n_folds=2, random_state=0)
    model.fit(degradation_fleet(10, 0))
    short = degradation_fleet(2, 1)
    short = short[short.time <= 12]  # unit 1 and 2 have 12 steps, fewer than the window
    lives = model.remaining_life(short)
    assert len(lives) == 2
    assert all("shorter than the 30-step window" in life.notes[0] for life in lives)
    assert all(life.lower <= life.point <= life.upper for life in lives)


# --- pieces --------------------------------------------------------------------------------


def test_run_to_failure_rul_and_cap() -> None:
    seq = as_unit_sequences(degradation_fleet(2, 0))
    rul = run_to_failure_rul(seq)
    assert (rul[seq.last_rows] == 0).all()
    assert cap_rul(np.array([10.0, 200.0]), 125.0).tolist() == [10.0, 125.0]
    assert cap_rul(np.array([200.0]), None).tolist() == [200.0]


def test_regimes_found_and_normalised_away() -> None:
    rng = np.random.default_rng(0)
    regime = rng.integers(0, 3, 3000)
    settings = np.array([[0.0, 0.0], [10.0, 0.5], [35.0, 0.8]])[regime]
    settings += rng.normal(0, 0.01, settings.shape)
    sensor = np.array([500.0, 600.0, 700.0])[regime] + rng.normal(0, 1.0, 3000)
    values = np.column_stack([settings, sensor])
    norm = RegimeNormalizer([0, 1]).fit(values)
    assert norm.n_regimes_ == 3
    z = norm.transform(values)[:, 2]
    assert abs(z.mean()) < 0.05
    assert 0.95 < z.std() < 1.05
    one = RegimeNormalizer([0, 1]).fit(np.column_stack([rng.normal(0, 1, (500, 2)), sensor[:500]]))
    assert one.n_regimes_ == 1


def test_sensor_trends_rank_the_degrading_channel_first() -> None:
    seq = as_unit_sequences(degradation_fleet(8, 0))
    trends = sensor_trends(seq, seq.values)
    assert trends["trend"]["c0"] > 0.8
    assert trends["trend"]["c2"] < 0.1
    assert trends["monotonicity"]["c0"] > trends["monotonicity"]["c2"]


def test_window_features_use_only_the_past() -> None:
    x = degradation_fleet(2, 0)
    seq = as_unit_sequences(x)
    full = window_features(seq, seq.values, 5)
    cut = x[(x.unit == 1) & (x.time <= 20)]
    part = window_features(as_unit_sequences(cut), as_unit_sequences(cut).values, 5)
    np.testing.assert_allclose(part, full[:20])


def test_grouped_folds_cover_each_unit_once() -> None:
    units = np.repeat(np.arange(1.0, 11.0), 5)
    folds = grouped_folds(units, 3, 0.2, seed=0)
    cal = np.concatenate([c for _, c in folds])
    assert sorted(cal.tolist()) == list(range(1, 11))
    split = grouped_folds(units, 1, 0.2, seed=0)
    assert len(split) == 1
    assert split[0][1].size == 2


def test_normalised_scores_are_adaptive_and_calibrated() -> None:
    rng = np.random.default_rng(0)
    pred = rng.uniform(0, 100, 20000)
    y = pred + rng.normal(0, 1 + 0.2 * pred)  # error grows with the predicted RUL
    units = np.repeat(np.arange(200.0), 100)
    cal = NormalisedScores.calibrate(y[:10000], pred[:10000], units[:10000])
    q = cal.quantiles(pred[10000:], np.array([0.05, 0.95]))
    inside = ((y[10000:] >= q[:, 0]) & (y[10000:] <= q[:, 1])).mean()
    assert 0.88 <= inside <= 0.93
    width = q[:, 1] - q[:, 0]
    assert width[pred[10000:] < 10].mean() < 0.4 * width[pred[10000:] > 90].mean()
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.ones(3), 0.5) == 2.0


def test_remaining_life_record_checks_its_interval() -> None:
    with pytest.raises(ValueError, match="lower <= point <= upper"):
        RemainingLife("a", "", 1.0, 10.0, 12.0, 20.0, 0.9, "m", "x")
    life = RemainingLife("a", "bearing", 100.0, 10.0, 5.0, 20.0, 0.9, "m", "x", time_unit="s")
    assert life.failure_time == 110.0
    assert life.to_dict()["time_unit"] == "s"


# --- quality floors on the generated fleet (known answer) ----------------------------------


def _rmse_on_new_units(model: RULPredictor) -> float:
    train, test = degradation_fleet(40, 1), degradation_fleet(20, 2)
    model.fit(train)
    truth = run_to_failure_rul(as_unit_sequences(test))
    return float(np.sqrt(np.mean((model.predict(test) - truth) ** 2)))


def test_boosted_quality_floor() -> None:
    # lives are 60-140 steps: predicting the mean RUL scores ~35; the degradation is clear
    rmse = _rmse_on_new_units(GradientBoostedRUL(window=10, rul_cap=None, random_state=0))
    assert rmse < 12.0


def test_boosted_pinned_output() -> None:
    model = GradientBoostedRUL(window=10, n_estimators=50, n_folds=2, random_state=0)
    model.fit(degradation_fleet(10, 3))
    life = model.remaining_life(degradation_fleet(1, 4))[0]
    assert life.at_time == 118.0  # it failed at its last row: true RUL 0
    # pinned for seed 0 (LightGBM deterministic mode)
    assert (life.lower, life.point, life.upper) == pytest.approx((0.0, 7.0295030, 50.837563))


# --- health index (no run-to-failure labels needed at prediction) ---------------------------


def test_health_index_and_first_prediction_time_on_a_known_onset() -> None:
    from shopfloor.prognostics.health_index import first_prediction_time, health_index

    rng = np.random.default_rng(0)
    n, onset = 400, 250
    rms = 0.5 * np.exp(rng.normal(0, 0.03, (n, 2)))
    rms[onset:, 0] *= np.exp(0.02 * np.arange(n - onset))  # one axis starts to degrade
    hi = health_index(rms, 50)
    assert abs(np.median(hi[:50])) < 0.02  # the baseline is the unit's own start
    fpt = first_prediction_time(hi, 50, 3.0, 3)
    assert fpt is not None
    assert onset <= fpt <= onset + 15
    assert first_prediction_time(hi[:onset], 50, 3.0, 3) is None


def test_health_index_model_rejects_non_positive_amplitudes() -> None:
    from shopfloor.prognostics.health_index import HealthIndexRUL

    x = degradation_fleet(6, 0)
    model = HealthIndexRUL(hi_channels=("c0",), baseline_steps=10, random_state=0).fit(x)
    bad = x.copy()
    bad.loc[3, "c0"] = -1.0
    with pytest.raises(InputError, match="must be positive amplitudes"):
        model.predict(bad)
    with pytest.raises(InputError, match=r"channels \['c1'\] not in the input"):
        HealthIndexRUL(hi_channels=("c1",)).fit(x.drop(columns=["c1"]))


def test_health_index_model_quality_and_fallback_notes() -> None:
    from shopfloor.prognostics.health_index import HealthIndexRUL

    model = HealthIndexRUL(hi_channels=("c0",), baseline_steps=10, random_state=0)
    model.fit(degradation_fleet(20, 1))
    test = degradation_fleet(10, 2)
    truth = run_to_failure_rul(as_unit_sequences(test))
    late = truth <= 40  # well after the onset: the exponential trend is clear
    err = model.predict(test)[late] - truth[late]
    assert np.sqrt(np.mean(err**2)) < 20.0  # lives are 60-140 steps
    young = test[test.time <= 8]  # shorter than the baseline
    notes = model.remaining_life(young)[0].notes
    assert "not more than the 10-row baseline" in notes[0]


def test_remaining_life_is_kept_in_the_store_as_a_prediction_event(store) -> None:  # type: ignore[no-untyped-def]
    life = RemainingLife(
        "pump-7", "bearing", 120.0, 30.0, 12.0, 55.0, 0.9, "conformal", "M()", notes=("n",)
    )
    store.add_events([life.to_event("test")])
    (event,) = store.events(asset_id="pump-7")
    assert event.kind == "prediction"
    assert "remaining life 30 cycles" in event.summary
    assert RemainingLife.from_event(event) == life


@given(
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    swap=st.integers(0, 10_000),
    seed=st.integers(0, 1000),
)
@settings(max_examples=60, deadline=None)
def test_unit_sequences_accept_valid_and_refuse_time_going_back(
    lengths: list[int], swap: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    units = np.repeat(np.arange(1.0, len(lengths) + 1), lengths)
    time = np.concatenate([np.cumsum(rng.uniform(0.1, 5.0, n)) for n in lengths])
    arr = np.column_stack([units, time, rng.normal(size=(units.size, 2))])
    seq = as_unit_sequences(arr)
    assert seq.unit_ids.tolist() == list(np.arange(1.0, len(lengths) + 1))
    np.testing.assert_array_equal(seq.to_array(), arr)
    assert (run_to_failure_rul(seq) >= 0).all()
    inner = [i for i in range(1, units.size) if units[i] == units[i - 1]]
    if inner:
        i = inner[swap % len(inner)]
        arr[i, 1] = arr[i - 1, 1]  # a repeated (not increasing) counter value
        with pytest.raises(InputError, match="non-monotone"):
            as_unit_sequences(arr)
