"""Quality floor of the synthetic signals: the stated answer is really in the signal."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from scipy.signal import butter, hilbert, sosfiltfilt

from shopfloor.core.assets import BearingGeometry
from shopfloor.core.errors import InputError
from shopfloor.testing.signals import (
    SHAFT_FAULTS,
    bearing_signal,
    cwru_drive_end_bearing,
    degradation,
    process_with_fault,
    shaft_signal,
)


def envelope_spectrum(
    x: npt.NDArray[np.float64], fs: float, band: tuple[float, float]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Band-pass around the resonance, Hilbert envelope, amplitude spectrum (Hz, a.u.)."""
    sos = butter(4, band, btype="bandpass", fs=fs, output="sos")
    env = np.abs(hilbert(sosfiltfilt(sos, x)))
    env -= env.mean()
    spectrum = np.abs(np.fft.rfft(env * np.hanning(env.size))) / env.size
    freqs = np.asarray(np.fft.rfftfreq(env.size, 1.0 / fs), dtype=np.float64)
    return freqs, np.asarray(spectrum, dtype=np.float64)


def line(freqs: npt.NDArray[np.float64], spec: npt.NDArray[np.float64], f: float) -> float:
    """Largest spectral value within ±1 % of ``f``."""
    return float(spec[np.abs(freqs - f) <= 0.01 * f].max())


# --- bearing -------------------------------------------------------------------------------


