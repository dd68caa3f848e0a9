"""Power spectra of vibration windows (Welch) and the order axis.

Welch's method averages periodograms of overlapping Hann-windowed segments: a steadier spectrum
than one FFT of the whole window, at the price of resolution. Used for looking at a machine's
spectrum, band energies and unbalance/misalignment (1×, 2×, 3× shaft speed).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import welch

from shopfloor.core.errors import InputError
from shopfloor.manipulation.envelope import FloatArray, as_windows


def welch_psd(
    windows: ArrayLike, fs: float, *, segment: int = 1024, overlap: float = 0.5
) -> tuple[FloatArray, FloatArray]:
    """Power spectral density of each window (Welch, Hann segments).

    Parameters
    ----------
    windows: samples, shape (n_windows, n_samples), unit U.
    fs: sample rate, Hz.
    segment: samples per segment (the resolution is fs / segment Hz).
    overlap: fraction of a segment shared with the next.

    Returns
    -------
    freqs (Hz) and PSD of shape (n_windows, segment // 2 + 1), in U²/Hz.

    >>> fs = 1024.0
    >>> t = np.arange(8192) / fs
    >>> f, p = welch_psd(np.sin(2 * np.pi * 64 * t), fs, segment=256)
    >>> float(f[np.argmax(p[0])])
    64.0
    """
    x = as_windows(windows)
    if not 8 <= segment <= x.shape[1]:
        raise InputError(f"segment must be 8..{x.shape[1]} samples (the window), got {segment}")
    if not 0 <= overlap < 1:
        raise InputError(f"overlap must be in [0, 1), got {overlap}")
    freqs, psd = welch(
        x,
        fs=fs,
        window="hann",
        nperseg=segment,
        noverlap=int(overlap * segment),
        axis=-1,
        detrend="constant",
    )
    return np.asarray(freqs, dtype=np.float64), np.asarray(psd, dtype=np.float64)


def to_orders(freqs_hz: ArrayLike, shaft_speed_rpm: float) -> FloatArray:
    """Frequencies in orders of shaft speed (multiples of the rotation frequency).

    >>> to_orders([29.95, 107.4], 1797.0).round(2).tolist()
    [1.0, 3.59]
    """
    if not np.isfinite(shaft_speed_rpm) or shaft_speed_rpm <= 0:
        raise InputError(f"shaft speed must be a positive number of rpm, got {shaft_speed_rpm}")
    return np.asarray(freqs_hz, dtype=np.float64) / (shaft_speed_rpm / 60.0)


def harmonic_amplitudes(
    freqs: FloatArray, psd: FloatArray, shaft_speed_rpm: float, orders: tuple[int, ...] = (1, 2, 3)
) -> FloatArray:
    """RMS amplitude (unit U) at shaft harmonics, from a Welch PSD (U²/Hz).

    Integrates the PSD over ±1.5 bins around each harmonic (Hann main lobe), so the value is the
    harmonic's RMS: a first look at unbalance (1×) and misalignment (2×, 3×).
    """
    df = float(freqs[1] - freqs[0])
    shaft_hz = shaft_speed_rpm / 60.0
    out = np.empty((psd.shape[0], len(orders)))
    for j, k in enumerate(orders):
        sel = np.abs(freqs - k * shaft_hz) <= 1.5 * df
        out[:, j] = np.sqrt(psd[:, sel].sum(axis=1) * df)
    return out
