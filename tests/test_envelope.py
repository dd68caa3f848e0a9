"""Envelope analysis, kurtogram and defect-frequency evidence on signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError
from shopfloor.manipulation.bearing_features import bearing_features, feature_names
from shopfloor.manipulation.bearing_frequencies import defect_frequencies, harmonic_evidence
from shopfloor.manipulation.envelope import (
    amplitude_spectrum,
    analytic_band,
    cepstrum_prewhiten,
    envelope_spectrum,
    spectrum_of,
)
from shopfloor.manipulation.kurtogram import select_band
from shopfloor.testing.signals import bearing_signal, cwru_drive_end_bearing

FS = 12_000.0


def test_envelope_of_am_tone_recovers_modulation() -> None:
    t = np.arange(12_000) / FS
    x = (1 + 0.5 * np.cos(2 * np.pi * 100 * t)) * np.sin(2 * np.pi * 3000 * t)
    spec, n = spectrum_of(x)
    z, rate = analytic_band(spec, n, FS, (2500.0, 3500.0))
    tz = np.arange(z.shape[1]) / rate
    inner = slice(z.shape[1] // 6, -z.shape[1] // 6)  # away from the window's edges
    np.testing.assert_allclose(
        np.abs(z[0, inner]), 1 + 0.5 * np.cos(2 * np.pi * 100 * tz[inner]), atol=0.02
    )
    f, a = envelope_spectrum(x, FS, (2500.0, 3500.0))
    # squared envelope (1 + 0.5 cos)^2 has a 1.0 line at 100 Hz and 0.125 at 200 Hz
    assert f[np.argmax(a[0])] == pytest.approx(100.0)
    assert a[0, np.argmin(np.abs(f - 100))] == pytest.approx(1.0, rel=1e-3)
    assert a[0, np.argmin(np.abs(f - 200))] == pytest.approx(0.125, rel=1e-2)


@pytest.mark.parametrize("defect", ["outer", "inner", "ball"])
def test_envelope_peak_at_the_defect_frequency(defect: str) -> None:
    x, truth = bearing_signal(defect, fs_hz=FS, duration_s=2.0, seed=3)
    f, a = envelope_spectrum(x, FS, (2000.0, 4500.0), prewhiten=True)
    band = (f > 0.5 * truth.defect_frequency_hz) & (f < 1.5 * truth.defect_frequency_hz)
    peak = f[band][np.argmax(a[0, band])]
    assert peak == pytest.approx(truth.defect_frequency_hz, rel=0.02)


def test_kurtogram_finds_the_resonance_band() -> None:
    x, truth = bearing_signal("outer", fs_hz=FS, duration_s=1.0, resonance_hz=3500.0, seed=1)
    choice = select_band(x, FS)
    assert choice.low_hz[0] <= truth.resonance_hz <= choice.high_hz[0] + 200


def test_prewhitening_flattens_the_spectrum() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(4096) / FS
    x = 5 * np.sin(2 * np.pi * 30 * t) + rng.normal(size=t.size)
    _, a = amplitude_spectrum(cepstrum_prewhiten(x), FS)
    assert a[0, 5:-5].max() / np.median(a[0, 5:-5]) < 6  # the 30 Hz tone no longer dominates


def test_defect_frequencies_in_hz() -> None:
    freqs = defect_frequencies(cwru_drive_end_bearing(), 1797.0)
    assert freqs["bpfo"] == pytest.approx(3.5848 * 1797 / 60, rel=1e-4)
    with pytest.raises(InputError, match="shaft speed"):
        defect_frequencies(cwru_drive_end_bearing(), 0.0)


def test_evidence_significance_is_low_on_noise_high_on_a_line() -> None:
    rng = np.random.default_rng(1)
    freqs = np.arange(2000) * 1.0
    noise = rng.rayleigh(1.0, size=(200, freqs.size))
    ev = harmonic_evidence(freqs, noise, 107.0, n_harmonics=3)
    # noise alone: the 1 % level (significance 2) is crossed in about 1 % of searches
    assert np.mean(ev.significance >= 2.0) < 0.05
    line = noise.copy()
    line[:, [107, 214, 321]] += 8.0
    assert (harmonic_evidence(freqs, line, 107.0).significance >= 2.0).all()


@given(st.floats(min_value=600.0, max_value=3600.0))
@settings(max_examples=20, deadline=None)
def test_features_are_in_orders_so_speed_does_not_matter(rpm: float) -> None:
    # the same defect at any speed gives its strongest evidence at BPFO
    x, _ = bearing_signal("outer", shaft_hz=rpm / 60.0, fs_hz=FS, duration_s=1.0, seed=5)
    f = bearing_features(x.reshape(1, -1), FS, rpm, cwru_drive_end_bearing())
    sig = {s: float(f[f"high.{s}.sig"].iloc[0]) for s in ("bpfo", "bpfi", "bsf2")}
    assert max(sig, key=sig.get) == "bpfo"  # type: ignore[arg-type]


def test_bad_input_is_refused_with_reasons() -> None:
    g = cwru_drive_end_bearing()
    x = np.random.default_rng(0).normal(size=(2, 12_000))
    bad = x.copy()
    bad[1, 10] = np.nan
    with pytest.raises(InputError, match="NaN"):
        bearing_features(bad, FS, 1797.0, g)
    with pytest.raises(InputError, match="window too short"):
        bearing_features(x[:, :256], FS, 1797.0, g)
    with pytest.raises(InputError, match=r"sample rate .* too low"):
        bearing_features(x, 1000.0, 1797.0, g)
    with pytest.raises(InputError, match="no bearing geometry"):
        bearing_features(x, FS, 1797.0, None)
    with pytest.raises(InputError, match="shaft speed"):
        bearing_features(x, FS, float("nan"), g)
    assert list(bearing_features(x, FS, 1797.0, g).columns) == feature_names()


def test_geometry_is_used_not_assumed() -> None:
    # a different bearing moves the defect frequencies; features follow the geometry given
    other = BearingGeometry(n_elements=12, element_diameter_mm=10.0, pitch_diameter_mm=60.0)
    x, _ = bearing_signal("outer", geometry=other, fs_hz=FS, duration_s=1.0, seed=2)
    right = bearing_features(x.reshape(1, -1), FS, 1797.0, other)
    wrong = bearing_features(x.reshape(1, -1), FS, 1797.0, cwru_drive_end_bearing())
    assert right["high.bpfo.sig"].iloc[0] > 10 * max(wrong["high.bpfo.sig"].iloc[0], 1.0)
