"""Frozen copy of the physics features as they were before the throughput work (main, cb7859c).

The golden test compares the optimised :func:`~shopfloor.manipulation.bearing_features.
bearing_analysis` with this straightforward implementation on real windows, so the speed-ups
cannot change what the features, the verdicts or the displayed spectra say. It is kept apart
from the package on purpose: it must not change when the package does. Plain loops over
signatures and harmonics, one call per search; only numpy and scipy.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft
from numpy.typing import NDArray

from shopfloor.manipulation.bearing_features import (
    CPW_TIME_BAND,
    SIGNATURES,
    BearingFeatureConfig,
)
from shopfloor.manipulation.bearing_frequencies import shared_harmonics

FloatArray = NDArray[np.float64]


def _time(x: FloatArray) -> dict[str, FloatArray]:
    mean = x.mean(axis=-1)
    dev = x - mean[:, None]
    dev2 = dev * dev
    m2 = dev2.mean(axis=-1)
    m3 = (dev2 * dev).mean(axis=-1)
    m4 = (dev2 * dev2).mean(axis=-1)
    abs_x = np.abs(x)
    rms = np.sqrt((x * x).mean(axis=-1))
    peak = abs_x.max(axis=-1)
    mean_abs = abs_x.mean(axis=-1)
    std = np.sqrt(m2)
    return {
        "rms": np.log(rms),
        "kurtosis": m4 / (m2 * m2),
        "crest_factor": peak / rms,
        "skewness": m3 / (m2 * std),
        "impulse_factor": peak / mean_abs,
        "shape_factor": rms / mean_abs,
    }


def _prewhiten(spectrum: NDArray[np.complex128]) -> NDArray[np.complex128]:
    mag = np.abs(spectrum)
    floor = 1e-12 * mag.max(axis=1, keepdims=True) + 1e-300
    out: NDArray[np.complex128] = spectrum / np.maximum(mag, floor)
    return out


def _ses(
    spectrum: NDArray[np.complex128], n: int, fs: float, band: tuple[float, float]
) -> tuple[FloatArray, FloatArray]:
    k_lo = int(np.ceil(band[0] * n / fs))
    k_hi = min(int(np.floor(band[1] * n / fs)), n // 2)
    width = k_hi - k_lo + 1
    m = min(1 << int(np.ceil(np.log2(2 * width))), n)
    width = min(width, m)
    base = np.zeros((spectrum.shape[0], m), dtype=np.complex128)
    base[:, :width] = spectrum[:, k_lo : k_lo + width]
    z = sfft.ifft(base, axis=1, workers=1) * (2.0 * m / n)
    sq = z.real**2 + z.imag**2
    sq = sq - sq.mean(axis=1, keepdims=True)
    w = np.hanning(m)
    amp: FloatArray = np.abs(sfft.rfft(sq * w, axis=1, workers=1)) * (2.0 / w.sum())
    amp[:, 0] /= 2.0
    return np.arange(amp.shape[1], dtype=np.float64) * (fs / n), amp


def _median(values: FloatArray, mask: NDArray[np.bool_]) -> FloatArray:
    out = np.full(values.shape[0], np.nan)
    for i in range(values.shape[0]):
        if mask[i].any():
            out[i] = float(np.median(values[i][mask[i]]))
    return out


def _evidence(
    freqs: FloatArray,
    spec: FloatArray,
    f0: FloatArray,
    n_harmonics: int,
    tolerance: float,
    floor_halfwidth: float = 0.5,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(frequency, amplitude, floor, n_searched), each (n_windows, n_harmonics)."""
    n_win = spec.shape[0]
    df = float(freqs[1] - freqs[0])
    top = spec.shape[1] - 1
    out = [np.empty((n_win, n_harmonics)) for _ in range(4)]
    rows = np.arange(n_win)
    for h in range(1, n_harmonics + 1):
        centre = h * f0 / df
        half = np.maximum(tolerance * centre, 1.5)
        span = int(np.ceil(np.max(floor_halfwidth * f0 / df)))
        idx = np.rint(centre)[:, None].astype(int) + np.arange(-span, span + 1)[None, :]
        valid = (idx >= 1) & (idx <= top)
        vals = np.where(valid, spec[rows[:, None], np.clip(idx, 0, top)], np.nan)
        dist = np.abs(idx - centre[:, None])
        in_peak = (dist <= half[:, None]) & valid
        in_floor = (dist > half[:, None]) & (dist <= (floor_halfwidth * f0 / df)[:, None]) & valid
        peak_vals = np.where(in_peak, vals, -np.inf)
        best = np.argmax(peak_vals, axis=1)
        out[0][:, h - 1] = idx[rows, best] * df
        out[1][:, h - 1] = peak_vals[rows, best]
        out[2][:, h - 1] = _median(vals, in_floor)
        out[3][:, h - 1] = in_peak.sum(axis=1)
    return out[0], out[1], out[2], out[3]


def _db(amp: FloatArray, floor: FloatArray) -> FloatArray:
    ratio = amp / np.maximum(floor, np.finfo(float).tiny)
    return 20.0 * np.log10(np.maximum(ratio, 1e-12))