@pytest.mark.parametrize("defect", ["outer", "inner", "ball"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_envelope_spectrum_peaks_at_the_defect_frequency(defect: str, seed: int) -> None:
    x, truth = bearing_signal(defect, duration_s=2.0, seed=seed)
    freqs, spec = envelope_spectrum(x, truth.fs_hz, (2_000.0, 4_000.0))
    search = (freqs > 5.0) & (freqs < 500.0)
    peak = freqs[search][np.argmax(spec[search])]
    assert abs(peak / truth.defect_frequency_hz - 1) < 0.02, (peak, truth)


def test_outer_race_truth_is_bpfo_of_the_geometry() -> None:
    geometry = cwru_drive_end_bearing()
    _, truth = bearing_signal("outer", geometry=geometry, shaft_hz=30.0, seed=0)
    assert truth.defect_frequency_hz == pytest.approx(geometry.defect_orders()["bpfo"] * 30.0)
    assert truth.defect_frequency_hz == pytest.approx(107.54, abs=0.01)
    assert truth.modulation_hz is None
    assert truth.n_impulses in (107, 108, 109)


def test_inner_race_is_modulated_at_shaft_rate() -> None:
    x, truth = bearing_signal("inner", duration_s=4.0, seed=4)
    assert truth.modulation_hz == pytest.approx(truth.shaft_hz)
    freqs, spec = envelope_spectrum(x, truth.fs_hz, (2_000.0, 4_000.0))
    floor = float(np.median(spec[(freqs > 5.0) & (freqs < 500.0)]))
    for sideband in (-1, 1):
        assert line(freqs, spec, truth.defect_frequency_hz + sideband * truth.shaft_hz) > 5 * floor


def test_ball_defect_is_modulated_at_cage_rate() -> None:
    _, truth = bearing_signal("ball", seed=0)
    assert truth.defect_frequency_hz == pytest.approx(2 * truth.orders["bsf"] * truth.shaft_hz)
    assert truth.modulation_hz == pytest.approx(truth.orders["ftf"] * truth.shaft_hz)


def test_cage_defect_shows_a_line_at_ftf() -> None:
    x, truth = bearing_signal("cage", duration_s=4.0, seed=0)
    freqs, spec = envelope_spectrum(x, truth.fs_hz, (2_000.0, 4_000.0))
    floor = float(np.median(spec[(freqs > 2.0) & (freqs < 500.0)]))
    assert line(freqs, spec, truth.defect_frequency_hz) > 5 * floor


def test_resonance_carries_the_impacts() -> None:
    x, truth = bearing_signal("outer", resonance_hz=4_000.0, shaft_amplitudes=(), seed=0)
    spectrum = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(x.size, 1.0 / truth.fs_hz)
    assert abs(freqs[np.argmax(spectrum)] - 4_000.0) < 200.0


def test_bearing_signal_is_seeded() -> None:
    a, _ = bearing_signal("inner", seed=11)
    b, _ = bearing_signal("inner", seed=np.random.default_rng(11))
    c, _ = bearing_signal("inner", seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (12_000,)


def test_other_geometry_gives_other_frequency() -> None:
    geometry = BearingGeometry(n_elements=12, element_diameter_mm=10.0, pitch_diameter_mm=60.0)
    _, truth = bearing_signal("outer", geometry=geometry, shaft_hz=10.0, seed=0)
    assert truth.defect_frequency_hz == pytest.approx(0.5 * 12 * (1 - 10 / 60) * 10.0)


def test_bearing_signal_rejects_bad_settings() -> None:
    with pytest.raises(InputError, match="unknown bearing defect 'roller'"):
        bearing_signal("roller")
    with pytest.raises(InputError, match="Nyquist"):
        bearing_signal(resonance_hz=7_000.0)
    with pytest.raises(InputError, match="shaft_hz must be positive"):
        bearing_signal(shaft_hz=0.0)


# --- shaft ---------------------------------------------------------------------------------


def harmonic_amplitudes(x: npt.NDArray[np.float64], fs: float, shaft_hz: float) -> list[float]:
    """Peak amplitudes at 1×, 2×, 3× from a Hann-windowed spectrum (exact bins)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size))) * 2 / (0.5 * x.size)
    freqs = np.fft.rfftfreq(x.size, 1.0 / fs)
    return [float(spectrum[np.argmin(np.abs(freqs - h * shaft_hz))]) for h in (1, 2, 3)]


def test_unbalance_is_dominated_by_1x() -> None:
    frame, truth = shaft_signal("unbalance", seed=0)
    one, two, three = harmonic_amplitudes(frame["radial"].to_numpy(), truth.fs_hz, truth.shaft_hz)
    assert one > 5 * two
    assert one > 5 * three
    assert one == pytest.approx(truth.amplitudes_mm_s["radial"][0], rel=0.05)
    assert frame["radial"].std() > 3 * frame["axial"].std()


def test_misalignment_shows_2x_3x_and_axial() -> None:
    frame, truth = shaft_signal("misalignment", seed=0)
    radial = harmonic_amplitudes(frame["radial"].to_numpy(), truth.fs_hz, truth.shaft_hz)
    axial = harmonic_amplitudes(frame["axial"].to_numpy(), truth.fs_hz, truth.shaft_hz)
    assert radial[1] > radial[0]
    assert radial[2] > 0.5 * radial[0]
    assert axial[1] > axial[0]
    assert frame["axial"].std() > frame["radial"].std() * 0.9
    np.testing.assert_allclose(axial, truth.amplitudes_mm_s["axial"], rtol=0.05)


def test_shaft_signal_layout() -> None:
    frame, _ = shaft_signal("healthy", duration_s=1.0, fs_hz=1_000.0, seed=0)
    assert list(frame.columns) == ["radial", "axial"]
    assert frame.index.name == "time_s"
    assert len(frame) == 1_000
    assert set(SHAFT_FAULTS) == {"healthy", "unbalance", "misalignment"}
    with pytest.raises(InputError, match="unknown shaft fault"):
        shaft_signal("looseness")


# --- degradation ---------------------------------------------------------------------------


def test_degradation_reaches_the_threshold_at_the_failure_time() -> None:
    frame, truth = degradation(noise_std=0.0, seed=0)
    hi = frame["health_indicator"]
    assert frame.index[-1] == truth.failure_h
    assert hi.iloc[-1] == pytest.approx(truth.failure_threshold)
    assert (hi.loc[: truth.onset_h] == truth.healthy_level).all()
    after = hi.loc[truth.onset_h :].to_numpy()
    assert (np.diff(after) > 0).all()  # grows monotonically after onset
    np.testing.assert_allclose(frame["rul_h"], truth.failure_h - frame.index.to_numpy())


def test_degradation_noise_and_validation() -> None:
    frame, truth = degradation(noise_std=0.05, seed=3)
    healthy = frame["health_indicator"].loc[: truth.onset_h]
    assert healthy.mean() == pytest.approx(truth.healthy_level, abs=0.02)
    assert healthy.std() == pytest.approx(0.05, rel=0.2)
    with pytest.raises(InputError):
        degradation(onset_h=900.0, failure_h=800.0)


# --- multivariate process ------------------------------------------------------------------


def test_step_occurs_at_the_stated_time_on_the_stated_channels() -> None:
    frame, labels, truth = process_with_fault(
        "step", channels=[1, "ch3"], at=1_200, magnitude=3.0, seed=5
    )
    assert truth.channels == ("ch1", "ch3")
    assert truth.change_time == frame.index[1_200]
    assert labels[:1_200].sum() == 0
    assert (labels[1_200:] == 1).all()
    shift = frame.iloc[1_200:].mean() - frame.iloc[:1_200].mean()
    assert shift["ch1"] == pytest.approx(3.0, abs=0.5)
    assert shift["ch3"] == pytest.approx(3.0, abs=0.5)
    assert abs(shift["ch0"]) < 0.5
    assert abs(shift["ch2"]) < 0.5
    # a mean-shift scan (largest standardized difference of means) finds the stated time
    x = frame["ch1"].to_numpy()
    n = x.size
    k = np.arange(50, n - 50)
    csum = np.cumsum(x)
    before, after = csum[k - 1] / k, (csum[-1] - csum[k - 1]) / (n - k)
    found = k[np.argmax(np.abs(after - before) * np.sqrt(k * (n - k) / n))]
    assert abs(found - 1_200) <= 20


def test_drift_grows_to_its_magnitude() -> None:
    frame, labels, truth = process_with_fault("drift", n_samples=3_000, at=1_000, seed=1)
    assert truth.kind == "drift"
    assert labels.sum() == 2_000
    early = frame["ch0"].iloc[1_000:1_100].mean() - frame["ch0"].iloc[:1_000].mean()
    late = frame["ch0"].iloc[-100:].mean() - frame["ch0"].iloc[:1_000].mean()
    assert abs(early) < 0.6
    assert late == pytest.approx(3.0, abs=0.6)


def test_process_is_standardized_correlated_and_seeded() -> None:
    frame, _, _ = process_with_fault(seed=9, n_channels=3)
    before = frame.iloc[:1_000]
    np.testing.assert_allclose(before.std(ddof=0), 1.0, rtol=1e-9)
    corr = before.corr().to_numpy()[np.triu_indices(3, 1)]
    assert (corr > 0.1).all()  # the shared factor couples the channels
    again, _, _ = process_with_fault(seed=9, n_channels=3)
    assert frame.equals(again)
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert str(frame.index.tz) == "UTC"


def test_process_rejects_bad_settings() -> None:
    with pytest.raises(InputError, match="unknown process fault"):
        process_with_fault("spike")
    with pytest.raises(InputError, match="channels"):
        process_with_fault(channels=["ch9"])
    with pytest.raises(InputError):
        process_with_fault(at=0)
