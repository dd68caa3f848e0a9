"""Envelope (demodulation) analysis of batches of vibration windows.

A local bearing defect produces a train of impacts that ring a structural resonance; the
repetition rate, not the carrier, tells which part is damaged. Band-pass around the resonance,
take the analytic signal (Hilbert), and the spectrum of its squared magnitude, the *squared
envelope spectrum* (SES, Randall & Antoni 2011), shows the defect frequency and its harmonics.

Everything works on a 2-D batch ``(n_windows, n_samples)`` with FFTs over the last axis (no
Python loop over windows), and one forward FFT serves every band: the band's bins are shifted to
base band and inverse-transformed at a reduced length. The squared envelope of a band of width
B is band-limited to B, so sampling it at >= 2B loses nothing, and the magnitude does not
change with the frequency shift. Cepstrum pre-whitening is a division by the magnitude of the
same spectrum, so it costs no extra FFT either.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import scipy.fft as sfft
from numpy.typing import ArrayLike, NDArray

from shopfloor.core.errors import InputError

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]
Band = tuple[float | FloatArray, float | FloatArray]


def as_windows(x: ArrayLike, *, min_length: int = 16, name: str = "windows") -> FloatArray:
    """Validate and return a float64 2-D batch ``(n_windows, n_samples)``.

    A 1-D input is one window. NaN or infinite samples are an :class:`InputError` (an FFT would
    smear one bad sample over the whole window).
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise InputError(f"{name} must be 1-D or 2-D (n_windows, n_samples), got {arr.ndim}-D")
    if arr.shape[1] < min_length:
        raise InputError(f"{name} have {arr.shape[1]} samples; at least {min_length} needed")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InputError(
            f"{name} contain NaN or infinite samples (first at window {bad[0]}, sample {bad[1]})"
        )
    return arr


def spectrum_of(windows: ArrayLike, *, prewhiten: bool = False) -> tuple[ComplexArray, int]:
    """One-sided FFT of mean-removed windows, optionally cepstrum pre-whitened.

    Returns the spectrum (n_windows, n_samples // 2 + 1) and n_samples.
    """
    x = as_windows(windows)
    spec = sfft.rfft(x - x.mean(axis=1, keepdims=True), axis=1, workers=1)
    return (prewhiten_spectrum(spec) if prewhiten else spec), x.shape[1]


def prewhiten_spectrum(spectrum: ComplexArray, *, out: ComplexArray | None = None) -> ComplexArray:
    """Cepstrum pre-whitening of a one-sided spectrum: keep the phase, set magnitudes to one.

    Equivalent to zeroing the real cepstrum except at zero quefrency (Sawalhi & Randall 2011).
    It removes discrete components (shaft harmonics, gear mesh) and resonance colouring alike,
    so impulsive content stands out without choosing a band.
    """
    mag = np.abs(spectrum)
    floor = 1e-12 * mag.max(axis=1, keepdims=True) + 1e-300
    np.maximum(mag, floor, out=mag)
    white: ComplexArray = np.divide(spectrum, mag, out=out)
    return white


def cepstrum_prewhiten(windows: ArrayLike) -> FloatArray:
    """Time signal after cepstrum pre-whitening (see :func:`spectrum_of`)."""
    spec, n = spectrum_of(windows, prewhiten=True)
    return np.asarray(sfft.irfft(spec, n=n, axis=1, workers=1))


