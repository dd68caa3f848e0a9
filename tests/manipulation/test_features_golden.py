"""Golden test: the fast feature path gives what the pre-change implementation gave.

:mod:`tests.manipulation.reference_features` is a frozen, plain copy of the features and
envelope spectra as they were before the throughput work. On real CWRU windows (drive end and
fan end, every fault class, the 48 kHz normal baseline, a speed per window) every feature column
and every band's squared envelope spectrum must agree within 1e-9 relative, and the integer
counts exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from shopfloor.manipulation.bearing_features import (
    DEFAULT_BANDS,
    BearingFeatureConfig,
    DemodBand,
    bearing_analysis,
    bearing_features,
    feature_names,
)
from shopfloor.manipulation.bearing_frequencies import defect_orders
from tests.manipulation.conftest import RealWindows
from tests.manipulation.reference_features import reference_analysis

RTOL = 1e-9


def _compare(data: RealWindows, cfg: BearingFeatureConfig, rpm: np.ndarray | None = None) -> None:
    speed = data.rpm if rpm is None else rpm
    feats, spectra = bearing_analysis(data.windows, data.fs, speed, data.geometry, cfg)
    ref_cols, ref_spectra = reference_analysis(
        data.windows, data.fs, speed, defect_orders(data.geometry), cfg
    )
    assert list(feats.columns) == feature_names(cfg)
    assert set(ref_cols) == set(feats.columns)
    for name in feats.columns:
        got, want = feats[name].to_numpy(), ref_cols[name]
        if name.endswith(".n_found"):
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            # dB and log values cross zero: an absolute floor of 1e-9 of a dB / a decade
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-9, err_msg=name)
    assert [s.name for s in spectra] == [b.name for b in cfg.bands]
    for band in spectra:
        want = ref_spectra[band.name]
        assert band.ses.shape == want.shape, band.name
        scale = want.max(axis=1, keepdims=True)
        np.testing.assert_allclose(band.ses / scale, want / scale, rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(
            band.freqs, np.arange(want.shape[1]) * data.fs / data.windows.shape[1]
        )


@pytest.mark.realdata
def test_drive_end_faults_match_the_reference(cwru_windows: Callable[..., RealWindows]) -> None:
    # inner race, ball, outer race at 0.007 and 0.021 in, 0 and 3 hp: 20 windows each
    data = cwru_windows([105, 118, 130, 212, 225, 237], per_file=20)
    _compare(data, BearingFeatureConfig())


@pytest.mark.realdata
def test_fan_end_and_shape_features_match_the_reference(
    cwru_windows: Callable[..., RealWindows],
) -> None:
    data = cwru_windows([275, 287, 309], per_file=15, fan_end=True)
    _compare(data, BearingFeatureConfig(shape=True))


@pytest.mark.realdata
def test_a_speed_per_window_and_a_band_in_hz_match_the_reference(
    cwru_windows: Callable[..., RealWindows],
) -> None:
    data = cwru_windows([130, 169], per_file=12)
    # speeds from -6 % to +6 % of the stored one, different in every window
    rpm = data.rpm * np.linspace(0.94, 1.06, data.rpm.size)
    bands = (*DEFAULT_BANDS, DemodBand("fixed", 2_400.0, 4_000.0, in_hz=True))
    _compare(data, BearingFeatureConfig(n_harmonics=4, tolerance=0.03, bands=bands), rpm)


@pytest.mark.realdata
def test_shape_features_with_very_different_speeds_match_the_reference(
    cwru_windows: Callable[..., RealWindows],
) -> None:
    # one batch from 1,300 to 2,600 rpm: the order cells of one window span another's range
    data = cwru_windows([118, 234], per_file=10)
    rpm = np.linspace(1300.0, 2600.0, data.rpm.size)
    _compare(data, BearingFeatureConfig(shape=True), rpm)


@pytest.mark.realdata
def test_the_48_khz_normal_baseline_matches_the_reference(
    cwru_windows: Callable[..., RealWindows],
) -> None:
    data = cwru_windows([97], length=8192, per_file=12)
    assert data.fs == 48_000.0
    _compare(data, BearingFeatureConfig(shape=True))


@pytest.mark.realdata
def test_large_batches_match_small_ones(cwru_windows: Callable[..., RealWindows]) -> None:
    # blocks of windows must not change a window's features (about 700 windows: several blocks)
    data = cwru_windows([*range(197, 201), *range(209, 213), *range(222, 226)], per_file=100)
    assert len(data.windows) > 600
    whole = bearing_features(data.windows, data.fs, data.rpm, data.geometry)
    part = bearing_features(data.windows[250:260], data.fs, data.rpm[250:260], data.geometry)
    np.testing.assert_allclose(whole.iloc[250:260].to_numpy(), part.to_numpy(), rtol=RTOL)
