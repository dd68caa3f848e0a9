"""Time-domain indicators: known values, batch shapes, bad input, and invariances."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from shopfloor.core.base import InvalidParameterError
from shopfloor.core.errors import InputError, NotFittedError
from shopfloor.manipulation.time_indicators import INDICATORS, TimeIndicators, time_indicators

FS = 10_000.0  # Hz
T = np.arange(10_000) / FS  # 1 s: a whole number of periods for every tone below


@pytest.mark.parametrize("amplitude", [0.5, 2.0, 9.81])
def test_sine_known_values(amplitude: float) -> None:
    ind = time_indicators(amplitude * np.sin(2 * np.pi * 50.0 * T))
    assert ind["mean"] == pytest.approx(0.0, abs=1e-12)
    assert ind["rms"] == pytest.approx(amplitude / math.sqrt(2), rel=1e-9)
    assert ind["std"] == pytest.approx(amplitude / math.sqrt(2), rel=1e-9)
    assert ind["peak"] == pytest.approx(amplitude, rel=1e-6)
    assert ind["peak_to_peak"] == pytest.approx(2 * amplitude, rel=1e-6)
    assert ind["crest_factor"] == pytest.approx(math.sqrt(2), rel=1e-6)
    assert ind["kurtosis"] == pytest.approx(1.5, rel=1e-9)
    assert ind["skewness"] == pytest.approx(0.0, abs=1e-9)
    # mean |x| of a sine sampled 200 times a period is 2/π within about 1e-4
    assert ind["shape_factor"] == pytest.approx(math.pi / (2 * math.sqrt(2)), rel=2e-4)
    assert ind["impulse_factor"] == pytest.approx(math.pi / 2, rel=2e-4)


def test_square_wave_and_offset() -> None:
    ind = time_indicators(3.0 + np.sign(np.sin(2 * np.pi * 10.0 * T + 0.1)))
    assert ind["mean"] == pytest.approx(3.0, abs=1e-3)
    assert ind["kurtosis"] == pytest.approx(1.0, rel=1e-4)
    assert ind["peak_to_peak"] == pytest.approx(2.0)
    assert ind["peak"] == pytest.approx(4.0)


def test_gaussian_noise_has_kurtosis_three() -> None:
    noise = np.random.default_rng(7).normal(0.0, 2.0, (20, 50_000))
    ind = time_indicators(noise)
    assert np.mean(ind["kurtosis"]) == pytest.approx(3.0, abs=0.02)
    assert np.abs(ind["skewness"]).max() < 0.05
    assert np.mean(ind["rms"]) == pytest.approx(2.0, rel=0.01)
    assert np.mean(ind["shape_factor"]) == pytest.approx(math.sqrt(math.pi / 2), rel=0.01)


def test_impacts_raise_kurtosis_and_crest() -> None:
    rng = np.random.default_rng(1)
    healthy = rng.normal(0.0, 1.0, 12_000)
    faulty = healthy.copy()
    faulty[::120] += 12.0  # an impact every 10 ms at 12 kHz
    h, f = time_indicators(np.vstack([healthy, faulty]))["kurtosis"]
    assert h == pytest.approx(3.0, abs=0.2)
    assert f > 6.0


def test_agrees_with_scipy_and_a_per_window_loop() -> None:
    windows = np.random.default_rng(3).gamma(2.0, 1.0, (6, 500))
    ind = time_indicators(windows)
    np.testing.assert_allclose(ind["kurtosis"], stats.kurtosis(windows, axis=1, fisher=False))
    np.testing.assert_allclose(ind["skewness"], stats.skew(windows, axis=1))
    for i, window in enumerate(windows):
        one = time_indicators(window)
        for name in INDICATORS:
            assert one[name].shape == ()
            assert one[name] == pytest.approx(ind[name][i], rel=1e-12)


def test_batch_shapes() -> None:
    ind = time_indicators(np.random.default_rng(0).normal(size=(3, 4, 64)))
    assert list(ind) == list(INDICATORS)
    assert all(v.shape == (3, 4) and v.dtype == np.float64 for v in ind.values())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_an_error(bad: float) -> None:
    windows = np.ones((3, 10))
    windows[2, 7] = bad
    with pytest.raises(InputError, match=r"1 NaN or infinite samples \(first at index \(2, 7\)\)"):
        time_indicators(windows)


def test_other_bad_input() -> None:
    with pytest.raises(InputError, match="at least 2 samples"):
        time_indicators(np.ones((4, 1)))
    with pytest.raises(InputError, match="at least 2 samples"):
        time_indicators(3.0)
    with pytest.raises(InputError, match="not numeric"):
        time_indicators([["a", "b"]])


def test_flat_windows_give_nan_ratios_not_garbage() -> None:
    ind = time_indicators(np.vstack([np.zeros(100), np.full(100, 0.1)]))
    assert ind["rms"][0] == 0.0
    assert ind["rms"][1] == pytest.approx(0.1)
    for name in ("crest_factor", "kurtosis", "skewness", "impulse_factor", "shape_factor"):
        assert np.isnan(ind[name][0]), name
    assert ind["crest_factor"][1] == pytest.approx(1.0)  # defined: a DC level
    assert np.isnan(ind["kurtosis"][1])  # undefined: rounding noise, not a value
    assert np.isnan(ind["skewness"][1])


# --- hypothesis: invariances ---------------------------------------------------------------

windows_strategy = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(8, 64)),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
)
SHAPE_INDICATORS = ("crest_factor", "kurtosis", "impulse_factor", "shape_factor")


@settings(max_examples=200, deadline=None)
@given(windows_strategy, st.floats(1e-3, 1e3))
def test_shape_indicators_do_not_depend_on_scale(windows: np.ndarray, scale: float) -> None:
    peak = np.abs(windows).max(axis=-1)
    assume(bool(np.all(windows.std(axis=-1) > 1e-3 * np.maximum(peak, 1.0))))
    base = time_indicators(windows)
    scaled = time_indicators(windows * scale)
    for name in (*SHAPE_INDICATORS, "skewness", "clearance_factor"):
        np.testing.assert_allclose(scaled[name], base[name], rtol=1e-7, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(scaled["rms"], base["rms"] * scale, rtol=1e-9)
    flipped = time_indicators(-windows)
    np.testing.assert_allclose(flipped["kurtosis"], base["kurtosis"], rtol=1e-9)
    np.testing.assert_allclose(flipped["skewness"], -base["skewness"], rtol=1e-7, atol=1e-9)
    assert np.all(base["crest_factor"] >= 1.0 - 1e-12)
    assert np.all(base["kurtosis"] >= 1.0 - 1e-9)  # Pearson kurtosis is at least 1


# --- the transformer -----------------------------------------------------------------------


def test_transformer_matches_function_and_keeps_index() -> None:
    windows = np.random.default_rng(0).normal(size=(5, 256))
    index = pd.date_range("2024-01-01", periods=5, freq="s")
    out = TimeIndicators().fit_transform(pd.DataFrame(windows, index=index))
    assert list(out.columns) == list(INDICATORS)
    assert out.index.equals(index)
    np.testing.assert_allclose(out["kurtosis"], time_indicators(windows)["kurtosis"])


def test_transformer_subset_order_and_window_length() -> None:
    model = TimeIndicators(indicators=["kurtosis", "rms"]).fit(np.ones((2, 8)) + np.eye(2, 8))
    assert model.get_feature_names_out() == ["kurtosis", "rms"]
    out = model.transform(np.sin(2 * np.pi * 50.0 * T)[np.newaxis, :])  # longer windows are fine
    np.testing.assert_allclose(out, [[1.5, math.sqrt(0.5)]], rtol=1e-9)


def test_transformer_checks_parameters_at_fit_and_fitted_state() -> None:
    model = TimeIndicators(indicators=["rms", "energy"])  # stored, not checked, here
    with pytest.raises(InvalidParameterError, match="'indicators' parameter of TimeIndicators"):
        model.fit(np.ones((2, 8)))
    with pytest.raises(NotFittedError):
        TimeIndicators().transform(np.ones((2, 8)))
    with pytest.raises(InputError, match="NaN"):
        TimeIndicators().fit([[1.0, np.nan]])
