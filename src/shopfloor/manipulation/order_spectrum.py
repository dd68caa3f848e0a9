"""Envelope order spectra: squared envelope spectra on a fixed axis of shaft orders.

A bearing defect shows in the squared envelope spectrum (SES) at a fixed multiple of shaft speed
(BPFO ≈ 3.6×, BPFI ≈ 5.4× for a 6205). Resampled onto a fixed order axis, the same fault puts
its lines in the same bins whatever the speed, sample rate or window length, so one learned
model (e.g. :class:`~shopfloor.assessment.cnn_diagnoser.EnvelopeCNNDiagnoser`) can read spectra
from any acquisition. Each row is divided by its own median and compressed with ``log1p``, so
sensor gain and units (m/s², g, mV) drop out too.

The SES comes from :mod:`shopfloor.manipulation.envelope` (one FFT per window, default band
fs/40 to 0.42·fs of the cepstrum pre-whitened spectrum, which needs no band choice).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import maximum_filter1d

from shopfloor.core.errors import InputError
from shopfloor.manipulation.envelope import (
    Band,
    FloatArray,
    spectrum_of,
    squared_envelope_spectrum,
)

__all__ = ["DEFAULT_BAND_FRACTIONS", "envelope_order_spectrum", "order_axis"]

#: Default demodulation band as fractions of the sample rate: the ``cpw`` band of
#: :mod:`shopfloor.manipulation.bearing_features` (stops below the anti-alias roll-off).
DEFAULT_BAND_FRACTIONS = (1 / 40, 0.42)


def order_axis(max_order: float = 12.0, n_bins: int = 384) -> FloatArray:
    """The fixed order axis: ``n_bins`` evenly spaced orders from 0 to ``max_order`` inclusive.

    Orders are multiples of shaft speed (dimensionless); the step is
    ``max_order / (n_bins - 1)``.
    """
    if not (np.isfinite(max_order) and max_order > 0):
        raise InputError(f"max_order must be a positive number of orders, got {max_order}")
    if n_bins < 2:
        raise InputError(f"n_bins must be at least 2, got {n_bins}")
    return np.linspace(0.0, float(max_order), int(n_bins))


def _shaft_hz(shaft_speed_rpm: float | ArrayLike, n_windows: int) -> FloatArray:
    rpm = np.asarray(shaft_speed_rpm, dtype=np.float64)
    if rpm.ndim > 1 or (rpm.ndim == 1 and rpm.shape[0] != n_windows):
        raise InputError(
            f"shaft_speed_rpm must be a scalar or one value per window ({n_windows}), "
            f"got shape {rpm.shape}"
        )
    if not (np.all(np.isfinite(rpm)) and np.all(rpm > 0)):
        raise InputError("shaft_speed_rpm must be positive and finite (revolutions per minute)")
    return np.broadcast_to(rpm / 60.0, (n_windows,)).astype(np.float64)


def envelope_order_spectrum(
    windows: ArrayLike,
    fs: float,
    shaft_speed_rpm: float | ArrayLike,
    *,
    max_order: float = 12.0,
    n_bins: int = 384,
    prewhiten: bool = True,
    band: Band | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Normalised squared envelope spectra of a batch of windows, on a fixed order axis.

    Parameters
    ----------
    windows:
        Vibration windows, shape (n_windows, n_samples) (a 1-D array is one window), any unit
        (m/s², g, V): the normalisation removes it.
    fs:
        Sample rate, Hz.
    shaft_speed_rpm:
        Shaft speed, rpm (revolutions per minute; 1800 rpm = 30 Hz): a scalar, or one value per
        window, shape (n_windows,).
    max_order:
        Highest order on the axis (multiples of shaft speed). ``max_order`` × the fastest shaft
        speed must lie inside the envelope spectrum (the band width).
    n_bins:
        Points on the order axis, from order 0 to ``max_order`` inclusive.
    prewhiten:
        Demodulate the cepstrum pre-whitened spectrum (default), which needs no band choice and
        removes shaft and gear-mesh lines; else the raw spectrum.
    band:
        Demodulation band ``(low, high)`` in Hz, scalars or one value per window; default
        fs/40 to 0.42·fs.

    Returns
    -------
    orders : ndarray, shape (n_bins,)
        The order axis (dimensionless multiples of shaft speed).
    spectra : ndarray, shape (n_windows, n_bins)
        ``log1p(SES / median(SES))`` per row, dimensionless: 0 where the envelope has nothing,
        about ``log1p(1) = 0.69`` at the median level, higher at defect lines.

    Notes
    -----
    The SES is linearly interpolated onto the order axis. Where the spectrum is finer than the
    axis (long windows, slow shafts), a running maximum over one axis step is taken first, so a
    narrow line cannot fall between two axis points and vanish.

    Examples
    --------
    An outer-race defect (BPFO = 3.585 × shaft speed on the CWRU bearing) at 1797 rpm:

    >>> from shopfloor.acquisition.synthetic_signals import bearing_signal
    >>> x, truth = bearing_signal("outer", shaft_hz=29.95, fs_hz=12_000.0, seed=0)
    >>> orders, spectra = envelope_order_spectrum(x[:8192], 12_000.0, 29.95 * 60)
    >>> spectra.shape
    (1, 384)
    >>> round(float(orders[np.argmax(spectra[0])]), 2)  # the strongest line, in orders
    3.57
    >>> round(float(spectra[0].max()), 2)  # log1p(peak / median): the line is ~12× the median
    2.56
    """
    if not (np.isfinite(fs) and fs > 0):
        raise InputError(f"fs must be a positive sample rate in Hz, got {fs}")
    orders = order_axis(max_order, n_bins)
    spectrum, n = spectrum_of(windows, prewhiten=prewhiten)
    n_win = spectrum.shape[0]
    shaft_hz = _shaft_hz(shaft_speed_rpm, n_win)
    if band is None:
        band = (DEFAULT_BAND_FRACTIONS[0] * fs, DEFAULT_BAND_FRACTIONS[1] * fs)
    freqs, ses = squared_envelope_spectrum(spectrum, n, fs, band)

    df = fs / n  # Hz per SES bin (the window's resolution)
    top_hz = float(orders[-1] * shaft_hz.max())
    if top_hz > freqs[-1]:
        raise InputError(
            f"order {orders[-1]:g} of {shaft_hz.max():.2f} Hz is {top_hz:.0f} Hz, beyond the "
            f"envelope spectrum's {freqs[-1]:.0f} Hz: lower max_order or widen the band"
        )
    step_bins = float(orders[1] * shaft_hz.max() / df)  # one axis step, in SES bins
    if step_bins >= 2.0:
        # One width for all rows keeps this vectorized; slower rows get at most one axis step
        # of extra peak width.
        ses = maximum_filter1d(ses, size=int(np.ceil(step_bins)), axis=1, mode="nearest")

    position = orders[np.newaxis, :] * (shaft_hz / df)[:, np.newaxis]  # fractional SES bin
    lo = np.minimum(np.floor(position).astype(np.int64), ses.shape[1] - 2)
    frac = position - lo
    rows = np.arange(n_win)[:, np.newaxis]
    resampled = (1.0 - frac) * ses[rows, lo] + frac * ses[rows, lo + 1]

    # The median, not the mean: a few strong defect lines must not set their own reference.
    median = np.median(resampled, axis=1, keepdims=True)
    scaled = resampled / np.maximum(median, np.finfo(np.float64).tiny)
    out: FloatArray = np.log1p(np.maximum(scaled, 0.0))
    return orders, out
