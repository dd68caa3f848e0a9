"""Multivariate forecasting-residual detector: a vector autoregression of normal behaviour.

Each time step is forecast from the ``lags`` steps before it with a linear VAR model
``x_t ≈ c + Σ_k A_k x_{t−k}`` fitted by (lightly ridged) least squares on normal data; the
score is the Mahalanobis size of the forecast error under the covariance of the training
errors, divided by the number of channels (about 1 in normal operation). Unlike PCA it sees
*dynamics*: a channel that stops following the others over time, a loop that oscillates.
Before the first row of a table (or of a scoring stream) there is no history: the first row
is taken as the steady state it came from (the history is ``lags`` copies of it), so every row
is scored and a stream scores its first rows exactly as a batch does.

Streaming: ``learn_one`` appends the row to the rows the model learns from (all of them, or the
last ``window``; rows with a missing channel keep their place so the lags stay in time order)
and the VAR is refitted lazily before the next score, giving exactly the model ``fit`` gives on
the same rows. ``score_one`` keeps its own history of the last ``lags`` rows it scored.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.base import (
    AnomalyScorer,
    FloatArray,
    Interval,
    StreamingMixin,
    check_is_fitted,
)
from shopfloor.core.errors import InputError

__all__ = ["ForecastResidualMonitor"]


def _lagged(x: FloatArray, lags: int) -> tuple[FloatArray, FloatArray]:
    """Design matrix [1, x_{t-1}, ..., x_{t-lags}] and targets x_t for t >= lags."""
    n = len(x)
    cols = [np.ones((n - lags, 1))] + [x[lags - k : n - k] for k in range(1, lags + 1)]
    return np.hstack(cols), x[lags:]


def _padded(x: FloatArray, lags: int) -> FloatArray:
    """``x`` after ``lags`` copies of its first row: a steady state before the first step."""
    return np.concatenate((np.repeat(x[:1], lags, axis=0), x))


class ForecastResidualMonitor(StreamingMixin, AnomalyScorer):
    """VAR(``lags``) forecast error, Mahalanobis-scaled; higher = more abnormal.

    Parameters
    ----------
    lags : int >= 1, default 2
        Past steps the forecast uses.
    ridge : float >= 0, default 1e-6
        Ridge penalty relative to the mean diagonal of the normal equations (numerical
        safety for collinear channels, not a tuning knob).
    window : int > lags or None, default None
        Learn from the last ``window`` rows only (bounds a live service's memory); None keeps
        every row.

    Attributes
    ----------
    coef_ : ndarray (1 + lags·d, d)
        Intercept and lag matrices.
    residual_precision_ : ndarray (d, d)
        Inverse covariance of the training forecast errors.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "lags": [Interval(int, 1, None, closed="left")],
        "ridge": [Interval(float, 0.0, None, closed="left")],
        "window": [Interval(int, 2, None, closed="left"), None],
    }
    _tags: ClassVar[dict[str, Any]] = {"multivariate": True, "handles_missing": True}

    def __init__(self, lags: int = 2, ridge: float = 1e-6, window: int | None = None) -> None:
        self.lags = lags
        self.ridge = ridge
        self.window = window

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{}, {"lags": 1, "window": 40}]

    # --- learning ----------------------------------------------------------------------

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        self.channels_: list[str] = self._channel_names(x.shape[1])
        self._rows: deque[FloatArray] = deque(x, maxlen=self.window)
        self._fit_rows(np.asarray(self._rows))
        self._history: deque[FloatArray] = deque(maxlen=self.lags)

    def _learn_one(self, x: dict[str, float]) -> None:
        if "channels_" not in vars(self):
            self.channels_ = sorted(k for k, v in x.items() if not math.isnan(v)) or sorted(x)
            self._rows = deque(maxlen=self.window)
            self._history = deque(maxlen=self.lags)
        self._rows.append(np.array([x.get(c, math.nan) for c in self.channels_]))
        self._dirty = True

    def _ready(self) -> None:
        if vars(self).get("_dirty", False):
            self._fit_rows(np.asarray(self._rows))

    def _fit_rows(self, x: FloatArray) -> None:
        if self.window is not None and self.window <= self.lags:
            raise InputError(f"ForecastResidualMonitor: window must exceed lags={self.lags}")
        design, target = _lagged(x, self.lags)
        ok = ~(np.isnan(design).any(axis=1) | np.isnan(target).any(axis=1))
        design, target = design[ok], target[ok]
        if len(design) <= design.shape[1]:
            raise InputError(
                f"ForecastResidualMonitor: {len(design)} complete rows with history, need more "
                f"than {design.shape[1]} for lags={self.lags}"
            )
        gram = design.T @ design
        gram += self.ridge * np.trace(gram) / len(gram) * np.eye(len(gram))
        self.coef_: FloatArray = np.asarray(np.linalg.solve(gram, design.T @ target), np.float64)
        resid = target - design @ self.coef_
        cov = np.cov(resid.T).reshape(x.shape[1], x.shape[1])
        floor = 1e-9 * max(float(np.trace(cov)), 1e-12)
        precision = np.linalg.pinv(cov + floor * np.eye(len(cov)))
        self.residual_precision_: FloatArray = np.asarray(precision, np.float64)
        self.residual_scale_: FloatArray = np.sqrt(np.maximum(np.diag(cov), floor)).astype(
            np.float64
        )
        self.mean_: FloatArray = np.nanmean(x, axis=0).astype(np.float64)
        self._dirty = False

    # --- scoring -----------------------------------------------------------------------

    def _residuals(self, x: FloatArray) -> FloatArray:
        self._ready()
        # Masked values are replaced by the normal mean so one gap does not poison the lags.
        filled = np.where(np.isnan(x), self.mean_, x)
        design, _ = _lagged(_padded(filled, self.lags), self.lags)
        out: FloatArray = filled - design @ self.coef_
        out[np.isnan(x)] = 0.0
        return out

    def _score(self, x: FloatArray) -> FloatArray:
        r = self._residuals(x)
        out: FloatArray = np.einsum("ij,jk,ik->i", r, self.residual_precision_, r) / x.shape[1]
        return out

    def _score_one(self, x: dict[str, float]) -> float:
        self._ready()
        row = np.array([x.get(c, math.nan) for c in self.channels_])
        filled = np.where(np.isnan(row), self.mean_, row)
        if not self._history:
            self._history.extend([filled] * self.lags)
        # design row [1, x_{t-1}, ..., x_{t-lags}], as _lagged builds it
        design = np.concatenate(([1.0], *reversed(self._history)))
        r = filled - design @ self.coef_
        r[np.isnan(row)] = 0.0
        self._history.append(filled)
        return float(r @ self.residual_precision_ @ r) / len(r)

    def contributions(self, x: object) -> pd.DataFrame:
        """Squared forecast error of each channel in units of its normal error."""
        check_is_fitted(self, "contributions")
        arr = self._validate_input(x, reset=False)
        index = x.index if isinstance(x, pd.DataFrame) else pd.RangeIndex(len(arr))
        names = getattr(self, "feature_names_in_", [str(i) for i in range(arr.shape[1])])
        return pd.DataFrame(
            (self._residuals(arr) / self.residual_scale_) ** 2, index=index, columns=names
        )
