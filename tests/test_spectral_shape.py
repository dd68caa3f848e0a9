"""Spectral shape features: energy shares and pooled envelope order spectra."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.core.errors import InputError
from shopfloor.manipulation.spectral_shape import spectral_shape_features
from shopfloor.testing.signals import bearing_signal

FS = 12_000.0


def test_energy_share_follows_the_resonance() -> None:
    low, _ = bearing_signal("outer", fs_hz=FS, duration_s=1.0, resonance_hz=1500.0, seed=1)
    high, _ = bearing_signal("outer", fs_hz=FS, duration_s=1.0, resonance_hz=4000.0, seed=1)
    f = spectral_shape_features(np.vstack([low, high]), FS, 1797.0)
    bands = [c for c in f.columns if c.startswith("spec.")]
    assert len(bands) == 12
    width = 0.42 * FS / 12
    b_low, b_high = f"spec.band_{int(1500 // width)}", f"spec.band_{int(4000 // width)}"
    # band 0 holds the shaft harmonics in both; the resonance band moves with the resonance
    assert f.loc[0, b_low] > f.loc[1, b_low] + 0.5
    assert f.loc[1, b_high] > f.loc[0, b_high] + 0.5
    shares = 10 ** f[bands].to_numpy()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-9)


def test_order_cells_do_not_depend_on_speed_or_gain() -> None:
    rows = []
    for rpm, gain in ((1200.0, 1.0), (2400.0, 9.81)):
        x, _ = bearing_signal("outer", shaft_hz=rpm / 60, fs_hz=FS, duration_s=1.0, seed=3)
        rows.append(spectral_shape_features(gain * x.reshape(1, -1), FS, rpm))
    orders = [c for c in rows[0].columns if c.startswith("env.")]
    # BPFO = 3.58 orders falls in cell 7 (3.5-4.0) at both speeds and gains
    assert int(np.argmax(rows[0].loc[0, orders])) == 7
    assert int(np.argmax(rows[1].loc[0, orders])) == 7


def test_bad_input() -> None:
    with pytest.raises(InputError, match="NaN"):
        spectral_shape_features(np.full((1, 4096), np.nan), FS, 1797.0)
    with pytest.raises(InputError, match="shaft_speed_rpm"):
        spectral_shape_features(np.zeros((1, 4096)) + 1.0, FS, -5.0)