def _significance(amp: FloatArray, floor: FloatArray, n_searched: FloatArray) -> FloatArray:
    r = amp / np.maximum(floor, np.finfo(float).tiny)
    out: FloatArray = np.maximum(-((np.log(n_searched) - np.log(2.0) * r * r) / np.log(10.0)), 0.0)
    return out


def _shape(
    raw: NDArray[np.complex128],
    n: int,
    fs: float,
    ses_freqs: FloatArray,
    ses: FloatArray,
    shaft_hz: FloatArray,
) -> dict[str, FloatArray]:
    power = raw.real**2 + raw.imag**2
    freqs = np.arange(power.shape[1]) * (fs / n)
    edges = np.linspace(0.0, 0.42 * fs, 13)
    energy = np.column_stack(
        [power[:, (freqs >= edges[k]) & (freqs < edges[k + 1])].sum(axis=1) for k in range(12)]
    )
    share = energy / np.maximum(energy.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    cols = {f"spec.band_{k}": np.log10(np.maximum(share[:, k], 1e-12)) for k in range(12)}
    median = np.maximum(np.median(ses[:, 1:], axis=1), np.finfo(float).tiny)
    cell = np.floor(ses_freqs[None, :] / (0.5 * shaft_hz[:, None]))
    for k in range(24):
        peak = np.where(cell == k, ses, 0.0).max(axis=1)
        cols[f"env.order_{k}"] = np.log10(np.maximum(peak / median, 1e-12))
    return cols


def reference_analysis(
    x: FloatArray,
    fs: float,
    rpm: FloatArray,
    orders: dict[str, float],
    cfg: BearingFeatureConfig,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """Feature columns and each band's squared envelope spectra, the pre-change way."""
    n_win, n = x.shape
    shaft_hz = rpm / 60.0
    cols: dict[str, FloatArray] = {f"time.{k}": v for k, v in _time(x).items()}
    raw = sfft.rfft(x - x.mean(axis=1, keepdims=True), axis=1, workers=1)
    white_spec = _prewhiten(raw)
    bins = np.arange(white_spec.shape[1]) * (fs / n)
    keep = (bins >= CPW_TIME_BAND[0] * fs) & (bins <= CPW_TIME_BAND[1] * fs)
    white = sfft.irfft(white_spec * keep, n=n, axis=1, workers=1)
    power = (white * white).mean(axis=1)
    cols["cpw_time.kurtosis"] = (white**4).mean(axis=1) / power**2
    cols["cpw_time.crest_factor"] = np.abs(white).max(axis=1) / np.sqrt(power)
    f0 = {s: orders[s] * shaft_hz for s in ("bpfo", "bpfi", "bsf2", "ftf")}
    f0["shaft"] = shaft_hz
    modulation = {"bpfi": f0["shaft"], "bsf2": f0["ftf"]}
    ftf_resolved = float(np.min(f0["ftf"])) / (fs / n) >= 3
    spectra: dict[str, FloatArray] = {}
    for band in cfg.bands:
        freqs, ses = _ses(white_spec if band.prewhiten else raw, n, fs, band.limits_hz(fs))
        spectra[band.name] = ses
        if cfg.shape and band.prewhiten:
            cols.update(_shape(raw, n, fs, freqs, ses, shaft_hz))
        for sig in SIGNATURES:
            key = f"{band.name}.{sig}"
            if sig == "ftf" and not ftf_resolved:
                for suffix in ("db", "h1_db", "sig", "n_found"):
                    cols[f"{key}.{suffix}"] = np.full(n_win, np.nan)
                continue
            _, amp, floor, n_searched = _evidence(
                freqs, ses, f0[sig], cfg.n_harmonics, cfg.tolerance
            )
            counted = np.ones(cfg.n_harmonics, dtype=bool)
            if sig in ("bpfo", "bpfi", "bsf2"):
                shared = shared_harmonics(orders, sig, cfg.n_harmonics, cfg.tolerance)
                counted = counted if shared.all() else ~shared
            db = _db(amp, floor)
            significance = _significance(amp, floor, n_searched)[:, counted]
            cols[f"{key}.db"] = db[:, counted].mean(axis=1)
            cols[f"{key}.h1_db"] = db[:, 0]
            cols[f"{key}.sig"] = significance.sum(axis=1)
            cols[f"{key}.n_found"] = (significance >= 2.0).sum(axis=1).astype(np.float64)
            if sig in modulation:
                if sig == "bsf2" and not ftf_resolved:
                    cols[f"{key}.sb_db"] = np.full(n_win, np.nan)
                    continue
                sb = []
                for sign in (-1.0, 1.0):
                    _, a, fl, _ = _evidence(
                        freqs, ses, f0[sig] + sign * modulation[sig], 1, cfg.tolerance, 0.25
                    )
                    sb.append(_db(a, fl)[:, 0])
                cols[f"{key}.sb_db"] = 0.5 * (sb[0] + sb[1])
    return cols, spectra
