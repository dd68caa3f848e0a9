"""Multivariate forecasting-residual detector: a vector autoregression of normal behaviour.

Each time step is forecast from the ``lags`` steps before it with a linear VAR model
``x_t ≈ c + Σ_k A_k x_{t−k}`` fitted by (lightly ridged) least squares on normal data; the
score is the Mahalanobis size of the forecast error under the covariance of the training
errors, divided by the number of channels (about 1 in normal operation). Unlike PCA it sees
*dynamics*: a channel that stops following the others over time, a loop that oscillates.
The first ``lags`` rows of a table have no history and score NaN (not scored).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.base import AnomalyScorer, FloatArray, Interval, check_is_fitted
from shopfloor.core.errors import InputError

__all__ = ["ForecastResidualMonitor"]


def _lagged(x: FloatArray, lags: int) -> tuple[FloatArray, FloatArray]:
    """Design matrix [1, x_{t-1}, ..., x_{t-lags}] and targets x_t for t >= lags."""
    n = len(x)
    cols = [np.ones((n - lags, 1))] + [x[lags - k : n - k] for k in range(1, lags + 1)]
    return np.hstack(cols), x[lags:]


class ForecastResidualMonitor(AnomalyScorer):
    """VAR(``lags``) forecast error, Mahalanobis-scaled; higher = more abnormal.

    Parameters
    ----------
    lags : int >= 1, default 2
        Past steps the forecast uses.
    ridge : float >= 0, default 1e-6
        Ridge penalty relative to the mean diagonal of the normal equations (numerical
        safety for collinear channels, not a tuning knob).

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
    }
    _tags: ClassVar[dict[str, Any]] = {"multivariate": True, "handles_missing": True}

    def __init__(self, lags: int = 2, ridge: float = 1e-6) -> None:
        self.lags = lags
        self.ridge = ridge

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
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

    def _residuals(self, x: FloatArray) -> FloatArray:
        # Masked values are replaced by the normal mean so one gap does not poison the lags.
        filled = np.where(np.isnan(x), self.mean_, x)
        design, target = _lagged(filled, self.lags)
        out = np.full(x.shape, np.nan)
        out[self.lags :] = target - design @ self.coef_
        out[np.isnan(x)] = 0.0
        return out

    def _score(self, x: FloatArray) -> FloatArray:
        if len(x) <= self.lags:
            return np.full(len(x), np.nan)
        r = self._residuals(x)
        out: FloatArray = np.einsum("ij,jk,ik->i", r, self.residual_precision_, r) / x.shape[1]
        return out

    def contributions(self, x: object) -> pd.DataFrame:
        """Squared forecast error of each channel in units of its normal error."""
        check_is_fitted(self, "contributions")
        arr = self._validate_input(x, reset=False)
        index = x.index if isinstance(x, pd.DataFrame) else pd.RangeIndex(len(arr))
        names = getattr(self, "feature_names_in_", [str(i) for i in range(arr.shape[1])])
        if len(arr) <= self.lags:
            return pd.DataFrame(np.nan, index=index, columns=names)
        return pd.DataFrame(
            (self._residuals(arr) / self.residual_scale_) ** 2, index=index, columns=names
        )
