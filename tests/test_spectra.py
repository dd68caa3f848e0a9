"""Welch spectra and shaft-harmonic amplitudes on signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.core.errors import InputError
from shopfloor.manipulation.spectra import harmonic_amplitudes, to_orders, welch_psd
from shopfloor.testing.signals import shaft_signal


def test_parseval_sine_power() -> None:
    fs = 2048.0
    t = np.arange(16384) / fs
    f, p = welch_psd(3.0 * np.sin(2 * np.pi * 100 * t), fs, segment=512)
    assert np.sum(p[0]) * (f[1] - f[0]) == pytest.approx(4.5, rel=0.01)  # A²/2


def test_unbalance_shows_at_1x_and_misalignment_at_2x() -> None:
    unbalance, truth = shaft_signal("unbalance", seed=1)
    misalign, _ = shaft_signal("misalignment", seed=1)
    rpm = truth.shaft_hz * 60
    for frame, dominant in ((unbalance, 0), (misalign, 1)):
        f, p = welch_psd(frame["radial"].to_numpy(), truth.fs_hz, segment=2048)
        amps = harmonic_amplitudes(f, p, rpm)[0]
        assert int(np.argmax(amps)) == dominant, amps


def test_orders_and_bad_input() -> None:
    assert to_orders([59.9], 1797.0)[0] == pytest.approx(2.0, rel=1e-3)
    with pytest.raises(InputError, match="shaft speed"):
        to_orders([1.0], 0.0)
    with pytest.raises(InputError, match="segment"):
        welch_psd(np.zeros(100), 1000.0, segment=4096)
