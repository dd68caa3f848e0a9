"""Spectral kurtosis and band selection for envelope analysis (STFT kurtogram).

Spectral kurtosis (Antoni, MSSP 2006) is large in frequency bands where the signal is impulsive,
which is where bearing-defect impacts ring a resonance. The kurtogram evaluates it for several
frequency resolutions (STFT lengths) and picks the (centre, bandwidth) with the largest value.
This module implements the STFT-based kurtogram vectorized over a batch of windows.

The search range matters: near the Nyquist frequency the acquisition system's anti-alias filter
leaves little but noise and its own transients; an unconstrained kurtogram can select that band
(it does on CWRU 12 kHz data, 5.5–6 kHz). ``max_hz`` therefore defaults to 0.42·fs, i.e. below
where common anti-alias filters start rolling off (typically 0.45·fs); this is a property of
acquisition hardware, not a value fitted to any dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import stft

from shopfloor.manipulation.envelope import as_windows

FloatArray = NDArray[np.float64]


def spectral_kurtosis(windows: ArrayLike, fs: float, nperseg: int) -> tuple[FloatArray, FloatArray]:
    """Spectral kurtosis per window at STFT length ``nperseg``.

    Returns
    -------
    freqs: Hz, (nperseg // 2 + 1,)
    sk: (n_windows, n_freqs); 0 for Gaussian noise, > 0 for impulsive content.
    """
    x = as_windows(windows, min_length=2 * nperseg)
    freqs, _, z = stft(
        x,
        fs=fs,
        window="hann",
        nperseg=nperseg,
        noverlap=3 * nperseg // 4,
        axis=-1,
        boundary=None,
        padded=False,
    )
    power = np.abs(z) ** 2  # (n_windows, n_freqs, n_segments)
    m2 = power.mean(axis=-1)
    m4 = (power**2).mean(axis=-1)
    sk = m4 / np.maximum(m2**2, np.finfo(float).tiny) - 2.0
    return freqs, sk


@dataclass(frozen=True)
class BandChoice:
    """Selected demodulation band per window: ``low_hz``, ``high_hz`` and its kurtosis."""

    low_hz: FloatArray
    high_hz: FloatArray
    kurtosis: FloatArray


def select_band(
    windows: ArrayLike,
    fs: float,
    *,
    npersegs: tuple[int, ...] = (8, 16, 32, 64, 128),
    min_hz: float | None = None,
    max_hz: float | None = None,
) -> BandChoice:
    """Band with the largest spectral kurtosis for each window, within [min_hz, max_hz].

    ``min_hz`` defaults to fs/40 (keeps shaft and mains harmonics out), ``max_hz`` to 0.42·fs
    (see the module docstring). Bandwidth is fs / nperseg, centred on the STFT bin.
    """
    x = as_windows(windows)
    lo_lim = fs / 40.0 if min_hz is None else min_hz
    hi_lim = 0.42 * fs if max_hz is None else max_hz
    best_k = np.full(x.shape[0], -np.inf)
    best_lo = np.zeros(x.shape[0])
    best_hi = np.zeros(x.shape[0])
    for nperseg in npersegs:  # a few resolutions; each is vectorized over windows
        if x.shape[1] < 2 * nperseg:
            continue
        freqs, sk = spectral_kurtosis(x, fs, nperseg)
        half_bw = fs / nperseg / 2.0
        allowed = (freqs - half_bw >= lo_lim) & (freqs + half_bw <= hi_lim)
        if not allowed.any():
            continue
        masked = np.where(allowed[None, :], sk, -np.inf)
        j = np.argmax(masked, axis=1)
        k = masked[np.arange(x.shape[0]), j]
        better = k > best_k
        best_k = np.where(better, k, best_k)
        best_lo = np.where(better, freqs[j] - half_bw, best_lo)
        best_hi = np.where(better, freqs[j] + half_bw, best_hi)
    if not np.isfinite(best_k).all():
        # no resolution fits: fall back to the whole allowed range
        best_lo = np.where(np.isfinite(best_k), best_lo, lo_lim)
        best_hi = np.where(np.isfinite(best_k), best_hi, hi_lim)
        best_k = np.where(np.isfinite(best_k), best_k, 0.0)
    return BandChoice(best_lo, best_hi, best_k)
