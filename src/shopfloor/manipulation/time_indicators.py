"""Time-domain condition indicators of vibration windows, vectorized over a batch.

The classical indicators of ISO 13373-2 practice: level (mean, standard deviation, RMS, peak,
peak-to-peak, in the signal's unit, e.g. m/s² or g) and shape (crest, impulse, shape and
clearance factors, kurtosis and skewness, dimensionless). A healthy rolling-element bearing
gives near-Gaussian vibration (kurtosis ≈ 3, crest ≈ 3-4); impacts from a local defect raise
kurtosis and crest factor before they raise RMS.

>>> import numpy as np
>>> fs = 10_000.0                                # sample rate, Hz
>>> t = np.arange(10_000) / fs                   # one second
>>> rng = np.random.default_rng(0)
>>> windows = np.vstack([
...     2.0 * np.sin(2 * np.pi * 50.0 * t),      # 50 Hz sine, amplitude 2 m/s²
...     rng.normal(0.0, 1.0, t.size),            # white Gaussian noise, 1 m/s² RMS
... ])
>>> ind = time_indicators(windows)
>>> for name in ("rms", "peak", "crest_factor", "kurtosis", "skewness", "shape_factor"):
...     print(f"{name:<13}", np.round(ind[name], 3) + 0.0)  # + 0.0 turns -0.0 into 0.0
rms           [1.414 0.998]
peak          [2.    3.899]
crest_factor  [1.414 3.907]
kurtosis      [1.5   2.971]
skewness      [ 0.    -0.033]
shape_factor  [1.111 1.248]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from shopfloor.core.base import ConstraintLike, FloatArray, Subset, Transformer
from shopfloor.core.errors import InputError

__all__ = ["INDICATORS", "TimeIndicators", "time_indicators"]

#: Names of the indicators, in output order.
INDICATORS = (
    "mean",
    "std",
    "rms",
    "peak",
    "peak_to_peak",
    "crest_factor",
    "kurtosis",
    "skewness",
    "impulse_factor",
    "shape_factor",
    "clearance_factor",
)

# A window whose standard deviation is below this fraction of its peak is treated as flat
# (e.g. a dead or saturated sensor): its moment ratios are rounding noise, so they are NaN.
_FLAT_RELATIVE_STD = 1e-10


def _as_windows(windows: npt.ArrayLike) -> FloatArray:
    try:
        x = np.asarray(windows, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"windows are not numeric: {exc}") from exc
    if x.ndim == 0 or x.shape[-1] < 2:
        raise InputError(
            f"windows need at least 2 samples along the last axis, got shape {x.shape}"
        )
    bad = ~np.isfinite(x)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(
            f"windows contain {int(bad.sum())} NaN or infinite samples (first at index "
            f"{first}); fill or drop them before computing indicators"
        )
    return x


def time_indicators(windows: npt.ArrayLike) -> dict[str, FloatArray]:
    """Time-domain indicators of each window, computed along the last axis.

    Parameters
    ----------
    windows:
        Samples, shape (..., n_samples), typically (n_windows, n_samples); any unit (m/s², g,
        mm/s). At least 2 samples per window; NaN or infinite samples are an error.

    Returns
    -------
    dict of str to ndarray
        One array of shape ``windows.shape[:-1]`` per name in :data:`INDICATORS`:

        * ``mean``, ``std`` (population), ``rms``, ``peak`` (max |x|), ``peak_to_peak``
          (max - min): in the unit of ``windows``.
        * ``crest_factor`` = peak / rms; ``impulse_factor`` = peak / mean|x|;
          ``shape_factor`` = rms / mean|x|; ``clearance_factor`` = peak / mean(√|x|)²;
          ``kurtosis`` = m4 / m2² (Pearson: Gaussian ≈ 3, sine 1.5); ``skewness`` =
          m3 / m2^1.5 (m_k: central moments): dimensionless.

        Ratios are NaN where undefined: an all-zero window, and for kurtosis and skewness a
        flat window (standard deviation below 1e-10 of its peak).

    Raises
    ------
    InputError
        Non-numeric input, fewer than 2 samples, or NaN/infinite samples.
    """
    x = _as_windows(windows)
    mean = x.mean(axis=-1)
    dev = x - mean[..., np.newaxis]
    dev2 = dev * dev
    m2 = dev2.mean(axis=-1)
    m3 = (dev2 * dev).mean(axis=-1)
    m4 = (dev2 * dev2).mean(axis=-1)
    abs_x = np.abs(x)
    rms = np.sqrt((x * x).mean(axis=-1))
    peak = abs_x.max(axis=-1)
    mean_abs = abs_x.mean(axis=-1)
    mean_sqrt = np.sqrt(abs_x).mean(axis=-1)
    std = np.sqrt(m2)
    flat = std <= _FLAT_RELATIVE_STD * peak
    # 0/0 for an all-zero window is undefined, not an error: it becomes NaN, never inf.
    with np.errstate(divide="ignore", invalid="ignore"):
        kurtosis = np.where(flat, np.nan, m4 / (m2 * m2))
        skewness = np.where(flat, np.nan, m3 / (m2 * std))
        ratios = {
            "crest_factor": _ratio(peak, rms),
            "impulse_factor": _ratio(peak, mean_abs),
            "shape_factor": _ratio(rms, mean_abs),
            "clearance_factor": _ratio(peak, mean_sqrt * mean_sqrt),
        }
    values = {
        "mean": mean,
        "std": std,
        "rms": rms,
        "peak": peak,
        "peak_to_peak": x.max(axis=-1) - x.min(axis=-1),
        "kurtosis": kurtosis,
        "skewness": skewness,
        **ratios,
    }
    return {name: np.asarray(values[name], dtype=np.float64) for name in INDICATORS}


def impulsiveness_indicators(
    x: FloatArray, dev: FloatArray, scratch: FloatArray | None = None
) -> dict[str, FloatArray]:
    """rms, kurtosis, crest, skewness, impulse and shape factor of validated 2-D windows, fast.

    ``dev`` is ``x`` minus its row means (the caller's FFT reuses it); ``scratch``, an array
    of ``x``'s shape the function may overwrite. Same definitions and NaN rules as
    :func:`time_indicators`; dot products instead of temporaries for the moments.
    """
    n = x.shape[1]
    m2 = np.einsum("ij,ij->i", dev, dev) / n
    dev2 = np.multiply(dev, dev, out=scratch)
    m3 = np.einsum("ij,ij->i", dev2, dev) / n
    m4 = np.einsum("ij,ij->i", dev2, dev2) / n
    rms = np.sqrt(np.einsum("ij,ij->i", x, x) / n)
    peak = np.maximum(x.max(axis=1), -x.min(axis=1))
    mean_abs = np.abs(x, out=dev2).mean(axis=1)
    std = np.sqrt(m2)
    flat = std <= _FLAT_RELATIVE_STD * peak
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "rms": rms,
            "kurtosis": np.where(flat, np.nan, m4 / (m2 * m2)),
            "crest_factor": _ratio(peak, rms),
            "skewness": np.where(flat, np.nan, m3 / (m2 * std)),
            "impulse_factor": _ratio(peak, mean_abs),
            "shape_factor": _ratio(rms, mean_abs),
        }


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    # Denominators here are zero only when the numerator is too (an all-zero window).
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


class TimeIndicators(Transformer):
    """Transformer: windows (n_windows, n_samples) → indicators (n_windows, n_indicators).

    Stateless: ``fit`` only records the input width. Windows may have any length at
    ``transform``. See :func:`time_indicators` for definitions and units.

    Parameters
    ----------
    indicators:
        Names from :data:`INDICATORS`, in the wanted output order; None for all.

    >>> import numpy as np
    >>> t = np.arange(1000) / 1000.0
    >>> x = np.vstack([np.sin(2 * np.pi * 10 * t), 3 * np.sin(2 * np.pi * 10 * t)])
    >>> TimeIndicators(indicators=["rms", "crest_factor"]).fit(x).transform(x).round(3)
    array([[0.707, 1.414],
           [2.121, 1.414]])
    """

    _parameter_constraints: ClassVar[dict[str, list[ConstraintLike]]] = {
        "indicators": [None, Subset(INDICATORS)],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "manipulation",
        "input_kind": "windows",
        "stateless": True,
        "fixed_input_width": False,
    }

    def __init__(self, indicators: Sequence[str] | None = None) -> None:
        self.indicators = indicators

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{}, {"indicators": ("kurtosis", "crest_factor")}]

    def _names(self) -> list[str]:
        return list(INDICATORS) if self.indicators is None else list(self.indicators)

    def _transform(self, x: FloatArray) -> FloatArray:
        values = time_indicators(x)
        return np.column_stack([values[name] for name in self._names()])

    def _feature_names_out(self) -> list[str]:
        return self._names()