def _bins(
    n: int, fs: float, band: Band, n_windows: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    low = np.broadcast_to(np.asarray(band[0], dtype=np.float64), (n_windows,))
    high = np.broadcast_to(np.asarray(band[1], dtype=np.float64), (n_windows,))
    if not (np.all(low >= 0) and np.all(low < high) and np.all(high <= fs / 2 + 1e-9)):
        raise InputError(f"band must satisfy 0 <= low < high <= fs/2 = {fs / 2:g} Hz")
    k_lo = np.ceil(low * n / fs).astype(np.int64)
    k_hi = np.minimum(np.floor(high * n / fs).astype(np.int64), n // 2)
    if np.any(k_hi - k_lo < 1):
        raise InputError(f"band narrower than the frequency resolution {fs / n:.2f} Hz")
    return k_lo, k_hi


def analytic_band(
    spectrum: ComplexArray, n: int, fs: float, band: Band
) -> tuple[ComplexArray, float]:
    """Analytic signal of one band, shifted to base band and sampled at a reduced rate.

    Returns the complex signal (n_windows, m), whose magnitude equals the magnitude of the full
    analytic signal of the band (in the input unit), and its sample rate m·fs/n in Hz.
    """
    z, gain = _analytic_band(spectrum, n, fs, band, Workspace())
    return z * gain, fs * z.shape[1] / n


def _analytic_band(
    spectrum: ComplexArray, n: int, fs: float, band: Band, ws: Workspace
) -> tuple[ComplexArray, float]:
    """:func:`analytic_band` before its gain: (unscaled signal, gain); z = unscaled × gain.

    The signal lives in ``ws`` (overwritten by the next call with the same shape).
    """
    n_win = spectrum.shape[0]
    if np.ndim(band[0]) == 0 and np.ndim(band[1]) == 0:
        k_lo, width, m = band_layout(n, fs, float(band[0]), float(band[1]))
        base = ws.get("band.base", (n_win, m), np.complex128)
        base[:, :width] = spectrum[:, k_lo : k_lo + width]
        base[:, width:] = 0.0
    else:
        k_lo_w, k_hi_w = _bins(n, fs, band, n_win)
        width = int((k_hi_w - k_lo_w).max()) + 1
        m = _base_length(width, n)
        width = min(width, m)
        base = np.zeros((n_win, m), dtype=np.complex128)
        if np.all(k_lo_w == k_lo_w[0]) and np.all(k_hi_w == k_hi_w[0]):  # one band: a slice
            base[:, :width] = spectrum[:, k_lo_w[0] : k_lo_w[0] + width]
        else:  # a band per window (e.g. chosen by the kurtogram): gather
            idx = k_lo_w[:, None] + np.arange(width)[None, :]
            keep = idx <= k_hi_w[:, None]
            rows = np.arange(n_win)[:, None]
            base[:, :width] = np.where(keep, spectrum[rows, np.minimum(idx, n // 2)], 0.0)
    # "forward" leaves the inverse unscaled: 1/m and the 2m/n of the one-sided spectrum fold
    # into one gain, 2/n, applied where it is cheapest (after squaring, on few bins)
    z = np.asarray(sfft.ifft(base, axis=1, workers=1, norm="forward", overwrite_x=True))
    return z, 2.0 / n


def _base_length(width: int, n: int) -> int:
    m = 1 << int(np.ceil(np.log2(2 * width)))  # >= 2B: the squared envelope does not alias
    return min(m, n)


@lru_cache(maxsize=256)
def band_layout(n: int, fs: float, low: float, high: float) -> tuple[int, int, int]:
    """First bin, width in bins and base-band length of one fixed band (cached per grid)."""
    k_lo, k_hi = _bins(n, fs, (low, high), 1)
    width = int(k_hi[0] - k_lo[0]) + 1
    m = _base_length(width, n)
    return int(k_lo[0]), min(width, m), m


def envelope_spectrum(
    windows: ArrayLike, fs: float, band: Band, *, prewhiten: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Squared envelope spectrum of one band (see :func:`squared_envelope_spectra`)."""
    spec, n = spectrum_of(windows, prewhiten=prewhiten)
    return squared_envelope_spectrum(spec, n, fs, band)


class Workspace:
    """Scratch arrays reused from one batch of windows to the next (one per caller, per call).

    Large temporaries are freshly mapped pages on every allocation, and touching them costs
    about as much as the FFTs that fill them; reusing them removes that cost.
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple[str, tuple[int, ...], str], NDArray[np.generic]] = {}

    def get(self, tag: str, shape: tuple[int, ...], dtype: type) -> NDArray[Any]:
        key = (tag, shape, np.dtype(dtype).str)
        arr = self._arrays.get(key)
        if arr is None:
            arr = self._arrays[key] = np.empty(shape, dtype=dtype)
        return arr


def squared_envelope_spectrum(
    spectrum: ComplexArray,
    n: int,
    fs: float,
    band: Band,
    *,
    max_bins: int | None = None,
    workspace: Workspace | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Squared envelope spectrum of ``band`` from a one-sided spectrum (see :func:`spectrum_of`).

    ``max_bins`` keeps only the first bins (what a harmonic search reads), which skips the
    magnitude of the rest; the values kept are the same. ``workspace`` lends scratch arrays
    (the returned amplitude is always a new array).

    Returns
    -------
    freqs: Hz, resolution fs / n (the window's), up to the band width.
    amplitude: (n_windows, n_freqs), peak amplitude of each squared-envelope component
        (input unit squared), Hann window, coherent gain corrected.
    """
    ws = workspace or Workspace()
    z, gain = _analytic_band(spectrum, n, fs, band, ws)
    n_win, m = z.shape
    # |z|² in place on the interleaved (re, im) pairs: no complex temporaries
    parts = z.view(np.float64).reshape(n_win, m, 2)
    np.square(parts, out=parts)
    sq = ws.get("ses.sq", (n_win, m), np.float64)
    np.add(parts[:, :, 0], parts[:, :, 1], out=sq)
    sq -= sq.mean(axis=1, keepdims=True)
    w, w_sum = _hann(m)
    sq *= w
    spec = ws.get("ses.spec", (n_win, m // 2 + 1), np.complex128)
    np.fft.rfft(sq, axis=1, out=spec)
    # the band's gain enters squared; the Hann coherent gain once (as in amplitude_spectrum)
    amp: FloatArray = np.abs(spec if max_bins is None else spec[:, :max_bins])
    amp *= gain * gain * (2.0 / w_sum)
    amp[:, 0] /= 2.0
    freqs = np.arange(amp.shape[1], dtype=np.float64) * (fs / n)
    return freqs, amp


@lru_cache(maxsize=32)
def _hann(m: int) -> tuple[FloatArray, float]:
    w = np.hanning(m)
    w.setflags(write=False)
    return w, float(w.sum())


def amplitude_spectrum(
    windows: ArrayLike, fs: float, *, validate: bool = True
) -> tuple[FloatArray, FloatArray]:
    """Single-sided peak-amplitude spectrum with a Hann window (coherent gain corrected).

    A sine of amplitude A at a bin frequency shows as A.

    >>> fs = 1000.0
    >>> t = np.arange(1000) / fs
    >>> f, a = amplitude_spectrum(2.0 * np.sin(2 * np.pi * 50 * t), fs)
    >>> round(float(a[0, 50]), 3)
    2.0
    """
    x = as_windows(windows) if validate else np.asarray(windows, dtype=np.float64)
    n = x.shape[1]
    w = np.hanning(n)
    spec: FloatArray = np.abs(sfft.rfft(x * w, axis=1, workers=1)) * (2.0 / w.sum())
    spec[:, 0] /= 2.0
    freqs: FloatArray = np.fft.rfftfreq(n, d=1.0 / fs).astype(np.float64)
    return freqs, spec
