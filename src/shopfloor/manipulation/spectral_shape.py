"""Spectral shape features: where the vibration energy sits, in frequency and in orders.

Two condition indicators that complement the defect-frequency evidence of
:mod:`shopfloor.manipulation.bearing_features`:

* ``spec.band_k``: the share of the acceleration spectrum's energy in each of ``n_bands`` equal
  bands between 0 and 0.42·fs (log10 of the share). Impacts from a defect excite the machine's
  structural resonances; which resonances depends on where the defect is and on the load path,
  so the shape of the spectrum carries fault information even when no defect line shows.
  Bands are fractions of the sample rate and stop below the anti-alias roll-off.
* ``env.order_k``: the squared envelope spectrum of the pre-whitened signal, max-pooled into
  cells of ``order_cell`` orders of shaft speed, over its row median (log10): the envelope's
  shape in multiples of shaft speed, independent of speed, sample rate, gain and units.

Both are dimensionless. :func:`shape_columns` works from spectra that
:func:`~shopfloor.manipulation.bearing_features.bearing_features` has already computed, so asking
for both costs little more than the physics features alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from shopfloor.manipulation.envelope import (
    ComplexArray,
    FloatArray,
    as_windows,
    prewhiten_spectrum,
    spectrum_of,
    squared_envelope_spectrum,
)

MAX_BAND_FRACTION = 0.42
CPW_BAND = (1 / 40, 0.42)


def shape_names(n_bands: int = 12, max_order: float = 12.0, order_cell: float = 0.5) -> list[str]:
    """Column names of the shape features, in order."""
    n_cells = round(max_order / order_cell)
    return [f"spec.band_{k}" for k in range(n_bands)] + [f"env.order_{k}" for k in range(n_cells)]


def shape_columns(
    raw_spectrum: ComplexArray,
    n: int,
    fs: float,
    ses_freqs: FloatArray,
    ses: FloatArray,
    shaft_hz: FloatArray,
    *,
    n_bands: int = 12,
    max_order: float = 12.0,
    order_cell: float = 0.5,
) -> dict[str, FloatArray]:
    """Shape features from a window batch's one-sided spectrum and pre-whitened SES.

    ``raw_spectrum``: (n_windows, n // 2 + 1) FFT of the mean-removed windows; ``ses_freqs`` /
    ``ses``: squared envelope spectrum (Hz, amplitude) of the pre-whitened band; ``shaft_hz``:
    shaft speed per window, Hz.
    """
    power = raw_spectrum.real**2 + raw_spectrum.imag**2
    freqs = np.arange(power.shape[1]) * (fs / n)
    edges = np.linspace(0.0, MAX_BAND_FRACTION * fs, n_bands + 1)
    cols: dict[str, FloatArray] = {}
    energy = np.empty((power.shape[0], n_bands))
    for k in range(n_bands):  # a loop over bands, vectorized over windows
        sel = (freqs >= edges[k]) & (freqs < edges[k + 1])
        energy[:, k] = power[:, sel].sum(axis=1)
    share = energy / np.maximum(energy.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    for k in range(n_bands):
        cols[f"spec.band_{k}"] = np.log10(np.maximum(share[:, k], 1e-12))
    median = np.maximum(np.median(ses[:, 1:], axis=1), np.finfo(float).tiny)
    # only the bins up to max_order are pooled: slicing first makes the cell loop cheap
    top = min(
        int(np.searchsorted(ses_freqs, max_order * float(shaft_hz.max()))) + 1, ses_freqs.size
    )
    ses, ses_freqs = ses[:, :top], ses_freqs[:top]
    cell = np.floor(ses_freqs[None, :] / (order_cell * shaft_hz[:, None]))  # (n_win, n_freqs)
    n_cells = round(max_order / order_cell)
    # cells ascend along each row: the largest value in each is one reduceat over the flat
    # rows, between the first bin of each cell (an empty cell is 0, the amplitudes' floor)
    n_win = cell.shape[0]
    # past max_order every cell is dropped: clipped there, rows keep disjoint keys
    keyed = (np.minimum(cell, n_cells + 1) + (np.arange(n_win) * (n_cells + 2))[:, None]).ravel()
    starts = np.searchsorted(
        keyed, (np.arange(n_win) * (n_cells + 2))[:, None] + np.arange(n_cells + 1)
    )  # (n_win, n_cells + 1): where cells 0..n_cells begin
    first, after = starts[:, :-1], starts[:, 1:]
    flat = np.append(ses.ravel(), 0.0)  # a last element so every start indexes
    # every cell's end is the next start in the list, the row's last cell ending where the
    # cells past max_order begin (that segment's result is dropped)
    peaks = np.maximum.reduceat(flat, starts.ravel()).reshape(n_win, n_cells + 1)[:, :-1]
    peaks = np.where(after > first, np.maximum(peaks, 0.0), 0.0)
    for k in range(n_cells):
        cols[f"env.order_{k}"] = np.log10(np.maximum(peaks[:, k] / median, 1e-12))
    return cols


def spectral_shape_features(
    windows: ArrayLike,
    fs: float,
    shaft_speed_rpm: float | ArrayLike,
    *,
    n_bands: int = 12,
    max_order: float = 12.0,
    order_cell: float = 0.5,
) -> pd.DataFrame:
    """Spectral-shape features of vibration windows on their own (one row per window).

    Parameters
    ----------
    windows: acceleration samples (any unit), shape (n_windows, n_samples).
    fs: sample rate, Hz.
    shaft_speed_rpm: shaft speed, rpm; scalar or one per window.
    n_bands: equal-width bands between 0 and 0.42·fs for the energy shares.
    max_order, order_cell: extent and cell width of the pooled envelope spectrum, orders.
    """
    from shopfloor.core.errors import InputError

    x = as_windows(windows)
    rpm = np.broadcast_to(np.asarray(shaft_speed_rpm, dtype=np.float64), (x.shape[0],))
    if not (np.all(np.isfinite(rpm)) and np.all(rpm > 0)):
        raise InputError("shaft_speed_rpm must be positive and finite (revolutions per minute)")
    raw, n = spectrum_of(x)
    ses_freqs, ses = squared_envelope_spectrum(
        prewhiten_spectrum(raw), n, fs, (CPW_BAND[0] * fs, CPW_BAND[1] * fs)
    )
    cols = shape_columns(
        raw,
        n,
        fs,
        ses_freqs,
        ses,
        rpm / 60.0,
        n_bands=n_bands,
        max_order=max_order,
        order_cell=order_cell,
    )
    return pd.DataFrame(cols)
